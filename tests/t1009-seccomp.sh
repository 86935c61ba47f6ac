#!/bin/bash
# Seccomp: mlyze makes no call into a process that its seccomp filter (or strict mode) would kill,
# trap or fail. fx-seccomp enters each mode after starting; mlyze attaches with and without
# --no-trace and lets go, and the process must still answer on its FIFO as it did before, then
# exit 0. The messages and mlyze's exit status are exact; an allow-all filter changes nothing.

test_description='seccomp filters and strict mode: no injected call the process would die of'
. "$(dirname "$0")/lib/test-lib.sh"

OUT=$TRASH/fx-seccomp.out
TAIL="tracing needs it; heap walks, stacks and cores still work (as with --no-trace)"

# start MODE: fx-seccomp in MODE reading lines from $TRASH/in; sets pid, clears the answer count
start () {
	rm -f "$TRASH/in" && mkfifo "$TRASH/in" &&
	fixture_start fx-seccomp "$1" "$TRASH/truth.json" "$TRASH/in" && pid=$FIXTURE_PID
}

# the process's mappings but the brk heap, which trim may shrink
mappings () {
	grep -v "\[heap\]" /proc/$pid/maps | cut -d" " -f1
}

answers () {
	test "$(grep -cx "$1" "$OUT")" -ge "$2"
}

# ask LINE ANSWER N: send LINE and wait for the Nth ANSWER line
ask () {
	echo "$1" >"$TRASH/in" && test_poll_ 5 answers "$2" "$3"
}

# finish ANSWERS...: the process exits 0 when told, after printing ready and exactly ANSWERS
finish () {
	echo exit >"$TRASH/in" && { wait $pid; code=$?; } && test "$code" = 0 &&
	printf "%s\n" ready "$@" >expect && test_cmp expect "$OUT"
}

test_expect_success 'without mlyze: every mode answers and exits 0' '
	for mode in allow kill-mmap kill-munmap errno-mmap wx; do
		start $mode && ask ping pong 1 && ask alloc allocated 1 && finish pong allocated || return 1
	done &&
	start strict && ask ping pong 1 && ask alloc "what?" 1 && finish pong "what?"
'

test_expect_success 'a filter that kills mmap: tracing is off and says why, the rest works, exit 0' '
	start kill-mmap && ask ping pong 1 &&
	"$MLYZE" attach $pid --json -e "bt" -e "heap" >out 2>err &&
	echo "mlyze: allocation tracing is off: process $pid'"'"'s seccomp filter kills mmap: $TAIL" >expect &&
	test_cmp expect err &&
	result bt | jq -e ".threads[0].frames | map(.function) | index(\"main\") != null" &&
	result heap | jq -e ".complete" &&
	test_path_is_sleeping $pid &&
	ask ping pong 2 && ask alloc allocated 1 && finish pong pong allocated
'

test_expect_success 'a filter that kills mmap, --no-trace: nothing to say' '
	start kill-mmap &&
	"$MLYZE" attach $pid --no-trace -e "bt" >out 2>err &&
	test_must_be_empty err && grep -q "main at" out &&
	ask ping pong 1 && ask alloc allocated 1 && finish pong allocated
'

test_expect_success 'strict mode: tracing is off and says why, stacks work, the process lives on' '
	start strict && ask ping pong 1 &&
	"$MLYZE" attach $pid -e "bt" >out 2>err &&
	echo "mlyze: allocation tracing is off: process $pid'"'"'s seccomp strict mode kills mmap: $TAIL" >expect &&
	test_cmp expect err && grep -q "main at" out &&
	ask ping pong 2 && finish pong pong
'

test_expect_success 'strict mode, --no-trace: nothing to say' '
	start strict &&
	"$MLYZE" attach $pid --no-trace -e "bt" >out 2>err &&
	test_must_be_empty err && grep -q "main at" out &&
	ask ping pong 1 && finish pong
'

