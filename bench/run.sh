#!/usr/bin/env bash
# `make bench`: mlyze's cost per traced event against a bare out-of-line int3 round trip, measured in
# the same run (these machines are noisy: only ratios within one run mean anything), its memory per
# live block, and the workloads of ../shared/bench run under it. Not part of `make check`.
#
# usage: bench/run.sh [--quick]   (--quick: smaller runs, and no 8 x 1M stress)
#        BENCH_ONLY=twin bench/run.sh [--quick]   (only the copy-on-write twin's figures)
#        SOAK_SECONDS=N bench/run.sh   (the soak's length: 600 s, 60 with --quick)
#        BENCH_RECORD_SECONDS=N bench/run.sh   (how long steady is recorded: 60 s)
#        BENCH_ONLY=record bench/run.sh   (only the record items)
#        BENCH_ONLY=pprof bench/run.sh [--quick]   (only the pprof export of bigheap, below)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
b=$root/bench
mlyze=$root/mlyze
quick=${1:-}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

n_churn=200000
n_hold=1000000
n_stress=1000000
n_big=10000000
n_typed=5000000
[ "$quick" = --quick ] && { n_churn=50000; n_hold=200000; n_stress=0; n_big=1000000; n_typed=500000; }
soak_s=${SOAK_SECONDS:-$([ "$quick" = --quick ] && echo 60 || echo 600)}
soak_rounds=10

