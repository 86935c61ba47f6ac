#!/bin/bash
# Results people keep and share: the flame graph (export svg), the timeline (mark, snapshot,
# timeline, export massif and svg-timeline) and the reference graph (export dot). fx-viz allocates
# from C++ templates and operator<< (names full of XML's specials) in steps and prints glibc's own
# mallinfo2() after each: the heap figures mlyze records must equal it. Each file is read by a real
# consumer: python's XML parser for the SVGs, valgrind's ms_print for massif, graphviz's dot.

test_description='export svg, massif, svg-timeline and dot; mark and timeline against mallinfo2'
. "$(dirname "$0")/lib/test-lib.sh"

test_lazy_prereq PYTHON3 'python3 -c "import xml.etree.ElementTree"'
test_lazy_prereq MS_PRINT 'command -v ms_print'
test_lazy_prereq DOT 'command -v dot'
test_lazy_prereq CHROMIUM 'command -v chromium'
test_lazy_prereq NODE 'command -v node'

step () {
	kill -USR1 $apid && wait_for_line "$TRASH/fx-viz.out" "^step$1 " 5
}

# mallinfo FIELD STEP: what the fixture's mallinfo2() said after step STEP.
mallinfo () {
	sed -n "s/^step$2 .*$1=\([0-9]*\).*/\1/p" "$TRASH/fx-viz.out"
}

test_expect_success JQ 'setup: fx-viz traced through steps 1-3, a snapshot, a mark, two more snapshots, every export' '
	fixture_start fx-viz "$TRASH/truth.json" && apid=$FIXTURE_PID &&
	{ "$MLYZE" attach $apid --json -e "snapshot a" -e "sleep 1.2" -e "mark m1" -e "sleep 1.2" \
		-e "snapshot b" -e "sleep 1.2" -e "snapshot c" \
		-e "export svg now.svg" -e "top --by function --top 0" -e "export svg bc.svg b c" \
		-e "compare b c --by function --top 0" -e "timeline" -e "timeline --width 60 --height 10" \
		-e "timeline --json" -e "snapshots" -e "peak" -e "export massif massif.out" \
		-e "export svg-timeline timeline.svg" >out 2>err & } && mpid=$! &&
	sleep 0.5 && step 1 && sleep 1.2 && step 2 && sleep 1.2 && step 3 &&
	wait $mpid && kill -USR1 $apid && { wait $apid; code=$?; } && test "$code" = 0 &&
	test_must_be_empty err &&
	test "$(jq -s "map(select(.ok)) | length" out)" = 18
'

test_expect_success PYTHON3 'export svg: well-formed XML, self-contained, one titled frame per box' '
	python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1]); E.parse(sys.argv[2])" now.svg bc.svg &&
	! grep -E "src=|href=|@import|url\(" now.svg && test "$(grep -c "<script" now.svg)" = 1 &&
	result "export svg now.svg" | jq -e ".format == \"svg\" and .records > 5 and .snapshot == \"now\""
'

# svgframes FILE: one line per frame, "width<TAB>bytes<TAB>function<TAB>location<TAB>depth<TAB>x",
# from the rects and the <title>s the way a browser reads them (entities decoded).
cat >svgframes.py <<\PY
import sys, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
for g in E.parse(sys.argv[1]).getroot().iter(ns + "g"):
	if g.get("class") != "f":
		continue
	fn, loc, fig = g.find(ns + "title").text.split("\n")
	r = g.find(ns + "rect")
	print("\t".join([r.get("width"), fig.split(" ")[0], fn, loc, r.get("y"), r.get("x")]))
PY

test_expect_success PYTHON3,JQ 'export svg: each width is its bytes over the total, the leaves add up to top --by function' '
	python3 svgframes.py now.svg >frames &&
	total=$(result "top --by function --top 0" | jq .bytes) &&
	test "$(head -n 1 frames | cut -f 2)" = "$total" &&
	awk -F"\t" -v t=$total "{ w = \$2 / t * 1180; d = \$1 - w; if (d < 0) d = -d; if (d > 0.0006) { print \"bad width:\", \$0; bad = 1 } }
		END { exit bad }" frames &&
	python3 - now.svg >self <<-\PY &&
	import sys, collections, xml.etree.ElementTree as E
	ns = "{http://www.w3.org/2000/svg}"
	rows = []
	for g in E.parse(sys.argv[1]).getroot().iter(ns + "g"):
	    if g.get("class") == "f":
	        fn, loc, fig = g.find(ns + "title").text.split("\n")
	        r = g.find(ns + "rect")
	        rows.append((float(r.get("x")), float(r.get("y")), float(r.get("width")), int(fig.split(" ")[0]), fn))
	# a frame'"'"'s own bytes: its bytes less those of the frames right under it
	self = collections.Counter()
	for x, y, w, b, fn in rows[1:]:
	    under = sum(b2 for x2, y2, w2, b2, f2 in rows if y2 == y + 16 and x - 0.01 <= x2 < x + w - 0.01)
	    if b - under:
	        self[fn] += b - under
	for fn, b in sorted(self.items()):
	    print("%s\t%d" % (fn, b))
	PY
	result "top --by function --top 0" | jq -r ".groups[] | [.function, .bytes] | @tsv" |
		awk -F"\t" "{ s[\$1] += \$2 } END { for (f in s) print f \"\t\" s[f] }" | sort >expect &&
	sort self >actual && test_cmp expect actual &&
	grep -x "void\* grow<Pair<int, long> >(unsigned long)	320" actual &&
	grep -x "Sink::operator<<(unsigned long)	300" actual
