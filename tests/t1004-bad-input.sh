#!/bin/bash
# Bad input gets one clear line and a documented exit status, never a crash or a hang.

test_description='errors for bad pids, permissions, commands and options'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'a pid that does not exist' '
	sh -c "exit 0" & dead=$! && wait $dead &&
	test_expect_code 2 "$MLYZE" attach $dead -e info >out 2>err &&
	echo "mlyze: no process with pid $dead" >expect &&
	test_cmp expect err && test_must_be_empty out
'

test_expect_success 'a pid that is not a number' '
	test_expect_code 64 "$MLYZE" attach 12ab >out 2>err &&
	printf "%s\n" "mlyze: '"'"'12ab'"'"' is not a process id" "try '"'"'mlyze --help'"'"'" >expect &&
	test_cmp expect err
'

test_expect_success 'a zombie' '
	fixture_start fx-zombie "$TRASH/z.json" &&
	z=$(jq .zombie z.json) &&
	test "$(proc_state $z)" = Z &&
	test_expect_code 2 "$MLYZE" attach $z >out 2>err &&
	echo "mlyze: cannot attach to process $z: it is a zombie (it has exited and waits for its parent to reap it)" >expect &&
	test_cmp expect err
'

# Its main thread called pthread_exit: a zombie leader, a live worker. mlyze says exactly that,
# and the process, untouched, goes on to its end.
test_expect_success 'a process whose main thread has exited: why not, and it runs on' '
	fixture_start fx-leaderless "$TRASH/l.json" && lpid=$FIXTURE_PID &&
	test "$(proc_state $lpid)" = Z &&
	test "$(proc_state $(jq .worker l.json))" = S &&
	test_expect_code 2 "$MLYZE" attach $lpid -e info >out 2>err &&
	echo "mlyze: cannot attach to process $lpid: its main thread has exited (pthread_exit) while 1 other thread(s) run on; the kernel does not let an exited thread be traced, and the process'"'"'s memory and mappings cannot be read through its pid any more" >expect &&
	test_cmp expect err && test_must_be_empty out &&
	test "$(sed -n "s/^TracerPid:[[:space:]]*//p" /proc/$(jq .worker l.json)/status)" = 0 &&
	kill -USR1 $lpid && wait_for_line "$TRASH/fx-leaderless.out" "^step1" 5 &&
	kill -USR1 $lpid && wait $lpid &&
	printf "%s\n" ready step1 step2 >expect && test_cmp expect "$TRASH/fx-leaderless.out"
'

kthread=$(for f in /proc/[0-9]*/stat; do
	awk '{ sub(/.*\) /, ""); if (int($7 / 2097152) % 2) { split(FILENAME, p, "/"); print p[3]; exit 0 } }' "$f"
done 2>/dev/null | head -n1)
test -n "$kthread" && test_set_prereq KTHREAD

test_expect_success KTHREAD 'a kernel thread' '
	test_expect_code 2 "$MLYZE" attach $kthread >out 2>err &&
	echo "mlyze: cannot attach to process $kthread: it is a kernel thread ($(cat /proc/$kthread/comm))" >expect &&
	test_cmp expect err
'

test_expect_success 'mlyze itself' '
	test_expect_code 2 sh -c "exec \"\$0\" attach \$\$" "$MLYZE" >out 2>err &&
	grep -E "^mlyze: cannot attach to process [0-9]+: it is mlyze itself\$" err
'

test_expect_success 'a process already traced names its tracer' '
	fixture_start fx-ticker "$TRASH/t.json" 100 50 0 && tpid=$FIXTURE_PID &&
	{ "$MLYZE" attach $tpid -e "sleep 2" >/dev/null 2>&1 & } && first=$! &&
	sleep 0.3 &&
	test_expect_code 2 "$MLYZE" attach $tpid >out 2>err &&
	echo "mlyze: cannot attach to process $tpid: it is already traced by process $first (mlyze)" >expect &&
	test_cmp expect err &&
	kill -TERM $first && wait $first; test_path_is_sleeping $tpid
