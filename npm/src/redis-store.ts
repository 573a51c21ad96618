/**
 * `tessera-tokens/redis`: a `TokenStore` over Redis, through an `ioredis`
 * client the application creates and owns. For Node, Deno and Bun; the
 * package's workerd and edge entries never import this file.
 *
 * @packageDocumentation
 */
import { StoreConflict, stillExpected } from "./conflict.js";
import { checkIndexed, checkTouchTime } from "./store-checks.js";
import type { TokenStore } from "./store.js";
import type { StoredRecord } from "./types.js";

/**
 * What `RedisStore` calls on its client: a subset of an `ioredis` `Redis`
 * instance (written out so that these declarations need neither `ioredis`
 * nor the Node types). Any `ioredis` 5 or 6 client fits.
 */
export interface RedisClient {
  get(key: string): Promise<string | null>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  smembers(key: string): Promise<string[]>;
  scard(key: string): Promise<number>;
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
}

/** Options of a `RedisStore`. */
export interface RedisStoreOptions {
  /**
   * Prepended to every key the store writes; `tessera:` by default. On a
   * Redis Cluster, use a hash tag such as `{tessera}:` so that every key
   * of the store lives in one slot (the scripts touch several keys at once).
   */
  prefix?: string;
}

/**
 * Inserts or replaces a record and its two indexes, atomically. The caller
 * read the record's current hash and owner first (ARGV[5], ARGV[6]); when
 * they changed since, nothing is written and the reply is 0 (read again).
 *
 * With ARGV[8] = '1', the record's JSON must also still be ARGV[7] (what
 * the caller compared with the write's expected record).
 *
 * KEYS: record, new hash index, new user set, old hash index, old user set.
 * ARGV: JSON, id, new hash, new user id, old hash, old user id, old JSON, check.
 */
const PUT = `
local current = redis.call('HMGET', KEYS[1], 'hash', 'userId', 'json')
local oldHash = current[1] or ''
local oldUser = current[2] or ''
if oldHash ~= ARGV[5] or oldUser ~= ARGV[6] then
  return 0
end
if ARGV[8] == '1' and (current[3] or '') ~= ARGV[7] then
  return 0
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then
  return redis.error_reply('STORE_CONFLICT another record is stored under this hash')
end
if oldHash ~= '' and oldHash ~= ARGV[3] and redis.call('GET', KEYS[4]) == ARGV[2] then
  redis.call('DEL', KEYS[4])
end
if oldUser ~= '' and oldUser ~= ARGV[4] then
  redis.call('SREM', KEYS[5], ARGV[2])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'hash', ARGV[3], 'userId', ARGV[4])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
`;

/**
 * Deletes a record and its index entries, atomically. Replies 1 when it
 * did, 0 when there was no record, -1 when the record's hash or owner
 * changed since the caller read them (read again). With ARGV[5] = '1', the
 * record's JSON must also still be ARGV[4].
 *
 * KEYS: record, its hash index, its user set. ARGV: id, hash, user id, JSON, check.
 */
const DELETE = `
local current = redis.call('HMGET', KEYS[1], 'hash', 'userId', 'json')
if not current[1] then
  return 0
end
if current[1] ~= ARGV[2] or current[2] ~= ARGV[3] then
  return -1
end
if ARGV[5] == '1' and (current[3] or '') ~= ARGV[4] then
  return -1
end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('SREM', KEYS[3], ARGV[1])
return 1
`;

