#!/usr/bin/env bash
# Runs the browser tests against a real server on a temporary data directory
# with the demo data: `make browser`. Needs build/asan/grassroots (make
# build-asan), web/dist (make web) and /usr/bin/chromium (make deps).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${GR_BIN:-build/asan/grassroots}
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
export GR_LOG_LEVEL=${GR_LOG_LEVEL:-warn}
# Cheap password hashes for the demo accounts (docs/auth.md: tests only): the
# tests sign in some fifty times on a machine that may be busy.
export GR_PWHASH=min

"$bin" demo --data "$tmp/data" >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; exit 1; }
"$bin" serve --data "$tmp/data" --listen 127.0.0.1:0 --web web/dist >"$tmp/out.log" 2>"$tmp/err.log" &
pid=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -n 's/^listening on \([0-9]*\).*/\1/p' "$tmp/out.log" | head -1)
	[ -n "$port" ] && curl -fsS "http://127.0.0.1:$port/api/v1/ready" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/err.log"; exit 1; }
	sleep 0.2
done
[ -n "$port" ] || { echo "browser: the server did not start"; cat "$tmp/err.log"; exit 1; }
echo "browser: server on port $port"

rc=0
GR_BASE="http://127.0.0.1:$port" node --test --test-concurrency=1 tests/browser/*.test.mjs || rc=$?
if grep -q "Sanitizer" "$tmp/err.log"; then
	echo "browser: the server reported a sanitizer error"
	grep -A30 "Sanitizer" "$tmp/err.log" | head -60
	rc=1
fi
exit $rc
