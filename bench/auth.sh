#!/usr/bin/env bash
# Throughput and p99 latency of the auth paths of a running server, measured with wrk.
#
#   bench/auth.sh [BASE_URL]          BASE_URL defaults to http://127.0.0.1:8080
#
# The server must run with RATE_LIMITS=off, or the login loop measures the rate limiter's 429s
# instead of Argon2id. It registers one random bench user, logs in, then runs:
#   GET  /healthz          wrk -t2 -c64 -d15s   (the HTTP stack alone)
#   GET  /api/v1/me        wrk -t2 -c64 -d15s   (JWT check + session/user lookup in PostgreSQL)
#   POST /api/v1/auth/login wrk -t2 -c16 -d10s  (bound by Argon2id on the hashing pool)
# and prints req/s and p99 for each. See bench/README.md.
#
# wrk is aimed only at 127.0.0.1, for a bounded time: this is a local benchmark, not a load test
# of anything else. Overrides (for quick checks only; record results with the defaults):
# BENCH_DURATION (default 15s), BENCH_LOGIN_DURATION (default 10s).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${1:-http://127.0.0.1:8080}
base=${base%/}
duration=${BENCH_DURATION:-15s}
login_duration=${BENCH_LOGIN_DURATION:-10s}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
}
case "${1:-}" in -h | --help) usage ;; esac

if ! [[ "$base" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]; then
  echo "bench: BASE_URL must be http://127.0.0.1:PORT (got $base)" >&2
  exit 2
fi
for d in "$duration" "$login_duration"; do
  if ! [[ "$d" =~ ^[0-9]+s$ ]] || [ "${d%s}" -lt 1 ] || [ "${d%s}" -gt 120 ]; then
    echo "bench: durations must be 1s..120s (got $d)" >&2
    exit 2
  fi
done
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (apt-get install -y $tool)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# curl_json METHOD PATH [BODY] [TOKEN] -> prints the HTTP status; the body goes to $work/body.
curl_json() {
  local args=(-sS -o "$work/body" -w '%{http_code}' -X "$1" --max-time 10)
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
  curl "${args[@]}" "$base$2" || echo 000
}

json_string() {  # NAME -> the first "NAME":"value" in $work/body
  grep -o "\"$1\":\"[^\"]*\"" "$work/body" | head -1 | sed -E 's/^"[^"]*":"(.*)"$/\1/'
}

status=$(curl_json GET /healthz)
[ "$status" = 200 ] || { echo "bench: GET $base/healthz answered $status; is the server running?" >&2; exit 1; }

tag=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
username="bench_$tag"
password="Bench_${tag}_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
email="$username@example.com"

status=$(curl_json POST /api/v1/auth/register "{\"username\":\"$username\",\"email\":\"$email\",\"password\":\"$password\"}")
[ "$status" = 201 ] || { echo "bench: register answered $status: $(cat "$work/body")" >&2; exit 1; }

# Login repeatedly before measuring: with rate limits on, this fails fast instead of measuring 429s.
for _ in $(seq 12); do
  status=$(curl_json POST /api/v1/auth/login "{\"login\":\"$username\",\"password\":\"$password\"}")
  if [ "$status" = 429 ]; then
    echo "bench: login answered 429: start the server with RATE_LIMITS=off for this benchmark" >&2
    exit 1
  fi
  [ "$status" = 200 ] || { echo "bench: login answered $status: $(cat "$work/body")" >&2; exit 1; }
done
token=$(json_string access_token)
[ -n "$token" ] || { echo "bench: no access_token in the login answer" >&2; exit 1; }
status=$(curl_json GET /api/v1/me "" "$token")
[ "$status" = 200 ] || { echo "bench: GET /api/v1/me answered $status" >&2; exit 1; }

echo "bench: server $base, user $username, $(nproc) CPUs, wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}')"

results=()

# run NAME CONNECTIONS DURATION URL [SCRIPT]
run() {
  local name=$1 connections=$2 time=$3 url=$4 script=${5:-}
  local out="$work/wrk.out" args=(-t2 "-c$connections" "-d$time" --timeout 10s --latency)
  [ -n "$script" ] && args+=(-s "$script")
  echo
  echo "=== $name: wrk ${args[*]} $url"
  wrk "${args[@]}" "$url" | tee "$out"
  local rps p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  errors=$(grep -E '^ +Socket errors:' "$out" | sed -E 's/^ +Socket errors: //' || true)
  results+=("$(printf '%-26s %12s %10s %10s  %s' "$name" "${rps:-?}" "${p99:-?}" "${non2xx:-0}" "${errors:-}")")
  if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
    echo "bench: WARNING: $non2xx responses of $name were not 2xx; its numbers are not valid" >&2
  fi
}

run "GET /healthz" 64 "$duration" "$base/healthz"
BENCH_TOKEN=$token run "GET /api/v1/me" 64 "$duration" "$base/api/v1/me" "$here/me.lua"
BENCH_LOGIN=$username BENCH_PASSWORD=$password \
  run "POST /api/v1/auth/login" 16 "$login_duration" "$base/api/v1/auth/login" "$here/login.lua"

echo
echo "=== summary (wrk -t2; 64 connections, 16 for login)"
printf '%-26s %12s %10s %10s  %s\n' "endpoint" "req/s" "p99" "non-2xx" "socket errors"
printf '%s\n' "${results[@]}"
