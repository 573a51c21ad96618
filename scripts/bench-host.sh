#!/usr/bin/env bash
# Load benchmark of tessera-host (not a test), everything in one run on
# loopback with wrk, 2 cores shared by the servers, PostgreSQL and wrk:
#  1. GET /healthz (no authentication): the baseline;
#  2. GET /api/whoami with one hot token, on SQLite and on PostgreSQL, with
#     the verified-record cache (the default) and without it
#     (--token-cache 0, every request reads the database);
#  3. a mixed run on each backend: 95% GET /api/whoami spread over 10,000
#     distinct tokens, 5% token writes (half creations, half deletions).
# Prints req/s, p50, p99, non-2xx answers and ratios against (1).
#
# Usage: bash scripts/bench-host.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq postgresql; }
cargo build --quiet --profile host -p tessera-host
bin=$PWD/target/host/tessera-host
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)

work=$(mktemp -d)
pids=()
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    as_postgres "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres:postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_postgres "$pgbin/initdb" -D "$work/pg" -A trust -U postgres --no-sync >/dev/null
as_postgres "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-p $port -k $work -c listen_addresses=127.0.0.1" start >/dev/null
for name in hot mixed; do
    as_postgres "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE $name"
done
pg="postgres://postgres@127.0.0.1:$port"

server=""
start() { # database, name, extra serve args... -> sets $url
    local db=$1 name=$2; shift 2
    "$bin" --db "$db" serve --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.log" &
    server=$!
    pids+=("$server")
    for _ in $(seq 100); do grep -q listening "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
    url=$(sed -n 's/.*listening on //p' "$work/$name.out")
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; }
token() { # -> a new token of user bench (password)
    curl -sf -u bench:bench-password -X POST "$url/api/usertokens" -H 'Content-Type: application/json' \
        -d '{"name":"bench","scope":{"preset":"all"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
run() { # key, label, path, extra wrk args...
    local name=$1 label=$2 path=$3; shift 3
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" "$url$path" >"$work/$name.txt"
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
    errors=$(awk '/Non-2xx/ {print $5}' "$work/$name.txt")
    printf '%-44s %9s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$label" "$rps" "$p50" "$p99" "${errors:-0}"
    printf '%s %s %s %s\n' "$rps" "$p50" "$p99" "${errors:-0}" >"$work/$name.res"
}

# 10,000 tokens for the mixed runs: 100 users, each with a parent token
# (by password) that creates 99 more. Written as lines "token" to
# $work/<name>.tokens, and one parent per line to $work/<name>.parents.
fill() { # name
    python3 - "$url" "$work/$1" <<'PY'
import base64, http.client, json, sys, urllib.parse
url, out = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port)
def post(auth, name):
    conn.request("POST", "/api/usertokens", json.dumps({"name": name, "scope": {"preset": "all"}}),
                 {"Authorization": auth, "Content-Type": "application/json"})
    r = conn.getresponse(); body = r.read()
    assert r.status == 201, body
    return json.loads(body)["token"]
tokens, parents = [], []
for n in range(100):
    basic = base64.b64encode(f"u{n}:bench-password".encode()).decode()
    parent = post("Basic " + basic, "parent")
    parents.append(parent); tokens.append(parent)
    tokens += [post("Bearer " + parent, f"t{i}") for i in range(99)]
open(out + ".tokens", "w").write("\n".join(tokens) + "\n")
open(out + ".parents", "w").write("\n".join(parents) + "\n")
PY
}

