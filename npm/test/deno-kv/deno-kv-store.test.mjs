// DenoKvStore over a real Deno KV (local SQLite files in a temporary
// directory): the store conformance suite (failure section included), the
// key layout, malformed values, atomic batches and their limits, writes
// racing each other from two handles on one file, and the packaging.
//
// Runs in Deno only (`deno test` runs node:test suites):
//   cd npm && DENO_NO_UPDATE_CHECK=1 node_modules/.bin/deno test \
//     --allow-read --allow-write --allow-env --unstable-kv test/deno-kv/
//
// Deno 2.9's node:test runs no `t.after` hook of a test inside `describe`
// (it runs a top-level test's), so the suite's per-test clean-up never
// runs here: every database this file opens is closed, and the directory
// removed, by the top-level `after` below.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { inspect } from "node:util";
import { MemoryStore, TokenError, TokenService } from "tessera-tokens";
import { DenoKvStore } from "tessera-tokens/deno-kv";
import { sampleRecords, storeConformance } from "../store-conformance.mjs";
import { CATALOG, manualClock } from "../support.mjs";

if (typeof Deno === "undefined" || typeof Deno.openKv !== "function") {
  throw new Error("run this file with `deno test --unstable-kv` (see its first lines)");
}

const dir = await Deno.makeTempDir({ prefix: "tessera-deno-kv-" });
const opened = new Set();
let files = 0;

/** A database in a new file of the temporary directory (or `path`, a second handle). */
async function openKv(path = `${dir}/kv-${++files}.sqlite`) {
  const kv = await Deno.openKv(path);
  opened.add(kv);
  return { kv, path };
}

function closeKv(kv) {
  if (opened.delete(kv)) kv.close();
}

after(async () => {
  for (const kv of [...opened]) closeKv(kv);
  await Deno.remove(dir, { recursive: true });
});

/** Every entry under a prefix, as [key, value] pairs in key order. */
async function entriesUnder(kv, prefix) {
  const out = [];
  for await (const entry of kv.list({ prefix })) out.push([entry.key, entry.value]);
  return out;
}

/**
 * A Deno.Kv stand-in over a real one: `"ok"` passes every call through,
 * `"error"` rejects every call, `"error-writes"` rejects commits only,
 * `"hang"` answers nothing ever. `beforeCommit`, when set, runs (once)
 * before the next commit reaches the database.
 */
function faultyKv(real) {
  let mode = "ok";
  const hooks = { beforeCommit: undefined };
  const never = () => new Promise(() => {});
  const fail = (what) => Promise.reject(new Error(`injected failure of ${what}`));
  const read = (what, run) => (mode === "error" ? fail(what) : mode === "hang" ? never() : run());
  const kv = {
    get: (key) => read("get", () => real.get(key)),
    getMany: (keys) => read("getMany", () => real.getMany(keys)),
    list(selector) {
      if (mode === "ok" || mode === "error-writes") return real.list(selector);
      const now = mode;
      return {
        [Symbol.asyncIterator]: () => ({ next: () => (now === "error" ? fail("list") : never()) }),
      };
    },
    atomic() {
      const operation = real.atomic();
      const wrapped = {
        check: (...checks) => (operation.check(...checks), wrapped),
        set: (key, value) => (operation.set(key, value), wrapped),
        delete: (key) => (operation.delete(key), wrapped),
        async commit() {
          if (mode === "hang") return never();
          if (mode !== "ok") return fail("commit");
          const hook = hooks.beforeCommit;
          hooks.beforeCommit = undefined;
          if (hook) await hook();
          return operation.commit();
        },
      };
      return wrapped;
    },
  };
  return { kv, hooks, set: (next) => (mode = next) };
}

const kvOf = new WeakMap();

storeConformance(
  "DenoKvStore (Deno KV, local file)",
  async () => {
    const { kv } = await openKv();
    const store = new DenoKvStore(kv);
    kvOf.set(store, kv);
    return store;
  },
  {
    after: (store) => closeKv(kvOf.get(store)),
    faulty: async () => {
      const { kv } = await openKv();
      const faulty = faultyKv(kv);
      const store = new DenoKvStore(faulty.kv, { timeoutMs: 300 });
      kvOf.set(store, kv);
      return {
        store,
        set: faulty.set,
        // A record cut off half-way, as a torn write would leave it.
        corrupt: async (record) => {
          const json = JSON.stringify(record);
          await kv.set(["tessera", "id", record.id], json.slice(0, json.length >> 1));
        },
      };
    },
  },
);