kv () { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" | tail -n1; }
line () { printf '%-44s %s\n' "$1" "$2"; }

# attach_run PROG ARGS...: start PROG with -w START, attach mlyze (wait, then stats), start it.
# Leaves the workload's stderr in $work/prog.err and mlyze's JSON in $work/mlyze.json. $how says how
# mlyze traces: --agent (the default) or --breakpoints.
how=--agent
attach_run () {
	rm -f "$work/start"
	"$@" -w "$work/start" 2>"$work/prog.err" &
	local pid=$!
	for _ in $(seq 100); do grep -q '^ready' "$work/prog.err" && break; sleep 0.05; done
	"$mlyze" attach $pid $how --json -e wait -e stats >"$work/mlyze.json" 2>"$work/mlyze.err" &
	local mpid=$!
	sleep 0.5
	touch "$work/start"
	wait $mpid
	wait $pid || true
}
stat () { jq -r "select(.command == \"stats\") | .result.$1" "$work/mlyze.json"; }

# bench_twin: `set pause fork` against `set pause stop` on bigheap at two sizes, where the fork's
# stop goes, and the memory a twin costs while the process keeps writing. BENCH_ONLY=twin runs it
# alone.
bench_twin () {
echo "== pause fork against pause stop: how long the process is stopped, bigheap at two sizes"
# The same commands with each pause mode, on the same heap; fork reads a copy-on-write twin while
# the process runs, so its stop should not grow with the heap beyond the fork's page-table copy.
# info after each command says where a forked stop went (pause.last.stop_parts).
pause_sizes="$((n_big / 10)) $n_big"
printf '%-12s %-6s %10s %10s %10s %10s\n' blocks pause heap snapshot leaks dump
: >"$work/parts.txt"
: >"$work/lk.txt"
for n in $pause_sizes; do
	rm -f "$work/pb.txt"
	"$b/bigheap" -n $n -o "$work/pb.txt" >/dev/null 2>&1 &
	ppid=$!
	for _ in $(seq 1200); do [ -s "$work/pb.txt" ] && break; sleep 0.1; done
	# leaks alone, on a twin, three times: its wall time, where it went, and mlyze's memory per block
	# (RSS growth over the command; /usr/bin/time's maximum RSS, start-up included, for the peak)
	for run in 1 2 3; do
		/usr/bin/time -f %M -o "$work/lk.rss" "$mlyze" attach $ppid --json -e stats -e leaks -e stats \
			>"$work/lk.json" 2>"$work/lk.err"
		jq -r -s --arg n $n --arg rss "$(cat "$work/lk.rss")" '(map(select(.command == "leaks"))[0].result) as $l |
			(map(select(.command == "stats")) | .[1].result.mlyze_rss - .[0].result.mlyze_rss) as $g |
			"\($n) \($l.ms) \($l.graph_parts.walk_ms) \($l.graph_parts.scan_ms) \($l.graph_parts.classify_ms)
			\($l.typing_ms // 0) \($l.graph_parts.walk_threads) \($g / $l.blocks) \(($rss | tonumber) * 1024 / $l.blocks)
			\($l.definitely_lost.blocks) \($l.indirectly_lost.blocks)"' "$work/lk.json" | tr '\n' ' ' >>"$work/lk.txt"
		echo >>"$work/lk.txt"
	done
	for mode in fork stop; do
		"$mlyze" attach $ppid --json -e "set pause $mode" -e heap -e info -e "snapshot s" -e info -e leaks -e info \
			-e "dump $work/pb.core" -e info >"$work/pb.json" 2>"$work/pb.err"
		rm -f "$work/pb.core"
		pb () { jq -r "select(.command == \"$1\") | .result | $2" "$work/pb.json" | head -n1; }
		printf '%-12s %-6s %7.1f ms %7.1f ms %7.1f ms %7.1f ms\n' $n $mode "$(pb heap .stopped_ms)" \
			"$(pb 'snapshot s' .stopped_ms)" "$(pb leaks .graph_stopped_ms)" "$(pb "dump $work/pb.core" .stopped_ms)"
		[ "$(pb info .pause.last.forked)" = "$([ $mode = fork ] && echo true || echo false)" ] ||
			echo "  (pause $mode: $(pb info .pause.no_fork))"
		if [ $mode = fork ]; then jq -r --arg n $n 'select(.command == "info") | .result.pause.last | select(.forked) |
			.stop_parts as $p | "\($n) \(.stopped_ms) \($p.clone_ms) \($p.threads_ms) \($p.drain_ms) \($p.twin_ms) \($p.resume_ms) \($p.reap_ms)"' \
			"$work/pb.json" | paste - <(printf '%s\n' heap snapshot leaks dump) >>"$work/parts.txt"; fi
	done
	kill $ppid 2>/dev/null || true
	wait $ppid 2>/dev/null || true
done
echo "   where each forked stop went (ms): the clone is the kernel's copy of the page tables"
printf '%-12s %-9s %8s %8s %8s %8s %8s %8s %8s %7s\n' blocks command stopped clone threads drain twin resume reap clone%
awk '{ printf "%-12s %-9s %8.1f %8.1f %8.2f %8.2f %8.2f %8.2f %8.2f %6.0f%%\n", $1, $9, $2, $3, $4, $5, $6, $7, $8, 100 * $3 / $2 }' \
	"$work/parts.txt"

echo "== leaks on a twin, three runs at each size (floor: <= 1.5 s and <= 27 bytes a block at 10M; chap: 10.4 s, ~55)"
echo "   wall: the whole command; walk/scan/classify/typing: its parts (ms); threads: the walk's and the scan's"
printf '%-12s %8s %8s %8s %8s %8s %7s %12s %12s %s\n' blocks wall walk scan classify typing threads "B/blk growth" "B/blk peak" "lost (d/i)"
awk '{ printf "%-12s %8.0f %8.0f %8.0f %8.0f %8.0f %7d %12.2f %12.2f %d/%d\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$work/lk.txt"
for n in $pause_sizes; do
	printf '%-12s median leaks wall: %s ms\n' $n "$(awk -v n=$n '$1 == n { printf "%.0f\n", $2 }' "$work/lk.txt" | sort -n | sed -n 2p)"
done

echo "== the twin's memory: bigheap -r 10000 keeps writing (steady's requests) while leaks reads a twin"
# The process's VmRSS sampled every 10 ms while leaks runs: copy-on-write gives the writer a new
# page and leaves the old one to the twin, so the process's RSS should not grow; what the machine
# pays is the twin's own pages, which info reports (twin_only_bytes, at the twin's end: its most).
printf '%-12s %10s %14s %14s %12s %16s %10s\n' blocks heap "rss before" "rss max" "rss after" "twin alone" "leaks"
for n in $pause_sizes; do
	rm -f "$work/rs.txt"
	"$b/bigheap" -n $n -r 10000 -o "$work/rs.txt" >/dev/null 2>&1 &
	rpid=$!
	for _ in $(seq 1200); do [ -s "$work/rs.txt" ] && break; sleep 0.1; done
	sleep 1
	rss_kib () { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
	heap=$(sed -n 's/.*arena=\([0-9]*\) .*hblkhd=\([0-9]*\) .*/\1 \2/p' "$work/rs.txt" | awk '{ print $1 + $2 }')
	before=$(rss_kib $rpid) max=0
	t0=$(date +%s%N)
	"$mlyze" attach $rpid --json -e leaks -e info >"$work/rs.json" 2>"$work/rs.err" &
	mpid=$!
	while kill -0 $mpid 2>/dev/null; do
		r=$(rss_kib $rpid)
		[ "$r" -gt "$max" ] && max=$r
		sleep 0.01
	done
	wait $mpid || true
	t1=$(date +%s%N)
	after=$(rss_kib $rpid)
	alone=$(jq -r 'select(.command == "info") | .result.pause.last.twin_only_bytes // 0' "$work/rs.json")
	awk -v n=$n -v h=$heap -v b=$before -v m=$max -v a=$after -v t=$alone -v ms=$(( (t1 - t0) / 1000000 )) 'BEGIN {
		mib = 1048576
		printf "%-12s %6.0f MiB %10.1f MiB %10.1f MiB %8.1f MiB %7.1f MiB %4.2f%% %7d ms\n", n, h / mib, b / 1024,
			m / 1024, a / 1024, t / mib, 100 * t / h, ms
		printf "%-12s extra RSS of the process during leaks: %+.1f MiB (%+.3f%% of the heap)\n", "", (m - b) / 1024,
			100 * (m - b) * 1024 / h }'
	kill $rpid 2>/dev/null || true
	wait $rpid 2>/dev/null || true
done
}

# The record items: mixed -r 5 recorded whole (bytes per event, mlyze's CPU against mixed's own,
# heaptrack's trace of the same), then steady recorded for $rec_s seconds and a snapshot --at its
# middle and a mark, timed by mlyze itself (the issue's floor: <= 1 s on a 10-minute recording).
# BENCH_ONLY=record runs these alone.
rec_s=${BENCH_RECORD_SECONDS:-60}
bench_record () {
	echo "== record mixed -r 5 (attached before it starts): bytes per event on disk, mlyze's CPU per event"
	"$b/mixed" -r 5 -w "$work/rstart" >/dev/null 2>"$work/r0.err" &
	rpid=$!
	/usr/bin/time -f "%U %S" -o "$work/rec.cpu" "$mlyze" record -o "$work/m.mlz" -p $rpid 2>"$work/rec.err" &
	recpid=$!
	for _ in $(seq 300); do grep -q '^mlyze: recording process' "$work/rec.err" && break; sleep 0.1; done
	touch "$work/rstart"
	# mixed's own CPU, read until it is a zombie (its parent, this script, reaps it below)
	ticks=0
	while st=$(cat /proc/$rpid/stat 2>/dev/null) && st=${st##*) } && test "${st%% *}" != Z; do
		read -r -a f <<<"$st"
		ticks=$((f[11] + f[12]))
		sleep 0.05
	done
	wait $rpid || true
	wait $recpid || true
	hz=$(getconf CLK_TCK)
	"$mlyze" open "$work/m.mlz" --json -e info -e "top --top 0" >"$work/m.json" 2>/dev/null
	events=$(jq -r 'select(.command == "info") | .result.recording.events' "$work/m.json")
	bytes=$(command stat -c %s "$work/m.mlz")
	line "events recorded (lost)" "$events ($(jq -r 'select(.command == "info") | .result.recording.lost' "$work/m.json"))"
	line "recording size" "$bytes bytes, $(awk -v a="$bytes" -v b="$events" 'BEGIN {printf "%.2f", a / b}') bytes per event"
	line "mlyze CPU (user+sys) / mixed's own CPU" "$(awk '{printf "%.2f s", $1 + $2}' "$work/rec.cpu") / $(awk -v t="${ticks:-0}" -v hz="$hz" 'BEGIN {printf "%.2f s", t / hz}')"
	line "mlyze CPU per event" "$(awk -v e="$events" '{printf "%.0f ns", ($1 + $2) * 1e9 / e}' "$work/rec.cpu")"
	line "mixed says it leaked / live at the end of the recording" "$(kv leaked_blocks <"$work/r0.err") / $(jq -r 'select(.command == "top --top 0") | .result.blocks' "$work/m.json") blocks (with glibc's TLS vectors)"
	/usr/bin/time -f %e -o "$work/at.t" "$mlyze" open "$work/m.mlz" -e "snapshot a --at peak" >/dev/null 2>&1
	line "open + snapshot --at peak" "$(cat "$work/at.t") s"
	if command -v heaptrack >/dev/null; then
		(cd "$work" && /usr/bin/time -f "%U %S" -o "$work/heaptrack.cpu" heaptrack -o "$work/ht" "$b/mixed" -r 5 >/dev/null 2>&1) || true
		htf=$(ls "$work"/ht.* 2>/dev/null | head -n1)
		if test -n "$htf"; then
			hb=$(command stat -c %s "$htf")
			line "heaptrack's trace ($(basename "$htf"))" "$hb bytes, $(awk -v a="$hb" -v b="$events" 'BEGIN {printf "%.2f", a / b}') bytes per event"
			line "heaptrack run, all CPU (mixed, its preload, interpret, compressor)" "$(awk '{printf "%.2f s", $1 + $2}' "$work/heaptrack.cpu")"
		fi
		rm -f "$work"/ht*
	fi
	rm -f "$work/m.mlz"

	echo "== record steady for $rec_s s (10k allocations per second), then open it and snapshot --at its middle"
	"$b/steady" -t $((rec_s + 5)) >"$work/st.out" 2>&1 &
	local spid=$!
	/usr/bin/time -f "%U %S" -o "$work/strec.cpu" "$mlyze" record -o "$work/s.mlz" --duration "$rec_s" -p $spid \
		2>"$work/strec.err" &
	local srec=$! smlyze
	for _ in $(seq 300); do grep -q '^mlyze: recording process' "$work/strec.err" && break; sleep 0.1; done
	smlyze=$(pgrep -P $srec) # the recorder itself, time's child: the mark's signal is for it
	# steady's own CPU over the recording (utime + stime of /proc/PID/stat)
	local sticks=0 st0 st1
	st0=$(awk '{print $14 + $15}' "/proc/$spid/stat")
	sleep $((rec_s / 2))
	kill -USR1 $smlyze 2>/dev/null || true
	wait $srec || true
	st1=$(awk '{print $14 + $15}' "/proc/$spid/stat" 2>/dev/null || echo "$st0")
	kill -INT $spid 2>/dev/null || true
	wait $spid || true
	sticks=$((st1 - st0))
	/usr/bin/time -f "%e %U" -o "$work/sopen.t" "$mlyze" open "$work/s.mlz" --json -e info \
		-e "snapshot a --at $((rec_s / 2))" -e "snapshot m --at usr1-1" >"$work/s.json" 2>/dev/null || true
	/usr/bin/time -f "%e %U" -o "$work/speak.t" "$mlyze" open "$work/s.mlz" --json -e "snapshot p --at peak" \
		>/dev/null 2>&1 || true
	/usr/bin/time -f "%e %U" -o "$work/sphases.t" "$mlyze" open "$work/s.mlz" --json -e "phases" \
		>/dev/null 2>&1 || true
	sj () { jq -r "select(.command == \"$1\") | .result | $2" "$work/s.json"; }
	local sbytes sev
	sbytes=$(command stat -c %s "$work/s.mlz")
	sev=$(sj info .recording.events)
	line "events recorded (lost)" "$sev ($(sj info .recording.lost))"
	line "recording size" "$sbytes bytes, $(awk -v a="$sbytes" -v b="$sev" 'BEGIN {printf "%.2f", a / b}') bytes per event"
	line "mlyze CPU (user+sys) / steady's own CPU" "$(awk '{printf "%.2f s", $1 + $2}' "$work/strec.cpu") / $(awk -v t="$sticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f s", t / hz}')"
	line "snapshot --at $((rec_s / 2)) (target <= 1000 ms)" "$(sj "snapshot a --at $((rec_s / 2))" '.ms | round') ms, $(sj "snapshot a --at $((rec_s / 2))" .blocks) blocks"
	line "snapshot --at the mark" "$(sj "snapshot m --at usr1-1" '.ms | round') ms, $(sj "snapshot m --at usr1-1" .blocks) blocks"
	line "open (index it, the end from its last checkpoint) with both, wall / user" "$(awk '{printf "%s s / %s s", $1, $2}' "$work/sopen.t")"
	line "open with snapshot --at peak (the peak from the file), wall / user" "$(awk '{printf "%s s / %s s", $1, $2}' "$work/speak.t")"
	line "open with phases (the whole replay), wall / user" "$(awk '{printf "%s s / %s s", $1, $2}' "$work/sphases.t")"
	rm -f "$work/s.mlz"
}
# pp_cmd LINE: send LINE to the mlyze on fds $pp_in/$pp_out, read its JSON answer (skipping the
# workload's own lines) into $work/pp.last; prints the milliseconds from writing to answer.
pp_cmd () {
	local t0=$EPOCHREALTIME reply=
	echo "$1" >&$pp_in
	while read -r -t 600 reply <&$pp_out; do [ "${reply:0:1}" = "{" ] && break; done
	printf '%s\n' "$reply" >"$work/pp.last"
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", (b - a) * 1000}'
}
ppl () { jq -r ".result | $1" "$work/pp.last"; }
# End of input: that mlyze detaches and exits (the coproc's own descriptor must close too).
pp_close () {
	exec {pp_in}>&- {pp_out}<&-
	[ -n "${PP[1]:-}" ] && exec {PP[1]}>&-
	wait "$PP_PID" 2>/dev/null || true
}
gopprof () {
	HOME=$work GOCACHE=$work/gocache GOPATH=$work/gopath GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off \
		PPROF_TMPDIR=$work/pproftmp PPROF_BINARY_PATH=/nonexistent go tool pprof -symbolize=none "$@"
}
# pp_export KIND: snapshot the heap of the mlyze on $pp_in/$pp_out, export it as pprof, time both,
# and read the file back with go tool pprof (its bytes summed over every sample, against the snapshot's).
pp_export () {
	local ms_snap ms_exp blocks bytes size
	ms_snap=$(pp_cmd "snapshot s")
	blocks=$(ppl .blocks) bytes=$(ppl .bytes)
	ms_exp=$(pp_cmd "export pprof $work/$1.pb.gz s")
	[ "$(ppl .file)" != null ] || { line "$1: export failed" "$(jq -c .error "$work/pp.last")"; return; }
	size=$(wc -c <"$work/$1.pb.gz")
	line "$1: snapshot (blocks, bytes)" "$ms_snap ms ($blocks, $bytes)"
	line "$1: export pprof FILE s (target <= 3000 ms)" "$ms_exp ms, $(ppl .records) samples"
	line "$1: file size, bytes per block" "$size bytes, $(awk -v a="$size" -v b="$blocks" 'BEGIN {printf "%.4f", a / b}')"
	if command -v go >/dev/null; then
		local t0=$EPOCHREALTIME
		gopprof -top -sample_index=inuse_space "$work/$1.pb.gz" >"$work/pp.top" 2>"$work/pp.toperr" || true
		line "$1: go tool pprof -top" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f ms", (b - a) * 1000}'), $(grep -m1 "^Showing nodes" "$work/pp.top" | sed 's/.* of //')"
		gopprof -raw "$work/$1.pb.gz" 2>/dev/null | awk '/^Samples:/ {on = 1; next} on && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+:$/ {o += $1; b += $2} /^Locations/ {on = 0} END {print o, b + 0}' >"$work/pp.raw"
		line "$1: pprof's samples summed (objects, bytes) equal the snapshot's" "$([ "$(cat "$work/pp.raw")" = "$blocks $bytes" ] && echo yes || echo "NO: $(cat "$work/pp.raw")")"
	fi
	rm -f "$work/$1.pb.gz"
}
# export pprof of bigheap's n_big blocks: traced from before it builds (a stack per block: samples per
# distinct stack), and built before attach, walked untraced (a sample per size class).
bench_pprof () {
	echo "== export pprof: bigheap -n $n_big, traced from its start, then walked untraced"
	rm -f "$work/pp.txt" "$work/pp.start"
	"$b/bigheap" -n $n_big -w "$work/pp.start" -o "$work/pp.txt" >/dev/null 2>"$work/pp.prog" &
	local ppid=$!
	for _ in $(seq 100); do grep -q '^ready' "$work/pp.prog" && break; sleep 0.05; done
	coproc PP { exec "$mlyze" attach $ppid --json 2>"$work/pp.err"; }
	exec {pp_in}>&"${PP[1]}" {pp_out}<&"${PP[0]}"
	pp_cmd stats >/dev/null # attached, and tracing
	touch "$work/pp.start"
	for _ in $(seq 6000); do [ -s "$work/pp.txt" ] && break; sleep 0.1; done
	pp_export traced
	pp_close
	kill $ppid 2>/dev/null || true
	wait $ppid 2>/dev/null || true
	rm -f "$work/pp.txt"
	"$b/bigheap" -n $n_big -o "$work/pp.txt" >/dev/null 2>&1 &
	ppid=$!
	for _ in $(seq 1200); do [ -s "$work/pp.txt" ] && break; sleep 0.1; done
	coproc PP { exec "$mlyze" attach $ppid --json 2>"$work/pp.err"; }
	exec {pp_in}>&"${PP[1]}" {pp_out}<&"${PP[0]}"
	pp_export untraced
	pp_close
	kill $ppid 2>/dev/null || true
	wait $ppid 2>/dev/null || true
}
case ${BENCH_ONLY:-} in
twin) bench_twin; exit 0 ;;
record) bench_record; exit 0 ;;
pprof) bench_pprof; exit 0 ;;
esac

