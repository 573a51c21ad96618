// A Cloudflare Worker over D1Store, for d1-worker.test.mjs: bundled with
// the workerd condition (the package's workerd build imports tessera.wasm
// as a module) and run inside workerd by Miniflare, with a D1 binding `DB`.
//
// Routes:
//   POST   /migrate                    → { applied }
//   POST   /issue   { userId, name, scope, expires? } → 201 { token, record, migrated } (migrates first;
//                                        with an Authorization header, that token is the creator)
//   GET    /verify?action=&resource=[&session=first-primary]  (Authorization header)
//                                      → 200 principal, or 401/403/503 { code }
//   POST   /tokens/:id/rotate?userId=  → 201 { token, record }
//   DELETE /tokens/:id?userId=[&cascade=1] → 200 { deleted }
//   GET    /bench?store=d1|memory&n=N[&token=]  → N verifies of one token; { n, elapsedMs }
//   POST   /stress?n=N                 → N concurrent issues, then checks and deletes; a summary
//   POST   /race?rounds=N              → a deactivation raced by two edits, N times; each round's outcome

import { MemoryStore, TokenError, TokenService, isUnauthenticated } from "tessera-tokens";
import { D1Store } from "tessera-tokens/d1";

const CATALOG = [
  { action: "apps.read", kinds: ["read"] },
  { action: "apps.write" },
  { action: "deploy.run", kinds: ["cli"] },
  { action: "tokens.create" },
];

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function statusOf(code) {
  if (isUnauthenticated(code)) return 401;
  if (code === "SCOPE_DENIED") return 403;
  if (code === "NOT_FOUND") return 404;
  if (code === "STORE_FAILED" || code === "RECORD_INVALID") return 503;
  return 400;
}

/** The bench's memory store and its token, kept for the isolate's life. */
let memoryBench;

async function bench(url, env) {
  const n = Number(url.searchParams.get("n") ?? "0");
  const which = url.searchParams.get("store");
  let tokens;
  let token;
  if (which === "memory") {
    if (memoryBench === undefined) {
      const service = new TokenService({ prefix: "tsr", catalog: CATALOG, store: new MemoryStore() });
      const issued = await service.issue("bench", { name: "bench", scope: { preset: "all" } });
      memoryBench = { service, token: issued.token };
    }
    ({ service: tokens, token } = memoryBench);
  } else {
    const store = new D1Store(env.DB);
    tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store });
    token = url.searchParams.get("token");
  }
  const started = Date.now();
  for (let i = 0; i < n; i++) {
    await tokens.verify(token, { action: "apps.read" });
  }
  // Date.now() advances only across I/O in workerd: meaningful for D1, 0 for memory.
  return json({ n, elapsedMs: Date.now() - started });
}

/** Many concurrent operations inside the Worker, over the binding itself. */
async function stress(url, store, tokens) {
  const n = Number(url.searchParams.get("n") ?? "100");
  await store.migrate();
  const users = ["s0", "s1", "s2", "s3"];
  const issued = await Promise.all(
    Array.from({ length: n }, (_, i) => tokens.issue(users[i % 4], { name: `t${i}`, scope: { preset: "read" } })),
  );
  const counts = await Promise.all(users.map((user) => store.countByUser(user)));
  const listed = await Promise.all(users.map(async (user) => (await tokens.list(user)).length));
  const checks = await Promise.all(issued.map((x) => tokens.check(x.token, { action: "apps.read" })));
  for (let i = 0; i < issued.length; i += 25) {
    await Promise.all(issued.slice(i, i + 25).map((x) => tokens.delete(x.record.userId, x.record.id)));
  }
  const left = await Promise.all(users.map((user) => store.countByUser(user)));
  return json({
    distinct: new Set(issued.map((x) => x.record.id)).size,
    counts,
    listed,
    verified: checks.filter((c) => c.ok).length,
    left,
  });
}

/**
 * A deactivation and two edits of the same token at once, from two
 * services, round after round: the expectations make the losers read again,
 * so nothing is undone. Returns what each round left stored.
 */
async function race(url, env) {
  const rounds = Number(url.searchParams.get("rounds") ?? "10");
  const a = new TokenService({ prefix: "tsr", catalog: CATALOG, store: new D1Store(env.DB) });
  const b = new TokenService({ prefix: "tsr", catalog: CATALOG, store: new D1Store(env.DB) });
  const store = new D1Store(env.DB);
  await store.migrate();
  const { record } = await a.issue("racer", { name: "raced", scope: { preset: "all" } });
  const outcomes = [];
  for (let round = 0; round < rounds; round++) {
    const settled = await Promise.allSettled([
      a.setStatus("racer", record.id, "inactive"),
      b.rename("racer", record.id, { name: `name ${round}` }),
      b.rename("racer", record.id, { description: `description ${round}` }),
    ]);
    const stored = await store.getById(record.id);
    outcomes.push({
      settled: settled.map((s) => (s.status === "fulfilled" ? "ok" : (s.reason?.code ?? String(s.reason)))),
      status: stored.status,
      name: stored.name,
      description: stored.description,
    });
    await a.setStatus("racer", record.id, "active");
  }
  await a.delete("racer", record.id);
  return json(outcomes);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const session = url.searchParams.get("session");
    const db = session ? env.DB.withSession(session) : env.DB;
    const store = new D1Store(db, { timeoutMs: 2000 });
    const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store });
    const route = `${request.method} ${url.pathname}`;
    const tokenRoute = /^\/tokens\/([^/]+)(\/rotate)?$/.exec(url.pathname);
    try {
      if (route === "POST /migrate") {
        return json({ applied: await store.migrate() });
      }
      if (route === "POST /issue") {
        const migrated = await store.migrate();
        const body = await request.json();
        const header = request.headers.get("authorization");
        const actor = header ? await tokens.authenticate(header) : body.userId;
        const issued = await tokens.issue(actor, { name: body.name, scope: body.scope, expires: body.expires });
        return json({ ...issued, migrated }, 201);
      }
      if (route === "GET /verify") {
        const principal = await tokens.verify(request.headers.get("authorization"), {
          action: url.searchParams.get("action") ?? "",
          resource: url.searchParams.get("resource") ?? undefined,
        });
        return json(principal);
      }
      if (route === "POST /stress") {
        return await stress(url, store, tokens);
      }
      if (route === "POST /race") {
        return await race(url, env);
      }
      if (route === "GET /bench") {
        return await bench(url, env);
      }
      if (tokenRoute && request.method === "POST" && tokenRoute[2]) {
        const issued = await tokens.rotate(url.searchParams.get("userId"), tokenRoute[1], { graceSeconds: 60 });
        return json(issued, 201);
      }
      if (tokenRoute && request.method === "DELETE" && !tokenRoute[2]) {
        const deleted = await tokens.delete(url.searchParams.get("userId"), tokenRoute[1], {
          cascade: url.searchParams.get("cascade") === "1",
        });
        return json({ deleted });
      }
      return json({ code: "NO_ROUTE" }, 404);
    } catch (error) {
      if (error instanceof TokenError) {
        return json({ code: error.code }, statusOf(error.code));
      }
      return json({ code: "INTERNAL", message: String(error?.message ?? error) }, 500);
    }
  },
};