'

# The click-to-zoom script, run by node against a stand-in for the few DOM calls it makes, over
# the frames python read from the file: a click on a frame makes it 1180 px wide at x 10, its
# callees scale with it, a frame beside it is hidden, and a click on "all" puts every frame back.
test_expect_success PYTHON3,NODE 'export svg: the inline script zooms to a clicked frame and back' '
	python3 - now.svg >dom.json <<-\PY &&
	import sys, json, xml.etree.ElementTree as E
	ns = "{http://www.w3.org/2000/svg}"
	root = E.parse(sys.argv[1]).getroot()
	frames = [{"title": g.find(ns + "title").text, "rect": dict(g.find(ns + "rect").attrib), "text": g.find(ns + "text").text or ""}
	          for g in root.iter(ns + "g") if g.get("class") == "f"]
	print(json.dumps({"frames": frames, "script": root.find(ns + "script").text}))
	PY
	cat >zoom.js <<-\JS &&
	const d = JSON.parse(require("fs").readFileSync("dom.json"));
	function el(attrs, text) {
		return { a: Object.assign({}, attrs), textContent: text, style: {},
			getAttribute(k) { return this.a[k]; }, setAttribute(k, v) { this.a[k] = String(v); } };
	}
	const gs = d.frames.map(f => {
		const g = { style: {}, parts: { rect: el(f.rect), text: el({}, f.text), title: el({}, f.title) } };
		g.querySelector = sel => g.parts[sel];
		g.addEventListener = (ev, fn) => { g.click = fn; };
		return g;
	});
	global.document = { querySelectorAll: () => gs };
	eval(d.script);
	const name = g => g.parts.title.textContent.split("\n")[0];
	const z = gs.find(g => name(g) === "Sink::operator<<(unsigned long)");
	const beside = gs.find(g => name(g).startsWith("void* grow<Pair<int, long>"));
	const w0 = beside.parts.rect.a.width, x0 = beside.parts.rect.a.x;
	z.click();
	const out = [z.parts.rect.a.x, z.parts.rect.a.width, z.style.display, beside.style.display,
		gs[0].parts.rect.a.width, z.parts.text.textContent];
	gs[0].click();
	out.push(beside.style.display, beside.parts.rect.a.width === w0 && beside.parts.rect.a.x === x0);
	console.log(out.join("|"));
	JS
	node zoom.js >zoomed &&
	echo "10.000|1180.000||none|1180.000|Sink::operator<<(unsigned long)||true" >expect &&
	test_cmp expect zoomed
'

test_expect_success PYTHON3 'export svg: the names keep <, > and & through escaping; file:line on hover' '
	grep -F "<title>void* grow&lt;Pair&lt;int, long&gt; &gt;(unsigned long)" now.svg &&
	grep -F "<title>Sink::operator&lt;&lt;(unsigned long)" now.svg &&
	! grep -F "grow<Pair" now.svg &&
	line=$(grep -n "keep\[nkeep++\] = malloc(n);" "$FIXTURES/fx-viz.cc" | head -n 1 | cut -d: -f1) &&
	grep -F "$FIXTURES/fx-viz.cc:$line" frames | grep -F "grow<Pair<int, long> >"
'

test_expect_success PYTHON3,JQ 'export svg b c: widths are the change, growth red, shrinkage blue, figures as compare' '
	python3 svgframes.py bc.svg >bcframes &&
	test "$(head -n 1 bcframes | cut -f 2)" = "$(result "compare b c --by function --top 0" | jq .bytes_diff)" &&
	grep -A2 -F "<title>void* grow&lt;Pair&lt;char, char&gt; &gt;(unsigned long)" bc.svg | grep -e "^-1048576 bytes (-1 MiB), from 1048576 to 0 bytes" &&
	grep -A2 -F "<title>void* grow&lt;Pair&lt;char, char&gt; &gt;(unsigned long)" bc.svg | grep -o "fill=\"rgb([0-9,]*)\"" >fill &&
	grep -x "fill=\"rgb(50,50,255)\"" fill
