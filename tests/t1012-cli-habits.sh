#!/bin/bash
# The command-line habits of gdb and valgrind users: -p PID, -eCMD, --opt=value, -o FILE, --stop-on-error.

test_description='command-line forms'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'start a target' '
	fixture_start fx-ticker "$TRASH/t.json" 100000 50 0 && echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)

test_expect_success '-p PID, -pPID and attach PID are one mode' '
	"$MLYZE" --json --no-trace -p $pid -e info >a &&
	"$MLYZE" --json --no-trace -p$pid -einfo >b &&
	"$MLYZE" --json --no-trace attach $pid -e info >c &&
	test "$(result info a | jq .pid)" = $pid &&
	test "$(result info b | jq .pid)" = $pid &&
	test "$(result info c | jq .pid)" = $pid &&
	test_path_is_sleeping $pid
'

test_expect_success '-p with another mode is a usage error' '
	test_expect_code 64 "$MLYZE" attach $pid -p $pid 2>err &&
	grep "give one mode" err &&
	test_expect_code 64 "$MLYZE" -p $pid attach $pid 2>err &&
	grep "unexpected argument .attach." err &&
	test_expect_code 64 "$MLYZE" -p 2>err &&
	grep "option .-p. needs an argument" err
'

test_expect_success '--name=VALUE and -xFILE; a flag given a value is refused' '
	echo info >script &&
	"$MLYZE" --json --no-trace --debug-dir=/nonexistent -xscript -p $pid >out &&
	test "$(result info | jq .pid)" = $pid &&
	test_expect_code 64 "$MLYZE" --json=yes -p $pid 2>err &&
	grep "option .--json. takes no argument" err &&
	test_expect_code 64 "$MLYZE" --jsonx -p $pid 2>err &&
	grep "unknown option .--jsonx." err &&
	test_expect_code 64 "$MLYZE" --debug-dirx=/tmp -p $pid 2>err &&
	grep "unknown option" err
'

test_expect_success '--stop-on-error names the file and line, runs nothing after it, exits 1' '
	printf "info\n\nthreads\nbogus x\ninfo\n" >script &&
	test_expect_code 1 "$MLYZE" --json --no-trace --stop-on-error -x script -p $pid >out 2>err &&
	grep -x "mlyze: script:4: the first failed command; stopping (--stop-on-error)" err &&
	jq -r .command out >cmds &&
	printf "info\nthreads\nbogus x\n" >expect &&
	test_cmp expect cmds &&
	test_path_is_sleeping $pid
'

test_expect_success '--stop-on-error counts -e commands; without it every command runs' '
	test_expect_code 1 "$MLYZE" --no-trace --stop-on-error -e info -e "snapshot" -e "compare nosuch a" -e info -p $pid >out 2>err &&
	grep -x "mlyze: -e #3: the first failed command; stopping (--stop-on-error)" err &&
	test $(grep -c "^pid " out) = 1 &&
	test_expect_code 1 "$MLYZE" --no-trace -e info -e "compare nosuch a" -e info -p $pid >out 2>err &&
	test $(grep -c "^pid " out) = 2 &&
	! grep stop-on-error err
'

test_expect_success '-o FILE takes the results; the program run keeps its stdout' '
	"$MLYZE" --json -o res.json -e info run -- "$FIXTURES/fx-ticker" "$TRASH/t2.json" 3 20 7 >prog.out 2>prog.err;
	test $? = 7 &&
	grep -x ready prog.out &&
	! grep "\"command\"" prog.out &&
	test "$(result info res.json | jq -r .mode)" = run &&
	test $(wc -l <res.json) = 1
'

test_expect_success '-o FILE in attach mode; an unwritable FILE is refused before attaching' '
	"$MLYZE" --no-trace -o res.txt -e info -p $pid >out &&
	test_must_be_empty out &&
	grep "^pid  *$pid\$" res.txt &&
	test_expect_code 64 "$MLYZE" -o /nonexistent/dir/f -e info -p $pid 2>err &&
	grep "cannot write ./nonexistent/dir/f.: No such file or directory" err &&
	test_path_is_sleeping $pid
'

test_expect_success 'results that cannot be written to -o FILE fail the run' '
	test_expect_code 1 "$MLYZE" --no-trace -o /dev/full -e info -p $pid 2>err &&
	grep "cannot write output: No space left on device" err &&
	test_path_is_sleeping $pid
'

test_done
