#!/bin/bash
# mlyze core: the same heap, stacks and threads from a core file as from the live process, for
# cores written by gdb's gcore and by the kernel; and a clear error for every kind of bad core.

test_description='core files: gcore, kernel cores, bad cores'
. "$(dirname "$0")/lib/test-lib.sh"

# The kernel writes plain core files here only when core_pattern names a file, not a program.
test_lazy_prereq KERNEL_CORE 'p=$(cat /proc/sys/kernel/core_pattern) && case $p in *"|"*|*/*) false;; esac'
strip_live () { jq -S "del(.found_by, .stopped_ms, .heap_rss, .arenas[]?.rss)"; }

test_expect_success 'setup: the live heap, then a gcore of the same process' '
	fixture_start fx-heap "$TRASH/truth.json" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --json --no-trace -e heap -e arenas -e "bt all" >live 2>err &&
	gcore -o "$TRASH/gcore" $pid >/dev/null 2>&1 && gc=gcore.$pid && gpid=$pid && test -s $gc &&
	fixture_stop $pid
'

test_expect_success 'gcore: heap and arenas equal the live ones, mallinfo the fixture'"'"'s own' '
	"$MLYZE" core $gc --json -e heap -e arenas -e "bt all" -e info -e threads -e "snapshot s" >out 2>err &&
	test_must_be_empty err &&
	jq -S .mallinfo "$TRASH/truth.json" >expect &&
	result heap | jq -S .mallinfo >actual &&
	test_cmp expect actual &&
	for c in heap arenas; do
		result $c live | strip_live >expect && result $c | strip_live >actual && test_cmp expect actual || return 1
	done &&
	result heap | jq -e ".heap_rss == null and .found_by == \"debug symbols\""
'

test_expect_success 'gcore: stacks of every thread, as live' '
	result "bt all" live | jq -c "[.threads[] | [.tid, [.frames[].function]]]" >expect &&
	result "bt all" | jq -c "[.threads[] | [.tid, [.frames[].function]]]" >actual &&
	test_cmp expect actual &&
	result info | jq -e ".mode == \"core\" and .threads == 2 and .name == \"fx-heap\" and .pid == $gpid" &&
	result threads | jq -e "[.threads[].tid] | length == 2"
'

test_expect_success 'gcore: a snapshot holds the in-use chunks of the walk' '
	result heap | jq -c "[.in_use.chunks + .mmapped.chunks]" >expect &&
	result "snapshot s" | jq -c "[.untraced_blocks]" >actual &&
	test_cmp expect actual
'

test_expect_success 'gcore without debug symbols: the same heap' '
	mkdir -p nodebug &&
	"$MLYZE" --debug-dir "$TRASH/nodebug" core $gc --json -e heap >out2 2>err &&
	result heap out2 | jq -e ".found_by == \"heuristic\"" &&
	result heap | strip_live >expect && result heap out2 | strip_live >actual &&
	test_cmp expect actual
'

test_expect_success 'dump: a core of the traced process that gdb and mlyze core read' '
	fixture_start fx-heap "$TRASH/d.json" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --json -e "dump $TRASH/dumped" -e "bt all" >live 2>err &&
	test_must_be_empty err && kill -0 $pid && test_path_is_sleeping $pid &&
	"$MLYZE" core dumped "$FIXTURES/fx-heap" --json -e heap -e "bt all" >out 2>err &&
	jq -S .mallinfo "$TRASH/d.json" >expect &&
	result heap | jq -S .mallinfo >actual &&
	test_cmp expect actual &&
	result "bt all" live | jq -c "[.threads[] | [.tid, [.frames[].function]]]" >expect &&
	result "bt all" | jq -c "[.threads[] | [.tid, [.frames[].function]]]" >actual &&
	test_cmp expect actual &&
	gdb -nx -batch -c dumped "$FIXTURES/fx-heap" -ex "info threads" -ex "thread 1" -ex bt \
		-ex "printf \"first byte of malloc %d\\n\", *(unsigned char *)malloc" >gdb.out 2>&1 &&
	grep -E "^#[0-9]+ .* in main \(" gdb.out &&
	test $(grep -cE "^[ *] +[0-9]+ +Thread " gdb.out) = 2 &&
	grep "^first byte of malloc" gdb.out >byte && ! grep -q " 204$" byte &&
	fixture_stop $pid
