#!/usr/bin/env bash
# Installs what is missing, and nothing else: the Debian packages listed in
# scripts/debian-packages.txt, a Node.js new enough for the npm packages, and
# the npm packages of package-lock.json and web/package-lock.json (the front
# end, docs/web.md). Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(grep -vE '^\s*(#|$)' scripts/debian-packages.txt)
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

# The web build (Vite 8) needs Node.js 20.19 or later; the C side's npm
# packages, 18. Debian 12's own nodejs is 18: a machine with only that gets
# a clear message below instead of a failing build.
node_ok() {
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
		[ "$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 20 || (a === 20 && b >= 19) ? 1 : 0')" = 1 ]
}
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! node_ok; then
	echo "install-deps: Node.js $(node -v 2>/dev/null || echo none) is too old: the web build needs 20.19 or later (docs/web.md)" >&2
	exit 1
fi

# npm ci only when package-lock.json changed since the last install.
stamp=node_modules/.grassroots-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
	echo "install-deps: npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	cp package-lock.json "$stamp"
fi

# The front end's own packages (Vite, Vue, ...), the same way.
web_stamp=web/node_modules/.grassroots-lock
if [ ! -f "$web_stamp" ] || ! cmp -s web/package-lock.json "$web_stamp"; then
	echo "install-deps: npm ci (web)"
	(cd web && npm ci --no-audit --no-fund --loglevel=error)
	cp web/package-lock.json "$web_stamp"
fi
