#!/bin/bash
# mlyze never harms its target: output, exit status and signals are the same with and without it,
# and every way mlyze ends (detach, quit, EOF, SIGTERM, SIGHUP, SIGINT, a crash) lets the target run on.

test_description='detach and exit paths leave the target as it was'
. "$(dirname "$0")/lib/test-lib.sh"

TICKS=30
# expected USR1 USR2: the fixture's whole stdout for a run that received those signals
expected () {
	echo ready && seq 0 $((TICKS - 1)) | sed "s/^/tick /" && echo "usr1=$1 usr2=$2"
}

# start_ticker: fx-ticker with $TICKS ticks of 50 ms that exits with status 3
start_ticker () {
	fixture_start fx-ticker "$TRASH/truth.json" $TICKS 50 3 && tpid=$FIXTURE_PID
}

# finish_ticker USR1 USR2: the ticker ran to its end with the right output and status 3
finish_ticker () {
	local code=0
	wait $tpid || code=$?
	test "$code" = 3 || { echo "fx-ticker exited with $code" >&2; return 1; }
	expected $1 $2 >expect && test_cmp expect "$TRASH/fx-ticker.out"
}

test_expect_success 'without mlyze: the reference run' '
	start_ticker && finish_ticker 0 0
'

test_expect_success 'attached: signals reach the target unchanged, detach, it finishes the same' '
	TICKS=60 && start_ticker &&
	mlz_start $tpid --json && mlz info &&
	kill -USR1 $tpid && kill -USR2 $tpid && sleep 0.1 && kill -USR1 $tpid && sleep 0.1 &&
	mlz detach && mlz info && mlz_end &&
	result info out | tail -n1 | jq -e ".state == \"detached\"" &&
	finish_ticker 2 1 && TICKS=30
'

# The same signals sent while mlyze attaches and puts its agent in, at three moments. While a
# thread is held its signals wait, and a second SIGUSR1 sent before the first was taken merges
# with it, as under any stop (SIGSTOP, a debugger, a busy machine): one or two arrive. SIGUSR2,
# sent once, must arrive once: a signal mlyze kept during its calls and passed on from the wrong
# kind of stop was lost (the kernel ignores a signal given to a restart from an event stop).
test_expect_success 'signals sent while mlyze attaches: each arrives (two SIGUSR1 may merge)' '
	for d in 0 0.1 0.2; do
		start_ticker &&
		{ "$MLYZE" attach $tpid -e "sleep 0.6" -e detach >out 2>err & } &&
		sleep $d && kill -USR1 $tpid && kill -USR2 $tpid && sleep 0.1 && kill -USR1 $tpid &&
		wait $! && { wait $tpid; code=$?; } && test $code = 3 &&
		{ expected 1 1 >expect1 && expected 2 1 >expect2 &&
		  { test_cmp expect2 fx-ticker.out || test_cmp expect1 fx-ticker.out; }; } || return 1
	done
'

test_expect_success 'group-stop while attached: SIGSTOP stops it, commands still work, SIGCONT resumes' '
	start_ticker &&
	{ "$MLYZE" attach $tpid -e "sleep 0.5" -e "bt --json" -e "sleep 0.6" -e "bt --json" >out 2>err & } &&
	mpid=$! &&
	sleep 0.2 && kill -STOP $tpid &&
	sleep 0.5 && case $(proc_state $tpid) in [Tt]) ;; *) false ;; esac &&
	sleep 0.5 && kill -CONT $tpid &&
	wait $mpid &&
	test "$(jq -s "[.[] | select(.ok)] | length" out)" = 2 &&
	finish_ticker 0 0
'

test_expect_success 'detach while group-stopped: info says so, and it stays stopped until SIGCONT' '
	start_ticker &&
	kill -STOP $tpid && sleep 0.1 &&
	"$MLYZE" attach $tpid -e info -e detach >out 2>err &&
	grep "^state  *stopped by a signal, attach mode\$" out &&
	sleep 0.2 && test "$(proc_state $tpid)" = T &&
	kill -CONT $tpid &&
	finish_ticker 0 0
'

for sig in TERM HUP QUIT INT
do
	case $sig in TERM) n=15 ;; HUP) n=1 ;; QUIT) n=3 ;; INT) n=2 ;; esac
	test_expect_success "SIG$sig to mlyze mid-session: it detaches and exits $((128 + n))" '
		start_ticker &&
		{ "$MLYZE" attach $tpid -e "sleep 30" -e info >out 2>err & } &&
		mpid=$! &&
		sleep 0.3 && kill -$sig $mpid &&
		{ wait $mpid; code=$?; } &&
		test "$code" = $((128 + n)) &&
		! grep "^pid" out &&
		test_path_is_sleeping $tpid &&
		finish_ticker 0 0
	'
done

for sig in SEGV ABRT
do
	test_expect_success "a crash inside mlyze (SIG$sig) still detaches" '
		start_ticker &&
		{ "$MLYZE" attach $tpid -e "sleep 30" >out 2>err & } &&
		mpid=$! &&
		sleep 0.3 && kill -$sig $mpid &&
		{ wait $mpid; code=$?; } &&
		test "$code" -gt 128 &&
		grep "fatal error in mlyze; restoring and detaching the target" err &&
		test_path_is_sleeping $tpid &&
		finish_ticker 0 0
	'
