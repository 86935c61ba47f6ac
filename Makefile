# mlyze - a heap inspector for running Linux x86-64 processes.
# make            build ./mlyze
# make check      build, run unit and integration tests (SANITIZE=1: under ASan+UBSan)
# make demo       install missing packages (as root), build, and show a real session
# make deps       install the Debian packages mlyze needs (as root), else print the command
# make install    PREFIX=/usr/local: the binary and the man page
# make bench      benchmarks (not part of check)
# make fuzz       libFuzzer targets: the core reader, the heap walker, leaks on a core, suppression files,
#                 saved snapshots, recordings, DWARF types (FUZZ_SECONDS each;
#                 installs clang and libFuzzer as root, as make deps does)

PREFIX ?= /usr/local
CC ?= gcc
PKGS = libdw libelf capstone readline zlib libzstd
VERSION = 0.1.0

# Objects of the sanitizer build live apart, so switching never mixes them.
ifeq ($(SANITIZE),1)
VARIANT = san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
VARIANT = plain
SANFLAGS =
endif
B = build/$(VARIANT)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN = -Wall -Wextra -Wshadow -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
# Only include/ is on the path: a private header (src/cmd/render.h) is found next to its includers.
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DMLYZE_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) $(SANFLAGS) \
	-Iinclude $(PKG_CFLAGS) -MMD -MP
LDLIBS = $(PKG_LIBS) -lstdc++ -lm

SRCS = $(wildcard src/*.c src/*/*.c)
OBJS = $(SRCS:%.c=$(B)/%.o) $(B)/src/agent/blob.o
LIB_OBJS = $(filter-out $(B)/src/main.o,$(OBJS))

UNIT_SRCS = $(wildcard tests/unit/test-*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

DEB_PKGS = gcc g++ binutils make pkg-config libdw-dev libelf-dev libcapstone-dev libreadline-dev zlib1g-dev libzstd-dev \
	libcmocka-dev jq gdb procps util-linux libc6-dbg libjemalloc2 valgrind time $(TEST_PKGS)
# Only the tests need these: go tool pprof reads what `export pprof` writes, graphviz's dot what `export dot` writes.
TEST_PKGS = golang-go graphviz python3 clang
# Only `make bench` needs these: the peers it measures mlyze against in the same run, and a real program.
BENCH_PKGS = heaptrack sqlite3
# Only `make fuzz` needs these: clang, and libFuzzer's runtime (libclang_rt.fuzzer), which clang does not pull in.
FUZZ_PKGS = clang libclang-rt-dev

# $(call install_pkgs,PACKAGES): install the missing ones as root, else print the command and fail.
define install_pkgs
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "mlyze needs these Debian packages; run as root:"; \
		echo "  apt-get install $$missing"; exit 1; \
	fi
endef

all: mlyze

# A new file renamed over the old one: a copy onto a binary that runs fails (text file busy).
mlyze: $(B)/mlyze
	@cmp -s $< $@ || { cp $< $@.tmp && mv -f $@.tmp $@; }

$(B)/mlyze: $(OBJS)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The agent mlyze injects: freestanding, one flat image with no relocations (payload.lds), built
# without the sanitizers (it runs in the target) and embedded into mlyze by blob.S.
AGENT_CFLAGS = -std=gnu11 -O2 -fPIC -ffreestanding -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fcf-protection=none -fno-tree-loop-distribute-patterns -mgeneral-regs-only \
	-fvisibility=hidden $(WARN) -Iinclude
$(B)/agent/%.o: src/agent/payload/%.c include/agent_abi.h src/agent/payload/sample.h src/agent/payload/offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c -o $@ $<
$(B)/agent/%.o: src/agent/payload/%.S src/agent/payload/offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_CFLAGS) -c -o $@ $<
$(B)/agent/agent.bin: $(B)/agent/thunk.o $(B)/agent/agent.o src/agent/payload/payload.lds
	ld -static -nostdlib -T src/agent/payload/payload.lds -o $(B)/agent/agent.elf $(B)/agent/thunk.o $(B)/agent/agent.o
	@# It must need no loader: no GOT, PLT or relocations, the thunk at 0, the control block at its place.
	@! readelf -SW $(B)/agent/agent.elf | grep -E '\.(got|plt|rela|dynamic)' || { echo "agent: needs relocation"; exit 1; }
	@nm $(B)/agent/agent.elf | grep -q '^0000000000000000 [tT] agent_thunk$$' || { echo "agent: thunk not at 0"; exit 1; }
	@nm $(B)/agent/agent.elf | grep -q '^0000000000010000 [bB] agent_ctl$$' || { echo "agent: ctl misplaced"; exit 1; }
	@# malloc's, free's and realloc's entries where offsets.h says (payload.lds places them)
	@for e in MALLOC FREE REALLOC; do off=$$(sed -n "s/^#define THUNK_$${e}_OFF \(0x[0-9a-f]*\).*/\1/p" src/agent/payload/offsets.h); \
		name=$$(echo $$e | tr A-Z a-z); \
		nm $(B)/agent/agent.elf | grep -q "^$$(printf %016x $$off) [tT] agent_thunk_$$name$$" || \
		{ echo "agent: agent_thunk_$$name not at $$off"; exit 1; }; done
	objcopy -O binary -j .text -j .rodata -j .data $(B)/agent/agent.elf $@
