#!/bin/bash
# Allocation tracing counts exactly: fx-alloc allocates known counts and bytes per function through
# every allocator entry point of the installed glibc (each one run out of line from the scratch
# page, posix_memalign's RIP-relative first instruction included); compare --by function must give
# those figures, to the byte.

test_description='exact counts and bytes per function through every entry point'
. "$(dirname "$0")/lib/test-lib.sh"

expected_output () { printf "%s\n" ready "step1 misaligned=0" step2 step3; }

# step N: signal fx-alloc and wait until it printed its line for step N
step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step$1" 5
}

test_expect_success 'without mlyze: the reference run' '
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	step 1 && step 2 && step 3 && wait $apid &&
	expected_output >expect && test_cmp expect fx-alloc.out
'

test_expect_success 'traced: snapshots around each step, then questions on the recorded data' '
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	mlz_start $apid --json &&
	mlz "snapshot a" && step 1 && mlz "snapshot b" && step 2 && mlz "snapshot c" &&
	step 3 && mlz wait &&
	for c in snapshots stats "compare a b --by function --top 0" "compare b c --by function --top 0" \
		"compare c exit --top 0" "top --by function --top 0" "blocks --limit 0" \
		"compare a b --by function --cumulative --top 3" "compare a b --by stack --top 1" "top --top 0"; do
		mlz "$c" || return 1
	done &&
	mlz_end && { wait $apid; code=$?; } &&
	test "$code" = 0 &&
	expected_output >expect && test_cmp expect fx-alloc.out
'

test_expect_success 'the fixture ended while traced: exit snapshot taken, its status told' '
	grep -x "mlyze: process $apid exited with status 0" err &&
	grep -x "mlyze: process $apid is exiting: took snapshot '"'"'exit'"'"' (12 live blocks)" err &&
	result snapshots | jq -e ".snapshots | map(.name) == [\"a\", \"b\", \"c\", \"exit\"]"
'

# groups CMD: the groups of a compare or top result as compact lines
groups () {
	result "$1" | jq -c ".groups[] | select(.function != \"<before attach>\") | [.function, .blocks, .blocks_diff, .bytes, .bytes_diff]"
}

test_expect_success 'compare a b --by function: every function, exact counts and bytes, largest growth first' '
	groups "compare a b --by function --top 0" >actual &&
	cat >expect <<-\EOF &&
	["fx_pvalloc",1,1,5000,5000]
	["fx_small",10,10,1000,1000]
	["fx_calloc",5,5,1000,1000]
	["fx_valloc",1,1,1000,1000]
	["fx_reallocarray",1,1,300,300]
	["fx_aligned_alloc",1,1,256,256]
	["fx_realloc_chain",1,1,160,160]
	["fx_posix_memalign",1,1,100,100]
	["fx_memalign",1,1,48,48]
	EOF
	test_cmp expect actual
'

test_expect_success 'compare b c: the frees of step 2 as negative growth' '
	groups "compare b c --by function --top 0" | grep "fx_small\|fx_calloc" >actual &&
	cat >expect <<-\EOF &&
	["fx_small",5,-5,500,-500]
	["fx_calloc",0,-5,0,-1000]
	EOF
	test_cmp expect actual &&
	result "compare b c --by function --top 0" | jq -e ".bytes_diff == -1500 and .blocks_diff == -10"
'

test_expect_success 'sites carry file:line; the exit snapshot holds what was never freed' '
	result "compare c exit --top 0" | jq -e ".bytes_diff == 0 and .bytes == 7364 and .blocks == 12" &&
	result "top --top 0" | jq -e "[.groups[] | select(.function == \"fx_small\")][0] |
		(.file | endswith(\"fixtures/fx-alloc.c\")) and .line == $(grep -n "hold(malloc(100))" "$FIXTURES/fx-alloc.c" | cut -d: -f1)"
'

test_expect_success 'stats: every entry point counted, nested calls once, nothing odd' '
	result stats | jq -c ".events" >actual &&
	result stats | jq -e ".unknown_frees == 0 and .replaced == 0 and .abandoned == 0" &&
	jq -e ".calloc == 5 and .realloc == 6 and .reallocarray == 1 and .posix_memalign == 1 and .valloc == 1 and .pvalloc == 1" actual
'

test_expect_success 'blocks lists each live block with its site; their sizes add up' '
	result "blocks --limit 0" | jq -e ".blocks == 12 and .bytes == 7364 and
		([.listed[].size] | add) == 7364 and
		([.listed[] | select(.function == \"fx_pvalloc\")] | length == 1 and .[0].size == 5000)"
'

test_expect_success '--cumulative counts a block under every function of its stack; --by stack gives the stack' '
	groups "compare a b --by function --cumulative --top 3" >actual &&
	cat >expect <<-\EOF &&
	["main",22,22,8864,8864]
	["__libc_start_call_main",22,22,8864,8864]
	["__libc_start_main_impl",22,22,8864,8864]
	EOF
	test_cmp expect actual &&
	result "compare a b --by stack --top 1" | jq -e ".groups[0] | .bytes == 5000 and
		([.stack[].function] | index(\"fx_pvalloc\") == 1)"
'

test_expect_success 'a script on a slow pipe: the target is served while mlyze waits for the next line' '
	fixture_start fx-alloc "$TRASH/truth2.json" && apid=$FIXTURE_PID &&
	{ echo "snapshot a"; sleep 0.5; kill -USR1 $apid; sleep 1; echo "compare a now --by function --top 0 --json"; } |
		"$MLYZE" attach $apid >pipe.out 2>pipe.err &&
	grep -q "^step1" fx-alloc.out &&
	grep "^{" pipe.out | jq -e ".result.bytes_diff == 8864 and .result.blocks_diff == 22"
'

test_done
