#!/bin/bash
# The exit stop: a traced process whose last thread exits is held at its exit event, memory intact.
# Every command that reads the image answers there (leaks at exit against valgrind memcheck on the
# same program, heap, path, dump read back by `mlyze core`); the process is let go when mlyze
# detaches, and its parent sees the status it exited with, as without mlyze. A command refused
# because the process is gone makes mlyze's exit status 1. In attach mode a four-thread program
# gets its exit snapshot every time.

test_description='the exit stop'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq VALGRIND 'valgrind --version >/dev/null 2>&1'

# leakfig FILE: [definitely, indirectly, possibly, reachable] as [blocks, bytes] from the leaks answer
leakfig () {
	result leaks "$1" | jq -c "[.definitely_lost, .indirectly_lost, .possibly_lost, .reachable] | map([.blocks, .bytes])"
}

# fx-graph under `mlyze run`, its truth in g.json; SIGUSR1 makes it return from main. The -x file
# is read when its turn comes, after the exit: it gets the path command once the truth names the list.
test_expect_success 'run -e wait -e leaks: the process is held at its exit, then let go' '
	: >later.mlyze &&
	{ "$MLYZE" run --json -e wait -e leaks -e heap -x later.mlyze -e info \
		-- "$FIXTURES/fx-graph" "$TRASH/g.json" >out 2>err & } && mpid=$! &&
	test_poll_ 10 test -s "$TRASH/g.json" && gpid=$(jq .pid "$TRASH/g.json") && list=$(jq -r .list "$TRASH/g.json") &&
	echo "path $list" >later.mlyze &&
	kill -USR1 $gpid && wait $mpid &&
	grep "^{" out >out.json && mv out.json out &&
	grep -x "mlyze: process $gpid exited with status 0: held at its exit until mlyze detaches" err &&
	grep -x "mlyze: process $gpid exited with status 0" err &&
	result info | jq -e ".state == \"held at its exit\" and .exit == \"exited with status 0\""
'

# fx-graph leaves 4 definitely, 6 indirectly and 1 possibly lost while it waits (t4001). Once main
# returns, the block only its frame held (80 bytes) and the one only its register r12 held (40) are
# definitely lost too: 6 blocks of 200296 bytes. Still reachable: fx-graph's 5 (264 bytes) and
# stdout's buffer (4096), which valgrind frees at exit through __libc_freeres unless told not to.
test_expect_success 'leaks at exit: exact figures, the two blocks main held lost now' '
	echo "[[6,200296],[6,216],[1,64],[6,4360]]" >expect &&
	leakfig out >actual && test_cmp expect actual
'

test_expect_success VALGRIND 'valgrind memcheck at exit agrees on every class, blocks and bytes' '
	rm -f "$TRASH/v.json" &&
	valgrind --leak-check=full --run-libc-freeres=no "$FIXTURES/fx-graph" "$TRASH/v.json" >v.out 2>v.err &
	vpid=$! &&
	test_poll_ 60 test -s "$TRASH/v.json" &&
	kill -USR1 $(jq .pid "$TRASH/v.json") && wait $vpid &&
	fig () { sed -n "s/.*$1: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/[\2 \1]/p" v.err | tr -d , | tr " " ,; } &&
	echo "[$(fig "definitely lost"),$(fig "indirectly lost"),$(fig "possibly lost"),$(fig "still reachable")]" >actual &&
	test_cmp expect actual &&
	echo "$(fig "in use at exit")" >vinuse
'

test_expect_success VALGRIND 'heap at exit: the blocks in use are the 19 valgrind saw in use at exit' '
	result heap | jq -e ".complete and .in_use.chunks + .mmapped.chunks == $(jq ".[0]" vinuse)"
'

test_expect_success 'path at exit: the list still hangs from the global g_list' '
	result "path $list" | jq -c "[.chain[] | [.kind, .symbol]]" >actual &&
	echo "[[\"global\",\"g_list\"],[\"block\",null]]" >expect.path &&
	test_cmp expect.path actual
'

