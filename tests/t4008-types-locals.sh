#!/bin/bash
# Types from DWARF in optimized code: a register root named as the local the innermost frame keeps
# there (a location list at -O2), frame slots located against rsp or rbp (clang's frame bases)
# as well as the CFA (gcc's), each block typed by its variable's declared pointee; gdb says which
# block each variable holds, and how DWARF locates it.

test_description='types: locals in registers, location lists, rsp and rbp frame bases'
. "$(dirname "$0")/lib/test-lib.sh"

T="$TRASH/t.json"
tv () { jq -r ".$1" "$T"; }
test_lazy_prereq CLANG_FIXTURES 'test -x "$FIXTURES/fx-types-locals-clang" && test -x "$FIXTURES/fx-types-locals-clang-O0"'

# show ADDR's type and its referrers: [kind, function, variable, register]
refs_of () {
	result "show $1" out | jq -c '[.type, [.referrers[] | [.kind, .function, .variable, .register]]]'
}

# $1: the fixture; $2: how c is held ("register" or "stack"); $3: the register
check_fixture () {
	fixture_start "$1" "$T" && pid=$FIXTURE_PID &&
	"$MLYZE" attach $pid --json -e "show $(tv conn)" -e "show $(tv job0)" -e "show $(tv job1)" >out 2>err &&
	test_must_be_empty err &&
	if test "$2" = register; then
		# (clang -O2 leaves a copy of c in an unnamed slot of the frame too)
		refs_of "$(tv conn)" | jq -c "[.[0], [.[1][] | select(.[0] == \"register\")]]" >actual &&
		echo "[\"struct conn\",[[\"register\",\"regworker\",\"c\",\"$3\"]]]"
	else
		refs_of "$(tv conn)" >actual &&
		echo "[\"struct conn\",[[\"stack\",\"regworker\",\"c\",null]]]"
	fi >expect &&
	test_cmp expect actual &&
	for i in 0 1; do
		refs_of "$(tv job$i)" >actual &&
		echo "[\"struct job\",[[\"stack\",\"slotworker\",\"jobs[$i]\",null]]]" >expect &&
		test_cmp expect actual || return 1
	done &&
	result "show $(tv job1)" out | jq -c "[.fields[] | [.name, .value]]" >actual &&
	echo "[[\"id\",\"41\"],[\"what\",\"\\\"queued\\\"\"]]" >expect && test_cmp expect actual
}

# gdb's view of the same process: the blocks regworker's c and slotworker's jobs hold
gdb_agrees () {
	gdb -nx -batch -p $pid -ex "thread apply all bt full" 2>/dev/null >bt &&
	sed -n "s/^        c = \(0x[0-9a-f]*\)$/c \1/p; s/^        jobs = {\(0x[0-9a-f]*\), \(0x[0-9a-f]*\)}$/jobs \1 \2/p" bt |
		sort >gdb.out &&
	printf "c %s\njobs %s %s\n" $(tv conn) $(tv job0) $(tv job1) >expect && test_cmp expect gdb.out
}

test_expect_success 'gcc -O2: c lives in a register at the PC, per a location list; named and typed from it' '
	check_fixture fx-types-locals register rbx &&
	"$MLYZE" attach $pid -e "path $(tv conn)" >text 2>err &&
	grep -E "^register rbx of thread $(tv reg_tid), frame #0 regworker\(\) local .c. \(in rbx\) at fx-types-locals.c:[0-9]+$" text
'

test_expect_success GDB 'gdb: c is a location list of registers, rbx where the thread is; the blocks are those of c and jobs' '
	gdb -nx -batch -p $pid -ex "thread find $(tv reg_tid)" -ex "thread 2" -ex "frame function regworker" \
		-ex "info address c" -ex "p \$pc" 2>/dev/null >addr &&
	grep -q "Symbol \"c\" is multi-location:" addr &&
	pc=$(( $(sed -n "s/^\$1 = (void (\*)()) \(0x[0-9a-f]*\) .*/\1/p" addr) )) &&
	sed -n "s/^ *Range \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\): a variable in \$\([a-z0-9]*\)$/\1 \2 \3/p" addr >ranges &&
	while read -r lo hi reg; do
		if test $pc -ge $((lo)) && test $pc -lt $((hi)); then echo $reg; fi
	done <ranges >at_pc &&
	echo rbx >expect && test_cmp expect at_pc &&
	gdb_agrees
'

test_expect_success 'cleanup gcc -O2' '
	fixture_stop $pid
'

test_expect_success 'gcc -O0: the same locals in frame slots, against the CFA' '
	check_fixture fx-types-locals-O0 stack &&
	fixture_stop $pid
'

test_expect_success CLANG_FIXTURES 'clang -O2: frame base rsp (DW_OP_reg7), c in a register' '
	readelf -wi "$FIXTURES/fx-types-locals-clang" | grep -B3 ": slotworker$" | grep -q "DW_AT_frame_base.*(DW_OP_reg7 (rsp))" &&
	check_fixture fx-types-locals-clang register rbx
