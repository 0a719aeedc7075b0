#!/usr/bin/env bash
# Browse, search and listing-page throughput of a running server over 100,000 listings, with wrk.
#
#   bench/listings.sh [BASE_URL]      BASE_URL defaults to http://127.0.0.1:8080
#
# 1. Loads 300 sellers and 100,000 listings into the database at DATABASE_URL (default: the dev
#    database of scripts/services) with bench/listings_load.sql, in SQL, once: when the seller
#    bench-seller-1 exists the data is there and loading is skipped.
# 2. Runs wrk -t2 -c64 -d15s against, in turn:
#      GET /api/v1/listings                                         first page, newest
#      GET /api/v1/listings?category=books&min_price=1000&max_price=5000
#      GET /api/v1/listings?q=vintage%20lamp                         search, by relevance
#      GET /api/v1/listings?cursor=…                                 the page ~50 pages deep
#      GET /api/v1/listings/{id}                                     1,000 listings at random
#    and prints req/s, p99 and non-2xx counts, and the server's peak RSS during the runs.
# 3. Prints EXPLAIN (ANALYZE, BUFFERS) of each of those queries (bench/listings_explain.sql).
#
# The server must already serve BASE_URL against the same database. wrk is aimed only at
# 127.0.0.1, for a bounded time. Overrides (for quick checks only; record results with the
# defaults): BENCH_DURATION (default 15s), BENCH_DEEP_PAGES (default 50), BENCH_SERVER_PID
# (default: the process listening on BASE_URL's port).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
base=${1:-http://127.0.0.1:8080}
base=${base%/}
duration=${BENCH_DURATION:-15s}
deep_pages=${BENCH_DEEP_PAGES:-50}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
}
case "${1:-}" in -h | --help) usage ;; esac