done

test_expect_success 'end of a script on stdin detaches' '
	start_ticker &&
	printf "info\nsleep 0.2\n" | "$MLYZE" attach $tpid >out 2>err &&
	test_path_is_sleeping $tpid &&
	finish_ticker 0 0
'

# The scratch area is unmapped by a system call run in one of the process's threads; stopped by
# SIGSTOP, each thread sits in a group-stop, and must go back to it after, unseen by the parent.
test_expect_success 'stopped by SIGSTOP while traced: detach unmaps what mlyze mapped, it stays stopped' '
	fixture_start fx-stopwatch "$TRASH/truth.json" 30 50 && wpid=$FIXTURE_PID &&
	child=$(jq .child "$TRASH/truth.json") &&
	cat /proc/$child/maps >maps.before &&
	{ "$MLYZE" attach $child -e "sleep 0.6" -e info -e stats -e detach >out 2>err & } &&
	mpid=$! &&
	sleep 0.3 && kill -STOP $child &&
	wait $mpid &&
	grep "^state  *stopped by a signal, attach mode\$" out &&
	grep "^tracing .*allocations on" out &&
	grep "^events  *malloc [1-9]" out &&
	cat /proc/$child/maps >maps.after &&
	test_cmp maps.before maps.after &&
	sleep 0.2 && test "$(proc_state $child)" = T &&
	kill -CONT $child &&
	wait $wpid &&
	printf "ready\nstopped 19\ncontinued\ndone 30\nexited 0\n" >expect &&
	test_cmp expect "$TRASH/fx-stopwatch.out"
'

test_expect_success 'quit detaches; later commands do not run' '
	start_ticker &&
	"$MLYZE" attach $tpid -e quit -e info >out 2>err &&
	test_must_be_empty out &&
	test_path_is_sleeping $tpid &&
	finish_ticker 0 0
'

test_expect_success 'a target that exits while attached is held at its exit: read, refused to run, let go with its status' '
	fixture_start fx-ticker "$TRASH/truth.json" 3 50 7 && tpid=$FIXTURE_PID &&
	test_expect_code 1 "$MLYZE" attach $tpid --json -e "sleep 1" -e bt -e info -e trim -e detach -e info >out 2>err &&
	grep -x "mlyze: process $tpid exited with status 7: held at its exit until mlyze detaches" err &&
	jq -s -e ".[1].ok and ([.[1].result.threads[0].frames[].function] | index(\"__run_exit_handlers\") != null)" out &&
	jq -s -e ".[2].result.state == \"held at its exit\" and .[2].result.exit == \"exited with status 7\"" out &&
	jq -s -e ".[3] == {command: \"trim\", ok: false, error: \"process $tpid is held at its exit (it exited with status 7)\"}" out &&
	jq -s -e ".[4].result == {pid: $tpid, detached: true, exit: \"exited with status 7\"}" out &&
	jq -s -e ".[5].result.state == \"exited\" and .[5].result.exit == \"exited with status 7\"" out &&
	grep -x "mlyze: process $tpid exited with status 7" err &&
	{ wait $tpid; code=$?; } && test $code = 7
'

test_expect_success 'a target killed by a signal while attached is reported so' '
	fixture_start fx-ticker "$TRASH/truth.json" 100 50 0 && tpid=$FIXTURE_PID &&
	{ "$MLYZE" attach $tpid -e "sleep 0.8" -e info >out 2>err & } &&
	mpid=$! && sleep 0.3 && kill -KILL $tpid &&
	wait $mpid &&
	grep -x "mlyze: process $tpid was killed by signal 9 (SIGKILL)" err &&
	grep "^state  *exited (was killed by signal 9 (SIGKILL))" out
'

# fx-mt-alloc makes four threads on SIGUSR1. Sent while mlyze attaches and puts its agent in, the
# threads are born while mlyze stops the process: a thread stopped inside its clone (the kernel has
# not written clone's result yet) must not run mlyze's calls, or glibc sees clone fail, makes the
# thread again on the same stack, and the process dies (it did, in two runs of five).
test_expect_success 'threads born while mlyze attaches: the process never notices, 20 of 20' '
	: >runs &&
	for i in $(seq 20); do
		fixture_start fx-mt-alloc "$TRASH/mt.json" && pid=$FIXTURE_PID &&
		mlz_start $pid --json &&
		sleep 0.0$(printf %02d $((i % 8 * 3 + 1))) && kill -USR1 $pid && wait_for_line fx-mt-alloc.out "^done" &&
		mlz info && kill -USR1 $pid && mlz wait && mlz_end && { wait $pid; code=$?; } &&
		echo "$code $(tr "\n" " " <fx-mt-alloc.out)" >>runs ||
		return 1
	done &&
	sort runs | uniq -c | sed "s/^ *//" >actual &&
	echo "20 0 ready done " >expect &&
	test_cmp expect actual
'

test_done
