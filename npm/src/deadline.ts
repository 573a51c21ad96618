/**
 * Bounds a backend call in time, for the stores that talk to a database or
 * a service: a backend that hangs must fail the operation (and so make
 * `verify` fail closed with `STORE_FAILED`), never hold it forever.
 *
 * @internal
 */
import { wholeOption } from "./store-checks.js";

/** How long a store waits for its backend by default, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/** The error a store throws when its backend did not answer in time. */
export class BackendTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = "BackendTimeout";
  }
}

/** Checks a `timeoutMs` option: a whole number of milliseconds from 1 to 2^31 - 1. */
export function timeoutOption(value: unknown): number {
  return wholeOption(value, "timeoutMs", DEFAULT_TIMEOUT_MS, 1, 0x7fff_ffff);
}

/**
 * `work`'s result, or a rejection with `BackendTimeout` once `ms` passed.
 * The timer is cleared either way, so that nothing keeps a process alive.
 */
export function withDeadline<T>(work: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendTimeout(what, ms)), ms);
  });
  return Promise.race([Promise.resolve(work), expired]).finally(() => clearTimeout(timer));
}
