#!/bin/bash
# Snapshots hold every live block: traced ones with their stacks, and those the heap walk finds
# that tracing never saw (allocated before attach), by size class under <before attach>.

test_description='blocks from before attach, --no-trace and check'
. "$(dirname "$0")/lib/test-lib.sh"

untraced_groups () {
	result "$1" | jq -c ".groups[] | select(.function == \"<before attach>\" and .blocks_diff != 0) |
		[.size_class, .blocks_diff, .bytes_diff]"
}

# fx-heap frees ten of its blocks on SIGUSR1: usable sizes 24, 40, 56, ... 168.
printf "%s\n" '["1-32",-1,-24]' '["33-64",-2,-96]' '["129-256",-3,-456]' '["65-128",-4,-384]' | sort >expect.freed

test_expect_success 'blocks allocated before attach and freed after: negative growth by size class' '
	fixture_start fx-heap "$TRASH/truth.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "snapshot a" -e heap -e "sleep 0" -e "sleep 1.2" -e "snapshot b" -e "compare a b --top 0" \
		>out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-heap.out "^freed" && wait $mpid &&
	untraced_groups "compare a b --top 0" | sort >actual &&
	test_cmp expect.freed actual &&
	result "compare a b --top 0" | jq -e ".untraced and .blocks_diff == -10 and .bytes_diff == -960"
'

test_expect_success 'the untraced blocks of a snapshot are the in-use chunks of the walk, sizes exact' '
	result heap | jq -c "[.in_use.chunks + .mmapped.chunks,
		.in_use.bytes - 8 * .in_use.chunks + .mmapped.bytes - 16 * .mmapped.chunks]" >expect &&
	result "snapshot a" | jq -c "[.untraced_blocks, .untraced_bytes]" >actual &&
	test_cmp expect actual &&
	result "snapshot a" | jq -e ".heap_walked and .blocks == .untraced_blocks"
'

test_expect_success 'show: a block from before attach, found by the heap walk (addresses from gdb)' '
	gdb -nx -batch -p $pid -ex "printf \"ADDRS %lu %lu %lu\\n\", built[0].keep[20], built[0].mmapped[0], built[0].big[0]" \
		2>/dev/null | sed -n "s/^ADDRS //p" >addrs &&
	read keep mm big <addrs &&
	"$MLYZE" attach $pid --json -e "show $((keep + 7))" -e "show $mm" >out3 2>err &&
	result "show $((keep + 7))" out3 | jq -c "[.address, .size, .state, .traced, .chunk_size]" >actual &&
	echo "[\"$(printf 0x%x $keep)\",328,\"in use\",false,336]" >expect &&
	test_cmp expect actual &&
	result "show $mm" out3 | jq -c "[.size, .state, .chunk_size]" >actual &&
	echo "[200688,\"mmapped\",200704]" >expect &&
	test_cmp expect actual
'

test_expect_success 'growth from attach leaves blocks from before attach out' '
	"$MLYZE" attach $pid --json -e growth >out2 2>err &&
	result growth out2 | jq -e ".bytes_diff == 0 and .groups == []"
'

test_expect_success '--no-trace: nothing written into the process, the same untraced figures' '
	fixture_stop $pid &&
	fixture_start fx-heap "$TRASH/t2.json" && pid=$FIXTURE_PID &&
	cat /proc/$pid/maps >maps.before &&
	{ "$MLYZE" --no-trace attach $pid --json -e "snapshot a" -e stats -e "sleep 1.2" -e "snapshot b" \
		-e "compare a b --top 0" -e "top --top 0" -e quit >out 2>err & } && mpid=$! &&
	sleep 0.6 && cat /proc/$pid/maps >maps.during && kill -USR1 $pid && wait_for_line fx-heap.out "^freed" &&
	wait $mpid && test_must_be_empty err &&
	test_cmp maps.before maps.during &&
	result stats | jq -e ".tracing == false and .events_total == 0" &&
	untraced_groups "compare a b --top 0" | sort >actual &&
	test_cmp expect.freed actual &&
	result "top --top 0" | jq -e ".blocks == .untraced_blocks and .blocks > 0" &&
	fixture_stop $pid
'

test_expect_success 'snapshot NAME again fails and names --force; --force drops the old one and takes it anew' '
	fixture_start fx-heap "$TRASH/t3.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "snapshot a" -e "snapshot b" -e "sleep 0" -e "sleep 1.2" -e "snapshot a" \
		-e "snapshot --force a" -e "snapshot --force now" -e snapshots -e "compare b a --top 0" \
		>out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-heap.out "^freed" &&
	test_expect_code 1 wait $mpid && test_must_be_empty err &&
	jq -c "select(.command == \"snapshot a\" or .command == \"snapshot --force now\") | [.command, .ok, .error]" \
		out >actual &&
	cat >expect <<-\EOF &&
	["snapshot a",true,null]
	["snapshot a",false,"a snapshot named '"'"'a'"'"' exists already; --force replaces it"]
	["snapshot --force now",false,"'"'"'now'"'"' names the live set, not a snapshot"]
	EOF
	test_cmp expect actual &&
	result "snapshot --force a" | jq -e ".name == \"a\" and .untraced_blocks > 0" &&
	result snapshots | jq -e ".snapshots | map(.name) == [\"b\", \"a\"]" &&
	result "compare b a --top 0" | jq -e ".blocks_diff == -10 and .bytes_diff == -960" &&
	untraced_groups "compare b a --top 0" | sort >actual &&
	test_cmp expect.freed actual &&
	fixture_stop $pid
'

test_expect_success 'check: every traced live block is an in-use chunk that fits' '
	fixture_start fx-mt-alloc "$TRASH/mt.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "sleep 1.5" -e check -e "top --top 0" >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-mt-alloc.out "^done" && wait $mpid &&
	result check | jq -e ".traced >= 1000 and .ok == .traced and .bad == 0 and .heap_complete" &&
	result "top --top 0" | jq -e "[.groups[] | select(.function != \"<before attach>\") | .blocks] | add >= 1000" &&
	fixture_stop $pid
'

test_done
