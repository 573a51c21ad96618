// D1Store inside a Cloudflare Worker: worker.mjs, bundled the way an
// application bundles the package for workerd (conditions workerd, worker,
// browser; tessera.wasm as a CompiledWasm module), run in workerd by
// Miniflare 3 with a D1 binding, and driven over HTTP with dispatchFetch.
// The rows are read back from Node through Miniflare's binding proxy.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { hashToken } from "tessera-tokens";

const pkg = fileURLToPath(new URL("../../", import.meta.url));
const ROOT = "/tessera-d1-worker";

/** worker.mjs and the package it imports, as one ES module (tessera.wasm stays external). */
async function bundle() {
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./worker.mjs", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    external: ["*.wasm"],
    outfile: `${ROOT}/worker.mjs`,
    absWorkingDir: pkg,
    logLevel: "warning",
    metafile: true,
  });
  return { code: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) };
}

let mf;
let built;

before(async () => {
  built = await bundle();
  mf = new Miniflare({
    modules: [
      { type: "ESModule", path: `${ROOT}/worker.mjs`, contents: built.code },
      { type: "CompiledWasm", path: `${ROOT}/tessera.wasm`, contents: new Uint8Array(readFileSync(new URL("dist/tessera.wasm", `file://${pkg}`))) },
    ],
    modulesRoot: ROOT,
    compatibilityDate: "2025-07-01",
    d1Databases: ["DB"],
  });
});
after(() => mf?.dispose());

