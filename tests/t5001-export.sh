#!/bin/bash
# export writes what other tools read, and each file is read back by its real consumer: go tool
# pprof for the pprof profile (top functions, bytes, objects, file:line, inlined frames, a
# difference, cross-checked with pprof's own -diff_base) and the folded-stack grammar of
# flamegraph.pl for folded; both must give the figures `top` and `compare` give on fx-alloc,
# whose allocations are known to the byte. Then the file errors.

test_description='export: folded stacks and pprof profiles, read back; the files it refuses'
. "$(dirname "$0")/lib/test-lib.sh"

# go tool pprof, kept off the network and out of the real home: no symbolization (the profile
# has its symbols), caches and config in the trash directory.
test_lazy_prereq GO 'command -v go && HOME=$TRASH go version'
gopprof () {
	HOME=$TRASH GOCACHE=$TRASH/gocache GOPATH=$TRASH/gopath GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off \
		PPROF_TMPDIR=$TRASH/pproftmp PPROF_BINARY_PATH=/nonexistent \
		go tool pprof -symbolize=none "$@"
}

# pprof_flat ARGS...: "function value" for every function with a flat value, from pprof -top,
# sorted (pprof prints 1000B for bytes with -unit=B, plain numbers for objects).
pprof_flat () {
	gopprof -top -nodefraction=0 -nodecount=1000 -unit=B "$@" >pprof.out 2>pprof.err &&
	awk '$1 == "flat" { on = 1; next }
		on && $1 != "0" { v = $1; sub(/B$/, "", v); n = $0; for (i = 0; i < 5; i++) sub(/^ *[^ ]+ +/, "", n); print n, v }' pprof.out | sort
}

# top_flat CMD FIELD: "function value" per function name (summed over modules) from a top or
# compare result in out, zeros left out, sorted.
top_flat () {
	result "$1" | jq -r ".groups[] | [.function, .$2] | @tsv" |
	awk -F'\t' '{ s[$1] += $2 } END { for (f in s) if (s[f] != 0) print f, s[f] }' | sort
}

# folded_leaf FILE [COLUMN]: "leaf bytes" summed per leaf frame (the last column by default).
folded_leaf () {
	awk -v col="${2:-0}" '{ v = col ? $(NF - 2 + col) : $NF; line = $0; sub(/ -?[0-9]+( -?[0-9]+)?$/, "", line);
		n = split(line, f, ";"); s[f[n]] += v } END { for (k in s) if (s[k] != 0) print k, s[k] }' "$1" | sort
}

step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step$1" 5
}

test_expect_success JQ 'setup: fx-alloc traced through steps 1 and 2, snapshots between, every export made' '
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	{ "$MLYZE" attach $apid --json -e "snapshot a" -e "sleep 1.2" -e "snapshot b" -e "sleep 1.2" \
		-e "snapshot c" \
		-e "export pprof now.pb.gz" -e "top --by function --top 0" -e "export folded now.folded" \
		-e "export pprof b.pb.gz b" -e "export pprof c.pb.gz c" -e "export pprof bc.pb.gz b c" \
		-e "export folded bc.folded b c" -e "compare b c --by function --top 0" \
		-e "dump fx-alloc.core" >out 2>err & } && mpid=$! &&
	sleep 0.5 && step 1 && sleep 1.2 && step 2 &&
	wait $mpid && step 3 && { wait $apid; code=$?; } && test "$code" = 0 &&
	test_must_be_empty err &&
	test "$(jq -s "map(select(.ok)) | length" out)" = 14 &&
	result "export pprof now.pb.gz" | jq -e ".format == \"pprof\" and .snapshot == \"now\" and .base == null and
		.file == \"now.pb.gz\" and .bytes_written > 0" &&
	result "export pprof bc.pb.gz b c" | jq -e ".snapshot == \"c\" and .base == \"b\" and
		.bytes == -1500 and .blocks == -10"
'

test_expect_success 'the files: gzip for pprof, mode 0644, no temporary file left' '
	gzip -t now.pb.gz && gzip -t bc.pb.gz &&
	test "$(stat -c %a now.pb.gz)" = 644 && test "$(stat -c %a now.folded)" = 644 &&
	! ls -A | grep "^\.now"
'

test_expect_success GO 'pprof -sample_index=inuse_space: the same functions and bytes as top --by function' '
	top_flat "top --by function --top 0" bytes >expect &&
	pprof_flat -sample_index=inuse_space now.pb.gz >actual &&
	test_cmp expect actual &&
	grep -x "fx_pvalloc 5000" actual && grep -x "fx_small 500" actual &&
	grep "^Type: inuse_space" pprof.out
