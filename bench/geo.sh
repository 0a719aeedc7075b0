#!/usr/bin/env bash
# Throughput and p99 of POST /api/v1/geo/validate with the offline geocoder, measured with wrk.
#
#   bench/geo.sh [BASE_URL]          BASE_URL defaults to http://127.0.0.1:8080
#
# The server must run with GEOCODER=offline (the default) and RATE_LIMITS=off (or the per-user
# and per-IP buckets answer 429). It registers a random bench user, then runs
# wrk -t2 -c64 -d15s with geo_validate.lua (nine addresses covering every path of the offline
# geocoder). Target: >= 2,000 req/s on the project machine. See bench/README.md.
# BENCH_DURATION (default 15s) shortens it for quick checks; record results with the default.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${1:-http://127.0.0.1:8080}
base=${base%/}
duration=${BENCH_DURATION:-15s}
if ! [[ "$base" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || ! [[ "$duration" =~ ^[0-9]+s$ ]]; then
  echo "usage: bench/geo.sh [http://127.0.0.1:PORT] (BENCH_DURATION=Ns)" >&2
  exit 2
fi
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

tag=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
registered=$(curl -sS --max-time 10 -H 'Content-Type: application/json' \
  --data-binary "{\"username\":\"geo_$tag\",\"email\":\"geo_$tag@example.com\",\"password\":\"Bench_${tag}_pw\"}" \
  "$base/api/v1/auth/register")
token=$(printf '%s' "$registered" | grep -o '"access_token":"[^"]*"' | sed -E 's/.*:"(.*)"/\1/')
[ -n "$token" ] || { echo "bench: register failed: $registered" >&2; exit 1; }

probe=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary \
  '{"recipient_name":"Ada","line1":"x","city":"Berlin","country":"DE"}' "$base/api/v1/geo/validate")
[ "$probe" = 200 ] || { echo "bench: POST /geo/validate answered $probe (RATE_LIMITS=off?)" >&2; exit 1; }

echo "bench: server $base, $(nproc) CPUs, wrk -t2 -c64 -d$duration"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
BENCH_TOKEN=$token wrk -t2 -c64 "-d$duration" --timeout 10s --latency -s "$here/geo_validate.lua" \
  "$base/api/v1/geo/validate" | tee "$out"
if grep -q 'Non-2xx or 3xx responses' "$out"; then
  echo "bench: WARNING: some responses were not 2xx; the numbers are not valid" >&2
  exit 1
fi
