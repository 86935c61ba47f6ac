/* hold - allocate N blocks and keep them, so a tracer's memory per live block can be measured.
 *
 * usage: hold -n N -w START   (allocates after START exists, prints "held N", waits for SIGTERM)
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = 1000000;
	const char *start = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'w': start = optarg; break;
		default: return 2;
		}
	}
	void **keep = malloc(n * sizeof(*keep)); /* one block itself: the tracer sees it too */
	uint64_t seed = 42;
	wait_for_start(start);
	for (long i = 0; i < n; i++)
		keep[i] = malloc(rng_range(&seed, 16, 256));
	fprintf(stderr, "held %ld\n", n);
	pause();
	return keep[0] == NULL;
}
