#!/usr/bin/env bash
# Checkout end to end (cart PUT -> order POST -> payment POST -> confirm -> signed webhook -> paid)
# with many buyers on loopback, then the stock invariants in SQL.
#
#   bench/checkout.sh
#
# Needs build/release/marketplace and build/release/bench/checkout_driver (it builds nothing:
# `cmake --build build/release --target marketplace checkout_driver`), psql, redis-cli and curl
# (pgbench for the PostgreSQL baseline, skipped when missing).
#
# 1. scripts/services up; a fresh database `marketplace_bench` (dropped and re-created, then
#    `marketplace migrate`) on that PostgreSQL, or on a private durable one (BENCH_PG below), and
#    Redis database 7 (flushed): nothing of the dev or test data is touched.
# 2. Starts `marketplace serve` on a free 127.0.0.1 port: MARKETPLACE_ENV=test, ACCESS_LOG=off,
#    the auth rate limits at 1000000/1s (registering the buyers is not what is measured), the
#    rest at its defaults (2 io threads, 2 PostgreSQL connections per thread).
# 3. Registers BENCH_BUYERS buyers through the API (8 at a time) and creates 20 sellers and the
#    listings in SQL: BENCH_LISTINGS "spread" listings with 10,000 each, one "hot" listing with
#    1,000,000 and one "sellout" listing with BENCH_SELLOUT_STOCK.
# 4. Primes the database: 4 s of spread checkouts (not measured), then ANALYZE, so that
#    PostgreSQL plans the server's statements for tables in use rather than empty ones.
# 5. Baseline, PostgreSQL alone: pgbench, 5 s each, one-row UPDATE commits spread over 1,000
#    rows (4 clients, as many as the server's pool, and 32), the same on one hot row, and a
#    5-statement transaction on one hot row (4 clients).
# 6. Runs bench/checkout_driver (one thread, one keep-alive connection per buyer), each run
#    BENCH_WARMUP s + BENCH_DURATION s (at most 30 s):
#      spread   every checkout picks one of the spread listings at random
#      hot      every checkout buys the hot listing
#      sellout  every buyer buys the sellout listing until it is sold out (a 409), at most 10 s
#    and, over each measured window: PostgreSQL commits/s (pg_stat_database.xact_commit); the CPU
#    of the server, PostgreSQL (the server's backends and the auxiliary processes), Redis
#    (/proc) and the driver (its own getrusage); every 0.1 s, whether a listing row is locked
#    (pgrowlocks) and what the server's backends are doing (pg_stat_activity: on CPU, waiting on
#    a lock, idle inside a transaction) in which statement.
# 7. Waits for the webhooks to drain, then checks in SQL, for every bench listing: quantity >= 0;
#    paid order lines = initial quantity - current quantity; sold <= initial stock; the sellout
#    listing sold exactly its stock; every succeeded intent's order is paid; no webhook left
#    undelivered; no refund; and the Redis counter stock:<id> = quantity - pending reservations
#    wherever it exists. Stops the server and prints a summary. Exit status 1 when an invariant
#    fails.
#
# Overrides (record results with the defaults): BENCH_BUYERS (32), BENCH_WARMUP (3),
# BENCH_DURATION (20), BENCH_LISTINGS (1000), BENCH_SELLOUT_STOCK (1000), BENCH_SCENARIOS
# ("spread hot sellout"), BENCH_PGBENCH (on|off), BENCH_PG: services (default: the PostgreSQL of
# scripts/services, which runs with fsync=off and synchronous_commit=off) or durable (a private
# PostgreSQL 15 started under /var/tmp for the run with fsync=on, synchronous_commit=on, and
# stopped and removed at the end) or profile (a private one with the settings of scripts/services
# and pg_stat_statements loaded: each run also prints its statements by execution time, with
# calls per completed checkout). BENCH_PG_LINK: socket (default: the server reaches PostgreSQL
# through its Unix-domain socket, as a server on the same machine should) or tcp (127.0.0.1).
# Traffic goes only to 127.0.0.1 (and PostgreSQL's socket).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
}
case "${1:-}" in -h | --help) usage ;; "") ;; *) usage ;; esac