'

test_expect_success JQ 'timeline --json: the snapshots and the mark in order, each with its own totals' '
	result "timeline --json" >tl &&
	jq -e "[.points[] | [.name, .kind]] == [[\"a\",\"snapshot\"],[\"m1\",\"mark\"],[\"b\",\"snapshot\"],[\"c\",\"snapshot\"]]" tl &&
	result snapshots | jq -c "[.snapshots[] | [.name, .blocks, .bytes, .heap_in_use, .heap_free, .mmapped, .rss]]" >expect &&
	jq -c "[.points[] | select(.kind == \"snapshot\") | [.name, .blocks, .bytes, .heap_in_use, .heap_free, .mmapped, .rss]]" tl >actual &&
	test_cmp expect actual &&
	jq -e "[.points[].seconds] | . == sort" tl &&
	jq -e ".points | all(.heap_walked and .rss > 1000000 and .note == null)" tl
'

test_expect_success JQ 'the heap at each moment is what the fixture'"'"'s own mallinfo2() said then' '
	for s in 1 2 3; do
		echo "$(( $(mallinfo uordblks $s) + $(mallinfo hblkhd $s) )) $(mallinfo fordblks $s) $(mallinfo hblkhd $s)" || return 1
	done >expect &&
	jq -r ".points[1:][] | \"\(.heap_in_use) \(.heap_free) \(.mmapped)\"" tl >actual &&
	test_cmp expect actual &&
	test "$(mallinfo hblkhd 2)" -ge 1048576 &&
	jq -e ".points[2].traced_bytes - .points[1].traced_bytes == 1048576" tl &&
	result "mark m1" | jq -e ".phase == \"m1\" and .heap_in_use == $(jq .points[1].heap_in_use tl)"
'

test_expect_success MS_PRINT,JQ 'export massif: ms_print reads it; every snapshot, the mark and the peak with mlyze'"'"'s figures' '
	result "export massif massif.out" | jq -e ".records == 5 and .peak == $(result peak | jq .bytes)" &&
	ms_print massif.out >ms.out &&
	grep -x " Detailed snapshots: \[0, 2 (peak), 3, 4\]" ms.out &&
	peak=$(result peak | jq .bytes) &&
	awk "/^ *[0-9]+ +[0-9,]+ +[0-9,]+ +[0-9,]+ +0 +0\$/ { gsub(\",\", \"\"); print \$1, \$3 }" ms.out >totals &&
	jq -r ".points[] | .traced_bytes" tl >expect.traced &&
	grep -x "[0-9]* $peak" totals &&
	grep "(peak)" ms.out && n=$(sed -n "s/.*Detailed snapshots: \[.*\([0-9]\) (peak).*/\1/p" ms.out) &&
	grep -x "$n $peak" totals &&
	grep -v "^$n " totals | cut -d" " -f2 >actual.traced && test_cmp expect.traced actual.traced &&
	grep -E "^->99\.[0-9]+% \(1,048,576B\) 0x[0-9a-f]+: void\* grow<Pair<char, char> >\(unsigned long\) \($FIXTURES/fx-viz.cc:[0-9]+\)\$" ms.out
'

test_expect_success PYTHON3 'export svg-timeline: well-formed XML, a titled point per moment and series' '
	python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" timeline.svg &&
	test "$(grep -c "<circle" timeline.svg)" = 12 &&
	grep -A1 -F "<title>m1 (mark) at " timeline.svg | grep "^heap in use (glibc): $(jq .points[1].heap_in_use tl) bytes" &&
	! grep -E "<script|href=" timeline.svg
'

