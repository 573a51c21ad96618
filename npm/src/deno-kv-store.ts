/**
 * `tessera-tokens/deno-kv`: a `TokenStore` over Deno KV, through a
 * `Deno.Kv` the application opens and owns (a local file, or Deno Deploy's
 * database). The package's workerd and edge entries never import this file.
 *
 * @packageDocumentation
 */
import { StoreConflict, stillExpected } from "./conflict.js";
import { timeoutOption, withDeadline } from "./deadline.js";
import { HASH, checkIndexed, checkTouchTime } from "./store-checks.js";
import type { TokenStore } from "./store.js";
import type { StoreWrite, StoredRecord } from "./types.js";

/** One part of a Deno KV key (`Deno.KvKeyPart` without symbols). */
export type DenoKvKeyPart = Uint8Array | string | number | bigint | boolean;

/** A Deno KV key: a list of parts (`Deno.KvKey`). */
export type DenoKvKey = readonly DenoKvKeyPart[];

/** An entry as Deno KV reads it; `versionstamp` is `null` when the key is absent. */
export interface DenoKvEntryMaybe {
  key: readonly unknown[];
  value: unknown;
  versionstamp: string | null;
}

/** A check of an atomic operation: the key must still have this versionstamp (`null`: be absent). */
export interface DenoKvCheck {
  key: DenoKvKey;
  versionstamp: string | null;
}

/** What `DenoKvStore` calls on an atomic operation: a subset of `Deno.AtomicOperation`. */
export interface DenoKvAtomicOperation {
  check(...checks: DenoKvCheck[]): DenoKvAtomicOperation;
  set(key: DenoKvKey, value: unknown): DenoKvAtomicOperation;
  delete(key: DenoKvKey): DenoKvAtomicOperation;
  commit(): Promise<{ ok: boolean }>;
}

/**
 * What `DenoKvStore` calls on its database: a subset of `Deno.Kv` (written
 * out so that these declarations need neither the Deno types nor
 * `--unstable-kv` to type-check). A `Deno.Kv` from `Deno.openKv()` fits.
 */
export interface DenoKv {
  get(key: DenoKvKey): Promise<DenoKvEntryMaybe>;
  getMany(keys: DenoKvKey[]): Promise<DenoKvEntryMaybe[]>;
  list(selector: { prefix: DenoKvKey }): AsyncIterable<DenoKvEntryMaybe>;
  atomic(): DenoKvAtomicOperation;
}

/** Options of a `DenoKvStore`. */
export interface DenoKvStoreOptions {
  /**
   * The key parts every key of the store starts with; `["tessera"]` by
   * default. Give each deployment (or test) sharing a database its own.
   */
  prefix?: DenoKvKey;
  /**
   * How long one Deno KV call may take, in milliseconds, before the
   * operation fails (and `verify` with it, as `STORE_FAILED`); 5,000 by
   * default.
   */
  timeoutMs?: number;
}

/**
 * The most checks and mutations one atomic operation may hold: the limits
 * of Deno KV as Deno 2.9 enforces them on a local database (found by
 * trying: its documentation does not list them). A batch beyond them is
 * refused before anything is written. A KV Connect server with lower limits
 * (denokv's protocol crate has listed 10 checks) refuses the commit itself,
 * which writes nothing either.
 */
const MAX_CHECKS = 100;
const MAX_MUTATIONS = 1000;

/** The most keys one `getMany` may read (Deno KV's limit on read ranges). */
const MAX_READ_KEYS = 10;

/**
 * How often a write tries: again when a concurrent write changed what it
 * checks, or when another handle on the same local database file held its
 * lock (SQLite's "database is locked": nothing was written).
 */
const ATTEMPTS = 16;

/** The error Deno KV throws when another handle on a local file is writing. */
const BUSY = /database is (locked|busy)/i;

/** Waits a little before trying a write again, longer each time (at most about 50 ms). */
function pause(attempt: number): Promise<void> {
  const ms = Math.min(2 ** attempt, 50) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}