buyers=${BENCH_BUYERS:-32}
warmup=${BENCH_WARMUP:-3}
duration=${BENCH_DURATION:-20}
spread_listings=${BENCH_LISTINGS:-1000}
sellout_stock=${BENCH_SELLOUT_STOCK:-1000}
scenarios=${BENCH_SCENARIOS:-spread hot sellout}
pgbench_on=${BENCH_PGBENCH:-on}
pg_mode=${BENCH_PG:-services}
pg_link=${BENCH_PG_LINK:-socket}
sellers=20
spread_stock=10000
hot_stock=1000000
redis_db=7
dbname=marketplace_bench

num_in() {  # NAME VALUE MIN MAX
  if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
    echo "bench: $1 must be $3..$4 (got $2)" >&2
    exit 2
  fi
}
num_in BENCH_BUYERS "$buyers" 1 1000
num_in BENCH_WARMUP "$warmup" 0 10
num_in BENCH_DURATION "$duration" 1 $((30 - warmup))
num_in BENCH_LISTINGS "$spread_listings" 1 100000
num_in BENCH_SELLOUT_STOCK "$sellout_stock" 1 1000000
case "$pg_mode" in services | durable | profile) ;; *) echo "bench: BENCH_PG must be services, durable or profile" >&2; exit 2 ;; esac
case "$pg_link" in socket | tcp) ;; *) echo "bench: BENCH_PG_LINK must be socket or tcp" >&2; exit 2 ;; esac
for s in $scenarios; do
  case "$s" in spread | hot | sellout) ;; *) echo "bench: unknown scenario $s" >&2; exit 2 ;; esac
done

server_bin="$root/build/release/marketplace"
driver_bin="$root/build/release/bench/checkout_driver"
for bin in "$server_bin" "$driver_bin"; do
  [ -x "$bin" ] || {
    echo "bench: $bin is missing: cmake --build build/release --target marketplace checkout_driver" >&2
    exit 1
  }
done
for tool in psql redis-cli curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
if [ "$pgbench_on" = on ] && ! command -v pgbench >/dev/null; then
  echo "bench: pgbench not found (postgresql-contrib): the PostgreSQL baseline is skipped" >&2
  pgbench_on=off
fi

