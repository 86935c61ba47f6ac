#!/bin/bash
# C++ names are demangled and inlined bodies unfold into frames of their own, as gdb shows them.

test_description='demangling and inlined frames, gdb as the oracle'
. "$(dirname "$0")/lib/test-lib.sh"

src=$FIXTURES/fx-cxx.cc
mark () { grep -n "MARK:$1\$" "$src" | cut -d: -f1; }

test_expect_success 'start fx-cxx' '
	fixture_start fx-cxx "$TRASH/truth.json" && echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)

test_expect_success 'bt --json: the inlined body, the method it is inlined in, main; lines from the source' '
	"$MLYZE" attach $pid -e "bt --json" >out &&
	jq -c ".result.threads[0].frames[] | select(.module == \"fx-cxx\" and .file != null) |
		{function, line, inlined: (.inlined // false)}" out >actual &&
	cat >expect <<-EOF &&
	{"function":"fx::Waiter<long>::block()","line":$(mark pause),"inlined":true}
	{"function":"fx::Waiter<long>::wait(int)","line":$(mark block),"inlined":false}
	{"function":"main","line":$(mark wait),"inlined":false}
	EOF
	test_cmp expect actual
'

test_expect_success 'the inlined frame shares its PC with the frame it was inlined into' '
	jq -e "[.result.threads[0].frames[] | select(.module == \"fx-cxx\")] | .[0].pc == .[1].pc" out
'

test_expect_success GDB 'gdb names the same functions at the same lines' '
	gdb -nx -batch -ex "set debuginfod enabled off" -p $pid -ex bt 2>/dev/null >gdb.out &&
	sed -n "s/^#[0-9]*  *\(0x[0-9a-f]* in \)\?\([^ ]*\) (.*) at \([^ ]*\):\([0-9]*\)\$/\2 \3:\4/p" gdb.out |
		grep "fx-cxx.cc" >expect &&
	jq -r ".result.threads[0].frames[] | select(.module == \"fx-cxx\" and .file != null) |
		\"\(.function | sub(\"\\\\(.*\\\\)$\"; \"\")) \(.file | split(\"/\") | last):\(.line)\"" out >actual &&
	test_cmp expect actual
'

test_done
