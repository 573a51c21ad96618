// Runs the runtime-conformance script under Node (import and require),
// Deno, Bun, workerd and Vercel's edge runtime, against the package as npm
// would install it: `npm pack` of npm/, unpacked into a scratch consumer
// project (.work/). The runtimes come from npm/'s devDependencies.
//
// Usage: node tests/runtimes/run.mjs   (after the package is built)
// Prints one `<runtime>: N passed, M failed` line per runtime and exits
// non-zero when any runtime fails or reports nothing.

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(dirname(here));
const pkg = join(root, "npm");
const work = join(here, ".work");
const bin = (name) => join(pkg, "node_modules", ".bin", name);
const requireFromPkg = createRequire(join(pkg, "package.json"));

/** Lays out the scratch consumer project with the packed package. */
function prepare() {
  rmSync(work, { recursive: true, force: true });
  const installed = join(work, "node_modules", "tessera-tokens");
  mkdirSync(installed, { recursive: true });
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: pkg, encoding: "utf8" })
    .trim()
    .split("\n")
    .pop();
  execFileSync("tar", ["-xzf", join(work, packed), "-C", installed, "--strip-components=1"]);
  writeFileSync(join(work, "package.json"), JSON.stringify({
      name: "conformance",
      private: true,
      type: "module",
      dependencies: { "tessera-tokens": "*" },
    }));
  copyFileSync(join(here, "conformance.mjs"), join(work, "conformance.mjs"));
  cpSync(join(here, "harness"), join(work, "harness"), { recursive: true });
  const files = readdirSync(join(installed, "dist"));
  console.log(`packed ${packed}: dist/ has ${files.join(", ")}`);
}

/** Runs a command in the scratch project; returns its summary lines and status. */
function runCommand(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: work, encoding: "utf8", timeout: 120_000, ...options });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const lines = output.split("\n").filter((line) => /: \d+ passed, \d+ failed$/.test(line));
  const ok = result.status === 0 && lines.length > 0 && lines.every((line) => / 0 failed$/.test(line));
  if (!ok) {
    console.error(output || String(result.error));
  }
  return { ok, lines };
}

async function bundle(entry, outfile, conditions, extra = {}) {
  const esbuild = requireFromPkg("esbuild");
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions,
    absWorkingDir: work,
    logLevel: "warning",
    ...extra,
  });
}

/** Type-checks consumer.ts against the packed declarations. */
function typecheck() {
  copyFileSync(join(here, "consumer.ts"), join(work, "consumer.ts"));
  const tsconfig = {
    compilerOptions: {
      strict: true,
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2022"],
      types: [],
      noEmit: true,
      skipLibCheck: false,
    },
    files: ["consumer.ts"],
  };
  writeFileSync(join(work, "tsconfig.json"), JSON.stringify(tsconfig));
  const result = spawnSync(bin("tsc"), ["-p", "tsconfig.json"], { cwd: work, encoding: "utf8" });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    return { ok: false, lines: [] };
  }
  return { ok: true, lines: ["typescript consumer (tsc --strict, ES2022 lib only): 1 passed, 0 failed"] };
}

const runtimes = {
  types: typecheck,
  node: () => runCommand(process.execPath, ["harness/node.mjs"]),
  "node (require)": () => runCommand(process.execPath, ["harness/node-require.cjs"]),
  deno: () => runCommand(bin("deno"), ["run", "--quiet", "--no-prompt", "harness/deno.mjs"], {
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(work, ".deno") },
  }),
  bun: () => runCommand(bin("bun"), ["harness/bun.mjs"]),
  workerd: async () => {
    const build = join(work, "build");
    mkdirSync(build, { recursive: true });
    await bundle("harness/workerd.mjs", join(build, "worker.mjs"), ["workerd", "worker", "browser"], {
      external: ["*.wasm"],
    });
    copyFileSync(join(work, "node_modules", "tessera-tokens", "dist", "tessera.wasm"), join(build, "tessera.wasm"));
    copyFileSync(join(here, "workerd.capnp"), join(work, "workerd.capnp"));
    return runCommand(bin("workerd"), ["test", "workerd.capnp"]);
  },
  "edge-runtime": async () => {
    const build = join(work, "build");
    mkdirSync(build, { recursive: true });
    const script = join(build, "edge.js");
    // What Vercel's bundler does for `import wasm from "./x.wasm?module"`:
    // hand the code a compiled WebAssembly.Module. Here the module is
    // compiled by the harness inside the edge context and read from a global.
    const wasmModule = {
      name: "wasm-module",
      setup(b) {
        b.onResolve({ filter: /\.wasm\?module$/ }, (args) => ({ path: args.path, namespace: "wasm-module" }));
        b.onLoad({ filter: /.*/, namespace: "wasm-module" }, () => ({
          contents: "export default globalThis.__TESSERA_WASM_MODULE__;",
          loader: "js",
        }));
      },
    };
    await bundle("harness/edge-light.mjs", script, ["edge-light", "worker", "browser"], {
      format: "iife",
      plugins: [wasmModule],
    });
    const { EdgeRuntime } = requireFromPkg("edge-runtime");
    const bytes = readFileSync(join(work, "node_modules", "tessera-tokens", "dist", "tessera.wasm"));
    let report;
    const done = new Promise((resolve) => {
      report = resolve;
    });
    const runtime = new EdgeRuntime({
      extend: (context) => {
        context.__TESSERA_WASM_BYTES__ = new Uint8Array(bytes);
        context.__report = (line, result) => report({ line, result });
        return context;
      },
    });
    runtime.evaluate("globalThis.__TESSERA_WASM_MODULE__ = new WebAssembly.Module(globalThis.__TESSERA_WASM_BYTES__);");
    runtime.evaluate(readFileSync(script, "utf8"));
    const timeout = new Promise((resolve) =>
      setTimeout(() => resolve({ line: "edge-runtime: 0 passed, 1 failed (timed out)", result: { failed: 1, passed: 0, failures: [] } }), 30_000).unref(),
    );
    const { line, result } = await Promise.race([done, timeout]);
    for (const failure of result.failures ?? []) console.error(failure);
    return { ok: result.failed === 0 && result.passed > 0, lines: [line] };
  },
};

prepare();
let failed = false;
for (const [name, run] of Object.entries(runtimes)) {
  let outcome;
  try {
    outcome = await run();
  } catch (error) {
    console.error(error);
    outcome = { ok: false, lines: [] };
  }
  for (const line of outcome.lines) console.log(line);
  if (!outcome.ok) {
    console.log(`${name}: FAILED`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
