#!/bin/bash
# layers.sh - checks that src/ keeps the module dependencies docs/design.md allows and that only
# src/target/ touches the process directly.
#
# usage: bash tests/lib/layers.sh [ROOT]
#
# ROOT (default: the repository holding this script) must have src/ and docs/design.md, and
# usually include/. The rules:
#   - every #include "X.h" in src/**/*.[ch] and include/*.h is allowed by the section
#     "### Allowed dependencies" of docs/design.md (its format is described there): a module
#     includes its own headers, headers in its own directory, and the headers of the modules its
#     row lists. A header is named bare; "../dir/x.h" or "dir/x.h" is always a violation, and so
#     is a bare name found only in another directory of src/ (another module's private header).
#     <...> includes are not checked;
#   - ptrace( is called only in src/target/ptrace.c;
#   - process_vm_* and a "/proc/.../mem" string appear only in src/target/;
#   - ->core is followed only in src/target/.
# Comments do not count; ptrace(, process_vm_ and ->core do not count inside string literals.
#
# Prints one "FILE:LINE: what" per violation, FILE relative to ROOT, sorted by file and line
# (mistakes in the table itself are reported at docs/design.md:LINE). Exits 1 when it printed
# anything, 0 when not, 2 when ROOT lacks src/, docs/design.md or the section.
# Plain bash and POSIX awk (mawk, Debian's default, is enough).

export LC_ALL=C

if test $# -gt 1; then
	echo "usage: layers.sh [ROOT]" >&2
	exit 2
fi
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root" 2>/dev/null || { echo "layers.sh: cannot enter '$root'" >&2; exit 2; }
test -d src || { echo "layers.sh: '$root' has no src/" >&2; exit 2; }
design=docs/design.md
test -f "$design" || { echo "layers.sh: '$root' has no $design" >&2; exit 2; }
grep -q '^###[[:space:]]*Allowed dependencies[[:space:]]*$' "$design" || {
	echo "layers.sh: $design has no '### Allowed dependencies' section" >&2
	exit 2
}

dirs=src
test -d include && dirs="src include"
# shellcheck disable=SC2086 # both names are plain words
files=$(find $dirs -type f \( -name '*.c' -o -name '*.h' \) | sort)
if test -z "$files"; then
	exit 0
fi

