#!/bin/bash
# mlyze record's marks (SIGUSR1 to the recorder), and what `open` makes of them: snapshot --at MARK
# equal to fx-alloc's known figures after each step and to a live session's snapshot at the same
# step of another run; phases equal to the live session's phases begun by `mark` at the same steps;
# timeline and its exports charting the recording's samples and marks; --max-stack-depth.

test_description='record marks, snapshot --at MARK, phases and timeline on a recording'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq MS_PRINT 'command -v ms_print'
test_lazy_prereq PYTHON3 'command -v python3'

# step N: signal fx-alloc and wait until it printed its line for step N
step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step$1" 5
}
# mark N: SIGUSR1 to the recorder, and wait until it says it wrote mark usr1-N
mark () {
	kill -USR1 $mpid && wait_for_line "$TRASH/rec.err" "^mlyze: mark 'usr1-$1' at " 10
}

# fx_* groups of a top --by function result: fx_ready's stdio buffer (untraced in a live attach) left out
fx_groups () {
	jq -c '.groups[] | select(.function | strings | startswith("fx_")) | select(.function != "fx_ready") |
		[.function, .blocks, .bytes]'
}

test_expect_success 'record -p with a mark before step 1 and after steps 1 and 2 (SIGUSR1 to mlyze)' '
	record_fx_alloc_marked &&
	grep -E "^mlyze: mark '"'"'usr1-1'"'"' at [0-9.]+ s: 0 blocks, 0 bytes live$" rec.err &&
	grep -E "^mlyze: mark '"'"'usr1-2'"'"' at [0-9.]+ s: 22 blocks, 8864 bytes live$" rec.err &&
	grep -E "^mlyze: mark '"'"'usr1-3'"'"' at [0-9.]+ s: 12 blocks, 7364 bytes live$" rec.err &&
	"$MLYZE" open rec.mlz --json -e info >out 2>err && test_must_be_empty err &&
	result info | jq -e ".recording.marks == 3 and .recording.samples >= 5 and .recording.checkpoints >= 2 and
		.recording.lost == 0 and .recording.complete and .recording.sampled == false" &&
	"$MLYZE" open rec.mlz -e info >text &&
	grep -E "^events     [0-9]+ \([0-9]+ allocations, [0-9]+ frees\), every call, 0 lost, [0-9]+ stacks, [0-9]+ checkpoints$" text &&
	grep -x "samples    $(result info | jq .recording.samples) (one a second), 3 marks" text
'

test_expect_success 'snapshot --at a mark is fx-alloc after that step, to the byte, with the mark'"'"'s time and RSS' '
	"$MLYZE" open rec.mlz --json -e "snapshot m1 --at usr1-1" -e "snapshot m2 --at usr1-2" \
		-e "snapshot m3 --at usr1-3" -e "top m2 --by function --top 0" -e "top m3 --by function --top 0" \
		-e "timeline" >out 2>err && test_must_be_empty err &&
	result "snapshot m1 --at usr1-1" | jq -e ".blocks == 0 and .bytes == 0" &&
	result "snapshot m2 --at usr1-2" | jq -e ".blocks == 22 and .bytes == 8864 and (.ms | type) == \"number\"" &&
	result "snapshot m3 --at usr1-3" | jq -e ".blocks == 12 and .bytes == 7364" &&
	result "top m2 --by function --top 0" | fx_groups >actual && fx_alloc_step1_groups >expect && test_cmp expect actual &&
	result "top m3 --by function --top 0" | fx_groups >actual && fx_alloc_step2_groups >expect && test_cmp expect actual &&
	# each snapshot stands at its mark'"'"'s time, with the RSS the mark took
	for m in 1 2 3; do
		result timeline | jq -e --arg m usr1-$m --argjson s "$(result "snapshot m$m --at usr1-$m")" \
			"[.points[] | select(.name == \$m)][0] | .kind == \"mark\" and .seconds == \$s.seconds and
			 .rss == \$s.rss and .rss > 0 and .bytes == \$s.bytes and .blocks == \$s.blocks" || return 1
	done &&
	test_expect_code 1 "$MLYZE" open rec.mlz -e "snapshot x --at usr1-9" 2>err &&
	echo "error: --at: '"'"'usr1-9'"'"' is not a time (seconds from the start), '"'"'end'"'"', '"'"'peak'"'"' or a mark" >expect &&
	test_cmp expect err
'

