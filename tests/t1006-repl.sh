#!/bin/bash
# The REPL on a terminal (a pty from script(1)): completion, history, Ctrl-C, EOF and news while typing.

test_description='interactive REPL'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq SCRIPT 'command -v script >/dev/null'

# repl PID: run mlyze attach PID on a pty, typing what stdin gives (with pauses)
repl () {
	timeout 20 script -qefc "\"$MLYZE\" attach $1" /dev/null | tr "\r" "\n" | sed "s/\x1b\[[?0-9;]*[a-zA-Z]//g" >out
}

test_expect_success 'start a target' '
	fixture_start fx-ticker "$TRASH/t.json" 100000 50 0 && echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)
export HOME=$TRASH

test_expect_success SCRIPT 'tab completes commands and options; commands run; history is kept' '
	{ printf "inf\t\n"; sleep 0.4; printf "thr\t\n"; sleep 0.4; printf "bt --de\t3\n"; sleep 0.4; printf "quit\n"; } | repl $pid &&
	grep "^pid  *$pid\$" out &&
	grep -E "^ +$pid  fx-ticker +S +0x" out &&
	grep "^  #2 " out && ! grep "^  #3 " out &&
	printf "%s\n" "info " "threads " "bt --depth 3" quit >expect &&
	test_cmp expect .mlyze_history &&
	test_path_is_sleeping $pid
'

test_expect_success SCRIPT 'tab completes snapshot names, --by values and the words a usage names' '
	{ printf "snapshot before\n"; sleep 0.4; printf "compare bef\tno\t\n"; sleep 0.6;
	  printf "top --by fu\t--top 1\n"; sleep 0.6; printf "bt a\t\n"; sleep 0.4; printf "quit\n"; } | repl $pid &&
	grep -x "compare before now " .mlyze_history &&
	grep -x "top --by function --top 1" .mlyze_history &&
	grep -x "bt all " .mlyze_history &&
	! grep "^error" out &&
	test_path_is_sleeping $pid
'

test_expect_success SCRIPT 'Ctrl-C interrupts the running command, not mlyze' '
	start=$(date +%s) &&
	{ printf "sleep 8\n"; sleep 0.5; printf "\003"; sleep 0.3; printf "info\n"; sleep 0.3; printf "quit\n"; } | repl $pid &&
	test $(($(date +%s) - start)) -lt 6 &&
	grep "error: sleep interrupted\$" out &&
	grep "^pid  *$pid\$" out &&
	test_path_is_sleeping $pid
'

test_expect_success SCRIPT 'Ctrl-C at the prompt drops the line; Ctrl-D detaches' '
	{ printf "bt al"; sleep 0.3; printf "\003"; sleep 0.3; printf "\004"; } | repl $pid &&
	! grep "^thread" out &&
	test_path_is_sleeping $pid
'

test_expect_success SCRIPT 'the process ending while the user types is announced, held at its exit until quit' '
	fixture_start fx-ticker "$TRASH/t2.json" 16 50 9 && short=$FIXTURE_PID &&
	{ sleep 1.5; printf "info\n"; sleep 0.3; printf "quit\n"; } | repl $short &&
	grep "^mlyze: process $short exited with status 9: held at its exit until mlyze detaches\$" out &&
	grep "^state  *held at its exit (exited with status 9)" out &&
	grep "^mlyze: process $short exited with status 9\$" out &&
	{ wait $short; code=$?; } && test $code = 9
'

test_expect_success SCRIPT 'help and help CMD come from the command table' '
	{ printf "help\n"; sleep 0.3; printf "help bt\n"; sleep 0.3; printf "quit\n"; } | repl $pid &&
	grep "^  bt \[TID|all\] \[--depth N\]" out &&
	grep "^usage: bt \[TID|all\] \[--depth N\]\$" out &&
	grep "^alias: backtrace\$" out
'

test_expect_success SCRIPT 'long work shows a progress line on a terminal, wiped after; never with --json or off a terminal' '
	MLYZE_PROGRESS_AFTER_MS=0 timeout 20 script -qefc "\"$MLYZE\" --no-trace attach $pid -e leaks" /dev/null |
		tr "\r" "\n" | sed "s/\x1b\[[?0-9;]*[a-zA-Z]//g" >out &&
	grep -E "^mlyze: leaks: [0-9]+\.[0-9] s, the process is stopped \(Ctrl-C interrupts\)\$" out &&
	grep "definitely lost" out &&
	MLYZE_PROGRESS_AFTER_MS=0 timeout 20 script -qefc "\"$MLYZE\" --no-trace --json attach $pid -e leaks -e \"leaks --json\"" /dev/null >out &&
	! grep "Ctrl-C interrupts" out &&
	MLYZE_PROGRESS_AFTER_MS=0 "$MLYZE" --no-trace attach $pid -e leaks >out 2>err &&
	! grep "Ctrl-C interrupts" err &&
	test_path_is_sleeping $pid
'

test_done
