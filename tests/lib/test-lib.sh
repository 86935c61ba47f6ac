# Git-style TAP test library; each tests/tNNNN-*.sh sources it, runs tests, then calls test_done.

test -n "$BASH_VERSION" || { echo "Bail out! test-lib.sh needs bash" >&2; exit 1; }

for test_arg_ in "$@"; do
	case $test_arg_ in
	-v|--verbose) verbose=t ;;
	*) echo "Bail out! unknown option '$test_arg_'" >&2; exit 1 ;;
	esac
done

# The script's own stdout/stderr, for messages while a test's output is redirected.
exec 5>&1 6>&2

# Stable sorting and messages, whatever the caller's locale.
export LC_ALL=C LANG=C

TEST_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
SRC_ROOT=$(cd "$TEST_DIRECTORY/.." && pwd) || exit 1
MLYZE=${MLYZE:-$SRC_ROOT/mlyze}
case $MLYZE in /*) ;; *) MLYZE=$PWD/$MLYZE ;; esac
FIXTURES=$SRC_ROOT/fixtures
test_name_=$(basename "$0" .sh)
TRASH=$TEST_DIRECTORY/trash.$test_name_
export TEST_DIRECTORY SRC_ROOT MLYZE FIXTURES TRASH

test_count=0
test_passed_=0
test_failed_=0
test_skipped_=0
test_broken_=0
test_fixed_=0
test_done_called_=
test_fixture_pids_=
declare -A test_prereq_=() test_lazy_prereq_=()

test_kill_fixtures_ () {
	local pid live
	live=" $(jobs -p | tr '\n' ' ') "
	for pid in $test_fixture_pids_; do
		# Only our own unreaped jobs: a reaped pid may belong to someone else now.
		case $live in *" $pid "*) kill -KILL "$pid" 2>/dev/null ;; esac
	done
	for pid in $test_fixture_pids_; do
		case $live in *" $pid "*) wait "$pid" 2>/dev/null ;; esac
	done
	test_fixture_pids_=
}

test_exit_trap_ () {
	local code=$?
	# A test that calls exit leaves stdout pointing at its .out file.
	exec 1>&5 2>&6
	test_kill_fixtures_
	if test -z "$test_done_called_"; then
		echo "# FATAL: unexpected exit with code $code${test_current_:+ during test $test_current_}"
		test "$code" != 0 || code=1
		echo "# trash kept: $TRASH"
	fi
	exit "$code"
}
trap test_exit_trap_ EXIT
# Without these a killed script (e.g. by the runner's timeout) would skip the EXIT trap.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

rm -rf "$TRASH" && mkdir -p "$TRASH" && cd "$TRASH" || {
	echo "Bail out! cannot create $TRASH"
	exit 1
}

test_set_prereq () {
	test_prereq_[$1]=t
}

test_lazy_prereq () {
	test_lazy_prereq_[$1]=$2
}

# NAME may be a comma-separated list; "!NAME" requires NAME to be missing.
# Leaves the unmet ones in test_missing_prereq_ for the skip message.
test_have_prereq () {
	local list p name
	test_missing_prereq_=
	IFS=, read -ra list <<<"$1"
	for p in "${list[@]}"; do
		name=${p#!}
		if test -z "${test_prereq_[$name]+set}" && test -n "${test_lazy_prereq_[$name]+set}"; then
			if (cd "$TRASH" && eval "${test_lazy_prereq_[$name]}") >/dev/null 2>&1 </dev/null
			then test_prereq_[$name]=t
			else test_prereq_[$name]=
			fi
		fi
		if test "$name" = "$p"; then
			test -n "${test_prereq_[$name]}"
		else
			test -z "${test_prereq_[$name]}"
		fi || test_missing_prereq_=${test_missing_prereq_:+$test_missing_prereq_,}$p
	done
	test -z "$test_missing_prereq_"
}

test_lazy_prereq GDB 'command -v gdb'
test_lazy_prereq VALGRIND 'command -v valgrind'
test_lazy_prereq GCORE 'command -v gcore'
test_lazy_prereq JQ 'command -v jq'
test_lazy_prereq ROOT 'test "$(id -u)" = 0'
test_lazy_prereq SETPRIV 'command -v setpriv'

test_run_ () {
	eval "$1"
}

# test_expect_ success|failure [PREREQ] TITLE CODE: runs one test and prints its TAP line.
test_expect_ () {
	local expect=$1 fn=test_expect_$1 prereq='' title code status out
	shift
	test $# = 3 && { prereq=$1; shift; }
	if test $# != 2; then
		echo "Bail out! bug in test script: $fn needs 2 or 3 arguments"
		exit 1
	fi
	title=$1 code=$2
	test_count=$((test_count + 1))
	if test -n "$prereq" && ! test_have_prereq "$prereq"; then
		test_skipped_=$((test_skipped_ + 1))
		echo "ok $test_count # skip $title (missing $test_missing_prereq_)"
		return 0
	fi
	out=$TRASH/.out.$test_count
	test_current_="$test_count - $title"
	if test "$verbose" = t; then
		echo "# running: $title"
		test_run_ "$code" </dev/null
	else
		test_run_ "$code" </dev/null >"$out" 2>&1
	fi
	status=$?
	test_current_=
	cd "$TRASH" || exit 1
	if test "$expect" = failure; then
		if test $status = 0; then
			test_fixed_=$((test_fixed_ + 1))
			echo "ok $test_count - $title # TODO known breakage vanished"
		else
			test_broken_=$((test_broken_ + 1))
			echo "not ok $test_count - $title # TODO known breakage"
		fi
	elif test $status = 0; then
		test_passed_=$((test_passed_ + 1))
		echo "ok $test_count - $title"
	else
		test_failed_=$((test_failed_ + 1))
		echo "not ok $test_count - $title"
		printf '%s\n' "$code" | sed 's/^/#	/'
		if test "$verbose" != t && test -s "$out"; then
			echo "# output (exit status $status):"
			sed 's/^/# /' "$out"
		fi
	fi
	return 0
}

# test_expect_success [PREREQ] TITLE CODE: CODE, run in the trash directory, must succeed.
test_expect_success () {
	test_expect_ success "$@"
}

# test_expect_failure [PREREQ] TITLE CODE: a known breakage, as in git. CODE is expected to
# fail and then reads "not ok N - TITLE # TODO known breakage", which TAP and tests/run.sh count
# as skipped, not failed. Once CODE succeeds it reads "ok N - TITLE # TODO known breakage
# vanished" (also skipped): time to make it test_expect_success.
test_expect_failure () {
	test_expect_ failure "$@"
}

test_done () {
	test_done_called_=t
	test_kill_fixtures_
	echo "1..$test_count"
	echo "# passed $test_passed_, failed $test_failed_, skipped $test_skipped_"
	test "$test_broken_" = 0 || echo "# still have $test_broken_ known breakage(s)"
	test "$test_fixed_" = 0 || echo "# fixed $test_fixed_ known breakage(s): make them test_expect_success"
	cd "$TEST_DIRECTORY" || exit 1
	if test "$test_failed_" = 0; then
		rm -rf "$TRASH"
		exit 0
	fi
	echo "# trash kept: $TRASH"
	exit 1
}

# Like git's: a crash (signal, exit > 128) or a missing command is no proper failure.
test_must_fail () {
	"$@"
	local code=$?
	if test $code = 0; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif test $code -gt 128; then
		echo "test_must_fail: died by signal $((code - 128)): $*" >&2
		return 1
	elif test $code = 127 || test $code = 126; then
		echo "test_must_fail: command not found or not executable: $*" >&2
		return 1
	fi
	return 0
}

test_expect_code () {
	local want=$1 code
	shift
	"$@"
	code=$?
	test $code = "$want" && return 0
	echo "test_expect_code: command exited with $code, wanted $want: $*" >&2
	return 1
}

test_cmp () {
	diff -u "$@"
}

test_usec_ () {
	local s=${1:-10} int frac=
	int=${s%%.*}
	case $s in *.*) frac=${s#*.} ;; esac
	frac=${frac}000000
	echo $(( ${int:-0} * 1000000 + 10#${frac:0:6} ))
}

test_now_usec_ () {
	echo "${EPOCHREALTIME/./}"
}

# Polls every 0.05 s until CONDITION... succeeds; returns 1 after SECONDS.
test_poll_ () {
	local deadline
	deadline=$(( $(test_now_usec_) + $(test_usec_ "$1") ))
	shift
	until "$@"; do
		test "$(test_now_usec_)" -lt "$deadline" || return 1
		sleep 0.05
	done
}

wait_for_file () {
	test_poll_ "${2:-10}" test -e "$1"
}

wait_for_line () {
	test_poll_ "${3:-10}" grep -Eq -e "$2" "$1" 2>/dev/null
}

test_pid_gone_ () {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	case ${stat%% *} in Z|X|x) return 0 ;; esac
	return 1
}

# A zombie counts as exited, so this works for our own unreaped children too.
wait_for_exit () {
	test_poll_ "${2:-10}" test_pid_gone_ "$1"
}

test_fixture_settled_ () {
	grep -qx ready "$1" 2>/dev/null || test_pid_gone_ "$2"
}

fixture_start () {
	local name=$1
	shift
	# Emptied before the start: the previous fixture's "ready" must not be taken for this one's
	# (the background shell truncates the file only once it runs, maybe after the first poll).
	: >"$TRASH/$name.out"
	"$FIXTURES/$name" "$@" >"$TRASH/$name.out" 2>"$TRASH/$name.err" </dev/null 5>&- 6>&- &
	FIXTURE_PID=$!
	test_fixture_pids_="$test_fixture_pids_ $FIXTURE_PID"
	# Stop waiting early when the fixture dies before getting ready; a loaded machine may take long.
	test_poll_ 30 test_fixture_settled_ "$TRASH/$name.out" "$FIXTURE_PID"
	if ! grep -qx ready "$TRASH/$name.out"; then
		echo "fixture_start: $name (pid $FIXTURE_PID) never printed ready" >&2
		sed 's/^/fixture stderr: /' "$TRASH/$name.err" >&2
		fixture_stop "$FIXTURE_PID"
		return 1
	fi
}

fixture_stop () {
	local pid=${1:-$FIXTURE_PID} p rest=
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for p in $test_fixture_pids_; do
		test "$p" = "$pid" || rest="$rest $p"
	done
	test_fixture_pids_=$rest
	return 0
}

# --- mlyze-specific helpers ---

# fx-alloc's traced live blocks per function, as [function, blocks, bytes] lines (top --by function
# with --json, biggest first): after step 1 (every entry point; fx_temp's all freed again) ...
fx_alloc_step1_groups () {
	cat <<-\EOF
	["fx_pvalloc",1,5000]
	["fx_small",10,1000]
	["fx_calloc",5,1000]
	["fx_valloc",1,1000]
	["fx_reallocarray",1,300]
	["fx_aligned_alloc",1,256]
	["fx_realloc_chain",1,160]
	["fx_posix_memalign",1,100]
	["fx_memalign",1,48]
	EOF
}
# ... and after step 2, which frees half of fx_small's and all of fx_calloc's
fx_alloc_step2_groups () {
	cat <<-\EOF
	["fx_pvalloc",1,5000]
	["fx_valloc",1,1000]
	["fx_small",5,500]
	["fx_reallocarray",1,300]
	["fx_aligned_alloc",1,256]
	["fx_realloc_chain",1,160]
	["fx_posix_memalign",1,100]
	["fx_memalign",1,48]
	EOF
}


# A mlyze session driven one command at a time, for tests whose steps must fall between commands
# (a sleep would race a loaded machine): mlz_start PID [ARGS...] runs "$MLYZE attach PID ARGS..."
# reading commands from a fifo held open on fd 9, its answers in out and its stderr in err; mlz LINE
# sends LINE and waits for one more JSON answer to it (--json among ARGS, or in LINE); mlz_end
# closes the fifo (end of input: mlyze detaches) and returns mlyze's exit status.
mlz_start () {
	local pid=$1
	shift
	rm -f "$TRASH/mlz.fifo" out err && mkfifo "$TRASH/mlz.fifo" &&
	{ "$MLYZE" attach $pid "$@" <"$TRASH/mlz.fifo" >out 2>err & } && mpid=$! &&
	exec 9>"$TRASH/mlz.fifo"
}
mlz_answered_ () {
	test "$(grep -cF "{\"command\": \"$1\"" out)" -ge "$2"
}
mlz () {
	local want=$(( $(grep -cF "{\"command\": \"$1\"" out) + 1 ))
	echo "$1" >&9 && test_poll_ 120 mlz_answered_ "$1" $want
}
mlz_end () {
	exec 9>&-
	wait $mpid
}

# The state letter of a process (R, S, T, Z, ...) from /proc, or nothing when it is gone.
proc_state () {
	sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null
}

# Succeeds when PID is alive, not stopped, not a zombie, and traced by nobody.
test_path_is_sleeping () {
	local st tracer
	st=$(proc_state "$1")
	tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	case $st in
	R|S|D) ;;
	*) echo "process $1 is in state '${st:-gone}'" >&2; return 1 ;;
	esac
	test "$tracer" = 0 || { echo "process $1 is traced by $tracer" >&2; return 1; }
}

# jq -e given no input at all exits 0 (jq's rule: no result is not a false one), so an assertion
# on an answer that never came (a command that failed or was never run, an empty file) would
# pass. Here jq -e fails when it printed nothing; everything else is jq's own.
jq () {
	case " $* " in
	*" -e "*)
		local out rc
		out=$(command jq "$@")
		rc=$?
		test -z "$out" || printf '%s\n' "$out"
		test $rc = 0 || return $rc
		test -n "$out" || { echo "jq -e: no input to judge (no answer, or an empty file)" >&2; return 1; }
		;;
	*)
		command jq "$@"
		;;
	esac
}

# attached FILE: wait until the mlyze writing its --json answers to FILE has answered its first
# command, -e "sleep 0": it runs once mlyze is attached with its tracing in place, so a test acts
# then rather than after a guessed delay (too short on a loaded machine).
attached () {
	wait_for_line "$1" '^[{]"command": "sleep 0"' 120
}

# result CMD [FILE]: the "result" of each --json answer to the command line CMD, exactly as
# typed ("top --by function --top 0"), in FILE (default: out), one compact JSON line each. Lines
# that are not JSON objects (a program's own output, in run mode without -o) are passed over.
result () {
	grep '^{' "${2:-out}" | jq -c --arg c "$1" 'select(.command == $c) | .result'
}

# last CMD: the result of the last answer to CMD in out
last () {
	result "$1" | tail -n 1
}

# record_fx_alloc_marked: fx-alloc (pid in apid) recorded by `record -p` into rec.mlz, checkpoints
# every second, its stderr in rec.err (pid in mpid); marks usr1-1..3 before step 1, after step 1 and
# after step 2; SIGINT ends the recorder (status 0), then step 3 lets fx-alloc exit 0. Uses the
# caller's `step N` (fx-alloc) and `mark N` (SIGUSR1 to the recorder).
record_fx_alloc_marked () {
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	{ "$MLYZE" record -o rec.mlz --checkpoint 1 -p $apid 2>rec.err & } && mpid=$! &&
	wait_for_line rec.err "^mlyze: recording process" 30 &&
	mark 1 && sleep 1.2 && step 1 && mark 2 && sleep 1.2 && step 2 && mark 3 && sleep 2.2 &&
	kill -INT $mpid && { wait $mpid; code=$?; } && test $code = 0 &&
	test_path_is_sleeping $apid && step 3 && { wait $apid; code=$?; } && test $code = 0
}

# site FUNCTION FIELD: FIELD (bytes or blocks) of FUNCTION's group in the last "top --by function --top 0"
site () {
	last "top --by function --top 0" | jq -r --arg f "$1" "[.groups[] | select(.function == \$f) | .$2] | add // 0"
}

# within PCT ESTIMATE TRUTH: |ESTIMATE - TRUTH| <= PCT % of TRUTH (an estimate's error, printed)
within () {
	awk -v p="$1" -v e="$2" -v t="$3" 'BEGIN { d = e - t; if (d < 0) d = -d;
		printf "estimate %s, truth %s: %.2f %%\n", e, t, 100 * d / t; exit !(d <= t * p / 100) }'
}

# Succeeds when FILE exists and is empty; shows it otherwise.
test_must_be_empty () {
	test -f "$1" || { echo "'$1' does not exist" >&2; return 1; }
	if test -s "$1"; then
		echo "'$1' is not empty:" >&2
		cat "$1" >&2
		return 1
	fi
}
