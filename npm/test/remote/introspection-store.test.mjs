// IntrospectionStore (`tessera-tokens/remote`) against a real tessera-host
// started by the test: verification of the host's tokens, revocation seen
// through the feed, last uses reported back, the host going away and coming
// back, and a service that hangs or lies. The same store runs in workerd and
// Vercel's edge runtime in edge.test.mjs.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MemoryStore, TokenError, TokenService, hashToken } from "tessera-tokens";
import { IntrospectionStore } from "tessera-tokens/remote";
import { fakeService } from "./fake-service.mjs";
import { Host, PASSWORD, SECRET } from "./host.mjs";

const INTERVAL = 200;
let host;
let catalog;

before(async () => {
  host = await Host.start();
  catalog = await host.catalog();
});
after(async () => {
  await host?.close();
});

/** A service over a fresh store pointed at the host. */
function remote(options = {}) {
  const store = new IntrospectionStore({ url: host.url, secret: SECRET, feedIntervalMs: INTERVAL, timeoutMs: 2_000, ...options });
  const tokens = new TokenService({ prefix: "tsr", catalog, store });
  return { store, tokens };
}

const READ = { action: "apps.read" };
/** A user's standing as the token service sends it: a member switched on. */
const OWNER = { admin: false, tokens: "on", membersEnabled: true };

