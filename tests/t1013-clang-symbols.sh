#!/bin/bash
# A program built by clang with its defaults has no .debug_aranges, the table through which libdw
# finds the compile unit of an address; mlyze then finds it from each CU's own ranges. Functions,
# file:line and inlined frames must be what addr2line (binutils, which reads the CUs itself) and
# gdb give for the same PCs, and the lines the fixtures mark.

test_description='clang-built programs: file:line and inlined frames without .debug_aranges'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq CLANG_FIXTURES 'test -x "$FIXTURES/fx-cxx-clang" && test -x "$FIXTURES/fx-inline-alloc-clang"'
test_lazy_prereq ADDR2LINE 'command -v addr2line'

cxx=$FIXTURES/fx-cxx.cc
mark () { grep -n "MARK:$1\$" "$cxx" | cut -d: -f1; }

# frames MODULE JSONFILE JQPATH: "function file:line" of each frame of MODULE at JQPATH, one a line
frames () {
	jq -r ".result$3[] | select(.module == \"$1\") | \"\(.function) \(.file):\(.line)\"" "$2"
}

# oracle BIN BASE MODULE JSONFILE JQPATH: the same from addr2line -i, for each PC of MODULE's frames
# at JQPATH (once per PC: inlined frames share theirs), BASE being where the kernel mapped BIN's
# first page (a PIE's file addresses start there). Every such frame here holds a return address,
# looked up at the call (pc - 1). No line ("??:?" or "??:0") is what mlyze shows as null:null.
oracle () {
	jq -r ".result$5[] | select(.module == \"$3\") | .pc" "$4" | uniq |
	while read -r pc; do
		printf "0x%x\n" $((pc - $2 - 1))
	done >pcs &&
	test -s pcs &&
	addr2line -i -f -C -e "$1" $(cat pcs) | sed "s/ (discriminator [0-9]*)\$//; s/^??:[0?]\$/null:null/" |
		paste -d" " - -
}

# base FILE: the start of the first mapping, at file offset 0, of FILE in /proc/PID/maps text on stdin
base () {
	awk -v f="$1" '$6 == f && $3 == "00000000" { print "0x" substr($1, 1, index($1, "-") - 1); exit }'
}

test_expect_success CLANG_FIXTURES 'the clang fixtures have no .debug_aranges, but line tables' '
	for f in fx-cxx-clang fx-inline-alloc-clang fx-types-locals-clang fx-types-locals-clang-O0; do
		readelf -S "$FIXTURES/$f" >sections &&
		! grep -q "\.debug_aranges" sections &&
		grep -q "\.debug_line " sections || return 1
	done
'

test_expect_success CLANG_FIXTURES 'start fx-cxx-clang' '
	fixture_start fx-cxx-clang "$TRASH/truth.json" && echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)