echo "== the physical limit: one int3 round trip, displaced instruction run out of line (ptlimits)"
bare_same=$("$b/ptlimits" -m oool -c same -n 200000 | kv us_per_call)
bare_any=$("$b/ptlimits" -m oool -n 50000 | kv us_per_call)
line "bare round trip, same CPU" "$bare_same us"
line "bare round trip, CPUs as the scheduler likes" "$bare_any us"

echo "== churn: malloc/free pairs in a tight loop; the agent (the default) against heaptrack's, one run"
untraced=$("$b/churn" -n 2000000 2>&1 | kv ns_per_event)
n_agent=$((n_churn * 10))
attach_run "$b/churn" -n $n_agent
agent_ns=$(kv ns_per_event <"$work/prog.err")
line "untraced" "$untraced ns per event"
line "mlyze (agent, attached): wall time per event" "$agent_ns ns"
line "  events lost, stacks unwound by mlyze" "$(stat lost), $(stat unwound_by_mlyze)"
line "  mlyze's own CPU per event (reading, tables)" "$(stat ns_per_event.in_mlyze | awk '{printf "%.0f ns", $1}')"
line "  unwind tables in the process" "$(stat unwind_table_bytes) bytes"
if command -v heaptrack >/dev/null; then
	# heaptrack's in-process agent, injected at start (--use-inject: no LD_PRELOAD), in the same run.
	(cd "$work" && heaptrack --use-inject -o "$work/ht" "$b/churn" -n $n_agent >/dev/null 2>"$work/ht.err") || true
	ht_ns=$(kv ns_per_event <"$work/ht.err")
	line "heaptrack --use-inject: wall time per event" "${ht_ns:-?} ns"
	line "ratio mlyze agent / heaptrack (lower is better)" "$(awk -v a="$agent_ns" -v b="$ht_ns" 'BEGIN {printf "%.2f", (b ? a / b : 0)}')"
	rm -f "$work"/ht*
