#!/bin/bash
# Byte sampling's two ways through the agent: the hook settles a malloc or free that sampling
# leaves out before any frame (thunk.S), other entries are decided in agent_enter before the call
# (calloc, aligned_alloc, posix_memalign) or in agent_leave after it (realloc). Whichever way,
# every call the program makes is decided exactly once (recorded or left out, counted), each
# entry's estimate keeps the sampling law, every recorded block's free is seen (the address set's
# hint never hides one), and a process whose mlyze is killed runs on unharmed.

test_description='agent mode: sampling decides every call once, by its short way or its full one'
. "$(dirname "$0")/lib/test-lib.sh"

export MLYZE_SAMPLE_SEED=20101

# step N: signal the fixture and wait until it printed its line for step N
step () {
	kill -USR1 $spid && wait_for_line "$TRASH/fx-sample-entries.out" "^step$1" 120
}
# decided: from the last stats, the allocating calls decided: recorded through an allocating entry,
# or left out by sampling. A call nested in another hooked call is counted among its entry's
# events but decided with its outer call: step 1 frees nothing, so its nested calls are all
# allocations and are taken off; step 2's are the frees glibc's realloc(p, 0) makes through free.
decided () {
	last stats | jq '([.events | del(.free)[]] | add) + .unsampled' | tee -a decided.log
}
nested () {
	last stats | jq .nested
}

# N = 200000 calls per site of 64 bytes at mean 4 KiB: p = 1 - exp(-64/4096) = 0.0155, about 3100
# recorded per site, relative standard deviation sqrt((1 - p) / (N p)) = 1.8 %; the 96-byte
# blocks realloc makes: 1.5 %. 10 % is more than 5 standard deviations.
test_expect_success 'every entry: each call decided once, estimates within 10 %, every recorded free seen' '
	fixture_start fx-sample-entries "$TRASH/truth.json" && spid=$FIXTURE_PID &&
	mlz_start $spid --json --sample 4K && mlz info && mlz stats && before=$(decided) n0=$(nested) &&
	step 1 && mlz "top --by function --top 0" && mlz stats && after=$(decided) &&
	grep -x "step1 calls=1000000 each=200000/12800000" fx-sample-entries.out &&
	test $((after - before - $(nested) + n0)) = 1000000 &&
	for f in fx_malloc fx_calloc fx_realloc_new fx_aligned fx_posix; do
		within 10 $(site $f bytes) 12800000 && within 10 $(site $f blocks) 200000 || return 1
	done &&
	last stats | jq -e ".lost == 0 and .sample_dropped == 0 and .unknown_frees == 0 and .estimated == true and
		.recorded_blocks > 10000 and .recorded_blocks < 20000" &&

	before=$after && step 2 && mlz "top --by function --top 0" && mlz stats && after=$(decided) &&
	grep -x "step2 calls=600000 grown=200000/19200000 freed=400000" fx-sample-entries.out &&
	test $((after - before)) = 200000 &&
	within 10 $(site fx_grow bytes) 19200000 && within 10 $(site fx_grow blocks) 200000 &&
	test "$(site fx_malloc blocks) $(site fx_calloc blocks) $(site fx_realloc_new blocks)" = "0 0 0" &&
	within 10 $(site fx_aligned bytes) 12800000 && within 10 $(site fx_posix bytes) 12800000 &&
	last stats | jq -e ".lost == 0 and .sample_dropped == 0 and .unknown_frees == 0" &&
	mlz quit && mlz_end && step 3 && wait $spid
'

# The same program without --sample: no call takes the short way, every one is recorded (mlyze
# counts realloc(NULL, n) as a malloc; realloc(p, 0)'s free, through glibc's free, and
# aligned_alloc(16)'s malloc, through glibc's malloc, as nested).
test_expect_success 'without --sample every call through every entry is recorded, none left out' '
	fixture_start fx-sample-entries "$TRASH/truth.json" 2000 && spid=$FIXTURE_PID &&
	mlz_start $spid --json && mlz info && step 1 && step 2 && mlz "top --by function --top 0" && mlz stats &&
	last "top --by function --top 0" | jq -c "[.groups[] | select(.function | startswith(\"fx_\")) |
		[.function, .blocks, .bytes]] | sort" >actual &&
	echo "[[\"fx_aligned\",2000,128000],[\"fx_grow\",2000,192000],[\"fx_posix\",2000,128000]]" >expect &&
	test_cmp expect actual &&
	last stats | jq -e ".unsampled == 0 and .lost == 0 and .unknown_frees == 0 and .events.malloc == 2000 + 2000 + 2000 and
		.events.calloc == 2000 and .events.realloc == 2000 + 2000 and .events.posix_memalign == 2000 and
		.events.aligned_alloc + .events.memalign == 2000 and .events.free == 2000 + 2000 and .nested == 2000 + 2000" &&
	mlz quit && mlz_end && step 3 && wait $spid
'

# mlyze killed while the program allocates under sampling: the hooks stay, the short way goes on
# deciding, recorded calls fill the ring and are dropped; output and status unchanged.
test_expect_success 'SIGKILL of mlyze under sampling, 5 times: the program ends with its output and status' '
	printf "%s\n" ready "step1 calls=500000 each=100000/6400000" \
		"step2 calls=300000 grown=100000/9600000 freed=200000" step3 >expect &&
	for i in $(seq 5); do
		fixture_start fx-sample-entries "$TRASH/k.json" 100000 && spid=$FIXTURE_PID &&
		{ "$MLYZE" attach $spid --sample 1K --json -e info -e "sleep 30" >out 2>err & } && mpid=$! &&
		test_poll_ 30 grep -q "\"command\": \"info\"" out &&
		kill -USR1 $spid && sleep 0.0$i && kill -KILL $mpid && { wait $mpid || :; } &&
		wait_for_line fx-sample-entries.out "^step1" 120 && step 2 &&
		kill -USR1 $spid && { wait $spid; code=$?; } && test $code = 0 &&
		test_cmp expect fx-sample-entries.out || return 1
	done
'

test_done
