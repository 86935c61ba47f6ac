#!/bin/bash
# dump FILE as a file writer: never through a symbolic link, never over a file unless told to, only
# readable by its owner, and nothing half-written left behind when the disk fills up.

test_description='dump: symbolic links, existing files, modes, a full disk'
. "$(dirname "$0")/lib/test-lib.sh"

# A filesystem that fills up after 1 MiB, where a core of any process does not fit.
test_lazy_prereq SMALL_TMPFS '
	test "$(id -u)" = 0 && mkdir probe && mount -t tmpfs -o size=1m tmpfs probe && umount probe
'

test_expect_success 'setup: a process to dump' '
	fixture_start fx-heap "$TRASH/truth.json" && echo $FIXTURE_PID >pid
'
pid=$(cat "$TRASH/pid" 2>/dev/null)

test_expect_success 'a new file: an ELF core that only its owner can read' '
	(umask 0 && "$MLYZE" attach $pid --json -e "dump new.core" >out 2>err) &&
	test_must_be_empty err &&
	result "dump new.core" | jq -e ".file == \"new.core\" and .bytes > 0" &&
	test "$(stat -c %a new.core)" = 600 &&
	printf "\177ELF" >expect && head -c 4 new.core >actual && cmp expect actual &&
	"$MLYZE" core new.core -e info >info.out 2>err && grep -x "pid        $pid" info.out
'

test_expect_success 'a symbolic link is refused, with --force too, and what it points at is untouched' '
	echo precious >target && ln -s target link &&
	test_expect_code 1 "$MLYZE" attach $pid -e "dump link" -e "dump --force link" -e info >out 2>err &&
	cat >expect <<-\EOF &&
	error: '"'"'link'"'"' is a symbolic link; dump does not write through one or replace it, even with --force
	error: '"'"'link'"'"' is a symbolic link; dump does not write through one or replace it, even with --force
	EOF
	test_cmp expect err &&
	echo precious >expect && test_cmp expect target && test -h link &&
	grep -x "pid        $pid" out
'

test_expect_success 'an existing file is refused without --force, left as it was' '
	echo old >old.core && chmod 644 old.core &&
	test_expect_code 1 "$MLYZE" attach $pid -e "dump old.core" >out 2>err &&
	echo "error: '"'"'old.core'"'"' exists already; --force replaces it" >expect &&
	test_cmp expect err &&
	echo old >expect && test_cmp expect old.core && test "$(stat -c %a old.core)" = 644
'

test_expect_success 'with --force it is replaced by a core with mode 0600, no temporary file left' '
	"$MLYZE" attach $pid -e "dump --force old.core" >out 2>err &&
	test_must_be_empty err &&
	grep "^wrote old.core (" out &&
	test "$(stat -c %a old.core)" = 600 &&
	printf "\177ELF" >expect && head -c 4 old.core >actual && cmp expect actual &&
	! ls -A | grep "old\.core."
'

test_expect_success SMALL_TMPFS 'a full disk: the error says so, no partial file is left, the process runs on' '
	mkdir full && mount -t tmpfs -o size=1m tmpfs full &&
	{
		test_expect_code 1 "$MLYZE" attach $pid -e "dump full/c.core" -e info >out 2>err &&
		echo "error: cannot write '"'"'full/c.core'"'"': No space left on device" >expect &&
		test_cmp expect err &&
		ls -A full >left && test_must_be_empty left &&
		grep -x "pid        $pid" out &&
		test_path_is_sleeping $pid
	}
	status=$?
	umount full
	test $status = 0
'

test_expect_success 'the process was never harmed' '
	test_path_is_sleeping $pid && fixture_stop $pid
'

# A read of a page the process never touched gives it a page on some kernels (6.18 here), where
# older ones map the shared zero page: fx-sparse's idle 8 MiB thread stack, its 8 MiB of untouched
# .bss and its 64 MiB block with one page written would become 80 MiB of the process's own memory.
# The heap walk, the leak scan and dump read only pages that hold data; the agent's mapping goes
# at detach. The one pointer in the big block's first page still keeps its block reachable.
test_expect_success 'heap, leaks and dump of a stopped process give it no memory: untouched pages stay so' '
	fixture_start fx-sparse "$TRASH/r.json" && rpid=$FIXTURE_PID &&
	rss () { awk "/^Rss:/ { print \$2 }" /proc/$rpid/smaps_rollup; } &&
	before=$(rss) &&
	"$MLYZE" --no-trace attach $rpid --json -e "set pause stop" -e heap -e leaks -e "dump r.core" >out 2>err &&
	test_must_be_empty err && after=$(rss) &&
	echo "--no-trace: $before KiB, then $after KiB" &&
	test $((after - before)) -lt 1024 &&
	result leaks | jq -e ".definitely_lost.blocks == 0 and .possibly_lost.blocks == 0 and .reachable.blocks >= 2" &&
	"$MLYZE" attach $rpid -e "set pause stop" -e heap -e leaks -e "dump --force r.core" >/dev/null 2>err &&
	test_must_be_empty err && after=$(rss) &&
	echo "traced: $before KiB, then $after KiB" &&
	test $((after - before)) -lt 1024 &&
	"$MLYZE" core r.core "$FIXTURES/fx-sparse" --json -e leaks >out 2>err && test_must_be_empty err &&
	result leaks | jq -e ".definitely_lost.blocks == 0 and .possibly_lost.blocks == 0 and .reachable.blocks >= 2" &&
	fixture_stop $rpid
'

test_done