fi

echo "== churn with breakpoints (--breakpoints), traced by mlyze (attach)"
how=--breakpoints
attach_run "$b/churn" -n $n_churn
per_event_us=$(kv ns_per_event <"$work/prog.err" | awk '{printf "%.2f", $1 / 1000}')
traps=$(stat traps)
line "traced: wall time per event" "$per_event_us us"
line "ratio to the bare same-CPU round trip" "$(awk -v a="$per_event_us" -v b="$bare_same" 'BEGIN {printf "%.2f", a / b}')"
line "  in mlyze per trap (handler)" "$(stat ns_per_event.in_mlyze | awk '{printf "%.2f us", $1 / 1000}')"
line "  of which unwinding (per trap)" "$(stat ns_per_event.unwinding | awk '{printf "%.2f us", $1 / 1000}')"
line "  of which tables (per trap)" "$(stat ns_per_event.tables | awk '{printf "%.2f us", $1 / 1000}')"
line "  traps, CPU moves of mlyze" "$traps, $(stat cpu_moves)"

echo "== churn again, returns caught by breakpoints at the return sites (the CET shadow-stack way)"
MLYZE_ASSUME_SHADOW_STACK=1 attach_run "$b/churn" -n $n_churn
site_us=$(kv ns_per_event <"$work/prog.err" | awk '{printf "%.2f", $1 / 1000}')
line "traced: wall time per event" "$site_us us"
line "ratio to the bare same-CPU round trip" "$(awk -v a="$site_us" -v b="$bare_same" 'BEGIN {printf "%.2f", a / b}')"
line "  traps per event (entries and returns)" "$(awk -v t="$(stat traps)" -v e="$(stat events_total)" 'BEGIN {printf "%.2f", t / e}')"
line "  return sites, calls untraced" "$(stat return_sites), $(stat uncaught_returns)"

