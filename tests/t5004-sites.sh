#!/usr/bin/env bash
# A site is the first frame past the allocator with a name: fx-stripped's make_lost calls malloc
# through two functions of libfx-stripped.so, a library stripped of every code symbol, so the
# site is make_lost, not the library's code; a thread whose stack has no name outside libc keeps
# its site at the first frame past malloc, named by module and offset. Offsets are checked against
# nm on the library before strip, the stacks against valgrind memcheck's, and every text output
# names the module of a frame that has no file:line.

test_description='sites skip frames without names; frames without file:line name their module'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq VALGRIND 'valgrind --version >/dev/null 2>&1'

lib=libfx-stripped.so

# in_fn FUNCTION OFFSET: OFFSET (0x...) lies in FUNCTION of the unstripped build, by nm's address and size
in_fn () {
	local a s
	read -r a s < <(nm -S "$FIXTURES/libfx-stripped-full.so" | awk -v f="$1" '$4 == f {print $1, $2}') &&
	test -n "$a" && test $(($2)) -ge $((0x$a)) && test $(($2)) -lt $((0x$a + 0x$s))
}

test_expect_success 'the library really has no names for its code (nm)' '
	nm -S "$FIXTURES/libfx-stripped-full.so" | grep -E " t fxs_(inner|outer|thread)$" >syms &&
	test $(wc -l <syms) = 3 &&
	nm "$FIXTURES/$lib" 2>&1 | grep -x "nm: .*/$lib: no symbols" &&
	! nm -D --defined-only "$FIXTURES/$lib" | grep -q " T "
'

test_expect_success 'run fx-stripped held at its exit' '
	"$MLYZE" run --json -e wait -e "top --top 0" -e "top --by function --top 0" -e "top --by stack --top 0" \
		-e "top --filter $lib+0x*" -e "top --filter make_l*" \
		-e "blocks --limit 0" -e "leaks" -e "leaks --by site" -e "compare exit now --all" \
		-- "$FIXTURES/fx-stripped" "$TRASH/t.json" >all 2>err &&
	grep "^{" all >out &&
	jq -e .pid t.json
'

test_expect_success 'site and function: make_lost, with its exact blocks and bytes' '
	l=$(jq .lost_line t.json) &&
	result "top --top 0" | jq -c "[.groups[] | select(.function == \"make_lost\") | [.line, .blocks, .bytes]]" >actual &&
	echo "[[$l,$(jq .lost_blocks t.json),$(jq .lost_bytes t.json)]]" >expect &&
	test_cmp expect actual &&
	result "top --by function --top 0" | jq -c "[.groups[] | select(.function == \"make_lost\") | [.blocks, .bytes]]" >actual &&
	echo "[[$(jq .lost_blocks t.json),$(jq .lost_bytes t.json)]]" >expect &&
	test_cmp expect actual &&
	result "compare exit now --all" | jq -e "[.groups[] | select(.function == \"make_lost\")] | length == 1" &&
	result "blocks --limit 0" | jq -e "[.listed[] | select(.function == \"make_lost\")] | length == $(jq .lost_blocks t.json)"
'

test_expect_success 'no site names the library while a named frame lies further out' '
	result "top --top 0" | jq -e "[.groups[] | select(.module == \"$lib\")] | length == 1" &&
	result "top --by function --top 0" | jq -e "[.groups[] | select(.module == \"$lib\")] | length == 1"
'

test_expect_success 'a stack with no name outside libc: its first frame past malloc, by module and offset' '
	result "top --top 0" | jq -c "[.groups[] | select(.module == \"$lib\") | [.function, .file, .blocks, .bytes]]" >actual &&
	echo "[[null,null,$(jq .kept_blocks t.json),$(jq .kept_bytes t.json)]]" >expect &&
	test_cmp expect actual &&
	off=$(result "top --top 0" | jq -r ".groups[] | select(.module == \"$lib\") | .module_offset") &&
	in_fn fxs_inner "$off"
'