test_expect_success 'a filter that fails mmap with EPERM: named as such, not as a lack of room' '
	start errno-mmap &&
	"$MLYZE" attach $pid -e "bt" >out 2>err &&
	echo "mlyze: allocation tracing is off: process $pid'"'"'s seccomp filter fails mmap with EPERM: $TAIL" >expect &&
	test_cmp expect err &&
	ask ping pong 1 && ask alloc allocated 1 && finish pong allocated
'

test_expect_success 'a filter that fails mmap with EPERM, --no-trace: nothing to say' '
	start errno-mmap &&
	"$MLYZE" attach $pid --no-trace -e "bt" >out 2>err &&
	test_must_be_empty err &&
	ask ping pong 1 && finish pong
'

test_expect_success 'write-xor-execute (mprotect PROT_EXEC fails): the half-made area is gone again' '
	start wx &&
	mappings >maps.before &&
	"$MLYZE" attach $pid -e "bt" >out 2>err &&
	echo "mlyze: allocation tracing is off: process $pid'"'"'s seccomp filter fails mprotect with EPERM: $TAIL" >expect &&
	test_cmp expect err &&
	mappings >maps.after &&
	test_cmp maps.before maps.after &&
	ask ping pong 1 && ask alloc allocated 1 && finish pong allocated
'

test_expect_success 'a filter that kills munmap: traced, then the agent'"'"'s area stays, disarmed, with a notice' '
	start kill-munmap &&
	"$MLYZE" attach $pid --json -e stats >out 2>err &&
	result stats | jq -e ".tracing" &&
	grep -E "^mlyze: process $pid'"'"'s seccomp filter kills munmap: the agent'"'"'s area 0x[0-9a-f]+-0x[0-9a-f]+ stays mapped, disarmed$" err &&
	test "$(wc -l <err)" = 1 &&
	range=$(sed -E "s/.*area 0x([0-9a-f]+)-0x([0-9a-f]+) .*/\1 \2/" err) &&
	set -- $range &&
	grep "^$1-" /proc/$pid/maps && grep -- "-$2 " /proc/$pid/maps &&
	test_path_is_sleeping $pid &&
	ask ping pong 1 && ask alloc allocated 1 && finish pong allocated
'

test_expect_success 'the same with --breakpoints: the scratch area stays, unused, with a notice' '
	start kill-munmap &&
	"$MLYZE" attach $pid --breakpoints --json -e stats >out 2>err &&
	grep -E "^mlyze: process $pid'"'"'s seccomp filter kills munmap: the scratch area 0x[0-9a-f]+-0x[0-9a-f]+ stays mapped, unused$" err &&
	test "$(wc -l <err)" = 1 &&
	test_path_is_sleeping $pid &&
	ask ping pong 1 && ask alloc allocated 1 && finish pong allocated
'

test_expect_success 'a filter that kills nanosleep, which only the agent makes: breakpoints trace instead, exactly' '
	start kill-nanosleep && ask ping pong 1 &&
	{ "$MLYZE" attach $pid --json -e "sleep 1" -e stats -e detach <&- >out 2>err & } && mpid=$! &&
	sleep 0.5 && ask alloc allocated 1 && wait $mpid &&
	grep -x "mlyze: the agent cannot be used (process $pid'"'"'s seccomp filter kills nanosleep, which the agent makes): tracing with breakpoints" err &&
	test "$(wc -l <err)" = 1 &&
	result stats | jq -e ".mode == \"breakpoints\" and .events.malloc >= 1" &&
	test_path_is_sleeping $pid &&
	ask ping pong 2 && finish pong allocated pong
'

test_expect_success 'a filter that kills munmap, --no-trace: nothing mapped, nothing to say' '
	start kill-munmap &&
	mappings >maps.before &&
	"$MLYZE" attach $pid --no-trace -e "bt" >out 2>err &&
	test_must_be_empty err &&
	mappings >maps.after &&
	test_cmp maps.before maps.after &&
	ask ping pong 1 && finish pong
'

