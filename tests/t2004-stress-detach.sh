#!/bin/bash
# Many threads allocating at once lose no event, and every way out of mlyze in the middle of such a
# storm (detach, SIGTERM, a crash) leaves the threads that were inside malloc to finish correctly.

test_description='allocation storms: no lost event, safe exits mid-storm'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success '8 threads x 20000 malloc/free pairs: the live set is what the fixture holds' '
	fixture_start fx-stress "$TRASH/st.json" 8 20000 && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "wait 240" -e "top --by function --top 0" -e stats >out 2>err & } &&
	mpid=$! && attached out && kill -USR1 $pid &&
	wait_for_line fx-stress.out "^done" 240 && kill -USR1 $pid && wait $mpid &&
	test "$(jq .bad st.json.done)" = 0 &&
	result "top --by function --top 0" | jq -c ".groups[] | select(.function == \"fx_stress_worker\") | [.blocks, .bytes]" >actual &&
	jq -c "[.blocks, .bytes]" st.json.done >expect &&
	test_cmp expect actual &&
	result stats | jq -e ".events.malloc == $(jq .mallocs st.json.done) and .replaced == 0 and .abandoned == 0"
'

# Four threads trapping without pause on two CPUs once kept mlyze in its event loop for minutes
# (and, counted as idle while resuming a thread, starved it): commands must still end on time.
test_expect_success 'a 4-thread storm: sleeps end on time, stats and detach answer' '
	fixture_start fx-stress "$TRASH/lat.json" 4 1000000000 && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "sleep 0.5" -e "sleep 1" -e "sleep 1" -e stats -e detach >out 2>err & } &&
	mpid=$! && attached out && kill -USR1 $pid && start=$(date +%s) &&
	for i in $(seq 300); do kill -0 $mpid 2>/dev/null || break; sleep 0.1; done &&
	took=$(( $(date +%s) - start )) && echo "took $took s" &&
	! kill -0 $mpid 2>/dev/null && wait $mpid &&
	test $took -le 20 &&
	result stats | jq -e ".events_total > 0" &&
	jq -e "select(.command == \"detach\") | .ok" out &&
	kill -0 $pid && kill -KILL $pid
'

# storm_then ACTION: start a long storm, attach, let it run traced, do ACTION (which ends mlyze),
# then check the fixture finishes untraced with intact data.
storm_then () {
	fixture_start fx-stress "$TRASH/st.json" 8 300000 && pid=$FIXTURE_PID &&
	rm -f st.json.done &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "info" -e "sleep 1.5" -e detach -e "sleep 30" >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && sleep 0.8 &&
	scratch=$(jq -r "select(.command == \"info\") | .result.tracing.scratch" out) &&
	test -n "$scratch" && grep -q "^${scratch#0x}-" /proc/$pid/maps &&
	"$@" &&
	wait_for_line fx-stress.out "^done" 120 &&
	test "$(jq .bad st.json.done)" = 0 &&
	test_path_is_sleeping $pid &&
	kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 0
}

detach_now () { wait $mpid; }
test_expect_success 'detach with threads inside malloc: they finish, scratch page unmapped' '
	storm_then detach_now &&
	! grep -q "^${scratch#0x}-" /proc/$pid/maps 2>/dev/null
'

term_now () { kill -TERM $mpid; { wait $mpid; code=$?; }; test $code = 143; }
test_expect_success 'SIGTERM to mlyze mid-storm: same' '
	storm_then term_now
'

crash_now () { kill -SEGV $mpid; { wait $mpid; code=$?; }; test $code -gt 128 && grep "fatal error in mlyze" err; }
test_expect_success 'a crash inside mlyze mid-storm: the emergency path restores the code' '
	storm_then crash_now
'

test_done