'

test_lazy_prereq NOBODY_CAN_RUN_MLYZE '
	test "$(id -u)" = 0 && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MLYZE" --version >/dev/null 2>&1
'

test_expect_success NOBODY_CAN_RUN_MLYZE 'another user without CAP_SYS_PTRACE: says whose process it is' '
	fixture_start fx-ticker "$TRASH/t.json" 100 50 0 && tpid=$FIXTURE_PID &&
	test_expect_code 2 setpriv --reuid=65534 --regid=65534 --clear-groups "$MLYZE" attach $tpid >out 2>err &&
	echo "mlyze: cannot attach to process $tpid: permission denied: it belongs to uid 0 and mlyze runs as uid 65534 without CAP_SYS_PTRACE (run mlyze as root or as uid 0)" >expect &&
	test_cmp expect err
'

test_expect_success 'start a target for command errors' '
	fixture_start fx-ticker "$TRASH/t.json" 1000 50 0 && echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)

test_expect_success 'an unknown command suggests the nearest, the script goes on, exit 1' '
	test_expect_code 1 "$MLYZE" attach $pid -e inof -e "info --json" >out 2>err &&
	echo "error: unknown command '"'"'inof'"'"'; did you mean '"'"'info'"'"'?" >expect &&
	test_cmp expect err &&
	jq -e ".ok" out
'

test_expect_success 'an unknown command in JSON mode is a JSON error' '
	test_expect_code 1 "$MLYZE" --json attach $pid -e "frobnicate now" >out 2>err &&
	jq -e ". == {command: \"frobnicate now\", ok: false, error: \"unknown command '"'"'frobnicate'"'"'; type '"'"'help'"'"' for the list\"}" out
'

test_expect_success 'a bad command option names the usage' '
	test_expect_code 1 "$MLYZE" attach $pid -e "bt --deep" >out 2>err &&
	echo "error: bt: unknown option '"'"'--deep'"'"' (usage: bt [TID|all] [--depth N])" >expect &&
	test_cmp expect err
'

test_expect_success 'bad arguments: bt with a non-number, sleep with garbage' '
	test_expect_code 1 "$MLYZE" attach $pid -e "bt x1" -e "sleep soon" >out 2>err &&
	printf "%s\n" "error: bt: '"'"'x1'"'"' is not a thread id (usage: bt [TID|all] [--depth N])" \
		"error: sleep: '"'"'soon'"'"' is not a number of seconds" >expect &&
	test_cmp expect err
'

# A command's usage error fails that command (status 1, the script goes on), as for bt --deep above;
# 64 is for the command line itself.
test_expect_success 'numbers with junk, signs, nothing or too many digits name the option and the value' '
	test_expect_code 1 "$MLYZE" attach $pid -e "bt --depth 5x" -e "bt --depth=-1" -e "bt --depth 0" \
		-e "bt --depth 99999999999999999999" -e "blocks --min-size=" -e "set max-stack-depth 4k" \
		-e "sleep 1e3" -e "show -1" -e "info --json" >out 2>err &&
	cat >expect <<-\EOF &&
	error: bt: option '"'"'--depth'"'"' expects a number, not '"'"'5x'"'"'
	error: bt: option '"'"'--depth'"'"' expects a number, not '"'"'-1'"'"'
	error: bt: option '"'"'--depth'"'"' expects a number from 1 to 1000000, not '"'"'0'"'"'
	error: bt: option '"'"'--depth'"'"' expects a number from 1 to 1000000, not '"'"'99999999999999999999'"'"'
	error: blocks: option '"'"'--min-size'"'"' expects a number, not '"'"''"'"'
	error: set: max-stack-depth expects a number, not '"'"'4k'"'"'
	error: sleep: '"'"'1e3'"'"' is not a number of seconds
	error: show: '"'"'-1'"'"' is not an address
	EOF
	test_cmp expect err &&
	jq -e ".ok" out
