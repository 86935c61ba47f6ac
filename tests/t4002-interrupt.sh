#!/bin/bash
# A signal ends a long analysis (heap walk, reference graph, dump) at once: Ctrl-C answers
# "interrupted", SIGTERM ends mlyze, and either way the process is resumed, let go and runs on.
# The signal is sent once mlyze holds the process stopped, or its twin (set pause fork); the
# command is given several times so the signal always lands in one of them, however fast the
# machine.

test_description='interrupting long analyses'
. "$(dirname "$0")/lib/test-lib.sh"

# mlyze holds PID still: stopped, or (set pause fork, the default) forked into a twin that mlyze
# reads while PID runs, a child of PID that mlyze keeps stopped.
held () {
	local c
	test "$(proc_state "$1")" = t && return 0
	for c in $(cat /proc/$1/task/*/children 2>/dev/null); do
		test "$(proc_state $c)" = t && return 0
	done
	return 1
}
# signal_while_held SIG PID: wait until mlyze ($m) holds PID still, then send it SIG.
signal_while_held () { test_poll_ 60 held "$2" && kill -"$1" $m; }

test_expect_success 'setup: a process with two million blocks' '
	fixture_start fx-many "$TRASH/m.json" 2000000 && pid=$FIXTURE_PID
'

test_expect_success 'Ctrl-C ends leaks: "interrupted", exit 130, the process runs on untraced' '
	"$MLYZE" --no-trace attach $pid -e leaks -e leaks -e leaks -e leaks -e leaks -e info >out 2>err &
	m=$! &&
	signal_while_held INT $pid &&
	test_expect_code 130 wait $m &&
	echo "error: interrupted" >expect && tail -n 1 err >actual && test_cmp expect actual &&
	! grep -q "^pid" out &&
	test_path_is_sleeping $pid
'

test_expect_success 'SIGTERM ends leaks and mlyze: exit 143, detached, the process runs on' '
	"$MLYZE" --no-trace attach $pid -e leaks -e leaks -e leaks -e leaks -e leaks -e info >out 2>err &
	m=$! &&
	signal_while_held TERM $pid &&
	test_expect_code 143 wait $m &&
	tail -n 1 err >actual && test_cmp expect actual &&
	test_path_is_sleeping $pid
'

test_expect_success 'Ctrl-C ends a heap walk and a snapshot the same way' '
	"$MLYZE" --no-trace attach $pid -e heap -e "snapshot a" -e heap -e "snapshot b" -e heap >out 2>err &
	m=$! &&
	signal_while_held INT $pid &&
	test_expect_code 130 wait $m &&
	tail -n 1 err >actual && test_cmp expect actual &&
	test_path_is_sleeping $pid
'

# A slow machine may finish a dump or two before the signal lands: those are whole cores, the one
# interrupted leaves nothing, not even its temporary file.
test_expect_success 'Ctrl-C ends dump and leaves no half-written core' '
	"$MLYZE" --no-trace attach $pid -e "dump $TRASH/d1" -e "dump $TRASH/d2" -e "dump $TRASH/d3" \
		-e "dump $TRASH/d4" -e "dump $TRASH/d5" >out 2>err &
	m=$! &&
	signal_while_held INT $pid &&
	test_expect_code 130 wait $m &&
	tail -n 1 err >actual && test_cmp expect actual &&
	done=$(ls d? 2>/dev/null | wc -l) && test $done -lt 5 &&
	for i in $(seq $done); do readelf -h d$i | grep -q "Type: *CORE" || return 1; done &&
	! test -e d$((done + 1)) && ! ls .d* 2>/dev/null &&
	test_path_is_sleeping $pid
'

test_expect_success 'the process answers as before: it exits on SIGUSR1' '
	kill -USR1 $pid && wait $pid
'

test_done
