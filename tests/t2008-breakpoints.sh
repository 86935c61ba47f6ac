#!/bin/bash
# Breakpoint tracing (--breakpoints), the way before the agent and the one where the agent cannot go
# in: the exactness, C++ and threads, fork/exec/signal and storm/detach tests, whole, in that mode.

test_description='the tracing tests again with breakpoints'
. "$(dirname "$0")/lib/test-lib.sh"

for t in t2001-alloc-exact t2002-cxx-threads t2003-fork-exec-signals t2004-stress-detach; do
	test_expect_success "$t passes with --breakpoints" "
		MLYZE_REAL=\"\$MLYZE\" MLYZE=\"\$TEST_DIRECTORY/lib/mlyze-breakpoints\" \
			bash \"\$TEST_DIRECTORY/$t.sh\" >$t.log 2>&1 ||
		{ grep -E '^(not ok|#)' $t.log; false; }
	"
done

test_expect_success 'stats says so: traps, one per call' '
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	"$MLYZE" attach $apid --breakpoints --json -e stats -e info >out 2>err &&
	result stats | jq -e ".mode == \"breakpoints\"" &&
	result info | jq -e ".tracing.by == \"breakpoints\""
'

test_done
