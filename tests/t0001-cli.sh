#!/bin/bash
# The command line itself: --help, --version, and the README, --help, `help` and the man page agreeing.

test_description='help, version, docs agreement, install'
. "$(dirname "$0")/lib/test-lib.sh"

# man_text: docs/mlyze.1 with roff escapes removed, as a reader sees the words
man_text () {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/--/g' -e 's/\\&//g' "$SRC_ROOT/docs/mlyze.1"
}

test_expect_success '--help and -h print usage and exit 0; --version prints the version' '
	"$MLYZE" --help >out && grep "^usage: mlyze \[OPTIONS\] attach PID\$" out &&
	"$MLYZE" -h >out2 && test_cmp out out2 &&
	"$MLYZE" --version >out && grep -E "^mlyze [0-9]+\.[0-9]+\.[0-9]+\$" out
'

test_expect_success 'the command table as JSON, from a target that is gone' '
	"$MLYZE" run -e "sleep 0.2" -e "help --json" -- true >out &&
	jq -r ".result.commands[].usage" out >usages &&
	test "$(wc -l <usages)" -ge 8 &&
	grep -x "bt \[TID|all\] \[--depth N\]" usages
'

test_expect_success '--help lists every command of the table with its usage' '
	"$MLYZE" --help >help &&
	while read -r u; do grep -qF "  $u" help || { echo "missing in --help: $u"; return 1; }; done <usages
'

test_expect_success 'the man page names every command usage, option, exit status and variable of --help' '
	man_text >man.txt &&
	while read -r u; do grep -qF "$u" man.txt || { echo "missing in mlyze.1: $u"; return 1; }; done <usages &&
	sed -n "s/^  \(-[-a-zA-Z, ]*[a-zA-Z]\)\( [A-Z]*\)\?  .*/\1\2/p" help >options &&
	test "$(wc -l <options)" -ge 5 &&
	while read -r o; do grep -qF -- "$o" man.txt || { echo "missing in mlyze.1: $o"; return 1; }; done <options &&
	sed -n "/^\.SH \"\?EXIT STATUS/,/^\.SH/p" man.txt >exit.txt &&
	for code in 0 1 2 64 141 128+N; do grep -qw -- "$code" exit.txt || { echo "exit status $code undocumented"; return 1; }; done &&
	grep -o "^  MLYZE_[A-Z_]*" help | sed "s/^  //" >envs && test -s envs &&
	while read -r v; do
		grep -qF "$v" man.txt || { echo "missing in mlyze.1: $v"; return 1; }
		grep -qF "$v" "$SRC_ROOT/README.md" || { echo "missing in README.md: $v"; return 1; }
	done <envs
'

test_expect_success 'every command is documented with help CMD, and in the README' '
	"$MLYZE" run -e "sleep 0.2" --json -e "help" -- true >out &&
	jq -r ".result.commands[] | select(.help | length < 40) | .name" out >short &&
	test_must_be_empty short &&
	jq -r ".result.commands[].name" out >names &&
	while read -r n; do grep -q "\`$n" "$SRC_ROOT/README.md" || { echo "missing in README: $n"; return 1; }; done <names
'

test_expect_success 'the command lists of mlyze.1 and README.md are generated from the table (make docs)' '
	mkdir -p gen/docs && cp "$SRC_ROOT/docs/mlyze.1" "$SRC_ROOT/docs/mlyze.bash" gen/docs/ &&
	cp "$SRC_ROOT/README.md" gen/ &&
	bash "$SRC_ROOT/docs/gen-docs.sh" "$MLYZE" "$TRASH/gen" &&
	test_cmp "$SRC_ROOT/docs/mlyze.1" gen/docs/mlyze.1 &&
	test_cmp "$SRC_ROOT/README.md" gen/README.md &&
	test_cmp "$SRC_ROOT/docs/mlyze.bash" gen/docs/mlyze.bash
'

# complete WORDS...: what bash completion offers for the last word of "mlyze WORDS...", one per line
complete_words () {
	bash -c ". \"$SRC_ROOT/docs/mlyze.bash\"; COMP_WORDS=(mlyze \"\$@\"); COMP_CWORD=\$#;
		_mlyze; printf \"%s\n\" \"\${COMPREPLY[@]}\" | sort" _ "$@"
}

test_expect_success 'bash completion: options, modes, commands after -e and help, every option of --help' '
	complete_words att >actual && echo attach >expect && test_cmp expect actual &&
	complete_words -e snap >actual && printf "snapshot\nsnapshots\n" >expect && test_cmp expect actual &&
	complete_words help thr >actual && echo threads >expect && test_cmp expect actual &&
	complete_words --agent --bre >actual && echo --breakpoints >expect && test_cmp expect actual &&
	complete_words attach $$ >actual && grep -qx "$$" actual &&
	complete_words -p $$ >actual && grep -qx "$$" actual &&
	complete_words -p 1 --sto >actual && echo --stop-on-error >expect && test_cmp expect actual &&
	"$MLYZE" --help | sed -n "s/^  \(-[-a-zA-Z]*\).*/\1/p" | tr -d , >options && test -s options &&
	while read -r o; do grep -qw -- "$o" "$SRC_ROOT/docs/mlyze.bash" || { echo "missing in mlyze.bash: $o"; return 1; }; done <options
'

test_expect_success 'help --json reports the JSON schema version' '
	"$MLYZE" --json help | jq -e ".result.schema == 2" &&
	"$MLYZE" --json help bt | jq -e ".result.schema == 2"
'

test_expect_success 'help works without a process' '
	"$MLYZE" help bt >out && grep -x "usage: bt \[TID|all\] \[--depth N\]" out &&
	test_expect_code 64 "$MLYZE" help nosuch 2>err
'

test_expect_success 'help for an unknown command suggests the nearest' '
	"$MLYZE" run -e "sleep 0.2" -e "help thraeds" -- true >out 2>err &&
	grep -x "error: unknown command '"'"'thraeds'"'"'; did you mean '"'"'threads'"'"'?" err
'

test_expect_success 'make install puts the binary, the man page and the completion under PREFIX; uninstall removes them' '
	make -s -C "$SRC_ROOT" install PREFIX="$TRASH/inst" >/dev/null &&
	test -x inst/bin/mlyze && test -f inst/share/man/man1/mlyze.1 &&
	test -f inst/share/bash-completion/completions/mlyze &&
	inst/bin/mlyze --version &&
	make -s -C "$SRC_ROOT" uninstall PREFIX="$TRASH/inst" >/dev/null &&
	test -z "$(find inst -type f)"
'

test_lazy_prereq GROFF 'command -v groff >/dev/null'
test_expect_success GROFF 'the man page renders without warnings' '
	groff -man -Tutf8 -ww "$SRC_ROOT/docs/mlyze.1" >/dev/null 2>err &&
	test_must_be_empty err
'

test_done