describe("IntrospectionStore against a real tessera-host", () => {
  test("verifies the host's tokens with the host's rules: principal, scope, unknown, malformed", async () => {
    const { tokens } = remote();
    const issued = await host.issue("remote read", { preset: "read" });
    const principal = await tokens.verify(`Bearer ${issued.token}`, READ);
    assert.deepEqual(principal, { userId: "ann", tokenId: issued.record.id, scope: issued.record.scope });
    assert.deepEqual(await tokens.check(issued.token, { action: "apps.write" }), { ok: false, code: "SCOPE_DENIED" });
    // Well formed, with a valid checksum, but never issued by the host.
    const elsewhere = new TokenService({ prefix: "tsr", catalog, store: new MemoryStore() });
    const unknown = (await elsewhere.issue("ann", { name: "elsewhere", scope: { preset: "read" } })).token;
    assert.deepEqual(await tokens.check(unknown, READ), { ok: false, code: "TOKEN_UNKNOWN" });
    assert.deepEqual(await tokens.check("not a token", READ), { ok: false, code: "TOKEN_MALFORMED" });
  });

  test("a token the host deletes is refused once the feed interval passed, with the answer cached for minutes", async () => {
    const { tokens, store } = remote();
    const issued = await host.issue("to delete");
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
    assert.equal(store.size, 1, "the answer is cached");
    // What the cache hands out cannot be changed by whoever holds it.
    const cached = await store.getByHash(hashToken(issued.token));
    assert.throws(() => {
      cached.status = "active";
    }, TypeError);
    assert.ok(Object.isFrozen(cached.scope) && Object.isFrozen(cached.createdBy), "frozen throughout");
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
    const { status } = await host.api("DELETE", `/api/usertokens/${issued.record.id}`);
    assert.equal(status, 204);
    const acknowledged = Date.now();
    await sleep(INTERVAL + 10);
    // The bound has passed since the 204: the very next check must refuse.
    assert.deepEqual(await tokens.check(issued.token, READ), { ok: false, code: "TOKEN_UNKNOWN" });
    console.log(`# refused ${Date.now() - acknowledged} ms after the host acknowledged the delete (bound ${INTERVAL} ms)`);
  });

  test("a member the host disables is refused within the interval as TOKENS_DISABLED, and restored when enabled", async () => {
    const { tokens } = remote();
    host.cli(["user", "add", "bob"], `${PASSWORD}\n`);
    host.cli(["user", "set", "bob", "--tokens", "on"]);
    const created = await host.api("POST", "/api/usertokens", { name: "bob's", scope: { preset: "read" } }, "bob");
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token = created.body.token;
    assert.equal((await tokens.check(token, READ)).ok, true);
    const turn = async (setting) => {
      const { status } = await host.api("PUT", "/api/users/bob/tokens", { tokens: setting });
      assert.equal(status, 200);
      await sleep(INTERVAL + 10);
    };
    await turn("off");
    assert.deepEqual(await tokens.check(token, READ), { ok: false, code: "TOKENS_DISABLED" });
    await assert.rejects(tokens.verify(token, READ), { name: "TokenError", code: "TOKENS_DISABLED" });
    // Back to the deployment's default for members, which is off.
    await turn("inherit");
    assert.deepEqual(await tokens.check(token, READ), { ok: false, code: "TOKENS_DISABLED" });
    await turn("on");
    assert.equal((await tokens.check(token, READ)).ok, true, "nothing was deleted");
    // An administrator's tokens work whatever their own setting.
    const ann = await host.issue("ann's");
    host.cli(["user", "set", "ann", "--tokens", "off"]);
    await sleep(INTERVAL + 10);
    assert.equal((await tokens.check(ann.token, READ)).ok, true);
    host.cli(["user", "set", "ann", "--tokens", "inherit"]);
  });

  test("deactivation and reactivation on the host are seen within the interval", async () => {
    const { tokens } = remote();
    const issued = await host.issue("to deactivate");
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
    assert.equal((await host.api("PATCH", `/api/usertokens/${issued.record.id}`, { status: "inactive" })).status, 200);
    await sleep(INTERVAL + 10);
    assert.deepEqual(await tokens.check(issued.token, READ), { ok: false, code: "TOKEN_INACTIVE" });
    assert.equal((await host.api("PATCH", `/api/usertokens/${issued.record.id}`, { status: "active" })).status, 200);
    await sleep(INTERVAL + 10);
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
  });

  test("a revoked token is never accepted after the bound under concurrent checks", async () => {
    const { tokens } = remote();
    const issued = await host.issue("concurrent");
    const header = `Bearer ${issued.token}`;
    let acknowledged = Number.POSITIVE_INFINITY;
    const late = [];
    const checker = async () => {
      for (let i = 0; i < 400 && Date.now() < acknowledged + 5 * INTERVAL; i++) {
        const started = Date.now();
        const result = await tokens.check(header, READ);
        if (result.ok && started > acknowledged + INTERVAL) late.push(started - acknowledged);
        await sleep(2);
      }
    };
    const running = [checker(), checker(), checker(), checker()];
    await sleep(50);
    assert.equal((await host.api("DELETE", `/api/usertokens/${issued.record.id}`)).status, 204);
    acknowledged = Date.now();
    await Promise.all(running);
    assert.deepEqual(late, [], "accepted after the propagation bound");
    assert.equal((await tokens.check(header, READ)).code, "TOKEN_UNKNOWN");
  });

  test("rotation: the old token ends when the host says, the new one works", async () => {
    const { tokens } = remote();
    const issued = await host.issue("to rotate");
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
    const rotated = await host.api("POST", `/api/usertokens/${issued.record.id}/rotate`, {});
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    await sleep(INTERVAL + 10);
    assert.equal((await tokens.check(rotated.body.token, READ)).ok, true);
    const old = await tokens.check(issued.token, READ);
    assert.equal(old.ok, false, "no grace period asked: the old token ends at once");
  });

  test("last uses are reported to the host, once a minute per token", async () => {
    const { tokens, store } = remote();
    const issued = await host.issue("used remotely");
    await tokens.verify(issued.token, READ);
    // The cached answer now carries the use, so the next verification notes none.
    assert.equal(typeof (await store.getByHash(hashToken(issued.token))).lastUsedAt, "number");
    await tokens.verify(issued.token, READ);
    await store.flush();
    let seen = null;
    for (let i = 0; i < 50 && seen === null; i++) {
      const { body } = await host.api("GET", `/api/usertokens/${issued.record.id}`);
      seen = body.lastUsedAt;
      if (seen === null) await sleep(100);
    }
    assert.equal(typeof seen, "number", "the host shows the last use");
    assert.ok(seen <= Date.now() && seen > Date.now() - 60_000);
  });

  test("read-only: every lifecycle operation is STORE_FAILED and changes nothing on the host", async () => {
    const { tokens } = remote();
    const issued = await host.issue("kept");
    const principal = await tokens.authenticate(issued.token);
    for (const attempt of [
      tokens.issue("ann", { name: "x", scope: { preset: "read" } }),
      tokens.issue(principal, { name: "child", scope: { preset: "read" } }),
      tokens.list("ann"),
      tokens.delete("ann", issued.record.id),
      tokens.setStatus("ann", issued.record.id, "inactive"),
      tokens.rotate("ann", issued.record.id),
    ]) {
      await assert.rejects(attempt, (e) => e instanceof TokenError && e.code === "STORE_FAILED" && /read-only/.test(e.cause.message));
    }
    const { body } = await host.api("GET", `/api/usertokens/${issued.record.id}`);
    assert.equal(body.status, "active");
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
  });

  test("a wrong service credential fails closed", async () => {
    const store = new IntrospectionStore({ url: host.url, secret: "not-the-service-credential", feedIntervalMs: INTERVAL });
    const tokens = new TokenService({ prefix: "tsr", catalog, store });
    const issued = await host.issue("wrong secret");
    assert.deepEqual(await tokens.check(issued.token, READ), { ok: false, code: "STORE_FAILED" });
  });

  test("the host going away fails closed, cached answers included; coming back restores service", async () => {
    const { tokens, store } = remote();
    const issued = await host.issue("outage");
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
    assert.equal(store.size, 1);
    await host.stop();
    try {
      await sleep(INTERVAL + 10);
      assert.deepEqual(await tokens.check(issued.token, READ), { ok: false, code: "STORE_FAILED" });
      assert.equal(store.size, 0, "an unreadable feed forgets every answer");
      assert.deepEqual(await tokens.check(issued.token, READ), { ok: false, code: "STORE_FAILED" });
    } finally {
      await host.resume();
    }
    assert.equal((await tokens.check(issued.token, READ)).ok, true);
  });
});

