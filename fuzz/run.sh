#!/usr/bin/env bash
# `make fuzz`: build the libFuzzer targets with clang (mlyze's sources under ASan and UBSan, with
# libFuzzer's coverage), seed them, run each for FUZZ_SECONDS (default 180) and print how many
# inputs ran and whether anything failed. Inputs under fuzz/corpus/TARGET/ (crashes and hangs
# found before, now fixed) are replayed first, so they stay fixed. Not part of check.
#   FUZZ_SECONDS=60 FUZZ_TARGETS="core leaks" bash fuzz/run.sh
# FUZZ_SECONDS=0 only replays (CI does): the targets build, and their seeds and stored inputs pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/fuzz
secs=${FUZZ_SECONDS:-180}
targets=${FUZZ_TARGETS:-core walk leaks supp save rec dwarf}
pkgs="libdw libelf capstone readline zlib libzstd"
cflags="-g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -std=gnu11 -I$root/include $(pkg-config --cflags $pkgs)"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
libs="$(pkg-config --libs $pkgs) -lstdc++ -lm"
mkdir -p "$out/obj" "$out/seeds"

# mlyze without main.c, instrumented for coverage; a source newer than its object (or any header
# newer than it) is compiled again.
newest_header=$(ls -t "$root"/include/*.h "$root"/src/*/*.h | head -n1)
objs=()
todo=()
for src in "$root"/src/*.c "$root"/src/*/*.c; do
	case $src in */src/main.c) continue ;; esac
	obj=$out/obj/$(echo "${src#$root/src/}" | tr / -).o
	objs+=("$obj")
	if ! test "$obj" -nt "$src" || ! test "$obj" -nt "$newest_header"; then
		todo+=("$src $obj")
	fi
done
if test ${#todo[@]} -gt 0; then
	echo "== compiling ${#todo[@]} sources with clang"
	printf '%s\n' "${todo[@]}" |
		xargs -P "$(nproc)" -L 1 sh -c 'clang $0 -c -o "$2" "$1"' "$cflags $san -fsanitize=fuzzer-no-link"
fi
# The agent's image is built by make (freestanding, never instrumented) and embedded as mlyze does.
make -C "$root" --no-print-directory build/plain/agent/agent.bin >/dev/null
clang -c -DAGENT_BIN="\"$root/build/plain/agent/agent.bin\"" -o "$out/obj/agent-blob.o" "$root/src/agent/blob.S"
objs+=("$out/obj/agent-blob.o")
for t in $targets; do
	clang $cflags $san -fsanitize=fuzzer -o "$out/fuzz-$t" "$root/fuzz/fuzz-$t.c" "${objs[@]}" $libs
done
clang $cflags -o "$out/mkseed" "$root/fuzz/mkseed.c" "$root/src/heap/glibc_find.c" "$root/src/util/err.c" \
	"$root/src/util/xalloc.c"
"$out/mkseed" "$out/seeds"
clang $cflags -o "$out/mkseed-rec" "$root/fuzz/mkseed-rec.c" "$root/src/record/recfile.c" "$root/src/util/err.c" \
	"$root/src/util/xalloc.c" "$root/src/util/u64map.c" "$root/src/util/savefile.c" \
	"$root/src/util/cancel.c" "$root/src/util/clock.c" $libs
"$out/mkseed-rec" "$out/seeds/seed-rec"
# DWARF of two fixtures as gcc emits it: at -O2 (location lists, registers, inlined bodies) and at
# -O0 (structs, arrays, typedefs, frame slots); small ELF files (30 KB), built from their sources.
# And as clang emits it: DWARF 5 without .debug_aranges, so the locals' scopes are found through
# the table of CU ranges (src/sym/cutab.c).
gcc -g -O2 -pthread -o "$out/seeds/seed-dwarf" "$root/fixtures/fx-types-locals.c"
gcc -g -O0 -pthread -o "$out/seeds/seed-dwarf.O0" "$root/fixtures/fx-types.c"
clang -g -O2 -pthread -o "$out/seeds/seed-dwarf.clang" "$root/fixtures/fx-types-locals.c"

status=0
for t in $targets; do
	corpus=$out/corpus-$t
	mkdir -p "$corpus"
	for seed in "$out/seeds/seed-$t" "$out/seeds/seed-$t".*; do
		if test -e "$seed"; then
			cp "$seed" "$corpus/"
		fi
	done
	# Seeds kept in the tree (fuzz/seeds/TARGET/: files a test wrote, see tests/t5002-save.sh).
	if test -d "$root/fuzz/seeds/$t"; then
		cp "$root/fuzz/seeds/$t"/* "$corpus/"
	fi
	regress=$root/fuzz/corpus/$t
	if test -d "$regress" && test -n "$(ls -A "$regress")"; then
		echo "== fuzz-$t: replaying $(ls "$regress" | wc -l) inputs of fuzz/corpus/$t"
		"$out/fuzz-$t" -runs=0 -timeout=10 "$regress"/* >"$out/fuzz-$t.replay.log" 2>&1 ||
			{ tail -n 40 "$out/fuzz-$t.replay.log"; status=1; continue; }
		cp "$regress"/* "$corpus/"
	fi
	if test "$secs" = 0; then
		# Replay only (CI): the seed and every stored input, each once; deterministic.
		echo "== fuzz-$t: the seed and the stored inputs, once each"
		"$out/fuzz-$t" -runs=0 -timeout=10 "$corpus" >"$out/fuzz-$t.log" 2>&1 ||
			{ tail -n 40 "$out/fuzz-$t.log"; status=1; }
		continue
	fi
	echo "== fuzz-$t for $secs s"
	if "$out/fuzz-$t" -max_total_time="$secs" -max_len=262144 -timeout=10 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$out/$t-" "$corpus" 2>"$out/fuzz-$t.log"; then
		grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz-$t.log"
		echo "corpus: $(ls "$corpus" | wc -l) inputs"
	else
		tail -n 40 "$out/fuzz-$t.log"
		echo "fuzz-$t failed: the input is in $out/$t-*"
		status=1
	fi
done
exit $status