cat >"$work/mixed.lua" <<'LUA'
-- 95% GET /api/whoami over the filled tokens, 5% writes: a creation by a
-- random user's parent token, or the deletion of one this thread created.
local tokens, parents, made, counter, threads = {}, {}, {}, 0, 0
function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end
function init(args)
    for line in io.lines(os.getenv("MIXED_TOKENS")) do tokens[#tokens + 1] = "Bearer " .. line end
    for line in io.lines(os.getenv("MIXED_PARENTS")) do parents[#parents + 1] = "Bearer " .. line end
    math.randomseed(os.time() * 100 + id)
end
function request()
    local r = math.random(1000)
    if r <= 950 then
        return wrk.format("GET", "/api/whoami", { Authorization = tokens[math.random(#tokens)] })
    end
    if r > 975 and #made > 0 then
        local victim = table.remove(made, math.random(#made))
        return wrk.format("DELETE", "/api/usertokens/" .. victim.id, { Authorization = victim.parent })
    end
    counter = counter + 1
    local parent = parents[math.random(#parents)]
    local body = '{"name":"mixed-' .. id .. '-' .. counter .. '","scope":{"preset":"read"}}'
    return wrk.format("POST", "/api/usertokens",
        { Authorization = parent, ["Content-Type"] = "application/json" }, body)
end
function response(status, headers, body)
    if status == 201 then
        local id = body:match('"id":"([^"]+)"')
        local user = body:match('"userId":"([^"]+)"')
        if id and user then
            local n = tonumber(user:sub(2)) + 1
            made[#made + 1] = { id = id, parent = parents[n] }
        end
    end
end
LUA

users() { # database
    for n in $(seq 0 99); do echo bench-password | "$bin" --db "$1" user add "u$n" --admin >/dev/null; done
}
for db in "$work/hot.db" "$pg/hot"; do echo bench-password | "$bin" --db "$db" user add bench --admin >/dev/null; done
users "$work/mixed.db"
users "$pg/mixed"

echo "wrk -t2 -c$connections -d${seconds}s on loopback; 2 cores shared by the servers, PostgreSQL and wrk"
start "$work/hot.db" sqlite
hot=$(token)
run healthz "GET /healthz (no auth)" /healthz
run sqlite "GET /api/whoami, SQLite, cached" /api/whoami -H "Authorization: Bearer $hot"
stop
start "$work/hot.db" sqlite-uncached --token-cache 0
run sqlite0 "GET /api/whoami, SQLite, --token-cache 0" /api/whoami -H "Authorization: Bearer $hot"
stop
start "$pg/hot" pg
pg_hot=$(token)
run pg "GET /api/whoami, PostgreSQL, cached" /api/whoami -H "Authorization: Bearer $pg_hot"
stop
start "$pg/hot" pg-uncached --token-cache 0
run pg0 "GET /api/whoami, PostgreSQL, --token-cache 0" /api/whoami -H "Authorization: Bearer $pg_hot"
stop
start "$work/mixed.db" sqlite-mixed
fill sqlite-mixed
MIXED_TOKENS=$work/sqlite-mixed.tokens MIXED_PARENTS=$work/sqlite-mixed.parents \
    run sqlite-mixed "mixed (95% verify of 10,000), SQLite" / -s "$work/mixed.lua"
stop
start "$pg/mixed" pg-mixed
fill pg-mixed
MIXED_TOKENS=$work/pg-mixed.tokens MIXED_PARENTS=$work/pg-mixed.parents \
    run pg-mixed "mixed (95% verify of 10,000), PostgreSQL" / -s "$work/mixed.lua"
stop

python3 - "$work" <<'PY'
import pathlib, sys
work = pathlib.Path(sys.argv[1])
def res(name):
    rps, p50, p99, errors = (work / f"{name}.res").read_text().split()
    return float(rps), p50, p99
def ms(text):
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)
base, _, base_p99 = res("healthz")
print("ratios (same run):")
for name, label in [("sqlite", "whoami SQLite cached"), ("sqlite0", "whoami SQLite uncached"),
                    ("pg", "whoami PostgreSQL cached"), ("pg0", "whoami PostgreSQL uncached"),
                    ("sqlite-mixed", "mixed SQLite"), ("pg-mixed", "mixed PostgreSQL")]:
    rps, _, p99 = res(name)
    print(f"  {label:28s} {rps / base:5.2f} of /healthz throughput, p99 {ms(p99) / ms(base_p99):5.2f}x /healthz p99")
print(f"  PostgreSQL / SQLite, cached hot token: {res('pg')[0] / res('sqlite')[0]:.2f}")
print(f"  SQLite cached / uncached: {res('sqlite')[0] / res('sqlite0')[0]:.2f}")
PY