test_expect_success '--filter matches a site without a name by its module+offset, a named one by name' '
	result "top --filter $lib+0x*" | jq -c "[.groups[] | [.function, .module_offset, .blocks]]" >actual &&
	echo "[[null,\"$(result "top --top 0" | jq -r ".groups[] | select(.module == \"$lib\") | .module_offset")\",$(jq .kept_blocks t.json)]]" >expect &&
	test_cmp expect actual &&
	result "top --filter make_l*" | jq -c "[.groups[] | [.function, .blocks]]" >actual &&
	echo "[[\"make_lost\",$(jq .lost_blocks t.json)]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'stacks stay whole: the two nameless frames, at offsets nm puts in fxs_inner and fxs_outer' '
	result "top --by stack --top 0" | jq -c ".groups[] | select(.function == \"make_lost\") | .stack[1:4] |
		map([.function, .\"module\"])" >actual &&
	echo "[[null,\"$lib\"],[null,\"$lib\"],[\"make_lost\",\"fx-stripped\"]]" >expect &&
	test_cmp expect actual &&
	result "top --by stack --top 0" | jq -r ".groups[] | select(.function == \"make_lost\") | .stack[1, 2].module_offset" >offs &&
	in_fn fxs_inner "$(sed -n 1p offs)" && in_fn fxs_outer "$(sed -n 2p offs)"
'

test_expect_success 'leaks: the loss record is make_lost, by stack and by site' '
	l=$(jq .lost_line t.json) &&
	result leaks | jq -e ".groups | length == 1 and (.[0] | .function == \"make_lost\" and .line == $l and
		.blocks == $(jq .lost_blocks t.json) and .bytes == $(jq .lost_bytes t.json) and
		([.stack[].function][0:4] == [\"malloc\", null, null, \"make_lost\"]) and
		([.stack[1:3][] | .\"module\"] == [\"$lib\", \"$lib\"]))" &&
	result "leaks --by site" | jq -e ".groups[0] | .function == \"make_lost\" and .line == $l" &&
	site=$(result "leaks --by site" | jq .groups[0].site) &&
	result "top --top 0" | jq -e "[.groups[] | select(.function == \"make_lost\") | .id] == [$site]"
'

test_expect_success 'text: a frame with no name shows module+offset, one with no file its module' '
	"$MLYZE" run -e wait -e "top --top 0" -e "top --by stack --top 0" -e "blocks --limit 0" \
		-- "$FIXTURES/fx-stripped" "$TRASH/t2.json" >text 2>terr &&
	off=$(result "top --top 0" | jq -r ".groups[] | select(.module == \"$lib\") | .module_offset") &&
	grep -E "^ +[0-9]+ +7.3 KiB +5  $lib\+$off$" text &&
	grep -E "^ +#[12]  $lib\+0x[0-9a-f]+$" text >nameless &&
	test $(wc -l <nameless) = 4 &&
	grep -E "^ +#[0-9]+ +_start from fx-stripped$" text &&
	grep -E "^0x[0-9a-f]+ +1.5 KiB +[0-9]+ +[0-9]+ +[0-9.]+s  $lib\+$off$" text >kept &&
	test $(wc -l <kept) = $(jq .kept_blocks t2.json)
'

# Without ASLR (setarch -R) the same run puts the block at the same address, so a second run can show it.
test_expect_success 'show: the stack names the module of frames without file:line' '
	setarch -R "$MLYZE" run --json -e wait -e "blocks --limit 0" -- "$FIXTURES/fx-stripped" "$TRASH/s1.json" >s1 2>/dev/null &&
	addr=$(grep "^{" s1 | result "blocks --limit 0" /dev/stdin | jq -r "[.listed[] | select(.function == \"make_lost\")][0].address") &&
	setarch -R "$MLYZE" run -e wait -e "show $addr" -- "$FIXTURES/fx-stripped" "$TRASH/s2.json" >show.txt 2>/dev/null &&
	grep "^block $addr: 4000 bytes, site " show.txt &&
	grep -E "^  #[12]  $lib\+0x[0-9a-f]+$" show.txt >nameless && test $(wc -l <nameless) = 2 &&
	grep -E "^  #3  make_lost at fx-stripped.c:$(jq .lost_line s2.json)$" show.txt &&
	grep -E "^  #[0-9]+ +_start from fx-stripped$" show.txt
'

# valgrind memcheck's record of the same blocks: malloc, two frames it cannot name either, each
# "??? (in .../libfx-stripped.so)", then make_lost: the stack mlyze keeps whole.
test_expect_success VALGRIND 'memcheck sees the same stack: two nameless frames in the library, then make_lost' '
	valgrind --leak-check=full "$FIXTURES/fx-stripped" "$TRASH/v.json" >v.out 2>v.err &&
	sed "s/^==[0-9]*== \{0,1\}//" v.err | tr -d , >v.txt &&
	grep -A4 "$(jq .lost_bytes v.json) bytes in $(jq .lost_blocks v.json) blocks are definitely lost" v.txt >rec &&
	sed -n 2p rec | grep -E "^   at 0x[0-9A-F]+: malloc " &&
	sed -n "3,4p" rec | grep -cE "^   by 0x[0-9A-F]+: \?\?\? \(in .*/$lib\)$" >n && test "$(cat n)" = 2 &&
	sed -n 5p rec | grep -E "^   by 0x[0-9A-F]+: make_lost \(fx-stripped.c:$(jq .lost_line v.json)\)$"
'

test_done
