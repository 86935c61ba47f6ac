#!/bin/bash
# Attaching to a running 3-thread fixture: info, threads, and bt naming its functions at the right file:line.

test_description='attach, info, threads, bt'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'start fx-threads' '
	fixture_start fx-threads "$TRASH/truth.json" &&
	echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)

test_expect_success 'info --json: pid, state, all three threads' '
	"$MLYZE" attach $pid -e "info --json" >out &&
	jq -e --argjson p $pid ".ok and .command == \"info --json\" and .result.pid == \$p and
		.result.state == \"running\" and .result.threads == 3 and .result.mode == \"attach\" and
		(.result.exe | endswith(\"fixtures/fx-threads\")) and .result.memory.rss > 0" out
'

test_expect_success 'threads --json lists every tid with its name' '
	"$MLYZE" --json attach $pid -e threads >out &&
	jq -c "[.result.threads[] | {tid, name}] | sort_by(.tid)" out >actual &&
	jq -c "[.threads[] | {tid, name}] | sort_by(.tid)" truth.json >expect &&
	test_cmp expect actual
'

test_expect_success 'bt all --json: each thread in its function and caller at the right file:line' '
	"$MLYZE" attach $pid -e "bt all --json" >out &&
	jq -c "[.result.threads[] | {tid} + ([.frames[] | select(.file != null and (.file | endswith(\"/fx-threads.c\")))] |
		{function: .[0].function, line: .[0].line, caller: .[1].function, caller_line: .[1].line,
		 module: .[0].module})] | sort_by(.tid)" out >actual &&
	jq -c "[.threads[] | {tid, function, line, caller, caller_line, module: \"fx-threads\"}] | sort_by(.tid)" \
		truth.json >expect &&
	test_cmp expect actual
'

test_expect_success 'bt frames carry pc, module and file:line; frame 0 is in libc' '
	jq -e ".result.threads[0].frames[0] | (.pc | test(\"^0x[0-9a-f]+$\")) and .module == \"libc.so.6\"" out &&
	jq -e "[.result.threads[].frames[] | select(.function == \"main\")] | length == 1" out
'

test_expect_success 'bt TID picks one thread; bt alone the main thread' '
	tid=$(jq ".threads[1].tid" truth.json) &&
	"$MLYZE" attach $pid -e "bt $tid" -e bt --json >out &&
	jq -s -e --argjson t $tid --argjson p $pid ".[0].result.threads | length == 1 and .[0].tid == \$t" out &&
	jq -s -e --argjson p $pid ".[1].result.threads | length == 1 and .[0].tid == \$p" out
'

test_expect_success 'bt text is gdb-like' '
	"$MLYZE" attach $pid -e "bt all" >out &&
	grep -E "^  #1  0x[0-9a-f]+ +fx_worker_a at fx-threads.c:$(jq ".threads[1].line" truth.json)\$" out &&
	grep -E "^thread $pid \(fx-threads\):\$" out
'

test_expect_success 'bt of a thread that does not exist fails, the session goes on' '
	test_expect_code 1 "$MLYZE" attach $pid -e "bt 1" -e info >out 2>err &&
	echo "error: no thread 1 in process $pid" >expect &&
	test_cmp expect err &&
	grep "^pid  *$pid\$" out
'

test_expect_success 'the fixture is untouched: not traced, still sleeping' '
	test "$(awk "/^TracerPid:/ {print \$2}" /proc/$pid/status)" = 0 &&
	test_path_is_sleeping $pid
'

test_expect_success 'threads created and libraries loaded after attach are seen' '
	fixture_start fx-late "$TRASH/late.json" "$FIXTURES/libfx-late.so" &&
	lpid=$FIXTURE_PID &&
	{ "$MLYZE" attach $lpid --json -e "sleep 0.5" -e "sleep 3" -e "bt all" >out 2>err & } &&
	mpid=$! &&
	sleep 0.3 && kill -USR1 $lpid &&
	wait $mpid &&
	test -f late.json.late &&
	jq -c "{tid, function, file, line, \"module\": .module}" late.json.late >expect &&
	jq -c ".result.threads? // empty | .[] | select(.tid == $(jq .tid late.json.late)) |
		.frames[] | select(.function == \"fx_late_wait\") |
		{tid: $(jq .tid late.json.late), function, file: (.file | split(\"/\") | last), line, \"module\": .module}" out >actual &&
	test_cmp expect actual
'

# jq 1.6 turns ill-formed input into U+FFFD by itself, so the raw output is checked with iconv first.
test_expect_success JQ 'a thread name and a mapped path that are not UTF-8 are U+FFFD in JSON' '
	fixture_start fx-badname "$TRASH/bad.json" && bpid=$FIXTURE_PID &&
	printf "\377\376 bad\n" >expect && cmp expect /proc/$bpid/comm &&
	"$MLYZE" --json attach $bpid -e threads -e maps >out &&
	iconv -f UTF-8 -t UTF-8 out >/dev/null &&
	grep -F "\"name\": \"\\ufffd\\ufffd bad\"" out &&
	jq -e -s "length == 2 and all(.ok)" out &&
	jq -r ".result.threads? // empty | .[].name" out >actual &&
	printf "\357\277\275\357\277\275 bad\n" >expect && test_cmp expect actual &&
	jq -r ".result.maps? // empty | .[].path | select(endswith(\".map\"))" out >actual &&
	printf "%s.\357\277\275\357\277\275.map\n" "$TRASH/bad.json" >expect && test_cmp expect actual &&
	test_path_is_sleeping $bpid
'

# A target chooses its thread names and file names: text output must not hand its escape sequences
# to the terminal. The fixture runs as a copy whose own name changes the colour.
test_expect_success 'text output escapes control characters in thread names, paths and the executable' '
	red=$(printf "fx-\033[31mred") && cp "$FIXTURES/fx-escname" "$TRASH/$red" &&
	FIXTURES=$TRASH fixture_start "$red" "$TRASH/esc.json" && epid=$FIXTURE_PID &&
	"$MLYZE" attach $epid -e threads -e maps -e info -e "bt all" >out 2>err &&
	test_must_be_empty err &&
	! grep -q -e "$(printf "\033")" -e "$(printf "\007")" -e "$(printf "\302\233")" -e "$(printf "\377")" out &&
	grep -E "^ *$epid  \\\\e\]0;pwned\\\\x07x +[A-Za-z] " out &&
	grep -Fx "thread $epid (\\e]0;pwned\\x07x):" out &&
	grep -F " $TRASH/esc.json.\\e[31m\\xc2\\x9b\\\\\\t\\xff.map" out &&
	grep -Fx "exe        $TRASH/fx-\\e[31mred" out &&
	test_path_is_sleeping $epid
'

test_expect_success 'names echoed back and error messages are escaped the same way' '
	test_expect_code 1 "$MLYZE" attach $epid -e "$(printf "mark p\033[2J")" -e "$(printf "compare \033c now")" \
		>out 2>err &&
	echo "phase '"'"'p\\e[2J'"'"' starts at T s: FIGURES" >expect &&
	sed "s/ at [0-9.]* s: [0-9]* blocks, .* live; heap .* in use, .* free, .* mmapped; RSS .*\$/ at T s: FIGURES/" out >actual &&
	test_cmp expect actual &&
	echo "error: no snapshot named '"'"'\\ec'"'"' (see '"'"'snapshots'"'"')" >expect && test_cmp expect err &&
	test_path_is_sleeping $epid
'

test_done
