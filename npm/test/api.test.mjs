// Behaviour of the whole public API, beyond what the shared vectors pin.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import {
  MemoryStore,
  TOKEN_ERROR_CODES,
  TokenError,
  TokenService,
  errorCodes,
  hashToken,
  isUnauthenticated,
  parseToken,
  tokenPattern,
} from "tessera-tokens";
import { CATALOG, MapStore, STORES, manualClock } from "./support.mjs";

const DAY = 86_400_000;

function service(store, clock, extra = {}) {
  return new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: clock.read, ...extra });
}

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (error) => error instanceof TokenError && error.code === code);
}

describe("error codes", () => {
  test("the TypeScript list is the core's code::ALL, in order", () => {
    assert.deepEqual([...TOKEN_ERROR_CODES], errorCodes());
    assert.equal(new Set(TOKEN_ERROR_CODES).size, TOKEN_ERROR_CODES.length);
  });

  test("TokenError is an Error with a code", () => {
    const error = new TokenError("TOKEN_EXPIRED", "expired");
    assert.ok(error instanceof Error);
    assert.equal(error.name, "TokenError");
    assert.equal(error.code, "TOKEN_EXPIRED");
    assert.equal(isUnauthenticated("TOKEN_EXPIRED"), true);
    assert.equal(isUnauthenticated("SCOPE_DENIED"), false);
    assert.equal(isUnauthenticated("STORE_FAILED"), false);
  });
});

