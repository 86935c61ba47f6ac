#!/bin/bash
# set pause fork: whole-image analyses read a copy-on-write twin of the process (a raw clone with
# no exit signal, held stopped by mlyze) while the process runs on. The process must never notice:
# fx-sigchld counts every SIGCHLD and reaps every child waitpid(-1, WNOHANG) shows it. The twin's
# figures are the process's own (its mallinfo2(), memcheck's leak classes as t4001 has them), it
# dies with mlyze even under SIGKILL, and a process whose seccomp filter kills clone is stopped
# instead, with the reason.

test_description='the copy-on-write twin (set pause fork)'
. "$(dirname "$0")/lib/test-lib.sh"

# The children of PID, one "pid state tracer" line each (the twin: state t, traced by mlyze), from
# each thread's /proc children list: read at once, unlike a scan of every process.
children () {
	local c
	for c in $(cat /proc/$1/task/*/children 2>/dev/null); do
		echo "$c $(proc_state $c) $(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$c/status" 2>/dev/null)"
	done
}
# The truth PID writes on SIGUSR1, once it has written it again.
fresh_truth () {
	rm -f "$1" && kill -USR1 $2 && wait_for_file "$1"
}
last_pause () { result "${2:-info}" "${1:-out}" | tail -n 1 | jq -c ".pause.last | [.forked, .stopped_ms >= 0]"; }

test_expect_success 'setup: a parent that counts SIGCHLD and reaps with waitpid(-1, WNOHANG)' '
	fixture_start fx-sigchld "$TRASH/s.json" && pid=$FIXTURE_PID &&
	jq -e ".sigchld == 1 and .reaped == [.own_child]" s.json
'

test_expect_success 'set: pause is fork by default, stop or fork by name, nothing else' '
	"$MLYZE" attach $pid --json -e set -e "set pause stop" -e "set pause fork" >out 2>err &&
	test_must_be_empty err &&
	echo "\"fork\" \"stop\" \"fork\"" >expect &&
	echo $(jq .result.pause out) >actual && test_cmp expect actual &&
	test_expect_code 1 "$MLYZE" attach $pid -e "set pause maybe" >out 2>err &&
	echo "error: set: pause is '"'"'fork'"'"' or '"'"'stop'"'"', not '"'"'maybe'"'"'" >expect &&
	test_cmp expect err
'

test_expect_success 'heap on a twin equals the mallinfo2() of the process, as with a stop' '
	fresh_truth "$TRASH/s.json" $pid &&
	"$MLYZE" attach $pid --json -e heap -e info -e "set pause stop" -e heap -e info >out 2>err &&
	test_must_be_empty err &&
	jq -S .mallinfo s.json >expect &&
	result heap | head -n 1 | jq -S .mallinfo >actual && test_cmp expect actual &&
	result heap | tail -n 1 | jq -S .mallinfo >actual && test_cmp expect actual &&
	result info | jq -c ".pause.last.forked" >actual && printf "true\nfalse\n" >expect && test_cmp expect actual &&
	result info | head -n 1 | jq -e ".pause.mode == \"fork\" and .pause.no_fork == null"
'

test_expect_success 'twenty forked leaks: no SIGCHLD, nothing reaped it did not make, no child left' '
	set -- && for i in $(seq 20); do set -- "$@" -e "leaks --fresh"; done &&
	"$MLYZE" attach $pid --json "$@" -e info >out 2>err &&
	test_must_be_empty err &&
	test $(result "leaks --fresh" | jq -c "del(.graph_stopped_ms, .graph, .typing_ms, .graph_parts, .ms)" | sort -u | wc -l) = 1 &&
	test $(result "leaks --fresh" | jq "select(.graph.reused == false)" | jq -s length) = 20 &&
	echo "[true,true]" >expect && last_pause >actual && test_cmp expect actual &&
	result info | jq -e ".pause.last.twin_only_bytes | . >= 4096 and . < 1048576 and . % 4096 == 0" &&
	fresh_truth "$TRASH/s.json" $pid &&
	jq -e ".sigchld == 1 and .reaped == [.own_child]" s.json &&
	children $pid >actual && test_must_be_empty actual &&
	test_path_is_sleeping $pid
'

test_expect_success 'snapshot, check, arenas, path and dump on a twin; the core reads back the same heap' '
	"$MLYZE" attach $pid --json -e "snapshot a" -e check -e arenas -e "dump $TRASH/s.core" -e info >out 2>err &&
	test_must_be_empty err &&
	result "snapshot a" | jq -e ".heap_walked and .untraced_blocks == 20 + 30 + 2" &&
	result check | jq -e ".complete // true" >/dev/null &&
	echo "[true,true]" >expect && last_pause >actual && test_cmp expect actual &&
	"$MLYZE" core s.core "$FIXTURES/fx-sigchld" --json -e heap >core.out 2>err &&
	result heap core.out | jq -S .mallinfo >actual && jq -S .mallinfo s.json >expect && test_cmp expect actual &&
	fresh_truth "$TRASH/s.json" $pid && jq -e ".sigchld == 1 and .reaped == [.own_child]" s.json
'

test_expect_success 'leaks on a twin: memcheck'"'"'s classes for fx-graph (t4001), as with a stop; path from a register' '
	fixture_start fx-graph "$TRASH/g.json" && gpid=$FIXTURE_PID &&
	reg=$(jq -r .register g.json) &&
	"$MLYZE" attach $gpid --json -e leaks -e info -e "path $reg" -e "set pause stop" -e leaks -e info >out 2>err &&
	test_must_be_empty err &&
	result leaks | jq -c "[.definitely_lost.blocks, .indirectly_lost.blocks, .possibly_lost.blocks]" >actual &&
	printf "[4,6,1]\n[4,6,1]\n" >expect && test_cmp expect actual &&
	result leaks | jq -c "del(.graph_stopped_ms, .graph, .typing_ms, .graph_parts, .ms)" | uniq | wc -l >actual && echo 1 >expect && test_cmp expect actual &&
	result "path $reg" | jq -e ".chain[0] | .kind == \"register\" and .register == \"r12\" and .thread == $gpid" &&
	result info | jq -c ".pause.last.forked" >actual && printf "true\nfalse\n" >expect && test_cmp expect actual
'

# Every child of PID is a zombie (or there is none): what is left of a twin after mlyze died.
only_zombies () { ! children $1 | grep -vq " Z 0$"; }

test_expect_success 'a graph carries its instant: path after leaks says how old it is, leaks --fresh builds it anew' '
	block=$(jq -r .list g.json) &&
	"$MLYZE" attach $gpid -e leaks -e "sleep 1.2" -e "path $block" -e "leaks --fresh" -e "path $block" >text 2>err &&
	test_must_be_empty err &&
	test "$(grep -c "^graph as of [0-2][0-9]:[0-5][0-9]:[0-5][0-9], 1\.[2-9] s ago$" text)" = 1 &&
	"$MLYZE" attach $gpid --json -e leaks -e "sleep 1.2" -e "path $block" -e "leaks --fresh" -e "path $block" >out 2>err &&
	test_must_be_empty err &&
	result "path $block" | jq -c "[.graph.reused, .graph.seconds_ago >= 1.2]" >actual &&
	printf "[true,true]\n[true,false]\n" >expect && test_cmp expect actual &&
	result leaks | jq -e ".graph.reused == false and .graph.seconds_ago < 1.2" &&
	result "leaks --fresh" | jq -e ".graph.reused == false and .graph.seconds_ago < 1.2" &&
	fixture_stop $gpid
'

test_expect_success 'SIGKILL of mlyze while a twin exists: the twin is gone within a second, the process runs on' '
	fixture_start fx-sigchld "$TRASH/b.json" big && bpid=$FIXTURE_PID &&
	set -- && for i in $(seq 30); do set -- "$@" -e leaks; done &&
	{ "$MLYZE" --no-trace attach $bpid "$@" >out 2>err & } && m=$! &&
	test_fixture_pids_="$test_fixture_pids_ $m" &&
	twin_up () { children $bpid | grep -q " t $m\$"; } &&
	{ test_poll_ 60 twin_up || { echo no twin; cat err; false; }; } && kill -KILL $m && { wait $m 2>/dev/null; true; } &&
	{ test_poll_ 1 only_zombies $bpid || { children $bpid; false; }; } &&
	test "$(children $bpid | wc -l)" -le 1 &&
	test_path_is_sleeping $bpid &&
	fresh_truth "$TRASH/b.json" $bpid && jq -e ".sigchld == 1 and .reaped == [.own_child]" b.json
'

test_expect_success 'Ctrl-C and SIGTERM during an analysis of a twin: the twin killed and reaped, no zombie left' '
	children $bpid >before &&
	set -- && for i in $(seq 30); do set -- "$@" -e leaks; done &&
	for sig in INT TERM; do
		{ "$MLYZE" --no-trace attach $bpid "$@" >out 2>err & } && m=$! &&
		{ test_poll_ 60 twin_up || { echo no twin; cat err; false; }; } && kill -$sig $m &&
		{ wait $m; code=$?; } &&
		case $sig in INT) test $code = 130 ;; TERM) test $code = 143 ;; esac &&
		echo "error: interrupted" >expect && tail -n 1 err >actual && test_cmp expect actual &&
		children $bpid >after && test_cmp before after &&
		test_path_is_sleeping $bpid || return 1
	done
'

# The twin killed with mlyze is a zombie child of the process until it exits or waits with
# __WALL (the README says so); a later mlyze does not mistake it for anything.
test_expect_success 'after that, a new mlyze forks its own twin and reaps it' '
	"$MLYZE" --no-trace attach $bpid --json -e heap -e info >out 2>err &&
	test_must_be_empty err &&
	echo "[true,true]" >expect && last_pause >actual && test_cmp expect actual &&
	only_zombies $bpid &&
	fixture_stop $bpid
'

test_expect_success 'a seccomp filter that kills clone: the process is stopped instead, and mlyze says why' '
	rm -f in && mkfifo in &&
	fixture_start fx-seccomp kill-clone "$TRASH/c.json" "$TRASH/in" && cpid=$FIXTURE_PID &&
	"$MLYZE" attach $cpid --json -e heap -e leaks -e info >out 2>err &&
	echo "mlyze: pause fork: process $cpid'"'"'s seccomp filter kills clone; the process is stopped while each analysis runs" >expect &&
	test_cmp expect err &&
	result heap | jq -e ".mallinfo.uordblks > 0" &&
	result info | jq -c "[.pause.mode, .pause.last.forked, .pause.no_fork]" >actual &&
	echo "[\"fork\",false,\"process $cpid'"'"'s seccomp filter kills clone\"]" >expect && test_cmp expect actual &&
	echo ping >in && test_poll_ 5 grep -qx pong "$TRASH/fx-seccomp.out" &&
	test_path_is_sleeping $cpid &&
	fixture_stop $cpid
'

test_done
