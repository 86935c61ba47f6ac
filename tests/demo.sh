#!/usr/bin/env bash
# `make demo`: start a small "server" that leaks slowly, attach mlyze to it in batch mode, and show a
# real session: snapshots, growth by file:line, one stack, one block, the peak, what tracing cost,
# the glibc heap and leaks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "$demo" 2>/dev/null || true; rm -rf "$work"' EXIT

"$root/fixtures/fx-demo" "$work/truth.json" 30 >"$work/out" 2>&1 &
demo=$!
for _ in $(seq 100); do grep -qx ready "$work/out" 2>/dev/null && break; sleep 0.05; done

show () { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

show "mlyze attach $demo -e 'snapshot a' -e 'sleep 3' -e 'snapshot b' -e 'compare a b --top 5' -e 'top --by stack --top 1' -e 'blocks --site 0 --limit 3' -e peak -e stats -e detach"
"$root/mlyze" attach "$demo" -e 'snapshot a' -e 'sleep 3' -e 'snapshot b' -e 'compare a b --top 5' \
	-e 'top --by stack --top 1' -e 'blocks --site 0 --limit 3' -e 'peak --top 3' -e stats -e detach

# One session fed line by line (stdin that is not a terminal is a script): find a block, then show it.
show "mlyze attach $demo    # then, in the same session: blocks --min-size 1000 --max-size 1000 --limit 1; show ADDR"
coproc SESSION { "$root/mlyze" attach "$demo" --json; }
echo 'sleep 1' >&"${SESSION[1]}"
read -r _ <&"${SESSION[0]}"
echo 'blocks --min-size 1000 --max-size 1000 --limit 1' >&"${SESSION[1]}"
read -r line <&"${SESSION[0]}"
addr=$(jq -r '.result.listed[0].address' <<<"$line")
printf 'blocks --min-size 1000 --max-size 1000 --limit 1  ->  %s\n' "$addr"
echo "show $addr" >&"${SESSION[1]}"
read -r line <&"${SESSION[0]}"
jq -r '.result | "show \(.address): \(.size) bytes allocated \(.age) s ago by thread \(.tid) in \(.function) at \(.file | split("/") | last):\(.line)\nfirst bytes: \(.contents)"' <<<"$line"
exec {SESSION[1]}>&-
wait "$SESSION_PID" 2>/dev/null || true

show "mlyze attach $demo -e heap -e leaks    # the whole glibc heap; what no root reaches"
"$root/mlyze" attach "$demo" -e heap -e leaks

show "mlyze run -e wait -e 'top --by function' -- fixtures/fx-demo TRUTH 2    # what it never freed"
"$root/mlyze" run -e wait -e 'top --by function' -- "$root/fixtures/fx-demo" "$work/t2.json" 2

printf '\nThe demo server ran on untouched (TracerPid now: %s).\n' \
	"$(awk '/^TracerPid:/ {print $2}' /proc/$demo/status)"