const service = (store, clock, extra = {}) =>
  new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: clock.read, ...extra });

const isStoreFailed = (error) => error instanceof TokenError && error.code === "STORE_FAILED";

/**
 * A store that passes every call on to `inner` and counts the conflicts it
 * throws (which the service retries, so its callers never see them).
 */
function countingConflicts(inner) {
  const counted = { conflicts: 0 };
  const counting = (run) => async (...args) => {
    try {
      return await run(...args);
    } catch (error) {
      if (error?.code === "STORE_CONFLICT") counted.conflicts++;
      throw error;
    }
  };
  counted.store = {
    getByHash: (hash) => inner.getByHash(hash),
    getById: (id) => inner.getById(id),
    listByUser: (userId) => inner.listByUser(userId),
    touch: (id, at) => inner.touch(id, at),
    put: counting((record, expected) => inner.put(record, expected)),
    delete: counting((id, expected) => inner.delete(id, expected)),
    apply: counting((writes) => inner.apply(writes)),
  };
  return counted;
}

describe("DenoKvStore: keys, values and options", () => {
  test("the key layout, and nothing left behind after moves and deletes", async () => {
    const { kv } = await openKv();
    const prefix = ["app", "tokens"];
    const store = new DenoKvStore(kv, { prefix });
    const { parent, child, freshHash } = await sampleRecords();
    await store.put(parent);
    await store.put(child);
    const keys = (await entriesUnder(kv, [])).map(([key]) => key);
    assert.deepEqual(
      keys.map((key) => JSON.stringify(key)).sort(),
      [
        [...prefix, "hash", parent.hash],
        [...prefix, "hash", child.hash],
        [...prefix, "id", parent.id],
        [...prefix, "id", child.id],
        [...prefix, "user", "u1", parent.id],
        [...prefix, "user", "u1", child.id],
      ]
        .map((key) => JSON.stringify(key))
        .sort(),
    );
    assert.equal((await kv.get([...prefix, "id", parent.id])).value, JSON.stringify(parent), "the record's JSON, as put");
    assert.equal((await kv.get([...prefix, "hash", parent.hash])).value, parent.id);
    assert.equal((await kv.get([...prefix, "user", "u1", parent.id])).value, true);
    assert.equal(JSON.stringify(await store.getById(parent.id)), JSON.stringify(parent), "the same JSON, byte for byte");

    await store.touch(parent.id, 1_800_000_000_001);
    assert.equal((await kv.get([...prefix, "used", parent.id])).value, 1_800_000_000_001);
    assert.equal((await kv.get([...prefix, "id", parent.id])).value, JSON.stringify(parent), "touch leaves the record alone");
    await store.put({ ...parent, hash: freshHash, userId: "u5" });
    assert.equal((await kv.get([...prefix, "hash", parent.hash])).versionstamp, null, "no stale hash entry");
    assert.equal((await kv.get([...prefix, "user", "u1", parent.id])).versionstamp, null, "no stale user entry");
    assert.equal((await kv.get([...prefix, "used", parent.id])).versionstamp, null, "a put replaces the last-used time");
    assert.equal(await store.countByUser("u5"), 1);

    const conflict = await store.put({ ...child, hash: freshHash }).catch((error) => error);
    assert.match(conflict.message, /^DenoKvStore\.put: another record is stored under this hash$/);
    assert.ok(!inspect(conflict).includes(freshHash), "errors carry no hashes");

    assert.equal(await store.delete(parent.id), true);
    assert.equal(await store.delete(child.id), true);
    assert.equal(await store.delete(child.id), false);
    await store.touch(child.id, 1_800_000_000_003);
    assert.deepEqual(await entriesUnder(kv, []), [], "touching a deleted id creates nothing");
  });

  test("the default prefix is [\"tessera\"]; stores with other prefixes share a database without seeing each other", async () => {
    const { kv } = await openKv();
    const { parent } = await sampleRecords();
    const plain = new DenoKvStore(kv);
    const other = new DenoKvStore(kv, { prefix: ["other", 2n, true, new Uint8Array([1, 2])] });
    assert.deepEqual(plain.prefix, ["tessera"]);
    await plain.put(parent);
    assert.equal((await entriesUnder(kv, ["tessera"])).length, 3);
    assert.equal(await other.getByHash(parent.hash), null);
    assert.deepEqual(await other.listByUser("u1"), []);
    await other.put(parent);
    assert.deepEqual(await other.getById(parent.id), parent);
    assert.equal(await plain.delete(parent.id), true);
    assert.deepEqual(await other.getByHash(parent.hash), parent);
    assert.equal(inspect(plain), 'DenoKvStore { prefix: ["tessera"] }');
  });

  test("wrong arguments are TypeErrors (RangeError for a last-used time)", async () => {
    const { kv } = await openKv();
    assert.throws(() => new DenoKvStore(null), TypeError);
    assert.throws(() => new DenoKvStore({ get() {}, getMany() {}, list() {} }), /kv\.atomic must be a function/);
    assert.throws(() => new DenoKvStore(kv, { prefix: "tessera" }), TypeError);
    assert.throws(() => new DenoKvStore(kv, { prefix: [{}] }), TypeError);
    assert.throws(() => new DenoKvStore(kv, { prefix: [Symbol("s")] }), TypeError);
    for (const timeoutMs of [0, 1.5, "5", -1, 2 ** 31]) {
      assert.throws(() => new DenoKvStore(kv, { timeoutMs }), TypeError, String(timeoutMs));
    }
    const store = new DenoKvStore(kv, { timeoutMs: 1 });
    const { parent } = await sampleRecords();
    for (const bad of [null, [], { ...parent, id: "" }, { ...parent, userId: 7 }, { ...parent, hash: parent.hash.toUpperCase() }]) {
      await assert.rejects(store.put(bad), TypeError);
    }
    await assert.rejects(store.apply([{ put: parent }, { nothing: true }]), TypeError);
    await assert.rejects(store.apply("writes"), TypeError);
    await assert.rejects(store.touch(parent.id, 1.5), RangeError);
    assert.equal(await new DenoKvStore(kv).getById(parent.id), null, "nothing was written");
  });

  test("a stored value that is not a well-formed record throws, from every read", async () => {
    const { kv } = await openKv();
    const store = new DenoKvStore(kv);
    const { parent } = await sampleRecords();
    const json = JSON.stringify(parent);
    const damaged = [
      42,
      { ...parent },
      "",
      json.slice(0, -1),
      "[]",
      "null",
      JSON.stringify({ ...parent, hash: "x" }),
      JSON.stringify({ ...parent, userId: null }),
      JSON.stringify({ ...parent, id: "f".repeat(32) }),
    ];
    for (const value of damaged) {
      await store.put(parent);
      await kv.set(["tessera", "id", parent.id], value);
      await assert.rejects(store.getById(parent.id), /^Error: DenoKvStore\.getById: the value stored for record/, String(value));
      await assert.rejects(store.getByHash(parent.hash), /^Error: DenoKvStore\.getByHash: /);
      await assert.rejects(store.listByUser("u1"), /^Error: DenoKvStore\.listByUser: /);
      await assert.rejects(store.put({ ...parent, name: "over it" }), /^Error: DenoKvStore\.put: /);
      await kv.set(["tessera", "id", parent.id], json);
    }
    await kv.set(["tessera", "used", parent.id], "yesterday");
    await assert.rejects(store.getById(parent.id), /last-used time stored for record .* is not a whole number/);
    await kv.delete(["tessera", "used", parent.id]);
    await kv.set(["tessera", "hash", parent.hash], 7);
    await assert.rejects(store.getByHash(parent.hash), /a hash index entry does not hold a record id/);
    await kv.set(["tessera", "hash", parent.hash], parent.id);
    assert.deepEqual(await store.getByHash(parent.hash), parent, "readable again once repaired");

    // Through the service: a damaged record is never half read.
    const tokens = service(store, manualClock());
    const issued = await tokens.issue("u7", { name: "a", scope: { preset: "all" } });
    await kv.set(["tessera", "id", issued.record.id], JSON.stringify({ ...parent, id: issued.record.id, userId: "u7" }).slice(0, 40));
    assert.deepEqual(await tokens.check(issued.token, { action: "apps.read" }), { ok: false, code: "STORE_FAILED" });
    await assert.rejects(tokens.list("u7"), isStoreFailed);
  });
});

