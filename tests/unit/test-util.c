// SPDX-License-Identifier: GPL-3.0-or-later
/* test-util.c - JSON values, escaped text, human sizes, /proc maps parsing, EPERM diagnosis, the cleanup registry, the cancel check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cancel.h"
#include "cleanup.h"

#include "jv.h"
#include "proc.h"
#include "strbuf.h"
#include "target.h"
#include "where.h"

static void human_sizes(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(size_str(buf, 0, 0), "0 B");
	assert_string_equal(size_str(buf, 1023, 0), "1023 B");
	assert_string_equal(size_str(buf, 1024, 0), "1 KiB"); /* whole units without a decimal */
	assert_string_equal(size_str(buf, 1536, 0), "1.5 KiB");
	assert_string_equal(size_str(buf, -1536, 0), "-1.5 KiB");
	assert_string_equal(size_str(buf, 1048575, 0), "1.0 MiB"); /* not "1024.0 KiB" */
	assert_string_equal(size_str(buf, 1572864, 0), "1.5 MiB");
	assert_string_equal(size_str(buf, (int64_t)5 << 30, 0), "5 GiB");
	assert_string_equal(size_str(buf, 65536, SIZE_ESTIMATE), "~64 KiB");
	assert_string_equal(size_str(buf, 1025, SIZE_SIGN), "+1.0 KiB"); /* rounded: a decimal */
	assert_string_equal(size_str(buf, INT64_MIN, 0), "-8 EiB");
	assert_string_equal(size_str(buf, INT64_MAX, 0), "8.0 EiB");
}

static void json_render(void **state)
{
	(void)state;
	struct jv *o = jv_object();
	jv_set(o, "n", jv_int(-42));
	jv_set(o, "s", jv_string("a\"b\\c\n\x01"));
	jv_set(o, "nil", jv_string(NULL));
	struct jv *a = jv_set(o, "a", jv_array());
	jv_push(a, jv_bool(true));
	jv_push(a, jv_addr(0x7fff0000));
	jv_push(a, jv_double(0.5));
	jv_push(a, jv_double(12.1040979996324));
	jv_push(a, jv_double(-0.0001));
	jv_push(a, jv_double(3.0));
	jv_push(a, jv_double(0.0005)); /* a little more than half a thousandth in binary */
	struct strbuf sb = STRBUF_INIT;
	jv_dump(o, &sb);
	assert_string_equal(strbuf_str(&sb),
			    "{\"n\": -42, \"s\": \"a\\\"b\\\\c\\n\\u0001\", \"nil\": null, "
			    "\"a\": [true, \"0x7fff0000\", 0.5, 12.104, 0, 3, 0.001]}");
	assert_int_equal(jv_get_int(o, "n", 0), -42);
	assert_null(jv_get(o, "missing"));
	assert_int_equal(jv_len(a), 7);
	strbuf_release(&sb);
	jv_free(o);
}

/* Valid UTF-8 passes through; each byte of an invalid sequence becomes U+FFFD, so jq accepts it. */
static void json_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "\xc2\x80\xdf\xbf\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", /* the edges of each range */
		  "\"\xc2\x80\xdf\xbf\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"" },
		{ "\xff\xfe bad", "\"\\ufffd\\ufffd bad\"" },
		{ "\x80x", "\"\\ufffdx\"" },                                 /* a lone continuation byte */
		{ "\xc0\xaf\xc1\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },  /* overlong 2-byte forms */
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },             /* overlong '/' in 3 bytes */
		{ "\xf0\x8f\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* overlong U+FFFF */
		{ "\xed\xa0\x80\xed\xbf\xbf", /* surrogates U+D800 and U+DFFF */
		  "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* U+110000 */
		{ "\xf5\xf8\xfe", "\"\\ufffd\\ufffd\\ufffd\"" },             /* lead bytes that never occur */
		{ "a\xe2\x82", "\"a\\ufffd\\ufffd\"" },                        /* truncated at the end */
		{ "\xe2\x82z\xf0\x9f\x98", "\"\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffd\"" }, /* truncated inside */
		{ "\xe2\xe2\x82\xac", "\"\\ufffd\xe2\x82\xac\"" },            /* a valid sequence right after */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		json_quote(&sb, cases[i].in);
		assert_string_equal(strbuf_str(&sb), cases[i].out);
		strbuf_release(&sb);
	}
}

/* Text output: controls, C1 controls, DEL, backslashes and ill-formed bytes escaped; UTF-8 text kept. */
/* An empty strbuf's buffer is NULL: adding it to another adds nothing, and passes nothing to memcpy (UBSan). */
static void strbuf_add_empty(void **state)
{
	(void)state;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	strbuf_add(&a, b.buf, b.len);
	assert_string_equal(strbuf_str(&a), "");
	strbuf_addstr(&b, "x");
	strbuf_add(&a, b.buf, b.len);
	assert_string_equal(strbuf_str(&a), "x");
	strbuf_release(&a);
	strbuf_release(&b);
}

