#!/bin/bash
# The layering rules of docs/design.md ("Allowed dependencies") on the real tree, and
# tests/lib/layers.sh itself on small synthetic trees, one per kind of violation.

test_description='module dependencies and who may touch the process'
. "$(dirname "$0")/lib/test-lib.sh"

layers () {
	bash "$SRC_ROOT/tests/lib/layers.sh" "$@"
}

test_expect_success 'the source tree keeps the allowed dependencies' '
	layers "$SRC_ROOT"
'

test_expect_success 'without ROOT it checks its own repository' '
	test_expect_code 2 layers a b 2>err &&
	grep "^usage: layers.sh \[ROOT\]" err &&
	(layers "$SRC_ROOT"; echo "exit $?") >expect &&
	(cd / && layers; echo "exit $?") >actual &&
	test_cmp expect actual
'

# The clean synthetic tree: util <- target <- sym, cmd <- main, a private header in src/sym/,
# and the words the rules look for only where they are allowed, in comments or in strings.
test_expect_success 'setup: a small clean tree' '
	mkdir -p clean/docs clean/include clean/src/util clean/src/target clean/src/sym clean/src/cmd &&
	cat >clean/docs/design.md <<-\EOF &&
	# design

	## Modules

	### Allowed dependencies

	    cmd ──> target
	| module | may include |
	|---|---|
	| `main` | `cmd`, `target`, `util` |
	| `cmd` | `target`, `util` |
	| `sym` | `target`, `util` |
	| `target` | `util` |
	| `util` | |

	| header | module |
	|:---|---:|
	| `cmd.h` | `cmd` |
	| `sym.h` | `sym` |
	| `target.h` | `target` |
	| `util.h` | `util` |

	## Next

	| module | may include |
	|---|---|
	| `util` | `cmd` |
	EOF
	echo "int util(void);" >clean/include/util.h &&
	printf "#include <stdio.h>\n#include \"util.h\"\n" >clean/include/target.h &&
	echo "#include \"target.h\"" >clean/include/sym.h &&
	echo "struct cmd;" >clean/include/cmd.h &&
	printf "#include \"util.h\"\nint util(void) { return 0; }\n" >clean/src/util/util.c &&
	cat >clean/src/target/ptrace.c <<-\EOF &&
	#include <sys/ptrace.h>
	#include "target.h"
	long pt_cont(int tid) { return ptrace(PTRACE_CONT, tid, 0, 0); }
	EOF
	cat >clean/src/target/mem.c <<-\EOF &&
	#include "target.h"
	#include "util.h"
	long rd(struct target *t) { return t->core ? 0 : process_vm_readv(t->pid, 0, 0, 0, 0, 0); }
	const char *path = "/proc/%d/mem";
	EOF
	echo "#include \"sym.h\"" >clean/src/sym/sym_internal.h &&
	printf "#include \"sym_internal.h\"\n#include \"target.h\"\n" >clean/src/sym/sym.c &&
	cat >clean/src/cmd/cmd.c <<-\EOF &&
	/* Not ptrace(2), nor process_vm_readv, nor
	 * "/proc/%d/mem", nor t->core: comments do not count. */
	#include "cmd.h" // and not ptrace() here
	#include "target.h"
	#include "util.h"
	const char *msg = "no ptrace( or ->core in a string", c = '"'"'"'"'"', *d = "/proc/%d/meminfo";
	int pt_ptrace(void); int x = pt_ptrace() + coredump->core_size;
	EOF
	printf "#include \"cmd.h\"\n#include \"target.h\"\nint main(void) { return 0; }\n" >clean/src/main.c &&
	layers clean >out &&
	test_must_be_empty out
'

# check_tree DIR: layers.sh must exit 1 on DIR, printing exactly the file "expect".
check_tree () {
	test_expect_code 1 layers "$1" >actual &&
	test_cmp expect actual
}

test_expect_success 'an include the table does not allow' '
	cp -R clean up &&
	printf "/* target must not reach up */\n#include \"cmd.h\"\n" >up/src/target/up.c &&
	echo "#include \"sym.h\"" >>up/include/target.h &&
	cat >expect <<-\EOF &&
	include/target.h:3: target may not include sym.h (module sym)
	src/target/up.c:2: target may not include cmd.h (module cmd)
	EOF
	check_tree up
'