describe("DenoKvStore: atomic batches", () => {
  test("apply writes all or nothing: a refused write in a batch leaves every record as it was", async () => {
    const { kv } = await openKv();
    const store = new DenoKvStore(kv);
    const { parent, child, plain, freshHash } = await sampleRecords();
    await store.put(parent);
    await store.put(child);
    const before = await entriesUnder(kv, []);
    await assert.rejects(
      store.apply([{ put: plain }, { delete: parent.id }, { put: { ...child, name: "x", hash: freshHash } }, { put: { ...plain, id: "a".repeat(32) } }]),
      /^Error: DenoKvStore\.apply: another record is stored under this hash$/,
    );
    assert.deepEqual(await entriesUnder(kv, []), before, "nothing changed");

    // The same writes without the conflict: applied in order, at once.
    await store.apply([{ put: plain }, { delete: parent.id }, { put: { ...child, name: "x", hash: freshHash } }, { put: { ...parent, userId: "u8" } }]);
    assert.deepEqual(await store.getById(plain.id), plain);
    assert.deepEqual(await store.getByHash(freshHash), { ...child, name: "x", hash: freshHash });
    assert.equal(await store.getByHash(child.hash), null);
    assert.deepEqual(await store.getByHash(parent.hash), { ...parent, userId: "u8" });
    assert.deepEqual((await store.listByUser("u1")).map((r) => r.id), [child.id]);

    // A hash freed earlier in the batch may be taken later in it.
    await store.apply([{ delete: child.id }, { put: { ...plain, hash: freshHash } }]);
    assert.equal((await store.getByHash(freshHash)).id, plain.id);
  });

  test("a batch beyond one atomic operation of Deno KV is refused before anything is written", async () => {
    const { kv } = await openKv();
    const store = new DenoKvStore(kv);
    const { parent } = await sampleRecords();
    const many = (n, from = 0) =>
      Array.from({ length: n }, (_, i) => ({
        put: { ...parent, id: (from + i).toString(16).padStart(32, "0"), hash: (from + i).toString(16).padStart(64, "0") },
      }));
    // 50 new records: 100 checks (record and hash entry each), 200 mutations.
    await store.apply(many(50));
    assert.equal(await store.countByUser("u1"), 50);
    await assert.rejects(store.apply(many(51, 100)), /need 102 checks and \d+ mutations, more than one Deno KV atomic operation holds \(100 and 1000\); nothing was written/);
    await assert.rejects(store.apply(many(101)), /101 records are more than one Deno KV atomic operation can check \(100\); nothing was written/);
    await assert.rejects(store.apply(Array(501).fill({ put: parent })), /need 2 checks and 1004 mutations/);
    assert.equal(await store.countByUser("u1"), 50, "nothing more was written");
    // 49 deletions and a new record: 51 checks, one atomic operation.
    await store.apply([...many(50).slice(1).map((w) => ({ delete: w.put.id })), { put: parent }]);
    assert.deepEqual((await store.listByUser("u1")).map((r) => r.id), ["0".repeat(32), parent.id].sort());
  });

  test("a cascade and a rotation through the service are single atomic operations", async () => {
    const { kv } = await openKv();
    const faulty = faultyKv(kv);
    const store = new DenoKvStore(faulty.kv);
    const clock = manualClock();
    const tokens = service(store, clock);
    const root = await tokens.issue("u1", { name: "root", scope: { preset: "all" } });
    const actor = await tokens.authenticate(root.token);
    for (let i = 0; i < 30; i++) await tokens.issue(actor, { name: `child ${i}`, scope: { preset: "read" } });
    let commits = 0;
    const counting = () => {
      faulty.hooks.beforeCommit = async () => {
        commits++;
        counting();
      };
    };
    counting();
    const affected = (await tokens.update("u1", root.record.id, { status: "inactive" }, { cascade: true })).affected;
    assert.equal(affected.length, 31);
    assert.equal(commits, 1, "31 records deactivated in one commit");
    assert.ok((await tokens.list("u1")).every((t) => t.status === "inactive"));
    commits = 0;
    await tokens.update("u1", root.record.id, { status: "active" });
    await tokens.rotate("u1", root.record.id, { graceSeconds: 60 });
    assert.equal(commits, 2, "one commit to reactivate, one to rotate");
    commits = 0;
    assert.equal((await tokens.delete("u1", root.record.id, { cascade: true })).length, 31);
    assert.equal(commits, 1);
    faulty.hooks.beforeCommit = undefined;
    assert.equal((await tokens.list("u1")).length, 1, "the rotated token's successor is left");
  });
});

