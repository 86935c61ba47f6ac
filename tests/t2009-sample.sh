#!/bin/bash
# Byte sampling in agent mode (--sample, set sample): estimates per site against the fixture's own
# figures, blocks of the mean or more all found, frees of sampled blocks seen, threads and fork,
# every estimate labelled, exact figures without it, and the refusals.

test_description='agent mode: byte sampling estimates, labelled, with their frees'
. "$(dirname "$0")/lib/test-lib.sh"

# Every run samples the same calls: the agent's generators start from this seed.
export MLYZE_SAMPLE_SEED=20091

# step N: signal fx-sample and wait until it printed its line for step N
step () {
	kill -USR1 $spid && wait_for_line "$TRASH/fx-sample.out" "^step$1" 120
}

# The fixture's figures at --sample 64K (mean m = 65536): a site of N blocks of s bytes, each
# recorded with p = 1 - exp(-s/m) and counted 1/p times, has an estimate of relative standard
# deviation sqrt((1 - p) / (N p)) (the countdown makes the recorded count Poisson-like, the same
# variance): 3.2M x 64 B (p = 0.000976): 1.8 %, after half is freed 2.5 %; 3000 x 32 KiB
# (p = 0.393): 2.3 %, after 3.2 %; the threads' 1.6M x 64 B: 2.5 %. 10 % is 4 or more standard
# deviations (3.1 for the freed medium site, checked at 15 %: 4.7): a seed failing them has a
# chance under 1e-4 (3e-3 for the freed medium site at 10 %). 100 KiB blocks are above the mean:
# always recorded, counted once, exact.
test_expect_success '--sample 64K: estimates per site within 10 %, every large block, frees, threads, fork' '
	fixture_start fx-sample "$TRASH/truth.json" && spid=$FIXTURE_PID &&
	mlz_start $spid --json --sample 64K && mlz info &&
	result info | jq -e ".tracing.by == \"agent\" and .tracing.sample_mean == 65536 and .estimated == true" &&
	step 1 &&
	mlz "top --by function --top 0" && mlz "blocks --min-size 65536 --limit 0" && mlz stats &&
	cp out step1.out &&
	result "top --by function --top 0" | jq -e ".estimated == true and .sample_bytes == 65536 and
		(.estimate | test(\"1 - exp\"))" &&
	grep -x "step1 small=3200000/204800000 medium=3000/98304000 large=50/5120000" fx-sample.out &&
	within 10 $(site fx_small bytes) 204800000 &&
	within 10 $(site fx_small blocks) 3200000 &&
	within 10 $(site fx_medium bytes) 98304000 &&
	within 10 $(site fx_medium blocks) 3000 &&
	test $(site fx_large blocks) = 50 &&
	test $(site fx_large bytes) = 5120000 &&
	result "blocks --min-size 65536 --limit 0" | jq -e ".estimated == true and ([.listed[] | select(.size == 102400)] | length) == 50" &&
	result stats | jq -e ".mode == \"agent\" and .sample_mean == 65536 and .lost == 0 and .sample_dropped == 0 and
		.estimated == true and .unsampled > 3000000 and .recorded_blocks < 6000 and .unknown_frees == 0" &&

	step 2 &&
	mlz "top --by function --top 0" &&
	grep -x "step2 small=1600000/102400000 medium=1500/49152000 large=25/2560000" fx-sample.out &&
	within 10 $(site fx_small bytes) 102400000 &&
	within 15 $(site fx_medium bytes) 49152000 &&
	test $(site fx_large blocks) = 25 &&
	within 10 $(last "top --by function --top 0" | jq ".bytes") 154112000 &&

	step 3 &&
	mlz "top --by function --top 0" &&
	grep -x "step3 threads=1600000/102400000" fx-sample.out &&
	within 10 $(site fx_thread_work bytes) 102400000 &&
	last "top --by function --top 0" | jq -e "[.groups[] | select(.function == \"fx_thread_work\")] | length == 1" &&

	step 4 && mlz "top --by function --top 0" && mlz stats &&
	grep -x "step4 child status=0" fx-sample.out &&
	test $(site fx_child blocks) = 0 &&
	last stats | jq -e ".lost == 0 and .unknown_frees == 0 and .sample_dropped == 0" &&
	mlz quit && mlz_end && step 5 && wait $spid
'

# At --sample 1K the fixture (SCALE 10) records about 20,000 live blocks: the agent's address set
# (room for 32K at first) grows while the process runs; what found no room meanwhile is counted.
test_expect_success 'the address set grows with the live samples; drops, if any, are counted' '
	fixture_start fx-sample "$TRASH/truth.json" 10 && spid=$FIXTURE_PID &&
	mlz_start $spid --json --sample 1K && mlz info && step 1 && mlz "top --by function --top 0" && mlz stats &&
	within 10 $(site fx_small bytes) 20480000 &&
	test $(site fx_large blocks) = 50 &&
	result stats | jq -e ".recorded_blocks > 15000 and .sample_dropped < .recorded_blocks / 20 and .lost == 0" &&
	step 2 && mlz "top --by function --top 0" &&
	within 10 $(site fx_small bytes) 10240000 &&
	mlz quit && mlz_end && fixture_stop $spid
'

# Counts round 1/p by the block's address (liveset_weigh), which differs from run to run.
test_expect_success 'the same seed samples the same calls: equal bytes in two runs' '
	for run in 1 2; do
		fixture_start fx-sample "$TRASH/truth$run.json" 10 && spid=$FIXTURE_PID &&
		mlz_start $spid --json --sample 64K && mlz info && step 1 && step 2 && mlz "top --by function --top 0" &&
		result "top --by function --top 0" | jq -c "[.groups[] | select(.function | startswith(\"fx_\")) |
			[.function, .bytes]]" >run$run &&
		mlz quit && mlz_end && fixture_stop $spid || return 1
	done &&
	test_cmp run1 run2 && test -s run1
'

test_expect_success 'without --sample: exact, nothing labelled an estimate' '
	fixture_start fx-sample "$TRASH/truth.json" 100 && spid=$FIXTURE_PID &&
	mlz_start $spid --json && mlz info && step 1 && step 2 && mlz "top --by function --top 0" && mlz stats &&
	result "top --by function --top 0" | jq -c "[.groups[] | select(.function | startswith(\"fx_\")) |
		[.function, .blocks, .bytes]], has(\"estimated\")" >actual &&
	cat >expect <<-\EOF &&
	[["fx_large",25,2560000],["fx_small",16000,1024000],["fx_medium",15,491520]]
	false
	EOF
	test_cmp expect actual &&
	result stats | jq -e ".sample_mean == 0 and .unsampled == 0 and (has(\"estimated\") | not)" &&
	mlz quit && mlz_end && fixture_stop $spid
'

test_expect_success 'set sample while attached: blocks recorded exactly keep their frees; labelled from then on' '
	fixture_start fx-sample "$TRASH/truth.json" 100 && spid=$FIXTURE_PID &&
	mlz_start $spid --json && mlz info && step 1 &&
	mlz "set sample 64K" && result "set sample 64K" | jq -e ".sample == 65536" &&
	step 2 && mlz "top --by function --top 0" && mlz "set sample 0" && mlz "top --by function --top 0" &&
	mlz stats &&
	result "top --by function --top 0" | jq -c ".estimated, [.groups[] | select(.function | startswith(\"fx_\")) |
		[.function, .blocks, .bytes]]" >actual &&
	cat >expect <<-\EOF &&
	true
	[["fx_large",25,2560000],["fx_small",16000,1024000],["fx_medium",15,491520]]
	true
	[["fx_large",25,2560000],["fx_small",16000,1024000],["fx_medium",15,491520]]
	EOF
	test_cmp expect actual &&
	result stats | jq -e ".sample_mean == 0 and .estimated == true and .unknown_frees == 0" &&
	mlz quit && mlz_end && fixture_stop $spid
