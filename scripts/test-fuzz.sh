#!/usr/bin/env bash
# Fuzzing on stable Rust: builds the fuzz crate (fuzz/) with libFuzzer's
# coverage instrumentation through plain cargo and the flags `cargo fuzz
# build -s none` passes (no cargo-fuzz, no nightly, no RUSTC_BOOTSTRAP), then
# runs every target named in fuzz/Cargo.toml's [[bin]] sections for
# FUZZ_SECONDS (default 60) each, keeping what it learns in fuzz/corpus/<target>.
# Fails if any target finds a crash, a panic or a hang (the input that did
# it is left in fuzz/artifacts/<target>/, beside libFuzzer's full log) or
# runs without coverage instrumentation. Installs a C++ compiler (libFuzzer
# is built from source) only when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== fuzz: %s\n' "$*"; }

seconds="${FUZZ_SECONDS:-60}"
# The machine's default toolchain (stable in CI); FUZZ_TOOLCHAIN picks another.
plus=()
[ -n "${FUZZ_TOOLCHAIN:-}" ] && plus=("+$FUZZ_TOOLCHAIN")
# No nightly features may creep in, whatever the caller's environment says.
unset RUSTC_BOOTSTRAP CARGO_ENCODED_RUSTFLAGS

step "C++ compiler for libFuzzer"
if ! command -v c++ >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++
fi
c++ --version | head -n 1
rustc "${plus[@]}" --version

step "targets in fuzz/Cargo.toml"
mapfile -t targets < <(awk '
    /^\[\[bin\]\]/ { in_bin = 1; next }
    /^\[/ { in_bin = 0 }
    in_bin && /^[[:space:]]*name[[:space:]]*=/ {
        if (match($0, /"[^"]*"/)) print substr($0, RSTART + 1, RLENGTH - 2)
    }' fuzz/Cargo.toml)
if [ "${#targets[@]}" -eq 0 ]; then
    echo "no [[bin]] targets found in fuzz/Cargo.toml" >&2
    exit 1
fi
printf '%s\n' "${targets[@]}"

step "instrumented build (release, debug assertions)"
host="$(rustc "${plus[@]}" -vV | sed -n 's/^host: //p')"
# An explicit --target keeps these flags off build scripts and proc macros.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cllvm-args=-sanitizer-coverage-stack-depth \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Cdebug-assertions -Ccodegen-units=1"
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
target_dir="${CARGO_TARGET_DIR:-fuzz/target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
cargo "${plus[@]}" build --manifest-path fuzz/Cargo.toml --locked --release \
    --target "$host" --target-dir "$target_dir" --bins

failed=()
for target in "${targets[@]}"; do
    step "$target for ${seconds}s"
    corpus="fuzz/corpus/$target"
    artifacts="fuzz/artifacts/$target"
    log="$artifacts/fuzz.log"
    mkdir -p "$corpus" "$artifacts"
    # -max_total_time bounds the run; timeout is the backstop should the
    # binary ever ignore it. -timeout turns a single slow input into a finding.
    status=0
    timeout --kill-after=10 "$((seconds + 120))" \
        "$target_dir/$host/release/$target" \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?
    grep -E '^INFO: Loaded 1 modules|INITED|DONE|^stat::' "$log" || true
    counters="$(sed -n 's/^INFO: Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -n 1)"
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log" >&2
        echo "fuzz: $target FAILED (exit $status); full log in $log; reproduce with" >&2
        echo "  $target_dir/$host/release/$target $artifacts/<crash-file>" >&2
        failed+=("$target")
    elif [ "${counters:-0}" -eq 0 ]; then
        echo "fuzz: $target ran without coverage instrumentation; full log in $log" >&2
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: targets that failed: ${failed[*]}" >&2
    exit 1
fi
printf '\nfuzz: %d targets ran %ss each without a crash\n' "${#targets[@]}" "$seconds"
