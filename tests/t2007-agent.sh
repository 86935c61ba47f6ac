#!/bin/bash
# Agent mode: the same exact figures and the same stacks as breakpoint tracing, with no trap per
# call; storms lose nothing; detach, SIGTERM and SIGKILL of mlyze mid-storm leave the process to
# finish with intact data and its code byte-identical; fork children run without the hooks.

test_description='agent mode: exact, same stacks as breakpoints, safe on every way out'
. "$(dirname "$0")/lib/test-lib.sh"

# step N: signal fx-alloc and wait until it printed its line for step N
step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step$1" 5
}

# traced_alloc OUT [OPTION]: fx-alloc's three steps traced; OUT gets the JSON results
traced_alloc () {
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	{ "$MLYZE" attach $apid --json $2 -e "snapshot a" -e "sleep 1.2" -e "snapshot b" -e "sleep 1.2" \
		-e "snapshot c" -e "sleep 1.5" -e stats -e "compare a b --by function --top 0" \
		-e "top --by stack --top 0" >"$1" 2>"$1.err" & } && mpid=$! &&
	sleep 0.5 && step 1 && sleep 1.2 && step 2 && sleep 1.2 && step 3 &&
	wait $mpid && { wait $apid; code=$?; } && test "$code" = 0 &&
	printf "%s\n" ready "step1 misaligned=0" step2 step3 >expect.out && test_cmp expect.out fx-alloc.out
}

