/**
 * `tessera-tokens/d1`: a `TokenStore` over Cloudflare D1, through the
 * Workers binding (`env.DB`) or a D1 session of it. For Cloudflare Workers
 * (and anything else that hands out a D1 binding, such as Miniflare); the
 * package's main entries never import this file.
 *
 * @packageDocumentation
 */
import { StoreConflict, stillExpected } from "./conflict.js";
import { BackendTimeout, timeoutOption, withDeadline } from "./deadline.js";
import { checkIndexed, checkTouchTime } from "./store-checks.js";
import type { TokenStore } from "./store.js";
import type { StoreWrite, StoredRecord } from "./types.js";

/**
 * What `D1Store` calls on a prepared statement: a subset of the Workers
 * `D1PreparedStatement` (written out so that these declarations need
 * neither `@cloudflare/workers-types` nor the Workers globals).
 */
export interface D1Statement {
  bind(...values: unknown[]): D1Statement;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  all<T = Record<string, unknown>>(): Promise<{ results: T[] }>;
  run(): Promise<{ meta: { changes?: number } }>;
}

/**
 * What `D1Store` calls on its database: a subset of the Workers
 * `D1Database`, which a D1 session (`env.DB.withSession(...)`) also offers.
 */
export interface D1Binding {
  prepare(query: string): D1Statement;
  batch(statements: D1Statement[]): Promise<{ meta: { changes?: number } }[]>;
}

/** Options of a `D1Store`. */
export interface D1StoreOptions {
  /**
   * How long each call to D1 may take, in milliseconds, before the
   * operation fails (and `verify` fails closed with `STORE_FAILED`);
   * 5,000 by default.
   */
  timeoutMs?: number;
}

/** One schema change of the store's tables, applied once by `migrate`. */
export interface D1Migration {
  /** Its place in the sequence, from 1; `tessera_migrations` records it once applied. */
  readonly id: number;
  /** A short name, for logs and for a migration file of your own. */
  readonly name: string;
  /** Its SQL: one or more statements, one a line, each ending with a semicolon. */
  readonly sql: string;
}

/**
 * The store's schema, as the statements of each migration. `sql` in
 * `D1_MIGRATIONS` joins them, one a line (so that the text also runs
 * through `db.exec`); `migrate` runs them one by one in a batch.
 */
const SCHEMA: readonly { id: number; name: string; statements: readonly string[] }[] = [
  {
    id: 1,
    name: "tessera_tokens",
    statements: [
      "CREATE TABLE IF NOT EXISTS tessera_tokens (id TEXT PRIMARY KEY NOT NULL, hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, json TEXT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS tessera_tokens_user_id ON tessera_tokens (user_id)",
      // A write's expectation, checked inside its batch: inserting a false
      // `ok` aborts the statement, and so the whole batch, with
      // STORE_CONFLICT. A view, so nothing is ever stored.
      "CREATE VIEW IF NOT EXISTS tessera_expect (ok) AS SELECT NULL",
      "CREATE TRIGGER IF NOT EXISTS tessera_expect_check INSTEAD OF INSERT ON tessera_expect BEGIN SELECT RAISE(ABORT, 'STORE_CONFLICT') WHERE NOT NEW.ok; END",
    ],
  },
];

/**
 * The store's migrations, in order. `D1Store#migrate` applies the pending
 * ones; to run them with `wrangler d1 migrations` instead, save each `sql`
 * as a migration file of your own (and then never call `migrate`, which
 * keeps its own record in `tessera_migrations`).
 */
export const D1_MIGRATIONS: readonly D1Migration[] = Object.freeze(
  SCHEMA.map(({ id, name, statements }) =>
    Object.freeze({ id, name, sql: statements.map((statement) => `${statement};`).join("\n") }),
  ),
);

