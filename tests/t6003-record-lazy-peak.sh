#!/bin/bash
# mlyze open measures a recording's peak and phases only when asked: info right after open says the
# peak is not measured yet while the end is already exact; snapshot --at peak, phases and export
# massif measure it, to fx-alloc's known figures; and what snapshot --at replays before that does
# not leak into the peak or the phases (the same answers as a fresh open).

test_description='open: the peak and the phases are measured on first use'
. "$(dirname "$0")/lib/test-lib.sh"

# step N: signal fx-alloc and wait until it printed its line for step N
step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step$1" 5
}
# mark N: SIGUSR1 to the recorder, and wait until it says it wrote mark usr1-N
mark () {
	kill -USR1 $mpid && wait_for_line "$TRASH/rec.err" "^mlyze: mark 'usr1-$1' at " 10
}

# fx-alloc traced from before step 1 (attached: its stdio buffer is not traced). Step 1 leaves 22
# blocks of 8864 bytes live and peaks with fx_temp's 20 blocks of 64 bytes on top; step 2 leaves
# 12 blocks of 7364 bytes. Checkpoints every second, so the end is rebuilt from one.
test_expect_success 'record -p fx-alloc through steps 1 and 2, a mark before each step and at the end' '
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	{ "$MLYZE" record -o rec.mlz --checkpoint 1 -p $apid 2>rec.err & } && mpid=$! &&
	wait_for_line rec.err "^mlyze: recording process" 30 &&
	mark 1 && sleep 1.2 && step 1 && mark 2 && sleep 1.2 && step 2 && mark 3 && sleep 2.2 &&
	kill -INT $mpid && { wait $mpid; code=$?; } && test $code = 0 &&
	test_path_is_sleeping $apid && step 3 && { wait $apid; code=$?; } && test $code = 0 &&
	"$MLYZE" open rec.mlz --json -e info >out &&
	result info | jq -e ".recording.checkpoints >= 2 and .recording.marks == 3 and .recording.complete"
'

test_expect_success 'open: info says the peak is not measured yet; the end is exact already' '
	"$MLYZE" open rec.mlz --json -e info -e "top --top 0" -e "snapshot e" >out 2>err &&
	test_must_be_empty err &&
	result info | jq -e ".recording.peak_bytes == null and .recording.peak_seconds == null" &&
	result "top --top 0" | jq -e ".count == 12 and .size == 7364" &&
	result "snapshot e" | jq -e ".blocks == 12 and .bytes == 7364" &&
	"$MLYZE" open rec.mlz -e info >text &&
	grep -x "peak       not measured yet (phases, export massif and snapshot --at peak replay the whole recording once for it)" text
'

test_expect_success 'snapshot --at peak measures it: step 1 with fx_temp'"'"'s blocks, and info says so after' '
	"$MLYZE" open rec.mlz --json -e "snapshot p --at peak" -e info -e "top --top 0" >out &&
	result "snapshot p --at peak" | jq -e ".blocks == 22 + 20 and .bytes == 8864 + 20 * 64" &&
	result info | jq -e --argjson p "$(result "snapshot p --at peak")" \
		".recording.peak_bytes == 8864 + 20 * 64 and .recording.peak_seconds == \$p.seconds" &&
	result "top --top 0" | jq -e ".count == 12 and .size == 7364" &&
	"$MLYZE" open rec.mlz -e "snapshot p --at peak" -e info >text &&
	grep -E "^peak       10144 bytes at [0-9]+\.[0-9] s$" text
'

test_expect_success 'export massif measures it too' '
	"$MLYZE" open rec.mlz --json -e "export massif m.out" -e info >out &&
	result "export massif m.out" | jq -e ".peak == 8864 + 20 * 64" &&
	result info | jq -e ".recording.peak_bytes == 8864 + 20 * 64"
'

test_expect_success 'replays before the measure leave no trace: the peak and phases of a fresh open' '
	"$MLYZE" open rec.mlz --json -e "phases --top 0" -e "snapshot p --at peak" -e info >fresh.out &&
	"$MLYZE" open rec.mlz --json -e "snapshot a --at usr1-2" -e "snapshot b --at end" -e "snapshot c --at 1" \
		-e "phases --top 0" -e "snapshot p --at peak" -e info >out &&
	for c in "phases --top 0" "snapshot p --at peak" info; do
		result "$c" fresh.out | jq -S "del(.ms)" >expect &&
		result "$c" | jq -S "del(.ms)" >actual &&
		test_cmp expect actual || return 1
	done &&
	result "phases --top 0" | jq -e "[.phases[] | .name] == [\"attach\", \"usr1-1\", \"usr1-2\", \"usr1-3\"] and
		.phases[0].peak_above_start == 0 and .phases[0].delta_bytes == 0 and
		.phases[1].delta_bytes == 8864 and .phases[1].peak_above_start == 8864 + 20 * 64 and
		.phases[2].delta_bytes == 7364 - 8864 and .phases[2].peak_above_start == 0 and
		.phases[3].delta_bytes == 0 and .phases[3].end == null"
'

test_done
