#!/bin/bash
# save, load and `mlyze open`: a snapshot saved in one session and read in another (a second
# attach, a session of saved files only, a core) compares with a live one exactly as two snapshots
# of one session taken at the same moments do; fx-alloc's known figures are the check. Damaged,
# truncated, foreign and newer files are refused with what is wrong and their exit status.

test_description='saved snapshots: exact across sessions, bad files refused'
. "$(dirname "$0")/lib/test-lib.sh"

step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-alloc.out" "^step$1" 10
}

# go tool pprof, kept off the network and out of the real home (as in t5001)
test_lazy_prereq GO 'command -v go && HOME=$TRASH go version'
gopprof () {
	HOME=$TRASH GOCACHE=$TRASH/gocache GOPATH=$TRASH/gopath GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off \
		PPROF_TMPDIR=$TRASH/pproftmp PPROF_BINARY_PATH=/nonexistent \
		go tool pprof -symbolize=none "$@"
}

# groups without their ids, which each session numbers as it meets the keys
groups () {
	result "$1" "${2:-out}" | jq -c "del(.a, .b, .snapshot) | .groups |= map(del(.id))"
}

test_expect_success 'session 1: a snapshot of the idle fixture, saved' '
	fixture_start fx-alloc "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	mlz_start $apid --json && mlz "snapshot a" && mlz "save a.snap a" && mlz_end &&
	result "save a.snap a" | jq -e ".snapshot == \"a\" and .bytes_written > 32" &&
	test "$(head -c 8 a.snap)" = MLYZSNAP &&
	test_must_be_empty err
'

test_expect_success 'session 2: load it, the same moment again, then step 1' '
	mlz_start $apid --json &&
	mlz "load a.snap saved" && mlz "snapshot a2" && step 1 && mlz "snapshot b" &&
	for by in site function stack; do
		mlz "compare saved now --by $by --top 0" && mlz "compare a2 now --by $by --top 0" &&
		mlz "compare saved b --by $by --top 0" && mlz "compare a2 b --by $by --top 0" || return 1
	done &&
	mlz "top --by function --top 0" && mlz "top b --by function --top 0" &&
	mlz "save b.snap b" && mlz "save b.snap b" && mlz "save b.snap b --force" &&
	mlz "save s.snap" && mlz snapshots && mlz "dump b.core" && mlz "export pprof live.pb.gz b" &&
	mlz "load a.snap" && mlz "load a.snap" && mlz "load a.snap saved" &&
	{ mlz_end; code=$?; } && test $code = 1 # the refusals below
'

test_expect_success 'a loaded snapshot keeps its heap figures: the same as a2, taken at the same idle moment' '
	result snapshots | jq -e "[.snapshots[] | select(.name == \"saved\" or .name == \"a2\") | [.heap_in_use, .heap_free, .mmapped]] |
		length == 2 and .[0] == .[1] and .[0][0] > 0"
'

test_expect_success 'compare saved now equals compare a2 now (same moments), by site, function and stack' '
	for by in site function stack; do
		groups "compare saved now --by $by --top 0" >saved.$by &&
		groups "compare a2 now --by $by --top 0" >a2.$by &&
		test_cmp a2.$by saved.$by &&
		groups "compare saved b --by $by --top 0" >savedb.$by &&
		groups "compare a2 b --by $by --top 0" >a2b.$by &&
		test_cmp a2b.$by savedb.$by &&
		test_cmp a2.$by a2b.$by || return 1
	done
'

test_expect_success 'and its figures are fx-alloc step 1, to the byte' '
	result "compare saved now --by function --top 0" |
		jq -c ".groups[] | select(.function != \"<before attach>\") | [.function, .blocks, .blocks_diff, .bytes, .bytes_diff]" >actual &&
	cat >expect <<-\EOF &&
	["fx_pvalloc",1,1,5000,5000]
	["fx_small",10,10,1000,1000]
	["fx_calloc",5,5,1000,1000]
	["fx_valloc",1,1,1000,1000]
	["fx_reallocarray",1,1,300,300]
	["fx_aligned_alloc",1,1,256,256]
	["fx_realloc_chain",1,1,160,160]
	["fx_posix_memalign",1,1,100,100]
	["fx_memalign",1,1,48,48]
	EOF
	test_cmp expect actual &&
	result "compare saved now --by function --top 0" | jq -e ".untraced and .bytes_diff == 8864 and .blocks_diff == 22"
'