# codesum PID: a checksum of every executable file mapping of PID, as read now
codesum () {
	grep " r-xp .* /" /proc/$1/maps | while read -r range perms off dev inode path; do
		s=$((16#${range%-*})) e=$((16#${range#*-}))
		echo "$path $(dd if=/proc/$1/mem bs=4096 skip=$((s / 4096)) count=$(((e - s) / 4096)) 2>/dev/null | md5sum)"
	done
}

test_expect_success 'fx-alloc with --agent: every function exact, every entry point counted, nothing lost' '
	traced_alloc agent.out --agent &&
	result stats agent.out | jq -e ".mode == \"agent\" and .traps == 0 and .lost == 0 and .stacks_cut == 0 and
		.unwound_by_mlyze == 0 and .unwind_table_bytes > 100000 and .install_stopped_ms > 0 and
		.unknown_frees == 0 and .replaced == 0 and .abandoned == 0 and .failed == 0" &&
	result stats agent.out | jq -e ".events | .calloc == 5 and .realloc == 6 and .reallocarray == 1 and
		.posix_memalign == 1 and .valloc == 1 and .pvalloc == 1" &&
	result "compare a b --by function --top 0" agent.out |
		jq -c ".groups[] | select(.function != \"<before attach>\") | [.function, .blocks, .bytes]" >actual &&
	fx_alloc_step1_groups >expect &&
	test_cmp expect actual &&
	grep -x "mlyze: process $apid is exiting: took snapshot '"'"'exit'"'"' (12 live blocks)" agent.out.err
'

# frames FILE: each stack of `top --by stack` as its frames (function, file, line), sorted
frames () {
	result "top --by stack --top 0" "$1" |
		jq -c ".groups[] | select(.stack) | [.bytes, .blocks, [.stack[] | [.function, .file, .line]]]" | sort
}

test_expect_success 'the same stacks as breakpoint tracing, frame for frame, with file:line' '
	traced_alloc bp.out --breakpoints &&
	result stats bp.out | jq -e ".mode == \"breakpoints\" and .traps > 0" &&
	frames bp.out >expect && frames agent.out >actual &&
	test $(wc -l <actual) -ge 8 &&
	test_cmp expect actual &&
	result stats bp.out | jq -c .events >expect && result stats agent.out | jq -c .events >actual &&
	test_cmp expect actual
'

test_expect_success 'four threads allocating at once: every block counted, per thread function' '
	fixture_start fx-mt-alloc "$TRASH/mt.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --agent --json -e "sleep 0" -e "sleep 1.5" -e "top --by function --top 0" -e stats -e quit >out 2>err & } &&
	mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-mt-alloc.out "^done" &&
	wait $mpid &&
	result "top --by function --top 0" | jq -c ".groups[] | select(.function | startswith(\"fx_work\")) | [.function, .blocks, .bytes]" >actual &&
	cat >expect <<-\EOF &&
	["fx_work_d",400,25600]
	["fx_work_c",300,14400]
	["fx_work_b",200,6400]
	["fx_work_a",100,1600]
	EOF
	test_cmp expect actual &&
	result stats | jq -e ".events.malloc == 2000 and .lost == 0 and .replaced == 0 and .abandoned == 0" &&
	kill -USR1 $pid && wait $pid
'

test_expect_success '8 threads x 20000 malloc/free pairs: the live set is what the fixture holds' '
	fixture_start fx-stress "$TRASH/st.json" 8 20000 && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --agent --json -e "sleep 0" -e "wait 240" -e "top --by function --top 0" -e stats >out 2>err & } &&
	mpid=$! && attached out && kill -USR1 $pid &&
	wait_for_line fx-stress.out "^done" 240 && kill -USR1 $pid && wait $mpid &&
	test "$(jq .bad st.json.done)" = 0 &&
	result "top --by function --top 0" | jq -c ".groups[] | select(.function == \"fx_stress_worker\") | [.blocks, .bytes]" >actual &&
	jq -c "[.blocks, .bytes]" st.json.done >expect &&
	test_cmp expect actual &&
	result stats | jq -e ".events.malloc == $(jq .mallocs st.json.done) and .lost == 0 and .replaced == 0"
'

# storm_then ACTION: a long 8-thread storm traced by the agent, then ACTION (which ends mlyze);
# the fixture must finish untraced with intact data, its code as it was before attach.
storm_then () {
	fixture_start fx-stress "$TRASH/st.json" 8 300000 && pid=$FIXTURE_PID &&
	rm -f st.json.done && codesum $pid >code.before &&
	{ "$MLYZE" attach $pid --agent --json -e "sleep 0" -e "info" -e "sleep 1.5" -e detach -e "sleep 30" >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && sleep 0.8 &&
	area=$(jq -r "select(.command == \"info\") | .result.tracing.scratch" out) &&
	test -n "$area" && grep -q "^${area#0x}-" /proc/$pid/maps &&
	"$@" &&
	codesum $pid >code.after && test_cmp code.before code.after &&
	wait_for_line fx-stress.out "^done" 120 &&
	test "$(jq .bad st.json.done)" = 0 &&
	test_path_is_sleeping $pid &&
	kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 0
}

detach_now () { wait $mpid; }
test_expect_success 'detach mid-storm: entries restored, the threads inside finish, the agent unmapped' '
	storm_then detach_now &&
	! grep -q "^${area#0x}-" /proc/$pid/maps 2>/dev/null
'

term_now () { kill -TERM $mpid; { wait $mpid; code=$?; }; test $code = 143; }
test_expect_success 'SIGTERM to mlyze mid-storm: same' '
	storm_then term_now
'

# After SIGKILL the hooks and the agent stay: its ring fills, it drops, the program runs on unharmed.
# mlyze is killed once the agent is in (its first answer): during the injection itself, a thread's
# registers are borrowed for a few milliseconds, the window the README and man page name.
kill_now () {
	kill -KILL $mpid; wait $mpid
	wait_for_line fx-stress.out "^done" 120 &&
	test "$(jq .bad st.json.done)" = 0 &&
	kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 0
}
test_expect_success 'SIGKILL of mlyze mid-storm, 20 times: the program ends with its data and status' '
	for i in $(seq 20); do
		fixture_start fx-stress "$TRASH/st.json" 8 100000 && pid=$FIXTURE_PID && rm -f st.json.done &&
		{ "$MLYZE" attach $pid --agent --json -e info -e "sleep 30" >out 2>err & } && mpid=$! &&
		test_poll_ 30 grep -q "\"command\": \"info\"" out &&
		kill -USR1 $pid && sleep 0.$((i % 9 + 1)) && kill_now || return 1
	done
'

test_expect_success 'a fork storm from four threads: no child writes into the parent'"'"'s records' '
	fixture_start fx-forkstorm "$TRASH/fs.json" && pid=$FIXTURE_PID &&
	mlz_start $pid --json && mlz info && kill -USR1 $pid &&
	wait_for_line fx-forkstorm.out "^done" 120 && grep -x "done bad=0" fx-forkstorm.out &&
	mlz "top --by function --top 0" && mlz stats && mlz_end && kill -USR1 $pid &&
	result "top --by function --top 0" | jq -c ".groups[] | select(.function == \"fx_fork_worker\") | [.blocks, .bytes]" >actual &&
	echo "[400,19200]" >expect && test_cmp expect actual &&
	result stats | jq -e ".mode == \"agent\" and .events.malloc == 400 and .lost == 0 and .unknown_frees == 0"
'

test_expect_success 'fork, vfork and posix_spawn children: the same output, the parent counted exactly' '
	fixture_start fx-fork "$TRASH/f.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --agent --json -e "sleep 0" -e "sleep 1.5" -e "top --top 0" -e "stats" >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-fork.out "^fork=" &&
	wait $mpid && kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 0 &&
	printf "%s\n" ready "fork=11 vfork=13 spawn=13" >expect && test_cmp expect fx-fork.out &&
	result "top --top 0" | jq -e ".groups | map(select(.function != \"<before attach>\")) | map([.bytes, .blocks]) == [[222, 1], [111, 1]]" &&
	result stats | jq -e ".unknown_frees == 0 and .mode == \"agent\""
'

test_expect_success 'exec: the new program gets the agent again, and mlyze says so' '
	fixture_start fx-exec "$TRASH/e.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --agent --json -e "sleep 0" -e "sleep 1.5" -e "top --by function --top 0" -e stats >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-exec.out "^after exec" &&
	wait $mpid && kill -USR1 $pid && wait $pid &&
	grep -x "mlyze: allocation tracing resumed in the new program (allocator in libc.so.6)" err &&
	result "top --by function --top 0" | jq -c ".groups[] | select(.function == \"fx_after_exec\") | [.blocks, .bytes]" >actual &&
	echo "[6,420]" >expect && test_cmp expect actual &&
	result stats | jq -e ".mode == \"agent\""
'

test_expect_success 'run --agent: traced from the start, leaks by site equal to breakpoint tracing' '
	"$MLYZE" run --agent --json -e "sleep 3" -e leaks -e "leaks --by site --show definite,indirect,possible" -e stats \
		-e detach -- "$FIXTURES/fx-graph" "$TRASH/g.json" >out 2>err &
	mpid=$! &&
	test_poll_ 10 test -s "$TRASH/g.json" && sleep 3.5 &&
	kill -USR1 $(jq .pid "$TRASH/g.json") && wait $mpid &&
	grep "^{" out >out.json && mv out.json out &&
	result stats | jq -e ".mode == \"agent\" and .lost == 0" &&
	result leaks | jq -c "[.definitely_lost.bytes, .indirectly_lost.bytes, .possibly_lost.bytes]" >actual &&
	echo "[200176,216,64]" >expect && test_cmp expect actual &&
	result "leaks --by site --show definite,indirect,possible" | jq -c "[.groups[] | [.class, .function, .blocks, .bytes]]" >actual &&
	echo "[[\"definitely lost\",\"make_pool\",1,200000],[\"definitely lost\",\"cluster\",2,128],[\"definitely lost\",\"drop_cycle\",1,48],[\"indirectly lost\",\"cluster\",4,128],[\"indirectly lost\",\"drop_cycle\",1,48],[\"indirectly lost\",\"make_pool\",1,40],[\"possibly lost\",\"make_interior\",1,64]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'a library loaded after attach allocates: its stacks unwound, the tables made again' '
	fixture_start fx-late "$TRASH/late.json" "$FIXTURES/libfx-late.so" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --agent --json -e "sleep 0" -e "sleep 1.5" -e "top --by function --top 0" -e stats \
		-e "sleep 0.5" -e "stats" >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-late.out "^late" && wait $mpid &&
	result "top --by function --top 0" | jq -c ".groups[] | select(.function == \"fx_late_alloc\") | [.blocks, .bytes, .module]" >actual &&
	echo "[3,231,\"libfx-late.so\"]" >expect && test_cmp expect actual &&
	jq -s -e "map(select(.command == \"stats\"))[0].result | .unwound_by_mlyze >= 1 and .unwound_by_mlyze <= 3 and .lost == 0" out &&
	kill $pid
'

test_expect_success 'a seccomp filter that kills mmap: no agent, and why; the process lives on' '
	rm -f "$TRASH/in" && mkfifo "$TRASH/in" &&
	fixture_start fx-seccomp kill-mmap "$TRASH/sc.json" "$TRASH/in" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --agent --json -e "bt" >out 2>err &&
	echo "mlyze: allocation tracing is off: process $pid'"'"'s seccomp filter kills mmap: tracing needs it; heap walks, stacks and cores still work (as with --no-trace)" >expect &&
	test_cmp expect err &&
	result bt | jq -e ".threads[0].frames | map(.function) | index(\"main\") != null" &&
	echo ping >"$TRASH/in" && test_poll_ 5 grep -qx pong "$TRASH/fx-seccomp.out" &&
	echo exit >"$TRASH/in" && { wait $pid; code=$?; } && test "$code" = 0
'

test_expect_success '--agent and --breakpoints trace a process, not a core, not with --no-trace, not both' '
	test_expect_code 64 "$MLYZE" --agent core nothing 2>err &&
	grep "agent and --breakpoints trace a process (attach or run), without --no-trace" err &&
	test_expect_code 64 "$MLYZE" --breakpoints --no-trace attach 1 2>err &&
	test_expect_code 64 "$MLYZE" --agent --breakpoints attach 1 2>err &&
	grep "one way of tracing, not both" err
'

test_done