test_expect_success 'trim: refused when a call malloc_trim may make would be killed, with the reason' '
	start kill-munmap &&
	test_expect_code 1 "$MLYZE" attach $pid --no-trace -e trim >out 2>err &&
	echo "error: process $pid'"'"'s seccomp filter kills munmap, which malloc_trim may call: trim not attempted" >expect &&
	test_cmp expect err &&
	ask ping pong 1 && finish pong &&
	start strict &&
	test_expect_code 1 "$MLYZE" attach $pid --no-trace -e trim >out 2>err &&
	echo "error: process $pid'"'"'s seccomp strict mode kills madvise, which malloc_trim may call: trim not attempted" >expect &&
	test_cmp expect err &&
	ask ping pong 1 && finish pong
'

test_expect_success 'trim: made where the filter decides by arguments malloc_trim passes as checked' '
	start wx &&
	"$MLYZE" attach $pid --no-trace --json -e trim >out 2>err &&
	test_must_be_empty err && result trim | jq -e ".released | type == \"boolean\"" &&
	ask ping pong 1 && finish pong
'

# The commands come on a FIFO, so each one runs after the fixture did what the test asked.
test_expect_success 'an allow-all filter: tracing counts exactly, trim works, detach is clean' '
	start allow &&
	mappings >maps.before &&
	rm -f cmd && mkfifo cmd && exec 7<>cmd &&
	{ "$MLYZE" attach $pid --json <cmd >out 2>err & } && mpid=$! &&
	test_fixture_pids_="$test_fixture_pids_ $mpid" && # should a step fail, mlyze would wait for input
	echo stats >&7 && test_poll_ 10 grep -q "\"command\": \"stats\"" out &&
	ask alloc allocated 1 &&
	printf "%s\n" "top --by function --top 0" stats trim quit >&7 &&
	wait $mpid && exec 7>&- &&
	test_must_be_empty err &&
	result "top --by function --top 0" |
		jq -c ".groups[] | select(.function == \"fx_hold\") | [.blocks, .bytes]" >actual &&
	echo "[6,600]" >expect && test_cmp expect actual &&
	result stats | sed -n 2p | jq -c "[.tracing, .events.malloc, .events.free]" >actual &&
	echo "[true,10,4]" >expect && test_cmp expect actual &&
	result trim | jq -e ".released | type == \"boolean\"" &&
	mappings >maps.after &&
	test_cmp maps.before maps.after &&
	ask ping pong 1 && ask alloc allocated 2 && finish allocated pong allocated
'

test_lazy_prereq NOBODY_CAN_RUN_MLYZE '
	test "$(id -u)" = 0 && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MLYZE" --version >/dev/null 2>&1
'

# PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN: a filter mlyze cannot read is one it cannot trust.
test_expect_success NOBODY_CAN_RUN_MLYZE 'a filter mlyze cannot read: no injection, and why' '
	mkdir -p nobody && chmod 777 nobody && mkfifo nobody/in && chmod 666 nobody/in &&
	{ setpriv --reuid=65534 --regid=65534 --clear-groups "$FIXTURES/fx-seccomp" allow nobody/t.json nobody/in \
		>nobody/out 2>nobody/err </dev/null 5>&- 6>&- & } &&
	pid=$! && test_fixture_pids_="$test_fixture_pids_ $pid" &&
	test_poll_ 10 grep -qx ready nobody/out &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MLYZE" attach $pid -e "bt" >out 2>err &&
	echo "mlyze: allocation tracing is off: cannot read process $pid'"'"'s seccomp filter to check mmap (PTRACE_SECCOMP_GET_FILTER on thread $pid: Permission denied; reading it needs CAP_SYS_ADMIN, outside seccomp): $TAIL" >expect &&
	test_cmp expect err && grep -q "main at" out &&
	echo ping >nobody/in && test_poll_ 5 grep -qx pong nobody/out &&
	echo exit >nobody/in && { wait $pid; code=$?; } && test "$code" = 0
'

test_done