work=$(mktemp -d)
server_pid=
watcher=
durable_dir=
cleanup() {
  if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || true; fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$durable_dir" ]; then
    (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$durable_dir/data" -m fast -w stop >/dev/null 2>&1) || true
    rm -rf "$durable_dir"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

started_at=$(date +%s)

# ---- 1. services and the bench database --------------------------------------------------------
"$root/scripts/services" up
# shellcheck disable=SC1091
. "$root/var/ports.env"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# shellcheck disable=SC2153  # PG_PORT comes from var/ports.env
pg_port=$PG_PORT
pg_socket_dir="$(readlink -f "$root/var/pg")/sock"
if [ "$pg_mode" != services ]; then
  # A private PostgreSQL 15: durable keeps the settings a production server keeps (every commit
  # flushed); profile keeps those of scripts/services and counts every statement.
  if [ "$pg_mode" = durable ]; then
    pg_settings="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  else
    pg_settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_preload_libraries=pg_stat_statements"
  fi
  durable_dir=$(mktemp -d /var/tmp/checkout-bench-pg.XXXXXX)
  mkdir -p "$durable_dir/data" "$durable_dir/sock"
  chown -R postgres:postgres "$durable_dir"
  pg_port=$((25000 + RANDOM % 5000))
  while ! port_free "$pg_port"; do pg_port=$((pg_port + 1)); done
  (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$durable_dir/data" -U postgres \
    --auth=trust -E UTF8 --locale=C.UTF-8 >"$durable_dir/initdb.log" 2>&1)
  (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$durable_dir/data" \
    -l "$durable_dir/pg.log" -w -o "-p $pg_port -k $durable_dir/sock -c listen_addresses=127.0.0.1 -c max_connections=100 $pg_settings" \
    start >/dev/null)
  pg_socket_dir="$durable_dir/sock"
  echo "bench: private PostgreSQL on 127.0.0.1:$pg_port with $pg_settings"
fi
admin_url="postgresql://postgres@127.0.0.1:$pg_port/postgres"
db_url="postgresql://postgres@127.0.0.1:$pg_port/$dbname"
# What the server connects with; the script's own psql and pgbench use db_url.
server_db_url=$db_url
[ "$pg_link" = tcp ] || server_db_url="postgresql://postgres@/$dbname?host=$pg_socket_dir&port=$pg_port"
redis_url="redis://127.0.0.1:$REDIS_PORT/$redis_db"

psql "$admin_url" -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" \
  -c "CREATE DATABASE $dbname"
redis-cli -p "$REDIS_PORT" -n "$redis_db" FLUSHDB >/dev/null
if [ "$pg_mode" = profile ]; then
  psql "$db_url" -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pg_stat_statements"
fi

sql() { psql "$db_url" -X -q -v ON_ERROR_STOP=1 -tA -c "$1"; }

port=$((18000 + RANDOM % 2000))
while ! port_free "$port"; do port=$((port + 1)); done
base="http://127.0.0.1:$port"

secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
export MARKETPLACE_ENV=test HTTP_HOST=127.0.0.1 HTTP_PORT=$port ACCESS_LOG=off LOG_LEVEL=warn
export DATABASE_URL=$server_db_url REDIS_URL=$redis_url
export JWT_SECRET LOCAL_PAYMENTS_WEBHOOK_SECRET
JWT_SECRET=$(secret)
LOCAL_PAYMENTS_WEBHOOK_SECRET=$(secret)
export RATE_LIMIT_AUTH_IP=1000000/1s RATE_LIMIT_AUTH_ACCOUNT=1000000/1s
export MEDIA_DIR="$work/media" VAR_DIR="$work/var"
mkdir -p "$MEDIA_DIR" "$VAR_DIR"

"$server_bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }

# ---- 2. the server ------------------------------------------------------------------------------
"$server_bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/readyz" || true)
  [ "$status" = 200 ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "bench: the server exited:" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[ "$status" = 200 ] || { echo "bench: the server was not ready at $base" >&2; exit 1; }

# ---- 3. buyers, sellers, listings ---------------------------------------------------------------
tag=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
register() {  # INDEX -> the access token on stdout
  local name="ckb_${tag}_$1" out
  out=$(curl -sS --max-time 30 -H 'Content-Type: application/json' \
    --data-binary "{\"username\":\"$name\",\"email\":\"$name@example.com\",\"password\":\"Checkout-bench-$tag-$1\"}" \
    -w '\n%{http_code}' "$base/api/v1/auth/register")
  if [ "${out##*$'\n'}" != 201 ]; then
    echo "bench: registering $name answered ${out##*$'\n'}: ${out%$'\n'*}" >&2
    return 1
  fi
  grep -o '"access_token":"[^"]*"' <<<"$out" | sed -n '1,1p' | cut -d'"' -f4
}
export -f register
export tag base
reg_started=$(date +%s.%N)
seq "$buyers" | xargs -P 8 -I{} bash -c 'register {}' >"$work/tokens"
reg_seconds=$(echo "$(date +%s.%N) - $reg_started" | bc)
[ "$(grep -c . "$work/tokens")" = "$buyers" ] || { echo "bench: not every buyer got a token" >&2; exit 1; }
printf 'bench: %s buyers registered through the API in %.1f s\n' "$buyers" "$reg_seconds"

psql "$db_url" -X -q -v ON_ERROR_STOP=1 \
  -v sellers="$sellers" -v spread="$spread_listings" -v spread_stock="$spread_stock" \
  -v hot_stock="$hot_stock" -v sellout_stock="$sellout_stock" <<'SQL'
BEGIN;
INSERT INTO users (username, email, display_name, password_hash)
SELECT 'ckbench-seller-' || g, 'ckbench-seller-' || g || '@example.com', 'Checkout Seller ' || g,
       -- a well-formed Argon2id string of no known password: sellers never log in here
       '$argon2id$v=19$m=65536,t=2,p=1$Y2tiZW5jaC1zZWxsZXI$' ||
         rtrim(encode(sha256(('ckbench-seller-' || g)::bytea), 'base64'), '=')
FROM generate_series(1, :sellers) AS g;
-- Which scenario each listing serves, and its stock before any run.
CREATE TABLE bench_listings (listing_id bigint PRIMARY KEY, scenario text NOT NULL,
                             initial integer NOT NULL);
WITH s AS (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE username LIKE 'ckbench-seller-%'),
new AS (
  INSERT INTO listings (seller_id, title, description, price_cents, currency, quantity, category,
                        condition)
  SELECT s.ids[1 + abs(g) % :sellers],
         CASE WHEN g = 0 THEN 'Hot item ' ELSE (CASE WHEN g = -1 THEN 'Sellout item '
              ELSE 'Bench item ' END) END || g,
         'A listing for bench/checkout.sh.', 500 + (g * 37) % 10000, 'USD',
         CASE WHEN g = 0 THEN :hot_stock WHEN g = -1 THEN :sellout_stock ELSE :spread_stock END,
         'electronics', 'new'
  FROM s, generate_series(-1, :spread) AS g
  RETURNING id, title, quantity)
INSERT INTO bench_listings
SELECT id, CASE WHEN title LIKE 'Hot %' THEN 'hot' WHEN title LIKE 'Sellout %' THEN 'sellout'
                ELSE 'spread' END, quantity
FROM new;
CREATE TABLE bench_pg_rows (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
INSERT INTO bench_pg_rows (id) SELECT generate_series(1, 1000);
CREATE TABLE bench_pg_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, row_id integer,
                           at timestamptz NOT NULL DEFAULT now());
COMMIT;
-- To sample which listing rows are locked during the runs.
CREATE EXTENSION IF NOT EXISTS pgrowlocks;
-- Only the tables loaded here, not the empty order tables: analyzed while empty, PostgreSQL plans
-- for 0 rows, and the server's connections keep sequential-scan plans of their prepared
-- statements while the tables grow (measured: the spread rate fell from 390 to 165/s within 16 s,
-- 15 sequential scans of orders per checkout). They are analyzed after the priming run below.
ANALYZE users;
ANALYZE listings;
ANALYZE bench_listings;
ANALYZE bench_pg_rows;
SQL
for s in spread hot sellout; do
  sql "SELECT listing_id FROM bench_listings WHERE scenario = '$s' ORDER BY listing_id" >"$work/listings.$s"
done
echo "bench: $sellers sellers; $(grep -c . "$work/listings.spread") spread listings ($spread_stock each), hot listing $(cat "$work/listings.hot") ($hot_stock), sellout listing $(cat "$work/listings.sellout") ($sellout_stock)"

# ---- 4. priming ------------------------------------------------------------------------------------
# A database in use has rows and statistics in its order tables; a fresh one has neither, and
# what PostgreSQL plans for the server's prepared statements differs (measured: from 340 to 460
# checkouts/s on the same run once autovacuum had analyzed the order tables mid-run). So: 4 s of
# spread checkouts first (not measured; they count in the invariants), then ANALYZE, which also
# makes the server's connections plan their statements again.
"$driver_bin" --port "$port" --tokens "$work/tokens" --listings "$work/listings.spread" \
  --buyers "$buyers" --warmup 0 --duration 4 --label priming >"$work/driver.priming" 2>&1 ||
  { echo "bench: the priming run failed:" >&2; cat "$work/driver.priming" >&2; exit 1; }
sql "ANALYZE"
echo "bench: primed with $(sed -nE 's/^RESULT .* completed=([0-9]+) .* errors=([0-9]+) .*/\1 checkouts (\2 errors)/p' "$work/driver.priming"), then ANALYZE"

# ---- CPU and commit accounting ------------------------------------------------------------------
ticks_per_s=$(getconf CLK_TCK)
redis_pid=$(cat "$root/var/redis/redis.pid")
proc_ticks() {  # PID... -> utime+stime of those processes, in clock ticks
  local total=0 pid rest
  for pid in "$@"; do
    if [ -r "/proc/$pid/stat" ]; then
      rest=$(sed -E 's/^.*\) //' "/proc/$pid/stat" 2>/dev/null) || continue
      # shellcheck disable=SC2086
      set -- $rest
      total=$((total + ${12} + ${13}))
    fi
  done
  echo "$total"
}
system_ticks() {  # -> "busy total" from /proc/stat
  awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat
}
commits() { sql "SELECT xact_commit FROM pg_stat_database WHERE datname = '$dbname'"; }
# PostgreSQL's processes that work for the server: the backends of the bench database (the
# server's pool; psql sessions of this script excluded) and the shared auxiliary processes (WAL
# writer, checkpointer, autovacuum ...). Backends of other databases (the dev or test servers
# that may run on the same PostgreSQL) are not counted here but show up in "everything else".
pg_pids() {
  sql "SELECT pid FROM pg_stat_activity WHERE (datname = '$dbname' AND backend_type = 'client backend'
       AND application_name NOT IN ('psql', 'bench-watch') AND pid <> pg_backend_pid())
       OR backend_type NOT IN ('client backend', 'walsender')" | tr '\n' ' '
}

snapshot() {  # PG_PIDS -> "time server pg redis busy total commits"
  # shellcheck disable=SC2086
  echo "$(date +%s.%N) $(proc_ticks "$server_pid") $(proc_ticks $1) $(proc_ticks "$redis_pid") $(system_ticks) $(commits)"
}

summary=()
check_failed=0

# ---- 5. PostgreSQL baseline ---------------------------------------------------------------------
if [ "$pgbench_on" = on ]; then
  echo
  echo "=== PostgreSQL alone (pgbench -M prepared -j 2 -T 5; fsync=$(sql "SHOW fsync"), synchronous_commit=$(sql "SHOW synchronous_commit"))"
  cat >"$work/spread.pgb" <<'EOF'
\set id random(1, 1000)
UPDATE bench_pg_rows SET n = n + 1 WHERE id = :id;
EOF
  cat >"$work/hot.pgb" <<'EOF'
UPDATE bench_pg_rows SET n = n + 1 WHERE id = 1;
EOF
  cat >"$work/hot_tx.pgb" <<'EOF'
BEGIN;
SELECT n FROM bench_pg_rows WHERE id = 1 FOR UPDATE;
UPDATE bench_pg_rows SET n = n + 1 WHERE id = 1;
INSERT INTO bench_pg_log (row_id) VALUES (1);
COMMIT;
EOF
  for run in "spread 4" "spread 32" "hot 4" "hot_tx 4"; do
    read -r script clients <<<"$run"
    out=$(pgbench -n -M prepared -c "$clients" -j 2 -T 5 -f "$work/$script.pgb" "$server_db_url" 2>&1)
    tps=$(awk '/^tps = / { printf "%.0f", $3; exit }' <<<"$out")
    lat=$(awk '/^latency average = / { print $4; exit }' <<<"$out")
    case $script in
      spread) what="1-row UPDATE (autocommit), 1,000 rows, $clients clients" ;;
      hot) what="1-row UPDATE (autocommit), one row, $clients clients" ;;
      hot_tx) what="BEGIN; SELECT FOR UPDATE; UPDATE; INSERT; COMMIT; one row, $clients clients" ;;
    esac
    printf '%-70s %8s tx/s  (latency %s ms)\n' "$what" "${tps:-?}" "${lat:-?}"
    summary+=("$(printf 'pgbench %-70s %8s commits/s' "$what" "${tps:-?}")")
  done
