#!/usr/bin/env bash
# Runs every test of the repository: formatting, lints (native and wasm
# targets), the Rust test suites (core, plugin, host end to end), the shared
# test vectors (regenerated and diffed) and their independent Python
# oracle; then each surface that needs servers or runtimes of its own: the
# npm package on every runtime, PostgreSQL, Redis, Envoy and the token page
# in Chromium (scripts/test-*.sh); last, every fuzz target for a bounded
# time (scripts/test-fuzz.sh). Safe to run again and again; installs
# what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# CI builds each crate once: incremental caches would only take disk.
if [ "${CI:-}" = true ]; then
    export CARGO_INCREMENTAL=0
fi
df -h . | sed 's/^/disk: /'

step "rustup targets"
for target in wasm32-wasip2 wasm32-unknown-unknown; do
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done

step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "clippy for the plugin's wasm32-wasip2 target"
cargo clippy -p tessera-component --target wasm32-wasip2 -- -D warnings

step "cargo test"
cargo test --workspace

step "vector drift: regenerate tests/vectors and diff"
cargo run --quiet -p tessera-core --example vectors >/dev/null
if ! git diff --exit-code -- tests/vectors; then
    echo "tests/vectors changed when regenerated: commit the new vectors" >&2
    exit 1
fi
if [ -n "$(git ls-files --others --exclude-standard -- tests/vectors)" ]; then
    echo "tests/vectors has files git does not track: commit them" >&2
    exit 1
fi

step "vectors against an independent Python oracle"
python3 tests/check_vectors.py

step "tessera-core as crates.io takes it: cargo package (with its licences), cargo doc without warnings"
# --allow-dirty: a developer's uncommitted work is packaged as it stands (CI's clone is clean).
listed=$(cargo package -p tessera-core --list --allow-dirty)
for licence in LICENSE-MIT LICENSE-APACHE; do
    grep -qx "$licence" <<<"$listed" || { echo "cargo package leaves out $licence" >&2; exit 1; }
done
cargo package -p tessera-core --allow-dirty --quiet
RUSTDOCFLAGS="-D warnings" cargo doc -p tessera-core --no-deps --quiet

bash scripts/test-npm.sh
bash scripts/test-postgres.sh
bash scripts/test-redis.sh
bash scripts/test-envoy.sh
bash scripts/test-ui.sh
bash scripts/test-fuzz.sh

step "disk used by builds and packages"
du -sh target fuzz/target npm/node_modules 2>/dev/null || true
df -h . | sed 's/^/disk: /'

printf '\nall checks passed\n'