'

test_expect_success 'a process id with junk, a sign, spaces or too many digits: usage error 64' '
	for bad in 5x +5 " 5" "" 0x 99999999999999999999 2147483648 0; do
		test_expect_code 64 "$MLYZE" attach "$bad" -e info >out 2>err &&
		printf "%s\n" "mlyze: '"'"'$bad'"'"' is not a process id" "try '"'"'mlyze --help'"'"'" >expect &&
		test_cmp expect err && test_must_be_empty out || return 1
	done
'

test_expect_success 'a bad command-line option, no mode, an unknown mode' '
	test_expect_code 64 "$MLYZE" --frobnicate attach $pid 2>err &&
	head -n1 err >actual && echo "mlyze: unknown option '"'"'--frobnicate'"'"'" >expect && test_cmp expect actual &&
	test_expect_code 64 "$MLYZE" 2>err &&
	head -n1 err >actual && echo "mlyze: no mode given (expected '"'"'attach PID'"'"', '"'"'run PROGRAM'"'"', '"'"'core CORE'"'"' or '"'"'open FILE'"'"')" >expect &&
	test_cmp expect actual &&
	test_expect_code 64 "$MLYZE" debug $pid 2>err &&
	head -n1 err >actual && echo "mlyze: unknown mode '"'"'debug'"'"' (expected '"'"'attach'"'"', '"'"'run'"'"', '"'"'core'"'"', '"'"'open'"'"', '"'"'record'"'"' or '"'"'help'"'"')" >expect &&
	test_cmp expect actual &&
	test_expect_code 64 "$MLYZE" attach 2>err &&
	head -n1 err >actual && echo "mlyze: attach: no process id given" >expect && test_cmp expect actual &&
	test_expect_code 64 "$MLYZE" attach $pid -e 2>err &&
	head -n1 err >actual && echo "mlyze: option '"'"'-e'"'"' needs an argument" >expect && test_cmp expect actual
'

test_expect_success 'a script file that cannot be read' '
	test_expect_code 64 "$MLYZE" attach $pid -x no-such-script >out 2>err &&
	echo "mlyze: cannot read script '"'"'no-such-script'"'"': No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'a script file runs line by line, comments and blank lines skipped' '
	printf "# a comment\n\ninfo --json\n  threads --json  \n" >script &&
	"$MLYZE" attach $pid -x script >out 2>err &&
	jq -s -e "length == 2 and .[0].command == \"info --json\" and .[1].command == \"threads --json\"" out
'

# A NUL byte ends a C string: the rest of the line ("--json" here) would silently be lost.
test_expect_success 'a script line with a NUL byte fails with its line number, the script goes on' '
	printf "info --json\n# two\nthreads\000 --json\nthreads --json\n" >nul-script &&
	test_expect_code 1 "$MLYZE" attach $pid -x nul-script >out 2>err &&
	echo "error: line 3: contains a NUL byte" >expect &&
	test_cmp expect err &&
	jq -s -e "length == 2 and .[0].command == \"info --json\" and .[1].command == \"threads --json\"" out
'

test_expect_success 'the same on stdin, and in JSON mode a JSON error' '
	printf "info --json\nbt\000 all\nthreads --json\n" >nul-input &&
	test_expect_code 1 "$MLYZE" attach $pid <nul-input >out 2>err &&
	echo "error: line 2: contains a NUL byte" >expect &&
	test_cmp expect err &&
	jq -s -e "length == 2 and .[0].command == \"info --json\" and .[1].command == \"threads --json\"" out &&
	test_expect_code 1 "$MLYZE" --json attach $pid <nul-input >out 2>err &&
	test_must_be_empty err &&
	jq -s -e ".[1] == {command: \"bt\", ok: false, error: \"line 2: contains a NUL byte\"} and
		(map(.ok) == [true, false, true])" out
'

test_expect_success 'after all that the target is untouched' '
	test_path_is_sleeping $pid
'

test_done