# shellcheck disable=SC2086 # the file names come from find in our own tree: no blanks
awk -v design="$design" -v files="${files//$'\n'/ }" '
function trim(s) {
	gsub(/`/, "", s)
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

function report(file, line, what) {
	print file ":" line ": " what
	bad = 1
}

# src/X.c and src/X.h are module X; anything under src/D/ is module D.
function module_of(path,    m) {
	m = path
	sub(/^src\//, "", m)
	if (m ~ /\//)
		sub(/\/.*/, "", m)
	else
		sub(/\.[ch]$/, "", m)
	return m
}

# Reads the two tables of the "### Allowed dependencies" section and checks them against the tree.
function read_design(    line, ln, insec, kind, n, c, a, b, k, i, l, t, secline) {
	ln = 0
	insec = 0
	kind = ""
	while ((getline line <design) > 0) {
		ln++
		if (line ~ /^#+[ \t]/) {
			insec = (line ~ /^###[ \t]*Allowed dependencies[ \t]*$/)
			if (insec)
				secline = ln
			kind = ""
			continue
		}
		if (!insec || line !~ /^[ \t]*\|/)
			continue
		n = split(line, c, "|")
		a = trim(c[2])
		b = n >= 4 ? trim(c[3]) : ""
		if (a ~ /^:?-+:?$/)
			continue
		if (a == "module" && b == "may include") {
			kind = "deps"
			continue
		}
		if (a == "header" && b == "module") {
			kind = "hdr"
			continue
		}
		if (n != 4 || a == "") {
			report(design, ln, "a row needs two cells: " line)
		} else if (kind == "deps") {
			if (a in row) {
				report(design, ln, "a second row for module " a)
				continue
			}
			row[a] = ln
			nrows++
			rowname[nrows] = a
			rowlist[nrows] = b
		} else if (kind == "hdr") {
			if (a in hmod) {
				report(design, ln, "a second row for header " a)
				continue
			}
			hmod[a] = b
			nhdrs++
			hdrname[nhdrs] = a
			hdrline[nhdrs] = ln
		} else {
			report(design, ln, "a row outside the \"module | may include\" and \"header | module\" tables")
		}
	}
	close(design)

	for (i = 1; i <= nrows; i++) {
		n = split(rowlist[i], l, ",")
		for (k = 1; k <= n; k++) {
			t = trim(l[k])
			if (t == "")
				continue
			if (!(t in row))
				report(design, row[rowname[i]], "module " rowname[i] " may include " t ", which has no row")
			allowed[rowname[i], t] = 1
		}
	}
	for (i = 1; i <= nhdrs; i++) {
		if (!(hdrname[i] in inc))
			report(design, hdrline[i], "the header table names include/" hdrname[i] ", which does not exist")
		if (!(hmod[hdrname[i]] in row))
			report(design, hdrline[i], "header " hdrname[i] " belongs to module " hmod[hdrname[i]] ", which has no row")
	}
	for (i = 1; i <= nfiles; i++) {
		if (f[i] ~ /^include\//) {
			t = f[i]
			sub(/^include\//, "", t)
			if (!(t in hmod))
				report(design, secline, "no row for " f[i] " in the header table")
		} else {
			t = module_of(f[i])
			if (!(t in row) && !(t in norow)) {
				norow[t] = 1
				report(design, secline, "no row for module " t " (" f[i] ")")
			}
		}
	}
}

# Sets NC (the line without comments), CODE (also without the contents of literals) and
# LITS (the string literals, adjacent ones joined as the compiler joins them, SUBSEP between).
function strip(line,    n, i, j, c, c2, d, s, nc, code, lits, lit, have, gap) {
	n = length(line)
	nc = code = lits = lit = gap = ""
	have = 0
	i = 1
	while (i <= n) {
		c = substr(line, i, 1)
		c2 = substr(line, i, 2)
		if (incomment) {
			if (c2 == "*/") {
				incomment = 0
				i += 2
			} else {
				i++
			}
			continue
		}
		if (c2 == "/*") {
			incomment = 1
			nc = nc " "
			code = code " "
			i += 2
			continue
		}
		if (c2 == "//")
			break
		if (c == "\"" || c == "\047") {
			s = ""
			for (j = i + 1; j <= n; j++) {
				d = substr(line, j, 1)
				if (d == "\\") {
					s = s substr(line, j, 2)
					j++
				} else if (d == c) {
					break
				} else {
					s = s d
				}
			}
			nc = nc substr(line, i, j - i + 1)
			code = code c c
			if (c == "\"") {
				if (have && gap ~ /^[ \t]*$/) {
					lit = lit s
				} else {
					if (have)
						lits = lits SUBSEP lit
					lit = s
					have = 1
				}
				gap = ""
			}
			i = j + 1
			continue
		}
		nc = nc c
		code = code c
		gap = gap c
		i++
	}
	if (have)
		lits = lits SUBSEP lit
	NC = nc
	CODE = " " code " "
	LITS = substr(lits, 2)
}

function check_include(p,    base, hm) {
	if (p ~ /\//) {
		report(FILENAME, FNR, "includes \"" p "\" by a path: headers are named bare, from include/ or the file\047s own directory")
		return
	}
	if (dir != "include" && ((dir "/" p) in exists))
		return
	if (p in inc) {
		hm = hmod[p]
		if (hm == "" || mod == "" || hm == mod || ((mod, hm) in allowed))
			return
		report(FILENAME, FNR, mod " may not include " p " (module " hm ")")
	} else if (p in privdir) {
		report(FILENAME, FNR, "includes \"" p "\", private to " privdir[p] "/")
	} else {
		report(FILENAME, FNR, "includes \"" p "\", in neither include/ nor " dir "/")
	}
}

BEGIN {
	nfiles = split(files, f, " ")
	for (i = 1; i <= nfiles; i++) {
		exists[f[i]] = 1
		b = f[i]
		sub(/.*\//, "", b)
		if (f[i] ~ /^include\//)
			inc[b] = 1
		else if (b ~ /\.h$/) {
			d = substr(f[i], 1, length(f[i]) - length(b) - 1)
			if (b in privdir)
				privdir[b] = privdir[b] "/, " d
			else
				privdir[b] = d
		}
	}
	read_design()
}

FNR == 1 {
	incomment = 0
	dir = FILENAME
	sub(/\/[^\/]*$/, "", dir)
	if (FILENAME ~ /^include\//) {
		b = FILENAME
		sub(/^include\//, "", b)
		mod = hmod[b]
	} else {
		mod = module_of(FILENAME)
		if (!(mod in row))
			mod = ""
	}
	insrc = FILENAME ~ /^src\//
	intarget = FILENAME ~ /^src\/target\//
}

{
	strip($0)
	if (NC ~ /^[ \t]*#[ \t]*include[ \t]*"/) {
		p = NC
		sub(/^[^"]*"/, "", p)
		sub(/".*/, "", p)
		check_include(p)
	}
	if (!insrc)
		next
	if (FILENAME != "src/target/ptrace.c" && CODE ~ /[^A-Za-z0-9_]ptrace[ \t]*\(/)
		report(FILENAME, FNR, "calls ptrace() outside src/target/ptrace.c")
	if (intarget)
		next
	if (match(CODE, /[^A-Za-z0-9_]process_vm_[A-Za-z0-9_]*/))
		report(FILENAME, FNR, substr(CODE, RSTART + 1, RLENGTH - 1) " outside src/target/")
	n = split(LITS, l, SUBSEP)
	for (k = 1; k <= n; k++) {
		if (l[k] ~ /\/proc\/.*\/mem([^A-Za-z0-9_]|$)/) {
			report(FILENAME, FNR, "\"" l[k] "\" outside src/target/")
			break
		}
	}
	if (CODE ~ /->[ \t]*core[^A-Za-z0-9_]/)
		report(FILENAME, FNR, "->core outside src/target/")
}

END {
	exit bad
}
' $files </dev/null | sort -t: -k1,1 -k2,2n
exit "${PIPESTATUS[0]}"
