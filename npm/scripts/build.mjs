// Builds the package from scratch: the Rust adapter to WebAssembly, its
// wasm-bindgen glue, wasm-opt, the bundles for each runtime and the type
// declarations. Run from anywhere: `node npm/scripts/build.mjs`.
//
// Installs wasm-bindgen-cli at the version Cargo.lock pins when the one on
// PATH (or in ~/.cargo/bin) is missing or different.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const root = dirname(pkg);
const bin = (name) => join(pkg, "node_modules", ".bin", name);

function run(command, args, options = {}) {
  console.log(`$ ${command} ${args.join(" ")}`);
  execFileSync(command, args, { stdio: "inherit", cwd: root, ...options });
}

/** The wasm-bindgen version Cargo.lock pins. */
function lockedBindgenVersion() {
  const lock = readFileSync(join(root, "Cargo.lock"), "utf8");
  const match = lock.match(/\[\[package\]\]\nname = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!match) {
    throw new Error("Cargo.lock does not pin wasm-bindgen");
  }
  return match[1];
}

/** A wasm-bindgen CLI of exactly `version`, installed when missing. */
function bindgenCli(version) {
  const candidates = ["wasm-bindgen", join(homedir(), ".cargo", "bin", "wasm-bindgen")];
  for (const candidate of candidates) {
    try {
      const out = execFileSync(candidate, ["--version"], { encoding: "utf8" });
      if (out.trim() === `wasm-bindgen ${version}`) {
        return candidate;
      }
    } catch {
      // Not there; try the next one.
    }
  }
  console.log(`wasm-bindgen-cli ${version} is missing: installing it (several minutes)`);
  run("cargo", ["install", "wasm-bindgen-cli", "--version", version]);
  return join(homedir(), ".cargo", "bin", "wasm-bindgen");
}

const generated = join(pkg, "src", "generated");
const build = join(pkg, "build");
const dist = join(pkg, "dist");
for (const dir of [generated, build, dist]) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

// 1. The adapter crate, for the browser-like wasm target.
run("cargo", ["build", "-p", "tessera-wasm", "--target", "wasm32-unknown-unknown", "--release"]);
const raw = join(root, "target", "wasm32-unknown-unknown", "release", "tessera_wasm.wasm");

// 2. The glue: `web` works in Node (initSync), Deno, Bun and workerd.
const version = lockedBindgenVersion();
run(bindgenCli(version), ["--target", "web", "--out-dir", generated, "--out-name", "tessera_wasm", raw]);

// 3. Optimise for speed; wasm-opt from npm (Debian's is too old).
const wasm = join(dist, "tessera.wasm");
run(bin("wasm-opt"), [
  "-O3",
  "--enable-bulk-memory",
  "--enable-nontrapping-float-to-int",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--strip-debug",
  "--strip-producers",
  join(generated, "tessera_wasm_bg.wasm"),
  "-o",
  wasm,
]);

// 4. One bundle per way of loading the module.
const bytesPlugin = {
  name: "tessera-wasm-bytes",
  setup(b) {
    b.onResolve({ filter: /^tessera:wasm-bytes$/ }, () => ({ path: wasm, namespace: "file" }));
  },
};
const modulePlugin = (specifier) => ({
  name: "tessera-wasm-module",
  setup(b) {
    b.onResolve({ filter: /^tessera:wasm-module$/ }, () => ({ path: specifier, external: true }));
  },
});
const common = {
  bundle: true,
  platform: "neutral",
  target: "es2022",
  loader: { ".wasm": "binary" },
  legalComments: "none",
  logLevel: "warning",
  // The glue's async loader reads import.meta.url; it is never called (the
  // entries instantiate synchronously) and is dropped as unused code, which
  // the check below confirms.
  logOverride: { "empty-import-meta": "silent" },
  absWorkingDir: pkg,
};
const inline = join(pkg, "src", "entry", "inline.ts");
const module = join(pkg, "src", "entry", "module.ts");
await esbuild.build({ ...common, entryPoints: [inline], format: "esm", outfile: join(dist, "index.mjs"), plugins: [bytesPlugin] });
await esbuild.build({ ...common, entryPoints: [inline], format: "cjs", outfile: join(dist, "index.cjs"), plugins: [bytesPlugin] });
await esbuild.build({ ...common, entryPoints: [module], format: "esm", outfile: join(dist, "workerd.mjs"), plugins: [modulePlugin("./tessera.wasm")] });
await esbuild.build({ ...common, entryPoints: [module], format: "esm", outfile: join(dist, "edge-light.mjs"), plugins: [modulePlugin("./tessera.wasm?module")] });
// The Redis store (`tessera-tokens/redis`): its own file, so that the main
// entries (and workerd and edge bundles) never reach it. It has no runtime
// imports: the application passes in its ioredis client.
const redisStore = join(pkg, "src", "redis-store.ts");
await esbuild.build({ ...common, entryPoints: [redisStore], format: "esm", outfile: join(dist, "redis.mjs") });
await esbuild.build({ ...common, entryPoints: [redisStore], format: "cjs", outfile: join(dist, "redis.cjs") });

// 5. Type declarations, from the same sources, under `tsc --strict`.
run(bin("tsc"), ["-p", join(pkg, "tsconfig.json")]);
// The public declarations never mention the glue; drop the internal files
// that would (the entries and the glue's re-export).
rmSync(join(dist, "types", "entry"), { recursive: true, force: true });
rmSync(join(dist, "types", "wasm.d.ts"), { force: true });

for (const file of ["index.mjs", "index.cjs", "workerd.mjs", "edge-light.mjs", "redis.mjs", "redis.cjs"]) {
  const text = readFileSync(join(dist, file), "utf8");
  if (text.includes("import.meta")) {
    throw new Error(`${file} refers to import.meta, which some bundlers and CommonJS reject`);
  }
}
const bytes = readFileSync(wasm);
const size = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `tessera.wasm: ${size(statSync(wasm).size)} raw, ${size(gzipSync(bytes, { level: 9 }).length)} gzipped`,
);
if (!existsSync(join(dist, "types", "index.d.ts"))) {
  throw new Error("tsc wrote no dist/types/index.d.ts");
}