'

test_expect_success GO 'pprof -sample_index=inuse_objects: the same block counts' '
	top_flat "top --by function --top 0" blocks >expect &&
	pprof_flat -sample_index=inuse_objects now.pb.gz >actual &&
	test_cmp expect actual &&
	grep -x "fx_small 5" actual && ! grep "^fx_calloc " actual
'

test_expect_success GO 'pprof -lines: each site with its file:line; the main mapping with its build-id' '
	line=$(grep -n "hold(malloc(100))" "$FIXTURES/fx-alloc.c" | cut -d: -f1) &&
	gopprof -top -lines -nodefraction=0 -sample_index=inuse_space now.pb.gz >lines.out &&
	grep " fx_small $FIXTURES/fx-alloc.c:$line\$" lines.out &&
	id=$(readelf -n "$FIXTURES/fx-alloc" | sed -n "s/.*Build ID: //p") && test -n "$id" &&
	grep -x "Build ID: $id" lines.out &&
	gopprof -traces now.pb.gz >traces.out &&
	grep -A1 "fx_pvalloc\$" traces.out | grep -x " *main"
'

test_expect_success GO 'a difference b c: the frees of step 2, as compare and as pprof -diff_base say' '
	top_flat "compare b c --by function --top 0" bytes_diff >expect &&
	cat expect && grep -x "fx_small -500" expect && grep -x "fx_calloc -1000" expect &&
	pprof_flat -sample_index=inuse_space bc.pb.gz >actual &&
	test_cmp expect actual &&
	pprof_flat -sample_index=inuse_space -diff_base b.pb.gz c.pb.gz >actual &&
	test_cmp expect actual &&
	top_flat "compare b c --by function --top 0" blocks_diff >expect &&
	pprof_flat -sample_index=inuse_objects bc.pb.gz >actual &&
	test_cmp expect actual
'

test_expect_success 'folded: every line is STACK BYTES; leaves add up to top --by function, all to its total' '
	test -s now.folded &&
	! grep -Ev "^[^ ;][^;]*(;[^;]+)* [0-9]+\$" now.folded &&
	top_flat "top --by function --top 0" bytes >expect &&
	folded_leaf now.folded >actual &&
	test_cmp expect actual &&
	total=$(awk "{ s += \$NF } END { print s }" now.folded) &&
	test "$total" = "$(result "top --by function --top 0" | jq .bytes)" &&
	grep -x "_start;__libc_start_main_impl;__libc_start_call_main;main;fx_pvalloc 5000" now.folded
'

test_expect_success 'folded with two snapshots: both figures per stack, as flamegraph.pl takes them' '
	! grep -Ev "^[^ ;][^;]*(;[^;]+)* [0-9]+ [0-9]+\$" bc.folded &&
	grep -x "_start;__libc_start_main_impl;__libc_start_call_main;main;fx_calloc 1000 0" bc.folded &&
	grep -x "_start;__libc_start_main_impl;__libc_start_call_main;main;fx_small 1000 500" bc.folded &&
	r=$(result "compare b c --by function --top 0") &&
	test "$(awk "{ s += \$NF } END { print s }" bc.folded)" = "$(echo "$r" | jq .bytes)" &&
	test "$(awk "{ s += \$(NF - 1) } END { print s }" bc.folded)" = "$(echo "$r" | jq ".bytes - .bytes_diff")"
'

test_expect_success GO 'inlined code: one Location, its Lines innermost first; folded has both frames' '
	"$MLYZE" run -e wait -e "export pprof inl.pb.gz" -e "export folded inl.folded" -- \
		"$FIXTURES/fx-inline-alloc" "$TRASH/inl.json" >inl.out 2>inl.err &&
	g=$(grep -n "return malloc(n);" "$FIXTURES/fx-inline-alloc.c" | cut -d: -f1) &&
	f=$(grep -n "kept\[i\] = grab(200);" "$FIXTURES/fx-inline-alloc.c" | cut -d: -f1) &&
	gopprof -raw inl.pb.gz >raw.out &&
	grep -A1 -E "^ +[0-9]+: 0x[0-9a-f]+ M=1 grab $FIXTURES/fx-inline-alloc.c:$g s=0\$" raw.out >loc &&
	grep -E "^ +fx_fill $FIXTURES/fx-inline-alloc.c:$f s=0\$" loc &&
	gopprof -top -lines -nodefraction=0 inl.pb.gz >top.out &&
	grep -E "^ +600B .* grab $FIXTURES/fx-inline-alloc.c:$g \(inline\)\$" top.out &&
	grep -x "_start;__libc_start_main_impl;__libc_start_call_main;main;fx_fill;grab 600" inl.folded
