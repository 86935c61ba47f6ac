#!/bin/bash
# trend: the groups that grew in every interval of the last N snapshots. fx-trend grows with a known
# shape per step: fx_leak_fast +1536 and fx_leak_slow +100 bytes every step, fx_plateau +2000 on
# steps 1 and 2 only, fx_sawtooth +4000 on odd steps and -4000 on even ones.

test_description='trend: growth in every interval'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'snapshots before and after each of 4 steps, taken between the steps' '
	fixture_start fx-trend "$TRASH/truth.json" 6 && pid=$FIXTURE_PID && echo $pid >pid &&
	mlz_start $pid --json &&
	mlz "snapshot s0" &&
	for k in 1 2 3 4; do
		kill -USR1 $pid && wait_for_line "$TRASH/fx-trend.out" "^step$k" 10 && mlz "snapshot s$k" || return 1
	done &&
	for c in "trend --by function" "trend 3 --by function" "trend 2 --by function --top 1" \
		"compare s0 s4 --by function" trend "trend 6" "trend 1"; do
		mlz "$c" || return 1
	done &&
	mlz_end;
	test_path_is_sleeping $pid
'

test_expect_success 'every interval: the two leaks, largest first, with their series; the plateau and the saw left out' '
	result "trend --by function" | jq -c "[.snapshots, .intervals, .suspects]" >actual &&
	echo "[[\"s0\",\"s1\",\"s2\",\"s3\",\"s4\"],4,2]" >expect && test_cmp expect actual &&
	result "trend --by function" | jq -c ".groups[] | [.function, .bytes_diff, .blocks_diff, .growth_per_interval, .bytes_series, .blocks_series]" >actual &&
	cat >expect <<-\EOF &&
	["fx_leak_fast",6144,12,1536,[0,1536,3072,4608,6144],[0,3,6,9,12]]
	["fx_leak_slow",400,4,100,[0,100,200,300,400],[0,1,2,3,4]]
	EOF
	test_cmp expect actual &&
	result "trend --by function" | jq -e ".groups[0].bytes_per_second > 0 and .seconds > 0"
'

test_expect_success 'the growth trend reports agrees with compare over the same snapshots' '
	result "compare s0 s4 --by function" | jq -c "[.groups[] | select(.function == \"fx_leak_fast\" or .function == \"fx_leak_slow\") | [.function, .bytes_diff]]" >expect &&
	result "trend --by function" | jq -c "[.groups[] | [.function, .bytes_diff]]" >actual &&
	test_cmp expect actual &&
	result "compare s0 s4 --by function" | jq -e "[.groups[] | select(.function == \"fx_plateau\")][0].bytes_diff == 4000"
'

test_expect_success 'trend N takes the last N snapshots; --top bounds the list, not the count' '
	result "trend 3 --by function" | jq -c "[.snapshots, .intervals, [.groups[].function]]" >actual &&
	echo "[[\"s2\",\"s3\",\"s4\"],2,[\"fx_leak_fast\",\"fx_leak_slow\"]]" >expect && test_cmp expect actual &&
	result "trend 2 --by function --top 1" | jq -c "[.suspects, [.groups[].function]]" >actual &&
	echo "[2,[\"fx_leak_fast\"]]" >expect && test_cmp expect actual
'

test_expect_success 'by site (the default), each suspect names its file and line' '
	result "trend" | jq -e "[.groups[] | select(.file != null and (.file | endswith(\"fx-trend.c\")) and .line > 0)] | length == 2"
'

test_expect_success 'too few snapshots, or N below 2, are clear errors' '
	jq -r "select(.command == \"trend 6\") | .error" out >actual &&
	echo "trend: needs 6 snapshots, and there are 5 (take them with '"'"'snapshot'"'"')" >expect &&
	test_cmp expect actual &&
	jq -r "select(.command == \"trend 1\") | .error" out | grep "trend: N expects a number from 2"
'

test_expect_success 'text: one row per suspect, its growth per interval and a sparkline rising to the right' '
	pid=$(cat pid) &&
	mkfifo in2 &&
	{ "$MLYZE" attach $pid <in2 >text 2>err & } && echo $! >mpid &&
	exec 7>in2 &&
	echo "snapshot t0" >&7 && test_poll_ 20 grep -q "^t0 " text &&
	kill -USR1 $pid && wait_for_line "$TRASH/fx-trend.out" "^step5" 10 &&
	echo "snapshot t1" >&7 && test_poll_ 20 grep -q "^t1 " text &&
	kill -USR1 $pid && wait_for_line "$TRASH/fx-trend.out" "^step6" 10 &&
	echo "snapshot t2" >&7 && test_poll_ 20 grep -q "^t2 " text &&
	echo "trend 3 --by function" >&7 && echo quit >&7 && exec 7>&- && wait $(cat mpid) &&
	grep -x "2 groups grew in each of 2 intervals (t0 t1 t2), by function" text &&
	grep -E "^ +[0-9]+ +\+3 KiB +\+1.5 KiB  ▁▅█  fx_leak_fast from fx-trend\$" text &&
	grep -E "^ +[0-9]+ +\+200 B +\+100 B  ▁▅█  fx_leak_slow from fx-trend\$" text &&
	test_path_is_sleeping $pid
'

test_done
