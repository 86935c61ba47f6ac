// SPDX-License-Identifier: GPL-3.0-or-later
/* test-xml.c - names made XML text for the SVG exports: the specials, bytes XML cannot hold, cut labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../src/export/export_internal.h"
#include "strbuf.h"

static void check(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	xml_add_text(&sb, in);
	assert_string_equal(strbuf_str(&sb), want);
	strbuf_release(&sb);
}

static void xml_specials(void **state)
{
	(void)state;
	check("std::map<int, std::pair<a&, \"b\">>::operator<<'", "std::map&lt;int, std::pair&lt;a&amp;, &quot;b&quot;&gt;&gt;::operator&lt;&lt;&apos;");
	check("plain_name", "plain_name");
	check("", "");
}

static void xml_bad_bytes(void **state)
{
	(void)state;
	/* well-formed UTF-8 stays, every byte outside it becomes one U+FFFD */
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check("a\xff" "b", "a\xef\xbf\xbd" "b");
	check("\xc3(", "\xef\xbf\xbd(");              /* a lead byte without its continuation */
	check("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* a surrogate: three bad bytes */
	check("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong '/' */
	/* control characters and U+FFFE/U+FFFF are not XML characters even as references */
	check("a\x01\x1b[31mb", "a\xef\xbf\xbd\xef\xbf\xbd[31mb");
	check("x\xef\xbf\xbey\xef\xbf\xbf", "x\xef\xbf\xbdy\xef\xbf\xbd");
	check("tab\there\nline", "tab\there&#10;line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xml_specials),
		cmocka_unit_test(xml_bad_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