/** Rejects an `expected` that is not a record object, `null` or `undefined`. */
function checkExpected(expected: unknown, what: string): asserts expected is StoredRecord | null | undefined {
  if (expected !== undefined && expected !== null && (typeof expected !== "object" || Array.isArray(expected))) {
    throw new TypeError(`${what} must be a record object, null or undefined`);
  }
}

/**
 * The record stored under `id`: a JSON object whose id, owner and hash are
 * well formed and whose id is the key's. Anything else throws, so that no
 * caller ever sees part of a record.
 */
function parseRecord(value: unknown, id: string): StoredRecord {
  if (typeof value !== "string") {
    throw new Error(`the value stored for record ${id} is not a record's JSON`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`the value stored for record ${id} is not valid JSON`);
  }
  try {
    checkIndexed(parsed, "record");
  } catch (error) {
    throw new Error(`the value stored for record ${id} is not a well-formed record (${(error as Error).message})`);
  }
  if (parsed.id !== id) {
    throw new Error(`the value stored for record ${id} holds another id`);
  }
  return parsed;
}

/** A last-used time as stored by `touch`. */
function parseUsed(value: unknown, id: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new Error(`the last-used time stored for record ${id} is not a whole number`);
  }
  return value;
}

/** `items` in groups of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/** A key as a string, to use it in a `Map`. */
function keyText(key: DenoKvKey): string {
  return JSON.stringify(key, (_, part: unknown) =>
    typeof part === "bigint" ? `${part}n` : part instanceof Uint8Array ? Array.from(part) : part,
  );
}

/**
 * A `TokenStore` over Deno KV.
 *
 * Key layout, under the prefix (`["tessera"]` by default):
 * - `[...prefix, "id", id]`: the record's JSON, as it was put;
 * - `[...prefix, "used", id]`: the last-used time a later `touch` wrote;
 * - `[...prefix, "hash", hash]`: the id of the record stored under that hash;
 * - `[...prefix, "user", userId, id]`: `true`, one key per record of the user.
 *
 * Every write is one atomic operation whose checks hold the versionstamps
 * it read, retried (at most 16 times) when a concurrent write got in
 * between: `put` and `delete` change a record and its index entries
 * together, `apply` commits all of an operation's writes or none, and
 * `touch` sets the last-used time only while the record is the one it read,
 * in a key of its own, so it never undoes a concurrent edit. A put under a
 * hash another record holds is refused. Records come back exactly as they
 * were put (with the last-used time of a later `touch`), a fresh copy each
 * time; a stored value that is not a well-formed record throws.
 *
 * **Writes decided on a stale read are refused.** Each write of
 * `TokenService` carries `expected`, the record as the service read it
 * before the core decided (`null` when there was none). A write reads the
 * records it changes, compares each with its `expected` (ignoring
 * `lastUsedAt`, which lives in a key of its own anyway), and commits only
 * with checks that those records' keys still have the versionstamps it
 * read. When a record is no longer the expected one, because another writer
 * (this store or another process) changed or deleted it, nothing is written
 * and the write throws a `StoreConflict` (its `code` is `"STORE_CONFLICT"`,
 * passed on unwrapped); the service then reads again, lets the core decide
 * again and retries. So a rename that read a token before a concurrent
 * deactivation never writes it back as active, and both succeed. When a
 * commit fails its checks, the write reads again and compares again, so a
 * conflict is reported only when a record really differs from the one
 * expected. A write without `expected` replaces whatever is stored, as the
 * interface says.
 *
 * Deno KV errors and calls that do not answer within `timeoutMs` reject (as
 * a plain `Error` naming the operation), and `TokenService` turns them into
 * `STORE_FAILED`: `verify` and `check` fail closed. A commit that timed out
 * may still be applied by the database afterwards. Reads use Deno KV's
 * default, strong consistency, so a deactivation or deletion is refused by
 * the next `verify` anywhere once its write has returned. Writes of one
 * store to the same record wait for each other; a commit refused because
 * another handle held a local database file locked is tried again.
 *
 * ```ts
 * import { TokenService } from "tessera-tokens";
 * import { DenoKvStore } from "tessera-tokens/deno-kv";
 *
 * const kv = await Deno.openKv(); // Deno Deploy's database, or a local file
 * const tokens = new TokenService({ prefix: "tsr", catalog, store: new DenoKvStore(kv) });
 * ```
 */