how=--agent
echo "== memory per live block: hold -n $n_hold keeps that many blocks"
rm -f "$work/start"
"$b/hold" -n $n_hold -w "$work/start" 2>"$work/prog.err" &
hpid=$!
for _ in $(seq 100); do grep -q '^ready' "$work/prog.err" && break; sleep 0.05; done
coproc M { "$mlyze" attach $hpid --json; }
sleep 0.5
echo stats >&"${M[1]}"
read -r st0 <&"${M[0]}"
touch "$work/start"
for _ in $(seq 6000); do grep -q '^held' "$work/prog.err" && break; sleep 0.1; done
echo stats >&"${M[1]}"
read -r st <&"${M[0]}"
exec {M[1]}>&-
wait "$M_PID" || true
kill $hpid 2>/dev/null || true
line "live blocks traced" "$(jq .result.live_blocks <<<"$st")"
line "block table bytes per live block" "$(jq '.result.table_bytes_per_block * 100 | round / 100' <<<"$st")"
line "all tables per live block" "$(jq '.result.table_bytes / .result.live_blocks * 100 | round / 100' <<<"$st")"
line "mlyze RSS growth per live block" "$(jq -n --argjson a "$st0" --argjson b "$st" '($b.result.mlyze_rss - $a.result.mlyze_rss) / $b.result.live_blocks * 100 | round / 100')"
line "mlyze RSS before / after" "$(jq -n --argjson a "$st0" --argjson b "$st" '"\($a.result.mlyze_rss / 1048576 | floor) MiB / \($b.result.mlyze_rss / 1048576 | floor) MiB"' -r)"