test_expect_success CLANG_FIXTURES 'bt: the inlined body, the method it is inlined in, main, at the marked lines' '
	"$MLYZE" attach $pid -e "bt --json" >bt &&
	jq -c ".result.threads[0].frames[] | select(.module == \"fx-cxx-clang\" and .file != null) |
		{function, file, line, inlined: (.inlined // false)}" bt >actual &&
	cat >expect <<-EOF &&
	{"function":"fx::Waiter<long>::block()","file":"$cxx","line":$(mark pause),"inlined":true}
	{"function":"fx::Waiter<long>::wait(int)","file":"$cxx","line":$(mark block),"inlined":false}
	{"function":"main","file":"$cxx","line":$(mark wait),"inlined":false}
	EOF
	test_cmp expect actual
'

test_expect_success CLANG_FIXTURES,ADDR2LINE 'bt: addr2line -i gives the same frames for the same PCs' '
	b=$(base "$FIXTURES/fx-cxx-clang" </proc/$pid/maps) && test -n "$b" &&
	oracle "$FIXTURES/fx-cxx-clang" $b fx-cxx-clang bt ".threads[0].frames" >expect &&
	frames fx-cxx-clang bt ".threads[0].frames" >actual &&
	test "$(wc -l <actual)" = 4 &&
	test_cmp expect actual
'

test_expect_success CLANG_FIXTURES,GDB 'bt: gdb names the same functions at the same lines' '
	gdb -nx -batch -ex "set debuginfod enabled off" -p $pid -ex bt 2>/dev/null >gdb.out &&
	sed -n "s/^#[0-9]*  *\(0x[0-9a-f]* in \)\?\([^ ]*\) (.*) at \([^ ]*\):\([0-9]*\)\$/\2 \3:\4/p" gdb.out |
		grep "fx-cxx.cc" >expect &&
	jq -r ".result.threads[0].frames[] | select(.module == \"fx-cxx-clang\" and .file != null) |
		\"\(.function | sub(\"\\\\(.*\\\\)$\"; \"\")) \(.file | split(\"/\") | last):\(.line)\"" bt >actual &&
	test "$(wc -l <actual)" = 3 &&
	test_cmp expect actual
'

test_expect_success CLANG_FIXTURES,GCORE 'bt on a gcore of it: the same frames' '
	gcore -o "$TRASH/gcore" $pid >/dev/null 2>&1 && test -s gcore.$pid &&
	"$MLYZE" core gcore.$pid --json -e "bt --json" >core.bt 2>core.err &&
	frames fx-cxx-clang bt ".threads[0].frames" >expect &&
	frames fx-cxx-clang core.bt ".threads[0].frames" >actual &&
	test "$(wc -l <actual)" = 4 &&
	test_cmp expect actual
'

test_expect_success CLANG_FIXTURES 'stop fx-cxx-clang' '
	fixture_stop $pid
'

inl=$FIXTURES/fx-inline-alloc.c
test_expect_success CLANG_FIXTURES 'top: the always_inline allocator, 3 blocks of 200 bytes at its malloc line' '
	"$MLYZE" run --json -e maps -e wait -e "top --top 0" -e "top --by stack --top 0" -- \
		"$FIXTURES/fx-inline-alloc-clang" "$TRASH/inl.json" >run.all 2>run.err &&
	grep "^{" run.all >run &&
	result "top --top 0" run | jq -c ".groups[] | select(.function == \"grab\") |
		{function, file, line, blocks, bytes}" >actual &&
	echo "{\"function\":\"grab\",\"file\":\"$inl\",\"line\":$(grep -n "return malloc(n);" "$inl" | cut -d: -f1),\"blocks\":3,\"bytes\":600}" >expect &&
	test_cmp expect actual
'

test_expect_success CLANG_FIXTURES 'top --by stack: grab inlined into fx_fill at its call site, then main' '
	jq "select(.command == \"top --by stack --top 0\") | .result.groups |= map(select(.function == \"grab\"))" \
		run >stack &&
	frames fx-inline-alloc-clang stack ".groups[0].stack" >actual &&
	cat >expect <<-EOF &&
	grab $inl:$(grep -n "return malloc(n);" "$inl" | cut -d: -f1)
	fx_fill $inl:$(grep -n "kept\[i\] = grab(200);" "$inl" | cut -d: -f1)
	main $inl:$(grep -n "^	fx_fill();" "$inl" | cut -d: -f1)
	_start null:null
	EOF
	test_cmp expect actual
'

test_expect_success CLANG_FIXTURES,ADDR2LINE 'top --by stack: addr2line -i gives the same frames for the same PCs' '
	b=$(result maps run | jq -r --arg f "$FIXTURES/fx-inline-alloc-clang" \
		"first(.maps[] | select(.path == \$f and .offset == \"0x0\")) | .start") &&
	test -n "$b" &&
	oracle "$FIXTURES/fx-inline-alloc-clang" $b fx-inline-alloc-clang stack ".groups[0].stack" >expect &&
	frames fx-inline-alloc-clang stack ".groups[0].stack" >actual &&
	test "$(wc -l <actual)" = 4 &&
	test_cmp expect actual
'

test_done