# Untraced (--no-trace), so sizes are usable sizes on both sides (t4001 dumps traced processes):
# the core must give exactly what the exit stop gave, and the same classes.
test_expect_success 'dump at exit: mlyze core reads the core back, with the same leaks as at the exit stop' '
	rm -f "$TRASH/g2.json" && : >later2.mlyze &&
	{ "$MLYZE" --no-trace run --json -e wait -e leaks -e "dump $TRASH/exit.core" -x later2.mlyze \
		-- "$FIXTURES/fx-graph" "$TRASH/g2.json" >out2 2>err2 & } && mpid=$! &&
	test_poll_ 10 test -s "$TRASH/g2.json" && list2=$(jq -r .list "$TRASH/g2.json") &&
	echo "path $list2" >later2.mlyze &&
	kill -USR1 $(jq .pid "$TRASH/g2.json") && wait $mpid &&
	grep "^{" out2 >out2.json &&
	"$MLYZE" core exit.core "$FIXTURES/fx-graph" --json -e leaks -e "path $list2" >core.json 2>err3 &&
	test_must_be_empty err3 &&
	leakfig out2.json >live && leakfig core.json >actual && test_cmp live actual &&
	jq -c "map(.[0])" actual >blocks && echo "[6,6,1,6]" >expect.blocks && test_cmp expect.blocks blocks &&
	result "path $list2" out2.json | jq -c "[.chain[] | [.kind, .symbol]]" >actual &&
	test_cmp expect.path actual &&
	result "path $list2" core.json | jq -c "[.chain[] | [.kind, .symbol]]" >actual &&
	test_cmp expect.path actual
'

test_expect_success 'the exit status: run passes it on, a parent of an attached process waits for it unchanged' '
	test_expect_code 7 "$MLYZE" run -e wait -e heap -e info -- "$FIXTURES/fx-ticker" t.json 3 20 7 >out3 2>err3 &&
	grep "^glibc 2\.[0-9]* malloc: 1 arena" out3 &&
	grep -x "state *held at its exit (exited with status 7), run mode" out3 &&
	test_expect_code 143 "$MLYZE" --json run -e wait -e info -- "$FIXTURES/fx-ticker" t.json 1 10 -15 >out4 2>err4 &&
	result info out4 | jq -e ".state == \"held at its exit\" and .exit == \"was killed by signal 15 (SIGTERM)\"" &&
	fixture_start fx-ticker "$TRASH/t1.json" 3 50 7 && tpid=$FIXTURE_PID &&
	{ wait $tpid; untraced=$?; } &&
	fixture_start fx-ticker "$TRASH/t2.json" 3 50 7 && tpid=$FIXTURE_PID &&
	"$MLYZE" attach $tpid --json -e wait -e leaks -e info >out5 2>err5 &&
	result info out5 | jq -e ".state == \"held at its exit\"" &&
	{ wait $tpid; traced=$?; } &&
	test "$untraced $traced" = "7 7"
'

test_expect_success 'a command refused because the process is gone makes the exit status 1' '
	fixture_start fx-ticker "$TRASH/t3.json" 100000 50 0 && tpid=$FIXTURE_PID &&
	test_expect_code 1 "$MLYZE" attach $tpid -e detach -e heap >out6 2>err6 &&
	echo "error: detached from process $tpid" >expect && test_cmp expect err6 &&
	{ "$MLYZE" attach $tpid -e "wait 20" -e leaks >out7 2>err7 & } && mpid=$! &&
	sleep 0.5 && kill -KILL $tpid &&
	{ wait $mpid; code=$?; } && test $code = 1 &&
	grep -x "error: process $tpid was killed by signal 9 (SIGKILL)" err7 &&
	! grep "held at its exit" err7 &&
	fixture_stop $tpid
'

# fx-mt-alloc: on SIGUSR1 four threads allocate 100, 200, 300 and 400 blocks they keep; on the
# next SIGUSR1 main returns. Traced from attach, the exit snapshot holds those 1000 and the four
# threads' TLS vectors glibc allocated for them (t2002 counts the same live set). The signal goes
# once mlyze has answered a first command, so tracing is on before the threads are made.
test_expect_success 'attach to a four-thread program and let it exit: the exit snapshot every time, 20 of 20' '
	: >runs &&
	for i in $(seq 20); do
		fixture_start fx-mt-alloc "$TRASH/mt.json" && pid=$FIXTURE_PID &&
		mlz_start $pid --json && mlz info &&
		kill -USR1 $pid && wait_for_line fx-mt-alloc.out "^done" &&
		kill -USR1 $pid && mlz wait && mlz snapshots && mlz info && mlz_end && { wait $pid; code=$?; } &&
		echo "$code $(result snapshots out | jq -c "[.snapshots[] | [.name, .blocks]]") $(result info out | jq -r .state | tail -n1)" >>runs ||
		return 1
	done &&
	sort runs | uniq -c | sed "s/^ *//" >actual &&
	echo "20 0 [[\"exit\",1004]] held at its exit" >expect &&
	test_cmp expect actual
'

test_done
