// D1Store over real D1, in workerd through Miniflare 3: the store
// conformance suite (failure section included, over a binding wrapper that
// fails or hangs on demand), the schema and its migrations, the rows as
// stored, D1's batch as the transaction behind `apply`, damaged rows, and
// the package's d1 bundles. The store runs in Node here, over Miniflare's
// proxy of the binding; d1-worker.test.mjs runs it inside the Worker.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { inspect } from "node:util";
import { Miniflare } from "miniflare";
import { D1Store, D1_MIGRATIONS } from "tessera-tokens/d1";
import { sampleRecords, storeConformance } from "../store-conformance.mjs";

/**
 * One workerd for the file, with a pool of D1 databases: each test takes a
 * database nobody used, so every store starts empty without cleanup.
 */
const POOL = 48;
const mf = new Miniflare({
  modules: true,
  script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
  compatibilityDate: "2025-07-01",
  d1Databases: Array.from({ length: POOL }, (_, i) => `DB${i}`),
});
after(() => mf.dispose());

let used = 0;
/** A D1 binding (Miniflare's proxy of it) over an empty database. */
async function emptyDatabase() {
  if (used === POOL) throw new Error(`all ${POOL} databases of the pool are used: raise POOL`);
  return mf.getD1Database(`DB${used++}`);
}

/** A migrated store over an empty database, and the binding under it. */
async function freshStore(options) {
  const db = await emptyDatabase();
  const store = new D1Store(db, options);
  assert.deepEqual(await store.migrate(), [1]);
  return { db, store };
}

/**
 * A binding that passes calls through to `real` or, by mode, fails every
 * call ("error"), fails writes only ("error-writes": `run` and `batch`;
 * the store reads with `first` and `all`) or never answers ("hang").
 */
function faultyBinding(real) {
  let mode = "ok";
  const inner = Symbol("inner");
  const gate = (kind, call) => {
    if (mode === "error" || (mode === "error-writes" && kind === "write")) {
      return Promise.reject(new Error(`D1_ERROR: injected failure (${mode})`));
    }
    if (mode === "hang") return new Promise(() => {});
    return call();
  };
  const statement = (real) => ({
    [inner]: real,
    bind: (...values) => statement(real.bind(...values)),
    first: (...args) => gate("read", () => real.first(...args)),
    all: (...args) => gate("read", () => real.all(...args)),
    raw: (...args) => gate("read", () => real.raw(...args)),
    run: (...args) => gate("write", () => real.run(...args)),
  });
  const db = {
    prepare: (sql) => statement(real.prepare(sql)),
    batch: (statements) => gate("write", () => real.batch(statements.map((s) => s[inner]))),
  };
  return {
    db,
    set(next) {
      assert.ok(["ok", "error", "error-writes", "hang"].includes(next), next);
      mode = next;
    },
  };
}

/** The row of `id` as stored, or null. */
const rowOf = (db, id) => db.prepare("SELECT id, hash, user_id, json FROM tessera_tokens WHERE id = ?1").bind(id).first();

storeConformance(
  "D1Store (workerd through Miniflare 3)",
  async () => (await freshStore()).store,
  {
    faulty: async () => {
      const db = await emptyDatabase();
      await new D1Store(db).migrate();
      const { db: wrapped, set } = faultyBinding(db);
      return {
        store: new D1Store(wrapped, { timeoutMs: 300 }),
        set,
        async corrupt(record) {
          const truncated = JSON.stringify(record).slice(0, 40);
          const { meta } = await db.prepare("UPDATE tessera_tokens SET json = ?2 WHERE id = ?1").bind(record.id, truncated).run();
          assert.equal(meta.changes, 1);
        },
      };
    },
  },
);