test_expect_success 'stacks of two sessions match by their frames, their PCs those of the process' '
	result "compare saved now --by stack --top 0" | jq -e "[.groups[] | select(.function == \"fx_small\")][0] |
		.blocks_diff == 10 and (.stack | map(.function))[1:3] == [\"fx_small\", \"main\"]" &&
	result "compare saved now --by stack --top 0" | jq -e "[.groups[].stack[].pc | ltrimstr(\"0x\") | length] | max < 16"
'

test_expect_success 'save: the default is a snapshot taken now; an existing FILE needs --force' '
	result snapshots | jq -e ".snapshots | map(.name) == [\"saved\", \"a2\", \"b\", \"s1\"]" &&
	result snapshots | jq -e ".snapshots[0] | .file == \"a.snap\" and .source.kind == \"process\" and
		.source.pid == $apid and (.source.exe | endswith(\"fx-alloc\"))" &&
	result "save s.snap" | jq -e ".snapshot == \"s1\"" &&
	grep -F "{\"command\": \"save b.snap b\", \"ok\": false, \"error\": \"'"'"'b.snap'"'"' exists already; --force replaces it\"}" out &&
	result "save b.snap b --force" | jq -e ".snapshot == \"b\"" &&
	result "load a.snap" | head -n1 | jq -e ".name == \"a\"" &&
	grep -F "{\"command\": \"load a.snap\", \"ok\": false, \"error\": \"load: '"'"'a.snap'"'"' holds a snapshot named '"'"'a'"'"', a name taken already; '"'"'load FILE NAME'"'"' gives it another\"}" out &&
	grep -F "{\"command\": \"load a.snap saved\", \"ok\": false, \"error\": \"load: a snapshot named '"'"'saved'"'"' exists already\"}" out
'

test_expect_success 'save refuses a symbolic link, even with --force' '
	ln -sf b.snap link.snap &&
	test_expect_code 1 "$MLYZE" open a.snap -e "save link.snap a --force" 2>err.link &&
	grep "symbolic link" err.link
'

test_expect_success 'the fixture ran on unharmed' '
	step 2 && step 3 && { wait $apid; code=$?; } && test $code = 0 &&
	printf "%s\n" ready "step1 misaligned=0" step2 step3 >expect && test_cmp expect fx-alloc.out
'

test_expect_success 'mlyze open: compare a b from the files equals session 2 compare a2 b' '
	"$MLYZE" open a.snap b.snap --json -e snapshots \
		-e "compare a b --by site --top 0" -e "compare a b --by function --top 0" \
		-e "compare a b --by stack --top 0" -e "top b --by function --top 0" \
		-e "blocks b --limit 0" -e "export folded b.folded b" -e "export pprof open.pb.gz b" \
		>open.out 2>open.err &&
	test_must_be_empty open.err &&
	for by in site function stack; do
		groups "compare a b --by $by --top 0" open.out >open.$by &&
		test_cmp a2b.$by open.$by || return 1
	done
'

test_expect_success 'top --by function of the loaded snapshot equals the live one at that moment' '
	groups "top --by function --top 0" >live.top &&
	groups "top b --by function --top 0" open.out >open.top &&
	test_cmp live.top open.top &&
	jq -e ".groups | length > 9" <live.top
'

test_expect_success 'blocks and export read the loaded snapshot: 22 traced blocks, fx_small at its line' '
	result "blocks b --limit 0" open.out | jq -e ".blocks == 22 and .bytes == 8864" &&
	line=$(grep -n "hold(malloc(100))" "$FIXTURES/fx-alloc.c" | cut -d: -f1) &&
	result "blocks b --limit 0" open.out | jq -e "[.listed[] | select(.function == \"fx_small\")] |
		length == 10 and all(.line == $line and .size == 100 and .tid == $apid)" &&
	grep -q "fx_small 1000$" b.folded &&
	awk "{ s += \$NF } END { exit s != 12968 }" b.folded
'

test_expect_success GO 'go tool pprof reads the same profile from the loaded snapshot as from the live one' '
	for f in live open; do
		gopprof -raw $f.pb.gz >$f.raw 2>$f.err || return 1
	done &&
	test_cmp live.raw open.raw &&
	grep -q "fx-alloc [0-9a-f]\{40\}" open.raw &&
	gopprof -top -nodecount=100 -sample_index=inuse_space -unit=B open.pb.gz | grep -E "^ +1000B .* fx_small$"
'

test_expect_success 'mlyze open has no process: commands that need one refuse' '
	for c in heap bt "snapshot x" top "compare a now" blocks leaks; do
		test_expect_code 1 "$MLYZE" open a.snap -e "$c" 2>err.open &&
		grep -q "no process: this session has only saved snapshots" err.open || return 1
	done
'

test_expect_success 'mlyze core: load both files, compare a b equals the live session' '
	"$MLYZE" core b.core "$FIXTURES/fx-alloc" --json -e "load a.snap" -e "load b.snap" \
		-e "compare a b --by function --top 0" -e "compare a b --by stack --top 0" \
		-e "top b --by function --top 0" >core.out 2>core.err &&
	groups "compare a b --by function --top 0" core.out >core.function &&
	test_cmp a2b.function core.function &&
	groups "compare a b --by stack --top 0" core.out >core.stack &&
	test_cmp a2b.stack core.stack &&
	groups "top b --by function --top 0" core.out >core.top &&
	test_cmp live.top core.top
'

# A filesystem already full: the file cannot be written, and nothing of it is left.
test_lazy_prereq SMALL_TMPFS '
	test "$(id -u)" = 0 && mkdir probe && mount -t tmpfs -o size=1m tmpfs probe && umount probe
'

test_expect_success SMALL_TMPFS 'save on a full disk: the error says so and no partial file is left' '
	mkdir full && mount -t tmpfs -o size=64k tmpfs full &&
	{
		{ head -c 1m /dev/zero >full/filler 2>/dev/null; true; } &&
		test_expect_code 1 "$MLYZE" open b.snap -e "save full/b.snap b" >out.full 2>err.full &&
		echo "error: cannot write '"'"'full/b.snap'"'"': No space left on device" >expect &&
		test_cmp expect err.full &&
		ls -A full >left && echo filler >expect && test_cmp expect left
	}
	ret=$?
	umount full
	return $ret
'

# The fuzzer's seeds (fuzz/seeds/save/) are these files: FUZZ_SEEDS=DIR keeps them.
if test -n "$FUZZ_SEEDS"; then
	cp "$TRASH/a.snap" "$TRASH/b.snap" "$FUZZ_SEEDS"/
fi

# refused FILE CODE WHAT: `mlyze open FILE` exits with CODE and says WHAT; `load` in a session, 1
refused () {
	test_expect_code 2 "$MLYZE" open "$1" -e snapshots >r.out 2>r.err &&
	test_must_be_empty r.out &&
	grep -F "mlyze: load: '$1' $2" r.err &&
	test_expect_code 1 "$MLYZE" open a.snap -e "load $1" -e snapshots >r.out 2>r.err &&
	grep -F "error: load: '$1' $2" r.err &&
	test "$(grep -c "from a.snap" r.out)" = 1
}

test_expect_success 'a flipped byte: the checksum, or the compressed data, says it is damaged' '
	len=$(stat -c %s b.snap) &&
	cp b.snap crc.snap && printf "\\x5a" | dd of=crc.snap bs=1 seek=13 conv=notrunc 2>/dev/null &&
	refused crc.snap "is damaged: its checksum does not match" &&
	for off in 40 $((len / 3)) $((len / 2)) $((len * 2 / 3)) $((len - 5)); do
		cp b.snap flip.snap &&
		b=$(od -An -tu1 -j$off -N1 b.snap) &&
		printf "\\x$(printf %02x $(( (b ^ 0x10) & 255 )))" | dd of=flip.snap bs=1 seek=$off conv=notrunc 2>/dev/null &&
		refused flip.snap "is damaged: its " && cat r.err >>flips || return 1
	done &&
	# zstd keeps no checksum of its own: a byte flipped among the literals (names, paths) decompresses
	grep "its checksum does not match" flips
'

test_expect_success 'a truncated file, at several offsets' '
	len=$(stat -c %s b.snap) &&
	for n in 0 5; do
		head -c $n b.snap >cut.snap && refused cut.snap "is not an mlyze snapshot file" || return 1
	done &&
	for n in 8 20 31 32 33 $((len / 2)) $((len - 1)); do
		head -c $n b.snap >cut.snap && refused cut.snap "is truncated" || return 1
	done
'

test_expect_success 'a file that is not mlyze, and one of a newer version' '
	cp "$MLYZE" foreign.snap && refused foreign.snap "is not an mlyze snapshot file" &&
	cp b.snap newer.snap && printf "\\x02" | dd of=newer.snap bs=1 seek=8 conv=notrunc 2>/dev/null &&
	refused newer.snap "was written by a newer mlyze (format version 2; this one reads version 1)" &&
	test_expect_code 2 "$MLYZE" open nosuch.snap 2>r.err &&
	grep -F "mlyze: load: cannot open '"'"'nosuch.snap'"'"': No such file or directory" r.err
'

test_done
