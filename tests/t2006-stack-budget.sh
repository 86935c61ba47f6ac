#!/bin/bash
# mlyze's own memory stays bounded: stacks nothing refers to any more are released by sweeps while
# the allocations go on, figures of the blocks still live do not change, and past `set memory-limit`
# new stacks are cut shorter, as stats says, with the tables kept under the limit. fx-stacks makes
# each allocation from a stack of its own (a call chain 16 deep picking one of two call sites per
# level), so without releasing, stacks would grow with every allocation.

test_description='stack sweeps and the memory limit'
. "$(dirname "$0")/lib/test-lib.sh"

# A sweep runs once this many new stacks were made (LIVESET_SWEEP_MIN in include/liveset.h).
SWEEP_MIN=1024

step () {
	kill -USR1 $pid && wait_for_line "$TRASH/fx-stacks.out" "^step$1" 120
}

# json LINE [N]: the result of the Nth answer (default 1) to LINE
json () {
	grep -F "{\"command\": \"$1\"" out | sed -n "${2:-1}p" | jq -c .result
}

test_expect_success 'without mlyze: the reference run' '
	fixture_start fx-stacks "$TRASH/ref.json" 100 12000 && pid=$FIXTURE_PID &&
	step 1 && step 2 && step 3 && step 4 && { wait $pid; code=$?; } && test $code = 0 &&
	printf "%s\n" ready step1 step2 step3 step4 >expect && test_cmp expect fx-stacks.out
'

test_expect_success 'traced: 100 blocks kept, then 24000 from stacks of their own freed at once' '
	# Without a tcache a freed chunk is free for mallinfo2 too, so its figures tell what is live.
	GLIBC_TUNABLES=glibc.malloc.tcache_count=0 fixture_start fx-stacks "$TRASH/t.json" 100 12000 &&
	pid=$FIXTURE_PID && mlz_start $pid --json &&
	mlz "snapshot a" && step 1 && mlz "snapshot b" && mlz stats &&
	mlz "compare a b --by stack --top 0" &&
	step 2 && mlz stats && step 3 && mlz "snapshot c" && mlz stats &&
	mlz "compare a b --by function --top 0" && mlz "compare b c --by function --top 0 --all" &&
	mlz "compare a c --by stack --top 0" && mlz "top --top 0" && mlz "top --by stack --top 0" &&
	mlz_end && step 4 && { wait $pid; code=$?; } && test $code = 0 &&
	test_must_be_empty err
'

test_expect_success 'stacks: each allocation made one, sweeps released them, the table stays small' '
	json stats 1 | jq -e ".stacks == 100 and .stacks_made == 100 and .stacks_released == 0" &&
	json stats 2 | jq -e ".events.malloc == 12100 and .events.free == 12000 and .stacks_made == 12100 and
		.stacks <= 101 + $SWEEP_MIN and .stacks + .stacks_released == .stacks_made" &&
	# After each sweep 101 stacks stay: the 100 kept blocks and the peak, which holds the first
	# churned block (live bytes were highest with it). The rest came since the last sweep.
	made=24100 && sweeps=$(( (made - 1) / SWEEP_MIN )) && left=$(( 101 + made - sweeps * SWEEP_MIN )) &&
	json stats 3 | jq -e ".events.malloc == $made and .stacks_made == $made and .stack_sweeps == $sweeps and
		.stacks == $left and .stacks_released == $made - $left and .live_blocks == 100 and .degraded == null"
'

