// SPDX-License-Identifier: GPL-3.0-or-later
/* xml.c - text made safe for XML character data and attribute values, whatever bytes a name holds. */
#include "export_internal.h"
#include "strbuf.h"

void xml_add_text(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0 || (*p < 0x20 && *p != '\t' && *p != '\n') ||
		    (n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe)) {
			/*
			 * A byte outside well-formed UTF-8, a control character or
			 * U+FFFE/U+FFFF: none may appear in an XML document, even as a
			 * character reference, so the parser would refuse the file.
			 */
			strbuf_addstr(sb, "\xef\xbf\xbd");
			p += n ? n : 1;
			continue;
		}
		switch (*p) {
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		case '\'': strbuf_addstr(sb, "&apos;"); break;
		case '\n': strbuf_addstr(sb, "&#10;"); break; /* kept in attributes too */
		default: strbuf_add(sb, p, n);
		}
		p += n;
	}
}