'

test_expect_success 'text output marks estimates with ~ and names the mean' '
	fixture_start fx-sample "$TRASH/truth.json" 100 && spid=$FIXTURE_PID &&
	{ "$MLYZE" attach $spid --sample 64K -e "sleep 0.5" -e "top --by function --top 2" -e stats -e info \
		>text.out 2>text.err & } && mpid=$! &&
	wait $mpid &&
	grep -x "~ estimated from byte sampling, mean 64 KiB (a recorded block of s bytes stands for 1/p, p = 1 - exp(-s/mean))" text.out &&
	grep -E "^~[0-9.]+ [KMGT]?i?B live in ~[0-9]+ blocks" text.out &&
	grep "^sampling    by bytes, mean 64 KiB: [0-9]* allocations left out$" text.out &&
	grep "^tracing .*(by agent), byte sampling with mean 64 KiB," text.out &&
	fixture_stop $spid
'

test_lazy_prereq GO 'command -v go && HOME=$TRASH go version'

# go tool pprof, the reference reader, says what the profile is: the comment names the estimate.
test_expect_success GO 'export pprof under sampling: the profile says its values are estimates' '
	fixture_start fx-sample "$TRASH/truth.json" 100 && spid=$FIXTURE_PID &&
	mlz_start $spid --json --sample 64K && mlz info && step 1 && mlz "export pprof $TRASH/s.pb.gz" &&
	result "export pprof $TRASH/s.pb.gz" | jq -e ".estimated == true and .sample_bytes == 65536" &&
	HOME=$TRASH GOCACHE=$TRASH/gocache GOPATH=$TRASH/gopath GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off \
		PPROF_TMPDIR=$TRASH/pproftmp go tool pprof -symbolize=none -comments s.pb.gz >comments &&
	grep "values are estimates from byte sampling with mean 65536 bytes" comments &&
	mlz quit && mlz_end && fixture_stop $spid
'

test_expect_success 'breakpoints, --no-trace and cores refuse sampling, with the reason' '
	test_expect_code 64 "$MLYZE" --breakpoints --sample 64K attach 1 2>err &&
	cat >expect <<-\EOF &&
	mlyze: --sample needs tracing by the agent (attach or run, without --no-trace or --breakpoints): breakpoints trap every call anyway
	try '"'"'mlyze --help'"'"'
	EOF
	test_cmp expect err &&
	test_expect_code 64 "$MLYZE" --sample 64X attach 1 2>err &&
	grep -x "mlyze: --sample expects a size (bytes, or a number with K, M, G or T), not '"'"'64X'"'"'" err &&
	fixture_start fx-sample "$TRASH/truth.json" 100 && spid=$FIXTURE_PID &&
	test_expect_code 1 "$MLYZE" attach $spid --breakpoints -e "set sample 64K" 2>err &&
	grep -x "error: byte sampling needs the agent; this process is traced with breakpoints, every call exactly" err &&
	test_expect_code 1 "$MLYZE" attach $spid --no-trace -e "set sample 64K" 2>err &&
	grep -x "error: byte sampling needs allocation tracing by the agent (attach or run, without --no-trace or --breakpoints)" err &&
	kill -USR1 $spid && wait_for_line fx-sample.out "^step1" && fixture_stop $spid
'

test_done