describe("DenoKvStore: concurrent writers", () => {
  test("touch racing a delete or an edit never resurrects or undoes anything", async () => {
    const { kv } = await openKv();
    const faulty = faultyKv(kv);
    const store = new DenoKvStore(faulty.kv);
    const other = new DenoKvStore(kv); // another process, as far as `store` knows
    const { parent } = await sampleRecords();

    await other.put(parent);
    faulty.hooks.beforeCommit = () => other.put({ ...parent, name: "edited", status: "inactive" });
    await store.touch(parent.id, 1_800_000_000_009);
    assert.deepEqual(await other.getById(parent.id), { ...parent, name: "edited", status: "inactive", lastUsedAt: 1_800_000_000_009 });

    faulty.hooks.beforeCommit = () => other.delete(parent.id);
    await store.touch(parent.id, 1_800_000_000_010);
    assert.deepEqual(await entriesUnder(kv, []), [], "no last-used time left for a deleted record");
  });

  test("two records put under one hash at the same moment: the later is refused, the index stays whole", async () => {
    const { kv } = await openKv();
    const faulty = faultyKv(kv);
    const store = new DenoKvStore(faulty.kv);
    const other = new DenoKvStore(kv);
    const { parent, child, freshHash } = await sampleRecords();
    await other.put(parent);
    await other.put(child);
    // `store` has read that nobody holds freshHash; `other` takes it before the commit.
    faulty.hooks.beforeCommit = () => other.put({ ...child, hash: freshHash });
    await assert.rejects(store.put({ ...parent, hash: freshHash }), /another record is stored under this hash/);
    assert.deepEqual(await store.getByHash(freshHash), { ...child, hash: freshHash });
    assert.deepEqual(await store.getByHash(parent.hash), parent);
    assert.equal(await store.getByHash(child.hash), null);
    // The same with an insertion: a new record may not take a hash taken meanwhile.
    const fresh = { ...parent, id: "e".repeat(32), hash: "ab".repeat(32) };
    faulty.hooks.beforeCommit = () => other.put({ ...child, hash: fresh.hash });
    await assert.rejects(store.put(fresh), /another record is stored under this hash/);
    assert.equal(await store.getById(fresh.id), null);
  });

  test("a write whose expected record another writer changed is refused with STORE_CONFLICT, unwrapped", async () => {
    const { kv } = await openKv();
    const a = new DenoKvStore(kv);
    const b = new DenoKvStore(kv); // another process, as far as `a` knows
    const { parent } = await sampleRecords();
    await a.put(parent);
    const read = await a.getById(parent.id);
    await b.put({ ...parent, status: "inactive" });
    const conflict = await a.put({ ...read, name: "renamed" }, read).catch((error) => error);
    assert.equal(conflict.code, "STORE_CONFLICT");
    assert.equal(conflict.name, "StoreConflict");
    assert.match(conflict.message, /^token [0-9a-f]{32} changed since it was read$/, "not wrapped as DenoKvStore.put: …");
    assert.equal((await b.getById(parent.id)).status, "inactive", "the deactivation stands");
    // Read again, and the edit goes through; a put without `expected` replaces as ever.
    const again = await a.getById(parent.id);
    await a.put({ ...again, name: "renamed" }, again);
    assert.deepEqual(await b.getById(parent.id), { ...parent, status: "inactive", name: "renamed" });
    await new DenoKvStore(kv).put(parent);
    assert.deepEqual(await a.getById(parent.id), parent);
    // A record deleted meanwhile is not brought back by a stale edit, nor deleted twice.
    const z = await a.getById(parent.id);
    await b.delete(parent.id);
    await assert.rejects(a.apply([{ put: { ...z, name: "late" }, expected: z }]), (error) => error.code === "STORE_CONFLICT");
    await assert.rejects(a.delete(parent.id, z), (error) => error.code === "STORE_CONFLICT");
    assert.equal(await b.getById(parent.id), null);
    assert.equal(await a.delete(parent.id, null), false, "expected absent, and absent");
    // An insertion expecting no record is refused once one was put meanwhile.
    await b.put(parent);
    await assert.rejects(a.put({ ...parent, name: "late" }, null), (error) => error.code === "STORE_CONFLICT");
    assert.deepEqual(await a.getById(parent.id), parent);
    await assert.rejects(a.put(parent, "parent"), TypeError);
    await assert.rejects(a.apply([{ delete: parent.id, expected: [] }]), TypeError);
  });

  test("a commit that fails its checks is read and compared again: a conflict only when the record really differs", async () => {
    const { kv } = await openKv();
    const faulty = faultyKv(kv);
    const store = new DenoKvStore(faulty.kv);
    const other = new DenoKvStore(kv);
    const { parent } = await sampleRecords();
    await other.put(parent);
    const read = await store.getById(parent.id);

    // Between read and commit, the same record is written again (a new
    // versionstamp, the same record), and the last-used time moves: the
    // commit fails its check, the record read again is still the one
    // expected, and the write goes through.
    let commits = 0;
    faulty.hooks.beforeCommit = async () => {
      commits++;
      await other.put(parent);
      await other.touch(parent.id, 1_800_000_000_100);
    };
    await store.put({ ...read, name: "renamed" }, read);
    assert.equal(commits, 1);
    assert.deepEqual(await other.getById(parent.id), { ...parent, name: "renamed" });

    // Between read and commit, the record is deactivated: after the failed
    // check, the record read again differs, and nothing is written.
    const current = await store.getById(parent.id);
    faulty.hooks.beforeCommit = () => other.put({ ...current, status: "inactive" });
    await assert.rejects(store.put({ ...current, name: "stale" }, current), (error) => error.code === "STORE_CONFLICT");
    assert.deepEqual(await other.getById(parent.id), { ...parent, name: "renamed", status: "inactive" });
    // Likewise for a deletion and a batch.
    const inactive = await store.getById(parent.id);
    faulty.hooks.beforeCommit = () => other.put({ ...inactive, name: "moved on" });
    await assert.rejects(store.delete(parent.id, inactive), (error) => error.code === "STORE_CONFLICT");
    faulty.hooks.beforeCommit = () => other.put({ ...inactive, name: "moved on again" });
    const latest = await store.getById(parent.id);
    await assert.rejects(store.apply([{ delete: parent.id, expected: latest }]), (error) => error.code === "STORE_CONFLICT");
    assert.equal((await other.getById(parent.id)).name, "moved on again");
  });

  test("deactivate and rename racing from two services on two handles of one file: both succeed, every round", async () => {
    const first = await openKv();
    const second = await openKv(first.path);
    const clock = manualClock();
    const admin = service(new DenoKvStore(first.kv), clock);
    const deactivatingStore = countingConflicts(new DenoKvStore(first.kv));
    const renamingStore = countingConflicts(new DenoKvStore(second.kv));
    const deactivating = service(deactivatingStore.store, clock);
    const renaming = service(renamingStore.store, clock);
    const verifying = service(new DenoKvStore(second.kv), clock);
    const { token, record } = await admin.issue("u1", { name: "raced", scope: { preset: "all" } });
    const rounds = 50;
    for (let i = 0; i < rounds; i++) {
      clock.now += 60_000; // so that each verify also writes the last-used time
      const racers = [
        deactivating.setStatus("u1", record.id, "inactive"),
        renaming.rename("u1", record.id, { name: `renamed ${i}` }),
        verifying.check(token, { action: "apps.read" }),
      ];
      if (i % 2 === 1) racers.reverse();
      const settled = await Promise.allSettled(racers);
      const [deactivated, renamed, checked] = i % 2 === 1 ? settled.reverse() : settled;
      assert.equal(deactivated.status, "fulfilled", `round ${i}: ${deactivated.reason}`);
      assert.equal(renamed.status, "fulfilled", `round ${i}: ${renamed.reason}`);
      const stored = await admin.get("u1", record.id);
      assert.equal(stored.status, "inactive", `round ${i}: the deactivation was undone`);
      assert.equal(stored.name, `renamed ${i}`, `round ${i}: the rename was lost`);
      assert.equal(checked.status, "fulfilled");
      assert.ok(checked.value.ok || checked.value.code === "TOKEN_INACTIVE", JSON.stringify(checked.value));
      // The deactivation is seen at once through the other handle.
      assert.deepEqual(await verifying.check(token, { action: "apps.read" }), { ok: false, code: "TOKEN_INACTIVE" });
      await admin.setStatus("u1", record.id, "active");
    }
    const conflicts = deactivatingStore.conflicts + renamingStore.conflicts;
    console.log(`${rounds} rounds, both applied every round; conflicts the service retried: ${conflicts}`);
    assert.ok(conflicts > 0, "the race was never run: no write ever conflicted");
  });

  test("the same race within one store (two services sharing it): both succeed, every round", async () => {
    const { kv } = await openKv();
    const clock = manualClock();
    const counted = countingConflicts(new DenoKvStore(kv));
    const a = service(counted.store, clock);
    const b = service(counted.store, clock);
    const { record } = await a.issue("u1", { name: "raced", scope: { preset: "all" } });
    for (let i = 0; i < 20; i++) {
      const [deactivated, renamed] = await Promise.allSettled([
        a.setStatus("u1", record.id, "inactive"),
        b.rename("u1", record.id, { name: `renamed ${i}` }),
      ]);
      assert.equal(deactivated.status, "fulfilled", `round ${i}: ${deactivated.reason}`);
      assert.equal(renamed.status, "fulfilled", `round ${i}: ${renamed.reason}`);
      const stored = await a.get("u1", record.id);
      assert.equal(stored.status, "inactive", `round ${i}: the deactivation was undone`);
      assert.equal(stored.name, `renamed ${i}`, `round ${i}: the rename was lost`);
      await a.setStatus("u1", record.id, "active");
    }
    assert.ok(counted.conflicts > 0, "the race was never run: no write ever conflicted");
  });

  test("hundreds of concurrent issues from two handles all land, counted and findable", async () => {
    const first = await openKv();
    const second = await openKv(first.path);
    const stores = [new DenoKvStore(first.kv), new DenoKvStore(second.kv)];
    const clock = manualClock();
    const services = stores.map((store) => service(store, clock));
    const issued = await Promise.all(
      Array.from({ length: 200 }, (_, i) => services[i % 2].issue(`user${i % 4}`, { name: `t${i}`, scope: { preset: "read" } })),
    );
    assert.equal(new Set(issued.map((x) => x.record.id)).size, 200);
    for (let u = 0; u < 4; u++) assert.equal(await stores[u % 2].countByUser(`user${u}`), 50);
    const checks = await Promise.all(issued.map((x, i) => services[(i + 1) % 2].check(x.token, { action: "apps.read" })));
    assert.ok(checks.every((c) => c.ok));
    for (let i = 0; i < issued.length; i += 20) {
      await Promise.all(issued.slice(i, i + 20).map((x, j) => services[j % 2].delete(x.record.userId, x.record.id)));
    }
    assert.deepEqual(await entriesUnder(first.kv, []), []);
  });
});

describe("DenoKvStore: packaging", () => {
  const dist = new URL("../../dist/", import.meta.url);

  test("the subpath resolves through the package's exports to the bundle", async () => {
    const viaExports = await import("tessera-tokens/deno-kv");
    const bundle = await import(new URL("deno-kv.mjs", dist).href);
    assert.equal(viaExports.DenoKvStore, bundle.DenoKvStore);
    assert.equal(DenoKvStore, bundle.DenoKvStore);
    assert.ok(!("MemoryStore" in viaExports));
    assert.equal(typeof MemoryStore, "function");
  });
});
