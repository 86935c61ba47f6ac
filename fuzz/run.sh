#!/usr/bin/env bash
# `make fuzz`: build the two libFuzzer targets with clang, seed them, run each for FUZZ_SECONDS
# (default 180) and print how many executions ran and whether anything crashed. Not part of check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/fuzz
secs=${FUZZ_SECONDS:-180}
mkdir -p "$out/corpus-core" "$out/corpus-walk" "$out/seeds"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -I$root/include $(pkg-config --cflags libdw libelf)"
libs="$(pkg-config --libs libelf)"
util="$root/src/util/err.c $root/src/util/xalloc.c $root/src/util/strbuf.c $root/src/target/proc.c"
clang $flags -o "$out/fuzz-core" "$root/fuzz/fuzz-core.c" "$root/src/target/core.c" $util $libs
clang $flags -o "$out/fuzz-walk" "$root/fuzz/fuzz-walk.c" "$root/src/heap/glibc_walk.c" "$root/src/heap/glibc_find.c" $util
clang -g -O1 -D_GNU_SOURCE -I"$root/include" -o "$out/mkseed" "$root/fuzz/mkseed.c" "$root/src/heap/glibc_find.c" $util
"$out/mkseed" "$out/seeds"
cp "$out/seeds/seed-core" "$out/corpus-core/"
cp "$out/seeds/seed-walk" "$out/corpus-walk/"
for t in core walk; do
	echo "== fuzz-$t for $secs s"
	"$out/fuzz-$t" -max_total_time="$secs" -max_len=262144 -timeout=10 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus-$t" \
		2>"$out/fuzz-$t.log" || { tail -n 40 "$out/fuzz-$t.log"; exit 1; }
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz-$t.log"
	echo "corpus: $(ls "$out/corpus-$t" | wc -l) inputs"
done