fi

# ---- 6. the runs --------------------------------------------------------------------------------
run_scenario() {  # NAME
  local name=$1 args=() window=$duration run_warmup=$warmup
  case $name in
    sellout)
      args=(--stop-on-sold-out)
      run_warmup=0
      window=$((duration < 10 ? duration : 10))
      ;;
  esac
  echo
  echo "=== $name: $buyers buyers, $(grep -c . "$work/listings.$name") listing(s), warmup ${run_warmup} s, window ${window} s"
  "$driver_bin" --port "$port" --tokens "$work/tokens" --listings "$work/listings.$name" \
    --buyers "$buyers" --warmup "$run_warmup" --duration "$window" --label "$name" "${args[@]}" \
    >"$work/driver.$name" 2>&1 &
  local driver=$!
  sleep "$run_warmup"
  local before after pids
  pids=$(pg_pids)
  if [ "$pg_mode" = profile ]; then sql "SELECT pg_stat_statements_reset()" >/dev/null; fi
  before=$(snapshot "$pids")
  # What the server's backends are doing, every 0.1 s through the window: waiting on a lock, on
  # CPU, or idle inside a transaction (waiting for the server's next statement), and in which
  # statement.
  printf '%s\n' "SELECT 'tick|' || count(*) FILTER (WHERE wait_event_type = 'Lock') || '|' ||
                 (SELECT count(*) FROM pgrowlocks('listings')) FROM pg_stat_activity
                 WHERE datname = '$dbname' AND backend_type = 'client backend'
                 AND application_name <> 'bench-watch'
                 UNION ALL
                 SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'CPU')
                 ELSE state END || '|' || left(regexp_replace(query, '\s+', ' ', 'g'), 70)
                 FROM pg_stat_activity WHERE datname = '$dbname' AND backend_type = 'client backend'
                 AND state <> 'idle' AND application_name <> 'bench-watch';" '\watch 0.1' |
    PGAPPNAME=bench-watch timeout "$window" psql "$db_url" -X -q -tA >"$work/waits.$name" 2>/dev/null &
  watcher=$!
  local slept=0
  while [ "$slept" -lt "$window" ] && kill -0 "$driver" 2>/dev/null; do
    sleep 1
    slept=$((slept + 1))
  done
  after=$(snapshot "$pids")
  wait "$watcher" 2>/dev/null || true
  watcher=
  wait "$driver" || { echo "bench: the driver failed:" >&2; cat "$work/driver.$name" >&2; exit 1; }
  cat "$work/driver.$name"

  # shellcheck disable=SC2206
  local b=($before) a=($after)
  local seconds wall_ticks
  seconds=$(echo "${a[0]} - ${b[0]}" | bc)
  wall_ticks=$(echo "$seconds * $ticks_per_s" | bc)
  local result rate driver_cpu
  result=$(grep '^RESULT ' "$work/driver.$name")
  rate=$(sed -E 's/.* rate=([0-9.]+).*/\1/' <<<"$result")
  driver_cpu=$(sed -E 's/.* driver_cpu=([0-9.]+).*/\1/' <<<"$result")
  local pct=()
  for i in 1 2 3; do
    pct+=("$(echo "scale=1; 100 * (${a[$i]} - ${b[$i]}) / $wall_ticks" | bc)")
  done
  local busy others commit_rate
  busy=$(echo "scale=1; 100 * $(nproc) * (${a[4]} - ${b[4]}) / (${a[5]} - ${b[5]})" | bc)
  others=$(echo "scale=1; $busy - ${pct[0]} - ${pct[1]} - ${pct[2]} - $driver_cpu" | bc)
  commit_rate=$(echo "scale=0; (${a[6]} - ${b[6]}) / $seconds" | bc)
  echo "CPU over the window (% of one core; $(nproc) cores = $(($(nproc) * 100))%): server ${pct[0]}, PostgreSQL ${pct[1]}, Redis ${pct[2]}, driver ${driver_cpu}, everything else ${others}; machine busy ${busy}"
  local per_checkout="?"
  if [ "$(echo "$rate > 0" | bc)" = 1 ]; then
    per_checkout=$(echo "scale=1; $commit_rate / $rate" | bc)
    echo "CPU per completed checkout: server $(echo "scale=0; 10000 * ${pct[0]} / $rate" | bc) us, PostgreSQL $(echo "scale=0; 10000 * ${pct[1]} / $rate" | bc) us, Redis $(echo "scale=0; 10000 * ${pct[2]} / $rate" | bc) us, driver $(echo "scale=0; 10000 * $driver_cpu / $rate" | bc) us"
  fi
  echo "PostgreSQL commits in $dbname: $commit_rate/s ($per_checkout per completed checkout)"
  local ticks waiting locked
  ticks=$(grep -c '^tick|' "$work/waits.$name" || true)
  waiting=$(grep -c '^tick|[1-9]' "$work/waits.$name" || true)
  locked=$(grep -c '^tick|[0-9]*|[1-9]' "$work/waits.$name" || true)
  echo "a listing row locked (pgrowlocks) in $locked of $ticks samples (every 0.1 s); a backend waiting on a lock in $waiting"
  echo "the server's PostgreSQL backends in those samples (idle ones not counted):"
  grep -v '^tick|' "$work/waits.$name" | cut -d'|' -f1 | grep . | sort | uniq -c | sort -rn | sed -n '1,6p' | sed 's/^/  /'
  echo "  by statement (top 10):"
  grep -v '^tick|' "$work/waits.$name" | grep . | sort | uniq -c | sort -rn | sed -n '1,10p' | sed 's/^/  /'
  if [ "$pg_mode" = profile ] && [ "$(echo "$rate > 0" | bc)" = 1 ]; then
    echo "statements by execution time (pg_stat_statements over the window; calls and us per completed checkout):"
    sql "SELECT to_char(100 * total_exec_time / sum(total_exec_time) OVER (), 'FM990.0') || '%|' ||
                to_char(calls / ($seconds * $rate), 'FM990.00') || '|' ||
                to_char(1000 * total_exec_time / ($seconds * $rate), 'FM99990') || '|' ||
                to_char(1000 * mean_exec_time, 'FM99990') || '|' ||
                left(regexp_replace(query, '\s+', ' ', 'g'), 80)
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$dbname')
         ORDER BY total_exec_time DESC LIMIT 25" |
      awk -F'|' 'BEGIN { printf "  %6s %6s %6s %6s  %s\n", "share", "calls", "us", "mean", "statement" }
                 { printf "  %6s %6s %6s %6s  %s\n", $1, $2, $3, $4, $5 }'
    sql "SELECT 'all statements: ' || to_char(sum(calls) / ($seconds * $rate), 'FM990.0') || ' calls, ' ||
                to_char(1000 * sum(total_exec_time) / ($seconds * $rate), 'FM99990') || ' us of execution per completed checkout'
         FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$dbname')"
  fi
  summary+=("$(printf '%-8s %8s checkouts/s  %s  server %s%% pg %s%% redis %s%% driver %s%% other %s%%  commits/s %s' \
    "$name" "$rate" "$(sed -E 's/.* checkout_p50=([0-9.]+) checkout_p99=([0-9.]+).*/checkout p50 \1 ms p99 \2 ms/' <<<"$result")" \
    "${pct[0]}" "${pct[1]}" "${pct[2]}" "$driver_cpu" "$others" "$commit_rate")")
}

