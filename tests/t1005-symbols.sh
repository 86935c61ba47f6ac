#!/bin/bash
# Symbols degrade gracefully: no DWARF gives ELF symbols, no symbols gives module+offset, at the same offsets.

test_description='stripped binaries'
. "$(dirname "$0")/lib/test-lib.sh"

# frame_of FILE FUNCTION-OFFSET: the frame (as compact JSON) of the main thread whose module_offset is given
main_frames () {
	jq -c "[.result.threads[0].frames[] | select(.module | test(\"^fx-threads\")) |
		{function, file: (.file != null), line, module_offset}]" "$1"
}

test_expect_success 'full debug information: the reference stack' '
	fixture_start fx-threads "$TRASH/full.json" &&
	"$MLYZE" attach $FIXTURE_PID -e "bt --json" >full &&
	main_frames full >full.frames &&
	jq -e "[.[] | select(.function == \"fx_main_wait\" and .file and .line == $(jq .threads[0].line full.json))] | length == 1" full.frames
'

test_expect_success 'strip --strip-debug: function names from .symtab, no file:line, same offsets' '
	cp "$FIXTURES/fx-threads" fx-threads-nodebug && strip --strip-debug fx-threads-nodebug &&
	./fx-threads-nodebug "$TRASH/nodebug.json" >nodebug.out 2>&1 &
	wait_for_file nodebug.json && sleep 0.2 &&
	"$MLYZE" attach $(jq .pid nodebug.json) -e "bt --json" >nodebug &&
	kill $(jq .pid nodebug.json) &&
	main_frames nodebug >nodebug.frames &&
	jq -c "[.[] | {function, file: false, line: null, module_offset}]" full.frames >expect &&
	test_cmp expect nodebug.frames
'

test_expect_success 'strip --strip-all: module+offset where no symbol is left, same offsets' '
	cp "$FIXTURES/fx-threads" fx-threads-bare && strip --strip-all fx-threads-bare &&
	./fx-threads-bare "$TRASH/bare.json" >bare.out 2>&1 &
	wait_for_file bare.json && sleep 0.2 &&
	"$MLYZE" attach $(jq .pid bare.json) -e "bt --json" -e bt >bare 2>err &&
	kill $(jq .pid bare.json) &&
	grep "^{" bare >bare.json.out &&
	main_frames bare.json.out >bare.frames &&
	jq -c "[.[] | {module_offset}]" full.frames >expect &&
	jq -c "[.[] | {module_offset}]" bare.frames >actual &&
	test_cmp expect actual &&
	jq -e "[.[] | select(.function == \"fx_main_wait\")] | length == 0" bare.frames &&
	off=$(jq -r ".[] | select(.function == \"fx_main_wait\") | .module_offset" full.frames) &&
	grep -E "^  #1  0x[0-9a-f]+ +fx-threads-bare\+$off\$" bare
'

test_done