/** The table where `migrate` records the migrations it applied. */
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS tessera_migrations (
  id INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)`;

const SQL = {
  byHash: "SELECT id, hash, user_id, json FROM tessera_tokens WHERE hash = ?1",
  byId: "SELECT id, hash, user_id, json FROM tessera_tokens WHERE id = ?1",
  byUser: "SELECT id, hash, user_id, json FROM tessera_tokens WHERE user_id = ?1 ORDER BY id",
  count: "SELECT COUNT(*) AS n FROM tessera_tokens WHERE user_id = ?1",
  // An upsert on the id: a hash another id holds violates the UNIQUE
  // constraint, so the statement (and its batch) fails and nothing changes.
  put: `INSERT INTO tessera_tokens (id, hash, user_id, json) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, user_id = excluded.user_id, json = excluded.json`,
  delete: "DELETE FROM tessera_tokens WHERE id = ?1",
  // In SQL, so that it changes the one member and never undoes an edit
  // that landed between a read and a write. D1 binds JavaScript numbers as
  // REAL: the cast keeps the stored time an integer.
  touch: "UPDATE tessera_tokens SET json = json_set(json, '$.lastUsedAt', CAST(?2 AS INTEGER)) WHERE id = ?1",
  // A record is still the one a write expects when its JSON, `lastUsedAt`
  // aside (touch moves it without making any decision stale), is the same.
  expect:
    "INSERT INTO tessera_expect (ok) SELECT EXISTS (SELECT 1 FROM tessera_tokens WHERE id = ?1 AND json_remove(json, '$.lastUsedAt') = json_remove(?2, '$.lastUsedAt'))",
  expectNone: "INSERT INTO tessera_expect (ok) SELECT NOT EXISTS (SELECT 1 FROM tessera_tokens WHERE id = ?1)",
  applied: "SELECT id FROM tessera_migrations ORDER BY id",
  record: "INSERT INTO tessera_migrations (id, name) VALUES (?1, ?2)",
} as const;

/** A row of `tessera_tokens`. */
interface Row {
  id: unknown;
  hash: unknown;
  user_id: unknown;
  json: unknown;
}


/** What a write expects to find under an id (`null`: no record). */
interface Expectation {
  id: string;
  expected: StoredRecord | null;
}

/** The expectation of a write, if it has one (`undefined`: write whatever is there). */
function expectation(id: string, expected: StoredRecord | null | undefined): Expectation[] {
  if (expected === undefined) {
    return [];
  }
  if (expected !== null && (typeof expected !== "object" || Array.isArray(expected))) {
    throw new TypeError("expected must be a record, null or undefined");
  }
  return [{ id, expected }];
}

/** A record's indexed members, checked: a record without them cannot be stored. */
function indexed(record: StoredRecord): { id: string; hash: string; userId: string; json: string } {
  checkIndexed(record);
  return { id: record.id, hash: record.hash, userId: record.userId, json: JSON.stringify(record) };
}

/**
 * The record a row holds, parsed afresh (so every caller gets a copy of its
 * own). A row whose JSON does not parse, is not an object, or disagrees
 * with the row's indexed columns throws: a record is never half read.
 */
function recordOf(row: Row): StoredRecord {
  const id = typeof row.id === "string" ? row.id : "?";
  if (typeof row.json !== "string") {
    throw new Error(`D1Store: the record ${id} has no JSON text`);
  }
  let record: unknown;
  try {
    record = JSON.parse(row.json);
  } catch {
    throw new Error(`D1Store: the record ${id} is not valid JSON`);
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new Error(`D1Store: the record ${id} is not a JSON object`);
  }
  const r = record as { [key: string]: unknown };
  if (r.id !== row.id || r.hash !== row.hash || r.userId !== row.user_id) {
    throw new Error(`D1Store: the record ${id} disagrees with its row's id, hash or user`);
  }
  return record as StoredRecord;
}

/**
 * A `TokenStore` over Cloudflare D1 (SQLite), through a Workers D1 binding.
 *
 * One table, `tessera_tokens(id, hash, user_id, json)`: `id` is the
 * primary key, `hash` is UNIQUE (and so indexed), `user_id` has an index,
 * and `json` is the record exactly as it was put. Beside it,
 * `tessera_expect`, a view with a trigger, stores nothing and checks
 * writes' expectations. Create them with `migrate()` (idempotent, tracked
 * in `tessera_migrations`), or apply `D1_MIGRATIONS` with your own
 * migration tool.
 *
 * `put` is one upsert: a record under a hash another id holds is refused
 * and nothing changes. `apply` sends an operation's writes (a rotation's
 * two records, a cascade's deletions) as one `batch`, which D1 runs as one
 * transaction: they land all or none. Writes that carry the record they
 * expect to replace (as `TokenService`'s do) are preceded in that batch by
 * a check of each, in SQL: when a record changed since it was read
 * (`lastUsedAt` aside), the batch fails with a `StoreConflict` (code
 * `STORE_CONFLICT`), and the service reads again and retries, so a
 * decision made on a stale read never undoes a concurrent one. `touch`
 * sets `lastUsedAt` inside the stored JSON, in SQL, so it never undoes a
 * concurrent rename or deactivation. Records come back as they were put
 * (with the last-used time of a later `touch`), a fresh copy each time; a
 * stored record that does not parse makes the read throw.
 *
 * Every call to D1 is bounded by `timeoutMs`; a D1 error or a timeout
 * rejects (as a plain `Error` with D1's message, which names no bound
 * values, or a `BackendTimeout`), and `TokenService` turns it into
 * `STORE_FAILED`: `verify` and `check` fail closed.
 *
 * Consistency: without the Sessions API every query goes to the database's
 * primary, so a revocation (`delete`, or a deactivation) is seen by every
 * `verify` that starts after the write resolved. With read replication and
 * a session (`env.DB.withSession(...)`), which the store also accepts,
 * reads may be served by a replica that lags the primary: a revoked token
 * can keep verifying there until the replica catches up (writes always go
 * to the primary). Where a revocation must take effect at once, pass the
 * plain binding, or a fresh session per request that starts from
 * `"first-primary"` (so that `verify`'s one lookup reads the primary).
 *
 * ```ts
 * import { TokenService } from "tessera-tokens";
 * import { D1Store } from "tessera-tokens/d1";
 *
 * export default {
 *   async fetch(request: Request, env: { DB: D1Database }) {
 *     const store = new D1Store(env.DB, { timeoutMs: 1000 });
 *     await store.migrate(); // or once, at deployment
 *     const tokens = new TokenService({ prefix: "tsr", catalog, store });
 *     // ...
 *   },
 * };
 * ```
 */
