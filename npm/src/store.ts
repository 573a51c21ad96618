import type { StoredRecord } from "./types.js";

/** A value, or a promise of one: stores may answer either way. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Where records live. `TokenService` calls these methods and nothing else;
 * records are plain JSON objects to save and return whole.
 *
 * Any method that throws or rejects makes `verify` and `check` fail closed
 * with `STORE_FAILED`, and other operations reject with it.
 *
 * An adapter for Redis through `ioredis` (the shape; not shipped):
 *
 * ```ts
 * import type Redis from "ioredis";
 * import type { StoredRecord, TokenStore } from "tessera-tokens";
 *
 * export class RedisStore implements TokenStore {
 *   constructor(private redis: Redis, private ns = "tessera") {}
 *   async getByHash(hash: string) {
 *     const id = await this.redis.get(`${this.ns}:hash:${hash}`);
 *     return id === null ? null : this.getById(id);
 *   }
 *   async getById(id: string) {
 *     const json = await this.redis.get(`${this.ns}:id:${id}`);
 *     return json === null ? null : (JSON.parse(json) as StoredRecord);
 *   }
 *   async put(record: StoredRecord) {
 *     await this.redis.multi()
 *       .set(`${this.ns}:id:${record.id}`, JSON.stringify(record))
 *       .set(`${this.ns}:hash:${record.hash}`, record.id)
 *       .sadd(`${this.ns}:user:${record.userId}`, record.id)
 *       .exec();
 *   }
 *   async delete(id: string) {
 *     const record = await this.getById(id);
 *     if (record === null) return false;
 *     await this.redis.multi()
 *       .del(`${this.ns}:id:${id}`, `${this.ns}:hash:${record.hash}`)
 *       .srem(`${this.ns}:user:${record.userId}`, id)
 *       .exec();
 *     return true;
 *   }
 *   async listByUser(userId: string) {
 *     const ids = await this.redis.smembers(`${this.ns}:user:${userId}`);
 *     const found = await Promise.all(ids.map((id) => this.getById(id)));
 *     return found.filter((r): r is StoredRecord => r !== null);
 *   }
 *   async touch(id: string, lastUsedAt: number) {
 *     const record = await this.getById(id);
 *     if (record !== null) await this.put({ ...record, lastUsedAt });
 *   }
 * }
 * ```
 */
export interface TokenStore {
  /** The record stored under this hash (64 lowercase hex digits), if any. */
  getByHash(hash: string): MaybePromise<StoredRecord | null | undefined>;
  /** The record with this id, if any. */
  getById(id: string): MaybePromise<StoredRecord | null | undefined>;
  /** Inserts the record, or replaces the one with the same id. */
  put(record: StoredRecord): MaybePromise<void>;
  /** Deletes the record with this id; whether there was one. */
  delete(id: string): MaybePromise<boolean>;
  /** Every record of the user, in any order. */
  listByUser(userId: string): MaybePromise<StoredRecord[]>;
  /** Sets the record's `lastUsedAt` (called at most once a minute per token). */
  touch(id: string, lastUsedAt: number): MaybePromise<void>;
  /**
   * How many records the user holds. Optional: without it, the policy's
   * `maxTokensPerUser` is checked with `listByUser(userId).length`.
   */
  countByUser?(userId: string): MaybePromise<number>;
}