echo "== mixed -r 1: 4 threads; its leaks reported as unfreed since start (run mode)"
"$b/mixed" -r 1 2>"$work/ref.err" >/dev/null
"$mlyze" run --json -e wait -e "top --top 0" -e "top --by stack --top 0" -- "$b/mixed" -r 1 >"$work/mixed.json" 2>"$work/mixed.err"
ref=$(grep '^result' "$work/ref.err" | sed 's/ elapsed_s=.*//')
got=$(grep '^result' "$work/mixed.err" | sed 's/ elapsed_s=.*//')
line "output (counts) the same as untraced" "$([ "$ref" = "$got" ] && echo yes || echo "NO: $got")"
line "mixed says it leaked" "$(kv leaked_blocks <"$work/mixed.err") blocks, $(kv leaked_bytes <"$work/mixed.err") bytes"
line "mlyze: live at exit" "$(jq -r 'select(.command == "top --top 0") | "\(.result.blocks) blocks, \(.result.bytes) bytes"' "$work/mixed.json")"
line "  of which glibc's per-thread TLS vectors" "$(jq -r 'select(.command == "top --by stack --top 0") | [.result.groups[] | select(any(.stack[]; .function == "allocate_dtv"))] | "\(map(.blocks) | add // 0) blocks, \(map(.bytes) | add // 0) bytes"' "$work/mixed.json")"
line "  allocated by mixed itself" "$(jq -r 'select(.command == "top --by stack --top 0") | [.result.groups[] | select(all(.stack[]; .function != "allocate_dtv"))] | "\(map(.blocks) | add // 0) blocks, \(map(.bytes) | add // 0) bytes"' "$work/mixed.json")"

echo "== mixed -r 5: 4 threads, full tracing from the start; mlyze's agent against heaptrack's, one run"
mixed_s () { kv elapsed_s <"$1"; }
"$b/mixed" -r 5 2>"$work/m0.err" >/dev/null
"$mlyze" run --json -e wait -e "top --top 0" -e stats -- "$b/mixed" -r 5 >"$work/m1.json" 2>"$work/m1.err"
line "untraced" "$(mixed_s "$work/m0.err") s"
line "mlyze (agent)" "$(mixed_s "$work/m1.err") s, $(awk -v a="$(mixed_s "$work/m1.err")" -v b="$(mixed_s "$work/m0.err")" 'BEGIN {printf "%.1fx", a / b}')"
line "  output the same as untraced" "$([ "$(grep '^result' "$work/m0.err" | sed 's/ elapsed_s=.*//')" = "$(grep '^result' "$work/m1.err" | sed 's/ elapsed_s=.*//')" ] && echo yes || echo NO)"
line "  its leaks, live at exit (mixed says / mlyze, with glibc's 4 TLS vectors)" "$(kv leaked_blocks <"$work/m1.err") / $(jq -r 'select(.command == "top --top 0") | .result.blocks' "$work/m1.json")"
line "  events lost" "$(jq -r 'select(.command == "stats") | .result.lost' "$work/m1.json")"
if command -v heaptrack >/dev/null; then
	(cd "$work" && heaptrack --use-inject -o "$work/ht" "$b/mixed" -r 5 >/dev/null 2>"$work/m2.err") || true
	line "heaptrack --use-inject" "$(mixed_s "$work/m2.err") s, $(awk -v a="$(mixed_s "$work/m2.err")" -v b="$(mixed_s "$work/m0.err")" 'BEGIN {printf "%.1fx", a / b}')"
	rm -f "$work"/ht*
fi

# Byte sampling's overhead against untraced and against every call traced, in this same run.
bash "$b/sample.sh" $([ "$quick" = --quick ] && echo 2 || echo 5)
bench_record

if command -v sqlite3 >/dev/null; then
	echo "== sqlite3 (Debian's, stripped): 100k INSERTs into an in-memory table, run under each"
	{ echo "CREATE TABLE t(a INTEGER, b TEXT);"; echo "BEGIN;"
	  for i in $(seq 100000); do echo "INSERT INTO t VALUES($i, 'row number $i of the bench table');"; done
	  echo "COMMIT;"; echo "SELECT count(*) FROM t;"; } >"$work/ins.sql"
	t_of () { /usr/bin/time -f %e -o "$work/t" "$@" <"$work/ins.sql" >/dev/null 2>&1; cat "$work/t"; }
	t0=$(t_of sqlite3 :memory:)
	t1=$(t_of "$mlyze" run -e wait -- sqlite3 :memory:)
	line "untraced" "$t0 s"
	line "mlyze run (agent)" "$t1 s, $(awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.1fx", (b > 0 ? a / b : 0)}')"
	if command -v heaptrack >/dev/null; then
		t2=$(cd "$work" && t_of heaptrack --use-inject -o "$work/ht" sqlite3 :memory:)
		line "heaptrack --use-inject" "$t2 s, $(awk -v a="$t2" -v b="$t0" 'BEGIN {printf "%.1fx", (b > 0 ? a / b : 0)}')"
		rm -f "$work"/ht*
	fi
fi

echo "== steady: 10k allocations per second; attached from second 2 to 7"
"$b/steady" -t 8 >"$work/steady.out" 2>"$work/steady.err" &
spid=$!
sleep 2
"$mlyze" attach $spid -e "sleep 5" -e detach >/dev/null 2>&1
wait $spid || true
awk '/^t=/ { split($2, a, "="); printf "  second %-3s allocs %s %s %s\n", substr($1, 3), a[2], $4, $5 }' "$work/steady.out"

echo "== bigheap -n $n_big: blocks in two arenas, built before attach; heap and a snapshot walk them"
"$b/bigheap" -n $n_big -o "$work/bh.txt" >/dev/null 2>&1 &
bpid=$!
for _ in $(seq 1200); do [ -s "$work/bh.txt" ] && break; sleep 0.1; done
deep=$(sed -n 's/.*deep_sample=\(0x[0-9a-f]*\).*/\1/p' "$work/bh.txt")
# pause stop: the walk's own throughput and cost, with the process stopped throughout (fork: below)
"$mlyze" attach $bpid --json -e "set pause stop" -e stats -e heap -e "snapshot s" -e stats -e leaks -e stats -e "path $deep" \
	-e "save $work/bh.snap s" >"$work/bh.json" 2>"$work/bh.err"
# The saved snapshot read back with no process: how long load takes, and the same totals.
"$mlyze" open "$work/bh.snap" --json -e "load $work/bh.snap s2" -e snapshots >"$work/bho.json" 2>"$work/bho.err"
"$mlyze" attach $bpid -e "dump $work/bh.core" >/dev/null 2>&1
kill $bpid 2>/dev/null || true
# The same questions post mortem; /usr/bin/time's maximum RSS is all of mlyze's memory, start-up included.
/usr/bin/time -f %M -o "$work/bhc.rss" "$mlyze" core "$work/bh.core" "$b/bigheap" --json -e leaks -e "path $deep" \
	>"$work/bhc.json" 2>"$work/bhc.err"
rm -f "$work/bh.core"
bh () { jq -r "select(.command == \"$1\") | .result | $2" "$work/bh.json" | head -n1; }
truth=$(sed -n 's/^arena=/arena=/p' "$work/bh.txt")
mine=$(bh heap '.mallinfo | "arena=\(.arena) ordblks=\(.ordblks) smblks=\(.smblks) hblks=\(.hblks) hblkhd=\(.hblkhd) fsmblks=\(.fsmblks) uordblks=\(.uordblks) fordblks=\(.fordblks) keepcost=\(.keepcost)"')
line "bigheap's own mallinfo2()" "$truth"
line "heap: mallinfo equal to it" "$([ "$truth" = "$mine" ] && echo yes || echo "NO: $mine")"
line "chunks walked (heap)" "$(bh heap '.in_use.chunks + .tcache.chunks + .fastbins.chunks + .bins.chunks + .top.chunks + .allocator.chunks + .mmapped.chunks')"
line "heap: process stopped" "$(bh heap '.stopped_ms | round') ms"
line "heap: walk throughput" "$(bh heap '"\((.in_use.chunks + .fastbins.chunks + .bins.chunks) / .stopped_ms / 1000 | . * 10 | round / 10) M chunks/s, \(.system_mem / .stopped_ms / 1000 | round) MB/s"')"
line "snapshot: blocks (untraced: built before attach)" "$(bh 'snapshot s' '.untraced_blocks')"
line "snapshot: process stopped" "$(bh 'snapshot s' '.stopped_ms | round') ms"
line "save: the snapshot to a file (target <= 2000 ms)" "$(bh "save $work/bh.snap s" '.ms | round') ms"
line "save: bytes on disk per walked block (target <= 4)" "$(bh "save $work/bh.snap s" '.bytes_written / .blocks * 100 | round / 100') bytes"
line "load: the file read back (target <= 2000 ms)" "$(jq -r "select(.command == \"load $work/bh.snap s2\") | .result.ms | round" "$work/bho.json") ms"
line "load: blocks equal to the snapshot's" "$([ "$(jq -r "select(.command == \"load $work/bh.snap s2\") | .result | \"\(.blocks) \(.bytes)\"" "$work/bho.json")" = "$(bh 'snapshot s' '"\(.blocks) \(.bytes)"')" ] && echo yes || echo NO)"
rm -f "$work/bh.snap"
line "mlyze memory per walked block (RSS growth)" "$(jq -s '(map(select(.command == "stats")) | (.[1].result.mlyze_rss - .[0].result.mlyze_rss)) / (map(select(.command == "snapshot s"))[0].result.untraced_blocks) * 100 | round / 100' "$work/bh.json") bytes"
line "bigheap's truth: reachable, leaked direct/indirect" "$(sed -n 's/.*reachable=\([0-9]*\) leaked_direct=\([0-9]*\) leaked_indirect=\([0-9]*\).*/\1, \2 \/ \3/p' "$work/bh.txt")"
line "leaks: reachable, definitely / indirectly (possibly)" "$(bh leaks '"\(.reachable.blocks), \(.definitely_lost.blocks) / \(.indirectly_lost.blocks) (\(.possibly_lost.blocks))"')"
lost_truth=$(sed -n 's/.*leaked_direct=\([0-9]*\) leaked_indirect=\([0-9]*\).*/\1 \2 0/p' "$work/bh.txt")
line "leaks: lost blocks equal to the truth" "$([ "$(bh leaks '"\(.definitely_lost.blocks) \(.indirectly_lost.blocks) \(.possibly_lost.blocks)"')" = "$lost_truth" ] && echo yes || echo NO)"
line "leaks: walk + graph, process stopped" "$(bh leaks '.graph_stopped_ms | round') ms"
line "leaks: typing the blocks from DWARF (part of the stop above), blocks typed" "$(bh leaks '"\(.typing_ms | round) ms, \(.typed_blocks)"')"
line "leaks: mlyze memory per block (RSS growth)" "$(jq -s '(map(select(.command == "stats")) | (.[2].result.mlyze_rss - .[1].result.mlyze_rss)) / (map(select(.command == "leaks"))[0].result.blocks) * 100 | round / 100' "$work/bh.json") bytes"
line "path to a block 1000 deep, after leaks" "$(bh "path $deep" '"\(.ms * 10 | round / 10) ms, \(.chain | length) steps"')"
bhc () { jq -r "select(.command == \"$1\") | .result | $2" "$work/bhc.json" | head -n1; }
line "core: leaks, reachable, definitely / indirectly (possibly)" "$(bhc leaks '"\(.reachable.blocks), \(.definitely_lost.blocks) / \(.indirectly_lost.blocks) (\(.possibly_lost.blocks))"')"
line "core: lost blocks equal to the truth" "$([ "$(bhc leaks '"\(.definitely_lost.blocks) \(.indirectly_lost.blocks) \(.possibly_lost.blocks)"')" = "$lost_truth" ] && echo yes || echo NO)"
line "core: walk + graph" "$(bhc leaks '.graph_stopped_ms | round') ms"
line "core: mlyze's maximum RSS per block" "$(jq -n --argjson kib "$(cat "$work/bhc.rss")" --argjson n "$(bhc leaks .blocks)" '$kib * 1024 / $n * 100 | round / 100') bytes"
line "core: path to the block 1000 deep" "$(bhc "path $deep" '"\(.ms * 10 | round / 10) ms, \(.chain | length) steps"')"

bench_pprof
bench_twin
echo "== typedheap -n $n_typed: a list of typed structs and their names, every block typed through DWARF"
"$b/typedheap" -n $n_typed -o "$work/th.txt" >/dev/null 2>&1 &
tpid=$!
for _ in $(seq 1200); do [ -s "$work/th.txt" ] && break; sleep 0.1; done
"$mlyze" attach $tpid --json -e leaks -e "top --by type --top 2" >"$work/th.json" 2>"$work/th.err"
kill $tpid 2>/dev/null || true
th () { jq -r "select(.command == \"$1\") | .result | $2" "$work/th.json" | head -n1; }
line "leaks: blocks, of them typed" "$(th leaks '"\(.blocks), \(.typed_blocks)"')"
line "leaks: typing, within the stop for walk + graph" "$(th leaks '"\(.typing_ms | round) ms of \(.graph_stopped_ms | round) ms"')"
line "top --by type: the two groups" "$(th "top --by type --top 2" '[.groups[] | "\(.type) \(.blocks)"] | join(", ")')"

if [ "$n_stress" -gt 0 ]; then
	echo "== stress: 8 threads x $n_stress malloc/free pairs, traced from the start"
	rm -f "$work/st.json"*
	"$root/fixtures/fx-stress" "$work/st.json" 8 $n_stress >"$work/st.out" &
	spid=$!
	for _ in $(seq 100); do grep -q '^ready' "$work/st.out" && break; sleep 0.05; done
	"$mlyze" attach $spid --json -e "wait" -e "top --by function --top 0" -e stats >"$work/st.json.mlyze" 2>/dev/null &
	mpid=$!
	sleep 0.5
	start=$(date +%s.%N)
	kill -USR1 $spid
	for _ in $(seq 20000); do [ -f "$work/st.json.done" ] && break; sleep 0.1; done
	end=$(date +%s.%N)
	kill -USR1 $spid
	wait $mpid || true
	line "fixture holds" "$(jq -c '[.blocks, .bytes]' "$work/st.json.done"), bad=$(jq .bad "$work/st.json.done")"
	line "mlyze: fx_stress_worker live" "$(jq -c 'select(.command | startswith("top")) | .result.groups[] | select(.function == "fx_stress_worker") | [.blocks, .bytes]' "$work/st.json.mlyze")"
	line "malloc events seen / made" "$(jq 'select(.command == "stats") | .result.events.malloc' "$work/st.json.mlyze") / $(jq .mallocs "$work/st.json.done")"
	line "time traced" "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f s", b - a}')"
