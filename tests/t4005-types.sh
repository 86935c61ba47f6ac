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
		result "path $(tv $a)" out | jq -c "del(.ms, .graph)" >expect &&
		result "path $(tv $a)" out.core | jq -c "del(.ms, .graph)" >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'a block held only by a local of a waiting thread: named as that local, typed by it' '
	"$MLYZE" attach $pid --json -e "path $(tv request)" -e "show $(tv request)" >out.req 2>err &&
	test_must_be_empty err &&
	line=$(grep -n "pthread_cond_wait(&cond, &lock);" "$FIXTURES/fx-types.c" | cut -d: -f1) &&
	result "path $(tv request)" out.req | jq -c "[.chain[0] | .kind, .thread, .function, .variable, (.file | sub(\".*/\"; \"\")), .line] + [.chain[1].type]" >actual &&
	echo "[\"stack\",$(tv worker),\"worker\",\"req\",\"fx-types.c\",$line,\"struct request\"]" >expect &&
	test_cmp expect actual &&
	result "show $(tv request)" out.req | jq -c "[.fields[] | [.name, .value]]" >actual &&
	echo "[[\"fd\",\"7\"],[\"path\",\"\\\"/srv/index.html\\\"\"]]" >expect &&
	test_cmp expect actual &&
	"$MLYZE" attach $pid -e "path $(tv request)" >text 2>err &&
	grep -E "^stack of thread $(tv worker) at 0x[0-9a-f]+, frame #[0-9]+ worker\(\) local .req. at fx-types.c:$line$" text
'

test_expect_success GDB 'gdb: the worker frame'"'"'s req is that block' '
	gdb -nx -batch -p $pid -ex "thread find $(tv worker)" -ex "thread 2" -ex "frame function worker" -ex "p req" 2>/dev/null |
		sed -n "s/^\$[0-9]* = (struct request \*) //p" >actual &&
	echo "$(tv request)" >expect && test_cmp expect actual
'

# [type, count, bytes] of the typed groups, then the untyped 24-byte blocks (the tree below g_root)
groups () {
	jq -c "[.groups[] | select(.type != null) | [.type, .blocks, .bytes]] + [.groups[] |
		select(.type == null and .block_size == $(tv untyped_tree_size)) | [null, .blocks]]"
}

