#!/usr/bin/env bash
# Builds the filter for Envoy: `cargo build --profile envoy` for
# wasm32-wasip1 (fat LTO, opt-level "z", panic = "abort"), then drops the
# custom sections only tools read from a copy: `name` (function names for
# stack traces; about 40 KB gzipped), `producers` (toolchain versions) and
# `target_features` (what a linker checks when it links object files; a
# runtime validates the code itself). Every other section is kept. Prints
# the path of the file to load in Envoy.
set -euo pipefail
cd "$(dirname "$0")/../.."
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1 >&2
cargo build --quiet -p tessera-envoy --target wasm32-wasip1 --profile envoy >&2
python3 - target/wasm32-wasip1/envoy/tessera_envoy.wasm target/wasm32-wasip1/envoy/tessera_envoy.min.wasm <<'PY'
import sys

data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\0asm", "not a wasm module"


def leb(at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


out = bytearray(data[:8])
at = 8
while at < len(data):
    start = at
    section = data[at]
    size, at = leb(at + 1)
    name = b""
    if section == 0:
        length, name_at = leb(at)
        name = data[name_at:name_at + length]
    if name not in (b"name", b"producers", b"target_features"):
        out += data[start:at + size]
    at += size
open(sys.argv[2], "wb").write(out)
PY
echo target/wasm32-wasip1/envoy/tessera_envoy.min.wasm