test_expect_success 'figures of the live blocks are unchanged by the sweeps, as the fixture and mallinfo2 say' '
	json "compare a b --by function --top 0" |
		jq -c ".groups[] | select(.function == \"fx_stacks_leaf\") | [.blocks, .bytes, .blocks_diff, .bytes_diff]" >actual &&
	jq -c "[.kept, .kept_bytes, .kept, .kept_bytes]" t.json.step1 >expect && test_cmp expect actual &&
	json "compare b c --by function --top 0 --all" | jq -e ".blocks_diff == 0 and .bytes_diff == 0 and
		([.groups[] | select(.function == \"fx_stacks_leaf\")][0] | .blocks == 100 and .bytes == 4800)" &&
	# glibc agrees that the churn left nothing live
	test "$(jq .uordblks t.json.step1)" = "$(jq .uordblks t.json.step3)" &&
	line=$(grep -n "void \*p = malloc(size);" "$FIXTURES/fx-stacks.c" | cut -d: -f1) &&
	json "top --top 0" | jq -e "[.groups[] | select(.function == \"fx_stacks_leaf\")] | length == 1 and
		(.[0] | .blocks == 100 and .bytes == 4800 and .line == $line)"
'

test_expect_success 'the kept stacks print the same frames before and after their neighbours were released' '
	json "compare a b --by stack --top 0" |
		jq -c "[.groups[] | select(.function == \"fx_stacks_leaf\") | [.blocks, .bytes, [.stack[] | .pc]]] | sort" >before &&
	json "compare a c --by stack --top 0" |
		jq -c "[.groups[] | select(.function == \"fx_stacks_leaf\") | [.blocks, .bytes, [.stack[] | .pc]]] | sort" >after &&
	json "top --by stack --top 0" |
		jq -c "[.groups[] | select(.function == \"fx_stacks_leaf\") | [.blocks, .bytes, [.stack[] | .pc]]] | sort" >now &&
	test_cmp before after && test_cmp before now &&
	jq -e "length == 100 and (map(.[2]) | unique | length) == 100 and all(.[]; .[0] == 1 and .[1] == 48)" before
'

test_expect_success 'set memory-limit: sizes with units, bad ones refused' '
	fixture_start fx-stacks "$TRASH/s.json" 0 0 && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid -e "set memory-limit 64M" -e "set memory-limit 1g" -e "set memory-limit 3145728" \
		-e "set memory-limit 512K" -e "set memory-limit 2X" -e "set memory-limit 2T" -e set >set.out 2>set.err;
	test $? = 1 &&
	cat >expect <<-\EOF &&
	max-stack-depth 32
	memory-limit 64M
	sample 0
	max-stack-depth 32
	memory-limit 1G
	sample 0
	max-stack-depth 32
	memory-limit 3M
	sample 0
	max-stack-depth 32
	memory-limit 3M
	sample 0
	EOF
	grep -E "^(max-stack-depth|memory-limit|sample) " set.out >set.mem && test_cmp expect set.mem &&
	cat >expect <<-\EOF &&
	error: set: memory-limit expects a size from 1048576 to 1099511627776 bytes, not '"'"'512K'"'"'
	error: set: memory-limit expects a size (bytes, or a number with K, M, G or T), not '"'"'2X'"'"'
	error: set: memory-limit expects a size from 1048576 to 1099511627776 bytes, not '"'"'2T'"'"'
	EOF
	test_cmp expect set.err &&
	fixture_stop $pid
'

test_expect_success 'past the memory limit new stacks are cut short, stats says so, the tables stay under it' '
	fixture_start fx-stacks "$TRASH/d.json" 20000 0 && pid=$FIXTURE_PID &&
	mv out traced.out && mlz_start $pid &&
	mlz "set memory-limit 2M --json" && mlz "snapshot a --json" && step 1 &&
	echo stats >&9 && mlz "stats --json" && mlz "compare a now --by function --top 0 --json" &&
	mlz_end && step 2 && step 3 && step 4 && { wait $pid; code=$?; } && test $code = 0 &&
	json "stats --json" | jq -e ".events.malloc == 20000 and .memory_limit == 2097152 and
		.table_bytes <= 2097152 and .degraded.depth == 2 and .degraded.stacks > 0 and
		.stacks_released == 0 and .stacks == .stacks_made and .stacks < 20000" &&
	grep "^degraded    the tables reached the memory limit at [0-9.]* s: new stacks are cut to 2 frames ([0-9]* made so)$" out &&
	grep "^memory      [0-9.]* [KM]iB of tables of a limit of 2 MiB " out &&
	# the counts stay exact: only where they are attributed is coarser
	json "compare a now --by function --top 0 --json" |
		jq -c ".groups[] | select(.function == \"fx_stacks_leaf\") | [.blocks_diff, .bytes_diff]" >actual &&
	jq -c "[.kept, .kept_bytes]" d.json.step1 >expect && test_cmp expect actual
'

test_done