for s in $scenarios; do run_scenario "$s"; done

# ---- 7. invariants ------------------------------------------------------------------------------
echo
echo "=== invariants"
for _ in $(seq 100); do
  left=$(sql "SELECT count(*) FROM local_webhook_events WHERE delivered_at IS NULL AND failed_at IS NULL")
  [ "$left" = 0 ] && break
  sleep 0.1
done

check() {  # NAME SQL-returning-a-count-of-violations
  local n
  n=$(sql "$2")
  if [ "$n" = 0 ]; then
    printf '  ok    %s\n' "$1"
  else
    printf '  FAIL  %s: %s\n' "$1" "$n"
    check_failed=1
  fi
}

cat >"$work/sold.sql" <<'SQL'
CREATE TEMP VIEW sold AS
SELECT b.listing_id, b.scenario, b.initial, l.quantity,
       coalesce((SELECT sum(oi.quantity) FROM order_items oi JOIN orders o ON o.id = oi.order_id
                 WHERE oi.listing_id = b.listing_id AND o.status IN ('paid', 'completed')
                 AND oi.status <> 'cancelled'), 0) AS paid,
       coalesce((SELECT sum(oi.quantity) FROM order_items oi JOIN orders o ON o.id = oi.order_id
                 WHERE oi.listing_id = b.listing_id AND o.status = 'pending_payment'
                 AND o.expires_at > now()), 0) AS reserved
