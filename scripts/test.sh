#!/usr/bin/env bash
# Runs every test of the repository: formatting, lints, the Rust test suites,
# the shared test vectors (regenerated and diffed) and their independent
# Python oracle. Safe to run again and again; installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

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

printf '\nall checks passed\n'