test_expect_success JQ 'timeline text: rows and columns as asked, each bar as high as its heap, the moments labelled' '
	fixture_start fx-viz "$TRASH/truth2.json" && apid=$FIXTURE_PID &&
	: >"$TRASH/fx-viz.out" &&
	{ "$MLYZE" attach $apid -e "snapshot a" -e "sleep 1.2" -e "snapshot b" -e "sleep 1.2" -e "mark m" \
		-e "timeline --width 60 --height 10" -e "timeline --width 60 --height 10 --json" >text 2>err & } &&
	mpid=$! && sleep 0.5 && step 1 && sleep 1.2 && step 2 &&
	wait $mpid && step 3 && kill -USR1 $apid && { wait $apid; true; } && test_must_be_empty err &&
	grep "^{" text | jq -c .result >tl2 &&
	sed -n "/\^/,/^ *0+/p" text >chart && cat chart &&
	test "$(grep -c "" chart)" = 11 &&
	python3 - chart tl2 <<-\PY
	import sys, json
	rows = open(sys.argv[1]).read().split("\n")[:-1]
	tl = json.loads(open(sys.argv[2]).read())
	pts = tl["points"]
	m = rows[0].index("^")
	assert all(len(r) == m + 1 + 60 for r in rows[:10]), "row width"
	assert rows[10] == " " * (m - 1) + "0+" + "-" * 60 + "> s", rows[10]
	tmax = pts[-1]["seconds"]; vmax = max(p["heap_in_use"] for p in pts)
	for p in pts:
	    col = round(p["seconds"] / tmax * 59)
	    cells = round(p["heap_in_use"] / vmax * 10)
	    bar = "".join(r[m + 1 + col] for r in rows[:10])
	    assert bar == " " * (10 - cells) + "#" * cells, (p["name"], bar, cells)
	PY
'

test_expect_success MS_PRINT,JQ 'after the process ended: a mark says the heap is missing; ms_print reads 300 moments' '
	args=() && for i in $(seq 150); do args+=(-e snapshot -e "mark m$i"); done &&
	"$MLYZE" run --json -e wait "${args[@]}" -e detach -e "mark late" -e "export massif many.out" -- "$FIXTURES/fx-inline-alloc" "$TRASH/inl.json" >many.all 2>many.err &&
	grep "^{" many.all >many &&
	result "mark m150" many | jq -e ".heap_walked and .bytes == 4696" &&
	result "mark late" many | jq -e ".heap_walked == false and .heap_in_use == null and .bytes == 4696 and
		.rss == null and .note == \"the process has ended: only traced blocks are known\"" &&
	result "export massif many.out" many | jq -e ".records == 303" &&
	ms_print many.out >many.ms && grep -x "Number of snapshots: 303" many.ms &&
	test "$(grep -cE "^ *[0-9]+ +[0-9,]+ +4,696 +4,696 +0 +0\$" many.ms)" = 303
'

test_expect_success 'bad arguments: clear errors, no file' '
	fixture_start fx-viz "$TRASH/truth3.json" && apid=$FIXTURE_PID &&
	test_expect_code 1 "$MLYZE" attach $apid -e "export massif x.out a" -e "export dot x.dot" \
		-e "export svg x.svg --depth 2" -e "export svg-timeline x.svg a b" -e "export dot x.dot nonsense" \
		-e "export dot x.dot 0x10" -e "timeline --width 3" >out 2>err &&
	step 1 && step 2 && step 3 && kill -USR1 $apid && { wait $apid; true; } &&
	cat >expect <<-\EOF &&
	error: export: massif takes no snapshot: it writes them all
	error: export: dot takes one address, of the block whose referrers it draws
	error: export: --depth and --limit are for dot
	error: export: svg-timeline takes no snapshot: it writes them all
	error: export: '"'"'nonsense'"'"' is not an address
	error: 0x10 is in no live block
	EOF
	head -n 6 err >actual && test_cmp expect actual &&
	grep "^error: .*--width" err &&
	! test -e x.out && ! test -e x.dot && ! test -e x.svg
'

test_expect_success DOT,JQ 'export dot: the referrers backrefs --dot draws, as a file dot reads' '
	fixture_start fx-graph "$TRASH/g.json" && gpid=$FIXTURE_PID &&
	list=$(jq -r .list "$TRASH/g.json") &&
	"$MLYZE" attach $gpid --json -e "export dot g.dot $list --depth 3" -e "backrefs $list --depth 3 --dot b.dot" \
		-e "export dot g.dot $list --force" >out 2>err &&
	kill -USR1 $gpid && { wait $gpid; true; } &&
	test_must_be_empty err &&
	result "export dot g.dot $list --depth 3" | jq -e ".format == \"dot\" and .records >= 1" &&
	dot -Tsvg b.dot >b.svg && dot -Tsvg g.dot >g.svg && test -s g.svg &&
	grep -E "^  r[0-9]+ -> b[0-9]+;" g.dot && test "$(stat -c %a g.dot)" = 644
'

test_expect_success CHROMIUM 'the flame graph renders in a headless browser' '
	HOME=$TRASH chromium --headless --no-sandbox --disable-gpu --screenshot="$TRASH/shot.png" \
		--window-size=1200,400 "file://$TRASH/now.svg" >chromium.out 2>&1 &&
	test -s shot.png && test "$(head -c 8 shot.png | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a
'

test_done