if ! [[ "$base" =~ ^http://127\.0\.0\.1:([0-9]+)$ ]]; then
  echo "bench: BASE_URL must be http://127.0.0.1:PORT (got $base)" >&2
  exit 2
fi
port=${BASH_REMATCH[1]}
if ! [[ "$duration" =~ ^[0-9]+s$ ]] || [ "${duration%s}" -lt 1 ] || [ "${duration%s}" -gt 120 ]; then
  echo "bench: BENCH_DURATION must be 1s..120s (got $duration)" >&2
  exit 2
fi
if ! [[ "$deep_pages" =~ ^[0-9]+$ ]] || [ "$deep_pages" -lt 1 ] || [ "$deep_pages" -gt 1000 ]; then
  echo "bench: BENCH_DEEP_PAGES must be 1..1000 (got $deep_pages)" >&2
  exit 2
fi
for tool in wrk curl psql; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

if [ -z "${DATABASE_URL:-}" ]; then
  eval "$("$root/scripts/services" env dev | grep '^DATABASE_URL=')"
fi
db=$DATABASE_URL

work=$(mktemp -d)
sampler=
cleanup() {
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

sql() { psql "$db" -X -q -v ON_ERROR_STOP=1 -tA -c "$1"; }

# curl_get PATH -> prints the HTTP status; the body goes to $work/body.
curl_get() {
  curl -sS -o "$work/body" -w '%{http_code}' --max-time 10 "$base$1" || echo 000
}

json_string() {  # NAME -> the first "NAME":"value" in $work/body
  grep -o "\"$1\":\"[^\"]*\"" "$work/body" | head -1 | sed -E 's/^"[^"]*":"(.*)"$/\1/'
}

status=$(curl_get /healthz)
[ "$status" = 200 ] || { echo "bench: GET $base/healthz answered $status; is the server running?" >&2; exit 1; }

# ---- 1. data ----------------------------------------------------------------------------------
if [ "$(sql "SELECT count(*) FROM users WHERE username = 'bench-seller-1'")" = 0 ]; then
  echo "bench: loading 300 sellers and 100,000 listings into ${db##*/} ..."
  started=$(date +%s)
  psql "$db" -X -q -v ON_ERROR_STOP=1 -f "$here/listings_load.sql" >/dev/null
  echo "bench: loaded in $(($(date +%s) - started)) s"
else
  echo "bench: bench data already loaded in ${db##*/} (bench-seller-1 exists)"
fi
echo "bench: $(sql "SELECT count(*) FILTER (WHERE status = 'active') || ' active of ' || count(*) || ' listings' FROM listings")"

# The server must read the same database, or every number below is about something else.
bench_id=$(sql "SELECT max(l.id) FROM listings l JOIN users u ON u.id = l.seller_id
                WHERE u.username = 'bench-seller-1' AND l.status = 'active'")
status=$(curl_get "/api/v1/listings/$bench_id")
if [ "$status" != 200 ]; then
  echo "bench: GET /api/v1/listings/$bench_id answered $status: the server at $base does not use ${db##*/}" >&2
  exit 1
fi

# ---- 2. URLs ----------------------------------------------------------------------------------
first_url="$base/api/v1/listings"
filtered_url="$base/api/v1/listings?category=books&min_price=1000&max_price=5000"
search_url="$base/api/v1/listings?q=vintage%20lamp"

# Follow next_cursor from the first page: wrk then requests that one deep page over and over.
path=/api/v1/listings
cursor=
for _ in $(seq "$deep_pages"); do
  status=$(curl_get "$path${cursor:+?cursor=$cursor}")
  [ "$status" = 200 ] || { echo "bench: GET $path answered $status while paging: $(cat "$work/body")" >&2; exit 1; }
  next=$(json_string next_cursor)
  [ -n "$next" ] || { echo "bench: the catalogue ended before page $deep_pages" >&2; exit 1; }
  cursor=$next
done
deep_url="$base$path?cursor=$cursor"
# The cursor is base64url("1|newest|<id>|<price>|<rank>") "." MAC: its id feeds the EXPLAIN.
cursor_text=${cursor%%.*}
cursor_text=$(printf '%s' "$cursor_text" | tr '_-' '/+')
while [ $((${#cursor_text} % 4)) != 0 ]; do cursor_text+="="; done
cursor_id=$(printf '%s' "$cursor_text" | base64 -d | cut -d'|' -f3)
[[ "$cursor_id" =~ ^[0-9]+$ ]] || { echo "bench: cannot read the id in the cursor ($cursor)" >&2; exit 1; }

sql "SELECT l.id FROM listings l JOIN users u ON u.id = l.seller_id
     WHERE u.username LIKE 'bench-seller-%' AND l.status = 'active'
     ORDER BY hashint8(l.id) LIMIT 1000" >"$work/ids"

for url in "$first_url" "$filtered_url" "$search_url" "$deep_url"; do
  status=$(curl_get "${url#"$base"}")
  [ "$status" = 200 ] || { echo "bench: $url answered $status: $(cat "$work/body")" >&2; exit 1; }
done

# ---- 3. load ----------------------------------------------------------------------------------
server_pid=${BENCH_SERVER_PID:-}
if [ -z "$server_pid" ] && command -v ss >/dev/null; then
  server_pid=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
fi
if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
  rss_before=$(ps -o rss= -p "$server_pid" | tr -d ' ')
  # Peak RSS while wrk runs, sampled every half second.
  (
    peak=0
    while kill -0 "$server_pid" 2>/dev/null; do
      rss=$(ps -o rss= -p "$server_pid" 2>/dev/null | tr -d ' ')
      if [ -n "$rss" ] && [ "$rss" -gt "$peak" ]; then peak=$rss; echo "$peak" >"$work/rss_peak"; fi
      sleep 0.5
    done
  ) &
  sampler=$!
else
  echo "bench: server process not found (set BENCH_SERVER_PID): RSS will not be reported" >&2
  server_pid=
fi

echo "bench: server $base (pid ${server_pid:-?}), $(nproc) CPUs, wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}')"

results=()

# run NAME URL [SCRIPT]
run() {
  local name=$1 url=$2 script=${3:-}
  local out="$work/wrk.out" args=(-t2 -c64 "-d$duration" --timeout 10s --latency)
  [ -n "$script" ] && args+=(-s "$script")
  echo
  echo "=== $name: wrk ${args[*]} $url"
  wrk "${args[@]}" "$url" | tee "$out"
  local rps p50 p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  errors=$(grep -E '^ +Socket errors:' "$out" | sed -E 's/^ +Socket errors: //' || true)
  results+=("$(printf '%-34s %10s %10s %10s %8s  %s' "$name" "${rps:-?}" "${p50:-?}" "${p99:-?}" "${non2xx:-0}" "${errors:-}")")
  if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
    echo "bench: WARNING: $non2xx responses of $name were not 2xx; its numbers are not valid" >&2
  fi
}

run "browse, first page" "$first_url"
run "browse, category+price filter" "$filtered_url"
run "search q=vintage lamp" "$search_url"
run "browse, page $((deep_pages + 1)) by cursor" "$deep_url"
BENCH_IDS_FILE="$work/ids" run "listing page (1,000 ids)" "$base" "$here/listing_ids.lua"

echo
echo "=== summary (wrk -t2 -c64 -d$duration)"
printf '%-34s %10s %10s %10s %8s  %s\n' "run" "req/s" "p50" "p99" "non-2xx" "socket errors"
printf '%s\n' "${results[@]}"
if [ -n "$server_pid" ]; then
  rss_after=$(ps -o rss= -p "$server_pid" 2>/dev/null | tr -d ' ' || true)
  rss_peak=$(cat "$work/rss_peak" 2>/dev/null || echo "?")
  echo "server RSS: before ${rss_before:-?} KiB, peak ${rss_peak} KiB, after ${rss_after:-?} KiB"
fi

# ---- 4. plans ---------------------------------------------------------------------------------
echo
echo "=== query plans (bench/listings_explain.sql; listing $bench_id, cursor id $cursor_id)"
psql "$db" -X -q -v ON_ERROR_STOP=1 -v listing_id="$bench_id" -v cursor_id="$cursor_id" \
  -f "$here/listings_explain.sql"
