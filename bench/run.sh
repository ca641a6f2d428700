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
# 10,000,000; loading that many takes longer than a make bench should (the
# per-million load times are in the note), so the default is smaller.
ncases=${BENCH_CASES_LIST:-2000000}
$B/grassroots demo --data "$tmp/cases" >/dev/null 2>&1
t0=$(date +%s.%N)
$B/bench/bench_cases "$tmp/cases" "$ncases" >"$tmp/cases.info" 2>"$tmp/cases.load"
t1=$(date +%s.%N)
kv() { awk -v k="$1" '$1 == k {print $2}' "$tmp/cases.info"; }
load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", b-a}')
per_m=$(awk '/this million in/ {printf "%s%s", sep, $(NF-1); sep=", "}' "$tmp/cases.load")
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
row "bench_cases: load $ncases cases (events, steps, FTS, R*Tree)" "$load_s" "s" \
	"$(awk -v n="$ncases" -v s="$load_s" 'BEGIN{printf "%.0f cases/s", n/s}'); s per million: $per_m; the lists below run over these, not the issue's 10,000,000 (by this trend >= ${est10:-?} min to load, estimate, not run)"
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
BENCH_TOKEN=$(kv report)
BENCH_POINTS="$tmp/cases/bench-points.txt"
idle "$srv"
intake=$(wrk_rate "$api/api/v1/cases" -s bench/cases_post.lua)
intake_p99=$(wrk_p99)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
row "POST /api/v1/cases (API token: sensor channel), $ncases before" "$intake" "cases/s" \
	"$(awk -v a="$intake" 'BEGIN{if (a < 5000) printf "MISSED: %d/s vs 5,000; ", a}')target >= 5,000; p99 $intake_p99; routing and duplicate check on"
row "intake / group-commit write" "$(awk -v a="$intake" -v b="$group" 'BEGIN{printf "%.2f", a/b}')" \
	"ratio" "a case: row, reporter, 3 events, step, FTS, R*Tree, webhook outbox in one write"

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

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (bench/run.sh). Each target is a ratio against a baseline"
	echo "measured in the same run, or an absolute number where the issue sets one."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
	echo "- wrk: -t1 -c64 (HTTP), -t1 -c64 with a POST script (writer), ${DUR}s per run; wrk runs on the same 2 cores"
	echo
	echo "| what | value | unit | note |"
	echo "| --- | ---: | --- | --- |"
	printf '%s\n' "${rows[@]}"
} >docs/benchmarks.md
echo "bench: wrote docs/benchmarks.md"
