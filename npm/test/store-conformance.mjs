// The store conformance suite: one function that checks any TokenStore
// against the interface's contract, then runs the TokenService over it.
// store-conformance.test.mjs runs it on MemoryStore and a plain store;
// redis/redis-store.test.mjs on RedisStore against a real Redis.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStore, TokenError, TokenService, hashToken } from "tessera-tokens";
import { CATALOG, manualClock } from "./support.mjs";

const DAY = 86_400_000;

/**
 * Real records, as the core writes them: made by a service over a scratch
 * MemoryStore, so every store gets the same valid shapes (a child token,
 * a description, an expiry, a custom scope narrowed to resources, a
 * rotation, a last-used time, an inactive one).
 */
export async function sampleRecords() {
  const scratch = new MemoryStore();
  const clock = manualClock();
  const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store: scratch, now: clock.read });
  const parent = await tokens.issue("u1", {
    name: "parent",
    description: "makes children \u00e9\u4e2d \"quoted\" \\ / <b>",
    expires: { days: 30 },
    scope: { actions: ["apps.read", "tokens.create"], resources: ["orgs/acme/**"] },
  });
  const child = await tokens.issue(await tokens.authenticate(parent.token), {
    name: "child",
    expires: { days: 5 },
    scope: { actions: ["apps.read"], resources: ["orgs/acme/apps/*"] },
  });
  const plain = await tokens.issue("u2", { name: "plain", scope: { preset: "read" } });
  clock.now += 1000;
  await tokens.verify(plain.token, { action: "apps.read" });
  const rotated = await tokens.rotate("u2", plain.record.id, { graceSeconds: 60 });
  // Usable only from some networks: every store keeps the list whole.
  const idle = await tokens.issue("u3", {
    name: "idle",
    scope: { preset: "cli" },
    allowedIps: ["2001:db8::/32", "10.0.0.0/8"],
  });
  await tokens.setStatus("u3", idle.record.id, "inactive");
  const spare = await tokens.issue("u9", { name: "spare", scope: { preset: "all" } });
  const get = async (id) => scratch.getById(id);
  return {
    parent: await get(parent.record.id),
    child: await get(child.record.id),
    plain: await get(plain.record.id),
    rotated: await get(rotated.record.id),
    idle: await get(idle.record.id),
    /** A hash no stored record uses. */
    freshHash: (await get(spare.record.id)).hash,
    /** Tokens of some of them (the clock stood at `manualClock()`'s start, then 1 s later). */
    tokens: { parent: parent.token, idle: idle.token, spare: spare.token },
  };
}

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (error) => error instanceof TokenError && error.code === code);
}

/** An absent record, as the interface allows: null or undefined. */
function absent(value, what) {
  assert.ok(value === null || value === undefined, `${what} should be absent, got ${JSON.stringify(value)}`);
}

/** The same record, member by member and (when the store returns JSON order) byte for byte. */
function same(actual, expected) {
  assert.deepStrictEqual(actual, expected);
}

/** Ids in a stable order, to compare lists the interface may return in any order. */
const ids = (records) => records.map((r) => r.id).sort();

