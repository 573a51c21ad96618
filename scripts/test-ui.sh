#!/usr/bin/env bash
# Tests the token page (tessera-host serve's browser UI) end to end: Debian's
# Chromium in headless mode, driven by playwright-core, against the real
# tessera-host binary on a temporary database. Screenshots of every step go
# to tests/ui/artifacts/ (not committed).
#
# Safe to run again and again; installs what it needs: the chromium package
# (only when /usr/bin/chromium is missing) and tests/ui's npm packages (only
# when node_modules does not match package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Chromium (Debian's package)"
if [ ! -x /usr/bin/chromium ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
fi
# Debian's wrapper script prints a harmless shell warning on some machines.
/usr/bin/chromium --version 2>/dev/null

step "npm ci (tests/ui)"
bash scripts/npm-ci-if-changed.sh tests/ui

step "type check: the page script and the test (tsc --strict --checkJs)"
tests/ui/node_modules/.bin/tsc -p host-example/ui/tsconfig.json
tests/ui/node_modules/.bin/tsc -p tests/ui/tsconfig.json
echo "no type errors"

step "cargo build -p tessera-host"
cargo build -p tessera-host
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

step "the token page end to end in headless Chromium"
(cd tests/ui && TESSERA_HOST_BIN="$target_dir/debug/tessera-host" node --test --test-concurrency=1 test/)
echo "screenshots: tests/ui/artifacts/"
