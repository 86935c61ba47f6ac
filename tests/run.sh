#!/bin/bash
# Runs cmocka unit test binaries and TAP test scripts, ending with one "N passed, M failed" line.
#
# usage: tests/run.sh [UNIT_TEST_BINARY...] -- [TEST_SCRIPT...]
# Without scripts, runs every tests/tNNNN-*.sh. TEST_TIMEOUT (seconds, default 300)
# bounds each program.

export LC_ALL=C

units=()
scripts=()
seen_sep=
for arg in "$@"; do
	if test -z "$seen_sep" && test "$arg" = --; then
		seen_sep=t
	elif test -z "$seen_sep"; then
		units+=("$arg")
	else
		scripts+=("$arg")
	fi
done
if test ${#scripts[@]} = 0; then
	for s in "$(dirname "$0")"/t[0-9][0-9][0-9][0-9]-*.sh; do
		test -e "$s" && scripts+=("$s")
	done
fi

timeout_s=${TEST_TIMEOUT:-300}
passed=0
failed=0
skipped=0

# run_tap NAME COMMAND...: shows COMMAND's TAP output under a header and tallies it.
# Output goes through a file, not a pipe, so a stray process that inherited
# the program's stdout cannot keep the runner waiting.
run_tap () {
	local name=$1 line status fails=0
	shift
	echo "*** $name"
	: >"$tmp/out"
	timeout -k 10 "$timeout_s" "$@" </dev/null >"$tmp/out" 2>&1 &
	prog_pid=$!
	tail -s 0.1 -n +1 -f --pid="$prog_pid" "$tmp/out" &
	tail_pid=$!
	wait "$prog_pid"
	status=$?
	wait "$tail_pid"
	prog_pid='' tail_pid=''
	while IFS= read -r line; do
		# cmocka reports skips as "not ok N # SKIP", so the directive wins; a known
		# breakage (test_expect_failure: "# TODO") is neither passed nor failed either.
		if [[ $line =~ ^(not\ )?ok\ [0-9]+[^#]*#\ *([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo]) ]]; then
			skipped=$((skipped + 1))
		elif [[ $line =~ ^ok\ [0-9]+ ]]; then
			passed=$((passed + 1))
		elif [[ $line =~ ^not\ ok\ [0-9]+ ]]; then
			fails=$((fails + 1))
		fi
	done <"$tmp/out"
	if test "$status" = 124 || test "$status" = 137; then
		echo "# $name timed out"
		fails=$((fails + 1))
	elif test "$status" != 0 && test $fails = 0; then
		echo "# $name exited with status $status"
		fails=1
	fi
	failed=$((failed + fails))
}

tmp=$(mktemp -d) || exit 1
prog_pid='' tail_pid=''
trap 'rm -rf "$tmp"' EXIT
# timeout puts the program in its own process group, out of reach of ^C.
trap 'kill -TERM $prog_pid $tail_pid 2>/dev/null; exit 130' INT TERM HUP

for u in "${units[@]}"; do
	case $u in */*) cmd=$u ;; *) cmd=./$u ;; esac
	run_tap "$u" env CMOCKA_MESSAGE_OUTPUT=TAP "$cmd"
done
for s in "${scripts[@]}"; do
	run_tap "$s" bash "$s"
done

summary="$passed passed, $failed failed"
test $skipped = 0 || summary="$summary, $skipped skipped"
echo "$summary"
test $failed = 0