export class D1Store implements TokenStore {
  readonly #db: D1Binding;
  readonly #timeoutMs: number;

  /**
   * A store over `db`, a D1 binding or session. Throws `TypeError` for a
   * binding without `prepare` and `batch`, or a `timeoutMs` that is not a
   * whole number of milliseconds from 1 to 2^31 - 1.
   */
  constructor(db: D1Binding, options: D1StoreOptions = {}) {
    if (typeof db !== "object" || db === null) {
      throw new TypeError("db must be a D1 database binding");
    }
    for (const method of ["prepare", "batch"] as const) {
      if (typeof db[method] !== "function") {
        throw new TypeError(`db.${method} must be a function (a D1 database binding)`);
      }
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError("options must be an object");
    }
    this.#db = db;
    this.#timeoutMs = timeoutOption(options.timeoutMs);
  }

  /** How long each call to D1 may take, in milliseconds. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Runs one call to D1 within the timeout. A D1 failure becomes a plain
   * `Error` naming the operation, with D1's message only.
   */
  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(run(), this.#timeoutMs, `D1Store.${operation}`);
    } catch (error) {
      if (error instanceof BackendTimeout) {
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`D1Store.${operation}: ${message}`);
    }
  }

  #statement(query: string, ...values: unknown[]): D1Statement {
    return this.#db.prepare(query).bind(...values);
  }

  #putStatement(record: StoredRecord): D1Statement {
    const { id, hash, userId, json } = indexed(record);
    return this.#statement(SQL.put, id, hash, userId, json);
  }

  /**
   * Creates or updates the store's tables: applies each migration of
   * `D1_MIGRATIONS` not yet recorded in `tessera_migrations`, each in one
   * batch with its record, in order. Returns the ids it applied (none when
   * the schema is current, so calling it again changes nothing). Safe to
   * race: a migration another caller applied first is skipped.
   */
  async migrate(): Promise<number[]> {
    await this.#call("migrate", () => this.#db.prepare(MIGRATIONS_TABLE).run());
    const applied = async () => {
      const { results } = await this.#call("migrate", () => this.#db.prepare(SQL.applied).all<{ id: unknown }>());
      return new Set(results.map((row) => Number(row.id)));
    };
    let done = await applied();
    const now: number[] = [];
    for (const migration of SCHEMA) {
      if (done.has(migration.id)) {
        continue;
      }
      const statements = migration.statements.map((sql) => this.#db.prepare(sql));
      statements.push(this.#statement(SQL.record, migration.id, migration.name));
      try {
        await this.#call("migrate", () => this.#db.batch(statements));
        now.push(migration.id);
      } catch (error) {
        // Recording the migration failed the batch (and undid its statements)
        // when another caller applied it meanwhile; anything else is an error.
        done = await applied();
        if (!done.has(migration.id)) {
          throw error;
        }
      }
    }
    return now;
  }

  async getByHash(hash: string): Promise<StoredRecord | null> {
    const row = await this.#call("getByHash", () => this.#statement(SQL.byHash, hash).first<Row>());
    return row === null ? null : recordOf(row);
  }

  async getById(id: string): Promise<StoredRecord | null> {
    const row = await this.#call("getById", () => this.#statement(SQL.byId, id).first<Row>());
    return row === null ? null : recordOf(row);
  }

  /**
   * Runs writes, after the statements that check their expectations, as one
   * batch (or one statement alone): all of them, or none and a
   * `StoreConflict` when a record is no longer the one expected. Returns
   * the writes' results.
   */
  async #write(operation: string, writes: D1Statement[], expectations: Expectation[]) {
    const statements = expectations.map(({ id, expected }) =>
      expected === null ? this.#statement(SQL.expectNone, id) : this.#statement(SQL.expect, id, JSON.stringify(expected)),
    );
    statements.push(...writes);
    const only = statements.length === 1 ? statements[0] : undefined;
    try {
      const results = only
        ? [await this.#call(operation, () => only.run())]
        : await this.#call(operation, () => this.#db.batch(statements));
      return results.slice(expectations.length);
    } catch (error) {
      if (error instanceof Error && !(error instanceof BackendTimeout) && /\bSTORE_CONFLICT\b/.test(error.message)) {
        throw await this.#conflict(expectations);
      }
      throw error;
    }
  }

  /** The conflict to report, naming the first record found changed. */
  async #conflict(expectations: Expectation[]): Promise<StoreConflict> {
    for (const { id, expected } of expectations) {
      const changed = await this.getById(id).then(
        (stored) => !stillExpected(stored, expected),
        () => true,
      );
      if (changed) {
        return new StoreConflict(id);
      }
    }
    // Changed back meanwhile: still a conflict, which the service retries.
    return new StoreConflict(expectations[0]?.id ?? "?");
  }

  /**
   * Inserts or replaces the record with the same id. Rejects, changing
   * nothing, when another record is stored under the same hash, or (with a
   * `StoreConflict`) when `expected` is given and the record under the id
   * is no longer that one, `lastUsedAt` aside (`null`: none).
   */
  async put(record: StoredRecord, expected?: StoredRecord | null): Promise<void> {
    const statement = this.#putStatement(record);
    await this.#write("put", [statement], expectation(record.id, expected));
  }

  /**
   * Deletes the record with this id; whether there was one. With
   * `expected`, as for `put`: a `StoreConflict`, and nothing deleted, when
   * the record is no longer that one.
   */
  async delete(id: string, expected?: StoredRecord | null): Promise<boolean> {
    const [result] = await this.#write("delete", [this.#statement(SQL.delete, id)], expectation(id, expected));
    return (result?.meta.changes ?? 0) > 0;
  }

  async listByUser(userId: string): Promise<StoredRecord[]> {
    const { results } = await this.#call("listByUser", () => this.#statement(SQL.byUser, userId).all<Row>());
    return results.map(recordOf);
  }

  async countByUser(userId: string): Promise<number> {
    const row = await this.#call("countByUser", () => this.#statement(SQL.count, userId).first<{ n: unknown }>());
    return Number(row?.n ?? 0);
  }

  async touch(id: string, lastUsedAt: number): Promise<void> {
    checkTouchTime(lastUsedAt);
    await this.#call("touch", () => this.#statement(SQL.touch, id, lastUsedAt).run());
  }

  /**
   * Applies the writes in order as one D1 batch, which D1 runs as a single
   * transaction: all land, or none. The batch first checks every write's
   * `expected` record (against the records as they were before any of the
   * writes) and fails with a `StoreConflict` when one changed; a put under
   * a hash another record holds fails it too.
   */
  async apply(writes: readonly StoreWrite[]): Promise<void> {
    if (!Array.isArray(writes)) {
      throw new TypeError("writes must be an array");
    }
    const statements: D1Statement[] = [];
    const expectations: Expectation[] = [];
    for (const write of writes as unknown[]) {
      const w = (typeof write === "object" && write !== null ? write : {}) as {
        put?: StoredRecord;
        delete?: unknown;
        expected?: StoredRecord | null;
      };
      if (w.put !== undefined) {
        statements.push(this.#putStatement(w.put));
        expectations.push(...expectation(w.put.id, w.expected));
      } else if (typeof w.delete === "string") {
        statements.push(this.#statement(SQL.delete, w.delete));
        expectations.push(...expectation(w.delete, w.expected));
      } else {
        throw new TypeError("each write must be { put: record } or { delete: id }, with an optional expected");
      }
    }
    if (statements.length === 0) {
      return;
    }
    await this.#write("apply", statements, expectations);
  }

  /** Shows the timeout only: records hold hashes, which logs never show. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `D1Store { timeoutMs: ${this.#timeoutMs} }`;
  }
}
