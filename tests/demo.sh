#!/usr/bin/env bash
# `make demo`: start a small multi-threaded program, attach mlyze to it in batch mode, show a real session.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "$demo" 2>/dev/null || true; rm -rf "$work"' EXIT

"$root/fixtures/fx-late" "$work/truth.json" "$root/fixtures/libfx-late.so" >"$work/out" 2>&1 &
demo=$!
for _ in $(seq 100); do grep -qx ready "$work/out" 2>/dev/null && break; sleep 0.05; done
# The demo program starts a thread and loads a library once mlyze is attached.
( sleep 0.7; kill -USR1 "$demo" ) &

show () { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

show "mlyze attach $demo -e info -e threads -e 'sleep 1' -e threads -e 'bt all' -e detach"
"$root/mlyze" attach "$demo" -e info -e threads -e 'sleep 1' -e threads -e 'bt all' -e detach

show "mlyze attach $demo --json -e 'bt all' | jq '.result.threads[1].frames[1]'"
"$root/mlyze" attach "$demo" --json -e 'bt all' | jq '.result.threads[1].frames[1]'

show "mlyze run -e 'sleep 0.3' -e 'bt --depth 3' -- fixtures/fx-ticker TRUTH 10 50 3; echo exit status \$?"
set +e
"$root/mlyze" run -e 'sleep 0.3' -e 'bt --depth 3' -- "$root/fixtures/fx-ticker" "$work/t.json" 10 50 3
echo "exit status $?"
set -e
printf '\nThe demo program ran untouched throughout (TracerPid now: %s).\n' \
	"$(awk '/^TracerPid:/ {print $2}' /proc/$demo/status)"
