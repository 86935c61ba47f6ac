#!/bin/bash
# `mlyze run`: the program runs with mlyze's stdin/stdout/stderr and mlyze exits with its status.

test_description='run mode'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'run -- PROG: output unchanged, exit status passed through' '
	test_expect_code 7 "$MLYZE" run -- "$FIXTURES/fx-ticker" truth.json 5 20 7 >out 2>err &&
	{ echo ready && seq 0 4 | sed "s/^/tick /" && echo "usr1=0 usr2=0"; } >expect &&
	test_cmp expect out &&
	grep "^mlyze: process [0-9]* exited with status 7\$" err
'

test_expect_success 'run PROG without --, exit status 0' '
	"$MLYZE" run "$FIXTURES/fx-ticker" truth.json 2 10 0 >out 2>err &&
	test "$(grep -c "^tick" out)" = 2
'

test_expect_success 'a program killed by a signal: mlyze exits 128+N' '
	test_expect_code 143 "$MLYZE" run -- "$FIXTURES/fx-ticker" truth.json 1 10 -15 >out 2>err &&
	grep "^mlyze: process [0-9]* was killed by signal 15 (SIGTERM)\$" err
'

test_expect_success 'commands run while the program runs, then mlyze waits for its end' '
	test_expect_code 3 "$MLYZE" --json run -e info -e "sleep 0.2" -e bt -- "$FIXTURES/fx-ticker" truth.json 20 20 3 >out 2>err &&
	grep "^{" out >json &&
	jq -s -e --argjson p $(jq .pid truth.json) ".[0].result.pid == \$p and .[0].result.mode == \"run\" and
		([.[2].result.threads[0].frames[].function] | index(\"main\") != null)" json &&
	test "$(grep -c "^tick" out)" = 20
'

test_expect_success 'stdin belongs to the program in run mode' '
	echo hello | "$MLYZE" run -- cat >out 2>err &&
	echo hello >expect &&
	test_cmp expect out
'

test_expect_success 'a program that cannot be run is a clear error' '
	test_expect_code 2 "$MLYZE" run -- ./no-such-program >out 2>err &&
	echo "mlyze: cannot run '"'"'./no-such-program'"'"': No such file or directory" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

test_expect_success 'quit in run mode detaches and leaves the program running' '
	{ "$MLYZE" run -e quit -- "$FIXTURES/fx-ticker" truth.json 30 20 5 >out 2>err & } &&
	mpid=$! && wait $mpid &&
	pid=$(jq .pid truth.json) &&
	test_path_is_sleeping $pid &&
	wait_for_exit $pid 5 &&
	test "$(grep -c "^tick" out)" = 30
'

test_done
