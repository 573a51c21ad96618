import type { OwnerStanding, StoreWrite, StoredRecord } from "./types.js";

/** A value, or a promise of one: stores may answer either way. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Where records live. `TokenService` calls these methods and nothing else;
 * records are plain JSON objects to save and return whole.
 *
 * Any method that throws or rejects makes `verify` and `check` fail closed
 * with `STORE_FAILED`, and other operations reject with it.
 *
 * Two stores ship with the package: `MemoryStore`, and `RedisStore` (over
 * an `ioredis` client) from `tessera-tokens/redis`. An adapter of your own
 * keeps a hash → id index and a per-user index consistent with the records
 * (update them together when a record is replaced or deleted), and returns
 * records exactly as they were put. The package's store conformance suite
 * (`test/store-conformance.mjs` in the repository) checks all of that.
 */
export interface TokenStore {
  /** The record stored under this hash (64 lowercase hex digits), if any. */
  getByHash(hash: string): MaybePromise<StoredRecord | null | undefined>;
  /** The record with this id, if any. */
  getById(id: string): MaybePromise<StoredRecord | null | undefined>;
  /**
   * Inserts the record, or replaces the one with the same id. `expected`,
   * when given, is what `TokenService` read under that id (`null`: none);
   * see `StoreWrite` for what a store does with it.
   */
  put(record: StoredRecord, expected?: StoredRecord | null): MaybePromise<void>;
  /** Deletes the record with this id; whether there was one. `expected` as for `put`. */
  delete(id: string, expected?: StoredRecord | null): MaybePromise<boolean>;
  /** Every record of the user, in any order. */
  listByUser(userId: string): MaybePromise<StoredRecord[]>;
  /** Sets the record's `lastUsedAt` (called at most once a minute per token). */
  touch(id: string, lastUsedAt: number): MaybePromise<void>;
  /**
   * How many records the user holds. Optional, and no longer called by
   * `TokenService` (the core counts the user's live tokens from
   * `listByUser`); kept for stores that offer it.
   */
  countByUser?(userId: string): MaybePromise<number>;
  /**
   * Applies one operation's writes in order, all or none (a rotation's two
   * records, a cascade's deletions), and none when any record is no longer
   * the one its write expects (then it throws a `STORE_CONFLICT` error). Optional: without it, `TokenService`
   * calls `put` and `delete` one by one, and a failure part-way leaves the
   * earlier writes in place.
   */
  apply?(writes: readonly StoreWrite[]): MaybePromise<void>;
  /**
   * The standing of the user a record `getByHash` just returned belongs to,
   * for stores that know users (the `IntrospectionStore` hears it from the
   * token service). Optional: without it, or when it answers `undefined`,
   * every user's tokens are enabled. The core decides from it whether the
   * token may be used at all (`TOKENS_DISABLED`); a failure is
   * `STORE_FAILED`, a malformed standing `RECORD_INVALID`.
   */
  ownerOf?(record: StoredRecord): MaybePromise<OwnerStanding | undefined>;
}