test_expect_success 'ptrace( outside src/target/ptrace.c' '
	cp -R clean pt &&
	printf "#include \"cmd.h\"\n\nlong peek(int pid) { return ptrace (PTRACE_PEEKDATA, pid, 0, 0); }\n" >pt/src/cmd/peek.c &&
	echo "long stop(int t) { return ptrace(PTRACE_INTERRUPT, t, 0, 0); }" >pt/src/target/stop.c &&
	cat >expect <<-\EOF &&
	src/cmd/peek.c:3: calls ptrace() outside src/target/ptrace.c
	src/target/stop.c:1: calls ptrace() outside src/target/ptrace.c
	EOF
	check_tree pt
'

test_expect_success 'process_vm_readv and process_vm_writev outside src/target/' '
	cp -R clean pvm &&
	printf "#include \"sym.h\"\nlong r(int p) { return process_vm_readv(p, 0, 0, 0, 0, 0); }\n" >pvm/src/sym/read.c &&
	printf "\n\nlong w(int p) { return process_vm_writev(p, 0, 0, 0, 0, 0); }\n" >pvm/src/cmd/write.c &&
	cat >expect <<-\EOF &&
	src/cmd/write.c:3: process_vm_writev outside src/target/
	src/sym/read.c:2: process_vm_readv outside src/target/
	EOF
	check_tree pvm
'

test_expect_success 'a "/proc/%d/mem" path outside src/target/' '
	cp -R clean mem &&
	cat >mem/src/cmd/mem.c <<-\EOF &&
	#include <stdio.h>
	void p(char *b, int pid) { snprintf(b, 64, "/proc/%d/mem", pid); }
	void q(char *b, int pid) { snprintf(b, 64, "/proc/%d/task/%d" "/mem", pid, pid); }
	EOF
	cat >expect <<-\EOF &&
	src/cmd/mem.c:2: "/proc/%d/mem" outside src/target/
	src/cmd/mem.c:3: "/proc/%d/task/%d/mem" outside src/target/
	EOF
	check_tree mem
'

test_expect_success '->core outside src/target/' '
	cp -R clean core &&
	printf "#include \"sym_internal.h\"\n\nint is_core(struct target *t) { return t->core != 0; }\n" >core/src/sym/core.c &&
	echo "int f(struct target *t) { return !!t -> core; }" >core/src/main.c &&
	cat >expect <<-\EOF &&
	src/main.c:1: ->core outside src/target/
	src/sym/core.c:3: ->core outside src/target/
	EOF
	check_tree core
'

test_expect_success 'a private header included from another directory' '
	cp -R clean priv &&
	cat >priv/src/cmd/uses-sym.c <<-\EOF &&
	#include "cmd.h"
	#include "sym_internal.h"
	#include "../sym/sym_internal.h"
	#include "sym/sym_internal.h"
	#include "nowhere.h"
	EOF
	cat >expect <<-\EOF &&
	src/cmd/uses-sym.c:2: includes "sym_internal.h", private to src/sym/
	src/cmd/uses-sym.c:3: includes "../sym/sym_internal.h" by a path: headers are named bare, from include/ or the file'"'"'s own directory
	src/cmd/uses-sym.c:4: includes "sym/sym_internal.h" by a path: headers are named bare, from include/ or the file'"'"'s own directory
	src/cmd/uses-sym.c:5: includes "nowhere.h", in neither include/ nor src/cmd/
	EOF
	check_tree priv
'

test_expect_success 'a module or header the table forgets, and a table naming what is not there' '
	cp -R clean table &&
	mkdir table/src/new &&
	echo "#include \"util.h\"" >table/src/new/new.c &&
	echo "struct x;" >table/include/extra.h &&
	sed -e "s/^| .util. | |\$/| \`util\` | \`gone\` |/" \
	    -e "s/^| .util.h. | .util. |\$/&\n| \`old.h\` | \`util\` |/" clean/docs/design.md >table/docs/design.md &&
	cat >expect <<-\EOF &&
	docs/design.md:5: no row for include/extra.h in the header table
	docs/design.md:5: no row for module new (src/new/new.c)
	docs/design.md:14: module util may include gone, which has no row
	docs/design.md:22: the header table names include/old.h, which does not exist
	EOF
	check_tree table
'

test_expect_success 'no tables, no verdict: exit 2' '
	cp -R clean none &&
	sed "s/Allowed dependencies/Dependencies/" clean/docs/design.md >none/docs/design.md &&
	test_expect_code 2 layers none 2>err &&
	grep "has no .### Allowed dependencies. section" err &&
	test_expect_code 2 layers no-such-dir 2>err &&
	grep "cannot enter" err
'

test_done
