/**
 * The argument checks every store with a backend of its own makes (Redis,
 * D1, Deno KV, the token service): bundled into each store's entry.
 *
 * @internal
 */
import type { StoredRecord } from "./types.js";

/** A token hash: 64 lowercase hex digits. */
export const HASH = /^[0-9a-f]{64}$/;

/**
 * Checks the members a store indexes a record by (`id`, `userId`, `hash`):
 * a `TypeError` naming `what` otherwise.
 */
export function checkIndexed(record: unknown, what = "record"): asserts record is StoredRecord {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new TypeError(`${what} must be a record object`);
  }
  const r = record as { [key: string]: unknown };
  for (const key of ["id", "userId"] as const) {
    if (typeof r[key] !== "string" || r[key] === "") {
      throw new TypeError(`${what}.${key} must be a non-empty string`);
    }
  }
  if (typeof r.hash !== "string" || !HASH.test(r.hash)) {
    throw new TypeError(`${what}.hash must be 64 lowercase hex digits`);
  }
}

/** Checks a last-used time given to `touch`: a `RangeError` unless a whole number of milliseconds. */
export function checkTouchTime(lastUsedAt: number): void {
  if (!Number.isSafeInteger(lastUsedAt)) {
    throw new RangeError("lastUsedAt must be a whole number of milliseconds");
  }
}

/**
 * A numeric option: `fallback` when absent, else a whole number from `min`
 * to `max`; a `TypeError` naming it otherwise.
 */
export function wholeOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}
