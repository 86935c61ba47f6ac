#!/bin/bash
# watch: a cheap sample every INTERVAL, and a snapshot at each new multiple of --threshold. fx-leakrate
# leaks 4096 bytes every 10 ms on an absolute schedule: 409,600 bytes and 100 calls a second.

test_description='watch: samples, rates, threshold snapshots'
. "$(dirname "$0")/lib/test-lib.sh"

T=524288

test_expect_success 'eight samples half a second apart, with snapshots kept in a directory' '
	fixture_start fx-leakrate "$TRASH/lr.json" 4096 10 && pid=$FIXTURE_PID && echo $pid >pid &&
	mkdir snaps &&
	"$MLYZE" --json attach $pid -e "watch 0.5 --count 8 --threshold $T --out snaps" >out 2>err &&
	test_must_be_empty err &&
	jq -c "select(.sample) | .sample" out >samples &&
	test $(wc -l <samples) = 8 &&
	result "watch 0.5 --count 8 --threshold $T --out snaps" | jq -e ".samples == 8 and .ended == \"count\"" &&
	test_path_is_sleeping $pid
'

test_expect_success 'the rates are the fixture'"'"'s, within 5 %' '
	truth=$(jq .bytes_per_second "$TRASH/lr.json") && test $truth = 409600 &&
	jq -s --argjson t $truth "(.[-1].live_bytes - .[0].live_bytes) / (.[-1].seconds - .[0].seconds) / \$t |
		. > 0.95 and . < 1.05" samples &&
	jq -s --argjson t $truth "map(.live_bytes_per_second | select(. != null)) | sort | .[length / 2 | floor] / \$t |
		. > 0.95 and . < 1.05" samples &&
	jq -s "map(.events_per_second | select(. != null)) | sort | .[length / 2 | floor] | . > 95 and . < 105" samples &&
	jq -s "map(.live_blocks) | . == (sort) and .[-1] > .[0]" samples &&
	jq -s "map(.seconds) | [.[0] > 0.45, .[-1] < 4.5] == [true, true]" samples
'

test_expect_success 'exactly one snapshot per sample that reached a new multiple of the threshold' '
	jq -s --argjson T $T "
		reduce .[] as \$s ({lr: null, lb: null, ok: true, n: 0};
			((\$s.rss / \$T) | floor) as \$r | ((\$s.live_bytes / \$T) | floor) as \$b |
			if .lr == null then {lr: \$r, lb: \$b, ok: (.ok and \$s.snapshot == null), n: 0}
			else ((\$r > .lr) or (\$b > .lb)) as \$new |
				{lr: ([.lr, \$r] | max), lb: ([.lb, \$b] | max), n: (.n + (if \$new then 1 else 0 end)),
				 ok: (.ok and (\$new == (\$s.snapshot != null)))} end) | .ok and .n >= 2" samples &&
	jq -r "select(.file != null) | .file" samples >files &&
	test $(wc -l <files) -ge 2 &&
	ls snaps/*.snap >listed && test $(wc -l <listed) = $(wc -l <files) &&
	result "watch 0.5 --count 8 --threshold $T --out snaps" | jq -r ".files[]" >res-files && test_cmp files res-files
'

test_expect_success 'the saved snapshots open, each at or past the level that took it' '
	"$MLYZE" --json open snaps/*.snap -e snapshots >opened &&
	jq -s -r ".[] | select(.file != null) | [.snapshot, .live_bytes] | @tsv" samples >taken &&
	result snapshots opened | jq -r ".snapshots[] | [.name, .bytes - .untraced_bytes] | @tsv" >loaded &&
	test $(wc -l <loaded) = $(wc -l <taken) &&
	while read -r name live; do
		grep -q "^$name	" loaded || { echo "missing $name"; return 1; }
		b=$(sed -n "s/^$name	//p" loaded) && test $b -ge $live || return 1
	done <taken
'

test_expect_success 'text: a header, one row per sample, a summary; --watch on the command line' '
	"$MLYZE" attach $(cat pid) --watch "0.2 --count 3" >text 2>err &&
	test $(grep -c "^ *[0-9]*\.[0-9] " text) = 3 &&
	head -1 text | grep "SECONDS  *RSS  *LIVE  *BLOCKS  *RSS/s  *LIVE/s  *CALLS/s" &&
	tail -1 text | grep -x "watched 3 samples in [0-9.]* s (the count reached)" &&
	test_expect_code 64 "$MLYZE" --watch 1 --watch 2 attach $(cat pid) 2>err &&
	grep "given once" err
'

test_expect_success 'the process ending ends the watch; Ctrl-C ends it with the process running' '
	fixture_start fx-ticker "$TRASH/t.json" 6 100 0 && short=$FIXTURE_PID &&
	"$MLYZE" --json attach $short -e "watch 0.2" >out2 2>err2 &&
	result "watch 0.2" out2 | jq -e ".ended == \"exited\" and .samples >= 1" &&
	{ "$MLYZE" --json attach $(cat pid) -e "watch 0.2" >out3 2>err3 & } && m=$! &&
	test_poll_ 20 grep -q "\"number\": 2," out3 && kill -INT $m &&
	{ wait $m; code=$?; } && test $code = 130 &&
	result "watch 0.2" out3 | jq -e ".ended == \"interrupted\"" &&
	test_path_is_sleeping $(cat pid)
'

test_expect_success 'bad arguments are refused before anything is watched' '
	test_expect_code 1 "$MLYZE" attach $(cat pid) -e "watch 0" 2>err &&
	grep "watch: INTERVAL expects seconds from 0.01" err &&
	test_expect_code 1 "$MLYZE" attach $(cat pid) -e "watch 1 --out snaps" 2>err &&
	grep "give a threshold" err &&
	test_expect_code 1 "$MLYZE" attach $(cat pid) -e "watch 1 --threshold 1M --out nosuch" 2>err &&
	grep "cannot write snapshots into .nosuch." err &&
	test_path_is_sleeping $(cat pid)
'

test_done