$(B)/src/agent/blob.o: src/agent/blob.S $(B)/agent/agent.bin
	@mkdir -p $(dir $@)
	$(CC) -DAGENT_BIN='"$(B)/agent/agent.bin"' -c -o $@ $<

$(B)/tests/test-%: tests/unit/test-%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# The unwinder's test must not be able to follow frame pointers: its own frames have none.
$(B)/tests/test-unwtab: ALL_CFLAGS += -fomit-frame-pointer

fixtures:
	$(MAKE) -C fixtures

deps:
	$(call install_pkgs,$(DEB_PKGS))

fuzz-deps: deps
	$(call install_pkgs,$(FUZZ_PKGS))

# make fuzz FUZZ_SECONDS=60 [FUZZ_TARGETS="core walk leaks supp"]: each target for that long.
fuzz: fuzz-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" bash fuzz/run.sh

FUZZ_SECONDS ?= 180
FUZZ_TARGETS ?= core walk leaks supp save rec dwarf

check: deps
	$(MAKE) mlyze fixtures unit
	MLYZE=$(CURDIR)/mlyze bash tests/run.sh $(UNIT_BINS) --

unit: $(UNIT_BINS)

demo: deps
	$(MAKE) mlyze fixtures
	bash tests/demo.sh

# Benchmarks (not part of check): mlyze against a bare int3 round trip measured in the same run.
bench-deps: deps
	$(call install_pkgs,$(BENCH_PKGS))

bench: bench-deps
	$(MAKE) mlyze fixtures
	$(MAKE) -C bench
	bash bench/run.sh $(BENCH_ARGS)

# The command lists of the man page and the README come from the command table.
docs: mlyze
	bash docs/gen-docs.sh

install: mlyze
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 mlyze $(DESTDIR)$(PREFIX)/bin/mlyze
	install -m 644 docs/mlyze.1 $(DESTDIR)$(PREFIX)/share/man/man1/mlyze.1
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 docs/mlyze.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mlyze

# Exactly what install put there; directories are left, as they may hold other programs' files.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mlyze $(DESTDIR)$(PREFIX)/share/man/man1/mlyze.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/mlyze

clean:
	rm -rf build mlyze
	$(MAKE) -C fixtures clean
	$(MAKE) -C bench clean

.PHONY: all mlyze deps fuzz-deps bench-deps check unit demo docs bench fuzz install uninstall clean fixtures

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)
