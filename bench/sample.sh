#!/usr/bin/env bash
# Byte sampling's cost (`--sample 512K`): per call on churn, mixed's time and CPU, steady's CPU,
# untraced, with sampling and with every call traced, in one run (only ratios within a run mean
# anything on these machines). The issue's floors: mixed at most 5 % slower than untraced, steady
# at most 2 % more CPU. mixed's elapsed_s and cpu_s span its threads' work only: under `mlyze run`
# the agent goes in before main, outside them.
# Called by bench/run.sh; alone: bench/sample.sh (after make -C bench).
#
# usage: bench/sample.sh [ROUNDS]   (each configuration runs ROUNDS times, mixed's three times that; 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
b=$root/bench
mlyze=$root/mlyze
rounds=${1:-5}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

kv () { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" | tail -n1; }
line () { printf '%-44s %s\n' "$1" "$2"; }
pct () { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f %%", 100 * (a - b) / b}'; }
best () { sort -g | head -n1; }
median () { sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "== --sample 512K: churn (a malloc and a free per iteration, one thread), ns per call, best of $rounds, interleaved"
for _ in $(seq "$rounds"); do
	"$b/churn" -n 2000000 2>"$work/e" >/dev/null && kv ns_per_event <"$work/e" >>"$work/c.none"
	"$mlyze" run --sample 512K -e wait -- "$b/churn" -n 2000000 >/dev/null 2>"$work/e" && kv ns_per_event <"$work/e" >>"$work/c.sample"
	"$mlyze" run -e wait -- "$b/churn" -n 2000000 >/dev/null 2>"$work/e" && kv ns_per_event <"$work/e" >>"$work/c.full"
done
n0=$(best <"$work/c.none") n1=$(best <"$work/c.sample") n2=$(best <"$work/c.full")
line "untraced" "$n0 ns"
line "mlyze --sample 512K (agent)" "$n1 ns, $(awk -v a="$n1" -v b="$n0" 'BEGIN {printf "%+.1f", a - b}') ns per call"
line "mlyze, every call (agent)" "$n2 ns, $(awk -v a="$n2" -v b="$n0" 'BEGIN {printf "%+.1f", a - b}') ns per call"

# mixed -r 25: a run of about 0.4 s; one of -r 5 (0.12 s) scattered by more than the 5 % floor from
# one round to the next, for the same build untraced. Runs of 0.4 s still scatter by 10 % from one
# round to the next on these machines, and which comes first in a round counts: so three times the
# rounds, the order turned every round, and the median of each round's ratio to its own untraced
# run beside the best of each.
mr=25
mrounds=$((rounds * 3))
echo "== --sample 512K: mixed -r $mr (4 threads) from the start, $mrounds rounds, the order turned each round"
kinds=(none sample full)
for i in $(seq 0 $((mrounds - 1))); do
	for j in 0 1 2; do
		k=${kinds[$(( (i + j) % 3 ))]}
		case $k in
		none) "$b/mixed" -r $mr 2>"$work/e" >/dev/null ;;
		sample) "$mlyze" run --sample 512K -e wait -- "$b/mixed" -r $mr >/dev/null 2>"$work/e" ;;
		full) "$mlyze" run -e wait -- "$b/mixed" -r $mr >/dev/null 2>"$work/e" ;;
		esac
		echo "$i $(kv elapsed_s <"$work/e") $(kv cpu_s <"$work/e")" >>"$work/m.$k"
	done
done
# ratio K COLUMN: the median over rounds of K's figure over the untraced one's in the same round, as a change
ratio () {
	awk -v c="$2" 'NR == FNR {u[$1] = $c; next} ($1 in u) && u[$1] > 0 {print $c / u[$1]}' "$work/m.none" "$work/m.$1" | median |
		awk '{printf "%+.1f %%", 100 * ($1 - 1)}'
}
col () { awk -v c="$2" '{print $c}' "$work/m.$1" | $3; }
m0=$(col none 2 best) m1=$(col sample 2 best) m2=$(col full 2 best)
u0=$(col none 3 best) u1=$(col sample 3 best) u2=$(col full 3 best)
line "untraced, best" "$m0 s, CPU $u0 s"
line "mlyze --sample 512K (agent), best" "$m1 s, $(pct "$m1" "$m0"); CPU $u1 s, $(pct "$u1" "$u0")"
line "mlyze, every call (agent), best" "$m2 s, $(pct "$m2" "$m0"); CPU $u2 s, $(pct "$u2" "$u0")"
line "mlyze --sample 512K, median of ratios" "wall $(ratio sample 2) (floor: +5 %), CPU $(ratio sample 3)"
line "mlyze, every call, median of ratios" "wall $(ratio full 2), CPU $(ratio full 3)"
"$mlyze" run --sample 512K --json -e wait -e stats -e "top --top 0" -- "$b/mixed" -r 5 >"$work/m.json" 2>"$work/e"
line "  sampled run: recorded / left out, lost" "$(jq -r 'select(.command == "stats") | .result | "\(.recorded_blocks) live recorded, \(.unsampled) left out, \(.lost) lost"' "$work/m.json")"
line "  leaked (mixed says / ~estimate)" "$(kv leaked_bytes <"$work/e") / $(jq -r 'select(.command == "top --top 0") | .result.bytes' "$work/m.json") bytes"

