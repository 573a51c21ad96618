/** Argument checks: `TypeError` for the wrong type, `RangeError` for a bad value. */

/** `value` if it is a string, else a `TypeError` naming `what`. */
export function string(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string`);
  }
  return value;
}

/** `value` if it is an object (not null, not an array), else a `TypeError`. */
export function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** `value` if it is a function, else a `TypeError`. */
export function func<T>(value: unknown, what: string): T {
  if (typeof value !== "function") {
    throw new TypeError(`${what} must be a function`);
  }
  return value as T;
}

/** Milliseconds since the epoch as a safe integer, else a `TypeError` or `RangeError`. */
export function millis(value: unknown, what: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what} must be a number of milliseconds`);
  }
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a whole number of milliseconds within 2^53`);
  }
  return value;
}

/** A whole number of at least `min`, else a `TypeError` or `RangeError`. */
export function integer(value: unknown, what: string, min: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what} must be a number`);
  }
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${what} must be a whole number of at least ${min}`);
  }
  return value;
}

/** Lowercase hex of some bytes. */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out += byte.toString(16).padStart(2, "0");
  }
  return out;
}