/** Settles within `ms` or fails the test: a safety bound, not a timing claim. */
async function settlesWithin(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers the conformance tests for a store. `makeStore` returns a fresh,
 * empty store (or a promise of one) for each test; `options.after(store)`
 * cleans up after a test if needed.
 *
 * `options.faulty`, for stores over a backend, returns (a promise of)
 * `{ store, set(mode), corrupt?(record) }`: a fresh store with a short
 * timeout whose backend `set` makes answer normally (`"ok"`), fail every
 * call (`"error"`), fail only writes (`"error-writes"`) or never answer
 * (`"hang"`); `corrupt` damages the stored form of a record behind the
 * store's back. The failure tests run only with it.
 */
export function storeConformance(name, makeStore, options = {}) {
  const fresh = async (t) => {
    const store = await makeStore();
    if (options.after) t.after(() => options.after(store));
    return store;
  };

  describe(`${name}: the TokenStore contract`, () => {
    test("absent keys give null or undefined, empty lists and zero counts", async (t) => {
      const store = await fresh(t);
      const { freshHash } = await sampleRecords();
      absent(await store.getByHash(freshHash), "getByHash");
      absent(await store.getById("0".repeat(32)), "getById");
      assert.equal(await store.delete("0".repeat(32)), false);
      assert.deepEqual(await store.listByUser("nobody"), []);
      if (store.countByUser) assert.equal(await store.countByUser("nobody"), 0);
      await store.touch("0".repeat(32), 1_800_000_000_000);
      absent(await store.getById("0".repeat(32)), "getById after touching an absent id");
    });

    test("records round-trip exactly, by hash and by id", async (t) => {
      const store = await fresh(t);
      const samples = await sampleRecords();
      const records = [samples.parent, samples.child, samples.plain, samples.rotated, samples.idle];
      for (const record of records) await store.put(structuredClone(record));
      for (const record of records) {
        same(await store.getById(record.id), record);
        same(await store.getByHash(record.hash), record);
      }
      // What comes back is a copy: changing it changes nothing stored.
      const copy = await store.getById(samples.parent.id);
      copy.name = "changed";
      copy.scope.actions.push("apps.write");
      same(await store.getById(samples.parent.id), samples.parent);
    });

    test("listByUser and countByUser follow puts and deletes", async (t) => {
      const store = await fresh(t);
      const { parent, child, plain, rotated } = await sampleRecords();
      for (const record of [parent, child, plain, rotated]) await store.put(record);
      assert.deepEqual(ids(await store.listByUser("u1")), ids([parent, child]));
      assert.deepEqual(ids(await store.listByUser("u2")), ids([plain, rotated]));
      for (const record of await store.listByUser("u1")) same(record, record.id === parent.id ? parent : child);
      if (store.countByUser) {
        assert.equal(await store.countByUser("u1"), 2);
        assert.equal(await store.countByUser("u2"), 2);
      }
      assert.equal(await store.delete(child.id), true);
      assert.deepEqual(ids(await store.listByUser("u1")), [parent.id]);
      if (store.countByUser) assert.equal(await store.countByUser("u1"), 1);
    });

    test("put replaces by id, moving the indexes when the hash or owner changes", async (t) => {
      const store = await fresh(t);
      const { parent, freshHash } = await sampleRecords();
      await store.put(parent);
      const renamed = { ...parent, name: "renamed", status: "inactive" };
      await store.put(renamed);
      same(await store.getById(parent.id), renamed);
      same(await store.getByHash(parent.hash), renamed);
      assert.equal((await store.listByUser("u1")).length, 1);

      const rehashed = { ...renamed, hash: freshHash };
      await store.put(rehashed);
      absent(await store.getByHash(parent.hash), "the old hash");
      same(await store.getByHash(freshHash), rehashed);
      same(await store.getById(parent.id), rehashed);

      const moved = { ...rehashed, userId: "u7" };
      await store.put(moved);
      assert.deepEqual(await store.listByUser("u1"), []);
      assert.deepEqual(ids(await store.listByUser("u7")), [parent.id]);
      if (store.countByUser) {
        assert.equal(await store.countByUser("u1"), 0);
        assert.equal(await store.countByUser("u7"), 1);
      }
      same(await store.getByHash(freshHash), moved);
    });

    test("a put under another record's hash is refused and changes nothing", async (t) => {
      const store = await fresh(t);
      const { parent, child } = await sampleRecords();
      await store.put(parent);
      await store.put(child);
      await assert.rejects(Promise.resolve().then(() => store.put({ ...child, hash: parent.hash })));
      same(await store.getByHash(parent.hash), parent);
      same(await store.getByHash(child.hash), child);
      same(await store.getById(child.id), child);
    });

    test("delete removes the record from every index; a deleted id can be put again", async (t) => {
      const store = await fresh(t);
      const { parent, child } = await sampleRecords();
      await store.put(parent);
      await store.put(child);
      assert.equal(await store.delete(parent.id), true);
      assert.equal(await store.delete(parent.id), false);
      absent(await store.getById(parent.id), "getById");
      absent(await store.getByHash(parent.hash), "getByHash");
      assert.deepEqual(ids(await store.listByUser("u1")), [child.id]);
      // The record stored after the deleted one is still found by each key.
      same(await store.getByHash(child.hash), child);
      same(await store.getById(child.id), child);
      await store.touch(parent.id, 1_900_000_000_000);
      absent(await store.getById(parent.id), "a touched deleted id");
      await store.put(parent);
      same(await store.getByHash(parent.hash), parent);
    });

    test("touch sets lastUsedAt only; a later put replaces it", async (t) => {
      const store = await fresh(t);
      const { parent } = await sampleRecords();
      await store.put(parent);
      await store.touch(parent.id, 1_800_000_123_456);
      same(await store.getById(parent.id), { ...parent, lastUsedAt: 1_800_000_123_456 });
      same(await store.getByHash(parent.hash), { ...parent, lastUsedAt: 1_800_000_123_456 });
      same((await store.listByUser("u1"))[0], { ...parent, lastUsedAt: 1_800_000_123_456 });
      const edited = { ...parent, name: "edited", lastUsedAt: 1_800_000_200_000 };
      await store.put(edited);
      same(await store.getById(parent.id), edited);
    });

    test("a write whose expected record changed is refused with STORE_CONFLICT and changes nothing", async (t) => {
      const store = await fresh(t);
      const { parent, child, freshHash } = await sampleRecords();
      await store.put(parent);
      await store.put(child);
      await store.touch(parent.id, 1_800_000_123_456);
      const read = await store.getById(parent.id);
      // lastUsedAt moved by touch alone is no change.
      await store.put({ ...read, name: "first" }, { ...read, lastUsedAt: null });
      const current = await store.getById(parent.id);
      const conflict = (error) => error?.code === "STORE_CONFLICT";
      await assert.rejects(Promise.resolve().then(() => store.put({ ...read, name: "stale" }, read)), conflict);
      await assert.rejects(Promise.resolve().then(() => store.delete(parent.id, read)), conflict);
      await assert.rejects(Promise.resolve().then(() => store.put({ ...child, hash: freshHash, id: "f".repeat(32) }, child)), conflict);
      if (store.apply) {
        await assert.rejects(
          Promise.resolve().then(() =>
            store.apply([
              { put: { ...child, name: "would change" }, expected: child },
              { delete: parent.id, expected: read },
            ]),
          ),
          conflict,
        );
      }
      same(await store.getById(parent.id), current);
      same(await store.getById(child.id), child);
      absent(await store.getByHash(freshHash), "the refused new record");
      assert.equal(await store.delete(parent.id, current), true);
    });

    test("touch never undoes a concurrent edit", async (t) => {
      const store = await fresh(t);
      const { parent } = await sampleRecords();
      await store.put(parent);
      const stamps = [];
      const work = [];
      for (let i = 0; i < 20; i++) {
        const stamp = 1_800_000_000_000 + i * 60_000;
        stamps.push(stamp);
        work.push(store.touch(parent.id, stamp));
        work.push(store.put({ ...parent, name: `name ${i}` }));
      }
      await Promise.all(work);
      const final = await store.getById(parent.id);
      assert.equal(final.name, "name 19", "the last edit stands");
      assert.ok(final.lastUsedAt === null || stamps.includes(final.lastUsedAt));
      const { lastUsedAt: _used, ...rest } = final;
      const { lastUsedAt: _original, ...expected } = { ...parent, name: "name 19" };
      same(rest, expected);
    });
  });

  describe(`${name}: the TokenService over it`, () => {
    const service = (store, clock, extra = {}) =>
      new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: clock.read, ...extra });

    test("issue, verify, deactivate, reactivate, rotate, delete", async (t) => {
      const store = await fresh(t);
      const clock = manualClock();
      const tokens = service(store, clock);
      const request = { action: "apps.read", resource: "orgs/acme/apps/1" };
      const { token, record } = await tokens.issue("u1", {
        name: "CI",
        expires: { days: 30 },
        scope: { actions: ["apps.read"], resources: ["orgs/acme/**"] },
      });
      const principal = await tokens.verify(`Bearer ${token}`, request);
      assert.deepEqual(principal, { userId: "u1", tokenId: record.id, scope: record.scope });
      assert.deepEqual(await tokens.check(token, { action: "apps.write", resource: "orgs/acme" }), {
        ok: false,
        code: "SCOPE_DENIED",
      });

      await tokens.setStatus("u1", record.id, "inactive");
      await rejectsWith(tokens.verify(token, request), "TOKEN_INACTIVE");
      await tokens.setStatus("u1", record.id, "active");
      assert.equal((await tokens.check(token, request)).ok, true);

      const next = await tokens.rotate("u1", record.id, { graceSeconds: 60 });
      assert.equal(next.record.rotatedFrom, record.id);
      assert.equal((await tokens.check(token, request)).ok, true, "the old token works during the grace period");
      assert.equal((await tokens.check(next.token, request)).ok, true);
      clock.now += 60_000;
      await rejectsWith(tokens.verify(token, request), "TOKEN_EXPIRED");
      assert.equal((await tokens.check(next.token, request)).ok, true);

      assert.deepEqual(await tokens.delete("u1", next.record.id), [next.record.id]);
      await rejectsWith(tokens.delete("u1", next.record.id), "NOT_FOUND");
      await rejectsWith(tokens.verify(next.token, request), "TOKEN_UNKNOWN");
      assert.deepEqual(ids(await tokens.list("u1")), [record.id]);
      await rejectsWith(tokens.get("u1", next.record.id), "NOT_FOUND");
      await rejectsWith(tokens.setStatus("u1", next.record.id, "inactive"), "NOT_FOUND");
    });

    test("lists and views never show the token or its hash", async (t) => {
      const store = await fresh(t);
      const clock = manualClock();
      const pepper = new Uint8Array(32).fill(9);
      const tokens = service(store, clock, { pepper });
      const issued = await tokens.issue("u1", { name: "a", expires: { days: 3 }, scope: { preset: "all" } });
      await tokens.issue("u1", { name: "b", scope: { preset: "read" } });
      const hash = hashToken(issued.token, pepper);
      assert.equal((await store.getByHash(hash)).id, issued.record.id, "stored under the peppered hash");
      const views = [
        issued.record,
        await tokens.get("u1", issued.record.id),
        await tokens.list("u1"),
        await tokens.expiringWithin("u1", { days: 7 }),
        await tokens.rename("u1", issued.record.id, { name: "renamed", description: "d" }),
      ];
      assert.equal((await tokens.list("u1")).length, 2);
      assert.equal((await tokens.expiringWithin("u1", { days: 7 })).length, 1);
      const body = issued.token.slice(4, 20);
      for (const view of views) {
        const text = JSON.stringify(view);
        assert.ok(!text.includes(body), "no token");
        assert.ok(!text.includes(hash), "no hash");
        for (const item of Array.isArray(view) ? view : [view]) assert.ok(!("hash" in item));
      }
    });

    test("last-used is written at most once a minute and survives edits", async (t) => {
      const store = await fresh(t);
      const clock = manualClock();
      const tokens = service(store, clock);
      const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      const used = async () => (await tokens.get("u1", record.id)).lastUsedAt;
      assert.equal(await used(), null);
      await tokens.verify(token, { action: "apps.read" });
      const first = clock.now;
      assert.equal(await used(), first);
      clock.now += 59_999;
      await tokens.verify(token, { action: "apps.read" });
      assert.equal(await used(), first);
      await tokens.rename("u1", record.id, { name: "renamed" });
      assert.equal(await used(), first, "an edit keeps the last-used time it read");
      clock.now += 1;
      await tokens.verify(token, { action: "apps.read" });
      assert.equal(await used(), clock.now);
      assert.equal((await tokens.get("u1", record.id)).name, "renamed");
    });

    test("concurrent changes never undo each other: a deactivation survives a rename that read before it", async (t) => {
      const store = await fresh(t);
      const clock = manualClock();
      const a = service(store, clock);
      const b = service(store, clock);
      const { token, record } = await a.issue("u1", { name: "raced", scope: { preset: "all" } });
      for (let round = 0; round < 20; round++) {
        const outcomes = await Promise.allSettled([
          a.setStatus("u1", record.id, "inactive"),
          b.rename("u1", record.id, { name: `name ${round}` }),
          b.rename("u1", record.id, { description: `description ${round}` }),
        ]);
        assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "fulfilled", "fulfilled"], String(outcomes.map((o) => o.reason)));
        const stored = await store.getById(record.id);
        assert.equal(stored.status, "inactive", `round ${round}: the deactivation was undone`);
        assert.equal(stored.name, `name ${round}`, `round ${round}: the rename was lost`);
        assert.equal(stored.description, `description ${round}`, `round ${round}: the description was lost`);
        await rejectsWith(a.verify(token, { action: "apps.read" }), "TOKEN_INACTIVE");
        await a.setStatus("u1", record.id, "active");
      }
    });

    test("the policy's token limit counts the user's stored tokens", async (t) => {
      const store = await fresh(t);
      const tokens = service(store, manualClock(), { policy: { maxTokensPerUser: 2 } });
      const a = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
      await tokens.issue("u1", { name: "b", scope: { preset: "all" } });
      await rejectsWith(tokens.issue("u1", { name: "c", scope: { preset: "all" } }), "LIMIT_REACHED");
      await tokens.issue("u2", { name: "c", scope: { preset: "all" } });
      await tokens.delete("u1", a.record.id);
      await tokens.issue("u1", { name: "c", scope: { preset: "all" } });
    });

    test("a token made by a token stays within its parent", async (t) => {
      const store = await fresh(t);
      const clock = manualClock();
      const tokens = service(store, clock);
      const parent = await tokens.issue("u1", {
        name: "parent",
        expires: { days: 10 },
        scope: { actions: ["apps.read", "tokens.create"] },
      });
      const actor = await tokens.authenticate(parent.token);
      const child = await tokens.issue(actor, {
        name: "child",
        expires: { days: 5 },
        scope: { actions: ["apps.read"] },
      });
      assert.deepEqual(child.record.createdBy, { kind: "token", tokenId: parent.record.id });
      await rejectsWith(tokens.issue(actor, { name: "c", expires: { days: 5 }, scope: { preset: "all" } }), "SCOPE_EXCEEDS_PARENT");
      clock.now += 10 * DAY;
      await rejectsWith(tokens.verify(child.token, { action: "apps.read" }), "TOKEN_EXPIRED");
    });
  });

  if (!options.faulty) return;

  describe(`${name}: failing closed`, () => {
    const opened = async (t) => {
      const faulty = await options.faulty();
      t.after(async () => {
        faulty.set("ok");
        if (options.after) await options.after(faulty.store);
      });
      const clock = manualClock();
      const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store: faulty.store, now: clock.read });
      const issued = await tokens.issue("u1", { name: "kept", expires: { days: 30 }, scope: { preset: "all" } });
      return { ...faulty, tokens, issued, clock };
    };
    const request = { action: "apps.read" };

    test("a backend that fails: verify is STORE_FAILED, every operation rejects, nothing stored changes", async (t) => {
      const { set, tokens, issued, store } = await opened(t);
      const before = await store.listByUser("u1");
      set("error");
      assert.deepEqual(await tokens.check(issued.token, request), { ok: false, code: "STORE_FAILED" });
      await rejectsWith(tokens.verify(issued.token, request), "STORE_FAILED");
      await rejectsWith(tokens.issue("u1", { name: "new", scope: { preset: "all" } }), "STORE_FAILED");
      await rejectsWith(tokens.list("u1"), "STORE_FAILED");
      await rejectsWith(tokens.setStatus("u1", issued.record.id, "inactive"), "STORE_FAILED");
      await rejectsWith(tokens.delete("u1", issued.record.id), "STORE_FAILED");
      set("ok");
      assert.deepEqual(await store.listByUser("u1"), before);
      assert.equal((await tokens.check(issued.token, request)).ok, true);
    });

    test("a backend that hangs: verify is STORE_FAILED once the store's timeout passes", async (t) => {
      const { set, tokens, issued } = await opened(t);
      set("hang");
      const checked = await settlesWithin(tokens.check(issued.token, request), 30_000, "check over a hung backend");
      assert.deepEqual(checked, { ok: false, code: "STORE_FAILED" });
      await settlesWithin(rejectsWith(tokens.list("u1"), "STORE_FAILED"), 30_000, "list over a hung backend");
      set("ok");
      assert.equal((await tokens.check(issued.token, request)).ok, true);
    });

    test("writes that fail leave every record as it was: rotation, cascade, status", async (t) => {
      const { set, tokens, issued, store } = await opened(t);
      const child = await tokens.issue(await tokens.authenticate(issued.token), {
        name: "child",
        expires: { days: 5 },
        scope: { preset: "read" },
      });
      const before = await store.listByUser("u1");
      set("error-writes");
      await rejectsWith(tokens.rotate("u1", issued.record.id, { graceSeconds: 60 }), "STORE_FAILED");
      await rejectsWith(tokens.delete("u1", issued.record.id, { cascade: true }), "STORE_FAILED");
      await rejectsWith(tokens.setStatus("u1", child.record.id, "inactive"), "STORE_FAILED");
      set("ok");
      const after = await store.listByUser("u1");
      assert.deepEqual(ids(after), ids(before));
      for (const record of after) same(record, before.find((r) => r.id === record.id));
      assert.equal((await tokens.check(issued.token, request)).ok, true);
      assert.equal((await tokens.check(child.token, request)).ok, true);
    });

    test("a record damaged in the backend is refused, never half read", async (t) => {
      const { corrupt, tokens, issued, store } = await opened(t);
      if (!corrupt) {
        t.skip("this backend cannot be damaged from outside");
        return;
      }
      await corrupt(await store.getById(issued.record.id));
      const checked = await tokens.check(issued.token, request);
      assert.equal(checked.ok, false);
      assert.ok(["STORE_FAILED", "RECORD_INVALID", "TOKEN_UNKNOWN"].includes(checked.code), checked.code);
    });
  });
}