# The same steps in another run of fx-alloc, with a live session taking a snapshot and a mark at each
test_expect_success 'a live session at the same steps of another run: the same snapshots and phases' '
	rm -f fx-alloc.out && fixture_start fx-alloc "$TRASH/live.json" && apid=$FIXTURE_PID &&
	mlz_start $apid --json &&
	mlz "mark usr1-1" && step 1 && mlz "snapshot l2" && mlz "mark usr1-2" &&
	step 2 && mlz "snapshot l3" && mlz "mark usr1-3" &&
	mlz "top l2 --by function --top 0" && mlz "top l3 --by function --top 0" && mlz "phases --top 0" &&
	mlz_end && test_path_is_sleeping $apid && step 3 && { wait $apid; code=$?; } && test $code = 0 &&
	mv out live.out &&
	"$MLYZE" open rec.mlz --json -e "snapshot m2 --at usr1-2" -e "snapshot m3 --at usr1-3" \
		-e "top m2 --by function --top 0" -e "top m3 --by function --top 0" -e "phases --top 0" >out &&
	for n in 2 3; do
		result "top l$n --by function --top 0" live.out | fx_groups >live.groups &&
		result "top m$n --by function --top 0" | fx_groups >rec.groups &&
		test_cmp live.groups rec.groups &&
		# a live snapshot holds the blocks from before attach too (untraced): the traced ones are equal
		result "snapshot l$n" live.out | jq -e --argjson r "$(result "snapshot m$n --at usr1-$n")" \
			".blocks - .untraced_blocks == \$r.blocks and .bytes - .untraced_bytes == \$r.bytes" || return 1
	done &&
	# phases: the same names, deltas and own peaks (fx_temp'"'"'s 20 blocks of 64 bytes in step 1)
	proj=".phases[] | [.name, .delta_bytes, .delta_blocks, .peak_above_start, ([.groups[] | [.function, .bytes_diff, .blocks_diff]] | sort)]" &&
	result "phases --top 0" live.out | jq -c "$proj" >live.phases &&
	result "phases --top 0" | jq -c "$proj" >rec.phases &&
	test_cmp live.phases rec.phases &&
	result "phases --top 0" | jq -e "[.phases[] | .name] == [\"attach\", \"usr1-1\", \"usr1-2\", \"usr1-3\"] and
		.phases[1].delta_bytes == 8864 and .phases[1].delta_blocks == 22 and
		.phases[1].peak_above_start == 8864 + 20 * 64 and
		.phases[2].delta_bytes == 7364 - 8864 and .phases[2].delta_blocks == -10 and
		.phases[3].end == null"
'

test_expect_success 'phases are measured once: snapshot --at in between does not move them' '
	"$MLYZE" open rec.mlz --json -e "phases --top 0" -e "snapshot a --at usr1-2" -e "snapshot b --at 0" \
		-e "phases --top 1" >out &&
	result "phases --top 0" | jq -c "[.phases[] | [.delta_bytes, .peak_above_start]]" >before &&
	result "phases --top 1" | jq -c "[.phases[] | [.delta_bytes, .peak_above_start]]" >after &&
	test_cmp before after
'

