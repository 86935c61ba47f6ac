#!/bin/bash
# The glibc heap walker against glibc itself: the fixture's own mallinfo2(), gdb reading
# main_arena and mp_ with libc's debug symbols, the chunks the fixture put in each free list,
# and a heap the fixture damaged on purpose.

test_description='heap and arenas: glibc malloc walked live'
. "$(dirname "$0")/lib/test-lib.sh"

test_expect_success 'the layouts mlyze assumes are those in the DWARF of the installed libc' '
	layout () { echo $(( $(sed -n "s/^#define $1 \([0-9a-fx]*\).*/\1/p" "$SRC_ROOT/src/heap/glibc_layout.h") )); } &&
	set -- MS_TOP "&((struct malloc_state *)0)->top" MS_BINS "&((struct malloc_state *)0)->bins" \
		MS_NEXT "&((struct malloc_state *)0)->next" MS_SYSTEM_MEM "&((struct malloc_state *)0)->system_mem" \
		MS_SIZE "sizeof(struct malloc_state)" MP_N_MMAPS "&((struct malloc_par *)0)->n_mmaps" \
		MP_MMAPPED_MEM "&((struct malloc_par *)0)->mmapped_mem" MP_SBRK_BASE "&((struct malloc_par *)0)->sbrk_base" \
		MP_SIZE "sizeof(struct malloc_par)" HI_SIZE "&((struct _heap_info *)0)->size" \
		HI_SIZEOF "sizeof(struct _heap_info)" TC_ENTRIES "&((struct tcache_perthread_struct *)0)->entries" &&
	: >expect && : >cmds &&
	while test $# -gt 0; do
		echo "$1 $(layout $1)" >>expect && echo "-ex" >>cmds && echo "printf \"$1 %d\\n\", (long)($2)" >>cmds &&
		shift 2
	done &&
	tr "\n" "\0" <cmds | xargs -0 gdb -nx -batch /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null >actual &&
	test_cmp expect actual
'

test_expect_success 'setup: a heap in two arenas, with its own mallinfo2' '
	fixture_start fx-heap "$TRASH/truth.json" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --json -e heap -e arenas >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'heap: mallinfo equals the mallinfo2() of the target, field by field' '
	jq -S .mallinfo "$TRASH/truth.json" >expect &&
	result heap | jq -S .mallinfo >actual &&
	test_cmp expect actual
'

test_expect_success 'heap: main_arena from the debug symbols, the walk complete' '
	result heap | jq -e ".found_by == \"debug symbols\" and .glibc == \"2.36\" and .arenas == 2 and
		.complete and .problems == []"
'

test_expect_success 'heap: every chunk the fixture freed is where glibc keeps it' '
	result heap | jq -c "[.tcache.chunks, .fastbins.chunks, .fastbins.bytes, .mmapped.chunks, .allocator.chunks,
		.allocator.bytes, .top.chunks]" >actual &&
	echo "[38,6,192,3,2,1312,2]" >expect &&
	test_cmp expect actual &&
	result arenas | jq -c ".arenas[] | .free_lists | [.fastbins.chunks, .unsorted.chunks, .smallbins.chunks,
		.largebins.chunks]" >actual &&
	printf "%s\n" "[3,1,1,2]" "[3,1,1,2]" >expect &&
	test_cmp expect actual
'

test_expect_success 'leaks: its blocks are the chunks heap counts in use, the free lists left out, twin or stop' '
	"$MLYZE" attach $pid --json -e heap -e leaks -e "set pause stop" -e "leaks --fresh" >lk 2>err &&
	test_must_be_empty err &&
	jq -r "select(.command == \"heap\") | .result | .in_use.chunks + .mmapped.chunks" lk >expect &&
	test "$(cat expect)" -gt 0 &&
	printf "%s\n" $(cat expect) $(cat expect) >expect2 &&
	jq -r "select(.command | startswith(\"leaks\")) | .result.blocks" lk >actual &&
	test_cmp expect2 actual
'

test_expect_success 'heap: the chunk kinds add up to the memory the arenas hold' '
	result heap | jq -e "(.in_use.bytes + .allocator.bytes + .tcache.bytes + .fastbins.bytes + .bins.bytes +
		.top.bytes) as \$sum | (.system_mem - \$sum) as \$gap | \$gap >= 0 and \$gap < 4096 * .arenas" &&
	result heap | jq -e ".mmapped.bytes == .mallinfo.hblkhd and .heap_rss > 0 and .heap_rss <= .system_mem"
'

test_expect_success 'gdb agrees: &main_arena, its system_mem, and mp_.n_mmaps' '
	gdb -nx -batch -p $pid -ex "printf \"MA %#lx %lu %d\\n\", &main_arena, main_arena.system_mem, mp_.n_mmaps" \
		2>/dev/null | sed -n "s/^MA //p" >actual &&
	result arenas | jq -r "[.arenas[0].address, .arenas[0].system_mem] | join(\" \")" >expect.1 &&
	echo "$(cat expect.1) $(jq .mallinfo.hblks "$TRASH/truth.json")" >expect &&
	test_cmp expect actual
'

test_expect_success 'without debug symbols (--debug-dir elsewhere) the search finds the same heap' '
	mkdir -p nodebug &&
	"$MLYZE" --debug-dir "$TRASH/nodebug" attach $pid --json -e heap -e arenas >out2 2>err &&
	test_must_be_empty err &&
	result heap out2 | jq -e ".found_by == \"heuristic\"" &&
	for c in heap arenas; do
		result $c | jq -S "del(.found_by, .stopped_ms, .heap_rss, .arenas[]?.rss)" >expect &&
		result $c out2 | jq -S "del(.found_by, .stopped_ms, .heap_rss, .arenas[]?.rss)" >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'the fixture runs on unharmed' '
	test_path_is_sleeping $pid && kill -0 $pid && fixture_stop $pid
'

test_expect_success 'a damaged chunk header: the walk stops there, says why, keeps the rest' '
	fixture_start fx-heap "$TRASH/bad.json" corrupt && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --json -e heap -e arenas >out 2>err &&
	bad=$(printf "0x%x" $(jq .smashed "$TRASH/bad.json")) &&
	result heap | jq -e --arg a "$bad" ".complete == false and (.problems | length) == 1 and
		.problems[0].address == \$a and (.problems[0].what | startswith(\"impossible chunk size 0x7ffffffff0\"))" &&
	result arenas | jq -c "[.arenas[].complete]" >actual &&
	echo "[false,true]" >expect &&
	test_cmp expect actual &&
	jq -S .mallinfo "$TRASH/bad.json" >expect &&
	result heap | jq -S .mallinfo >actual &&
	test_cmp expect actual &&
	kill -0 $pid && fixture_stop $pid
'

test_expect_success 'jemalloc preloaded: named, and what still works is said' '
	LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 fixture_start fx-heap "$TRASH/je.json" &&
	pid=$FIXTURE_PID &&
	test_expect_code 1 "$MLYZE" attach $pid -e heap -e bt >out 2>err &&
	grep -F "error: malloc here is libjemalloc.so.2'"'"'s (jemalloc), not glibc'"'"'s: heap and arenas need glibc malloc; threads, bt, maps and allocation tracing still work" err &&
	grep -q main out &&
	fixture_stop $pid
'

test_done