FROM bench_listings b JOIN listings l ON l.id = b.listing_id;
SQL
sold_sql() { psql "$db_url" -X -q -v ON_ERROR_STOP=1 -tA -f "$work/sold.sql" -c "$1"; }
checkq() { local n; n=$(sold_sql "$2"); check_one "$1" "$n"; }
check_one() {
  if [ "$2" = 0 ]; then printf '  ok    %s\n' "$1"; else printf '  FAIL  %s: %s\n' "$1" "$2"; check_failed=1; fi
}

checkq "quantity >= 0 on every bench listing" "SELECT count(*) FROM sold WHERE quantity < 0"
checkq "paid order lines = initial - current quantity, per listing" \
  "SELECT count(*) FROM sold WHERE paid <> initial - quantity"
checkq "no listing sold more than its stock" "SELECT count(*) FROM sold WHERE paid > initial"
if [[ " $scenarios " == *" sellout "* ]]; then
  checkq "the sellout listing sold exactly its stock ($sellout_stock) and has 0 left" \
    "SELECT count(*) FROM sold WHERE scenario = 'sellout' AND (paid <> initial OR quantity <> 0)"
fi
check "every succeeded payment intent's order is paid" \
  "SELECT count(*) FROM local_payment_intents i JOIN orders o ON o.id = i.order_id
   WHERE i.status = 'succeeded' AND o.status NOT IN ('paid', 'completed')"
