#!/bin/bash
# Self-test of the test library, the runner and the fixtures everything else relies on.

test_description='test harness, runner and fixtures'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'test_cmp accepts equal and rejects different files' '
	printf "a\nb\n" >one && printf "a\nb\n" >two && printf "a\nc\n" >three &&
	test_cmp one two &&
	test_must_fail test_cmp one three
'

test_expect_success 'test_must_fail wants a plain failure' '
	test_must_fail false &&
	test_must_fail sh -c "exit 3" &&
	! test_must_fail true &&
	! test_must_fail sh -c "kill -TERM \$\$" &&
	! test_must_fail no-such-command-here
'

test_expect_success 'test_expect_code wants the exact code' '
	test_expect_code 3 sh -c "exit 3" &&
	! test_expect_code 3 sh -c "exit 4" &&
	! test_expect_code 3 true
'

test_expect_success 'test_expect_failure marks a known breakage TODO, and its end too' '
	(
		test_expect_failure "still broken" false &&
		test_expect_failure "fixed meanwhile" true &&
		test_expect_failure NEVER_SET_PREREQ "skipped" false &&
		echo "broken $test_broken_, fixed $test_fixed_, failed $test_failed_, skipped $test_skipped_"
	) >out &&
	sed "s/ok [0-9]*/ok N/" out >actual &&
	cat >expect <<-\EOF &&
	not ok N - still broken # TODO known breakage
	ok N - fixed meanwhile # TODO known breakage vanished
	ok N # skip skipped (missing NEVER_SET_PREREQ)
	broken 1, fixed 1, failed 0, skipped 1
	EOF
	test_cmp expect actual
'

test_set_prereq HAVE_IT
test_expect_success HAVE_IT 'a test with a met prereq runs' '
	test_have_prereq HAVE_IT && ! test_have_prereq !HAVE_IT
'

test_expect_success NEVER_SET_PREREQ 'a test with a missing prereq is skipped' '
	false
'

test_expect_success 'lazy prereq ROOT matches id -u' '
	if test "$(id -u)" = 0
	then test_have_prereq ROOT
	else ! test_have_prereq ROOT
	fi
'

test_expect_success 'wait helpers poll and time out' '
	sleep 60 &
	pid=$!
	(sleep 0.2 && echo "hello there" >late) &
	wait_for_file late 5 &&
	wait_for_line late "^hello" 5 &&
	! wait_for_line late "^never" 0.2 &&
	! wait_for_exit $pid 0.2 &&
	kill $pid && wait_for_exit $pid 5
'

test_expect_success JQ 'fixture_start runs fx-ticker, fixture_stop kills it' '
	fixture_start fx-ticker truth.json 100000 100 0 &&
	test "$(jq .pid truth.json)" = "$FIXTURE_PID" &&
	kill -0 "$FIXTURE_PID" &&
	fixture_stop &&
	! kill -0 "$FIXTURE_PID" 2>/dev/null
'

test_expect_success 'fixture_start fails fast when the fixture dies early' '
	start=$SECONDS &&
	test_must_fail fixture_start fx-ticker truth.json not-a-number 1 0 2>err &&
	grep "bad number" err &&
	test $((SECONDS - start)) -lt 5
'

test_expect_success 'fx-ticker counts signals and exits as told' '
	fixture_start fx-ticker truth.json 10 30 3 &&
	kill -USR1 $FIXTURE_PID && kill -USR2 $FIXTURE_PID &&
	test_expect_code 3 wait $FIXTURE_PID &&
	test "$(grep -c "^tick " fx-ticker.out)" = 10 &&
	test "$(tail -n 1 fx-ticker.out)" = "usr1=1 usr2=1"
'

test_expect_success 'fx-ticker kills itself for a negative exit code' '
	fixture_start fx-ticker truth.json 1 10 -15 &&
	test_expect_code 143 wait $FIXTURE_PID &&
	test "$(tail -n 1 fx-ticker.out)" = "usr1=0 usr2=0"
