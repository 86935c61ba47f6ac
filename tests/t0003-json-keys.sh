#!/bin/bash
# One JSON vocabulary: every key of every command's answer, live and on a core, is snake_case and
# named in docs/json.md, the one documented list.

test_description='JSON keys: snake_case, every one documented'
. "$(dirname "$0")/lib/test-lib.sh"

# The names docs/json.md gives: the keys each line of its list opens with ("- `a`, `b`: ..."), and
# those its opening paragraphs name (mallinfo2's fields, the allocator entry points). A word only a
# description or the history of the schema mentions is no key: a key left over from schema 1 fails.
{
	sed "/^## /q" "$SRC_ROOT/docs/json.md" | grep -o '`[a-z][a-z0-9_]*`'
	sed -n "/^## Keys/,/^## [^K]/s/^- \([^:]*\):.*/\1/p" "$SRC_ROOT/docs/json.md" | grep -o '`[a-z][a-z0-9_]*`'
} | tr -d '`' | sort -u >documented

test_expect_success 'every command on a traced process, then on its core' '
	fixture_start fx-graph "$TRASH/g.json" && pid=$FIXTURE_PID &&
	addr=$(jq -r .list "$TRASH/g.json") &&
	"$MLYZE" --json attach $pid -e info -e threads -e bt -e "bt all" -e maps -e stats -e set \
		-e "snapshot a" -e "snapshot b" -e snapshots -e "compare a b" -e "compare a b --by stack" \
		-e top -e "top --by stack" -e "top --by function" -e growth -e "blocks --limit 3" \
		-e "show $addr" -e peak -e "mark m" -e phases -e heap -e arenas -e check -e leaks \
		-e "leaks --by size" -e "path $addr" -e "refs $addr" -e "backrefs $addr" -e trend \
		-e "top --by type" -e "blocks --type \"struct node\" --limit 2" \
		-e "export folded $TRASH/x.folded" -e "export svg $TRASH/x.svg a b" -e "export massif $TRASH/x.massif" \
		-e "export dot $TRASH/x.dot $addr" -e timeline -e "save $TRASH/a.snap a" -e "load $TRASH/a.snap a2" \
		-e "compare a2 b --by stack" -e "top a2" -e "blocks a2 --limit 2" -e "watch 0.1 --count 2" \
		-e "dump $TRASH/core.x" -e "sleep 0.1" -e "wait 0.1" -e help -e "help bt" -e nosuch >live.json 2>live.err;
	test $? = 1 &&
	"$MLYZE" --json open a.snap -e snapshots -e info -e "top a" -e "compare a a" >open.json 2>open.err &&
	"$MLYZE" record -o rec.mlz --duration 1 -p $pid 2>rec.err &&
	"$MLYZE" --json open rec.mlz -e info -e "snapshot r --at end" -e top >>open.json 2>>open.err &&
	"$MLYZE" --json core core.x "$FIXTURES/fx-graph" -e info -e threads -e bt -e maps -e heap -e arenas \
		-e leaks -e "snapshot c" -e top -e "path $addr" >core.json 2>core.err &&
	test $(jq -s "map(select(.ok)) | length" live.json) -ge 47 &&
	test $(jq -s "map(select(.ok)) | length" open.json) = 7 &&
	test $(jq -s "map(select(.ok)) | length" core.json) = 10 &&
	cat live.json core.json open.json | jq -r "[paths | .[] | strings] | .[]" | sort -u >keys &&
	test $(wc -l <keys) -gt 150
'

test_expect_success 'blocks traced since attach: listed, then one shown' '
	fixture_start fx-alloc "$TRASH/a.json" && apid=$FIXTURE_PID &&
	mlz_start $apid --json && mlz stats &&
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step1" 5 &&
	mlz "blocks --limit 2" &&
	addr=$(result "blocks --limit 2" out | jq -r ".listed[0].address") &&
	mlz "show $addr" && mlz_end &&
	test $(jq -s "map(select(.ok)) | length" out) = 3 &&
	result "show $addr" out | jq -e ".seq >= 1 and (.contents | type) == \"string\"" &&
	jq -r "[paths | .[] | strings] | .[]" out >>keys && sort -u -o keys keys
'

test_expect_success 'every key is snake_case' '
	grep -v "^[a-z][a-z0-9]*\(_[a-z0-9]\+\)*\$" keys >bad || true &&
	test_must_be_empty bad
'

test_expect_success 'every key is in docs/json.md' '
	comm -23 keys documented >undocumented &&
	test_must_be_empty undocumented
'

test_expect_success 'fractions have at most three decimals' '
	cat live.json core.json open.json | grep -oE "[0-9]+\.[0-9]{4,}" >long || true &&
	test_must_be_empty long
'

test_done