'

test_expect_success 'a command that needs a live process says so' '
	test_expect_code 1 "$MLYZE" core $gc -e wait -e check -e info >out 2>err &&
	cat >expect <<-\EOF &&
	error: '"'"'wait'"'"' needs a live process; this is a core file
	error: '"'"'check'"'"' needs a live process; this is a core file
	EOF
	test_cmp expect err &&
	grep -q "^core " out
'

test_expect_success KERNEL_CORE 'a core the kernel wrote at abort(): the same heap, the signal, the stack' '
	rm -f core core.* &&
	ulimit -c unlimited &&
	fixture_start fx-heap "$TRASH/k.json" abort && pid=$FIXTURE_PID &&
	kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 134 &&
	kcore=$(ls core core.$pid 2>/dev/null | head -n1) && test -s "$kcore" &&
	"$MLYZE" core "$kcore" "$FIXTURES/fx-heap" --json -e heap -e info -e bt >out 2>err &&
	jq -S .mallinfo "$TRASH/k.json" >expect &&
	result heap | jq -S .mallinfo >actual &&
	test_cmp expect actual &&
	result info | jq -e ".signal == \"SIGABRT\"" &&
	result bt | jq -e "[.threads[0].frames[].function] | index(\"main\") != null and
		(map(select(. != null and test(\"abort\"))) | length > 0)"
'

test_expect_success KERNEL_CORE 'a core without anonymous memory (coredump_filter 0): says what is missing' '
	rm -f core core.* &&
	ulimit -c unlimited &&
	fixture_start fx-heap "$TRASH/f.json" abort && pid=$FIXTURE_PID &&
	echo 0 >/proc/$pid/coredump_filter &&
	kill -USR1 $pid && { wait $pid; code=$?; } && test $code = 134 &&
	kcore=$(ls core core.$pid 2>/dev/null | head -n1) && test -s "$kcore" &&
	test_expect_code 1 "$MLYZE" core "$kcore" -e heap >out 2>err &&
	grep "coredump_filter must include bit 0 (anonymous private memory; 0x33 is the default)" err
'

test_expect_success 'bad cores: not ELF, not a core, another architecture, truncated, the wrong EXE' '
	echo "hello" >text &&
	test_expect_code 2 "$MLYZE" core text -e info 2>err &&
	echo "mlyze: '"'"'text'"'"' is not an ELF file" >expect && test_cmp expect err &&
	test_expect_code 2 "$MLYZE" core "$FIXTURES/fx-heap" -e info 2>err &&
	echo "mlyze: '"'"'$FIXTURES/fx-heap'"'"' is an ELF shared object or PIE, not a core file" >expect &&
	test_cmp expect err &&
	cp $gc arm && printf "\267\000" | dd of=arm bs=1 seek=18 conv=notrunc 2>/dev/null &&
	test_expect_code 2 "$MLYZE" core arm -e info 2>err &&
	grep -F "is a core of another architecture (ELF machine 183, class 2); mlyze reads x86-64 cores" err &&
	head -c 200000 $gc >short &&
	test_expect_code 2 "$MLYZE" core short -e info 2>err &&
	grep -E "^mlyze: '"'"'short'"'"' is truncated: segment [0-9]+ \(at 0x[0-9a-f]+\) needs bytes up to [0-9]+, the file has 200000$" err &&
	test_expect_code 2 "$MLYZE" core $gc "$FIXTURES/fx-alloc" -e info 2>err &&
	grep -E "^mlyze: '"'"'$FIXTURES/fx-alloc'"'"' does not match the core: the core'"'"'s program has build-id [0-9a-f]{40}, the file [0-9a-f]{40}$" err &&
	test_expect_code 2 "$MLYZE" core nosuch -e info 2>err &&
	echo "mlyze: cannot open core file '"'"'nosuch'"'"': No such file or directory" >expect && test_cmp expect err
'

test_done
