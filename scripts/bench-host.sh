#!/usr/bin/env bash
# Load benchmark of tessera-host (not a test): wrk on loopback against the
# same server in one run, first `GET /healthz` (no authentication), then
# `GET /api/whoami` with a valid token (parse, hash, SQLite lookup and
# verification inside the plugin). Prints req/s, p50, p99 and the ratio.
#
# Usage: bash scripts/bench-host.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --quiet --profile host -p tessera-host
bin=target/host/tessera-host

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
echo bench-password | "$bin" --db "$work/t.db" user add bench --admin >/dev/null
"$bin" --db "$work/t.db" serve --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on //p' "$work/out")
token=$(curl -sf -u bench:bench-password -X POST "$url/api/usertokens" -H 'Content-Type: application/json' \
    -d '{"name":"bench","scope":{"preset":"read"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

run() { # key, label, path, extra wrk args...
    local name=$1 label=$2 path=$3; shift 3
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" "$url$path" >"$work/$name.txt"
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
    errors=$(awk '/Non-2xx/ {print $5}' "$work/$name.txt")
    printf '%-26s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$label" "$rps" "$p50" "$p99" "${errors:-0}"
    echo "$rps" >"$work/$name.rps"
}

echo "wrk -t2 -c$connections -d${seconds}s on loopback, 2 cores shared by server and load"
run healthz "GET /healthz (no auth)" /healthz
run whoami "GET /api/whoami (token)" /api/whoami -H "Authorization: Bearer $token"
python3 - "$work" <<'PY'
import pathlib, sys
work = pathlib.Path(sys.argv[1])
base = float((work / "healthz.rps").read_text())
auth = float((work / "whoami.rps").read_text())
print(f"authenticated / unauthenticated throughput: {auth / base:.2f}")
PY
