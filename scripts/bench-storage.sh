#!/usr/bin/env bash
# Storage benchmarks for the token service (not tests), all in one run:
#  1. verify throughput (wrk, GET /api/whoami with a token) of one host on
#     SQLite vs one host on PostgreSQL, and two hosts on one PostgreSQL;
#  2. lookup latency by hash with 1,000 vs 1,000,000 stored tokens, on
#     both backends (the index must keep it flat).
# PostgreSQL runs in a throwaway cluster on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq postgresql; }
cargo build --quiet --profile host -p tessera-host --example lookup --bin tessera-host
bin=target/host/tessera-host
lookup=target/host/examples/lookup
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
chown postgres:postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust -U postgres --no-sync >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-p $port -k $work -c listen_addresses=127.0.0.1" start >/dev/null
psql() { runuser -u postgres -- "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -q "$@"; }
psql -c "CREATE DATABASE bench" -c "CREATE DATABASE small" -c "CREATE DATABASE large"
pg="postgres://postgres@127.0.0.1:$port"

start() { # database, name -> prints the URL
    "$bin" --db "$1" serve --listen 127.0.0.1:0 >"$work/$2.out" 2>"$work/$2.log" &
    pids+=($!)
    for _ in $(seq 100); do grep -q listening "$work/$2.out" 2>/dev/null && break; sleep 0.1; done
    sed -n 's/.*listening on //p' "$work/$2.out"
}
token() { # url
    curl -sf -u bench:bench-password -X POST "$1/api/usertokens" -H 'Content-Type: application/json' \
        -d '{"name":"bench","scope":{"preset":"read"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
rps() { # url token seconds
    wrk -t1 -c16 -d"$3s" -H "Authorization: Bearer $2" "$1/api/whoami" | awk '/Requests\/sec/ {print $2}'
}

echo "== verify throughput: wrk -t1 -c16 -d${seconds}s GET /api/whoami"
for db in "$work/bench.db" "$pg/bench"; do
    echo bench-password | "$bin" --db "$db" user add bench --admin >/dev/null
done
sqlite_url=$(start "$work/bench.db" sqlite)
sqlite_rps=$(rps "$sqlite_url" "$(token "$sqlite_url")" "$seconds")
pg_a=$(start "$pg/bench" pg-a)
pg_token=$(token "$pg_a")
pg_rps=$(rps "$pg_a" "$pg_token" "$seconds")
pg_b=$(start "$pg/bench" pg-b)
rps "$pg_a" "$pg_token" "$seconds" >"$work/a.rps" &
rps "$pg_b" "$pg_token" "$seconds" >"$work/b.rps"
wait %1 2>/dev/null || wait
two_rps=$(python3 -c "print(round($(cat "$work/a.rps") + $(cat "$work/b.rps"), 2))")
printf '  one host, SQLite       %10s req/s\n' "$sqlite_rps"
printf '  one host, PostgreSQL   %10s req/s   (%.2f of SQLite)\n' "$pg_rps" "$(python3 -c "print($pg_rps / $sqlite_rps)")"
printf '  two hosts, PostgreSQL  %10s req/s   (%.2f of one host; 2 cores for both hosts, PostgreSQL and wrk)\n' \
    "$two_rps" "$(python3 -c "print($two_rps / $pg_rps)")"

echo "== lookup latency by hash, 1,000 vs 1,000,000 tokens"
fill_sql="INSERT INTO tokens (id, user_id, hash, record)"
for rows in 1000 1000000; do
    db="$work/rows-$rows.db"
    "$bin" --db "$db" token list --user nobody >/dev/null  # creates and migrates
    sqlite3_fill="WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $rows - 1)
        $fill_sql SELECT 't' || i, 'u' || (i % 1000), printf('%064x', i), '{}' FROM n;"
    python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()" "$db" "$sqlite3_fill"
    printf '  SQLite     '; "$lookup" "$db" "$rows"
done
for pair in "small 1000" "large 1000000"; do
    set -- $pair
    "$bin" --db "$pg/$1" token list --user nobody >/dev/null
    psql -d "$1" -c "$fill_sql SELECT 't' || i, 'u' || (i % 1000), lpad(to_hex(i), 64, '0'), '{}' FROM generate_series(0, $2 - 1) AS i" -c "ANALYZE tokens"
    printf '  PostgreSQL '; "$lookup" "$pg/$1" "$2"
done
