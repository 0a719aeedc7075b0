#!/usr/bin/env bash
# The web app's budget against a running server that serves it (make run does):
#
#   bench/web.sh [BASE_URL]      BASE_URL defaults to http://127.0.0.1:8080
#
# In Debian's Chromium (/usr/bin/chromium, through the e2e suite's Playwright), BENCH_RUNS
# (default 5) first visits of the home page, each in a fresh browser context (empty cache), then
# a reload of each: prints the JavaScript the home page loads in bytes on the wire (gzip and
# brotli, as the server sends them) and the largest contentful paint of each visit. The home page
# should have listings (make run seeds them) so that the paint is of real content.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${1:-http://127.0.0.1:8080}
base=${base%/}
runs=${BENCH_RUNS:-5}

case "${1:-}" in -h | --help)
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
  ;;
esac
if ! [[ "$base" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]; then
  echo "bench: BASE_URL must be http://127.0.0.1:PORT (got $base)" >&2
  exit 2
fi
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ] || [ "$runs" -gt 50 ]; then
  echo "bench: BENCH_RUNS must be 1..50 (got $runs)" >&2
  exit 2
fi
[ -d "$here/../e2e/node_modules/@playwright/test" ] || {
  echo "bench: run scripts/setup first (it installs e2e/node_modules)" >&2
  exit 1
}
curl -fsS "$base/" | grep -q '<div id="root">' || {
  echo "bench: $base/ does not serve the web app (build it: make build-web, then restart)" >&2
  exit 1
}
node "$here/web_budget.cjs" "$base" "$runs"
