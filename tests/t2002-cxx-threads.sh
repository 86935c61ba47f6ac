#!/bin/bash
# C++ new/delete are seen through malloc/free with operator new's caller as the site, and four
# threads allocating at the same moment are all counted exactly.

test_description='C++ new/delete and concurrent threads'
. "$(dirname "$0")/lib/test-lib.sh"

groups () { result "$1" | jq -c ".groups[] | select(.function != \"<before attach>\") | [.function, .blocks, .bytes]"; }

test_expect_success 'C++: new, new[] and delete by function, exact' '
	fixture_start fx-cxx-alloc "$TRASH/truth.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "sleep 1" -e "top --by function --top 0" -e "top --by stack --top 0" \
		-e quit >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-cxx-alloc.out "^done" &&
	wait $mpid &&
	groups "top --by function --top 0" >actual &&
	printf "%s\n" "[\"make_nodes\",5,240]" "[\"make_array\",1,100]" >expect &&
	test_cmp expect actual
'

test_expect_success 'C++: operator new stands between malloc and its caller in the stack' '
	result "top --by stack --top 0" | jq -e ".groups[] | select(.function == \"make_nodes\") |
		[.stack[].function] | .[1] == \"operator new(unsigned long)\" and .[2] == \"make_nodes\""
'

test_expect_success 'four threads allocating at once: every block counted, per thread function' '
	fixture_start fx-mt-alloc "$TRASH/mt.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "sleep 1.5" -e "top --by function --top 0" -e stats -e quit >out 2>err & } &&
	mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-mt-alloc.out "^done" &&
	wait $mpid &&
	groups "top --by function --top 0" | grep fx_work >actual &&
	cat >expect <<-\EOF &&
	["fx_work_d",400,25600]
	["fx_work_c",300,14400]
	["fx_work_b",200,6400]
	["fx_work_a",100,1600]
	EOF
	test_cmp expect actual &&
	result stats | jq -e ".events.malloc == 2000 and .replaced == 0 and .abandoned == 0"
'

# Each thread frees into its tcache; as it exits glibc empties that cache with free() of blocks the
# program had already freed. Traced from the start, those are the allocator's own frees, not
# frees of unknown blocks.
test_expect_success 'frees glibc makes as a thread exits are counted apart, not as unknown' '
	rm -f "$TRASH/mt-run.json" &&
	{ "$MLYZE" run --json -e "sleep 0.5" -e "wait 60" -e stats -- "$FIXTURES/fx-mt-alloc" "$TRASH/mt-run.json" >out 2>err & } &&
	mpid=$! && test_poll_ 10 test -s "$TRASH/mt-run.json" && pid=$(jq .pid "$TRASH/mt-run.json") &&
	sleep 0.7 &&
	for i in $(seq 30); do kill -USR1 $pid; test_poll_ 2 grep -qx done out && break; done &&
	{ grep -qx done out || { cat out err; false; }; } &&
	for i in $(seq 30); do kill -USR1 $pid 2>/dev/null || break; sleep 1; done &&
	wait $mpid &&
	grep "^{" out >out.json && mv out.json out &&
	result stats | jq -e ".unknown_frees == 0 and .allocator_frees > 0 and .allocator_frees < 100"
'

test_done
