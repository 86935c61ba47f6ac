#!/bin/bash
# leaks: memcheck's classes on a paused process with a known graph, against valgrind memcheck run
# on the same program to its exit (where the blocks held only by main's frame and by its register
# are lost too: the expected differences), live, traced from the start, and from a core; and the
# glibc internals a leak report must not count (a heap's fencepost, an exited thread's dtv).

test_description='leaks: definitely, indirectly, possibly lost'
. "$(dirname "$0")/lib/test-lib.sh"

counts () { result leaks "$1" | jq -c "[.definitely_lost.blocks, .indirectly_lost.blocks, .possibly_lost.blocks]"; }
test_lazy_prereq VALGRIND 'valgrind --version >/dev/null 2>&1'

test_expect_success 'attached after the fact: 4 definitely, 6 indirectly, 1 possibly lost' '
	fixture_start fx-graph "$TRASH/g.json" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --json -e leaks >out 2>err &&
	test_must_be_empty err &&
	echo "[4,6,1]" >expect && counts out >actual && test_cmp expect actual &&
	result leaks | jq -e ".reachable.blocks >= 6 and .blocks == .reachable.blocks + 11"
'

test_expect_success 'path: from a global, a stack frame, TLS, a register, an interior pointer (addresses from gdb)' '
	gdb -nx -batch -p $pid -ex "printf \"N %p\\n\", g_list->next->next" 2>/dev/null | sed -n "s/^N //p" >n1 &&
	n1=$(cat n1) &&
	"$MLYZE" attach $pid --json -e "path $n1" -e "path $(jq -r .stack "$TRASH/g.json")" \
		-e "path $(jq -r .tls "$TRASH/g.json")" -e "path $(( $(jq -r .interior "$TRASH/g.json") + 30 ))" \
		-e "path $(jq -r .register "$TRASH/g.json")" -e "path $(jq -r .pooled "$TRASH/g.json")" \
		-e "refs $(jq -r .list "$TRASH/g.json")" -e "backrefs $n1 --depth 3 --dot $TRASH/b.dot" >out4 2>err &&
	test_must_be_empty err &&
	result "path $n1" out4 | jq -c "[.chain[] | [.kind, .symbol, .module, .offset]]" >actual &&
	echo "[[\"global\",\"g_list\",\"fx-graph\",0],[\"block\",null,null,0],[\"block\",null,null,0],[\"block\",null,null,null]]" >expect.path &&
	test_cmp expect.path actual &&
	result "path $n1" out4 | jq -e --arg a "$n1" ".chain[3].address == \$a and .chain[1].address == \"$(jq -r .list "$TRASH/g.json")\"" &&
	result "path $(jq -r .stack "$TRASH/g.json")" out4 | jq -e ".chain[0] | .kind == \"stack\" and .function == \"main\" and
		(.file | endswith(\"fx-graph.c\")) and .thread == $pid" &&
	result "path $(jq -r .tls "$TRASH/g.json")" out4 | jq -e ".chain[0] | .kind == \"tls\" and .thread == $pid" &&
	result "path $(jq -r .register "$TRASH/g.json")" out4 | jq -c "del(.ms, .graph)" >reg.path &&
	jq -e "(.chain | length == 2) and (.chain[0] | .kind == \"register\" and .register == \"r12\" and .thread == $pid)" reg.path &&
	result "path $(jq -r .pooled "$TRASH/g.json")" out4 | jq -e "(.chain | length == 2) and (.chain[0].kind | IN(\"mapping\", \"tls\"))" &&
	result "path $(( $(jq -r .interior "$TRASH/g.json") + 30 ))" out4 | jq -e ".chain[0] | .kind == \"global\" and
		.symbol == \"g_interior\" and .interior" &&
	result "refs $(jq -r .list "$TRASH/g.json")" out4 | jq -e ".refs | length == 1 and .[0].offset == 0 and .[0].interior == false" &&
	result "backrefs $n1 --depth 3 --dot $TRASH/b.dot" out4 | jq -e "[.referrers[] | select(.from.symbol == \"g_list\") | .depth] == [3]" &&
	grep -q "^digraph backrefs" b.dot &&
	"$MLYZE" attach $pid --json -e "show $(jq -r .list "$TRASH/g.json")" >out5 2>err &&
	result "show $(jq -r .list "$TRASH/g.json")" out5 | jq -e ".class == \"reachable\" and
		([.referrers[] | select(.kind == \"global\") | .symbol] == [\"g_list\"]) and
		(.references | length == 1 and .[0].kind == \"block\" and .[0].interior == false)"
'

test_expect_success 'the same from a core of the paused process' '
	gcore -o "$TRASH/g" $pid >/dev/null 2>&1 &&
	"$MLYZE" core g.$pid --json -e leaks -e "path $n1" -e "path $(jq -r .register "$TRASH/g.json")" >out2 2>err &&
	counts out2 >actual && test_cmp expect actual &&
	result "path $n1" out2 | jq -c "[.chain[] | [.kind, .symbol, .module, .offset]]" >actual &&
	test_cmp expect.path actual &&
	result "path $(jq -r .register "$TRASH/g.json")" out2 | jq -c "del(.ms, .graph)" >actual && test_cmp reg.path actual &&
	fixture_stop $pid
'

# Damaging a core: a little-endian u64 at an offset, read and written with od and dd.
u64_at () { echo $(( 0x$(od -An -t x8 -j "$2" -N 8 "$1" | tr -d " ") )); }
put_u64 () {
	local b= i
	for i in 0 1 2 3 4 5 6 7; do b=$b$(printf '\\x%02x' $(( ($3 >> (8 * i)) & 255 ))); done
	printf "$b" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# The offset of each PT_LOAD's program header in CORE.
loads_of () {
	local phoff phnum i o
	phoff=$(u64_at "$1" 32) phnum=$(( 0x$(od -An -t x2 -j 56 -N 2 "$1" | tr -d " ") ))
	for ((i = 0; i < phnum; i++)); do
		o=$((phoff + 56 * i))
		test $(( 0x$(od -An -t x4 -j $o -N 4 "$1" | tr -d " ") )) = 1 && echo $o
	done
}
# The offset of the first thread's registers (pr_reg in NT_PRSTATUS: namesz 5, descsz 336, type 1).
regs_of () {
	echo $(( $(LC_ALL=C grep -obUaP "\x05\x00\x00\x00\x50\x01\x00\x00\x01\x00\x00\x00CORE\x00" "$1" |
		head -n1 | cut -d: -f1) + 20 + 112 ))
}

test_expect_success 'a damaged core answers at once: a stack segment of 2^44 bytes, one that wraps, bogus stack and TLS pointers' '
	r=$(regs_of g.$pid) && rsp=$(u64_at g.$pid $((r + 8 * 19))) &&
	cp g.$pid huge && for o in $(loads_of huge); do
		v=$(u64_at huge $((o + 16))) m=$(u64_at huge $((o + 40))) &&
		if (( rsp >= v && rsp - v < m )); then put_u64 huge $((o + 40)) 0x100000000000; fi || return 1
	done &&
	"$MLYZE" core huge --json -e leaks >out7 2>err &&
	counts out7 >actual && test_cmp expect actual &&
	cp huge wraps && for o in $(loads_of wraps); do
		v=$(u64_at wraps $((o + 16))) m=$(u64_at wraps $((o + 40))) &&
		if (( m == 0x100000000000 )); then put_u64 wraps $((o + 40)) $(( -v + 4096 )); fi || return 1
	done &&
	"$MLYZE" core wraps --json -e leaks >out7w 2>err &&
	counts out7w >actual && test_cmp expect actual &&
	cp g.$pid bogus && put_u64 bogus $((r + 8 * 19)) -1 && put_u64 bogus $((r + 8 * 21)) 0x7ffffffff000 &&
	"$MLYZE" core bogus --json -e leaks >out8 2>err &&
	result leaks out8 | jq -e ".blocks >= $(result leaks out7 | jq .blocks)"
'

test_expect_success 'a damaged core whose mapped files and segments all span 2^44 bytes ends too' '
	cp g.$pid spans &&
	f=$(( $(LC_ALL=C grep -obUaP "\x05\x00\x00\x00[\x00-\xff]{4}\x45\x4c\x49\x46CORE\x00" spans |
		head -n1 | cut -d: -f1) + 20 )) && n=$(u64_at spans $f) && test $n -gt 3 &&
	for ((i = 0; i < n; i++)); do
		put_u64 spans $((f + 16 + 24 * i + 8)) $(( $(u64_at spans $((f + 16 + 24 * i))) + 0x100000000000 )) || return 1
	done &&
	for o in $(loads_of spans); do put_u64 spans $((o + 40)) 0x100000000000 || return 1; done &&
	"$MLYZE" core spans --json -e leaks >out9 2>err &&
	result leaks out9 | jq -e ".blocks >= 0"
'

test_expect_success 'traced from the start (run): requested sizes, grouped by allocation site' '
	"$MLYZE" run --json -e "sleep 3" -e leaks -e "leaks --by site --show definite,indirect,possible" -e detach \
		-- "$FIXTURES/fx-graph" "$TRASH/r.json" >out3 2>err &
	mpid=$! &&
	test_poll_ 10 test -s "$TRASH/r.json" && sleep 3.5 &&
	kill -USR1 $(jq .pid "$TRASH/r.json") && wait $mpid &&
	grep "^{" out3 >out3.json && mv out3.json out3 &&
	counts out3 >actual && test_cmp expect actual &&
	result leaks out3 | jq -c "[.definitely_lost.bytes, .indirectly_lost.bytes, .possibly_lost.bytes]" >actual &&
	echo "[200176,216,64]" >expect.bytes && test_cmp expect.bytes actual &&
	result "leaks --by site --show definite,indirect,possible" out3 |
		jq -c "[.groups[] | [.class, .function, .blocks, .bytes]]" >actual &&
	echo "[[\"definitely lost\",\"make_pool\",1,200000],[\"definitely lost\",\"cluster\",2,128],[\"definitely lost\",\"drop_cycle\",1,48],[\"indirectly lost\",\"cluster\",4,128],[\"indirectly lost\",\"drop_cycle\",1,48],[\"indirectly lost\",\"make_pool\",1,40],[\"possibly lost\",\"make_interior\",1,64]]" >expect.groups &&
	test_cmp expect.groups actual
'

# dump_traced HOW: fx-graph traced from the start (run, HOW the tracing), /proc/PID/maps taken once
# it is ready (mlyze's areas are mapped from the start), then leaks, dump, info; then the same
# process untraced (--no-trace attach) once mlyze has left, for usable sizes like the core's.
dump_traced () {
	rm -f "$TRASH/d.json" "$TRASH/d.core" &&
	{ "$MLYZE" $1 run --json -e "sleep 3" -e leaks -e "dump $TRASH/d.core" -e info -e detach \
		-- "$FIXTURES/fx-graph" "$TRASH/d.json" >dout 2>derr & } && mpid=$! &&
	test_poll_ 10 test -s "$TRASH/d.json" && dpid=$(jq .pid "$TRASH/d.json") &&
	cat /proc/$dpid/maps >dmaps &&
	wait $mpid && grep "^{" dout >dlive &&
	"$MLYZE" --no-trace attach $dpid --json -e leaks >dplain 2>err && test_must_be_empty err &&
	kill -USR1 $dpid &&
	"$MLYZE" core "$TRASH/d.core" "$FIXTURES/fx-graph" --json -e leaks >dcore 2>err && test_must_be_empty err
}
# figs FILE: [definitely, indirectly, possibly, reachable] as [blocks, bytes]
figs () { result leaks "$1" | jq -c "[.definitely_lost, .indirectly_lost, .possibly_lost, .reachable] | map([.blocks, .bytes])"; }
# covered ADDR: the core d.core has a PT_LOAD holding ADDR (hex, without 0x)
covered () {
	readelf -lW "$TRASH/d.core" | awk "\$1 == \"LOAD\" { print \$3, \$6 }" | {
		while read -r va sz; do
			test $((16#$1)) -ge $((va)) && test $((16#$1)) -lt $((va + sz)) && return 0
		done
		return 1
	}
}

# mlyze's areas (the agent's, the breakpoints' scratch) hold the last results of malloc and the
# recorded events: left in a core, they keep the lost blocks reachable there (all 19, before). The
# core must give the live figures: every class's blocks as the traced process gave them, and bytes
# (usable sizes in a core, requested ones for traced blocks live) as the same process untraced.
# Each mapping of mlyze's area, the one at the scratch address and the one right after it, has no
# segment in the core, while the program's mappings have theirs.
for how in --agent --breakpoints; do
test_expect_success "dump of a process traced from the start ($how): mlyze's areas left out, leaks as live" '
	dump_traced '$how' &&
	test_must_be_empty derr &&
	result info dlive | jq -e ".tracing.by == \"${how#--}\" and .tracing.scratch != null" &&
	figs dlive | jq -c "map(.[0])" >live.blocks && echo "[4,6,1,8]" >expect && test_cmp expect live.blocks &&
	figs dcore | jq -c "map(.[0])" >actual && test_cmp live.blocks actual &&
	figs dplain >plain && figs dcore >actual && test_cmp plain actual &&
	echo "[200888,256,72]" >expect && jq -c "map(.[1])[0:3]" actual >lost.bytes && test_cmp expect lost.bytes &&
	scratch=$(result info dlive | jq -r .tracing.scratch) && scratch=${scratch#0x} &&
	area_end=$(sed -n "s/^$scratch-\([0-9a-f]*\) .*/\1/p" dmaps) && test -n "$area_end" &&
	grep "^$area_end-" dmaps &&
	! covered $scratch && ! covered $area_end &&
	heap=$(sed -n "s/-.*\[heap\]$//p" dmaps) && covered $heap &&
	stack=$(sed -n "s/-.*\[stack\]$//p" dmaps) && covered $stack
'
done

test_expect_success VALGRIND 'valgrind memcheck agrees (plus the blocks main held, lost once main returns)' '
	valgrind --leak-check=full "$FIXTURES/fx-graph" "$TRASH/v.json" >v.out 2>v.err &
	vpid=$! &&
	test_poll_ 60 test -s "$TRASH/v.json" &&
	kill -USR1 $(jq .pid "$TRASH/v.json") && wait $vpid &&
	lost () { sed -n "s/.*$1: [0-9,]* bytes in \([0-9,]*\) blocks.*/\1/p" v.err | tr -d ,; } &&
	echo "[$(( $(lost "definitely lost") - 2 )),$(lost "indirectly lost"),$(lost "possibly lost")]" >actual &&
	echo "[4,6,1]" >expect && test_cmp expect actual &&
	lostb () { sed -n "s/.*$1: \([0-9,]*\) bytes in.*/\1/p" v.err | tr -d ,; } &&
	echo "[$(( $(lostb "definitely lost") - 80 - 40 )),$(lostb "indirectly lost"),$(lostb "possibly lost")]" >actual &&
	test_cmp expect.bytes actual
'

test_expect_success 'a heap fencepost and an exited thread'"'"'s dtv are the allocator'"'"'s, not leaks' '
	fixture_start fx-fence "$TRASH/f.json" && pid=$FIXTURE_PID &&
	dtv=$(jq .dtv "$TRASH/f.json") &&
	"$MLYZE" attach $pid --json -e heap -e leaks -e "show $(jq .fence "$TRASH/f.json")" -e "path $dtv" >out6 2>err &&
	test_must_be_empty err &&
	result heap out6 | jq -e ".allocator.chunks == 2 and .allocator.bytes == 656 + 32" &&
	result "show $(jq .fence "$TRASH/f.json")" out6 | jq -e ".state == \"allocator\" and .chunk_size == 32" &&
	echo "[0,0,0]" >expect && counts out6 >actual && test_cmp expect actual &&
	result leaks out6 | jq -e ".reachable.blocks == $(jq .blocks "$TRASH/f.json") + 2" &&
	result "path $dtv" out6 | jq -e --arg a "$(printf "0x%x" $(( $(jq .tcb "$TRASH/f.json") + 8 )))" \
		"(.chain | length == 2) and (.chain[0] | .kind == \"mapping\" and .address == \$a)"'

test_done