describe("D1Store: schema and migrations", () => {
  test("migrate creates the table, its indexes, the expectation check and its record once; again it is a no-op", async () => {
    const db = await emptyDatabase();
    const store = new D1Store(db);
    assert.deepEqual(await store.migrate(), [1]);
    const schema = async () =>
      (await db.prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name").all())
        .results;
    assert.deepEqual(await schema(), [
      { type: "view", name: "tessera_expect", tbl_name: "tessera_expect" },
      { type: "trigger", name: "tessera_expect_check", tbl_name: "tessera_expect" },
      { type: "table", name: "tessera_migrations", tbl_name: "tessera_migrations" },
      { type: "table", name: "tessera_tokens", tbl_name: "tessera_tokens" },
      { type: "index", name: "tessera_tokens_user_id", tbl_name: "tessera_tokens" },
    ]);
    const indexes = (await db.prepare("PRAGMA index_list('tessera_tokens')").all()).results;
    const unique = indexes.filter((index) => index.unique === 1).map((index) => index.name);
    assert.equal(unique.length, 2, "the primary key and the unique hash");
    const columns = (await db.prepare("PRAGMA table_info('tessera_tokens')").all()).results;
    assert.deepEqual(
      columns.map((c) => [c.name, c.type, c.notnull, c.pk]),
      [
        ["id", "TEXT", 1, 1],
        ["hash", "TEXT", 1, 0],
        ["user_id", "TEXT", 1, 0],
        ["json", "TEXT", 1, 0],
      ],
    );
    const plan = (await db.prepare("EXPLAIN QUERY PLAN SELECT json FROM tessera_tokens WHERE user_id = ?1").bind("u1").all()).results;
    assert.match(plan.map((step) => step.detail).join("\n"), /USING INDEX tessera_tokens_user_id/);

    const { parent } = await sampleRecords();
    await store.put(parent);
    const before = await schema();
    const counted = { batch: 0 };
    const counting = { prepare: (sql) => db.prepare(sql), batch: (list) => (counted.batch++, db.batch(list)) };
    assert.deepEqual(await new D1Store(counting).migrate(), [], "nothing pending");
    assert.equal(counted.batch, 0, "no migration ran again");
    assert.deepEqual(await new D1Store(db).migrate(), [], "nor for another store over the same database");
    assert.deepEqual(await schema(), before);
    assert.deepEqual(await store.getById(parent.id), parent, "the data survives");
    const recorded = (await db.prepare("SELECT id, name FROM tessera_migrations").all()).results;
    assert.deepEqual(recorded, [{ id: 1, name: "tessera_tokens" }]);
  });

  test("concurrent migrations apply each migration once and both succeed", async () => {
    const db = await emptyDatabase();
    const outcomes = await Promise.all([new D1Store(db).migrate(), new D1Store(db).migrate(), new D1Store(db).migrate()]);
    assert.deepEqual(outcomes.flat(), [1]);
    assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM tessera_migrations").first()).n, 1);
  });

  test("D1_MIGRATIONS: frozen, numbered from 1, and the same schema through db.exec", async () => {
    assert.ok(Object.isFrozen(D1_MIGRATIONS) && D1_MIGRATIONS.every(Object.isFrozen));
    assert.deepEqual(D1_MIGRATIONS.map((m) => m.id), D1_MIGRATIONS.map((_, i) => i + 1));
    assert.match(D1_MIGRATIONS[0].sql, /CREATE TABLE IF NOT EXISTS tessera_tokens/);
    const viaExec = await emptyDatabase();
    for (const migration of D1_MIGRATIONS) await viaExec.exec(migration.sql);
    const { db: viaMigrate } = await freshStore();
    const tables = (db) =>
      db.prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('tessera_tokens', 'tessera_expect') ORDER BY name").all();
    assert.deepEqual((await tables(viaExec)).results, (await tables(viaMigrate)).results);
  });

  test("a store before migrate fails loudly, naming the operation", async () => {
    const store = new D1Store(await emptyDatabase());
    await assert.rejects(store.getById("x"), /^Error: D1Store\.getById: .*no such table: tessera_tokens/);
  });
});

describe("D1Store: rows, batches and damage", () => {
  test("the row holds the record's JSON byte for byte; touch changes lastUsedAt only, as an integer", async () => {
    const { db, store } = await freshStore();
    const { parent } = await sampleRecords();
    await store.put(parent);
    assert.deepEqual(await rowOf(db, parent.id), {
      id: parent.id,
      hash: parent.hash,
      user_id: parent.userId,
      json: JSON.stringify(parent),
    });
    assert.equal(JSON.stringify(await store.getById(parent.id)), JSON.stringify(parent), "same member order");
    await store.touch(parent.id, 1_800_000_123_456);
    const touched = await rowOf(db, parent.id);
    assert.equal(touched.json, JSON.stringify({ ...parent, lastUsedAt: 1_800_000_123_456 }), "nothing else moved");
    assert.equal(await store.delete(parent.id), true);
    assert.equal(await rowOf(db, parent.id), null);
  });

  test("apply is one D1 transaction: a failing write undoes the ones before it", async () => {
    const { db, store } = await freshStore();
    const { parent, child, plain, freshHash } = await sampleRecords();
    for (const record of [parent, child, plain]) await store.put(record);
    const rows = async () => (await db.prepare("SELECT id, hash, user_id, json FROM tessera_tokens ORDER BY id").all()).results;
    const before = await rows();
    const failing = [
      { put: { ...parent, name: "renamed", replacedBy: plain.id } },
      { delete: child.id },
      { put: { ...plain, hash: parent.hash } }, // parent's hash: the UNIQUE constraint fails the batch
    ];
    await assert.rejects(store.apply(failing), /^Error: D1Store\.apply: .*UNIQUE constraint failed: tessera_tokens\.hash/);
    assert.deepEqual(await rows(), before, "nothing landed");

    await store.apply([{ put: { ...parent, name: "renamed" } }, { delete: child.id }, { put: { ...plain, hash: freshHash } }]);
    assert.equal((await store.getById(parent.id)).name, "renamed");
    assert.equal(await store.getById(child.id), null);
    assert.deepEqual(await store.getByHash(freshHash), { ...plain, hash: freshHash });
    await store.apply([]);
    await assert.rejects(store.apply([{ nothing: true }]), TypeError);
    await assert.rejects(store.apply([{ put: { ...parent, hash: "nope" } }]), TypeError);
  });

  test("a refused put names the constraint, never the hash", async () => {
    const { store } = await freshStore();
    const { parent, child } = await sampleRecords();
    await store.put(parent);
    await store.put(child);
    const error = await store.put({ ...child, hash: parent.hash }).catch((e) => e);
    assert.match(error.message, /^D1Store\.put: .*UNIQUE constraint failed: tessera_tokens\.hash/);
    assert.ok(!inspect(error).includes(parent.hash) && !String(error.stack).includes(parent.hash));
    assert.equal(error.cause, undefined);
  });

  test("expectations are checked in SQL, inside the batch, against the rows before any write", async () => {
    const { db, store } = await freshStore();
    const { parent, child, plain } = await sampleRecords();
    for (const record of [parent, child]) await store.put(record);
    const rows = async () => (await db.prepare("SELECT id, json FROM tessera_tokens ORDER BY id").all()).results;
    const conflict = (id) => (error) => error.name === "StoreConflict" && error.code === "STORE_CONFLICT" && error.message.includes(id);

    // A batch whose first write changes a record the second one expects
    // still passes: each write expects the record as it was before the batch.
    await store.apply([
      { put: { ...parent, name: "one" }, expected: parent },
      { delete: parent.id, expected: parent },
      { put: plain, expected: null },
    ]);
    assert.deepEqual((await rows()).map((r) => r.id), [child.id, plain.id].sort());

    // The last write's expectation fails: nothing of the batch lands, and the conflict names it.
    const before = await rows();
    await assert.rejects(
      store.apply([
        { put: { ...child, name: "two" }, expected: child },
        { delete: plain.id, expected: { ...plain, name: "not what is stored" } },
      ]),
      conflict(plain.id),
    );
    assert.deepEqual(await rows(), before);
    await assert.rejects(store.put(parent, child), conflict(parent.id), "expecting a record under an id that has none");
    await assert.rejects(store.put(child, null), conflict(child.id), "expecting none under an id that has one");
    assert.deepEqual(await rows(), before);

    // lastUsedAt is no change; anything else is, byte for byte of the JSON.
    await store.touch(child.id, 1_800_000_000_000);
    await store.put({ ...child, name: "three" }, { ...child, lastUsedAt: 42 });
    assert.equal((await store.getById(child.id)).name, "three");
    assert.equal(await store.delete(child.id, { ...child, name: "three" }), true);
    assert.equal(await store.delete(child.id, null), false, "nothing under the id, as expected");
    await assert.rejects(store.put(plain, "nope"), TypeError);

    // The check stores nothing, and a direct insert of a false expectation aborts.
    assert.deepEqual((await db.prepare("SELECT ok FROM tessera_expect").all()).results, [{ ok: null }]);
    await assert.rejects(db.prepare("INSERT INTO tessera_expect (ok) VALUES (0)").run(), /STORE_CONFLICT/);
    await db.prepare("INSERT INTO tessera_expect (ok) VALUES (1)").run();
  });

  test("a damaged row throws on every read path, never returns half a record", async () => {
    const { db, store } = await freshStore();
    const { parent } = await sampleRecords();
    const damages = {
      truncated: JSON.stringify(parent).slice(0, 50),
      "an array": "[1,2]",
      null: "null",
      "a string": '"text"',
      "a number": "42",
      "another id": JSON.stringify({ ...parent, id: "f".repeat(32) }),
      "another hash": JSON.stringify({ ...parent, hash: "0".repeat(64) }),
      "another user": JSON.stringify({ ...parent, userId: "u9" }),
    };
    for (const [what, json] of Object.entries(damages)) {
      await store.put(parent);
      await db.prepare("UPDATE tessera_tokens SET json = ?2 WHERE id = ?1").bind(parent.id, json).run();
      for (const [path, read] of [
        ["getById", () => store.getById(parent.id)],
        ["getByHash", () => store.getByHash(parent.hash)],
        ["listByUser", () => store.listByUser(parent.userId)],
      ]) {
        const error = await read().then(
          (value) => assert.fail(`${path} over ${what} JSON returned ${JSON.stringify(value)}`),
          (e) => e,
        );
        assert.match(error.message, /^D1Store: the record /, `${path} over ${what}`);
        assert.ok(!error.message.includes(parent.hash));
      }
    }
    await db.prepare("UPDATE tessera_tokens SET json = ?2 WHERE id = ?1").bind(parent.id, "{").run();
    await assert.rejects(store.touch(parent.id, 1_800_000_000_000), /^Error: D1Store\.touch: /);
  });

  test("a hung D1 fails each call after timeoutMs with BackendTimeout", { timeout: 10_000 }, async () => {
    const { db } = await freshStore();
    const { db: wrapped, set } = faultyBinding(db);
    const store = new D1Store(wrapped, { timeoutMs: 100 });
    set("hang");
    const started = performance.now();
    const error = await store.getByHash("0".repeat(64)).catch((e) => e);
    const took = performance.now() - started;
    assert.equal(error.name, "BackendTimeout");
    assert.equal(error.message, "D1Store.getByHash did not answer within 100 ms");
    assert.ok(took >= 95 && took < 2000, `${took} ms`);
    await assert.rejects(store.apply([{ delete: "x" }]), { name: "BackendTimeout" });
    await assert.rejects(store.migrate(), { name: "BackendTimeout" });
  });

  test("the options and arguments are checked", async () => {
    const db = await emptyDatabase();
    for (const bad of [null, undefined, 1, {}, { prepare() {} }, { batch() {} }]) {
      assert.throws(() => new D1Store(bad), TypeError);
    }
    for (const timeoutMs of [0, -1, 1.5, "100", 2 ** 31, Number.NaN]) {
      assert.throws(() => new D1Store(db, { timeoutMs }), TypeError, String(timeoutMs));
    }
    assert.throws(() => new D1Store(db, null), TypeError);
    assert.equal(new D1Store(db).timeoutMs, 5000);
    assert.equal(new D1Store(db, { timeoutMs: 250 }).timeoutMs, 250);
    assert.equal(inspect(new D1Store(db, { timeoutMs: 250 })), "D1Store { timeoutMs: 250 }");
    const store = new D1Store(db);
    const { parent } = await sampleRecords();
    await assert.rejects(store.put({ ...parent, hash: parent.hash.toUpperCase() }), TypeError);
    await assert.rejects(store.put({ ...parent, id: "" }), TypeError);
    await assert.rejects(store.put({ ...parent, userId: 7 }), TypeError);
    await assert.rejects(store.touch(parent.id, 1.5), RangeError);
  });
});

describe("D1Store: the package's bundles", () => {
  test("the CommonJS bundle exports the same API", async () => {
    const { createRequire } = await import("node:module");
    const required = createRequire(import.meta.url)("tessera-tokens/d1");
    assert.equal(typeof required.D1Store, "function");
    assert.deepEqual(required.D1_MIGRATIONS, D1_MIGRATIONS);
  });
});