export class DenoKvStore implements TokenStore {
  readonly #kv: DenoKv;
  readonly #prefix: readonly DenoKvKeyPart[];
  readonly #timeoutMs: number;
  /** The tail of each record's queue of writes from this store, by id. */
  readonly #queues = new Map<string, Promise<void>>();

  /**
   * A store over `kv` (which the application opens, and closes when done).
   * Throws `TypeError` for a database without the methods the store needs,
   * a prefix that is not a list of key parts or a timeout that is not a
   * whole number of milliseconds from 1 to 2^31 - 1.
   */
  constructor(kv: DenoKv, options: DenoKvStoreOptions = {}) {
    if (typeof kv !== "object" || kv === null) {
      throw new TypeError("kv must be a Deno.Kv");
    }
    for (const method of ["get", "getMany", "list", "atomic"] as const) {
      if (typeof kv[method] !== "function") {
        throw new TypeError(`kv.${method} must be a function (a Deno.Kv)`);
      }
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError("options must be an object");
    }
    const prefix = options.prefix ?? ["tessera"];
    const part = (p: unknown) =>
      ["string", "number", "bigint", "boolean"].includes(typeof p) || p instanceof Uint8Array;
    if (!Array.isArray(prefix) || !prefix.every(part)) {
      throw new TypeError("prefix must be a list of Deno KV key parts, such as [\"tessera\"]");
    }
    this.#kv = kv;
    this.#prefix = Object.freeze([...prefix]);
    this.#timeoutMs = timeoutOption(options.timeoutMs);
  }

  /** The key prefix (a copy). */
  get prefix(): DenoKvKeyPart[] {
    return [...this.#prefix];
  }

  #idKey(id: string): DenoKvKey {
    return [...this.#prefix, "id", id];
  }

  #usedKey(id: string): DenoKvKey {
    return [...this.#prefix, "used", id];
  }

  #hashKey(hash: string): DenoKvKey {
    return [...this.#prefix, "hash", hash];
  }

  #userKey(userId: string, id: string): DenoKvKey {
    return [...this.#prefix, "user", userId, id];
  }

  /** One Deno KV call, bounded by the timeout. */
  #call<T>(what: string, work: () => PromiseLike<T>): Promise<T> {
    return withDeadline(Promise.resolve().then(work), this.#timeoutMs, `Deno KV ${what}`);
  }

  /**
   * Commits `operation`: whether its checks held, or `null` when the local
   * database file was locked by another handle (nothing was written).
   */
  async #commit(operation: DenoKvAtomicOperation): Promise<boolean | null> {
    try {
      return (await this.#call("commit", () => operation.commit())).ok === true;
    } catch (error) {
      if (error instanceof Error && BUSY.test(error.message)) {
        return null;
      }
      throw error;
    }
  }

  /** Reads `keys` (any number), in calls of at most ten keys, in parallel. */
  async #getMany(keys: readonly DenoKvKey[]): Promise<DenoKvEntryMaybe[]> {
    const parts = await Promise.all(
      chunks(keys, MAX_READ_KEYS).map((part) => this.#call("getMany", () => this.#kv.getMany(part))),
    );
    const entries = parts.flat();
    if (entries.length !== keys.length) {
      throw new Error("Deno KV getMany answered with the wrong number of entries");
    }
    return entries;
  }

  /**
   * Records from the entries of their id key and last-used key (in pairs):
   * `null` where there is no record.
   */
  #records(ids: readonly string[], entries: readonly DenoKvEntryMaybe[]): (StoredRecord | null)[] {
    return ids.map((id, i) => {
      const entry = entries[2 * i];
      const used = entries[2 * i + 1];
      if (entry === undefined || used === undefined || entry.versionstamp === null) {
        return null;
      }
      const record = parseRecord(entry.value, id);
      if (used.versionstamp !== null) {
        record.lastUsedAt = parseUsed(used.value, id);
      }
      return record;
    });
  }

