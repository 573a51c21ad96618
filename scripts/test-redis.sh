#!/usr/bin/env bash
# Tests the npm package's Redis store (`tessera-tokens/redis`) against a
# real Redis: installs Debian's redis-server when it is missing, builds the
# package only when npm/dist is missing or older than its sources, starts a
# redis-server of its own on a free loopback port in a temporary directory
# (no persistence), runs the store conformance suite over MemoryStore and
# RedisStore (including Redis stopped and hung mid-run), and stops Redis on
# exit, whatever happens. Needs Rust, Node 20 + npm and Debian's apt-get.
# Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== redis: %s\n' "$*"; }

step "toolchain: node $(node --version), npm $(npm --version)"
case "$(node --version)" in
    v20.* | v2[1-9].*) ;;
    *) echo "Node 20 or later is required" >&2; exit 1 ;;
esac

step "redis-server from Debian's packages"
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    # Another apt-get may hold the lock for a while (other scripts on the machine).
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq redis-server
fi
redis-server --version

step "npm ci (only when node_modules does not match package-lock.json)"
bash scripts/npm-ci-if-changed.sh npm

step "build the package (only when npm/dist is missing or stale)"
stamp=npm/dist/redis.mjs
stale=""
for file in npm/dist/index.mjs npm/dist/node.mjs npm/dist/node.cjs npm/dist/redis.cjs npm/dist/types/index.d.ts npm/dist/types/redis-store.d.ts "$stamp"; do
    if [ ! -e "$file" ]; then stale="$file is missing"; break; fi
done
if [ -z "$stale" ]; then
    newer=$(find npm/src npm/scripts/build.mjs npm/package.json npm/package-lock.json npm/tsconfig.json \
        core wasm/bindgen Cargo.toml Cargo.lock \
        -path npm/src/generated -prune -o -type f -newer "$stamp" -print | head -n 1)
    if [ -n "$newer" ]; then stale="$newer is newer than $stamp"; fi
fi
if [ -n "$stale" ]; then
    echo "rebuilding: $stale"
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown
    fi
    export PATH="$HOME/.cargo/bin:$PATH"
    node npm/scripts/build.mjs
else
    echo "npm/dist is up to date"
fi

step "tsc --strict --noEmit"
npm/node_modules/.bin/tsc -p npm/tsconfig.json --noEmit

step "start redis-server on a free loopback port (temporary directory, no persistence)"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/tessera-redis.XXXXXX")
redis_pid=""
cleanup() {
    status=$?
    if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
        kill "$redis_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$redis_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
        echo "redis-server (pid $redis_pid) stopped"
    fi
    if [ "$status" -ne 0 ] && [ -f "$workdir/redis.log" ]; then
        echo "--- the end of redis.log:" >&2
        tail -n 20 "$workdir/redis.log" >&2
    fi
    rm -rf "$workdir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
port=""
for _ in 1 2 3 4 5; do
    candidate=$(free_port)
    redis-server --port "$candidate" --bind 127.0.0.1 --dir "$workdir" --save '' --appendonly no \
        --daemonize no --logfile "$workdir/redis.log" &
    redis_pid=$!
    for _ in $(seq 100); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$candidate" ping 2>/dev/null || true)" = "PONG" ]; then
            port=$candidate
            break
        fi
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -n "$port" ]; then break; fi
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=""
done
if [ -z "$port" ]; then
    echo "redis-server did not start" >&2
    exit 1
fi
echo "redis-server (pid $redis_pid) on 127.0.0.1:$port"

step "node --test: the store conformance suite over MemoryStore and RedisStore"
(
    cd npm
    TESSERA_REDIS_URL="redis://127.0.0.1:$port" TESSERA_REDIS_SERVER="$(command -v redis-server)" \
        timeout 600 node --test test/store-conformance.test.mjs test/redis/redis-store.test.mjs
)

printf '\nredis store: all checks passed\n'
