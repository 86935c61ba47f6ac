#!/bin/bash
# mlyze record and mlyze open: fx-alloc recorded through its three steps, then the recording
# answers as the live process did (its known figures per function, to the byte, at the end and
# between two steps, and its peak); a recording cut at 20 offsets, a foreign file and a flipped
# byte; the exit status of a recorded program; SIGKILL of the recorder; a full disk.

test_description='record a process, open the recording'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq SMALL_TMPFS '
	test "$(id -u)" = 0 && mkdir probe && mount -t tmpfs -o size=1m tmpfs probe && umount probe
'

expected_output () { printf "%s\n" ready "step1 misaligned=0" step2 step3; }

# step N: signal fx-alloc and wait until it printed its line for step N
step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step$1" 5
}

# groups CMD: a top or compare result as compact lines, fx_ready's stdio buffer left out
groups () {
	result "$1" | jq -c '.groups[] | select(.function != "fx_ready") | [.function, .blocks, .bytes]'
}


test_expect_success 'record run: the program runs its steps unchanged, and mlyze exits with its status' '
	{ "$MLYZE" record -o rec.mlz --checkpoint 1 run -- "$FIXTURES/fx-alloc" "$TRASH/truth.json" \
		>fx-alloc.out 2>rec.err & } && mpid=$! &&
	wait_for_line fx-alloc.out "^ready" 30 && t0=$(test_now_usec_) && apid=$(jq .pid truth.json) &&
	sleep 1 && step 1 && t1=$(test_now_usec_) && sleep 2.5 && step 2 && t2=$(test_now_usec_) &&
	sleep 2 && step 3 && { wait $mpid; code=$?; } &&
	test "$code" = 0 &&
	expected_output >expect && test_cmp expect fx-alloc.out &&
	grep -x "mlyze: recording process $apid into '"'"'rec.mlz'"'"' (Ctrl-C stops)" rec.err &&
	grep "^mlyze: recorded [0-9]* events, .*: the process ended$" rec.err &&
	echo $(( (t1 + t2) / 2 - t0 )) >between
'