/**
 * Sets the last-used time of an existing record, in its own field, so a
 * concurrent edit of the record is never overwritten. KEYS: record.
 * ARGV: milliseconds since the epoch.
 */
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[1])
return 1
`;

/**
 * Reads every record of a user in one round trip, as one consistent
 * snapshot (every lifecycle operation starts from it). KEYS: the user's set.
 * ARGV: the prefix of record keys. Returns `json, hash, lastUsedAt` per
 * record id (`false`, a nil reply, for a missing field).
 */
const LIST = `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HMGET', ARGV[1] .. id, 'json', 'hash', 'lastUsedAt')
  out[#out + 1] = fields[1] or false
  out[#out + 1] = fields[2] or false
  out[#out + 1] = fields[3] or false
end
return out
`;

/** The scripts' command names on the client; versioned, in case the scripts change. */
const COMMANDS = {
  put: "tesseraStorePutV2",
  delete: "tesseraStoreDeleteV2",
  touch: "tesseraStoreTouchV1",
  list: "tesseraStoreListV1",
} as const;

/** The client seen with the commands `defineCommand` added. */
type Scripted = RedisClient & {
  [COMMANDS.put](...keysAndArgs: string[]): Promise<number>;
  [COMMANDS.delete](...keysAndArgs: string[]): Promise<number>;
  [COMMANDS.touch](...keysAndArgs: string[]): Promise<number>;
  [COMMANDS.list](...keysAndArgs: string[]): Promise<(string | null)[]>;
};

/** How often `put` and `delete` read again when the record changes under them. */
const ATTEMPTS = 8;

/**
 * Throws a conflict unless the stored JSON (`null`: none) is the record a
 * write expects; `lastUsedAt` aside, which lives in a field of its own.
 */
function expect(id: string, json: string | null | undefined, expected: StoredRecord | null | undefined): void {
  if (expected === undefined) return;
  const stored = json == null ? null : (JSON.parse(json) as StoredRecord);
  if (!stillExpected(stored, expected)) throw new StoreConflict(id);
}

/**
 * Runs a Redis operation; a failure becomes a plain `Error` with Redis's
 * message only. `ioredis` attaches the command and its arguments (record
 * JSON, hashes) to its errors, and applications log errors' causes.
 */
async function redisCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StoreConflict) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`RedisStore.${operation}: ${message}`);
  }
}

/**
 * A `TokenStore` over Redis, through an `ioredis` client.
 *
 * Key layout, under the prefix (`tessera:` by default):
 * - `<prefix>id:<id>`: a hash with the record's JSON (`json`), its `hash`
 *   and `userId` (for the indexes) and, once used, `lastUsedAt`;
 * - `<prefix>hash:<hash>`: the id of the record stored under that hash;
 * - `<prefix>user:<userId>`: the set of the user's record ids.
 *
 * `put` and `delete` change a record and both indexes in one Lua script,
 * so no reader ever sees an index without its record or a stale entry
 * after a hash or owner change. `touch` writes only the `lastUsedAt` field,
 * so it never undoes a concurrent rename or deactivation. Records come back
 * exactly as they were put (with the last-used time of a later `touch`).
 *
 * Redis errors reject (as a plain `Error` with Redis's message, without the
 * command's arguments), and `TokenService` turns them into `STORE_FAILED`:
 * `verify` and `check` fail closed while Redis is unreachable, and recover
 * when the client reconnects. Give the client a `commandTimeout`, no offline
 * queue and no retries per request so that an outage fails requests at once
 * instead of queueing them.
 *
 * ```ts
 * import Redis from "ioredis";
 * import { TokenService } from "tessera-tokens";
 * import { RedisStore } from "tessera-tokens/redis";
 *
 * const redis = new Redis(redisUrl, {
 *   lazyConnect: true,
 *   enableOfflineQueue: false,
 *   maxRetriesPerRequest: 0,
 *   commandTimeout: 500,
 * });
 * await redis.connect();
 * const tokens = new TokenService({ prefix: "tsr", catalog, store: new RedisStore(redis) });
 * ```
 */
export class RedisStore implements TokenStore {
  readonly #redis: Scripted;
  readonly #prefix: string;

  /**
   * A store over `redis` (which the application connects, and closes when
   * done). Defines the store's Lua scripts on the client (as
   * `tesseraStore…` commands); throws `TypeError` for a client without the
   * methods the store needs or a prefix that is not a string.
   */
  constructor(redis: RedisClient, options: RedisStoreOptions = {}) {
    if (typeof redis !== "object" || redis === null) {
      throw new TypeError("redis must be an ioredis client");
    }
    for (const method of ["get", "hmget", "smembers", "scard", "defineCommand"] as const) {
      if (typeof redis[method] !== "function") {
        throw new TypeError(`redis.${method} must be a function (an ioredis client)`);
      }
    }
    const prefix = options.prefix ?? "tessera:";
    if (typeof prefix !== "string") {
      throw new TypeError("prefix must be a string");
    }
    redis.defineCommand(COMMANDS.put, { lua: PUT, numberOfKeys: 5 });
    redis.defineCommand(COMMANDS.delete, { lua: DELETE, numberOfKeys: 3 });
    redis.defineCommand(COMMANDS.touch, { lua: TOUCH, numberOfKeys: 1 });
    redis.defineCommand(COMMANDS.list, { lua: LIST, numberOfKeys: 1 });
    this.#redis = redis as Scripted;
    this.#prefix = prefix;
  }

  /** The key prefix. */
  get prefix(): string {
    return this.#prefix;
  }

  #idKey(id: string): string {
    return `${this.#prefix}id:${id}`;
  }

  #hashKey(hash: string): string {
    return `${this.#prefix}hash:${hash}`;
  }

  #userKey(userId: string): string {
    return `${this.#prefix}user:${userId}`;
  }

  /** The record under `id`, with a later last-used time applied; `null` if none. */
  async #read(id: string): Promise<{ record: StoredRecord; hash: string } | null> {
    const [json, hash, lastUsedAt] = await this.#redis.hmget(this.#idKey(id), "json", "hash", "lastUsedAt");
    if (json == null || hash == null) {
      return null;
    }
    const record = JSON.parse(json) as StoredRecord;
    if (lastUsedAt != null) {
      record.lastUsedAt = Number(lastUsedAt);
    }
    return { record, hash };
  }

  async getByHash(hash: string): Promise<StoredRecord | null> {
    return redisCall("getByHash", () => this.#getByHash(hash));
  }

  async #getByHash(hash: string): Promise<StoredRecord | null> {
    const id = await this.#redis.get(this.#hashKey(hash));
    if (id === null) {
      return null;
    }
    const found = await this.#read(id);
    // The index is written with the record; a record that moved to another
    // hash between the two reads is not the one asked for.
    return found !== null && found.hash === hash ? found.record : null;
  }

  async getById(id: string): Promise<StoredRecord | null> {
    return redisCall("getById", async () => (await this.#read(id))?.record ?? null);
  }

  /**
   * Inserts or replaces the record with the same id, moving its index
   * entries when its hash or owner changed. Rejects when another record is
   * stored under the same hash.
   */
  async put(record: StoredRecord, expected?: StoredRecord | null): Promise<void> {
    checkIndexed(record);
    const json = JSON.stringify(record);
    return redisCall("put", () => this.#put(record, json, expected));
  }

  async #put(record: StoredRecord, json: string, expected: StoredRecord | null | undefined): Promise<void> {
    const idKey = this.#idKey(record.id);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const [oldHash, oldUser, oldJson] = await this.#redis.hmget(idKey, "hash", "userId", "json");
      expect(record.id, oldJson, expected);
      const written = await this.#redis[COMMANDS.put](
        idKey,
        this.#hashKey(record.hash),
        this.#userKey(record.userId),
        this.#hashKey(oldHash ?? record.hash),
        this.#userKey(oldUser ?? record.userId),
        json,
        record.id,
        record.hash,
        record.userId,
        oldHash ?? "",
        oldUser ?? "",
        oldJson ?? "",
        expected === undefined ? "0" : "1",
      );
      if (written === 1) {
        return;
      }
    }
    throw new Error("the record kept changing under concurrent writes");
  }

  async delete(id: string, expected?: StoredRecord | null): Promise<boolean> {
    return redisCall("delete", () => this.#delete(id, expected));
  }

  async #delete(id: string, expected: StoredRecord | null | undefined): Promise<boolean> {
    const idKey = this.#idKey(id);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const [hash, userId, json] = await this.#redis.hmget(idKey, "hash", "userId", "json");
      expect(id, json, expected);
      if (hash == null || userId == null) {
        return false;
      }
      const check = expected === undefined ? "0" : "1";
      const deleted = await this.#redis[COMMANDS.delete](
        idKey,
        this.#hashKey(hash),
        this.#userKey(userId),
        id,
        hash,
        userId,
        json ?? "",
        check,
      );
      if (deleted >= 0) {
        return deleted === 1;
      }
    }
    throw new Error("the record kept changing under concurrent writes");
  }

  async listByUser(userId: string): Promise<StoredRecord[]> {
    return redisCall("listByUser", () => this.#listByUser(userId));
  }

  async #listByUser(userId: string): Promise<StoredRecord[]> {
    const fields = await this.#redis[COMMANDS.list](this.#userKey(userId), this.#idKey(""));
    const records: StoredRecord[] = [];
    for (let i = 0; i + 2 < fields.length; i += 3) {
      const [json, hash, lastUsedAt] = [fields[i], fields[i + 1], fields[i + 2]];
      if (json == null || hash == null) {
        continue;
      }
      const record = JSON.parse(json) as StoredRecord;
      if (lastUsedAt != null) {
        record.lastUsedAt = Number(lastUsedAt);
      }
      if (record.userId === userId) {
        records.push(record);
      }
    }
    return records;
  }

  async countByUser(userId: string): Promise<number> {
    return redisCall("countByUser", () => this.#redis.scard(this.#userKey(userId)));
  }

  async touch(id: string, lastUsedAt: number): Promise<void> {
    checkTouchTime(lastUsedAt);
    await redisCall("touch", () => this.#redis[COMMANDS.touch](this.#idKey(id), String(lastUsedAt)));
  }

  /** Shows the prefix only: records hold hashes, which lists never show. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `RedisStore { prefix: '${this.#prefix}' }`;
  }
}
