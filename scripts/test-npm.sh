#!/usr/bin/env bash
# Builds and tests the npm package `tessera-tokens` from scratch: the wasm
# adapter, its glue and bundles, tsc --strict, clippy for the wasm target,
# the node --test suites (every shared vector included) and the runtime-
# conformance script under Node 20, Deno, Bun, workerd and Vercel's edge
# runtime, and the stores of their own: D1 in workerd (Miniflare 3), Deno
# KV in Deno, and the introspection store against a real tessera-host.
# Needs only Rust, Node 20 + npm and Python; installs the rest (the wasm32
# target, wasm-bindgen-cli at the Cargo.lock version, the npm
# devDependencies). Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== npm: %s\n' "$*"; }

step "toolchain: node $(node --version), npm $(npm --version), $(rustc --version)"
case "$(node --version)" in
    v20.* | v2[1-9].*) ;;
    *) echo "Node 20 or later is required" >&2; exit 1 ;;
esac

step "rustup target wasm32-unknown-unknown"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

step "wasm-bindgen-cli at the Cargo.lock version"
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -z "$bindgen_version" ]; then
    echo "Cargo.lock does not pin wasm-bindgen" >&2
    exit 1
fi
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]; then
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
wasm-bindgen --version

step "npm ci (devDependencies: typescript, esbuild, binaryen, deno, bun, workerd, edge-runtime, jose)"
bash scripts/npm-ci-if-changed.sh npm

step "build the package from scratch (cargo, wasm-bindgen, wasm-opt, esbuild, tsc --strict)"
node npm/scripts/build.mjs

step "tsc --strict --noEmit"
npm/node_modules/.bin/tsc -p npm/tsconfig.json --noEmit

step "clippy for the wasm target (warnings are errors)"
cargo clippy -p tessera-wasm --target wasm32-unknown-unknown -- -D warnings

step "rustfmt and unit tests (the wasm adapter)"
cargo fmt -p tessera-wasm -- --check
cargo test -p tessera-wasm --lib

step "node --test: the shared vectors and the API"
(cd npm && node --test test/*.test.mjs)

step "runtime conformance: Node 20, Deno, Bun, workerd, edge-runtime"
node tests/runtimes/run.mjs

step "D1Store: the store suite and a Worker, in workerd through Miniflare 3"
(cd npm && node --test test/d1/)

step "DenoKvStore: the store suite in Deno, over a local KV file"
(cd npm && DENO_NO_UPDATE_CHECK=1 DENO_DIR="$PWD/node_modules/.cache/deno" \
    node_modules/.bin/deno test --quiet --no-check --allow-read --allow-write --allow-env --unstable-kv test/deno-kv/)

step "IntrospectionStore: against a real tessera-host, in Node, workerd and edge-runtime"
cargo build --quiet -p tessera-host
(cd npm && node --test test/remote/)

step "npm pack: what a user downloads (the licences, the bundles, the .wasm, the types)"
(cd npm && npm pack --dry-run --json --ignore-scripts) | python3 -c '
import json, sys
pack = json.load(sys.stdin)[0]
files = {f["path"] for f in pack["files"]}
needed = {"package.json", "LICENSE-MIT", "LICENSE-APACHE", "dist/index.mjs", "dist/node.mjs",
          "dist/node.cjs", "dist/workerd.mjs", "dist/edge-light.mjs", "dist/tessera.wasm",
          "dist/types/index.d.ts"}
for store, types in [("redis", "redis-store"), ("d1", "d1-store"), ("deno-kv", "deno-kv-store"),
                     ("remote", "introspection-store")]:
    needed |= {f"dist/{store}.mjs", f"dist/{store}.cjs", f"dist/types/{types}.d.ts"}
missing = sorted(needed - files)
if missing:
    sys.exit(f"npm pack leaves out {missing}")
name, packed, unpacked = pack["filename"], pack["size"], pack["unpackedSize"]
print(f"{name}: {len(files)} files, {packed} bytes packed, {unpacked} unpacked")
'

printf '\nnpm package: all checks passed\n'
