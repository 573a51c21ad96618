/**
 * Optimistic concurrency between `TokenService` and its store. Every write
 * of a lifecycle operation carries `expected`: the record as the service
 * read it before the core decided (`null` when it read none). A store
 * that supports it applies the writes only while each record is still the
 * one expected, and otherwise throws a conflict; the service then reads
 * again, lets the core decide again, and retries. So a rename that read a
 * token before a concurrent deactivation can never write it back active.
 *
 * @internal
 */
import type { StoredRecord } from "./types.js";

/** The `code` of the error a store throws when a record changed since it was read. */
export const CONFLICT = "STORE_CONFLICT";

/** The error a store throws when a record changed since the service read it. */
export class StoreConflict extends Error {
  readonly code = CONFLICT;
  constructor(id: string) {
    super(`token ${id} changed since it was read`);
    this.name = "StoreConflict";
  }
}

/** Whether `error` is a store's conflict (by its `code`, so custom stores need no import). */
export function isConflict(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === CONFLICT;
}

/**
 * A record's version: its JSON without `lastUsedAt`, which `touch` changes
 * concurrently without making anything a decision rests on stale.
 */
export function version(record: StoredRecord | null | undefined): string | null {
  if (record === null || record === undefined) return null;
  const { lastUsedAt: _used, ...rest } = record;
  return JSON.stringify(rest);
}

/** Whether the stored record is still the one a write expects (`undefined`: no expectation). */
export function stillExpected(
  stored: StoredRecord | null | undefined,
  expected: StoredRecord | null | undefined,
): boolean {
  return expected === undefined || version(stored) === version(expected);
}
