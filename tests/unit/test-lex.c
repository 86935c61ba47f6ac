// SPDX-License-Identifier: GPL-3.0-or-later
/* test-lex.c - command-line splitting, command lookup and option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd.h"

static void lex_words(void **state)
{
	(void)state;
	int argc;
	char **argv;
	struct mlz_err err;
	assert_int_equal(lex_line("  bt  'a b' \"c\\\"d\" e\\ f # comment", &argc, &argv, &err), 0);
	assert_int_equal(argc, 4);
	assert_string_equal(argv[0], "bt");
	assert_string_equal(argv[1], "a b");
	assert_string_equal(argv[2], "c\"d");
	assert_string_equal(argv[3], "e f");
	assert_null(argv[4]);
	lex_free(argc, argv);

	assert_int_equal(lex_line("", &argc, &argv, &err), 0);
	assert_int_equal(argc, 0);
	lex_free(argc, argv);
	assert_int_equal(lex_line("x ''", &argc, &argv, &err), 0);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "");
	lex_free(argc, argv);
}

static void lex_unterminated(void **state)
{
	(void)state;
	int argc;
	char **argv;
	struct mlz_err err;
	assert_int_equal(lex_line("sleep 'abc", &argc, &argv, &err), -1);
	assert_int_equal(err.kind, MLZ_E_USAGE);
	assert_string_equal(err.msg, "unterminated ' quote");
}

static void find_commands(void **state)
{
	(void)state;
	struct mlz_err err;
	assert_string_equal(cmd_find("bt", &err)->name, "bt");
	assert_string_equal(cmd_find("backtrace", &err)->name, "bt");
	assert_string_equal(cmd_find("thr", &err)->name, "threads");
	assert_string_equal(cmd_find("exit", &err)->name, "quit");
	assert_null(cmd_find("inof", &err));
	assert_string_equal(err.msg, "unknown command 'inof'; did you mean 'info'?");
	assert_null(cmd_find("zzzzzz", &err));
	assert_string_equal(err.msg, "unknown command 'zzzzzz'; type 'help' for the list");
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("", "abc"), 3);
}

static void find_ambiguous(void **state)
{
	(void)state;
	struct mlz_err err;
	/* "s" is a prefix of sleep only for now; "d" of detach only: use a real ambiguity. */
	const struct cmd_entry *e = cmd_find("q", &err);
	assert_non_null(e);
	assert_null(cmd_find("", &err));
	assert_true(strncmp(err.msg, "ambiguous command '', could be: snapshot, snapshots", 50) == 0);
}

static void parse_options(void **state)
{
	(void)state;
	struct mlz_err err;
	struct cmd_args a;
	const struct cmd_entry *bt = cmd_find("bt", &err);
	char *v1[] = { "bt", "all", "--json", "--depth", "5", NULL };
	assert_int_equal(cmd_parse_args(bt, 5, v1, &a, &err), 0);
	assert_int_equal(a.argc, 1);
	assert_string_equal(a.argv[0], "all");
	assert_true(a.json);
	assert_string_equal(cmd_optval(&a, "--depth"), "5");
	free(a.argv);

	char *v2[] = { "bt", "--depth=7", NULL };
	assert_int_equal(cmd_parse_args(bt, 2, v2, &a, &err), 0);
	assert_string_equal(cmd_optval(&a, "--depth"), "7");
	free(a.argv);

	char *v3[] = { "bt", "--deep", NULL };
	assert_int_equal(cmd_parse_args(bt, 2, v3, &a, &err), -1);
	assert_string_equal(err.msg, "bt: unknown option '--deep' (usage: bt [TID|all] [--depth N])");
	free(a.argv);

	char *v4[] = { "bt", "1", "2", NULL };
	assert_int_equal(cmd_parse_args(bt, 3, v4, &a, &err), -1);
	assert_string_equal(err.msg, "bt: unexpected argument '2' (usage: bt [TID|all] [--depth N])");
	free(a.argv);

	char *v5[] = { "bt", "--depth", NULL };
	assert_int_equal(cmd_parse_args(bt, 2, v5, &a, &err), -1);
	assert_string_equal(err.msg, "bt: option '--depth' needs a value N");
	free(a.argv);

	const struct cmd_entry *sl = cmd_find("sleep", &err);
	char *v6[] = { "sleep", NULL };
	assert_int_equal(cmd_parse_args(sl, 1, v6, &a, &err), -1);
	assert_string_equal(err.msg, "sleep: missing argument (usage: sleep SECONDS)");
	free(a.argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lex_words),
		cmocka_unit_test(lex_unterminated),
		cmocka_unit_test(find_commands),
		cmocka_unit_test(find_ambiguous),
		cmocka_unit_test(parse_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