const call = async (method, path, { body, token } = {}) => {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await mf.dispatchFetch(`http://tessera.test${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
};

describe("D1Store in a Worker (workerd through Miniflare 3)", () => {
  test("the Worker bundle is the package's workerd build plus tessera-tokens/d1", () => {
    const inputs = built.inputs.join("\n");
    assert.match(inputs, /dist\/workerd\.mjs/);
    assert.match(inputs, /dist\/d1\.mjs/);
    assert.doesNotMatch(inputs, /dist\/(node|index|edge-light)\.mjs|src\//);
    const imports = [...built.code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    assert.deepEqual(imports, ["./tessera.wasm"]);
  });

  test("issue → verify 200 → scope denied 403 → revoke → verify 401 TOKEN_UNKNOWN, as stored in D1", async () => {
    const db = await mf.getD1Database("DB");
    const issued = await call("POST", "/issue", {
      body: { userId: "u1", name: "ci", scope: { actions: ["apps.read"], resources: ["orgs/acme/**"] } },
    });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    assert.deepEqual(issued.body.migrated, [1], "the first request creates the schema");
    const { token, record } = issued.body;
    assert.match(token, /^tsr_[0-9A-Za-z]{49}$/);

    const verified = await call("GET", "/verify?action=apps.read&resource=orgs/acme/apps/1", { token });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.deepEqual(verified.body, { userId: "u1", tokenId: record.id, scope: record.scope });

    const denied = await call("GET", "/verify?action=apps.write&resource=orgs/acme/apps/1", { token });
    assert.deepEqual(denied, { status: 403, body: { code: "SCOPE_DENIED" } });
    const elsewhere = await call("GET", "/verify?action=apps.read&resource=orgs/other/apps/1", { token });
    assert.deepEqual(elsewhere, { status: 403, body: { code: "SCOPE_DENIED" } });
    const malformed = await call("GET", "/verify?action=apps.read", { token: `${token.slice(0, -1)}x` });
    assert.equal(malformed.status, 401);

    // What the Worker wrote, read from Node through the binding.
    const row = await db.prepare("SELECT id, hash, user_id, json FROM tessera_tokens WHERE id = ?1").bind(record.id).first();
    assert.equal(row.hash, hashToken(token));
    assert.equal(row.user_id, "u1");
    const stored = JSON.parse(row.json);
    assert.equal(stored.id, record.id);
    assert.equal(stored.name, "ci");
    assert.equal(stored.hash, row.hash);
    assert.ok(Number.isSafeInteger(stored.lastUsedAt) && stored.lastUsedAt > 0, "verify recorded the last use");
    assert.doesNotMatch(row.json, /"lastUsedAt":\d+\.0/);

    // A second request migrates again: a no-op that keeps the data.
    const second = await call("POST", "/issue", { body: { userId: "u1", name: "second", scope: { preset: "read" } } });
    assert.equal(second.status, 201);
    assert.deepEqual(second.body.migrated, []);
    assert.deepEqual(await call("POST", "/migrate"), { status: 200, body: { applied: [] } });
    assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM tessera_tokens WHERE user_id = 'u1'").first()).n, 2);
    assert.deepEqual((await db.prepare("SELECT id, name FROM tessera_migrations").all()).results, [{ id: 1, name: "tessera_tokens" }]);
    assert.equal((await call("GET", "/verify?action=apps.read&resource=orgs/acme/apps/1", { token })).status, 200);

    const revoked = await call("DELETE", `/tokens/${record.id}?userId=u1`);
    assert.deepEqual(revoked, { status: 200, body: { deleted: [record.id] } });
    assert.deepEqual(await call("GET", "/verify?action=apps.read&resource=orgs/acme/apps/1", { token }), {
      status: 401,
      body: { code: "TOKEN_UNKNOWN" },
    });
    assert.equal(await db.prepare("SELECT id FROM tessera_tokens WHERE id = ?1").bind(record.id).first(), null);
    assert.deepEqual(await call("DELETE", `/tokens/${record.id}?userId=u1`), { status: 404, body: { code: "NOT_FOUND" } });
    assert.equal((await call("GET", "/verify?action=apps.read", { token: second.body.token })).status, 200);
  });

  test("rotation and a cascading revocation go through one batch in the Worker", async () => {
    const db = await mf.getD1Database("DB");
    const parent = (await call("POST", "/issue", { body: { userId: "u2", name: "p", scope: { preset: "all" } } })).body;
    const rotated = await call("POST", `/tokens/${parent.record.id}/rotate?userId=u2`);
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    const rows = async () =>
      (await db.prepare("SELECT id, json FROM tessera_tokens WHERE user_id = 'u2' ORDER BY id").all()).results.map((r) => JSON.parse(r.json));
    const after = await rows();
    assert.equal(after.length, 2);
    assert.equal(after.find((r) => r.id === parent.record.id).replacedBy, rotated.body.record.id);
    assert.equal(after.find((r) => r.id === rotated.body.record.id).rotatedFrom, parent.record.id);
    assert.equal((await call("GET", "/verify?action=apps.read", { token: parent.token })).status, 200, "grace period");
    assert.equal((await call("GET", "/verify?action=apps.read", { token: rotated.body.token })).status, 200);

    assert.equal((await call("DELETE", `/tokens/${parent.record.id}?userId=u2`)).status, 200);
    assert.deepEqual((await rows()).map((r) => r.id), [rotated.body.record.id]);

    // A token that made tokens, revoked with its descendants: one batch of deletions.
    const issue = async (options) => {
      const issued = await call("POST", "/issue", options);
      assert.equal(issued.status, 201, JSON.stringify(issued.body));
      return issued.body;
    };
    const maker = await issue({ body: { userId: "u2", name: "maker", scope: { preset: "all" } } });
    const child = await issue({ token: maker.token, body: { name: "child", scope: { actions: ["apps.read", "tokens.create"] } } });
    const grandchild = await issue({ token: child.token, body: { name: "gc", scope: { actions: ["apps.read"] } } });
    assert.deepEqual(grandchild.record.createdBy, { kind: "token", tokenId: child.record.id });
    const cascade = await call("DELETE", `/tokens/${maker.record.id}?userId=u2&cascade=1`);
    assert.equal(cascade.status, 200, JSON.stringify(cascade.body));
    assert.deepEqual(cascade.body.deleted.sort(), [maker.record.id, child.record.id, grandchild.record.id].sort());
    assert.deepEqual((await rows()).map((r) => r.id), [rotated.body.record.id]);
    for (const gone of [maker, child, grandchild]) {
      assert.deepEqual(await call("GET", "/verify?action=apps.read", { token: gone.token }), { status: 401, body: { code: "TOKEN_UNKNOWN" } });
    }
    assert.equal((await call("GET", "/verify?action=apps.read", { token: rotated.body.token })).status, 200);
  });

  test("a D1 session (withSession) works as the store's binding", async () => {
    const issued = (await call("POST", "/issue", { body: { userId: "u3", name: "s", scope: { preset: "read" } } })).body;
    for (const session of ["first-primary", "first-unconstrained"]) {
      const verified = await call("GET", `/verify?action=apps.read&session=${session}`, { token: issued.token });
      assert.equal(verified.status, 200, `${session}: ${JSON.stringify(verified.body)}`);
    }
    assert.equal((await call("DELETE", `/tokens/${issued.record.id}?userId=u3&session=first-primary`)).status, 200);
    const after = await call("GET", "/verify?action=apps.read&session=first-primary", { token: issued.token });
    assert.deepEqual(after, { status: 401, body: { code: "TOKEN_UNKNOWN" } });
  });

  test("a hundred concurrent issues, checks and deletes inside the Worker all land", async () => {
    const result = await call("POST", "/stress?n=100");
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.deepEqual(result.body, {
      distinct: 100,
      counts: [25, 25, 25, 25],
      listed: [25, 25, 25, 25],
      verified: 100,
      left: [0, 0, 0, 0],
    });
  });

  test("concurrent edits inside the Worker never undo each other (the writes' expectations, checked in D1)", async () => {
    const rounds = 10;
    const result = await call("POST", `/race?rounds=${rounds}`);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.deepEqual(
      result.body,
      Array.from({ length: rounds }, (_, round) => ({
        settled: ["ok", "ok", "ok"],
        status: "inactive",
        name: `name ${round}`,
        description: `description ${round}`,
      })),
    );
  });

  test("verify latency in workerd: D1Store against MemoryStore (reported, not asserted)", async (t) => {
    const issued = (await call("POST", "/issue", { body: { userId: "bench", name: "b", scope: { preset: "all" } } })).body;
    const token = encodeURIComponent(issued.token);
    const N = 200; // D1 verifies per request
    const M = 20_000; // MemoryStore verifies per request: enough to rise above a request's own cost
    /** The fastest of a few runs, in ms, timed from Node around the request. */
    const timed = async (path) => {
      let best = Infinity;
      let body;
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        const response = await call("GET", path);
        best = Math.min(best, performance.now() - started);
        assert.equal(response.status, 200, JSON.stringify(response.body));
        body = response.body;
      }
      return { ms: best, body };
    };
    await timed(`/bench?store=memory&n=10`); // warm both paths
    await timed(`/bench?store=d1&n=10&token=${token}`);
    const base = await timed(`/bench?store=memory&n=0`);
    const memory = await timed(`/bench?store=memory&n=${M}`);
    const d1 = await timed(`/bench?store=d1&n=${N}&token=${token}`);
    const perMemory = (memory.ms - base.ms) / M;
    const perD1 = (d1.ms - base.ms) / N;
    t.diagnostic(
      `verify, many in a row inside one request: MemoryStore ${(perMemory * 1000).toFixed(1)} µs each (${M}), ` +
        `D1Store ${(perD1 * 1000).toFixed(0)} µs each (${N}; the Worker's own clock: ${(d1.body.elapsedMs / N).toFixed(2)} ms each); ` +
        `local Miniflare D1, not a deployed database`,
    );
    assert.ok(perD1 > 0 && perMemory >= 0);
  });
});
