#!/bin/bash
# Types from DWARF: roots named as their variable and field (a global in the anonymous part of a
# multi-page .bss included), blocks typed through the graph from typed globals, path steps naming
# the field each pointer sits in; live and from a core, with gdb as the oracle for addresses.

test_description='types: variables, typed blocks, fields by name'
. "$(dirname "$0")/lib/test-lib.sh"

T="$TRASH/t.json"
tv () { jq -r ".$1" "$T"; }

test_expect_success 'the fixture: g_list lies past the file-backed pages of its .bss, in an anonymous mapping' '
	fixture_start fx-types "$T" && pid=$FIXTURE_PID &&
	g=$(( $(tv g_list) )) &&
	while read -r range perms off dev inode path; do
		lo=$(( 0x${range%-*} )) hi=$(( 0x${range#*-} )) &&
		if test $g -ge $lo && test $g -lt $hi; then echo "${path:-anon}"; fi
	done </proc/$pid/maps >where &&
	echo anon >expect && test_cmp expect where
'

# [kind, variable or type, field] of each step of a path
steps () { jq -c "[.chain[] | [.kind, (.variable // .type), .field]]"; }

test_expect_success 'path names the global, in .bss past the file, as its variable; each step its field' '
	"$MLYZE" attach $pid --json -e "path $(tv node4)" -e "path $(tv entry5)" -e "path $(tv tree_left)" \
		-e "refs $(tv node0)" -e "backrefs $(tv node1)" >out 2>err &&
	test_must_be_empty err &&
	result "path $(tv node4)" | steps >actual &&
	n="[\"block\",\"struct node\",\"struct node.next\"]" &&
	echo "[[\"global\",\"g_list\",null],$n,$n,$n,$n,[\"block\",\"struct node\",null]]" >expect &&
	test_cmp expect actual &&
	result "path $(tv node4)" | jq -e ".chain[0] | .symbol == \"g_list\" and .module == \"fx-types\" and
		.address == \"$(tv g_list)\"" &&
	result "path $(tv entry5)" | steps >actual &&
	echo "[[\"global\",\"g_cache.buckets[17]\",null],[\"block\",\"struct entry\",\"struct entry.next\"],[\"block\",\"struct entry\",null]]" >expect &&
	test_cmp expect actual &&
	result "path $(tv entry5)" | jq -e ".chain[0].address == \"$(tv bucket17)\" and .chain[1].address == \"$(tv entry11)\"" &&
	result "path $(tv tree_left)" | steps >actual &&
	echo "[[\"global\",\"g_root\",null],[\"block\",\"struct tree\",\"struct tree.left\"],[\"block\",null,null]]" >expect &&
	test_cmp expect actual &&
	result "refs $(tv node0)" | jq -c "[.refs[] | [.offset, .field, .to.type]]" >actual &&
	echo "[[8,\"struct node.name\",\"char\"],[16,\"struct node.next\",\"struct node\"]]" >expect &&
	test_cmp expect actual &&
	result "backrefs $(tv node1)" | jq -c "[.referrers[].from | [.address, .field]]" >actual &&
	echo "[[\"$(tv node0)\",\"struct node.next\"]]" >expect && test_cmp expect actual
'

test_expect_success GDB 'gdb agrees: the root words are &g_cache.buckets[17] and &g_list, the chains its pointers' '
	gdb -nx -batch -p $pid -ex "printf \"B %p %p %p\\n\", &g_cache.buckets[17], g_cache.buckets[17]->next, &g_list" \
		2>/dev/null | sed -n "s/^B //p" >gdb.out &&
	echo "$(tv bucket17) $(tv entry5) $(tv g_list)" >expect && test_cmp expect gdb.out
'

test_expect_success GCORE 'the same paths from a core' '
	gcore -o "$TRASH/c" $pid >/dev/null 2>&1 &&
	"$MLYZE" core c.$pid --json -e "path $(tv node4)" -e "path $(tv entry5)" >out.core 2>err &&
	for a in node4 entry5; do
		result "path $(tv $a)" out | jq -c "del(.ms)" >expect &&
		result "path $(tv $a)" out.core | jq -c "del(.ms)" >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'cleanup' '
	fixture_stop $pid
'

test_done