test_expect_success 'open: info says what was recorded' '
	"$MLYZE" open rec.mlz --json -e info >out 2>err &&
	test_must_be_empty err &&
	result info | jq -e --argjson pid $apid ".mode == \"open\" and .state == \"recording\" and
		.recording.pid == \$pid and .recording.name == \"fx-alloc\" and
		(.recording.exe | endswith(\"/fx-alloc\")) and .recording.traced_by == \"agent\" and
		.recording.lost == 0 and .recording.complete and .recording.ended == \"the process ended\" and
		.recording.checkpoints >= 3 and .recording.cut_short == null and
		.recording.read_bytes == .recording.file_bytes" &&
	# allocations: fx_ready 1; step 1 the 22 blocks that stay, 21 temporary ones and the chain'"'"'s 4
	# moves (each realloc frees its old block); frees: those 21 and 4, and the 10 of step 2
	result info | jq -e ".recording.alloc_events == 1 + 22 + 21 + 4 and .recording.free_events == 21 + 4 + 10"
'

test_expect_success 'open: top --by function at the end is fx-alloc after step 2, to the byte' '
	"$MLYZE" open rec.mlz --json -e "top --by function --top 0" -e "snapshot e --at end" \
		-e "compare e now --by function --top 0" >out &&
	groups "top --by function --top 0" >actual && fx_alloc_step2_groups >expect && test_cmp expect actual &&
	result "top --by function --top 0" | jq -e ".blocks == 13 and .bytes == 11460" &&
	result "snapshot e --at end" | jq -e ".blocks == 13 and .bytes == 11460 and .heap_walked == false" &&
	result "compare e now --by function --top 0" | jq -e "[.groups[] | .bytes_diff, .blocks_diff] | all(. == 0)"
'

test_expect_success 'open: snapshot --at a moment between steps 1 and 2 is fx-alloc after step 1' '
	at=$(awk -v u=$(cat between) "BEGIN { printf \"%.1f\", u / 1e6 }") &&
	"$MLYZE" open rec.mlz --json -e "snapshot s1 --at $at" -e "snapshot s0 --at 0" \
		-e "compare s0 s1 --by function --top 0" -e "top --by function --top 0" >out &&
	result "snapshot s1 --at $at" | jq -e ".blocks == 23 and .bytes == 12960 and .seconds == $at" &&
	groups "compare s0 s1 --by function --top 0" >actual && fx_alloc_step1_groups >expect && test_cmp expect actual &&
	# the live set is the end again afterwards
	result "top --by function --top 0" | jq -e ".blocks == 13 and .bytes == 11460"
'

test_expect_success 'open: the peak is step 1 with fx_temp'"'"'s 20 blocks of 64 bytes live' '
	"$MLYZE" open rec.mlz --json -e "snapshot p --at peak" -e info >out &&
	result "snapshot p --at peak" | jq -e ".blocks == 23 + 20 and .bytes == 12960 + 20 * 64" &&
	result info | jq -e ".recording.peak_bytes == 14240"
'

test_expect_success 'open: blocks and export work on a recording; commands that need a process refuse' '
	"$MLYZE" open rec.mlz --json -e "blocks --limit 0" -e "export folded e.folded" >out &&
	result "blocks --limit 0" | jq -e "[.listed[] | .size] | add == 11460" &&
	grep -c "fx_small" e.folded &&
	test_expect_code 1 "$MLYZE" open rec.mlz -e heap -e trim -e "bt" 2>err &&
	cat >expect <<-\EOF &&
	error: this is a recording: it holds allocations and their stacks, not the process'"'"'s memory, registers or threads
	error: '"'"'trim'"'"' needs a live process; this is a recording
	error: this is a recording: it holds allocations and their stacks, not the process'"'"'s memory, registers or threads
	EOF
	test_cmp expect err &&
	test_expect_code 1 "$MLYZE" open rec.mlz -e "snapshot x --at soon" 2>err &&
	echo "error: --at: '"'"'soon'"'"' is not a time (seconds from the start), '"'"'end'"'"', '"'"'peak'"'"' or a mark" >expect &&
	test_cmp expect err
'

test_lazy_prereq GO 'command -v go && HOME=$TRASH go version'

test_expect_success GO 'open: export pprof at the end, read by go tool pprof: flat bytes per function are top'"'"'s' '
	"$MLYZE" open rec.mlz --json -e "export pprof end.pb.gz" -e "top --by function --top 0" >out &&
	HOME=$TRASH GOCACHE=$TRASH/gocache GOPATH=$TRASH/gopath GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off \
		PPROF_TMPDIR=$TRASH/pproftmp PPROF_BINARY_PATH=/nonexistent go tool pprof -symbolize=none -top \
		-nodefraction=0 -nodecount=1000 -unit=B -sample_index=inuse_space end.pb.gz >pprof.out 2>pprof.err &&
	awk '"'"'$1 == "flat" { on = 1; next } on && $1 != "0" { v = $1; sub(/B$/, "", v); print $NF, v }'"'"' pprof.out |
		sort >actual &&
	result "top --by function --top 0" | jq -r ".groups[] | \"\(.function) \(.bytes)\"" | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'open names frames only from the very binaries recorded: another build or none gives addresses' '
	cp "$FIXTURES/fx-alloc" ./fx-copy && rm -f fx-alloc.out &&
	{ "$MLYZE" record -o copy.mlz run -- ./fx-copy "$TRASH/copy.json" >fx-alloc.out 2>copy.err & } && mpid=$! &&
	wait_for_line fx-alloc.out "^ready" 30 && apid=$(jq .pid copy.json) &&
	step 1 && step 2 && step 3 && { wait $mpid; code=$?; } && test $code = 0 &&
	"$MLYZE" open copy.mlz --json -e "top --by function --top 0" >out 2>err && test_must_be_empty err &&
	groups "top --by function --top 0" >actual && fx_alloc_step2_groups >expect && test_cmp expect actual &&
	id=$(readelf -n fx-copy | sed -n "s/.*Build ID: //p") && test -n "$id" &&
	cp "$FIXTURES/fx-trend" ./fx-copy && other=$(readelf -n fx-copy | sed -n "s/.*Build ID: //p") &&
	"$MLYZE" open copy.mlz --json -e "top --by function --top 0" >out 2>err &&
	echo "mlyze: the recording'"'"'s module '"'"'$TRASH/fx-copy'"'"' had build-id $id, the file there now has $other: its frames show as addresses" >expect &&
	test_cmp expect err &&
	result "top --by function --top 0" | jq -e "[.groups[] | .function | strings | select(startswith(\"fx_\"))] == [] and .bytes == 11460" &&
	rm fx-copy &&
	"$MLYZE" open copy.mlz --json -e "top --by function --top 0" >out 2>err &&
	echo "mlyze: the recording'"'"'s module '"'"'$TRASH/fx-copy'"'"' cannot be read now (No such file or directory): its frames show as addresses" >expect &&
	test_cmp expect err &&
	result "top --by function --top 0" | jq -e "[.groups[] | .function | strings | select(startswith(\"fx_\"))] == [] and .bytes == 11460"
'

test_expect_success '--at on a live process is refused (run mode: the status is the program'"'"'s)' '
	"$MLYZE" run -e "snapshot x --at 1" -- true >out 2>err &&
	test_must_be_empty out &&
	grep -x "error: --at needs a recording (mlyze open FILE)" err
'

test_expect_success 'a recording cut at 20 offsets: read up to its last complete chunk, never a crash' '
	size=$(stat -c %s rec.mlz) && prev=0 &&
	for i in $(seq 1 20); do
		off=$((size * i / 21)) && head -c $off rec.mlz >cut.mlz &&
		{ "$MLYZE" open cut.mlz --json -e info -e "top --top 0" -e "snapshot x --at peak" >out 2>err; code=$?; } &&
		if test $code = 2; then
			grep -E "^mlyze: cannot open recording '"'"'cut.mlz'"'"': the recording has no complete chunk \(cut off in a chunk( header)? at byte 16\)$" err ||
				return 1
			test $prev = 0 || return 1
		else
			test $code = 0 && test_must_be_empty err &&
			ev=$(result info | jq ".recording.events") &&
			result info | jq -e --argjson off $off ".recording.read_bytes <= \$off and
				(.recording.cut_short == null and .recording.read_bytes == \$off or
				 (.recording.cut_short | strings | test(\"^cut off in a chunk( header)? at byte [0-9]+$\"))) and
				.recording.complete == false" &&
			test "$ev" -ge "$prev" && prev=$ev &&
			result "top --top 0" | jq -e ".blocks >= 0" || return 1
		fi
	done &&
	test $prev -gt 0
'

test_expect_success 'a foreign file and a flipped byte are refused clearly' '
	printf "not a recording at all\n" >foreign &&
	test_expect_code 2 "$MLYZE" open foreign -e info 2>err &&
	echo "mlyze: load: '"'"'foreign'"'"' is not an mlyze snapshot file" >expect && test_cmp expect err &&
	test_expect_code 2 "$MLYZE" open nosuch -e info 2>err &&
	echo "mlyze: load: cannot open '"'"'nosuch'"'"': No such file or directory" >expect &&
	test_cmp expect err &&
	cp rec.mlz flip1.mlz && printf "\\377" | dd of=flip1.mlz bs=1 seek=60 conv=notrunc 2>/dev/null &&
	test_expect_code 2 "$MLYZE" open flip1.mlz -e info 2>err &&
	echo "mlyze: cannot open recording '"'"'flip1.mlz'"'"': the recording has no complete chunk (a damaged chunk at byte 16)" >expect &&
	test_cmp expect err &&
	# a byte of the last chunk: what comes before it still answers
	size=$(stat -c %s rec.mlz) && cp rec.mlz flip2.mlz &&
	printf "\\377" | dd of=flip2.mlz bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null &&
	"$MLYZE" open flip2.mlz --json -e info >out 2>err && test_must_be_empty err &&
	result info | jq -e ".recording.cut_short | test(\"^a damaged chunk at byte [0-9]+$\")"
'

test_expect_success 'record run: the program'"'"'s exit status is mlyze'"'"'s' '
	test_expect_code 7 "$MLYZE" record -o sh.mlz run -- sh -c "exit 7" 2>err &&
	test_expect_code 64 "$MLYZE" record -o sh.mlz run -- sh -c "exit 7" 2>err &&
	test_expect_code 7 "$MLYZE" record --force -o sh.mlz run -- sh -c "exit 7" 2>err &&
	"$MLYZE" open sh.mlz --json -e info >out &&
	result info | jq -e ".recording.ended == \"the process ended\" and .recording.complete"
'

test_expect_success 'record --duration: the recording ends, the process runs on untraced' '
	rm -f fx-alloc.out && fixture_start fx-alloc "$TRASH/t2.json" && apid=$FIXTURE_PID &&
	"$MLYZE" record -o d.mlz --duration 1.5 -p $apid 2>err &&
	grep "^mlyze: recorded .*: its duration ended$" err &&
	test_path_is_sleeping $apid &&
	step 1 && step 2 && step 3 && { wait $apid; code=$?; } && test $code = 0 &&
	"$MLYZE" open d.mlz --json -e info >out &&
	result info | jq -e ".recording.complete and .recording.ended == \"its duration ended\" and
		.recording.seconds >= 1.5"
'

test_expect_success 'record --breakpoints: the same figures at the end' '
	rm -f fx-alloc.out &&
	{ "$MLYZE" record -o bp.mlz --breakpoints run -- "$FIXTURES/fx-alloc" "$TRASH/bp.json" \
		>fx-alloc.out 2>bp.err & } && mpid=$! &&
	wait_for_line fx-alloc.out "^ready" 30 && apid=$(jq .pid bp.json) &&
	step 1 && step 2 && step 3 && { wait $mpid; code=$?; } && test $code = 0 &&
	"$MLYZE" open bp.mlz --json -e "top --by function --top 0" -e info >out &&
	result info | jq -e ".recording.traced_by == \"breakpoints\" and .recording.complete" &&
	groups "top --by function --top 0" >actual && fx_alloc_step2_groups >expect && test_cmp expect actual
'

# fx-stacks: KEEP blocks each from a stack of its own, then 2 x CHURN blocks from new stacks freed
# at once, so the live set releases stacks and gives their ids to new ones while recording
test_expect_success 'stacks released and ids reused while recording: each kept block keeps its own stack' '
	fixture_start fx-stacks "$TRASH/fs.json" 2000 20000 && spid=$FIXTURE_PID &&
	{ "$MLYZE" record -o s.mlz -p $spid 2>serr & } && mpid=$! &&
	wait_for_line serr "^mlyze: recording process" 30 && t0=$(test_now_usec_) && sleep 1 &&
	kill -USR1 $spid && wait_for_line fx-stacks.out "^step1" 60 && t1=$(test_now_usec_) && sleep 2 &&
	kill -USR1 $spid && wait_for_line fx-stacks.out "^step2" 60 && t2=$(test_now_usec_) &&
	kill -USR1 $spid && wait_for_line fx-stacks.out "^step3" 60 && sleep 1.2 &&
	kill -INT $mpid && { wait $mpid; code=$?; } && test $code = 0 &&
	kill -USR1 $spid && { wait $spid; code=$?; } && test $code = 0 &&
	at=$(awk -v a=$t0 -v b=$t1 -v c=$t2 "BEGIN { printf \"%.1f\", ((b + c) / 2 - a) / 1e6 }") &&
	"$MLYZE" open s.mlz --json -e info -e "top --by stack --top 0" -e "snapshot s0 --at 0" \
		-e "snapshot s1 --at $at" -e "compare s0 s1 --by stack --top 0" >out &&
	kept=$(jq .kept fs.json.step1) && test "$kept" = 2000 &&
	result "top --by stack --top 0" | jq -e --argjson k $kept "[.groups[] | select(.bytes == 48)] |
		length == \$k and all(.blocks == 1)" &&
	result "compare s0 s1 --by stack --top 0" | jq -e --argjson k $kept "[.groups[] | select(.bytes == 48)] |
		length == \$k and all(.blocks_diff == 1)" &&
	# the fixture counts its own mallocs; what else was allocated is live at the end
	mallocs=$(jq .mallocs fs.json.step3) &&
	result info | jq -e --argjson m $mallocs --argjson k $kept --argjson n "$(result "top --by stack --top 0" | jq .blocks)" \
		".recording.alloc_events - \$m == \$n - \$k and .recording.free_events == \$m - \$k and .recording.lost == 0"
'

test_expect_success 'SIGINT and SIGTERM end a recording cleanly; the process runs on' '
	rm -f fx-alloc.out && fixture_start fx-alloc "$TRASH/t4.json" && apid=$FIXTURE_PID &&
	{ "$MLYZE" record -o i.mlz -p $apid 2>ierr & } && mpid=$! &&
	wait_for_line ierr "^mlyze: recording process" 30 && step 1 && sleep 0.3 &&
	kill -INT $mpid && { wait $mpid; code=$?; } && test $code = 0 &&
	grep "^mlyze: recorded .*: a signal ended it$" ierr &&
	test_path_is_sleeping $apid &&
	{ "$MLYZE" record -o t.mlz -p $apid 2>terr & } && mpid=$! &&
	wait_for_line terr "^mlyze: recording process" 30 && step 2 && sleep 0.3 &&
	kill -TERM $mpid && { wait $mpid; code=$?; } && test $code = 143 &&
	test_path_is_sleeping $apid &&
	step 3 && { wait $apid; code=$?; } && test $code = 0 &&
	expected_output >expect && test_cmp expect fx-alloc.out &&
	"$MLYZE" open i.mlz --json -e "top --by function --top 0" -e info >out &&
	result info | jq -e ".recording.complete and .recording.ended == \"a signal ended it\"" &&
	groups "top --by function --top 0" >actual && fx_alloc_step1_groups >expect && test_cmp expect actual &&
	# the second recording began with step 1'"'"'s blocks live, unseen: it sees step 2'"'"'s frees only
	"$MLYZE" open t.mlz --json -e info >out &&
	result info | jq -e ".recording.alloc_events == 0 and .recording.free_events == 0 and .recording.complete"
'

test_expect_success 'SIGKILL of the recorder: the process runs on, the file reads up to its last chunk' '
	rm -f fx-alloc.out && fixture_start fx-alloc "$TRASH/t3.json" && apid=$FIXTURE_PID &&
	{ "$MLYZE" record -o k.mlz -p $apid 2>kerr & } && mpid=$! &&
	wait_for_line kerr "^mlyze: recording process" 30 && step 1 && sleep 2.5 &&
	kill -KILL $mpid && { wait $mpid; code=$?; } && test $code = 137 &&
	test_poll_ 5 test_path_is_sleeping $apid &&
	step 2 && step 3 && { wait $apid; code=$?; } && test $code = 0 &&
	expected_output >expect && test_cmp expect fx-alloc.out &&
	"$MLYZE" open k.mlz --json -e info -e "top --by function --top 0" >out &&
	result info | jq -e ".recording.complete == false and .recording.ended == null" &&
	groups "top --by function --top 0" >actual && fx_alloc_step1_groups >expect && test_cmp expect actual
'

test_expect_success SMALL_TMPFS 'a full disk stops the recording with a message; the process runs on' '
	mkdir full && mount -t tmpfs -o size=256k tmpfs full &&
	{
		fixture_start fx-stress "$TRASH/st.json" 2 400000000 && spid=$FIXTURE_PID &&
		{ "$MLYZE" record -o full/r.mlz -p $spid 2>ferr & } && mpid=$! &&
		wait_for_line ferr "^mlyze: recording process" 30 && kill -USR1 $spid &&
		{ wait $mpid; code=$?; } && test $code = 1 &&
		grep -x "mlyze: recording stopped: cannot write the recording: No space left on device" ferr &&
		grep "^mlyze: recorded .*: a write failed$" ferr &&
		test_path_is_sleeping $spid &&
		"$MLYZE" open full/r.mlz --json -e info >out &&
		result info | jq -e ".recording.chunks >= 1 and .recording.complete == false and
			.recording.read_bytes < .recording.file_bytes"
	}
	ret=$?
	fixture_stop $spid
	umount full
	return $ret
'

test_expect_success 'bad command lines' '
	test_expect_code 64 "$MLYZE" record -p 1 2>err &&
	grep -x "mlyze: record: no recording file given (-o FILE)" err &&
	test_expect_code 64 "$MLYZE" record -o x.mlz 2>err &&
	grep -x "mlyze: record: no process given (expected '"'"'attach PID'"'"', '"'"'-p PID'"'"' or '"'"'run PROGRAM'"'"')" err &&
	test_expect_code 64 "$MLYZE" record -o x.mlz -e info -p 1 2>err &&
	grep -x "mlyze: record runs no commands (-e, -x) and needs tracing (no --no-trace)" err &&
	test_expect_code 64 "$MLYZE" record -o nodir/x.mlz -p 1 2>err &&
	grep -x "mlyze: cannot write '"'"'nodir/x.mlz'"'"': No such file or directory" err &&
	test_expect_code 64 "$MLYZE" --duration 3 -p 1 2>err &&
	grep -x "mlyze: --duration, --checkpoint, --max-stack-depth and --force are for record" err &&
	echo old >exists && test_expect_code 64 "$MLYZE" record -o exists -p 1 2>err &&
	grep -x "mlyze: '"'"'exists'"'"' exists already; --force replaces it" err && echo old >expect && test_cmp expect exists &&
	ln -s exists link && test_expect_code 64 "$MLYZE" record --force -o link -p 1 2>err &&
	grep -x "mlyze: '"'"'link'"'"' is a symbolic link; record does not write through one or replace it, even with --force" err &&
	test_cmp expect exists &&
	test_expect_code 64 "$MLYZE" open 2>err &&
	grep -x "mlyze: open: no file given (saved snapshots, or a recording)" err
'

test_done
