#!/bin/bash
# mlyze patches code only where the process's bytes are those of the file it read. A process in
# another mount namespace maps another file at the path mlyze sees (a container's own libc): the
# file is read as the process sees it and checked by build-id. A process that rewrote a function
# mlyze would hook keeps it unhooked. Either way the process behaves as without mlyze.

test_description='modules read as the process sees them; no patch over code that differs from its file'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq UNSHARE 'test "$(id -u)" = 0 && unshare -m true'
# Without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE /proc/PID/map_files cannot be opened.
test_lazy_prereq CAPDROP 'test "$(id -u)" = 0 && setpriv --inh-caps=-sys_admin,-checkpoint_restore \
	--bounding-set=-sys_admin,-checkpoint_restore true'

LIBB=$FIXTURES/libfx-mnt-b.so
# step N: signal fx-mnt and wait for its line for step N
step () {
	kill -USR1 $mpid && wait_for_line "$TRASH/fx-mnt.out" "^step$1" 5
}
# expected VARIANT: the fixture's whole output
expected () {
	printf "%s\n" ready "step1 variant=$1 mallocs=7" step2 >expect
}
# finish VARIANT: step 2, exit status 0, the same output as without mlyze
finish () {
	step 2 && wait $mpid && expected $1 && test_cmp expect "$TRASH/fx-mnt.out"
}
build_id () {
	readelf -n "$1" | sed -n "s/^ *Build ID: //p"
}

test_expect_success UNSHARE 'without mlyze: in its namespace the process loads the other variant' '
	fixture_start fx-mnt --decoy "$LIBB" "$TRASH/truth.json" && mpid=$FIXTURE_PID &&
	test "$(jq .variant truth.json)" = 2 &&
	step 1 && finish 2
'

test_expect_success UNSHARE 'traced in another mount namespace: its own file symbolized and hooked' '
	fixture_start fx-mnt --decoy "$LIBB" "$TRASH/truth.json" && mpid=$FIXTURE_PID &&
	cat /proc/$mpid/maps >maps.before &&
	{ "$MLYZE" --json attach $mpid -e bt -e "sleep 1" -e stats -e "top --by function" >out 2>err & } &&
	tracer=$! && sleep 0.4 && step 1 && wait $tracer &&
	test_must_be_empty err &&
	result bt | jq -e --slurpfile t truth.json \
		"[.threads[0].frames[] | select(.function == \$t[0].park and .line == \$t[0].park_line)] | length == 1" &&
	result stats | jq -e ".allocator == \"libfx-mnt.so\" and .events.malloc == 7 and .events.calloc == 3" &&
	result "top --by function" >top.json &&
	jq -c ".groups[] | [.function, .blocks, .bytes]" top.json >actual &&
	printf "%s\n" "[\"fx_mnt_alloc\",7,539]" "[\"fx_mnt_calloc\",3,150]" >expect &&
	test_cmp expect actual &&
	cat /proc/$mpid/maps >maps.after && test_cmp maps.before maps.after &&
	finish 2
'

test_expect_success UNSHARE,CAPDROP 'no file mlyze can open is the one mapped: told, its symbols unused, nothing patched there' '
	fixture_start fx-mnt --decoy-covered "$LIBB" "$TRASH/truth.json" && mpid=$FIXTURE_PID &&
	{ setpriv --inh-caps=-sys_admin,-checkpoint_restore --bounding-set=-sys_admin,-checkpoint_restore \
		"$MLYZE" --json attach $mpid -e bt -e "sleep 1" -e stats >out 2>err & } && tracer=$! &&
	sleep 0.4 && step 1 && wait $tracer &&
	echo "mlyze: process $mpid maps '"'"'$FIXTURES/libfx-mnt.so'"'"' with build-id $(build_id "$LIBB"), but the file mlyze can open there has build-id $(build_id "$FIXTURES/fx-mnt"): its symbols are not used" >expect &&
	test_cmp expect err &&
	result bt | jq -e --slurpfile t truth.json "[.threads[0].frames[] | select(.function == \$t[0].park)] | length == 0" &&
	result stats | jq -e ".allocator == \"libc.so.6\" and .events.malloc == 7" &&
	finish 2
'

# gdb says where malloc is: the address in the message is the function mlyze would have hooked.
test_expect_success GDB 'a process that rewrote its malloc: not hooked, tracing off, told why' '
	fixture_start fx-mnt --patch malloc "$TRASH/truth.json" && mpid=$FIXTURE_PID &&
	cat /proc/$mpid/maps >maps.before &&
	"$MLYZE" attach $mpid -e "sleep 0.3" -e stats >out 2>err &&
	addr=$(gdb -batch -p $mpid -ex "print (void *) malloc" 2>/dev/null | sed -n "s/.*(void \*) \(0x[0-9a-f]*\).*/\1/p") &&
	test -n "$addr" &&
	echo "mlyze: allocation tracing is off: cannot hook malloc: the code at $addr in $FIXTURES/libfx-mnt.so is not what its file holds there (byte 0 is 0x48, the file'"'"'s 0x55): the process changed it, or maps another file at that path; not patched" >expect &&
	test_cmp expect err &&
	grep "^allocator  *libfx-mnt.so (not hooked)" out &&
	cat /proc/$mpid/maps >maps.after && test_cmp maps.before maps.after &&
	step 1 && finish 1
'

test_expect_success 'a process that rewrote its calloc: malloc traced, calloc not, told why' '
	fixture_start fx-mnt --patch calloc "$TRASH/truth.json" && mpid=$FIXTURE_PID &&
	{ "$MLYZE" --json attach $mpid -e "sleep 1" -e stats -e "top --by function" >out 2>err & } &&
	tracer=$! && sleep 0.4 && step 1 && wait $tracer &&
	grep -x "mlyze: calloc is not traced: the code at 0x[0-9a-f]* in $FIXTURES/libfx-mnt.so is not what its file holds there (byte 0 is 0x48, the file'"'"'s 0x55): the process changed it, or maps another file at that path; not patched" err &&
	result stats | jq -e ".allocator == \"libfx-mnt.so\" and .events.malloc == 7 and .events.calloc == 0" &&
	result "top --by function" | jq -c ".groups[] | [.function, .blocks, .bytes]" >actual &&
	echo "[\"fx_mnt_alloc\",7,539]" >expect && test_cmp expect actual &&
	finish 1
'

test_done