test_expect_success 'timeline: the samples, once a second, charted with the marks; the last one is step 2'"'"'s live bytes' '
	"$MLYZE" open rec.mlz --json -e timeline -e info >out &&
	result timeline >tl &&
	jq -e --argjson n "$(result info | jq .recording.samples)" "[.points[] | select(.kind == \"sample\")] | length == \$n" tl &&
	jq -e "[.points[] | .seconds] | . == sort" tl &&
	jq -e "[.points[] | select(.kind == \"sample\")] | last | .bytes == 7364 and .blocks == 12 and .rss > 0" tl &&
	jq -e "[.points[] | select(.kind == \"mark\") | .name] == [\"usr1-1\", \"usr1-2\", \"usr1-3\"]" tl &&
	"$MLYZE" open rec.mlz -e "timeline --width 40 --height 8" >text &&
	grep -x "# and $(jq "[.points[] | select(.kind == \"sample\")] | length" tl) samples of the recording, one a second (--json lists them)" text &&
	grep -E "^1 mark     usr1-1 +[0-9.]+ s  0 blocks, 0 B live; heap not walked; RSS " text &&
	grep -E "^3 mark     usr1-3 +[0-9.]+ s  12 blocks, 7.2 KiB live; heap not walked; RSS " text
'

test_expect_success MS_PRINT 'export massif of a recording: ms_print reads each mark and sample with its bytes, and the peak' '
	"$MLYZE" open rec.mlz --json -e "export massif m.out" -e timeline -e info >out &&
	result timeline >tl &&
	result "export massif m.out" | jq -e --argjson n "$(jq ".points | length" tl)" ".records == \$n + 1 and .peak == 8864 + 20 * 64" &&
	ms_print m.out >ms.out &&
	awk "/^ *[0-9]+ +[0-9,]+ +[0-9,]+ +[0-9,]+ +0 +0\$/ { gsub(\",\", \"\"); print \$1, \$3 }" ms.out >totals &&
	n=$(grep "Detailed snapshots:" ms.out | grep -o "[0-9]* (peak)" | cut -d" " -f1) && test -n "$n" &&
	grep -x "$n 10144" totals &&
	jq -r ".points[] | .traced_bytes" tl >expect.points &&
	grep -v "^$n " totals | cut -d" " -f2 >actual.points && test_cmp expect.points actual.points
'

test_expect_success PYTHON3 'export svg-timeline of a recording: well-formed, a titled point per sample and mark and series' '
	"$MLYZE" open rec.mlz --json -e "export svg-timeline t.svg" -e timeline >out &&
	python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" t.svg &&
	n=$(result timeline | jq "[.points[] | select(.rss != null)] | length") &&
	m=$(result timeline | jq ".points | length") &&
	test "$(grep -c "<circle" t.svg)" = $((m + n)) &&
	grep -c "(sample) at " t.svg &&
	grep -A1 -F "<title>usr1-3 (mark) at " t.svg | grep -x "live bytes (mlyze): 7364 bytes (7.2 KiB)</title></circle>"
'

test_expect_success 'a recording without marks: phases has the one phase, timeline its samples' '
	rm -f fx-alloc.out &&
	{ "$MLYZE" record -o plain.mlz run -- "$FIXTURES/fx-alloc" "$TRASH/p.json" >fx-alloc.out 2>p.err & } && mpid=$! &&
	wait_for_line fx-alloc.out "^ready" 30 && apid=$(jq .pid p.json) &&
	step 1 && step 2 && sleep 1.2 && step 3 && { wait $mpid; code=$?; } && test $code = 0 &&
	"$MLYZE" open plain.mlz --json -e "phases" -e timeline -e info >out &&
	result phases | jq -e "[.phases[] | .name] == [\"attach\"] and .phases[0].delta_bytes == 11460" &&
	result info | jq -e ".recording.marks == 0" &&
	result timeline | jq -e "[.points[] | .kind] | unique == [\"sample\"]"
'

test_expect_success 'record --max-stack-depth 2: every recorded stack has at most 2 frames, the bytes are the same' '
	rm -f fx-alloc.out &&
	{ "$MLYZE" record -o d2.mlz --max-stack-depth 2 run -- "$FIXTURES/fx-alloc" "$TRASH/d.json" \
		>fx-alloc.out 2>d.err & } && mpid=$! &&
	wait_for_line fx-alloc.out "^ready" 30 && apid=$(jq .pid d.json) &&
	step 1 && step 2 && step 3 && { wait $mpid; code=$?; } && test $code = 0 &&
	"$MLYZE" open d2.mlz --json -e "top --by stack --top 0" -e "top --by function --top 0" -e info >out &&
	result "top --by stack --top 0" | jq -e "[.groups[] | .stack | length] | max <= 2" &&
	result "top --by stack --top 0" | jq -e ".blocks == 13 and .bytes == 11460" &&
	"$MLYZE" open plain.mlz --json -e "top --by stack --top 0" >deep.out &&
	result "top --by stack --top 0" deep.out | jq -e "[.groups[] | .stack | length] | max > 2" &&
	# by function the same, but for fx_ready'"'"'s stdio buffer: malloc'"'"'s caller is deep in printf
	result "top --by function --top 0" | fx_groups | sort >actual &&
	"$MLYZE" open plain.mlz --json -e "top --by function --top 0" >deep.out &&
	result "top --by function --top 0" deep.out | fx_groups | sort >expect &&
	fx_alloc_step2_groups | sort >expect2 && test_cmp expect2 expect && test_cmp expect actual &&
	test_expect_code 64 "$MLYZE" record -o x.mlz --max-stack-depth 0 -p 1 2>err &&
	echo "mlyze: --max-stack-depth: '"'"'0'"'"' is not a number of frames from 1 to 256" >expect &&
	echo "try '"'"'mlyze --help'"'"'" >>expect &&
	test_cmp expect err &&
	test_expect_code 64 "$MLYZE" --max-stack-depth 4 -p 1 2>err &&
	echo "mlyze: --duration, --checkpoint, --max-stack-depth and --force are for record" >expect &&
	echo "try '"'"'mlyze --help'"'"'" >>expect &&
	test_cmp expect err
'

# bench/mixed (the issue's workload: four threads, a seeded mix of calls, a known leak) recorded
# whole: at the end the live blocks are the leak mixed reports of itself, to the byte, plus the
# four threads' TLS vectors that main's pthread_create allocated; no event lost.
test_expect_success 'record mixed -r 5: at the end, the leak mixed reports and the threads'"'"' TLS vectors' '
	cc -O2 -g -pthread -o mixed "$TEST_DIRECTORY/../bench/mixed.c" &&
	"$MLYZE" record -o mixed.mlz run -- ./mixed -r 5 >/dev/null 2>mixed.err &&
	lb=$(sed -n "s/.*leaked_blocks=\([0-9]*\) .*/\1/p" mixed.err) &&
	lbytes=$(sed -n "s/.*leaked_bytes=\([0-9]*\) .*/\1/p" mixed.err) &&
	test "$lb" -gt 0 &&
	"$MLYZE" open mixed.mlz --json -e info -e "top --by function --top 0" >out &&
	result info | jq -e ".recording.lost == 0" &&
	result "top --by function --top 0" | jq -e --argjson b "$lb" --argjson y "$lbytes" "
		([.groups[] | select(.function | strings | startswith(\"w_\"))] | [(map(.blocks) | add), (map(.bytes) | add)]) == [\$b, \$y] and
		([.groups[] | select(.function == \"main\")] | .[0].blocks == 4) and
		.blocks == \$b + 4"
'

test_done