  /** The records with these ids (with later last-used times applied). */
  async #read(ids: readonly string[]): Promise<(StoredRecord | null)[]> {
    const keys = ids.flatMap((id) => [this.#idKey(id), this.#usedKey(id)]);
    return this.#records(ids, await this.#getMany(keys));
  }

  /**
   * Runs `work` once this store's earlier writes to any of `ids` are done,
   * so that they do not fail each other's checks.
   */
  async #serially<T>(ids: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(ids)];
    const earlier = unique.map((id) => this.#queues.get(id));
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const id of unique) this.#queues.set(id, done);
    try {
      await Promise.all(earlier);
      return await work();
    } finally {
      release();
      for (const id of unique) {
        if (this.#queues.get(id) === done) this.#queues.delete(id);
      }
    }
  }

  /**
   * Runs a store operation; a failure becomes a plain `Error` naming it
   * (records, hashes and keys stay out of the message).
   */
  async #operation<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      // A conflict reaches the caller as it is, for its `code`.
      if (error instanceof StoreConflict) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`DenoKvStore.${operation}: ${message}`);
    }
  }

  async getByHash(hash: string): Promise<StoredRecord | null> {
    return this.#operation("getByHash", async () => {
      const entry = await this.#call("get", () => this.#kv.get(this.#hashKey(hash)));
      if (entry.versionstamp === null) {
        return null;
      }
      if (typeof entry.value !== "string" || entry.value === "") {
        throw new Error("a hash index entry does not hold a record id");
      }
      const [found] = await this.#read([entry.value]);
      // A record that moved to another hash between the two reads is not
      // the one asked for.
      return found != null && found.hash === hash ? found : null;
    });
  }

  async getById(id: string): Promise<StoredRecord | null> {
    return this.#operation("getById", async () => {
      const [found] = await this.#read([id]);
      return found ?? null;
    });
  }

  async listByUser(userId: string): Promise<StoredRecord[]> {
    return this.#operation("listByUser", async () => {
      const ids = await this.#userIds(userId);
      const found = await this.#read(ids);
      // An index entry without its record, or of a record that changed
      // owner between the two reads, is not the user's.
      return found.filter((record): record is StoredRecord => record != null && record.userId === userId);
    });
  }

  async countByUser(userId: string): Promise<number> {
    return this.#operation("countByUser", async () => (await this.#userIds(userId)).length);
  }

  /** The ids in the user's index. */
  async #userIds(userId: string): Promise<string[]> {
    const prefix = [...this.#prefix, "user", userId];
    return this.#call("list", async () => {
      const ids: string[] = [];
      for await (const entry of this.#kv.list({ prefix })) {
        const id = entry.key[entry.key.length - 1];
        if (typeof id !== "string" || entry.key.length !== prefix.length + 1) {
          throw new Error("a user index key does not end with a record id");
        }
        ids.push(id);
      }
      return ids;
    });
  }

  /**
   * Inserts or replaces the record with the same id, moving its index
   * entries when its hash or owner changed. Rejects when another record is
   * stored under the same hash, and with a `StoreConflict`, writing
   * nothing, when the stored record is not `expected` (see the class).
   */
  async put(record: StoredRecord, expected?: StoredRecord | null): Promise<void> {
    checkIndexed(record, "record");
    checkExpected(expected, "expected");
    const json = JSON.stringify(record);
    await this.#operation("put", () =>
      this.#serially([record.id], () => this.#write([{ put: record, expected }], [json])),
    );
  }

  /**
   * Deletes the record and its index entries; whether there was one.
   * Rejects with a `StoreConflict`, deleting nothing, when the stored record
   * is not `expected` (see the class).
   */
  async delete(id: string, expected?: StoredRecord | null): Promise<boolean> {
    if (typeof id !== "string") {
      throw new TypeError("id must be a string");
    }
    checkExpected(expected, "expected");
    const [deleted] = await this.#operation("delete", () =>
      this.#serially([id], () => this.#write([{ delete: id, expected }], [])),
    );
    return deleted === true;
  }

  /**
   * Applies the writes in order, in one atomic operation: all of them or
   * none. Rejects, writing nothing, for the reasons `put` and `delete` do
   * (each record is compared with its write's `expected` as it was before
   * the batch), and for a batch beyond one atomic operation of Deno KV (100
   * checks and 1,000 mutations: 100 records changed or deleted, or 50
   * inserted).
   */
  async apply(writes: readonly StoreWrite[]): Promise<void> {
    if (!Array.isArray(writes)) {
      throw new TypeError("writes must be an array");
    }
    const json: string[] = [];
    const ids: string[] = [];
    for (const [i, write] of writes.entries()) {
      const w = write as { put?: unknown; delete?: unknown; expected?: unknown } | null;
      if (typeof w === "object" && w !== null) {
        checkExpected(w.expected, `writes[${i}].expected`);
      }
      if (typeof w === "object" && w !== null && "put" in w) {
        checkIndexed(w.put, `writes[${i}].put`);
        json.push(JSON.stringify(w.put));
        ids.push(w.put.id);
      } else if (typeof w === "object" && w !== null && typeof w.delete === "string") {
        ids.push(w.delete);
      } else {
        throw new TypeError(`writes[${i}] must be { put: record } or { delete: id }`);
      }
    }
    if (writes.length === 0) {
      return;
    }
    await this.#operation("apply", () => this.#serially(ids, () => this.#write(writes, json)));
  }

  /**
   * Commits the writes as one atomic operation, reading again (and
   * comparing with what the writes expect again) while a concurrent write
   * fails its checks. `json` holds the puts' JSON, in order. Returns, per
   * write, whether it was a deletion of a record.
   */
  async #write(writes: readonly StoreWrite[], json: readonly string[]): Promise<boolean[]> {
    const ids = [...new Set(writes.map((w) => ("put" in w ? w.put.id : w.delete)))];
    const hashes = [...new Set(writes.flatMap((w) => ("put" in w ? [w.put.hash] : [])))];
    if (ids.length > MAX_CHECKS) {
      throw new Error(`${ids.length} records are more than one Deno KV atomic operation can check (${MAX_CHECKS}); nothing was written`);
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const entries = await this.#getMany([...ids.map((id) => this.#idKey(id)), ...hashes.map((h) => this.#hashKey(h))]);
      const plan = this.#plan(writes, json, ids, hashes, entries);
      if (plan.checks.length > MAX_CHECKS || plan.mutations > MAX_MUTATIONS) {
        throw new Error(
          `the writes need ${plan.checks.length} checks and ${plan.mutations} mutations, more than one Deno KV atomic operation holds (${MAX_CHECKS} and ${MAX_MUTATIONS}); nothing was written`,
        );
      }
      const committed = await this.#commit(plan.operation);
      if (committed === true) {
        return plan.deleted;
      }
      if (committed === null) await pause(attempt);
    }
    throw new Error("the records kept changing under concurrent writes (or the database stayed locked)");
  }

  /**
   * The atomic operation for `writes` over what was read: each record key
   * checked at the versionstamp read, and each hash index entry a put takes
   * over checked too. Throws, before anything is written, a `StoreConflict`
   * when a record read is not the one its write expects, and an error for a
   * put under another record's hash.
   */
  #plan(
    writes: readonly StoreWrite[],
    json: readonly string[],
    ids: readonly string[],
    hashes: readonly string[],
    entries: readonly DenoKvEntryMaybe[],
  ) {
    const operation = this.#kv.atomic();
    const checks = new Map<string, DenoKvCheck>();
    const check = (key: DenoKvKey, versionstamp: string | null) => {
      checks.set(keyText(key), { key, versionstamp });
    };
    let mutations = 0;
    const set = (key: DenoKvKey, value: unknown) => {
      operation.set(key, value);
      mutations++;
    };
    const remove = (key: DenoKvKey) => {
      operation.delete(key);
      mutations++;
    };

    // The records and hash index entries as they are, then as the writes
    // before each one left them.
    const records = new Map<string, StoredRecord | null>();
    ids.forEach((id, i) => {
      const entry = entries[i];
      const versionstamp = entry?.versionstamp ?? null;
      records.set(id, versionstamp === null ? null : parseRecord(entry?.value, id));
      check(this.#idKey(id), versionstamp);
    });
    // Every record as read must be the one its write expects; the checks
    // above make sure it still is when the operation commits.
    for (const write of writes) {
      const id = "put" in write ? write.put.id : write.delete;
      if (!stillExpected(records.get(id), write.expected)) {
        throw new StoreConflict(id);
      }
    }
    const holders = new Map<string, string | null>();
    const hashVersions = new Map<string, string | null>();
    hashes.forEach((hash, i) => {
      const entry = entries[ids.length + i];
      const versionstamp = entry?.versionstamp ?? null;
      if (versionstamp !== null && (typeof entry?.value !== "string" || entry.value === "")) {
        throw new Error("a hash index entry does not hold a record id");
      }
      holders.set(hash, versionstamp === null ? null : (entry?.value as string));
      hashVersions.set(hash, versionstamp);
    });

    const deleted: boolean[] = [];
    let puts = 0;
    for (const write of writes) {
      if ("put" in write) {
        const record = write.put;
        const id = record.id;
        const current = records.get(id) ?? null;
        const holder = holders.get(record.hash) ?? null;
        if (holder !== null && holder !== id) {
          throw new Error("another record is stored under this hash");
        }
        if (current === null || current.hash !== record.hash) {
          // Taking over a hash index entry: nobody may take it meanwhile.
          check(this.#hashKey(record.hash), hashVersions.get(record.hash) ?? null);
        }
        if (current !== null && current.hash !== record.hash) {
          remove(this.#hashKey(current.hash));
          holders.set(current.hash, null);
        }
        if (current !== null && current.userId !== record.userId) {
          remove(this.#userKey(current.userId, id));
        }
        set(this.#idKey(id), json[puts++]);
        remove(this.#usedKey(id));
        if (holder !== id) {
          set(this.#hashKey(record.hash), id);
          holders.set(record.hash, id);
        }
        if (current === null || current.userId !== record.userId) {
          set(this.#userKey(record.userId, id), true);
        }
        records.set(id, record);
        deleted.push(false);
      } else {
        const id = write.delete;
        const current = records.get(id) ?? null;
        if (current !== null) {
          remove(this.#idKey(id));
          remove(this.#usedKey(id));
          if (holders.get(current.hash) === id || !holders.has(current.hash)) {
            remove(this.#hashKey(current.hash));
            holders.set(current.hash, null);
          }
          remove(this.#userKey(current.userId, id));
          records.set(id, null);
        }
        deleted.push(current !== null);
      }
    }
    operation.check(...checks.values());
    return { operation, checks: [...checks.values()], mutations, deleted };
  }

  /**
   * Sets the record's last-used time, in a key of its own, while the record
   * is still the one read (a record written meanwhile is read again; a
   * deleted one is left alone). Never undoes a concurrent edit.
   */
  async touch(id: string, lastUsedAt: number): Promise<void> {
    checkTouchTime(lastUsedAt);
    await this.#operation("touch", () =>
      this.#serially([id], async () => {
        for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
          const entry = await this.#call("get", () => this.#kv.get(this.#idKey(id)));
          if (entry.versionstamp === null) {
            return;
          }
          const operation = this.#kv
            .atomic()
            .check({ key: this.#idKey(id), versionstamp: entry.versionstamp })
            .set(this.#usedKey(id), lastUsedAt);
          const committed = await this.#commit(operation);
          if (committed === true) {
            return;
          }
          if (committed === null) await pause(attempt);
        }
        throw new Error("the record kept changing under concurrent writes (or the database stayed locked)");
      }),
    );
  }

  /** Shows the prefix only: records hold hashes, which lists never show. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `DenoKvStore { prefix: ${keyText(this.#prefix)} }`;
  }
}