test_expect_success 'top --by type: exact counts and bytes per type; blocks --type lists them' '
	"$MLYZE" attach $pid --json -e "top --by type --top 0" -e "blocks --type char --limit 0" \
		-e "blocks --type \"struct node\" --limit 0" -e "blocks --type \"struct nope\"" >out.top 2>err &&
	test_must_be_empty err &&
	# stdout buffer: a char block when libc has DWARF (its FILE says char *), else untyped
	libc=$(result "blocks --type char --limit 0" out.top | jq "[.listed[].address] | index(\"$(tv stdout_buf)\") != null | if . then 1 else 0 end") &&
	nchar=$(( 17 + libc )) bchar=$(( $(tv str_bytes) + libc * $(tv stdout_buf_size) )) &&
	result "top --by type --top 0" out.top | groups >actual &&
	jq -c -n "[[\"char\", $nchar, $bchar], [\"struct entry\", 12, $(tv entry_bytes)],
		[\"struct node\", 5, $(tv node_bytes)], [\"struct request\", 1, $(tv request_size)],
		[\"struct tree\", 1, $(tv tree_bytes)], [null, 6]]" >expect &&
	test_cmp expect actual &&
	result "blocks --type \"struct node\" --limit 0" out.top | jq -e "[.listed[].address] | contains([\"$(tv node0)\", \"$(tv node1)\", \"$(tv node4)\"]) and length == 5" &&
	result "blocks --type \"struct nope\"" out.top | jq -e ".blocks == 0 and .listed == []"
'

# gdb's one-line print of a struct from the fields show gives: {id = 0, name = 0x... "node0", next = 0x...}
as_gdb () { jq -r "\"{\" + ([.fields[] | .name + \" = \" + .value] | join(\", \")) + \"}\""; }

test_expect_success 'show: the fields by name with the values the fixture wrote, as gdb prints them' '
	"$MLYZE" attach $pid --json -e "show $(tv node0)" -e "show $(tv entry5)" -e "show $(tv node0) --raw" >out.show 2>err &&
	test_must_be_empty err &&
	result "show $(tv node0)" out.show | jq -c "[.type, [.fields[] | [.name, .offset, .type]], .fields[1].string,
		.fields[2].target.type, .fields[2].target.address]" >actual &&
	echo "[\"struct node\",[[\"id\",0,\"int\"],[\"name\",8,\"char *\"],[\"next\",16,\"struct node *\"]],\"node0\",\"struct node\",\"$(tv node1)\"]" >expect &&
	test_cmp expect actual &&
	result "show $(tv entry5)" out.show | jq -c "[.fields[] | [.name, .value]] | .[1:]" >actual &&
	echo "[[\"value\",\"105\"],[\"next\",\"0x0\"]]" >expect && test_cmp expect actual &&
	result "show $(tv node0) --raw" out.show | jq -e "has(\"fields\") | not" &&
	"$MLYZE" attach $pid -e "show $(tv node0)" >text 2>err &&
	grep -E "^  \+16   next = $(tv node1) -> $(tv node1) \(struct node, [0-9]+ bytes\)$" text
'

test_expect_success GDB 'gdb prints the same fields and values' '
	gdb -nx -batch -p $pid -ex "p *(struct node *)$(tv node0)" -ex "p *(struct entry *)$(tv entry5)" \
		-ex "p *(struct entry *)$(tv entry11)" 2>/dev/null | sed -n "s/^\$[0-9]* = //p" >expect &&
	"$MLYZE" attach $pid --json -e "show $(tv entry11)" >out.e11 2>err &&
	{ result "show $(tv node0)" out.show | as_gdb &&
	  result "show $(tv entry5)" out.show | as_gdb &&
	  result "show $(tv entry11)" out.e11 | as_gdb; } >actual &&
	test $(wc -l <expect) = 3 &&
	test_cmp expect actual
'

test_expect_success GCORE 'the same types, counts and fields from the core' '
	"$MLYZE" core c.$pid --json -e "top --by type --top 0" -e "show $(tv node0)" -e "show $(tv entry5)" >out.ctop 2>err &&
	result "top --by type --top 0" out.top | jq -c "del(.ms)" >expect &&
	result "top --by type --top 0" out.ctop | jq -c "del(.ms)" >actual &&
	test_cmp expect actual &&
	for a in node0 entry5; do
		result "show $(tv $a)" out.show | jq -c ".fields" >expect &&
		result "show $(tv $a)" out.ctop | jq -c ".fields" >actual &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'compare --by type: three nodes and their names more between two typed snapshots' '
	rm -f cmds && mkfifo cmds &&
	{ "$MLYZE" attach $pid --json <cmds >out.cmp 2>err.cmp & } && mpid=$! && exec 9>cmds &&
	echo "snapshot a --types" >&9 &&
	test_poll_ 60 grep -q "\"command\": \"snapshot a --types\"" out.cmp &&
	kill -USR2 $pid && wait_for_line "$TRASH/fx-types.out" "^grew$" 30 &&
	echo "snapshot b --types" >&9 && echo "compare a b --by type --top 0" >&9 &&
	echo "compare a b --by type --top 2 --filter \"struct*\"" >&9 && echo "compare a s --by type" >&9 &&
	echo "snapshot s" >&9 && echo "compare s now --by type" >&9 && exec 9>&- &&
	{ wait $mpid; test $? = 1; } && # the two compares that fail
	test_must_be_empty err.cmp &&
	# traced now: the new blocks count their requested sizes, 24 bytes a node, 6 a name
	result "compare a b --by type --top 0" out.cmp | jq -c "[.blocks_diff, .bytes_diff, [.groups[] | select(.blocks_diff != 0) | [.type, .blocks_diff, .bytes_diff]]]" >actual &&
	echo "[6,90,[[\"struct node\",3,72],[\"char\",3,18]]]" >expect && test_cmp expect actual &&
	result "compare a b --by type --top 2 --filter \"struct*\"" out.cmp | jq -c "[.groups[].type]" >actual &&
	echo "[\"struct node\",\"struct entry\"]" >expect && test_cmp expect actual &&
	grep -F "\"error\": \"no snapshot named '"'"'s'"'"'\"" out.cmp &&
	grep -F "\"error\": \"snapshot '"'"'s'"'"' has no types: take it with '"'"'snapshot s --types'"'"'\"" out.cmp
'

test_expect_success 'cleanup' '
	fixture_stop $pid
'

C="$TRASH/c.json"
cv () { jq -r ".$1" "$C"; }

test_expect_success 'C++: objects held through base pointers typed by their vtables, their members through them' '
	fixture_start fx-types-cxx "$C" && cpid=$FIXTURE_PID &&
	"$MLYZE" attach $cpid --json -e "top --by type --top 0" -e "blocks --type char --limit 0" \
		-e "show $(cv circle)" -e "path $(cv square)" >out.cxx 2>err &&
	test_must_be_empty err &&
	libc=$(result "blocks --type char --limit 0" out.cxx | jq "[.listed[].address] | index(\"$(cv stdout_buf)\") != null | if . then 1 else 0 end") &&
	result "top --by type --top 0" out.cxx | jq -c "[.groups[] | select(.type != null) | [.type, .blocks, .bytes, .conflicts]]" >actual &&
	jq -c -n "[[\"char\", $(( 5 + libc )), $(( $(cv name_bytes) + libc * $(cv stdout_buf_size) )), null],
		[\"fx::Circle\", 3, $(cv circle_bytes), null], [\"fx::Square\", 2, $(cv square_bytes), null],
		[\"int\", 2, $(cv mark_bytes), null], [\"fx::Shape *\", 1, $(cv vector_bytes), null]]" >expect &&
	test_cmp expect actual &&
	result "path $(cv square)" out.cxx | steps >actual &&
	echo "[[\"global\",\"g_shapes._M_impl._M_start\",null],[\"block\",\"fx::Shape *\",\"fx::Shape *[1]\"],[\"block\",\"fx::Square\",null]]" >expect &&
	test_cmp expect actual &&
	result "show $(cv circle)" out.cxx | jq -c "[.type, (.fields[] | select(.name == \"r\" or .name == \"<fx::Shape>.name._M_dataplus._M_p\") | [.name, .string // .value])]" >actual &&
	echo "[\"fx::Circle\",[\"<fx::Shape>.name._M_dataplus._M_p\",\"shape number 0 with a name on the heap\"],[\"r\",\"0\"]]" >expect &&
	test_cmp expect actual
'

test_expect_success GDB 'C++: gdb reads the same string pointer and side through the derived type (without its typedef cast)' '
	gdb -nx -batch -p $cpid -ex "set language c++" -ex "p ((fx::Square *)$(cv square))->name._M_dataplus._M_p" \
		-ex "p ((fx::Square *)$(cv square))->side" 2>/dev/null | sed -n "s/^\$[0-9]* = \(([^)]*) \)*//p" >expect &&
	"$MLYZE" attach $cpid --json -e "show $(cv square)" >out.sq 2>err &&
	result "show $(cv square)" out.sq | jq -r ".fields[] | select(.name == \"<fx::Shape>.name._M_dataplus._M_p\" or .name == \"side\") | .value" >actual &&
	test $(wc -l <expect) = 2 &&
	test_cmp expect actual
'

test_expect_success GCORE 'C++: the same from a core' '
	gcore -o "$TRASH/cx" $cpid >/dev/null 2>&1 &&
	"$MLYZE" core cx.$cpid --json -e "top --by type --top 0" -e "path $(cv square)" >out.cxcore 2>err &&
	for cmd in "top --by type --top 0" "path $(cv square)"; do
		result "$cmd" out.cxx | jq -c "del(.ms, .graph)" >expect &&
		result "$cmd" out.cxcore | jq -c "del(.ms, .graph)" >actual &&
		test_cmp expect actual || return 1
	done &&
	fixture_stop $cpid
'

test_done
