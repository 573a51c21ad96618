//! Builds the token plugin (`wasm/component`) for `wasm32-wasip2` and hands
//! its path to the host, which embeds it, so `cargo build -p tessera-host`
//! is all a new user runs.
//!
//! The nested build uses its own target directory (`target/plugin`), so it
//! never waits on the lock of the build that runs this script. Set
//! `TESSERA_COMPONENT_WASM` to a prebuilt component to skip it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    println!("cargo:rerun-if-env-changed=TESSERA_COMPONENT_WASM");
    if let Ok(prebuilt) = env::var("TESSERA_COMPONENT_WASM") {
        println!("cargo:rustc-env=TESSERA_COMPONENT_WASM={prebuilt}");
        return;
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .expect("host-example sits in the workspace");
    for watched in ["wit", "core/src", "core/Cargo.toml", "wasm/component"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    ensure_target();
    let target_dir = root.join("target/plugin");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "tessera-component",
            "--target",
            TARGET,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        // Settings meant for the outer build (clippy's wrapper, its flags)
        // must not leak into the plugin's.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("cannot run cargo to build the token plugin");
    assert!(status.success(), "building the token plugin failed");
    let wasm = target_dir
        .join(TARGET)
        .join("release/tessera_component.wasm");
    assert!(Path::new(&wasm).exists(), "no plugin at {}", wasm.display());
    println!("cargo:rustc-env=TESSERA_COMPONENT_WASM={}", wasm.display());
}

/// Installs the `wasm32-wasip2` standard library through rustup when it is
/// missing, so a fresh machine needs no manual step.
fn ensure_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let installed = sysroot.is_some_and(|root| root.join("lib/rustlib").join(TARGET).exists());
    if !installed {
        let status = Command::new("rustup")
            .args(["target", "add", TARGET])
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "the {TARGET} target is missing; run `rustup target add {TARGET}`"
        );
    }
}