# mixed, the two on one CPU at once: rounds of whole runs scatter by 10 % and more because this
# machine's speed itself does (a bare loop of adds varies by 25 % from one 0.1 s to the next), so
# each round starts an untraced mixed and one under mlyze, pins both to the same CPU and releases
# them together (-w FILE): they take turns on it every few milliseconds, see the same machine, and
# the ratio of their CPU times is the agent's cost to the program. mlyze itself runs on the other
# CPU (its share is in the whole runs above). The same pairs with `mlyze run --no-trace` (nothing
# written into the process) are the method's zero.
cr=10
crounds=$((rounds * 4))
cocpu=$(($(nproc --all) - 1))
co_pair () { # co_pair MLYZE-OPTIONS...: one round; prints the untraced and the traced CPU seconds
	rm -f "$work/go"
	taskset -c "$cocpu" "$b/mixed" -r $cr -w "$work/go" 2>"$work/cu" >/dev/null &
	local up=$!
	"$mlyze" run "$@" -e wait -- taskset -c "$cocpu" "$b/mixed" -r $cr -w "$work/go" >/dev/null 2>"$work/ct" &
	local tp=$!
	for _ in $(seq 400); do grep -q '^ready' "$work/cu" && grep -q '^ready' "$work/ct" && break; sleep 0.05; done
	sleep 0.2
	touch "$work/go"
	wait $up $tp
	echo "$(kv cpu_s <"$work/cu") $(kv cpu_s <"$work/ct")"
}
if [ "$(nproc --all)" -ge 2 ]; then
	echo "== --sample 512K: mixed -r $cr, untraced and under mlyze on one CPU at once, $crounds rounds of each"
	: >"$work/co.sample"; : >"$work/co.none"
	for _ in $(seq "$crounds"); do
		co_pair --sample 512K >>"$work/co.sample"
		co_pair --no-trace >>"$work/co.none"
	done
	# co_stats FILE: the median of the rounds' CPU ratios, their mean with its standard error
	co_stats () {
		awk '$1 > 0 {print $2 / $1}' "$1" | sort -g | awk '{v[NR] = $1; s += $1; q += $1 * $1}
			END {m = s / NR; se = sqrt((q / NR - m * m) / (NR - 1)); med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
			     printf "median %+.1f %%, mean %+.1f %% +- %.1f", 100 * (med - 1), 100 * (m - 1), 100 * se}'
	}
	line "mlyze --sample 512K (agent): CPU" "$(co_stats "$work/co.sample") (floor: +5 %)"
	line "mlyze --no-trace (the method's zero): CPU" "$(co_stats "$work/co.none")"
fi

echo "== --sample 512K: steady (10k allocations per second) CPU, seconds 3-7 of 8, attached from second 1"
steady_cpu () { # steady_cpu [MLYZE OPTIONS...]: steady's mean CPU % over seconds 3-7
	"$b/steady" -t 8 >"$work/s.out" 2>/dev/null &
	local spid=$!
	if [ $# -gt 0 ]; then
		sleep 1
		"$mlyze" attach $spid "$@" -e "sleep 6.5" -e detach >/dev/null 2>&1 || true
	fi
	wait $spid || true
	awk '/^t=/ { t = substr($1, 3) + 0; if (t >= 3 && t <= 7) { split($7, a, "="); s += a[2]; n++ } }
		END { printf "%.3f", n ? s / n : 0 }' "$work/s.out"
}
c0=0 c1=0 c2=0
for _ in $(seq 2); do
	c0=$(awk -v a="$c0" -v b="$(steady_cpu)" 'BEGIN {print a + b / 2}')
	c1=$(awk -v a="$c1" -v b="$(steady_cpu --sample 512K)" 'BEGIN {print a + b / 2}')
	c2=$(awk -v a="$c2" -v b="$(steady_cpu --agent)" 'BEGIN {print a + b / 2}')
done
line "untraced: CPU" "$c0 %"
line "mlyze --sample 512K (agent): CPU" "$c1 %, $(pct "$c1" "$c0") relative, $(awk -v a="$c1" -v b="$c0" 'BEGIN {printf "%+.2f", a - b}') points of a CPU (floor: +2 %)"
line "mlyze, every call (agent): CPU" "$c2 %, $(pct "$c2" "$c0") relative, $(awk -v a="$c2" -v b="$c0" 'BEGIN {printf "%+.2f", a - b}') points"