check "no webhook event left undelivered" \
  "SELECT count(*) FROM local_webhook_events WHERE delivered_at IS NULL"
check "no refund (nothing paid late or twice)" "SELECT count(*) FROM refunds"
check "no order item paid twice (one payment event applied per order)" \
  "SELECT count(*) FROM (SELECT order_id FROM payment_events WHERE outcome = 'paid'
   GROUP BY order_id HAVING count(*) > 1) t"

# Redis counters: where one exists it must equal PostgreSQL's available (quantity - reserved).
sold_sql "SELECT listing_id || ' ' || (quantity - reserved) FROM sold ORDER BY listing_id" >"$work/available"
cut -d' ' -f1 "$work/available" | sed 's/^/GET stock:/' | redis-cli -p "$REDIS_PORT" -n "$redis_db" >"$work/counters"
paste -d' ' "$work/available" "$work/counters" >"$work/compare"
present=$(awk '$3 != "" { n++ } END { print n + 0 }' "$work/compare")
mismatched=$(awk '$3 != "" && $3 != $2 { n++ } END { print n + 0 }' "$work/compare")
check_one "Redis stock:<id> = PostgreSQL available, on the $present listings that have a counter" "$mismatched"
if [ "$mismatched" != 0 ]; then
  awk '$3 != "" && $3 != $2 { print "    listing " $1 ": PostgreSQL " $2 ", Redis " $3 }' "$work/compare" | sed -n '1,5p'
