// SPDX-License-Identifier: GPL-3.0-or-later
/* test-lex.c - command-line splitting, command lookup and option parsing. */
#include <limits.h>
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

/* Every number typed goes through cmd_parse_u64: whole words only, no sign, no overflow. */
static void parse_numbers(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(cmd_parse_u64("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cmd_parse_u64("0042", 100, &v), 0); /* leading zeros are decimal, not octal */
	assert_int_equal(v, 42);
	assert_int_equal(cmd_parse_u64("0x7fFF0010", UINT64_MAX, &v), 0);
	assert_int_equal(v, 0x7fff0010);
	assert_int_equal(cmd_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cmd_parse_u64("0xffffffffffffffff", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	static const char *const junk[] = { "", "5x", "x5", " 5", "5 ", "-5", "+5", "-0", "0x", "0xg", "1e3",
					    "5.0", "0b101", "ff", "99999999999999999999x" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(cmd_parse_u64(junk[i], UINT64_MAX, &v), -1);
	assert_int_equal(cmd_parse_u64("18446744073709551616", UINT64_MAX, &v), -2);
	assert_int_equal(cmd_parse_u64("0x10000000000000000", UINT64_MAX, &v), -2);
	assert_int_equal(cmd_parse_u64("99999999999999999999999", UINT64_MAX, &v), -2);
	assert_int_equal(cmd_parse_u64("11", 10, &v), -2);
	assert_int_equal(v, 7); /* untouched on failure */

	struct mlz_err err;
	long n = 64;
	assert_int_equal(cmd_number("set", "max-stack-depth", "256", 1, 256, &n, &err), 0);
	assert_int_equal(n, 256);
	assert_int_equal(cmd_number("set", "max-stack-depth", "257", 1, 256, &n, &err), -1);
	assert_int_equal(err.kind, MLZ_E_USAGE);
	assert_string_equal(err.msg, "set: max-stack-depth expects a number from 1 to 256, not '257'");
	assert_int_equal(cmd_number("set", "max-stack-depth", "0", 1, 256, &n, &err), -1);
	assert_string_equal(err.msg, "set: max-stack-depth expects a number from 1 to 256, not '0'");
	assert_int_equal(n, 256);

	/* Sizes: plain bytes or K, M, G, T (powers of 1024, either case); the suffix alone is junk. */
	uint64_t z = 5;
	assert_int_equal(cmd_parse_size("64M", UINT64_MAX, &z), 0);
	assert_int_equal(z, 64ull << 20);
	assert_int_equal(cmd_parse_size("1g", UINT64_MAX, &z), 0);
	assert_int_equal(z, 1ull << 30);
	assert_int_equal(cmd_parse_size("3145728", UINT64_MAX, &z), 0);
	assert_int_equal(z, 3145728);
	assert_int_equal(cmd_parse_size("0x10K", UINT64_MAX, &z), 0);
	assert_int_equal(z, 16384);
	const char *bad[] = { "", "M", "1.5G", "2X", "-1M", "1MB", "1 M", "G1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cmd_parse_size(bad[i], UINT64_MAX, &z), -1);
	assert_int_equal(cmd_parse_size("16777216T", UINT64_MAX, &z), -2); /* 2^64 */
	assert_int_equal(cmd_parse_size("2T", 1ull << 40, &z), -2);
	assert_int_equal(z, 16384);
	uint64_t lim;
	assert_int_equal(cmd_size("set", "memory-limit", "512K", 1 << 20, 1ull << 40, &lim, &err), -1);
	assert_string_equal(err.msg, "set: memory-limit expects a size from 1048576 to 1099511627776 bytes, not '512K'");

	/* Options: the command and the option named, the value quoted as typed; absent leaves the default. */
	const struct cmd_entry *bt = cmd_find("bt", &err);
	struct cmd_args a;
	char *v1[] = { "bt", "--depth", "5x", NULL };
	assert_int_equal(cmd_parse_args(bt, 3, v1, &a, &err), 0);
	assert_int_equal(cmd_optnum(&a, "--depth", 1, 100, &n, &err), -1);
	assert_int_equal(err.kind, MLZ_E_USAGE);
	assert_string_equal(err.msg, "bt: option '--depth' expects a number, not '5x'");
	free(a.argv);
	char *v2[] = { "bt", "--depth=", NULL };
	assert_int_equal(cmd_parse_args(bt, 2, v2, &a, &err), 0);
	assert_int_equal(cmd_optnum(&a, "--depth", 1, 100, &n, &err), -1);
	assert_string_equal(err.msg, "bt: option '--depth' expects a number, not ''");
	free(a.argv);
	char *v3[] = { "bt", "--depth", "-3", NULL };
	assert_int_equal(cmd_parse_args(bt, 3, v3, &a, &err), 0);
	assert_int_equal(cmd_optnum(&a, "--depth", 1, 100, &n, &err), -1);
	assert_string_equal(err.msg, "bt: option '--depth' expects a number, not '-3'");
	free(a.argv);
	char *v4[] = { "bt", "--depth", "99999999999999999999", NULL };
	assert_int_equal(cmd_parse_args(bt, 3, v4, &a, &err), 0);
	assert_int_equal(cmd_optnum(&a, "--depth", 1, LONG_MAX, &n, &err), -1);
	assert_string_equal(err.msg, "bt: option '--depth' expects a number from 1 to 9223372036854775807, "
				     "not '99999999999999999999'");
	free(a.argv);
	char *v5[] = { "bt", "--depth=0x10", NULL };
	assert_int_equal(cmd_parse_args(bt, 2, v5, &a, &err), 0);
	assert_int_equal(cmd_optnum(&a, "--depth", 1, 100, &n, &err), 0);
	assert_int_equal(n, 16);
	free(a.argv);
	char *v6[] = { "bt", NULL };
	assert_int_equal(cmd_parse_args(bt, 1, v6, &a, &err), 0);
	n = 64;
	assert_int_equal(cmd_optnum(&a, "--depth", 1, 100, &n, &err), 0);
	assert_int_equal(n, 64);
	free(a.argv);

	double secs = -1;
	assert_int_equal(cmd_parse_seconds("1.5", 10, &secs), 0);
	assert_true(secs == 1.5);
	assert_int_equal(cmd_parse_seconds(".25", 10, &secs), 0);
	assert_true(secs == 0.25);
	assert_int_equal(cmd_parse_seconds("3.", 10, &secs), 0);
	assert_true(secs == 3);
	static const char *const bad_secs[] = { "", ".", " 1", "1 ", "-1", "+1", "1e3", "0x1p3", "inf", "nan",
						"1.2.3", "soon" };
	for (size_t i = 0; i < sizeof(bad_secs) / sizeof(bad_secs[0]); i++)
		assert_int_equal(cmd_parse_seconds(bad_secs[i], 10, &secs), -1);
	assert_int_equal(cmd_parse_seconds("10.5", 10, &secs), -2);
	assert_true(secs == 3);
}

/* What completes after "CMD WORDS..." (words split on spaces). */
static int completes(const char *line, struct cmd_completion *out)
{
	int argc;
	char **argv;
	struct mlz_err err;
	assert_int_equal(lex_line(line, &argc, &argv, &err), 0);
	const struct cmd_entry *e = cmd_find(argv[0], &err);
	assert_non_null(e);
	int kind = cmd_complete_arg(e, argc - 1, argv + 1, out);
	lex_free(argc, argv);
	return kind;
}

static bool offers(const struct cmd_completion *c, const char *word)
{
	for (size_t i = 0; i < c->nwords; i++)
		if (!strcmp(c->words[i], word))
			return true;
	return false;
}

static void complete_from_usage(void **state)
{
	(void)state;
	struct cmd_completion c;
	assert_int_equal(completes("compare", &c), CMD_COMPLETE_SNAPSHOTS);
	assert_int_equal(completes("compare --by site a", &c), CMD_COMPLETE_SNAPSHOTS);
	assert_int_equal(completes("compare a b", &c), CMD_COMPLETE_NOTHING);
	assert_int_equal(completes("top --by", &c), CMD_COMPLETE_WORDS);
	assert_int_equal(c.nwords, 5);
	assert_string_equal(c.words[0], "site");
	assert_string_equal(c.words[3], "stack");
	assert_string_equal(c.words[4], "type");
	assert_null(c.words[5]);
	cmd_completion_release(&c);
	assert_int_equal(completes("top --top 5", &c), CMD_COMPLETE_SNAPSHOTS); /* top [SNAPSHOT] */
	assert_int_equal(completes("top --top 5 a", &c), CMD_COMPLETE_NOTHING);
	assert_int_equal(completes("top --top", &c), CMD_COMPLETE_NOTHING); /* N: the user's number */
	assert_int_equal(completes("leaks --by", &c), CMD_COMPLETE_WORDS);
	assert_true(offers(&c, "size") && !offers(&c, "file"));
	cmd_completion_release(&c);
	assert_int_equal(completes("export", &c), CMD_COMPLETE_WORDS);
	assert_true(offers(&c, "folded") && offers(&c, "pprof"));
	cmd_completion_release(&c);
	assert_int_equal(completes("export folded", &c), CMD_COMPLETE_FILES);
	assert_int_equal(completes("export folded --force f", &c), CMD_COMPLETE_SNAPSHOTS);
	assert_int_equal(completes("export folded f a", &c), CMD_COMPLETE_SNAPSHOTS);
	/* "TID|all": TID is the user's number, all the one word */
	assert_int_equal(completes("bt", &c), CMD_COMPLETE_WORDS);
	assert_int_equal(c.nwords, 1);
	assert_string_equal(c.words[0], "all");
	cmd_completion_release(&c);
	assert_int_equal(completes("bt --depth", &c), CMD_COMPLETE_NOTHING);
	assert_int_equal(completes("help", &c), CMD_COMPLETE_COMMANDS);
	assert_int_equal(completes("show", &c), CMD_COMPLETE_NOTHING);
	assert_int_equal(completes("info", &c), CMD_COMPLETE_NOTHING);
	assert_int_equal(completes("dump", &c), CMD_COMPLETE_FILES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lex_words),
		cmocka_unit_test(lex_unterminated),
		cmocka_unit_test(find_commands),
		cmocka_unit_test(find_ambiguous),
		cmocka_unit_test(parse_options),
		cmocka_unit_test(parse_numbers),
		cmocka_unit_test(complete_from_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