fi

echo "== soak: mixed -t 4 -r $soak_rounds in a loop for $soak_s s, traced (agent); snapshot, compare, leaks, heap, stats every 2 s"
# The workload loops until killed (-L 0), one result line per loop in soak.out; mlyze reads its
# commands from a coproc and answers each with one JSON line: a command's latency is from writing
# it to reading its line. Two snapshot names, replaced in turn (--force), so snapshots do not pile up.
rm -f "$work/start"
: >"$work/soak.out"; : >"$work/ref.out"
"$b/mixed" -t 4 -r $soak_rounds -L 0 -w "$work/start" -o "$work/soak.out" 2>"$work/soak.err" &
wpid=$!
for _ in $(seq 100); do grep -qs "^ready" "$work/soak.err" && break; sleep 0.05; done
coproc S { exec "$mlyze" attach $wpid --json 2>"$work/soak.mlyze.err"; }
spid=$S_PID
# bash unsets S when mlyze ends: the soak keeps copies, and a write to an mlyze that ended fails
# instead of killing the bench with SIGPIPE
soak_fail=
if [ -n "${S[1]:-}" ]; then exec {s_in}>&"${S[1]}" {s_out}<&"${S[0]}"; else soak_fail="mlyze ended at once"; fi
trap '' PIPE
# (kill -0 would not tell: a child that exited and was not waited for yet still takes signals)
running () { local st; st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null); [ -n "$st" ] && [ "$st" != Z ]; }
: >"$work/soak.lat"; : >"$work/soak.rss"; : >"$work/soak.json"
# soak_cmd LINE: send it, wait for its answer, note kind, milliseconds and whether it went well
soak_cmd () {
	local t0=$EPOCHREALTIME reply
	if ! echo "$1" >&$s_in 2>/dev/null || ! read -r -t 300 reply <&$s_out; then
		soak_fail="no answer to '$1'$(running "$spid" || echo ": mlyze ended")"
		return 1
	fi
	local t1=$EPOCHREALTIME
	echo "${1%% *} $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')" >>"$work/soak.lat"
	printf '%s\n' "$reply" >>"$work/soak.json"
	[ "$(jq -r '.ok' <<<"$reply")" = true ] || { soak_fail="'$1' failed: $(jq -c .error <<<"$reply")"; return 1; }
}
soak_rss () {
	local kib
	kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$spid/status" 2>/dev/null) || true
	if [ -n "$kib" ]; then echo "$1 $kib" >>"$work/soak.rss"; fi
}
[ -z "$soak_fail" ] && soak_cmd stats && soak_rss 0
touch "$work/start"
t_start=$EPOCHREALTIME
k=0
next_rss=10
while [ -z "$soak_fail" ]; do
	el=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%d", b - a}')
	[ "$el" -ge "$soak_s" ] && break
	if [ "$el" -ge "$next_rss" ]; then soak_rss "$next_rss"; next_rss=$((next_rss + 10)); fi
	cur=s$((k % 2))
	soak_cmd "snapshot $cur --force" || break
	if [ $k -gt 0 ]; then soak_cmd "compare s$(((k - 1) % 2)) $cur" || break; fi
	soak_cmd leaks && soak_cmd heap && soak_cmd stats || break
	k=$((k + 1))
	# the next round 2 s after this one began (at once if this one took longer)
	sleep "$(awk -v a="$t_start" -v b="$EPOCHREALTIME" -v k=$k 'BEGIN {d = a + 2 * k - b; printf "%.3f", (d > 0 ? d : 0)}')"