static void text_escaped(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain /usr/lib/libc.so.6 [heap]", "plain /usr/lib/libc.so.6 [heap]" },
		{ "\x1b]0;pwned\x07x", "\\e]0;pwned\\x07x" },   /* a window title (OSC ... BEL) */
		{ "a\tb\nc\rd\\e", "a\\tb\\nc\\rd\\\\e" },
		{ "\x01\x1f\x7f", "\\x01\\x1f\\x7f" },
		{ "\xc2\x9b" "31m", "\\xc2\\x9b31m" },            /* CSI as a C1 control */
		{ "\xc2\x80\xc2\x9f\xc2\xa0", "\\xc2\\x80\\xc2\\x9f\xc2\xa0" }, /* C1's edges; U+00A0 is text */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\xff\xfe bad", "\\xff\\xfe bad" },
		{ "\x9b", "\\x9b" },                              /* a lone continuation byte */
		{ "a\xe2\x82", "a\\xe2\\x82" },                   /* truncated at the end */
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_add_escaped(&sb, cases[i].in);
		assert_string_equal(strbuf_str(&sb), cases[i].out);
		strbuf_release(&sb);
	}
}

/* Every form a place in code takes in text output, from fields and from the JSON of a frame. */
static void where_forms(void **state)
{
	(void)state;
	static const struct {
		struct where w;
		const char *out;
	} cases[] = {
		{ { .function = "f", .file = "/src/a/f.c", .line = 12, .module = "prog" }, "f at f.c:12" },
		{ { .function = "f", .file = "/src/a/f.c", .module = "prog" }, "f in f.c" },
		{ { .function = "malloc", .module = "libc.so.6" }, "malloc from libc.so.6" },
		{ { .module = "libfoo.so.1", .module_offset = 0x1234, .has_offset = true }, "libfoo.so.1+0x1234" },
		{ { .module = "libfoo.so.1" }, "?? from libfoo.so.1" },
		{ { .file = "/src/a/f.c", .line = 3 }, "f.c:3" },           /* a group by file */
		{ { .function = "0x1234" }, "0x1234" },
		{ { 0 }, "??" },
		{ { .function = "x\x1b]0;t\x07", .module = "m\n" }, "x\\e]0;t\\x07 from m\\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		where_text(&cases[i].w, &sb);
		assert_string_equal(strbuf_str(&sb), cases[i].out);
		strbuf_release(&sb);
	}
	struct jv *o = jv_object();
	jv_set(o, "function", jv_null());
	jv_set(o, "file", jv_null());
	jv_set(o, "line", jv_null());
	jv_set(o, "module", jv_string("libfoo.so.1"));
	jv_set(o, "module_offset", jv_addr(0x1121));
	struct strbuf sb = STRBUF_INIT;
	where_text_jv(o, &sb);
	assert_string_equal(strbuf_str(&sb), "libfoo.so.1+0x1121");
	strbuf_release(&sb);
	jv_free(o);
	o = jv_object(); /* a named frame without lines: its module, whatever the offset */
	jv_set(o, "function", jv_string("fxs"));
	jv_set(o, "module", jv_string("libfoo.so.1"));
	jv_set(o, "module_offset", jv_addr(0x1121));
	where_text_jv(o, &sb);
	assert_string_equal(strbuf_str(&sb), "fxs from libfoo.so.1");
	strbuf_release(&sb);
	jv_free(o);
}

static void maps_lines(void **state)
{
	(void)state;
	const char *text =
		"55d0c0a00000-55d0c0a01000 r--p 00000000 fe:01 1234   /usr/bin/x y\n"
		"55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0      [heap]\n"
		"7f0000000000-7f0000001000 ---p 00000000 00:00 0\n";
	struct maps m = { 0 };
	struct mlz_err err;
	assert_int_equal(maps_parse(text, &m, &err), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.v[0].path, "/usr/bin/x y");
	assert_string_equal(m.v[1].path, "[heap]");
	assert_string_equal(m.v[2].path, "");
	assert_string_equal(m.v[1].perms, "rw-p");
	assert_ptr_equal(maps_find(&m, 0x55d0c1000010), &m.v[1]);
	assert_null(maps_find(&m, 0x55d0c1021000));
	maps_release(&m);
	assert_int_equal(maps_parse("garbage\n", &m, &err), -1);
	assert_string_equal(err.msg, "malformed maps line 'garbage'");
	maps_release(&m);
}

static void eperm_reasons(void **state)
{
	(void)state;
	char buf[512];
	struct eperm_facts f = { .pid = 10, .tracer_pid = 77, .tracer_comm = "gdb", .yama_scope = -1 };
	attach_explain_eperm(&f, buf, sizeof(buf));
	assert_string_equal(buf, "cannot attach to process 10: it is already traced by process 77 (gdb)");

	f = (struct eperm_facts){ .pid = 10, .target_uid = 0, .my_uid = 1000, .yama_scope = -1 };
	attach_explain_eperm(&f, buf, sizeof(buf));
	assert_string_equal(buf, "cannot attach to process 10: permission denied: it belongs to uid 0 and mlyze "
				 "runs as uid 1000 without CAP_SYS_PTRACE (run mlyze as root or as uid 0)");

	f = (struct eperm_facts){ .pid = 10, .target_uid = 1000, .my_uid = 1000, .yama_scope = 1 };
	attach_explain_eperm(&f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "kernel.yama.ptrace_scope is 1, so only a parent may trace its child"));

	f.yama_scope = 2;
	attach_explain_eperm(&f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "ptrace_scope is 2"));
	f.yama_scope = 3;
	f.cap_sys_ptrace = true;
	attach_explain_eperm(&f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "ptrace_scope is 3"));
	f.yama_scope = 0;
	attach_explain_eperm(&f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "permission denied even with CAP_SYS_PTRACE"));
	f.cap_sys_ptrace = false;
	attach_explain_eperm(&f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "setuid or not dumpable; run mlyze as root"));
}