for (const [kind, makeStore] of STORES) {
  describe(`the service over ${kind}`, () => {
    test("issue, verify, check and a denial", async () => {
      const clock = manualClock();
      const tokens = service(makeStore(), clock);
      const { token, record } = await tokens.issue("u1", {
        name: "CI",
        description: "deploys",
        expires: { days: 30 },
        scope: { actions: ["apps.read"], resources: ["orgs/acme/**"] },
      });
      assert.match(token, /^tsr_[0-9A-Za-z]{49}$/);
      assert.equal(record.expiresAt, clock.now + 30 * DAY);
      const principal = await tokens.verify(`Bearer ${token}`, { action: "apps.read", resource: "orgs/acme/apps/1" });
      assert.deepEqual(principal, { userId: "u1", tokenId: record.id, scope: record.scope });
      assert.ok(Object.isFrozen(principal));
      const denied = await tokens.check(`Bearer ${token}`, { action: "apps.read", resource: "orgs/other" });
      assert.deepEqual(denied, { ok: false, code: "SCOPE_DENIED" });
      await rejectsWith(tokens.verify(token, { action: "apps.write", resource: "orgs/acme" }), "SCOPE_DENIED");
      assert.deepEqual(await tokens.check(null, { action: "apps.read" }), { ok: false, code: "TOKEN_MALFORMED" });
      assert.deepEqual(await tokens.check("Bearer garbage", { action: "apps.read" }), {
        ok: false,
        code: "TOKEN_MALFORMED",
      });
      const typo = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
      assert.deepEqual(await tokens.check(typo, { action: "apps.read" }), { ok: false, code: "TOKEN_CHECKSUM" });
    });

    test("a verification names the token in the store now, whatever was stored before it", async () => {
      const tokens = service(makeStore(), manualClock());
      const read = { action: "apps.read" };
      const a = await tokens.issue("u1", { name: "a", scope: { actions: ["apps.read"] } });
      assert.equal((await tokens.verify(a.token, read)).tokenId, a.record.id);
      await tokens.delete("u1", a.record.id);
      await rejectsWith(tokens.verify(a.token, read), "TOKEN_UNKNOWN");
      // A MemoryStore gives the freed place to the next record: its
      // verification must name that record, never the one deleted.
      const b = await tokens.issue("u2", { name: "b", scope: { actions: ["apps.read", "deploy.run"] } });
      const principal = await tokens.verify(b.token, read);
      assert.deepEqual(principal, { userId: "u2", tokenId: b.record.id, scope: { actions: ["apps.read", "deploy.run"] } });
      // Editing a record keeps its place; the principal stays the token's.
      await tokens.rename("u2", b.record.id, { name: "renamed" });
      assert.equal((await tokens.verify(b.token, read)).tokenId, b.record.id);
      await tokens.update("u2", b.record.id, { status: "inactive" });
      await rejectsWith(tokens.verify(b.token, read), "TOKEN_INACTIVE");
    });

    test("huge requested lists are refused whole, and nothing is stored", async () => {
      const tokens = service(makeStore(), manualClock());
      const many = (n, item) => Array.from({ length: n }, (_, i) => item(i));
      for (const [request, code] of [
        [{ scope: { actions: many(100_000, () => "apps.read") } }, "SCOPE_INVALID"],
        [{ scope: { preset: "all", resources: many(100_000, (i) => `apps/${i}`) } }, "SCOPE_INVALID"],
        [{ scope: { preset: "all" }, allowedIps: many(100_000, (i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`) }, "IPS_INVALID"],
        [{ name: "x".repeat(1_000_000), scope: { preset: "all" } }, "NAME_INVALID"],
      ]) {
        await rejectsWith(tokens.issue("u1", { name: "a", ...request }), code);
      }
      assert.deepEqual(await tokens.list("u1"), []);
    });

    test("names beyond ASCII come back as they were given", async () => {
      const store = makeStore();
      const tokens = service(store, manualClock());
      const name = "Déploiement \u2603 \u{1F600} \"quoted\" \\ back";
      const description = "\u00e9t\u00e9 \u4e2d\u6587";
      const { record } = await tokens.issue("u\u00e9", { name, description, scope: { preset: "read" } });
      assert.equal(record.name, name);
      assert.equal(record.description, description);
      assert.equal(record.hint.endsWith("\u2026"), true);
      const [listed] = await tokens.list("u\u00e9");
      assert.deepEqual(listed, record);
      const stored = await store.getById(record.id);
      assert.equal(stored.name, name);
      assert.equal(stored.userId, "u\u00e9");
    });

    test("a requested list item holding a newline is refused, never read as two items", async () => {
      const tokens = service(makeStore(), manualClock());
      for (const [scope, allowedIps, code] of [
        [{ actions: ["apps.read\ndeploy.run"] }, undefined, "SCOPE_INVALID"],
        [{ actions: ["apps.read"], resources: ["apps/a\napps/b"] }, undefined, "SCOPE_INVALID"],
        [{ actions: ["apps.read\n"] }, undefined, "SCOPE_INVALID"],
        [{ preset: "all", resources: ["\napps/a"] }, undefined, "SCOPE_INVALID"],
        [{ preset: "all" }, ["10.0.0.1\n10.0.0.2"], "IPS_INVALID"],
        [{ preset: "all" }, ["10.0.0.1", "\n"], "IPS_INVALID"],
      ]) {
        await rejectsWith(tokens.issue("u1", { name: "a", scope, allowedIps }), code);
      }
      assert.deepEqual(await tokens.list("u1"), []);
      // The same lists without the newlines are accepted.
      const { record } = await tokens.issue("u1", {
        name: "a",
        scope: { actions: ["apps.read", "deploy.run"], resources: ["apps/a", "apps/b"] },
        allowedIps: ["10.0.0.1", "10.0.0.2"],
      });
      assert.deepEqual(record.scope, { actions: ["apps.read", "deploy.run"], resources: ["apps/a", "apps/b"] });
      assert.equal(record.allowedIps.length, 2);
    });

    test("presets follow a catalog that grows after issue; custom scopes do not", async () => {
      const clock = manualClock();
      const store = makeStore();
      const before = service(store, clock);
      const read = await before.issue("u1", { name: "read", scope: { preset: "read" } });
      const apps = await before.issue("u1", { name: "apps", scope: { actions: ["apps"] } });
      const grown = service(store, clock, {
        catalog: [...CATALOG, { action: "apps.logs", kinds: ["read"] }, { action: "apps.delete" }],
      });
      assert.equal((await grown.check(read.token, { action: "apps.logs" })).ok, true);
      assert.equal((await grown.check(read.token, { action: "apps.delete" })).ok, false);
      assert.equal((await grown.check(apps.token, { action: "apps.write" })).ok, true);
      assert.equal((await grown.check(apps.token, { action: "apps.logs" })).ok, false);
      assert.equal((await grown.check(apps.token, { action: "apps.delete" })).ok, false);
    });

    test("a child token can never exceed its parent", async () => {
      const clock = manualClock();
      const tokens = service(makeStore(), clock);
      const parent = await tokens.issue("u1", {
        name: "parent",
        expires: { days: 10 },
        scope: { actions: ["apps.read", "tokens.create"], resources: ["orgs/acme/**"] },
      });
      const parentActor = await tokens.authenticate(parent.token);
      const child = await tokens.issue(parentActor, {
        name: "child",
        expires: { days: 5 },
        scope: { actions: ["apps.read"], resources: ["orgs/acme/apps/*"] },
      });
      assert.deepEqual(child.record.createdBy, { kind: "token", tokenId: parent.record.id });
      const ask = (scope, expires = { days: 5 }) => tokens.issue(parentActor, { name: "child", expires, scope });
      await rejectsWith(ask({ actions: ["apps.write"], resources: ["orgs/acme/**"] }), "SCOPE_EXCEEDS_PARENT");
      await rejectsWith(ask({ actions: ["apps.read"] }), "SCOPE_EXCEEDS_PARENT");
      await rejectsWith(ask({ preset: "read", resources: ["orgs/acme/**"] }), "SCOPE_EXCEEDS_PARENT");
      await rejectsWith(ask({ actions: ["apps.read"], resources: ["orgs/acme/**"] }, "never"), "EXPIRY_EXCEEDS_PARENT");
      await rejectsWith(ask({ actions: ["apps.read"], resources: ["orgs/acme/**"] }, { days: 11 }), "EXPIRY_EXCEEDS_PARENT");
      const childActor = await tokens.authenticate(child.token);
      await rejectsWith(tokens.issue(childActor, { name: "c", scope: { actions: ["apps.read"] } }), "PARENT_INVALID");
      // A look-alike of a principal is no actor: only verify, check and
      // authenticate make them.
      await assert.rejects(
        tokens.issue({ ...parentActor }, { name: "c", expires: { days: 1 }, scope: { actions: ["apps.read"] } }),
        TypeError,
      );
      // Yet a principal is a plain frozen object, equal to its look-alike.
      assert.equal(Object.getPrototypeOf(parentActor), Object.prototype);
      assert.ok(Object.isFrozen(parentActor) && Object.isFrozen(parentActor.scope));
      assert.deepStrictEqual({ ...parentActor }, parentActor);
      await tokens.setStatus("u1", parent.record.id, "inactive");
      await rejectsWith(ask({ actions: ["apps.read"], resources: ["orgs/acme/**"] }), "TOKEN_INACTIVE");
    });

    test("inactive, expired, deleted and rotated-out tokens are refused", async () => {
      const clock = manualClock();
      const store = makeStore();
      const tokens = service(store, clock);
      const request = { action: "apps.read" };
      const a = await tokens.issue("u1", { name: "a", expires: { days: 1 }, scope: { preset: "all" } });
      assert.equal((await tokens.check(a.token, request)).ok, true);

      await tokens.setStatus("u1", a.record.id, "inactive");
      assert.deepEqual(await tokens.check(a.token, request), { ok: false, code: "TOKEN_INACTIVE" });
      await tokens.setStatus("u1", a.record.id, "active");
      assert.equal((await tokens.check(a.token, request)).ok, true);

      clock.now += DAY;
      assert.deepEqual(await tokens.check(a.token, request), { ok: false, code: "TOKEN_EXPIRED" });

      const b = await tokens.issue("u1", { name: "b", scope: { preset: "all" } });
      assert.deepEqual(await tokens.delete("u1", b.record.id), [b.record.id]);
      await rejectsWith(tokens.delete("u1", b.record.id), "NOT_FOUND");
      assert.deepEqual(await tokens.check(b.token, request), { ok: false, code: "TOKEN_UNKNOWN" });

      const c = await tokens.issue("u1", { name: "c", expires: { days: 30 }, scope: { preset: "read" } });
      const next = await tokens.rotate("u1", c.record.id, { graceSeconds: 60 });
      assert.equal(next.record.rotatedFrom, c.record.id);
      assert.equal(next.record.name, "c");
      assert.deepEqual(next.record.scope, { preset: "read" });
      assert.equal(next.record.expiresAt, clock.now + 30 * DAY);
      assert.equal((await tokens.check(c.token, request)).ok, true, "the old token works during the grace period");
      clock.now += 60_000;
      assert.deepEqual(await tokens.check(c.token, request), { ok: false, code: "TOKEN_EXPIRED" });
      assert.equal((await tokens.check(next.token, request)).ok, true);
    });

    test("deleting tokens in the middle of a user's list leaves the others verifying as themselves", async () => {
      const clock = manualClock();
      const tokens = service(makeStore(), clock);
      const request = { action: "apps.read" };
      const issued = [];
      for (const name of ["a", "b", "c", "d", "e"]) {
        issued.push(await tokens.issue("u1", { name, scope: { preset: "all" } }));
        clock.now += 1000; // lists are oldest first
      }
      const other = await tokens.issue("u2", { name: "x", scope: { preset: "read" } });
      await tokens.delete("u1", issued[1].record.id);
      await tokens.delete("u1", issued[0].record.id);
      for (const gone of issued.slice(0, 2)) {
        assert.deepEqual(await tokens.check(gone.token, request), { ok: false, code: "TOKEN_UNKNOWN" });
      }
      for (const { token, record } of [...issued.slice(2), other]) {
        const principal = await tokens.verify(token, request);
        assert.equal(principal.tokenId, record.id);
        assert.equal(principal.userId, record.userId);
      }
      assert.deepEqual(
        (await tokens.list("u1")).map((info) => info.name),
        ["c", "d", "e"],
      );
      // A token issued after the deletions takes its place in the list.
      const late = await tokens.issue("u1", { name: "f", scope: { preset: "all" } });
      assert.equal((await tokens.verify(late.token, request)).tokenId, late.record.id);
      assert.equal((await tokens.verify(issued[4].token, request)).tokenId, issued[4].record.id);
    });

    test("last-used is written at most once a minute", async () => {
      const clock = manualClock();
      const store = makeStore();
      const tokens = service(store, clock);
      const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      const used = async () => (await tokens.get("u1", record.id)).lastUsedAt;
      assert.equal(await used(), null);
      await tokens.verify(token, { action: "apps.read" });
      assert.equal(await used(), clock.now);
      const first = clock.now;
      clock.now += 59_999;
      await tokens.verify(token, { action: "apps.read" });
      assert.equal(await used(), first);
      clock.now += 1;
      await tokens.verify(token, { action: "apps.read" });
      assert.equal(await used(), clock.now);
    });

    test("lists and views never contain the token or its hash", async () => {
      const clock = manualClock();
      const pepper = new Uint8Array(32).fill(7);
      const tokens = service(makeStore(), clock, { pepper });
      const { token, record } = await tokens.issue("u1", {
        name: "secretive",
        expires: { days: 3 },
        scope: { preset: "all" },
      });
      const hash = hashToken(token, pepper);
      const views = [
        record,
        await tokens.get("u1", record.id),
        await tokens.list("u1"),
        await tokens.expiringWithin("u1", { days: 7 }),
        await tokens.setStatus("u1", record.id, "active"),
        await tokens.rename("u1", record.id, { name: "renamed", description: "now described" }),
        await tokens.update("u1", record.id, { status: "inactive" }, { cascade: true }),
        await tokens.rotate("u1", (await tokens.issue("u1", { name: "r", scope: { preset: "read" } })).record.id),
      ];
      assert.equal((await tokens.list("u1")).length, 3);
      await tokens.setStatus("u1", record.id, "active");
      assert.equal((await tokens.expiringWithin("u1", { days: 7 })).length, 1);
      assert.equal((await tokens.expiringWithin("u1", { days: 2 })).length, 0);
      const body = token.slice(4, 20);
      for (const view of views) {
        const text = JSON.stringify(view);
        assert.ok(!text.includes(body), "no token");
        assert.ok(!text.includes(hash), "no hash");
        const shown = Array.isArray(view) ? view[0] : (view.record ?? view);
        assert.ok(!("hash" in shown));
      }
      for (const shown of [inspect(tokens), inspect(parseToken(token)), JSON.stringify(parseToken(token)), String(parseToken(token))]) {
        assert.ok(!shown.includes(body), shown);
        assert.ok(!shown.includes("070707"), shown);
      }
      // A one-character typo (never the character already there).
      const typo = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
      const failure = await tokens.verify(typo, { action: "apps.read" }).catch((e) => e);
      assert.ok(failure instanceof Error, "the typo is refused");
      assert.ok(!failure.message.includes(body) && !failure.stack.includes(body));
    });

    test("rename edits name and description only", async () => {
      const tokens = service(makeStore(), manualClock());
      const { record } = await tokens.issue("u1", { name: "a", description: "d", scope: { preset: "all" } });
      const renamed = await tokens.rename("u1", record.id, { name: "  b  " });
      assert.equal(renamed.name, "b");
      assert.equal(renamed.description, "d");
      assert.equal((await tokens.rename("u1", record.id, { description: null })).description, null);
      await rejectsWith(tokens.rename("u1", record.id, { name: "   " }), "NAME_INVALID");
      await rejectsWith(tokens.rename("u1", record.id, { name: "zero\u200bwidth" }), "NAME_INVALID");
      await rejectsWith(tokens.rename("u1", record.id, { description: "bell\u0007" }), "DESCRIPTION_INVALID");
      await rejectsWith(tokens.rename("u1", "nope", { name: "x" }), "NOT_FOUND");
      await rejectsWith(tokens.get("u1", "nope"), "NOT_FOUND");
      await assert.rejects(tokens.update("u1", record.id, { scope: { preset: "read" } }), TypeError);
    });

    test("the policy caps lifetime and count", async () => {
      const tokens = service(makeStore(), manualClock(), {
        policy: { allowNonExpiring: false, maxLifetimeDays: 30, maxTokensPerUser: 2 },
      });
      await rejectsWith(tokens.issue("u1", { name: "a", scope: { preset: "all" } }), "EXPIRY_EXCEEDS_POLICY");
      await rejectsWith(
        tokens.issue("u1", { name: "a", expires: { days: 31 }, scope: { preset: "all" } }),
        "EXPIRY_EXCEEDS_POLICY",
      );
      const at = new Date(manualClock().now + 2 * DAY);
      const dated = await tokens.issue("u1", { name: "a", expires: { at }, scope: { preset: "all" } });
      assert.equal(dated.record.expiresAt, at.getTime());
      assert.equal(
        (await tokens.issue("u2", { name: "t", expires: { at: at.toISOString() }, scope: { preset: "all" } })).record.expiresAt,
        at.getTime(),
        "RFC 3339 text reads as the same instant",
      );
      await tokens.issue("u1", { name: "b", expires: { at: null }, scope: { preset: "all" } });
      await assert.rejects(tokens.issue("u1", { name: "t", expires: { at: "tomorrow" }, scope: { preset: "all" } }), TypeError);
      await rejectsWith(
        tokens.issue("u1", { name: "c", expires: { days: 1 }, scope: { preset: "all" } }),
        "LIMIT_REACHED",
      );
      await tokens.issue("u2", { name: "c", expires: { days: 1 }, scope: { preset: "all" } });
    });
  });
}

/** The catalog with the actions that let a token see and edit tokens. */
const MANAGED = [...CATALOG, { action: "tokens.read", kinds: ["read"] }, { action: "tokens.write" }];

for (const [kind, makeStore] of STORES) {
  describe(`ownership and the actor rule over ${kind}`, () => {
    test("another user's token is NOT_FOUND for every by-id method, by id or by token", async () => {
      const clock = manualClock();
      const store = makeStore();
      const tokens = service(store, clock, { catalog: MANAGED });
      const ann = await tokens.issue("ann", { name: "all", scope: { preset: "all" } });
      const bob = await tokens.issue("bob", { name: "bob", scope: { preset: "all" } });
      const bobToken = await tokens.authenticate(bob.token);
      const id = ann.record.id;
      for (const actor of ["bob", bobToken]) {
        await rejectsWith(tokens.get(actor, id), "NOT_FOUND");
        await rejectsWith(tokens.update(actor, id, { status: "inactive" }), "NOT_FOUND");
        await rejectsWith(tokens.setStatus(actor, id, "inactive"), "NOT_FOUND");
        await rejectsWith(tokens.rename(actor, id, { name: "mine" }), "NOT_FOUND");
        await rejectsWith(tokens.rotate(actor, id), "NOT_FOUND");
        await rejectsWith(tokens.delete(actor, id, { cascade: true }), "NOT_FOUND");
        assert.deepEqual((await tokens.list(actor)).map((r) => r.id), [bob.record.id]);
      }
      assert.equal((await tokens.check(ann.token, { action: "apps.read" })).ok, true, "ann's token is untouched");
    });

    test("a token that has since been deactivated, has expired or was rotated out acts on nothing", async () => {
      const clock = manualClock();
      const tokens = service(makeStore(), clock, { catalog: MANAGED });
      const target = await tokens.issue("u1", { name: "target", scope: { preset: "all" } });
      const acting = await tokens.issue("u1", { name: "acting", expires: { days: 1 }, scope: { preset: "all" } });
      const attempts = (actor) => [
        tokens.get(actor, target.record.id),
        tokens.list(actor),
        tokens.rename(actor, target.record.id, { name: "taken" }),
        tokens.setStatus(actor, target.record.id, "inactive"),
        tokens.rotate(actor, target.record.id),
        tokens.delete(actor, target.record.id),
      ];
      const actor = await tokens.authenticate(acting.token);
      await tokens.setStatus("u1", acting.record.id, "inactive");
      for (const attempt of attempts(actor)) await rejectsWith(attempt, "TOKEN_INACTIVE");
      await tokens.setStatus("u1", acting.record.id, "active");
      const rotated = await tokens.rotate("u1", acting.record.id);
      for (const attempt of attempts(actor)) await rejectsWith(attempt, "TOKEN_EXPIRED");
      const next = await tokens.authenticate(rotated.token);
      clock.now += 2 * DAY;
      for (const attempt of attempts(next)) await rejectsWith(attempt, "TOKEN_EXPIRED");
      const kept = await tokens.get("u1", target.record.id);
      assert.equal(kept.name, "target");
      assert.equal(kept.status, "active");
    });

    test("a narrow token cannot rotate, re-activate or delete a wider one", async () => {
      const clock = manualClock();
      const tokens = service(makeStore(), clock, { catalog: MANAGED });
      const all = await tokens.issue("u1", { name: "all", scope: { preset: "all" } });
      const narrow = await tokens.issue("u1", {
        name: "narrow",
        expires: { days: 1 },
        scope: { actions: ["tokens.create", "apps.read"] },
      });
      const actor = await tokens.authenticate(narrow.token);
      await rejectsWith(tokens.rotate(actor, all.record.id), "SCOPE_EXCEEDS_PARENT");
      await tokens.setStatus("u1", all.record.id, "inactive");
      await rejectsWith(tokens.setStatus(actor, all.record.id, "active"), "SCOPE_DENIED");
      await rejectsWith(tokens.delete(actor, all.record.id), "SCOPE_DENIED");
      const rotated = await tokens.rotate(actor, narrow.record.id, { graceSeconds: 60 });
      assert.ok(rotated.record.expiresAt <= narrow.record.expiresAt, "never outlives its rotator");
      await rejectsWith(tokens.rotate("u1", narrow.record.id), "TOKEN_ROTATED");
      // A token may always deactivate and delete itself.
      const fresh = await tokens.authenticate(rotated.token);
      await tokens.setStatus(fresh, rotated.record.id, "inactive");
      await rejectsWith(tokens.authenticate(rotated.token), "TOKEN_INACTIVE");
    });

    test("allowed IPs: a token is used and acts only from its ranges, and its children stay within", async () => {
      const tokens = service(makeStore(), manualClock(), { catalog: MANAGED });
      await rejectsWith(
        tokens.issue("u1", { name: "bad", scope: { preset: "all" }, allowedIps: ["10.0.0.1/8"] }),
        "IPS_INVALID",
      );
      await rejectsWith(tokens.issue("u1", { name: "bad", scope: { preset: "all" }, allowedIps: "10.0.0.0/8" }), "IPS_INVALID");
      const open = await tokens.issue("u1", { name: "open", scope: { preset: "all" } });
      assert.deepEqual(open.record.allowedIps, []);
      const gated = await tokens.issue("u1", { name: "gated", scope: { preset: "all" }, allowedIps: ["10.0.0.0/8"] });
      assert.deepEqual(gated.record.allowedIps, ["10.0.0.0/8"]);
      // Verification: the address decides, after expiry and before scope.
      assert.deepEqual(await tokens.check(gated.token, { action: "apps.read", ip: "192.0.2.1" }), {
        ok: false,
        code: "IP_DENIED",
      });
      assert.deepEqual(await tokens.check(gated.token, { action: "apps.read" }), { ok: false, code: "IP_DENIED" });
      assert.deepEqual(await tokens.check(gated.token, { action: "apps.read", ip: "not an address" }), {
        ok: false,
        code: "BAD_REQUEST",
      });
      await assert.rejects(tokens.check(gated.token, { action: "apps.read", ip: 10 }), TypeError);
      const from = await tokens.verify(gated.token, { action: "apps.read", ip: "10.1.2.3" });
      assert.equal(from.ip, "10.1.2.3");
      assert.ok(Object.isFrozen(from));
      // An unrestricted token's principal names no address and is shared.
      const anywhere = await tokens.verify(open.token, { action: "apps.read", ip: "192.0.2.1" });
      assert.equal(anywhere.ip, undefined);
      // Acting on tokens: from the address it was verified from.
      await rejectsWith(tokens.issue(from, { name: "c", scope: { preset: "read" }, expires: { days: 1 } }), "IPS_EXCEED_PARENT");
      await rejectsWith(tokens.delete(from, open.record.id), "IPS_EXCEED_PARENT");
      const child = await tokens.issue(from, {
        name: "c",
        scope: { preset: "read" },
        expires: { days: 1 },
        allowedIps: ["10.1.0.0/16"],
      });
      assert.deepEqual(child.record.allowedIps, ["10.1.0.0/16"]);
      const outside = await tokens.authenticate(gated.token, { ip: "10.200.0.1" }).then(
        () => "accepted",
        (error) => error.code,
      );
      assert.equal(outside, "accepted", "10.200.0.1 is inside 10.0.0.0/8");
      await rejectsWith(tokens.authenticate(gated.token, { ip: "192.0.2.1" }), "IP_DENIED");
      // Rotation keeps the ranges.
      const rotated = await tokens.rotate("u1", gated.record.id, { graceSeconds: 60 });
      assert.deepEqual(rotated.record.allowedIps, ["10.0.0.0/8"]);
    });

    test("delete and deactivate cascade on request", async () => {
      const tokens = service(makeStore(), manualClock(), { catalog: MANAGED });
      const parent = await tokens.issue("u1", { name: "p", expires: { days: 9 }, scope: { actions: ["tokens.create", "apps.read"] } });
      const child = await tokens.issue(await tokens.authenticate(parent.token), {
        name: "c",
        expires: { days: 5 },
        scope: { actions: ["tokens.create", "apps.read"] },
      });
      const grandchild = await tokens.issue(await tokens.authenticate(child.token), {
        name: "g",
        expires: { days: 2 },
        scope: { actions: ["apps.read"] },
      });
      const off = await tokens.update("u1", parent.record.id, { status: "inactive" }, { cascade: true });
      assert.deepEqual(off.affected, [parent.record.id, child.record.id, grandchild.record.id]);
      for (const { token } of [parent, child, grandchild]) {
        assert.equal((await tokens.check(token, { action: "apps.read" })).code, "TOKEN_INACTIVE");
      }
      const on = await tokens.update("u1", parent.record.id, { status: "active" }, { cascade: true });
      assert.deepEqual(on.affected, [parent.record.id], "re-activation never cascades");
      const deleted = await tokens.delete("u1", parent.record.id, { cascade: true });
      assert.deepEqual(deleted, [parent.record.id, child.record.id, grandchild.record.id]);
      assert.deepEqual(await tokens.list("u1"), []);
    });
  });
}

describe("a failing store fails closed", () => {
  const failures = {
    throws: () => {
      throw new Error("connection refused");
    },
    rejects: async () => {
      throw new Error("timeout");
    },
  };
  for (const [how, fail] of Object.entries(failures)) {
    test(`when a lookup ${how}`, async () => {
      const store = new MapStore();
      const tokens = service(store, manualClock());
      const { token } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      store.getByHash = fail;
      assert.deepEqual(await tokens.check(token, { action: "apps.read" }), { ok: false, code: "STORE_FAILED" });
      await rejectsWith(tokens.verify(token, { action: "apps.read" }), "STORE_FAILED");
      await rejectsWith(tokens.authenticate(token), "STORE_FAILED");
    });

    test(`when a last-used write ${how}`, async () => {
      const store = new MapStore();
      const tokens = service(store, manualClock());
      const { token } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      store.touch = fail;
      // The verification stands; the failure goes to onError.
      const result = await tokens.check(token, { action: "apps.read" });
      assert.equal(result.ok, true);
      const reported = [];
      const reporting = service(store, manualClock(), { onError: (error, context) => reported.push([error.message, context]) });
      assert.equal((await reporting.check(token, { action: "apps.read" })).ok, true);
      assert.equal(reported.length, 1);
      assert.equal(reported[0][1].operation, "touch");
      assert.equal(reported[0][1].tokenId, result.principal.tokenId);
    });
  }

  test("when other operations fail", async () => {
    const store = new MapStore();
    const tokens = service(store, manualClock());
    const { record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    store.put = failures.rejects;
    await rejectsWith(tokens.issue("u1", { name: "b", scope: { preset: "all" } }), "STORE_FAILED");
    await rejectsWith(tokens.setStatus("u1", record.id, "inactive"), "STORE_FAILED");
    store.listByUser = failures.throws;
    await rejectsWith(tokens.list("u1"), "STORE_FAILED");
  });

  test("a store that answers with another token's record never lets the token through", async () => {
    const store = new MapStore();
    const tokens = service(store, manualClock());
    const { token } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    const other = await tokens.issue("u2", { name: "b", scope: { preset: "all" } });
    const wrong = { ...store.records.get(other.record.id) };
    store.getByHash = async () => wrong;
    assert.deepEqual(await tokens.check(token, { action: "apps.read" }), { ok: false, code: "TOKEN_UNKNOWN" });
    await rejectsWith(tokens.authenticate(token), "TOKEN_UNKNOWN");
    // And the record's own token still verifies through the same store.
    store.getByHash = async (hash) => (hash === wrong.hash ? wrong : null);
    assert.equal((await tokens.verify(other.token, { action: "apps.read" })).tokenId, other.record.id);
  });

  test("a corrupt record is refused, not half-read", async () => {
    const store = new MapStore();
    const tokens = service(store, manualClock());
    const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    store.records.get(record.id).extra = "field";
    assert.deepEqual(await tokens.check(token, { action: "apps.read" }), { ok: false, code: "RECORD_INVALID" });
    await assert.rejects(new MemoryStore().put({ ...record, hash: "zz" }), { code: "RECORD_INVALID" });
  });

  test("a record with any member malformed is refused by check and authenticate, whichever member it is", async () => {
    const corruptions = {
      id: 7,
      userId: null,
      name: ["a"],
      description: 3,
      hash: "zz",
      hint: undefined,
      createdAt: "yesterday",
      expiresAt: 1.5,
      scope: { preset: "everything" },
      allowedIps: ["10.0.0.0/99"],
      status: "revoked",
      lastUsedAt: "now",
      rotatedFrom: 1,
      replacedBy: {},
    };
    const more = [
      ["hash", "A".repeat(63)],
      ["hash", "g".repeat(64)],
      ["scope", { actions: ["apps.read", 1] }],
      ["scope", { actions: [] }],
      ["scope", { preset: "all", colour: "red" }],
      ["allowedIps", "10.0.0.1"],
      ["status", "ACTIVE"],
      // Lists cross into the module joined by newlines: an item holding one
      // must be refused, never read as two valid items.
      ["scope", { actions: ["apps.read\napps.write"] }],
      ["scope", { preset: "all", resources: ["apps/a\napps/b"] }],
      ["allowedIps", ["10.0.0.1\n10.0.0.2"]],
      // The hash, the status and the preset cross in the same string: a
      // status holding a newline is not read as a status and a preset.
      ["status", "active\nall"],
    ];
    for (const [member, value] of [...Object.entries(corruptions), ...more]) {
      const store = new MapStore();
      const tokens = service(store, manualClock());
      const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      // A store that finds the record by a key of its own, whatever its hash reads.
      store.getByHash = async () => structuredClone(store.records.get(record.id));
      assert.equal((await tokens.check(token, { action: "apps.read" })).ok, true, member);
      const intact = structuredClone(store.records.get(record.id));
      store.records.get(record.id)[member] = value;
      const label = `${member}: ${JSON.stringify(value)}`;
      assert.deepEqual(await tokens.check(token, { action: "apps.read" }), { ok: false, code: "RECORD_INVALID" }, label);
      await rejectsWith(tokens.authenticate(token), "RECORD_INVALID");
      // The same record, intact again, verifies: nothing was half-read or kept.
      await assert.rejects(new MemoryStore().put(store.records.get(record.id)), { code: "RECORD_INVALID" }, label);
      store.records.set(record.id, intact);
      assert.equal((await tokens.verify(token, { action: "apps.read" })).tokenId, record.id, label);
    }
  });

  test("tokens an administrator or a service key issued are read; malformed creators are refused", async () => {
    for (const createdBy of [
      { kind: "admin", userId: "root" },
      { kind: "service", keyId: "workbench" },
    ]) {
      const store = new MapStore();
      const tokens = service(store, manualClock());
      const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      store.records.get(record.id).createdBy = createdBy;
      assert.equal((await tokens.verify(`Bearer ${token}`, { action: "apps.read" })).userId, "u1");
      assert.deepEqual((await tokens.list("u1"))[0].createdBy, createdBy);
      await new MemoryStore().put({ ...store.records.get(record.id) });
    }
    for (const createdBy of [
      { kind: "admin" },
      { kind: "admin", tokenId: "a" },
      { kind: "service", userId: "a" },
      { kind: "admin", userId: "a", keyId: "b" },
      { kind: "admin", userId: 7 },
      { kind: "user", userId: "a" },
      { kind: "toString" },
      { kind: "__proto__", tokenId: "a" },
    ]) {
      const store = new MapStore();
      const tokens = service(store, manualClock());
      const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      store.records.get(record.id).createdBy = createdBy;
      assert.deepEqual(
        await tokens.check(token, { action: "apps.read" }),
        { ok: false, code: "RECORD_INVALID" },
        JSON.stringify(createdBy),
      );
    }
  });

  test("a MemoryStore subclass goes through its own methods", async () => {
    class Failing extends MemoryStore {
      async getByHash() {
        throw new Error("down");
      }
    }
    const tokens = service(new Failing(), manualClock());
    const { token } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    assert.deepEqual(await tokens.check(token, { action: "apps.read" }), { ok: false, code: "STORE_FAILED" });
  });

  test("a Proxy around a MemoryStore is called through its traps, never bypassed", async () => {
    const calls = [];
    let failing = false;
    const wrapped = new Proxy(new MemoryStore(), {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        return (...args) => {
          calls.push(String(key));
          if (failing) return Promise.reject(new Error("injected"));
          return value.apply(target, args);
        };
      },
    });
    assert.ok(wrapped instanceof MemoryStore, "the wrapper passes instanceof");
    const tokens = service(wrapped, manualClock());
    const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    calls.length = 0;
    const principal = await tokens.verify(`Bearer ${token}`, { action: "apps.read" });
    assert.equal(principal.tokenId, record.id);
    assert.ok(calls.includes("getByHash"), `verify went through the wrapper: ${calls}`);
    failing = true;
    assert.deepEqual(await tokens.check(token, { action: "apps.read" }), { ok: false, code: "STORE_FAILED" });
  });
});

describe("MemoryStore's index", () => {
  test("each MemoryStore keys its maps of ids with 16 fresh random bytes; its JavaScript copy is zeroed", async () => {
    const handed = [];
    const crypto = globalThis.crypto;
    const own = Object.hasOwn(crypto, "getRandomValues");
    const original = crypto.getRandomValues;
    crypto.getRandomValues = function (bytes) {
      const out = original.call(this, bytes);
      handed.push({ bytes, copy: Uint8Array.from(bytes) });
      return out;
    };
    let stores;
    try {
      stores = [new MemoryStore(), new MemoryStore()];
    } finally {
      if (own) crypto.getRandomValues = original;
      else delete crypto.getRandomValues;
    }
    assert.equal(handed.length, 2, "one draw per store");
    for (const { bytes, copy } of handed) {
      assert.equal(copy.length, 16);
      assert.ok(copy.some((b) => b !== 0), "the seed is random bytes");
      assert.ok(bytes.every((b) => b === 0), "the JavaScript copy of the seed is zeroed once the index holds its keys");
    }
    assert.notDeepEqual(handed[0].copy, handed[1].copy, "each store draws its own seed");
    // Both stores keep and find tokens of many users under those keys.
    for (const store of stores) {
      const tokens = service(store, manualClock());
      const issued = [];
      for (let i = 0; i < 50; i++) {
        issued.push(await tokens.issue(`user ${i}`, { name: "a", scope: { preset: "all" } }));
      }
      for (const [i, { token, record }] of issued.entries()) {
        const principal = await tokens.verify(token, { action: "apps.read" });
        assert.deepEqual([principal.userId, principal.tokenId], [`user ${i}`, record.id]);
        assert.equal((await store.listByUser(`user ${i}`)).length, 1);
      }
    }
  });

  test("the entropy option seeds the index where a runtime has no crypto.getRandomValues", async () => {
    const calls = [];
    const store = new MemoryStore({
      entropy(bytes) {
        calls.push(bytes.length);
        for (let i = 0; i < bytes.length; i++) bytes[i] = i + 1;
      },
    });
    assert.deepEqual(calls, [16]);
    const tokens = service(store, manualClock());
    const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    assert.equal((await tokens.verify(token, { action: "apps.read" })).tokenId, record.id);
    assert.throws(() => new MemoryStore({ entropy() {} }), {
      name: "TypeError",
      message: /left all 16 bytes zero/,
    });
    assert.throws(() => new MemoryStore({ entropy: 42 }), { name: "TypeError", message: /entropy must be a function/ });
    assert.throws(() => new MemoryStore(7), { name: "TypeError", message: /options must be an object/ });
    const crypto = globalThis.crypto;
    const own = Object.hasOwn(crypto, "getRandomValues");
    const original = crypto.getRandomValues;
    crypto.getRandomValues = undefined;
    try {
      assert.throws(() => new MemoryStore(), { name: "TypeError", message: /pass the entropy option/ });
      assert.ok(new MemoryStore({ entropy: (bytes) => bytes.fill(9) }), "the option serves instead");
    } finally {
      if (own) crypto.getRandomValues = original;
      else delete crypto.getRandomValues;
    }
  });
});

describe("arguments", () => {
  test("TypeError for the wrong type, RangeError for a bad value", async () => {
    const store = new MemoryStore();
    assert.throws(() => new TokenService(), TypeError);
    assert.throws(() => new TokenService({ prefix: "tsr", catalog: CATALOG }), TypeError);
    assert.throws(() => new TokenService({ prefix: "tsr", catalog: "x", store }), TypeError);
    assert.throws(() => new TokenService({ prefix: "tsr", catalog: CATALOG, store, pepper: "k" }), TypeError);
    assert.throws(() => new TokenService({ prefix: "tsr", catalog: CATALOG, store, policy: { maxTokensPerUser: -1 } }), RangeError);
    for (const policy of [{ maxTokensPerUser: 0 }, { maxLifetimeDays: 0 }]) {
      assert.throws(() => new TokenService({ prefix: "tsr", catalog: CATALOG, store, policy }), { code: "POLICY_INVALID" });
    }
    assert.throws(() => new TokenService({ prefix: "tsr", catalog: CATALOG, store, policy: { maxTokens: 1 } }), TypeError);
    assert.throws(() => new TokenService({ prefix: "TSR", catalog: CATALOG, store }), { code: "PREFIX_INVALID" });
    assert.throws(() => new TokenService({ prefix: "tsr", catalog: [{ action: "Bad" }], store }), { code: "CATALOG_INVALID" });
    assert.throws(
      () => new TokenService({ prefix: "tsr", catalog: CATALOG, store, pepper: new Uint8Array(15) }),
      { code: "PEPPER_INVALID" },
    );
    const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: () => 1.5 });
    await assert.rejects(tokens.check("x", { action: "apps.read" }), RangeError);
    const ok = service(store, manualClock());
    await assert.rejects(ok.check(42, { action: "apps.read" }), TypeError);
    await assert.rejects(ok.check("x", {}), TypeError);
    await assert.rejects(ok.issue("u1", { name: "a", scope: { preset: "all" }, expires: { days: 1.5 } }), RangeError);
    await assert.rejects(ok.issue(1, { name: "a", scope: { preset: "all" } }), TypeError);
    // A request of the wrong shape, whatever member is wrong, is refused
    // before anything crosses into the module, and nothing is stored.
    await assert.rejects(ok.issue("u1", null), { name: "TypeError", message: /request must be an object/ });
    await assert.rejects(ok.issue("u1", 7), { name: "TypeError", message: /request must be an object/ });
    await assert.rejects(ok.issue("u1", { name: 42, scope: { preset: "all" } }), { name: "TypeError", message: /name/ });
    await assert.rejects(ok.issue("u1", { name: "a", scope: { preset: "all" }, description: 5 }), {
      name: "TypeError",
      message: /description/,
    });
    await assert.rejects(ok.issue("u1", { name: "a", scope: { actions: "apps.read" } }), { code: "SCOPE_INVALID" });
    await assert.rejects(ok.issue("u1", { name: "a", scope: { preset: "all" }, allowedIps: "10.0.0.0/8" }), {
      code: "IPS_INVALID",
    });
    assert.deepEqual(await store.listByUser("u1"), []);
    await assert.rejects(ok.setStatus("u1", "x", "paused"), TypeError);
    await assert.rejects(ok.list({ userId: "u1", tokenId: "x", scope: { preset: "all" } }), TypeError);
    await assert.rejects(ok.delete("u1", "x", { cascade: "yes" }), TypeError);
    assert.throws(() => hashToken(42), TypeError);
    assert.throws(() => tokenPattern("T"), { code: "PREFIX_INVALID" });
  });
});

describe("standalone functions", () => {
  test("parseToken, hashToken and tokenPattern", async () => {
    const store = new MemoryStore();
    const tokens = service(store, manualClock());
    const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    const presented = parseToken(`UserToken ${token}`);
    assert.equal(presented.expose(), token);
    assert.equal(presented.prefix, "tsr");
    assert.equal(presented.id, record.id);
    assert.equal((await store.getById(record.id)).hash, hashToken(`Bearer ${token}`));
    assert.ok(tokenPattern("tsr").test(`leaked: ${token} in a log`));
    const other = token.replace("tsr_", "ghp_");
    assert.throws(() => parseToken(other, { prefix: "tsr" }), { code: "TOKEN_PREFIX" });
    assert.throws(() => parseToken(other), { code: "TOKEN_CHECKSUM" });
    assert.throws(() => hashToken(token, new Uint8Array(4)), { code: "PEPPER_INVALID" });
  });

  test("CommonJS require resolves the same API", () => {
    const require = createRequire(import.meta.url);
    const cjs = require("tessera-tokens");
    for (const name of ["TokenService", "MemoryStore", "TokenError", "parseToken", "hashToken", "tokenPattern"]) {
      assert.equal(typeof cjs[name], "function", name);
    }
    const { token } = { token: "tsr_00000000000000000000000000000000000000000000MyxfL" };
    assert.equal(cjs.parseToken(token).hint, "tsr_0000…");
  });
});