fi

echo
echo "per scenario (listings, initial stock, sold = paid lines, left, pending reservations):"
sold_sql "SELECT scenario, count(*), sum(initial), sum(paid), sum(quantity), sum(reserved)
          FROM sold GROUP BY scenario ORDER BY scenario" | tr '|' ' ' |
  awk '{ printf "  %-8s %6d listings  initial %9d  sold %7d  left %9d  reserved %d\n", $1, $2, $3, $4, $5, $6 }'
echo "orders by status: $(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status) t")"
echo "webhook delay, confirm -> order paid in PostgreSQL (intent updated_at to paid_at, ms): $(sql "SELECT 'p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1) || ', p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1) || ', max ' || round(max(d)::numeric, 1) FROM (SELECT extract(epoch FROM o.paid_at - i.updated_at) * 1000 AS d FROM orders o JOIN local_payment_intents i ON i.order_id = o.id WHERE o.paid_at IS NOT NULL) t")"

# The reserved-stock subquery (server/src/storage/pg/stock_sql.hpp) runs for the listing on every
# cart PUT (twice) and order POST: it walks every order line the listing ever had.
if [[ " $scenarios " == *" hot "* ]]; then
  hot_id=$(cat "$work/listings.hot")
  echo "reserved-stock subquery on the hot listing ($(sql "SELECT count(*) FROM order_items WHERE listing_id = $hot_id") order lines): $(sql "EXPLAIN (ANALYZE, FORMAT JSON) SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.listing_id = $hot_id AND o.status = 'pending_payment' AND o.expires_at > now()" | grep -o '"Execution Time": [0-9.]*' | cut -d' ' -f3) ms (EXPLAIN ANALYZE, warm)"
fi

# ---- stop ---------------------------------------------------------------------------------------
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
problems=$(grep -ciE '\b(error|critical)\b' "$work/server.log" || true)
warnings=$(grep -ciE '\bwarn' "$work/server.log" || true)
echo "server log: $problems error lines, $warnings warnings"
if [ "$problems" != 0 ] || [ "$warnings" != 0 ]; then
  grep -iE '\b(error|critical|warn)' "$work/server.log" | sed -n '1,10p' | cut -c1-300 | sed 's/^/  /'
fi

echo
echo "=== summary ($(nproc) CPUs; $buyers buyers; window ${duration} s after ${warmup} s warmup; total $(($(date +%s) - started_at)) s)"
printf '%s\n' "${summary[@]}"
if [ "$check_failed" = 0 ]; then
  echo "invariants: all hold"
else
  echo "invariants: FAILED (see above)"
  exit 1
fi
