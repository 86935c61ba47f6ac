#!/bin/bash
# stdout that cannot be written ends mlyze with a status that says so, after detaching cleanly:
# 141 and no message when the reader went away (as git when its pager quits), 1 and a message
# for any other write error.

test_description='write errors on stdout: a closed pipe, a full device, a closed descriptor'
. "$(dirname "$0")/lib/test-lib.sh"

# fx-demo allocates every 10 ms: an int3 left in malloc would kill it with SIGTRAP at once.
test_expect_success 'start fx-demo' '
	fixture_start fx-demo "$TRASH/truth.json" 600 &&
	echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)

# runs_on: the fixture still allocates, untraced, a while after mlyze left
runs_on () {
	sleep 0.3 && kill -0 $pid && test_path_is_sleeping $pid
}

test_expect_success 'the reader goes away: status 141, silent, no more commands run' '
	start=$SECONDS &&
	{ "$MLYZE" attach $pid -e "bt all" -e "sleep 1" -e "bt all" -e "sleep 20" -e threads 2>err
	  echo $? >status; } | head -c 1 >got &&
	test "$(cat status)" = 141 &&
	test_must_be_empty err &&
	test "$(wc -c <got)" = 1 &&
	test $((SECONDS - start)) -lt 15 &&
	runs_on
'

test_expect_success 'a full device: status 1 and the reason' '
	test_expect_code 1 "$MLYZE" attach $pid -e info -e "bt all" >/dev/full 2>err &&
	echo "mlyze: error: cannot write output: No space left on device" >expect &&
	test_cmp expect err &&
	runs_on
'

test_expect_success 'a full device with --json: status 1 and the reason' '
	test_expect_code 1 "$MLYZE" --json attach $pid -e info >/dev/full 2>err &&
	echo "mlyze: error: cannot write output: No space left on device" >expect &&
	test_cmp expect err &&
	runs_on
'

test_expect_success 'stdout closed: status 1 and the reason' '
	test_expect_code 1 "$MLYZE" attach $pid -e info >&- 2>err &&
	echo "mlyze: error: cannot write output: Bad file descriptor" >expect &&
	test_cmp expect err &&
	runs_on
'

test_expect_success '--help and help on a full device: status 1 and the reason' '
	echo "mlyze: error: cannot write output: No space left on device" >expect &&
	test_expect_code 1 "$MLYZE" --help >/dev/full 2>err &&
	test_cmp expect err &&
	test_expect_code 1 "$MLYZE" help bt >/dev/full 2>err &&
	test_cmp expect err
'

test_done
