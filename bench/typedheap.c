/* typedheap - a heap every block of which has a C type DWARF can tell, for typing's cost.
 *
 * N struct item blocks in one list rooted in the global g_items (linked from the newest to the
 * oldest, so against address order), each with a malloc'd char name: 2N blocks, all typed by
 * following the pointers' declared types.  Writes "pid=N blocks=N" to FILE and sleeps until
 * killed.  Built with -g: typing needs its DWARF.
 *
 * usage: typedheap [-n ITEMS] -o FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct item {
	long id;
	char *name;
	struct item *next;
};

struct item *g_items;

int main(int argc, char **argv)
{
	long n = 1000000;
	const char *out = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "n:o:")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 'o')
			out = optarg;
	}
	if (!out) {
		fprintf(stderr, "usage: typedheap [-n ITEMS] -o FILE\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		struct item *x = malloc(sizeof(*x));
		x->id = i;
		x->name = malloc(8);
		memcpy(x->name, "item", 5);
		x->next = g_items;
		g_items = x;
	}
	report(out, "pid=%d blocks=%ld", (int)getpid(), 2 * n);
	for (;;)
		pause();
}
