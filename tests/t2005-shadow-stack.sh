#!/bin/bash
# Tracing a process with a CET shadow stack, where swapping a return address would kill it: results
# are caught by breakpoints at the return sites instead. This machine kind has no shadow stacks, so
# MLYZE_ASSUME_SHADOW_STACK=1 makes mlyze take that path; fx-retsite has return sites that test it
# (a RIP-relative store in an executable far from libc, code passing through a return site, a return
# site that cannot run out of line, a brk heap that must still grow), and the exactness and safety
# tests run again in that mode.

test_description='shadow-stack mode: returns caught by return-site breakpoints'
. "$(dirname "$0")/lib/test-lib.sh"

# Return sites are a way of breakpoint tracing (the agent swaps no return address): every mlyze
# here, the scripts run again included, traces with --breakpoints.
export MLYZE_REAL=$MLYZE MLYZE=$TEST_DIRECTORY/lib/mlyze-breakpoints

fn () { result "compare a b --by function --top 0" | jq -c "[.groups[] | select(.function == \"$1\") | .blocks, .bytes]"; }

test_expect_success 'the reference run, without mlyze' '
	fixture_start fx-retsite "$TRASH/ref.json" && pid=$FIXTURE_PID &&
	kill -USR1 $pid && wait_for_line fx-retsite.out "^done" && kill -USR1 $pid && wait $pid &&
	mv fx-retsite.out expect.out
'

# traced [ENV...]: fx-retsite traced across its step, then detached; out holds the JSON.
traced () {
	fixture_start fx-retsite "$TRASH/t.json" && pid=$FIXTURE_PID &&
	grep -v "\[heap\]" /proc/$pid/maps >maps.before && # the heap grows by sbrk in its step
	{ env "$@" "$MLYZE" attach $pid --json -e "snapshot a" -e "sleep 1" -e "snapshot b" \
		-e "compare a b --by function --top 0" -e stats -e detach >out 2>err & } && mpid=$! &&
	sleep 0.4 && kill -USR1 $pid && wait $mpid && test_must_be_empty err &&
	grep -v "\[heap\]" /proc/$pid/maps >maps.after && test_cmp maps.before maps.after &&
	kill -USR1 $pid && { wait $pid; code=$?; } && test "$code" = 0 &&
	test_cmp expect.out fx-retsite.out
}

test_expect_success 'shadow-stack mode: exact counts, passes through a return site unharmed, nothing left mapped' '
	traced MLYZE_ASSUME_SHADOW_STACK=1 &&
	result stats | jq -e ".returns_by == \"return-site breakpoints\"" &&
	echo "[5,500]" >expect && fn rip_site >actual && test_cmp expect actual &&
	result stats | jq -c "[.return_sites, .return_traps, .return_site_passes, .uncaught_returns]" >actual &&
	echo "[1,5,7,1]" >expect && test_cmp expect actual
'

test_expect_success 'the same with trampolines: the return onto a call is caught too' '
	traced &&
	result stats | jq -e ".returns_by == \"trampolines\" and .return_sites == 0 and .uncaught_returns == 0" &&
	echo "[5,500]" >expect && fn rip_site >actual && test_cmp expect actual &&
	echo "[1,24]" >expect && fn call_site >actual && test_cmp expect actual
'

test_expect_success 'without address randomization the brk heap still grows: no area just above it' '
	rm -f "$TRASH/r.json" &&
	{ setarch -R "$FIXTURES/fx-retsite" "$TRASH/r.json" >r.out 2>r.err & } && rpid=$! &&
	test_poll_ 10 test -s "$TRASH/r.json" && test_poll_ 10 grep -qx ready r.out &&
	{ MLYZE_ASSUME_SHADOW_STACK=1 "$MLYZE" attach $rpid --json -e "sleep 1" -e stats -e detach >out 2>err & } &&
	mpid=$! && sleep 0.4 && kill -USR1 $rpid && wait $mpid && test_must_be_empty err &&
	result stats | jq -e ".return_sites == 1" &&
	kill -USR1 $rpid && wait $rpid &&
	test_cmp expect.out r.out && test_must_be_empty r.err
'

test_expect_success 'trim refuses: its call would return where the shadow stack says it must not' '
	fixture_start fx-retsite "$TRASH/trim.json" && pid=$FIXTURE_PID &&
	test_expect_code 1 env MLYZE_ASSUME_SHADOW_STACK=1 "$MLYZE" attach $pid -e trim >out 2>err &&
	grep -x "error: process $pid runs with a CET shadow stack: mlyze cannot call into it" err &&
	kill -USR1 $pid && wait_for_line fx-retsite.out "^done" && kill -USR1 $pid && wait $pid
'

# The exactness, fork/exec/signal and storm/detach tests, whole, in shadow-stack mode (breakpoints).
for t in t2001-alloc-exact t2003-fork-exec-signals t2004-stress-detach; do
	test_expect_success "$t passes in shadow-stack mode" "
		MLYZE_ASSUME_SHADOW_STACK=1 bash \"\$TEST_DIRECTORY/$t.sh\" >$t.log 2>&1 ||
		{ grep -E '^(not ok|#)' $t.log; false; }
	"
done

test_done