/**
 * The conformance tests for a read-only store: one that finds records a
 * service elsewhere keeps, such as `IntrospectionStore`. `seeded(records)`
 * returns (a promise of) `{ store, set(mode), corrupt(record), close() }`:
 * a fresh store over a backend that holds exactly `records`, whose modes are
 * those of `options.faulty` above (`"ok"`, `"error"`, `"hang"`; the store
 * should time out quickly), and `corrupt` damages a record in the backend.
 */
export function readOnlyConformance(name, seeded) {
  const open = async (t, records) => {
    const backend = await seeded(records);
    t.after(async () => {
      backend.set("ok");
      await backend.close?.();
    });
    return backend;
  };
  const verifying = (store) => new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: manualClock().read });

  describe(`${name}: the read-only TokenStore contract`, () => {
    test("records come back exactly, by hash; an absent hash gives null or undefined", async (t) => {
      const samples = await sampleRecords();
      const records = [samples.parent, samples.child, samples.plain, samples.rotated, samples.idle];
      const { store } = await open(t, records);
      for (const record of records) same(await store.getByHash(record.hash), record);
      absent(await store.getByHash(samples.freshHash), "getByHash");
    });

    test("what comes back cannot change what later lookups get", async (t) => {
      const { parent } = await sampleRecords();
      const { store } = await open(t, [parent]);
      const got = await store.getByHash(parent.hash);
      try {
        got.name = "changed";
        got.scope.actions.push("apps.write");
      } catch {
        // A frozen answer refuses the change, which is as good.
      }
      same(await store.getByHash(parent.hash), parent);
    });

    test("the TokenService verifies over it: principal, scope, status, unknown", async (t) => {
      const { parent, idle, tokens } = await sampleRecords();
      const { store } = await open(t, [parent, idle]);
      const service = verifying(store);
      const principal = await service.verify(tokens.parent, { action: "apps.read", resource: "orgs/acme/apps/1" });
      assert.equal(principal.tokenId, parent.id);
      assert.deepEqual(await service.check(tokens.parent, { action: "apps.write", resource: "orgs/acme" }), {
        ok: false,
        code: "SCOPE_DENIED",
      });
      assert.deepEqual(await service.check(tokens.idle, { action: "apps.read" }), { ok: false, code: "TOKEN_INACTIVE" });
      assert.deepEqual(await service.check(tokens.spare, { action: "apps.read" }), { ok: false, code: "TOKEN_UNKNOWN" });
      const later = new TokenService({
        prefix: "tsr",
        catalog: CATALOG,
        store,
        now: () => manualClock().now + 31 * DAY,
      });
      assert.deepEqual(await later.check(tokens.parent, { action: "apps.read", resource: "orgs/acme/apps/1" }), {
        ok: false,
        code: "TOKEN_EXPIRED",
      });
    });
  });

  describe(`${name}: failing closed`, () => {
    const request = { action: "apps.read", resource: "orgs/acme/apps/1" };

    test("a backend that fails: STORE_FAILED, and accepted again once it recovers", async (t) => {
      const { parent, tokens } = await sampleRecords();
      const backend = await open(t, [parent]);
      const service = verifying(backend.store);
      backend.set("error");
      assert.deepEqual(await service.check(tokens.parent, request), { ok: false, code: "STORE_FAILED" });
      backend.set("ok");
      assert.equal((await service.check(tokens.parent, request)).ok, true);
    });

    test("a backend that hangs: STORE_FAILED once the store's timeout passes", async (t) => {
      const { parent, tokens } = await sampleRecords();
      const backend = await open(t, [parent]);
      backend.set("hang");
      const checked = await settlesWithin(verifying(backend.store).check(tokens.parent, request), 30_000, "check");
      assert.deepEqual(checked, { ok: false, code: "STORE_FAILED" });
    });

    test("a record damaged in the backend is refused, never half read", async (t) => {
      const { parent, tokens } = await sampleRecords();
      const backend = await open(t, [parent]);
      await backend.corrupt(parent);
      const checked = await verifying(backend.store).check(tokens.parent, request);
      assert.equal(checked.ok, false);
      assert.ok(["STORE_FAILED", "RECORD_INVALID", "TOKEN_UNKNOWN"].includes(checked.code), checked.code);
    });
  });
}