'

test_expect_success JQ 'fx-zombie holds an unreaped child' '
	fixture_start fx-zombie truth.json &&
	zombie=$(jq .zombie truth.json) &&
	stat=$(cat /proc/$zombie/stat) &&
	set -- ${stat##*) } &&
	test "$1 $2" = "Z $FIXTURE_PID"
'

test_expect_success JQ 'fx-threads reports its three threads' '
	fixture_start fx-threads truth.json &&
	jq -r ".threads[].tid" truth.json | sort -n >expect &&
	ls /proc/$FIXTURE_PID/task | sort -n >actual &&
	test_cmp expect actual &&
	for tid in $(cat expect); do
		name=$(jq -r ".threads[] | select(.tid == $tid) | .name" truth.json) &&
		test "$name" = "$(cat /proc/$FIXTURE_PID/task/$tid/comm)" || return 1
	done &&
	fixture_stop
'

# "TID #FRAME FUNCTION FILE:LINE" for frames 1 and 2 of each thread, from the truth ...
truth_frames () {
	jq -r '.file as $f | .threads[] |
		"\(.tid) #1 \(.function) \($f):\(.line)",
		"\(.tid) #2 \(.caller) \($f):\(.caller_line)"' "$1" | sort
}

# ... and from gdb's "thread apply all bt".
gdb_frames () {
	awk '/^Thread .*\(LWP [0-9]+\)/ { lwp = $0; sub(/.*\(LWP /, "", lwp); sub(/\).*/, "", lwp) }
	     /^#[12] / { n = $1; sub(/^#[0-9]+ +(0x[0-9a-f]+ in )?/, ""); file = $NF
			 sub(/.*\//, "", file); print lwp, n, $1, file }' "$1" | sort
}

# Guards the fixture: an edit that shifts its lines must also update them.
test_expect_success GDB,JQ 'gdb sees fx-threads where its truth says' '
	fixture_start fx-threads truth.json &&
	truth_frames truth.json >expect &&
	gdb -nx -batch -ex "set debuginfod enabled off" -p $FIXTURE_PID \
		-ex "thread apply all bt" >bt 2>&1 &&
	gdb_frames bt >actual &&
	test_cmp expect actual
'

test_expect_success 'run.sh tallies TAP, crashes and timeouts' '
	printf "echo 1..6; echo ok 1 - a; echo not ok 2 - b; echo \"ok 3 # skip c\"; echo \"not ok 4 # SKIP d\"\n" >mixed.sh &&
	printf "echo \"not ok 5 - e # TODO known breakage\"; echo \"ok 6 - f # TODO known breakage vanished\"\n" >>mixed.sh &&
	printf "echo ok 1 - a; exit 3\n" >crash.sh &&
	printf "echo ok 1 - a; exec sleep 30\n" >slow.sh &&
	printf "#!/bin/sh\ntest \"\$CMOCKA_MESSAGE_OUTPUT\" = TAP && echo ok 1 - env\n" >unit &&
	chmod +x unit &&
	test_expect_code 1 "$TEST_DIRECTORY/run.sh" unit -- mixed.sh crash.sh >out &&
	test "$(tail -n 1 out)" = "3 passed, 2 failed, 4 skipped" &&
	grep -x "# crash.sh exited with status 3" out &&
	test_expect_code 1 env TEST_TIMEOUT=1 "$TEST_DIRECTORY/run.sh" -- slow.sh >out &&
	grep -x "# slow.sh timed out" out &&
	test "$(tail -n 1 out)" = "1 passed, 1 failed" &&
	echo "echo ok 1 - fine" >fine.sh &&
	"$TEST_DIRECTORY/run.sh" unit -- fine.sh >out &&
	test "$(tail -n 1 out)" = "2 passed, 0 failed"
'

test_done
