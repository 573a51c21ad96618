// IntrospectionStore inside the real edge runtimes, against a real
// tessera-host: scenario.mjs bundled for Cloudflare workerd (run by
// `workerd test`) and for Vercel's edge runtime (evaluated in an
// EdgeRuntime context). A control server in this process changes the token
// on the host and stops and restarts the host when the scenario asks.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Host, SECRET } from "./host.mjs";

const pkg = fileURLToPath(new URL("../../", import.meta.url));
const require = createRequire(join(pkg, "package.json"));
const esbuild = require("esbuild");
const bin = (name) => join(pkg, "node_modules", ".bin", name);

let host;
let control;
let work;

/** The control server the scenario calls: it acts on `host` for the current token. */
async function startControl() {
  let tokenId;
  const actions = {
    deactivate: async () => assert.equal((await host.api("PATCH", `/api/usertokens/${tokenId}`, { status: "inactive" })).status, 200),
    activate: async () => assert.equal((await host.api("PATCH", `/api/usertokens/${tokenId}`, { status: "active" })).status, 200),
    delete: async () => assert.equal((await host.api("DELETE", `/api/usertokens/${tokenId}`)).status, 204),
    stop: () => host.stop(),
    start: () => host.resume(),
  };
  const server = createServer(async (request, response) => {
    const action = actions[request.url.slice(1)];
    try {
      if (request.method !== "POST" || !action) throw new Error(`no control ${request.method} ${request.url}`);
      await action();
      response.statusCode = 204;
    } catch (error) {
      console.error(error);
      response.statusCode = 500;
    }
    response.end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    use: (id) => {
      tokenId = id;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The scenario's environment for a fresh token. */
async function environment() {
  const issued = await host.issue("edge worker", { preset: "read" });
  control.use(issued.record.id);
  return {
    url: host.url,
    secret: SECRET,
    catalog: JSON.stringify(await host.catalog()),
    token: issued.token,
    tokenId: issued.record.id,
    control: control.url,
  };
}

async function bundle(entry, outfile, conditions, extra = {}) {
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

function report(runtime, result) {
  for (const note of result.notes) console.log(`# ${runtime}: ${note}`);
  // The result may come from another realm (the edge runtime's context): compare plain values.
  assert.equal(result.failures.length, 0, `${runtime}: ${result.failures.join("\n")}`);
  assert.ok(result.passed >= 10, `${runtime}: only ${result.passed} checks ran`);
}

before(async () => {
  host = await Host.start();
  control = await startControl();
  work = mkdtempSync(join(tmpdir(), "tessera-edge-"));
  copyFileSync(new URL("scenario.mjs", import.meta.url), join(work, "scenario.mjs"));
  writeFileSync(join(work, "package.json"), JSON.stringify({ type: "module" }));
});
after(async () => {
  await control?.close();
  await host?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("IntrospectionStore in the edge runtimes, against a real tessera-host", () => {
  before(() => {
    // esbuild resolves "tessera-tokens" through a node_modules folder that
    // links to the package, as an application's would.
    const modules = join(work, "node_modules");
    rmSync(modules, { recursive: true, force: true });
    mkdirSync(modules, { recursive: true });
    symlinkSync(pkg, join(modules, "tessera-tokens"), "dir");
  });

  test("Cloudflare workerd (workerd test)", async () => {
    const env = await environment();
    writeFileSync(
      join(work, "worker.mjs"),
      [
        'import { scenario } from "./scenario.mjs";',
        "export default {",
        "  async test(controller, env) {",
        "    const result = await scenario(env);",
        '    console.log("RESULT " + JSON.stringify(result));',
        "  },",
        "};",
      ].join("\n"),
    );
    await bundle(join(work, "worker.mjs"), join(work, "build", "worker.mjs"), ["workerd", "worker", "browser"], {
      external: ["*.wasm"],
    });
    copyFileSync(join(pkg, "dist", "tessera.wasm"), join(work, "build", "tessera.wasm"));
    const bindings = Object.entries(env)
      .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
      .join(", ");
    writeFileSync(
      join(work, "workerd.capnp"),
      [
        'using Workerd = import "/workerd/workerd.capnp";',
        "const config :Workerd.Config = (",
        '  services = [ (name = "remote", worker = .worker), (name = "loopback", network = (allow = ["local"])) ],',
        ");",
        "const worker :Workerd.Worker = (",
        "  modules = [",
        '    (name = "worker.mjs", esModule = embed "build/worker.mjs"),',
        '    (name = "tessera.wasm", wasm = embed "build/tessera.wasm"),',
        "  ],",
        `  bindings = [ ${bindings} ],`,
        '  globalOutbound = "loopback",',
        '  compatibilityDate = "2025-09-01",',
        ");",
      ].join("\n"),
    );
    // Asynchronously: the control server in this process must answer the worker.
    const child = spawn(bin("workerd"), ["test", "workerd.capnp"], { cwd: work });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const status = await new Promise((resolve) => child.once("exit", resolve));
    clearTimeout(timer);
    const line = output.split("\n").find((l) => l.includes("RESULT "));
    assert.ok(line, `workerd printed no result (exit ${status}):\n${output}`);
    report("workerd", JSON.parse(line.slice(line.indexOf("RESULT ") + 7)));
  });

  test("Vercel's edge runtime (EdgeRuntime)", async () => {
    const env = await environment();
    writeFileSync(
      join(work, "edge.mjs"),
      [
        'import { scenario } from "./scenario.mjs";',
        "scenario(globalThis.__ENV).then(globalThis.__report);",
      ].join("\n"),
    );
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
    const script = join(work, "build", "edge.js");
    await bundle(join(work, "edge.mjs"), script, ["edge-light", "worker", "browser"], {
      format: "iife",
      plugins: [wasmModule],
    });
    const { EdgeRuntime } = require("edge-runtime");
    let done;
    const finished = new Promise((resolve) => {
      done = resolve;
    });
    const runtime = new EdgeRuntime({
      extend: (context) => {
        context.__TESSERA_WASM_BYTES__ = new Uint8Array(readFileSync(join(pkg, "dist", "tessera.wasm")));
        context.__ENV = env;
        context.__report = done;
        return context;
      },
    });
    runtime.evaluate("globalThis.__TESSERA_WASM_MODULE__ = new WebAssembly.Module(globalThis.__TESSERA_WASM_BYTES__);");
    runtime.evaluate(readFileSync(script, "utf8"));
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the edge runtime scenario did not finish in 120 s")), 120_000);
    });
    try {
      report("edge-runtime", await Promise.race([finished, timeout]));
    } finally {
      clearTimeout(timer);
    }
  });
});