'

test_expect_success 'on a core: only blocks from before attach, as top counts them' '
	"$MLYZE" core fx-alloc.core --json -e "export folded core.folded" -e "export pprof core.pb.gz" \
		-e "top --top 0" >core.out 2>core.err &&
	size=$(result "top --top 0" core.out | jq .bytes) && test "$size" -gt 7000 &&
	echo "<before attach> $size" >expect && test_cmp expect core.folded &&
	result "export pprof core.pb.gz" core.out | jq -e ".records > 1 and .untraced"
'

test_expect_success GO 'on a core, pprof: <before attach> by size class, a label each' '
	gopprof -top -unit=B core.pb.gz >core.top &&
	size=$(result "top --top 0" core.out | jq .bytes) &&
	grep -E "^ +${size}B +100% +100% +${size}B +100%  <before attach>\$" core.top &&
	gopprof -tags core.pb.gz >core.tags && grep size_class core.tags
'

test_expect_success 'an existing file is refused without --force and kept; --force replaces it, mode 0644 under umask 077' '
	echo old >old && chmod 600 old &&
	test_expect_code 1 "$MLYZE" core fx-alloc.core -e "export folded old" >out 2>err &&
	echo "error: '"'"'old'"'"' exists already; --force replaces it" >expect &&
	test_cmp expect err && echo old >expect && test_cmp expect old &&
	(umask 077 && "$MLYZE" core fx-alloc.core -e "export folded old --force" >out 2>err) &&
	test_must_be_empty err && grep "^wrote old (folded, " out &&
	test_cmp core.folded old && test "$(stat -c %a old)" = 644
'

test_expect_success 'a symbolic link is refused, with --force too; what it points at is untouched' '
	echo precious >target && ln -s target link &&
	test_expect_code 1 "$MLYZE" core fx-alloc.core -e "export pprof link" -e "export pprof link --force" >out 2>err &&
	cat >expect <<-\EOF &&
	error: '"'"'link'"'"' is a symbolic link; export does not write through one or replace it, even with --force
	error: '"'"'link'"'"' is a symbolic link; export does not write through one or replace it, even with --force
	EOF
	test_cmp expect err && echo precious >expect && test_cmp expect target && test -h link
'

test_expect_success 'a bad format, an unknown snapshot, a directory: clear errors, no file' '
	mkdir dir &&
	test_expect_code 1 "$MLYZE" core fx-alloc.core -e "export png x.png" -e "export folded x.folded nosuch" \
		-e "export folded x.folded a nosuch" -e "export folded dir --force" -e "export pprof" >out 2>err &&
	cat >expect <<-\EOF &&
	error: export: unknown format '"'"'png'"'"' (folded, pprof, svg, massif, svg-timeline or dot)
	error: no snapshot named '"'"'nosuch'"'"' (see '"'"'snapshots'"'"')
	error: no snapshot named '"'"'a'"'"' (see '"'"'snapshots'"'"')
	error: cannot write '"'"'dir'"'"': Is a directory
	EOF
	head -n 4 err >actual && test_cmp expect actual &&
	grep "^error: export: " err | tail -n 1 | grep "argument" &&
	! test -e x.png && ! test -e x.folded && test_must_be_empty out
'

# A filesystem already full: the export cannot be written.
test_lazy_prereq SMALL_TMPFS '
	test "$(id -u)" = 0 && mkdir probe && mount -t tmpfs -o size=1m tmpfs probe && umount probe
'

test_expect_success SMALL_TMPFS 'a full disk: the error says so and no partial file is left' '
	mkdir full && mount -t tmpfs -o size=64k tmpfs full &&
	{
		{ head -c 1m /dev/zero >full/filler 2>/dev/null; true; } &&
		test_expect_code 1 "$MLYZE" core fx-alloc.core -e "export pprof full/p.pb.gz" >out 2>err &&
		echo "error: cannot write '"'"'full/p.pb.gz'"'"': No space left on device" >expect &&
		test_cmp expect err &&
		ls -A full >left && echo filler >expect && test_cmp expect left
	}
	ret=$?
	umount full
	return $ret
'

test_done