struct writes {
	uint64_t addr[8];
	uint8_t first[8];
	int n;
};

static int record(void *ctx, uint64_t addr, const void *buf, const void *patched, size_t len)
{
	struct writes *w = ctx;
	(void)len;
	if (*(const uint8_t *)patched != 0xcc)
		return -1; /* every entry here says what replaced the bytes */
	w->addr[w->n] = addr;
	w->first[w->n++] = *(const uint8_t *)buf;
	return addr == 0xbad ? -1 : 0;
}

static int func_calls;
static int count_func(void *arg)
{
	(void)arg;
	func_calls++;
	return 0;
}

static void cleanup_order(void **state)
{
	(void)state;
	struct cleanup c = { 0 };
	struct writes w = { 0 };
	uint8_t a = 0x55, b = 0x48, d = 0x90, cc = 0xcc;
	int ia = cleanup_add_bytes(&c, 0x1000, &a, &cc, 1);
	cleanup_add_bytes(&c, 0x2000, &b, &cc, 1);
	int id = cleanup_add_bytes(&c, 0x3000, &d, &cc, 1);
	cleanup_add_func(&c, count_func, NULL);
	cleanup_add_bytes(&c, 0xbad, &d, &cc, 1);
	cleanup_forget(&c, id);
	assert_int_equal(cleanup_pending(&c), 4);
	/* Newest first, forgotten entries skipped, failures counted. */
	assert_int_equal(cleanup_run(&c, record, &w), 1);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.addr[0], 0xbad);
	assert_int_equal(w.addr[1], 0x2000);
	assert_int_equal(w.addr[2], 0x1000);
	assert_int_equal(w.first[2], 0x55);
	assert_int_equal(func_calls, 1);
	assert_int_equal(cleanup_pending(&c), 0);
	(void)ia;
	cleanup_release(&c);
}

static int checks;
static bool says_stop;
static bool count_check(void *arg)
{
	(void)arg;
	checks++;
	return says_stop;
}

/* The check is asked once a batch of work is done, at most once per period, and its stop sticks. */
static void cancel_polling(void **state)
{
	(void)state;
	assert_false(cancel_poll(NULL, CANCEL_BATCH)); /* no owner: never stops */
	assert_false(cancelled(NULL));
	struct cancel c = { count_check, NULL };
	for (unsigned i = 0; i + 1 < CANCEL_BATCH; i++)
		assert_false(cancel_poll(&c, 1));
	assert_int_equal(checks, 0); /* a counter, not a system call per block */
	assert_false(cancel_poll(&c, 1));
	assert_int_equal(checks, 1);
	assert_false(cancel_poll(&c, CANCEL_BATCH));
	assert_int_equal(checks, 1); /* within the period: the clock only */
	says_stop = true;
	c.due_ns = 0; /* as if the period had passed */
	assert_true(cancel_poll(&c, CANCEL_BATCH));
	assert_int_equal(checks, 2);
	says_stop = false;
	assert_true(cancel_poll(&c, 1));
	assert_true(cancelled(&c));
	assert_int_equal(checks, 2);
	struct mlz_err err;
	assert_int_equal(cancel_error(&err), -1);
	assert_int_equal(err.kind, MLZ_E_INTERRUPTED);
	assert_string_equal(err.msg, "interrupted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(human_sizes),
		cmocka_unit_test(json_render),
		cmocka_unit_test(json_utf8),
		cmocka_unit_test(strbuf_add_empty),
		cmocka_unit_test(text_escaped),
		cmocka_unit_test(where_forms),
		cmocka_unit_test(maps_lines),
		cmocka_unit_test(eperm_reasons),
		cmocka_unit_test(cleanup_order),
		cmocka_unit_test(cancel_polling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
