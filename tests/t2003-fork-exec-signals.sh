#!/bin/bash
# The process's whole life under tracing: fork, vfork and posix_spawn children never meet a
# breakpoint, exec is followed and hooked again, signals arrive unchanged.

test_description='fork, vfork, posix_spawn, exec and signals while traced'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'fork, vfork and posix_spawn children run normally (reference without mlyze)' '
	fixture_start fx-fork "$TRASH/ref.json" && pid=$FIXTURE_PID &&
	kill -USR1 $pid && wait_for_line fx-fork.out "^fork=" && kill -USR1 $pid && wait $pid &&
	printf "%s\n" ready "fork=11 vfork=13 spawn=13" >expect && test_cmp expect fx-fork.out
'

test_expect_success 'the same children, the same output, while traced' '
	fixture_start fx-fork "$TRASH/f.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "sleep 1.5" -e "top --top 0" -e "stats" >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-fork.out "^fork=" &&
	wait $mpid && kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 0 &&
	test_cmp expect fx-fork.out &&
	jq -s -e ".[2].result.groups | map(select(.function != \"<before attach>\")) | map([.bytes, .blocks]) == [[222, 1], [111, 1]]" out &&
	jq -s -e ".[3].result.unknown_frees == 0" out
'

test_expect_success 'exec: the new program is hooked again, and mlyze says so' '
	fixture_start fx-exec "$TRASH/e.json" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e "sleep 0" -e "sleep 1.5" -e "top --by function --top 0" >out 2>err & } && mpid=$! &&
	attached out && kill -USR1 $pid && wait_for_line fx-exec.out "^after exec" &&
	wait $mpid && kill -USR1 $pid && wait $pid &&
	grep -x "mlyze: process $pid executed a new program: $FIXTURES/fx-exec" err &&
	grep -x "mlyze: allocation tracing resumed in the new program (allocator in libc.so.6)" err &&
	jq -e "[.result.groups[] | select(.function == \"fx_after_exec\")] == [{id: .result.groups[] | select(.function == \"fx_after_exec\") | .id, function: \"fx_after_exec\", module: \"fx-exec\", blocks: 6, bytes: 420}]" out
'

test_expect_success 'signals: every SIGALRM and SIGUSR1 reaches its handler while tracing' '
	fixture_start fx-signals "$TRASH/s.json" "$TRASH/go" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json -e wait -e stats >out 2>err & } && mpid=$! &&
	sleep 0.3 && touch go && wait $mpid && { wait $pid; code=$?; } && test $code = 0 &&
	printf "%s\n" ready "usr1=25 sent=25 alrm>=40:yes" >expect && test_cmp expect fx-signals.out &&
	jq -s -e ".[1].result | .events.malloc > 1000 and .replaced == 0 and .abandoned == 0" out
'

# A storm of real-time signals (10,000 sigqueue()d, 10,000 kill()ed, 20 us apart) while mlyze runs
# system calls in the thread they go to: the twin's clone and wait4 for each snapshot, the agent's
# mappings, their unmapping at detach. Blocked while mlyze's code runs, they wait in the kernel with
# their siginfo; one the thread was stopped with already is sent again with its own. Before, each
# came in the way of the call, which ran out of tries (the twin left a zombie), and was sent again
# with mlyze as its sender.
test_expect_success 'a storm of queued signals while mlyze runs calls in the process: every one arrives as sent' '
	fixture_start fx-siginfo "$TRASH/q.json" && pid=$FIXTURE_PID &&
	{ "$FIXTURES/fx-siginfo" --send $pid 10000 & } && spid=$! &&
	{ "$FIXTURES/fx-siginfo" --kill $pid 10000 & } && kpid=$! &&
	snaps= && for i in $(seq 15); do snaps="$snaps -e snapshot"; done &&
	"$MLYZE" attach $pid $snaps >out 2>err &&
	"$MLYZE" attach $pid -e snapshot -e snapshot -e snapshot >>out 2>>err &&
	wait $spid $kpid && sleep 0.3 && kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 0 &&
	! grep -E "zombie|cannot run|could not be sent" err &&
	sed -n "s/^good=\([0-9]*\) bad=\([0-9]*\)$/\1 \2/p" fx-siginfo.out >counts &&
	echo "20000 0" >expect && test_cmp expect counts
'

test_expect_success 'run mode traces a library constructor that allocates before main' '
	"$MLYZE" run --json -e wait -e "top --by function --top 0" -- "$FIXTURES/fx-ctor" >out 2>err &&
	grep -x "ctor blocks present" out &&
	grep "^{" out | jq -c ".result.groups? // empty | .[] | select(.function == \"fx_ctor_alloc\") | [.blocks, .bytes]" >actual &&
	echo "[3,369]" >expect && test_cmp expect actual
'

test_done
