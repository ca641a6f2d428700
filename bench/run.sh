#!/usr/bin/env bash
# make bench: every benchmark with its baseline measured in the same run, a
# table on stdout, and the same table in docs/benchmarks.md. Machines here are
# shared and noisy, so the targets are ratios against the in-run baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/release
DUR=${BENCH_SECONDS:-8}
tmp=$(mktemp -d /tmp/grassroots-bench-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 |"); printf '%-44s %14s %-12s %s\n' "$1" "$2" "$3" "$4"; }

wait_port() {
	for _ in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	echo "bench: nothing listens on $1" >&2
	return 1
}

wrk_rate() { # url [extra wrk args...] -> requests/s
	local url=$1
	shift
	wrk -t1 -c64 -d"${DUR}s" --latency "$@" "$url" >"$tmp/wrk.out" 2>&1
	# A rate of error answers is no rate at all.
	if grep -q "Non-2xx" "$tmp/wrk.out"; then
		echo "bench: $url answered errors:" >&2
		cat "$tmp/wrk.out" >&2
		echo 0
		return
	fi
	awk '/Requests\/sec:/ {printf "%.0f", $2}' "$tmp/wrk.out"
}

wrk_p99() { awk '$1 == "99%" {print $2}' "$tmp/wrk.out"; }

echo "== HTTP: bare CivetWeb vs GET /api/v1/health (wrk -t1 -c64, ${DUR}s each)"
$B/bench/bench_bare 127.0.0.1:18081 16 >/dev/null &
pids+=($!)
wait_port 18081
bare=$(wrk_rate http://127.0.0.1:18081/api/v1/health)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

$B/grassroots migrate --data "$tmp/health" >/dev/null 2>&1
GR_LOG_LEVEL=info $B/grassroots serve --data "$tmp/health" --listen 127.0.0.1:18080 --threads 16 \
	>/dev/null 2>"$tmp/health.log" &
pids+=($!)
wait_port 18080
ours=$(wrk_rate http://127.0.0.1:18080/api/v1/health)
ours_p99=$(wrk_p99)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
row "bare CivetWeb handler (baseline)" "$bare" "req/s" ""
row "GET /api/v1/health (router, auth hook, access log, metrics)" "$ours" "req/s" "p99 $ours_p99"
row "health / bare" "$(awk -v a="$ours" -v b="$bare" 'BEGIN{printf "%.2f", a/b}')" "ratio" "target >= 0.70"

echo "== Writer: durable single-row writes over HTTP (wrk -t1 -c64, POST)"
$B/bench/bench_writer "$tmp/single.db" single 127.0.0.1:18082 >/dev/null 2>"$tmp/single.log" &
pids+=($!)
wait_port 18082
single=$(wrk_rate http://127.0.0.1:18082/api/bench/write -s bench/post.lua)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
$B/bench/bench_writer "$tmp/group.db" group 127.0.0.1:18083 >/dev/null 2>"$tmp/group.log" &
pids+=($!)
wait_port 18083
group=$(wrk_rate http://127.0.0.1:18083/api/bench/write -s bench/post.lua)
group_p99=$(wrk_p99)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
batches=$(grep -o '[0-9]* writes in [0-9]* commits' "$tmp/group.log" || true)
row "one fsync per write (baseline)" "$single" "writes/s" ""
row "group-commit writer, 64 clients" "$group" "writes/s" "p99 $group_p99; $batches"
row "group / single" "$(awk -v a="$group" -v b="$single" 'BEGIN{printf "%.1f", a/b}')" "ratio" "target >= 15,000 writes/s"

if [ -x $B/bench/bench_geo ]; then
	echo "== Point -> grid over 100,000 polygons, one thread"
	$B/bench/bench_geo >"$tmp/geo.out"
	geo() { awk -v n="$1" -v f="$2" '$1=="BENCH" {split($2,a,"="); if (a[2]==n) {split($3,v,"="); printf f, v[2]}}' "$tmp/geo.out"; }
	row "GEOS STRtree + prepared polygons (baseline)" "$(geo geo.baseline %.0f)" "lookups/s" ""
	row "geo_index_find (bucket index)" "$(geo geo.index %.0f)" "lookups/s" "target >= 1,000,000"
	row "index / baseline" "$(geo geo.ratio %.1f)" "ratio" ""
fi

echo "== Cases: a synthetic city year, then reads, work lists, Open311 and intake (wrk -t1 -c64)"
# One database for every cases run: bench_cases appends BENCH_CASES_LIST cases
# (default 2,000,000) to the demo. The issue asks for the lists over
# 10,000,000; loading that many takes 25 minutes (the per-million load times
# are in the note), so that run is asked for: BENCH_CASES_LIST=10000000.
ncases=${BENCH_CASES_LIST:-2000000}
$B/grassroots demo --data "$tmp/cases" >/dev/null 2>&1
t0=$(date +%s.%N)
$B/bench/bench_cases "$tmp/cases" "$ncases" >"$tmp/cases.info" 2>"$tmp/cases.load"
t1=$(date +%s.%N)
kv() { awk -v k="$1" '$1 == k {print $2}' "$tmp/cases.info"; }
load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", b-a}')
per_m=$(awk '/this million in/ {printf "%s%s", sep, $(NF-1); sep=", "}' "$tmp/cases.load")
# The bulk loader writes no evaluation facts: count them as an operator
# would after a bulk load (docs/eval.md).
t0=$(date +%s.%N)
$B/grassroots eval rebuild --data "$tmp/cases" >"$tmp/eval.out" 2>&1 || cat "$tmp/eval.out" >&2
t1=$(date +%s.%N)
eval_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
GR_LOG_LEVEL=info $B/grassroots serve --data "$tmp/cases" --listen 127.0.0.1:18085 --threads 16 \
	>/dev/null 2>"$tmp/cases.log" &
pids+=($!)
srv=$!
wait_port 18085
api=http://127.0.0.1:18085
ms() { awk -v v="$1" 'BEGIN{x=v+0; if (v ~ /us$/) x/=1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) x*=1000; printf "%.2f", x}'; }
verdict() { # p99 target_ms -> "" or "MISSED: "
	awk -v a="$(ms "$1")" -v t="$2" 'BEGIN{if (a >= t) printf "MISSED: "}'
}
p99_c1() { # url [wrk args...] -> p99 with one connection
	local url=$1
	shift
	wrk -t1 -c1 -d3s --timeout 10s --latency "$@" "$url" >"$tmp/wrk1.out" 2>&1
	awk '$1 == "99%" {p = $2} / requests in / {n = $1} END {print (n > 0 ? p : "n/a")}' "$tmp/wrk1.out"
}
idle() { # until the server has finished what a run left in flight (slow queries)
	local a b
	b=$(awk '{print $14 + $15}' "/proc/$1/stat")
	for _ in $(seq 1 120); do
		sleep 0.5
		a=$b
		b=$(awk '{print $14 + $15}' "/proc/$1/stat")
		[ $((b - a)) -le 5 ] && return 0
	done
}
export BENCH_TOKEN BENCH_IDS BENCH_PATHS BENCH_POINTS
BENCH_TOKEN=$(kv read)
BENCH_IDS="$(kv ids_first) $(kv ids_last)"
BENCH_PATHS=
read_rate=$(wrk_rate "$api/api/v1/cases/1" -s bench/cases_get.lua)
read_p99=$(wrk_p99)
unset BENCH_IDS
list() { # label path -> one row, p99 against 50 ms
	BENCH_PATHS=$2
	local r p c1 who
	idle "$srv"
	r=$(wrk_rate "$api$2" -s bench/cases_get.lua --timeout 10s)
	p=$(wrk_p99)
	idle "$srv"
	c1=$(p99_c1 "$api$2" -s bench/cases_get.lua)
	who=public
	[ -n "$BENCH_TOKEN" ] && who="district scope"
	# The issue sets these targets without a concurrency (unlike reading one
	# case, "at 64 connections"): the verdict is the latency one user sees;
	# 64 connections on these 2 cores (wrk among them) queue behind each other.
	row "$1" "$c1" "p99" "$(verdict "$c1" 50)target p99 < 50 ms, 1 connection; at 64 connections p99 $p, $r req/s; $ncases cases, $who"
}
# 10,000,000 by the trend: the millions loaded, then the rest at the last one's pace.
est10=$(awk '/this million in/ {n++; sum += $(NF-1); last = $(NF-1)}
	END {if (n) printf "%.0f", (sum + (10 - n) * last) / 60}' "$tmp/cases.load")
cases_note="the lists below run over these"
[ "$ncases" -lt 10000000 ] &&
	cases_note="$cases_note, not the issue's 10,000,000 (by this trend >= ${est10:-?} min to load; BENCH_CASES_LIST=10000000 loads them)"
row "bench_cases: load $ncases cases (events, steps, FTS)" "$load_s" "s" \
	"$(awk -v n="$ncases" -v s="$load_s" 'BEGIN{printf "%.0f cases/s", n/s}'); s per million: $per_m; $cases_note"
row "GET /api/v1/cases/{id}, random of $ncases" "$read_p99" "p99" \
	"$(verdict "$read_p99" 5)target p99 < 5 ms; $read_rate req/s"
street=$(kv street)
dept=$(kv department)
list "list: street + state, sort=due" "/api/v1/cases?org_id=$street&state=dispatched&sort=due&limit=50"
list "list: overdue=1 (most overdue first)" "/api/v1/cases?overdue=1&limit=50"
list "list: q=乱停放 (full text)" "/api/v1/cases?q=%E4%B9%B1%E5%81%9C%E6%94%BE&limit=50"
list "list: department + states" "/api/v1/cases?department_id=$dept&states=dispatched,signed,rework&limit=50"
list "list: street, newest first" "/api/v1/cases?org_id=$street&limit=50"
list "list: district, newest first" "/api/v1/cases?limit=50"
BENCH_TOKEN=
list "Open311 GET requests.json (1,000 of 90 days)" "/open311/v2/requests.json"
list "Open311 GET requests.xml (1,000 of 90 days)" "/open311/v2/requests.xml"
# 考评 (docs/eval.md): the leaders' dashboard reads one unit's indicators and
# a level's ranking; the yearly report has every unit of the city.
BENCH_TOKEN=$(kv eval)
BENCH_PATHS="/api/v1/eval/indicators"
idle "$srv"
ev_ind=$(p99_c1 "$api$BENCH_PATHS" -s bench/cases_get.lua)
BENCH_PATHS="/api/v1/eval/rankings?level=street"
ev_rank=$(p99_c1 "$api$BENCH_PATHS" -s bench/cases_get.lua)
year_from=$(TZ=Asia/Shanghai date -d '1 year ago' +%F)
year_to=$(TZ=Asia/Shanghai date +%F)
ev_year=0
for _ in 1 2 3; do
	t=$(curl -s -o "$tmp/eval-report.json" -w '%{time_total}' -H "Authorization: Bearer $BENCH_TOKEN" \
		"$api/api/v1/eval/report?from=$year_from&to=$year_to")
	ev_year=$(awk -v a="$ev_year" -v b="$t" 'BEGIN{print (b > a ? b : a)}')
done
ev_units=$(grep -o '"level":' "$tmp/eval-report.json" | wc -l)
row "grassroots eval rebuild: $ncases cases" "$eval_s" "s" "facts from each case's timeline, then the daily and monthly sums of every unit"
row "GET eval/report: every unit, a year ($year_from to $year_to)" "$(awk -v t="$ev_year" 'BEGIN{printf "%.0f", t*1000}')ms" "worst of 3" \
	"$(awk -v t="$ev_year" 'BEGIN{if (t >= 2) printf "MISSED: "}')target < 2 s; $ev_units units and departments, every indicator, $ncases cases"
row "GET eval/indicators (the district, this month)" "$ev_ind" "p99" "$(verdict "$ev_ind" 100)target p99 < 100 ms (the dashboard), 1 connection"
row "GET eval/rankings?level=street (this month, with last month's)" "$ev_rank" "p99" "$(verdict "$ev_rank" 100)target p99 < 100 ms (the dashboard), 1 connection"
BENCH_TOKEN=$(kv report)
BENCH_POINTS="$tmp/cases/bench-points.txt"
idle "$srv"
intake16=$(wrk_rate "$api/api/v1/cases" -s bench/cases_post.lua)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
# A request thread waits for the group commit of its case, so the threads
# bound a commit's batch: the intake is measured again with a thread for
# each of the 64 connections (docs/benchmarks.md).
GR_LOG_LEVEL=info $B/grassroots serve --data "$tmp/cases" --listen 127.0.0.1:18085 --threads 64 \
	>/dev/null 2>"$tmp/cases64.log" &
pids+=($!)
wait_port 18085
intake=$(wrk_rate "$api/api/v1/cases" -s bench/cases_post.lua)
intake_p99=$(wrk_p99)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
row "POST /api/v1/cases (API token: sensor channel), $ncases before, --threads 64" "$intake" "cases/s" \
	"$(awk -v a="$intake" 'BEGIN{if (a < 5000) printf "MISSED: %d/s vs 5,000; ", a}')target >= 5,000; p99 $intake_p99; routing and duplicate check on; with --threads 16 $intake16/s"
row "intake / group-commit write" "$(awk -v a="$intake" -v b="$group" 'BEGIN{printf "%.2f", a/b}')" \
	"ratio" "a case: row, reporter, 3 events, step, FTS, webhook outbox in one write"
# Each database goes once its rows are written: the cases' 15 GB left in the
# page cache pushed the people's below out of it, and the ID lookups then
# measured the disk (4.41 ms p99 at one connection against 0.3 ms).
rm -rf "$tmp/cases"

echo "== Base data: import people with their houses (grassroots import), lookups by ID number, area counts"
# The import is timed as an operator runs it: `grassroots import` of
# buildings, houses and people from CSV files bench_basedata generates
# (synthetic: valid ID numbers of region 110105, households of 1-5). The
# lookups run over a second database bench_basedata bulk-loads with
# BENCH_PEOPLE people (default 20,000,000, the issue's large city: some 15
# minutes and 15 GB of disk; the per-million load times are in the note).
nimport=${BENCH_IMPORT_PEOPLE:-1000000}
npeople=${BENCH_PEOPLE:-20000000}
bkv() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
$B/grassroots demo --data "$tmp/bd" >/dev/null 2>&1
mkdir -p "$tmp/bd-csv"
$B/bench/bench_basedata csv "$tmp/bd" "$tmp/bd-csv" "$nimport" >"$tmp/bd.info" 2>/dev/null
imp_t0=$(date +%s.%N)
imp_note=
imp_bad=0
for e in buildings houses people; do
	t0=$(date +%s.%N)
	# Exit status 1 means bad rows: counted below, not a failed bench.
	$B/grassroots import --data "$tmp/bd" "$e" "$tmp/bd-csv/$e.csv" --report "$tmp/bd-$e.report" \
		>"$tmp/bd-$e.out" 2>&1 || true
	t1=$(date +%s.%N)
	imp_note="$imp_note$e $(secs "$t0" "$t1") s, "
	imp_bad=$((imp_bad + $(grep -o '[0-9]* bad' "$tmp/bd-$e.out" | awk '{s += $1} END {print s + 0}')))
	grep -q " stored," "$tmp/bd-$e.out" || { echo "bench: import $e failed:" >&2; cat "$tmp/bd-$e.out" >&2; }
done
imp_t1=$(date +%s.%N)
imp_s=$(secs "$imp_t0" "$imp_t1")
imp_people=$(grep -o '[0-9]* stored' "$tmp/bd-people.out" | awk '{print $1 + 0}')
row "grassroots import: $nimport people, $(bkv houses "$tmp/bd.info") houses, $(bkv buildings "$tmp/bd.info") buildings (CSV)" \
	"$imp_s" "s" "$(awk -v s="$imp_s" -v n="$nimport" 'BEGIN{if (s >= 30 * n / 1000000) printf "MISSED: "}')target < 30 s for 1,000,000 people; $(awk -v n="${imp_people:-0}" -v s="$imp_s" 'BEGIN{printf "%.0f", n/s}') people/s overall; ${imp_note}${imp_people:-0} people stored, $imp_bad bad rows"

GR_LOG_LEVEL=info $B/grassroots serve --data "$tmp/bd" --listen 127.0.0.1:18086 --threads 16 \
	>/dev/null 2>"$tmp/bd-serve.log" &
pids+=($!)
srv=$!
wait_port 18086
export BENCH_TOKEN BENCH_PATHS BENCH_ID_FILE
BENCH_TOKEN=$(bkv token "$tmp/bd.info")
area_p99() { # label unit_id judged -> one row, p99 at 1 connection (judged: against 200 ms)
	local p n pop note
	BENCH_PATHS="/api/v1/basedata/area/summary?unit_id=$2"
	# The first request reads the indexes from disk; the target is a warm server's.
	pop=$(curl -s -H "Authorization: Bearer $BENCH_TOKEN" "http://127.0.0.1:18086$BENCH_PATHS" |
		grep -o '"population":{"total":[0-9]*' | grep -o '[0-9]*$' || true)
	idle "$srv"
	wrk -t1 -c1 -d10s --timeout 30s --latency -s bench/cases_get.lua "http://127.0.0.1:18086$BENCH_PATHS" \
		>"$tmp/wrk1.out" 2>&1
	p=$(awk '$1 == "99%" {p = $2} / requests in / {n = $1} END {print (n > 0 ? p : "n/a")}' "$tmp/wrk1.out")
	n=$(awk '/ requests in / {print $1}' "$tmp/wrk1.out")
	note="for comparison (the target is over 1,000,000 people)"
	[ "$3" = judged ] && note="$(verdict "$p" 200)target p99 < 200 ms over 1,000,000 people"
	row "$1 (${pop:-?} people)" "$p" "p99" "$note; $n requests in 10 s, 1 connection; data_steward token"
}
area_p99 "GET area/summary?unit_id= the district" "$(bkv district "$tmp/bd.info")" judged
area_p99 "GET area/summary?unit_id= one street" "$(bkv street "$tmp/bd.info")" info
kill "$srv"; wait "$srv" 2>/dev/null || true
rm -rf "$tmp/bd" "$tmp/bd-csv"

$B/grassroots demo --data "$tmp/bdl" >/dev/null 2>&1
t0=$(date +%s.%N)
$B/bench/bench_basedata load "$tmp/bdl" "$npeople" >"$tmp/bdl.info" 2>"$tmp/bdl.load"
t1=$(date +%s.%N)
load_s=$(secs "$t0" "$t1")
per_m=$(awk '/this million in/ {printf "%s%s", sep, $(NF-1); sep=", "}' "$tmp/bdl.load")
idx_s=$(awk '/indexes of bd_people built in/ {print $(NF-1)}' "$tmp/bdl.load")
tally_s=$(awk '/tallies rebuilt in/ {print $(NF-1)}' "$tmp/bdl.load")
scale_note="the lookups below run over these"
[ "$npeople" -lt 20000000 ] && scale_note="$scale_note, not the issue's 20,000,000 (BENCH_PEOPLE=$npeople)"
row "bench_basedata: bulk-load $npeople people with houses (sealed, blind-indexed)" "$load_s" "s" \
	"$(awk -v n="$npeople" -v s="$load_s" 'BEGIN{printf "%.0f people/s", n/s}'); s per million: $per_m, then the indexes of bd_people built in ${idx_s:-?} s and the area tallies in ${tally_s:-?} s; $(du -sh "$tmp/bdl" | cut -f1) on disk; $scale_note"
GR_LOG_LEVEL=info $B/grassroots serve --data "$tmp/bdl" --listen 127.0.0.1:18087 --threads 16 \
	>/dev/null 2>"$tmp/bdl-serve.log" &
pids+=($!)
srv=$!
wait_port 18087
BENCH_TOKEN=$(bkv token "$tmp/bdl.info")
BENCH_ID_FILE="$tmp/bdl/bench-ids.txt"
# A lookup that finds nobody would be a fast 200 with no items: check one first.
curl -s -H "Authorization: Bearer $BENCH_TOKEN" \
	"http://127.0.0.1:18087/api/v1/basedata/people?id_number=$(head -1 "$BENCH_ID_FILE")" |
	grep -q '"id_number"' || echo "bench: a loaded ID number is not found" >&2
look=$(wrk_rate "http://127.0.0.1:18087/api/v1/basedata/people" -s bench/people_get.lua)
look_p99=$(wrk_p99)
idle "$srv"
look_c1=$(p99_c1 "http://127.0.0.1:18087/api/v1/basedata/people" -s bench/people_get.lua)
# The issue sets the lookup's p99 and no concurrency: judged at one
# connection, as the work lists are; 64 connections (2 cores shared with
# wrk, the requests queueing) are in the note.
row "GET people?id_number= (blind index), $npeople people" "$look_c1" "p99" \
	"$(verdict "$look_c1" 2)target p99 < 2 ms with 20,000,000 people, 1 connection; at 64 connections p99 $look_p99, $look req/s; random of 100,000 loaded ID numbers"
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$srv/status")
anon_kb=$(awk '/RssAnon/ {print $2}' "/proc/$srv/status")
file_kb=$(awk '/RssFile/ {print $2}' "/proc/$srv/status")
pss_kb=$(awk '/^Pss:/ {print $2}' "/proc/$srv/smaps_rollup")
kill "$srv"; wait "$srv" 2>/dev/null || true
# Readers do not map the database (src/db/db_sqlite.c says why): the file
# pages counted here are the few a memory map of SQLite's own still holds.
row "server RSS after the lookups, $npeople people" "$((rss_kb / 1024))" "MB" \
	"$(awk -v r="$rss_kb" 'BEGIN{if (r >= 300 * 1024) printf "MISSED: "}')target < 300 with 20,000,000 people; of it $((anon_kb / 1024)) MB heap and stacks, $((file_kb / 1024)) MB file pages; Pss $((pss_kb / 1024)) MB"

echo "== Memory: server RSS idle with the demo loaded"
t0=$(date +%s.%N)
$B/grassroots demo --data "$tmp/demo" >/dev/null 2>&1
t1=$(date +%s.%N)
$B/grassroots serve --data "$tmp/demo" --listen 127.0.0.1:18084 >/dev/null 2>&1 &
pids+=($!)
wait_port 18084
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18084/api/v1/health; done
sleep 1
rss=$(awk '/VmRSS/ {print $2}' /proc/${pids[-1]}/status)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
row "grassroots demo (load the district)" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')" "s" ""
row "server RSS idle, demo loaded" "$((rss / 1024))" "MB" "target < 50"

echo "== Web: the resident H5's first load and slow 3G (chromium, tests/browser/size.test.mjs)"
# make bench depends on make build, which builds web/dist. The browser test
# measures what the home page fetches and the time until it is usable with
# Chrome's Slow 3G profile (400 ms, 400 kbit/s); recorded, not asserted.
$B/grassroots serve --data "$tmp/demo" --listen 127.0.0.1:18088 --web web/dist >/dev/null 2>&1 &
pids+=($!)
wait_port 18088
GR_BASE=http://127.0.0.1:18088 node --test tests/browser/size.test.mjs >"$tmp/web.out" 2>&1 || true
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
web_kb=$(sed -n 's/.*resident first load: \([0-9]*\) files, \([0-9.]*\) KB gzipped.*/\2/p' "$tmp/web.out" | head -1)
web_files=$(sed -n 's/.*resident first load: \([0-9]*\) files.*/\1/p' "$tmp/web.out" | head -1)
web_3g=$(sed -n 's/.*usable on slow 3G after \([0-9.]*\) s.*/\1/p' "$tmp/web.out" | head -1)
web_3g_report=$(sed -n 's/.*report page usable on slow 3G after a further \([0-9.]*\) s.*/\1/p' "$tmp/web.out" | head -1)
[ -n "$web_kb" ] || { echo "bench: the web size test printed nothing:" >&2; cat "$tmp/web.out" >&2; }
row "resident H5 first load (JS + CSS, gzipped)" "${web_kb:-n/a}" "KB" \
	"$(awk -v k="${web_kb:-0}" 'BEGIN{if (k > 300 || k == 0) printf "MISSED: "}')target <= 300 KB; ${web_files:-?} files, gzip level 9 of what the home page fetched"
row "resident H5 usable on slow 3G (home page)" "${web_3g:-n/a}" "s" \
	"$(awk -v t="${web_3g:-99}" 'BEGIN{if (t >= 5) printf "MISSED: "}')target < 5 s (recorded, not asserted); the report page a further ${web_3g_report:-?} s"

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (bench/run.sh). Each target is a ratio against a baseline"
	echo "measured in the same run, or an absolute number where the issue sets one."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
	echo "- wrk: -t1 -c64 (HTTP), -t1 -c64 with a POST script (writer), ${DUR}s per run; wrk runs on the same 2 cores"
	echo "- data: BENCH_CASES_LIST=$ncases, BENCH_IMPORT_PEOPLE=$nimport, BENCH_PEOPLE=$npeople (some $((ncases / 650000)) GB of cases, then $((npeople / 1400000)) GB of people; each database is deleted once its rows are written, so the next has the page cache to itself)"
	echo
	echo "| what | value | unit | note |"
	echo "| --- | ---: | --- | --- |"
	printf '%s\n' "${rows[@]}"
} >docs/benchmarks.md
echo "bench: wrote docs/benchmarks.md"