done
soak_rss "$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%d", b - a}')"
[ -n "${s_in:-}" ] && exec {s_in}>&- {s_out}<&-
[ -n "${S[1]:-}" ] && exec {S[1]}>&-
trap - PIPE
# end of input: mlyze detaches; if it has not within a minute, SIGTERM makes it detach and exit
for _ in $(seq 600); do running "$spid" || break; sleep 0.1; done
running "$spid" && kill "$spid" && soak_fail="${soak_fail:-mlyze still running a minute after its input ended}"
soak_rc=0
wait "$spid" || soak_rc=$?
alive=$(running $wpid && echo yes || echo NO)
kill $wpid 2>/dev/null || true
wait $wpid 2>/dev/null || true
loops=$(wc -l <"$work/soak.out")
[ "$loops" -gt 0 ] && "$b/mixed" -t 4 -r $soak_rounds -L "$loops" -o "$work/ref.out" 2>/dev/null
line "rounds of commands, failures" "$k, ${soak_fail:-none}"
for c in snapshot compare leaks heap stats; do
	line "  $c: median / max latency" "$(awk -v c=$c '$1 == c {print $2}' "$work/soak.lat" | sort -n |
		awk '{v[NR] = $1} END {if (NR) printf "%.1f ms / %.1f ms (%d)", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR], NR; else printf "none"}')"
done
line "mlyze VmRSS, MiB at second N" "$(awk '{t[NR] = $1; r[NR] = $2} END {for (i = 1; i <= NR; i++) if (i == 1 || i == NR || t[i] % 60 == 0) printf "%s%d: %.1f", (i > 1 ? ", " : ""), t[i], r[i] / 1024}' "$work/soak.rss")"
line "  end (stats): live blocks, tables, stacks" "$(jq -s -r 'map(select(.command == "stats"))[-1].result | "\(.live_blocks), \(.table_bytes) bytes, \(.stacks)"' "$work/soak.json")"
line "  events traced, lost (stats)" "$(jq -s -r 'map(select(.command == "stats"))[-1].result | "\(.events_total), \(.lost)"' "$work/soak.json")"
line "  its stats' mlyze_rss, first / last" "$(jq -s -r 'map(select(.command == "stats")) | "\(.[0].result.mlyze_rss / 1048576 * 10 | round / 10) / \(.[-1].result.mlyze_rss / 1048576 * 10 | round / 10) MiB"' "$work/soak.json")"
line "workload loops, ms per loop (untraced)" "$loops, $(awk '{sub(/.*elapsed_s=/, ""); s += $1} END {printf "%.0f", NR ? s / NR * 1000 : 0}' "$work/soak.out") ($(awk '{sub(/.*elapsed_s=/, ""); s += $1} END {printf "%.0f", NR ? s / NR * 1000 : 0}' "$work/ref.out"))"
line "  output of every loop the same as untraced" "$([ "$loops" -gt 0 ] && cmp -s <(sed 's/ elapsed_s=.*//' "$work/soak.out") <(sed 's/ elapsed_s=.*//' "$work/ref.out") && echo yes || echo NO)"
line "  mlyze's exit status; workload alive after" "$soak_rc, $alive"