'

test_expect_success CLANG_FIXTURES,GDB 'gdb agrees on clang -O2' '
	gdb_agrees &&
	fixture_stop $pid
'

test_expect_success CLANG_FIXTURES 'clang -O0: frame base rbp (DW_OP_reg6), a caller frame'"'"'s rbp from the unwinder' '
	readelf -wi "$FIXTURES/fx-types-locals-clang-O0" | grep -B3 ": slotworker$" | grep -q "DW_AT_frame_base.*(DW_OP_reg6 (rbp))" &&
	check_fixture fx-types-locals-clang-O0 stack &&
	gdb_agrees &&
	fixture_stop $pid
'

# Blocks reached only through void * (g_opaque[]), allocated after attach as
# 'struct conn *c = malloc(sizeof *c)': typed by the variable at the allocation's return address.
# $1: the fixture
check_sites () {
	rm -f "$T.2" cmds && mkfifo cmds &&
	fixture_start "$1" "$T" && pid=$FIXTURE_PID &&
	{ "$MLYZE" attach $pid --json <cmds >out.site 2>err.site & } && mpid=$! && exec 9>cmds &&
	echo "snapshot a --types" >&9 &&
	test_poll_ 60 grep -q "\"command\": \"snapshot a --types\"" out.site &&
	kill -USR2 $pid && wait_for_line "$TRASH/$1.out" "^grew$" 30 &&
	echo "snapshot b --types" >&9 && echo "compare a b --by type --top 0" >&9 &&
	echo "show $(jq -r .conn0 "$T.2")" >&9 && echo "show $(tv conn)" >&9 && exec 9>&- &&
	wait $mpid && test_must_be_empty err.site &&
	# four struct conn of 32 bytes and their names ("conn100".."conn103", 8 bytes), typed through them
	result "compare a b --by type --top 0" out.site |
		jq -c "[.blocks_diff, .bytes_diff, [.groups[] | select(.blocks_diff != 0) | [.type, .blocks_diff, .bytes_diff]]]" >actual &&
	echo "[8,160,[[\"struct conn\",4,128],[\"char\",4,32]]]" >expect && test_cmp expect actual &&
	result "show $(jq -r .conn0 "$T.2")" out.site | jq -c "[.type, .type_by_site, [.fields[] | [.name, .value]]]" >actual &&
	echo "[\"struct conn\",true,[[\"fd\",\"100\"],[\"tag\",\"\\\"conn100\\\"\"],[\"name\",\"$(jq -r .name0 "$T.2") \\\"conn100\\\"\"]]]" >expect &&
	test_cmp expect actual &&
	# held by a global of void *[4] (in clang DWARF 5, located by DW_OP_addrx)
	result "show $(jq -r .conn0 "$T.2")" out.site | jq -c "[.referrers[] | [.kind, .variable]]" >actual &&
	echo "[[\"global\",\"g_opaque[0]\"]]" >expect && test_cmp expect actual &&
	# regworker's c is typed by the graph (its register), not by its site
	result "show $(tv conn)" out.site | jq -c "[.type, .type_by_site]" >actual &&
	echo "[\"struct conn\",null]" >expect && test_cmp expect actual
}

test_expect_success 'gcc -O2: blocks held through void * typed by the variable their allocation is assigned to' '
	check_sites fx-types-locals
'

test_expect_success GDB 'gdb: c'"'"'s location list starts in rax at make_conn'"'"'s return from malloc; the block is its struct conn' '
	gdb -nx -batch "$FIXTURES/fx-types-locals" -ex "disassemble make_conn" -ex "info scope make_conn" 2>/dev/null >static &&
	ret=$(grep -A1 "call.*<malloc@plt>" static | sed -n "2s/^ *\(0x[0-9a-f]*\) .*/\1/p") &&
	sed -n "/^Symbol c is multi-location:/,/^Symbol [^c]/p" static >c.loc &&
	grep -E "Range $(printf 0x%x $((ret)))-0x[0-9a-f]+: a variable in .rax$" c.loc &&
	gdb -nx -batch -p $pid -ex "p sizeof(struct conn)" -ex "p *(struct conn *)g_opaque[0]" 2>/dev/null >gdb.out &&
	grep -x "\$1 = 32" gdb.out &&
	grep -F "\$2 = {fd = 100, tag = \"conn100\", '"'"'\\000'"'"' <repeats 12 times>, name = $(jq -r .name0 "$T.2") \"conn100\"}" gdb.out &&
	fixture_stop $pid
'

test_expect_success 'gcc -O0: the same from the store of rax to c'"'"'s frame slot' '
	check_sites fx-types-locals-O0 && fixture_stop $pid
'

test_expect_success CLANG_FIXTURES 'clang -O2 and -O0: the same' '
	check_sites fx-types-locals-clang && fixture_stop $pid &&
	check_sites fx-types-locals-clang-O0 && fixture_stop $pid
'

test_done