describe("IntrospectionStore against a service that misbehaves", () => {
  test("a service that never answers: STORE_FAILED once the timeout passes", async () => {
    const hung = await fakeService(() => {});
    try {
      const store = new IntrospectionStore({ url: hung.url, secret: SECRET, timeoutMs: 300 });
      const tokens = new TokenService({ prefix: "tsr", catalog, store });
      const issued = await host.issue("hung");
      assert.deepEqual(await tokens.check(issued.token, READ), { ok: false, code: "STORE_FAILED" });
    } finally {
      await hung.close();
    }
  });

  test("a record for another hash, half a record or a bad feed page is never used", async () => {
    const real = await host.issue("genuine");
    const other = await host.issue("other");
    const otherRecord = (await host.api("GET", `/api/usertokens/${other.record.id}`)).body;
    const realRecord = { ...(await host.api("GET", `/api/usertokens/${real.record.id}`)).body, hash: hashToken(real.token) };
    const answers = [
      // The record stored under another token's hash.
      { record: { ...otherRecord, hash: hashToken(other.token) }, owner: OWNER, cacheSeconds: 60 },
      // Half a record: no hash at all.
      { record: { id: real.record.id, userId: "ann" }, owner: OWNER, cacheSeconds: 60 },
      // The real record without its user's standing, or with a made-up one.
      { record: realRecord, cacheSeconds: 60 },
      { record: realRecord, owner: { ...OWNER, tokens: "maybe" }, cacheSeconds: 60 },
      { record: realRecord, owner: { admin: "yes", tokens: "on", membersEnabled: true }, cacheSeconds: 60 },
      // Not JSON.
      "{",
    ];
    for (const answer of answers) {
      const liar = await fakeService((request, response) => {
        if (request.url.startsWith("/api/revocations")) {
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify({ cursor: 1, hashes: [], reset: true, more: false }));
          return;
        }
        response.writeHead(200, { "content-type": "application/json" });
        response.end(typeof answer === "string" ? answer : JSON.stringify(answer));
      });
      try {
        const store = new IntrospectionStore({ url: liar.url, secret: SECRET, timeoutMs: 2_000 });
        const tokens = new TokenService({ prefix: "tsr", catalog, store });
        const checked = await tokens.check(real.token, READ);
        assert.equal(checked.ok, false, JSON.stringify(answer).slice(0, 60));
        assert.ok(["STORE_FAILED", "RECORD_INVALID"].includes(checked.code), checked.code);
      } finally {
        await liar.close();
      }
    }
    const badFeed = await fakeService((request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ cursor: -1, hashes: ["x"], reset: false, more: false }));
    });
    try {
      const store = new IntrospectionStore({ url: badFeed.url, secret: SECRET });
      await assert.rejects(store.getByHash(hashToken(real.token)), /not the record/);
      assert.equal(store.size, 0, "nothing cached while the feed is unreadable");
    } finally {
      await badFeed.close();
    }
  });

  test("an answer that left the service before a change the feed reported is never cached", async () => {
    const scratch = new MemoryStore();
    const issuer = new TokenService({ prefix: "tsr", catalog, store: scratch });
    const { token, record } = await issuer.issue("ann", { name: "raced", scope: { preset: "read" } });
    const stored = await scratch.getById(record.id);
    let deleted = false;
    let reported = false;
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    let arrived;
    const firstArrived = new Promise((resolve) => {
      arrived = resolve;
    });
    let introspections = 0;
    const service = await fakeService(async (request, response) => {
      response.setHeader("content-type", "application/json");
      if (request.url.startsWith("/api/revocations")) {
        const forget = deleted && !reported;
        reported ||= forget;
        response.end(JSON.stringify({ cursor: forget ? 2 : 1, hashes: forget ? [stored.hash] : [], reset: !request.url.includes("after="), more: false }));
        return;
      }
      introspections++;
      if (introspections === 1) {
        arrived();
        await held; // the first answer leaves before the delete and arrives after it
        response.end(JSON.stringify({ record: stored, owner: OWNER, cacheSeconds: 300 }));
        return;
      }
      response.statusCode = deleted ? 404 : 200;
      response.end(JSON.stringify(deleted ? { code: "NOT_FOUND" } : { record: stored, owner: OWNER, cacheSeconds: 300 }));
    });
    try {
      const store = new IntrospectionStore({ url: service.url, secret: SECRET, feedIntervalMs: 50, timeoutMs: 5_000 });
      const tokens = new TokenService({ prefix: "tsr", catalog, store });
      const first = tokens.check(token, READ);
      await firstArrived;
      deleted = true;
      await sleep(60);
      assert.deepEqual(await tokens.check(token, READ), { ok: false, code: "TOKEN_UNKNOWN" });
      release();
      await first;
      assert.deepEqual(await tokens.check(token, READ), { ok: false, code: "TOKEN_UNKNOWN" }, "the late answer was not kept");
      assert.equal(store.size, 0);
    } finally {
      release();
      await service.close();
    }
  });

  test("options are checked: URL, credential, intervals; a lookup takes only a hash", async () => {
    const ok = { url: "https://tokens.example.com", secret: SECRET };
    assert.doesNotThrow(() => new IntrospectionStore(ok));
    assert.doesNotThrow(() => new IntrospectionStore({ ...ok, url: "http://127.0.0.1:8080" }));
    for (const bad of [
      { ...ok, url: "http://tokens.example.com" },
      { ...ok, url: "tokens.example.com" },
      { ...ok, url: "https://user:pw@tokens.example.com" },
      { ...ok, secret: "short" },
      { ...ok, secret: `${SECRET}\r\nX-Injected: 1` },
      { ...ok, feedIntervalMs: 0 },
      { ...ok, cacheMs: -1 },
      { ...ok, timeoutMs: 1.5 },
      { ...ok, fetch: "no" },
    ]) {
      assert.throws(() => new IntrospectionStore(bad), TypeError, JSON.stringify(bad));
    }
    const store = new IntrospectionStore(ok);
    for (const hash of ["", "x".repeat(64), "A".repeat(64), "a".repeat(65), 7, null]) {
      await assert.rejects(store.getByHash(hash), TypeError, String(hash));
    }
    assert.ok(!JSON.stringify(store).includes(SECRET) && !String(store).includes(SECRET), "the credential is not shown");
  });
});
