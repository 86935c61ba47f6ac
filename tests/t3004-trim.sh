#!/bin/bash
# trim: malloc_trim(0) called inside the process gives back the memory free() kept, the process
# works on; and no call is made while a thread holds an arena's lock.

test_description='trim: an injected malloc_trim(0)'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'trim gives back the 16 MB free() kept, and the heap works after' '
	fixture_start fx-trim "$TRASH/t.json" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --json -e trim -e heap >out 2>err &&
	test_must_be_empty err &&
	result trim | jq -e ".released and .rss_returned >= 15 * 1048576 and .rss_after < .rss_before" &&
	result heap | jq -e ".complete" &&
	kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 0 &&
	test_cmp - fx-trim.out <<-\EOF
	ready
	ok
	EOF
'

test_expect_success 'a thread inside malloc (holding the arena lock): trim refuses, the process is untouched' '
	fixture_start fx-trim "$TRASH/l.json" locked && pid=$FIXTURE_PID &&
	test_expect_code 1 "$MLYZE" attach $pid -e trim >out 2>err &&
	grep -E "^error: arena 0x[0-9a-f]+ is locked \(a thread is inside malloc or free\): trim not attempted; try again$" err &&
	kill -0 $pid && fixture_stop $pid
'

test_expect_success 'trim on a core file: needs a live process' '
	fixture_start fx-trim "$TRASH/c.json" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid -e "dump $TRASH/c.core" >/dev/null &&
	fixture_stop $pid &&
	test_expect_code 1 "$MLYZE" core c.core -e trim 2>err &&
	echo "error: '"'"'trim'"'"' needs a live process; this is a core file" >expect &&
	test_cmp expect err
'

test_done
