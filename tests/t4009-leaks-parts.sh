#!/bin/bash
# leaks on a heap large enough to be walked and scanned in parts (parts.h: one thread per processor
# for 32 MiB or more): bench's bigheap, 500,000 blocks in two arenas with fastbin chunks among them,
# whose lost blocks the program counts itself. The figures must equal its truth whether the heap is
# read from a twin or with the process stopped, from a core, and in one part as in several.

test_description='leaks: a heap walked and scanned in parts'
. "$(dirname "$0")/lib/test-lib.sh"

truth () { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$TRASH/bh.txt"; }
# definitely, indirectly, possibly lost, reachable, and how many threads walked and scanned
figures () { jq -c "[.definitely_lost.blocks, .indirectly_lost.blocks, .possibly_lost.blocks, .reachable.blocks]"; }

test_expect_success 'setup: bigheap, 500,000 blocks in two arenas, and its truth' '
	"$FIXTURES/fx-bigheap" -n 500000 -o "$TRASH/bh.txt" >/dev/null 2>&1 </dev/null 5>&- 6>&- &
	pid=$! && test_fixture_pids_="$test_fixture_pids_ $pid" &&
	test_poll_ 60 test -s "$TRASH/bh.txt" &&
	test "$(head -n1 "$TRASH/bh.txt")" = ready &&
	test "$(truth leaked_direct)" -gt 0 &&
	test "$(sed -n "s/.* smblks=\([0-9]*\).*/\1/p" "$TRASH/bh.txt")" -gt 1000
'

# glibc keeps one block the program does not count: its dtv, held by the thread control block
test_expect_success 'twin and stop: the lost blocks are the program'\''s own count, the rest reachable' '
	"$MLYZE" attach $pid --json -e leaks -e "set pause stop" -e "leaks --fresh" -e heap >out 2>err &&
	test_must_be_empty err &&
	printf "[%s,%s,0,%s]\n" $(truth leaked_direct) $(truth leaked_indirect) $(( $(truth reachable) + 1 )) >one &&
	cat one one >expect &&
	jq -c "select(.command | startswith(\"leaks\")) | .result" out | figures >actual &&
	test_cmp expect actual &&
	result heap | jq -r ".in_use.chunks + .mmapped.chunks" >expect &&
	result leaks | jq -r .blocks >actual &&
	test_cmp expect actual
'

test_expect_success 'in parts: one thread per processor (up to 4) walked the heap and scanned its blocks' '
	n=$(nproc) && n=$(( n > 4 ? 4 : n )) &&
	jq -c "select(.command | startswith(\"leaks\")) | .result.graph_parts | [.walk_threads, .scan_threads]" out >actual &&
	printf "[%s,%s]\n" $n $n $n $n >expect &&
	test_cmp expect actual
'

test_expect_success 'a core of the same heap: the same figures, in parts too' '
	"$MLYZE" attach $pid -e "dump $TRASH/bh.core" >/dev/null 2>err &&
	test_must_be_empty err &&
	"$MLYZE" core "$TRASH/bh.core" "$FIXTURES/fx-bigheap" --json -e leaks >core.out 2>err &&
	test_must_be_empty err &&
	result leaks core.out | figures >actual &&
	test_cmp one actual &&
	rm -f "$TRASH/bh.core"
'

test_expect_success 'in one part (one processor): the same figures' '
	taskset -c 0 "$MLYZE" attach $pid --json -e leaks >one.out 2>err &&
	test_must_be_empty err &&
	result leaks one.out | figures >actual &&
	test_cmp one actual &&
	result leaks one.out | jq -c ".graph_parts | [.walk_threads, .scan_threads]" >actual &&
	echo "[1,1]" >expect && test_cmp expect actual
'

test_done
