#!/bin/bash
# One rule for names, live and on a core: a module is named after the file the process maps (a
# program started through a symbolic link is named after the file the link leads to, as the kernel
# resolves it in /proc/PID/maps and NT_FILE), whatever EXE `mlyze core` is given; a thread is named
# by its comm, which the core `dump` writes records; a core without thread names (gcore's, the
# kernel's) names its leader by NT_PRPSINFO's comm and leaves the other threads unnamed.

test_description='names of modules and threads, live and on a core'
. "$(dirname "$0")/lib/test-lib.sh"

tid_names () { jq -c "[.threads[] | [.tid, .name]] | sort"; }
frames () { jq -c "[.threads[] | [.tid, [.frames[] | [.function, .module, .file, .line]]]] | sort"; }

test_expect_success 'setup: fx-threads and fx-demo started through symbolic links' '
	mkdir links moved && ln -s "$FIXTURES/fx-threads" links/thr-link && ln -s "$FIXTURES/fx-demo" links/srv-link &&
	cp "$FIXTURES/fx-threads" moved/other-name &&
	FIXTURES="$TRASH/links" fixture_start thr-link "$TRASH/thr.json" && echo $FIXTURE_PID >thr.pid &&
	FIXTURES="$TRASH/links" fixture_start srv-link "$TRASH/srv.json" 60 && echo $FIXTURE_PID >srv.pid &&
	echo fx-threads >expect && basename "$(readlink /proc/$(cat thr.pid)/exe)" >actual && test_cmp expect actual
'
tpid=$(cat "$TRASH/thr.pid" 2>/dev/null)
spid=$(cat "$TRASH/srv.pid" 2>/dev/null)

test_expect_success 'live: threads and bt all name each thread as the fixture named it' '
	"$MLYZE" attach $tpid --json -e threads -e "bt all" -e info -e "dump thr.core" >live 2>err &&
	test_must_be_empty err && test_path_is_sleeping $tpid &&
	jq -c "[.threads[].name] | sort" thr.json >actual &&
	echo "[\"fx-worker-a\",\"fx-worker-b\",\"thr-link\"]" >expect && test_cmp expect actual &&
	tid_names <thr.json >expect &&
	for t in /proc/$tpid/task/*; do echo "[${t##*/},\"$(cat $t/comm)\"]"; done | jq -sc sort >actual &&
	test_cmp expect actual &&
	result threads live | tid_names >actual && test_cmp expect actual &&
	result "bt all" live | tid_names >actual && test_cmp expect actual &&
	result info live | jq -e ".name == \"thr-link\""
'

test_expect_success 'the core dump wrote: the same thread names, in JSON and text' '
	"$MLYZE" core thr.core --json -e threads -e "bt all" -e info >core.out 2>err &&
	test_must_be_empty err &&
	tid_names <thr.json >expect &&
	result threads core.out | tid_names >actual && test_cmp expect actual &&
	result "bt all" core.out | tid_names >actual && test_cmp expect actual &&
	result info core.out | jq -e ".name == \"thr-link\"" &&
	"$MLYZE" attach $tpid -e threads -e "bt all" >live.txt 2>err && test_must_be_empty err &&
	"$MLYZE" core thr.core -e threads -e "bt all" >core.txt 2>err && test_must_be_empty err &&
	names_txt () { grep -E "^ +[0-9]+  |^thread " | awk "/^thread /{print; next} {print \$1, \$2}"; } &&
	names_txt <live.txt >expect && names_txt <core.txt >actual &&
	test_cmp expect actual && test $(grep -c -e fx-worker-a -e fx-worker-b -e thr-link actual) = 6
'

test_expect_success 'modules: the program is fx-threads live and on the core, with or without EXE' '
	result "bt all" live | frames >expect &&
	jq -e "[.[][1][][1]] | unique == [\"fx-threads\", \"libc.so.6\"]" expect &&
	result "bt all" core.out | frames >actual && test_cmp expect actual &&
	"$MLYZE" core thr.core links/thr-link --json -e "bt all" >exe.out 2>err && test_must_be_empty err &&
	result "bt all" exe.out | frames >actual && test_cmp expect actual &&
	"$MLYZE" core thr.core moved/other-name --json -e "bt all" >exe.out 2>err && test_must_be_empty err &&
	result "bt all" exe.out | frames >actual && test_cmp expect actual
'

test_expect_success 'top --by function: the traced sites and the core name the same module' '
	"$MLYZE" attach $spid --json -e "sleep 0.3" -e "top --by function" -e "dump srv.core" >srv.out 2>err &&
	test_must_be_empty err && test_path_is_sleeping $spid &&
	result "top --by function" srv.out |
		jq -c "[.groups[] | select(.module != null) | [.function, .module]] | unique" >actual &&
	jq -e "map(.[0]) | index(\"cache_insert\") != null" actual &&
	jq -e "map(.[1]) | unique == [\"fx-demo\"]" actual &&
	for exe in "" links/srv-link; do
		"$MLYZE" core srv.core $exe --json -e "bt all" >c.out 2>err && test_must_be_empty err &&
		result "bt all" c.out |
			jq -c "[.threads[].frames[] | select(.function == \"worker\" or .function == \"main\") |
				.module] | unique" >mods &&
		echo "[\"fx-demo\"]" >expect && test_cmp expect mods || return 1
	done
'

test_expect_success GCORE 'a gcore core: its leader named by the process comm, other threads null ("?" in text)' '
	gcore -o "$TRASH/g" $tpid >/dev/null 2>&1 && test -s g.$tpid && test_path_is_sleeping $tpid &&
	"$MLYZE" core g.$tpid --json -e threads -e "bt all" >g.out 2>err && test_must_be_empty err &&
	jq -c "[.threads[] | [.tid, (if .tid == $tpid then .name else null end)]] | sort" thr.json >expect &&
	result threads g.out | tid_names >actual && test_cmp expect actual &&
	result "bt all" g.out | tid_names >actual && test_cmp expect actual &&
	"$MLYZE" core g.$tpid -e threads >g.txt 2>err && test_must_be_empty err &&
	awk "NR > 1 {print \$2}" g.txt | sort >actual && printf "%s\n" "?" "?" thr-link >expect && test_cmp expect actual
'

test_expect_success 'a damaged note of thread names is a clear error' '
	cp thr.core bad.core &&
	at=$(grep -obUaP "MLYZE\x00\x00\x00" bad.core | head -n1 | cut -d: -f1) && test -n "$at" &&
	printf "\025" | dd of=bad.core bs=1 seek=$((at - 8)) conv=notrunc 2>/dev/null &&
	test_expect_code 2 "$MLYZE" core bad.core -e threads >out 2>err &&
	echo "mlyze: '"'"'bad.core'"'"': its note of thread names is malformed" >expect && test_cmp expect err
'

test_expect_success 'cleanup' '
	fixture_stop $tpid && fixture_stop $spid
'

test_done
