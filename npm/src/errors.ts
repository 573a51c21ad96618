import { type TokenErrorCode, isTokenErrorCode } from "./codes.js";
import { CODE_MESSAGES } from "./generated/codes.js";

/**
 * Why an operation on tokens failed, with a stable `code` shared by every
 * Tessera surface (Rust, HTTP bodies, logs). Messages describe the problem
 * and never repeat a token, a hash or a pepper.
 */
export class TokenError extends Error {
  /** The stable code, such as `"TOKEN_EXPIRED"` or `"SCOPE_DENIED"`. */
  readonly code: TokenErrorCode;

  /** Makes an error with `code` and a human-readable `message`. */
  constructor(code: TokenErrorCode, message: string) {
    super(message);
    this.name = "TokenError";
    this.code = code;
  }
}

/** A `TokenError` for a code that came without a message. */
export function denialError(code: TokenErrorCode): TokenError {
  return new TokenError(code, CODE_MESSAGES[code] ?? code);
}

/**
 * Turns what the WebAssembly module threw (a string `CODE: message`) into a
 * `TokenError`, or a `TypeError` for a malformed argument. Anything else
 * (a trap, an out-of-memory) is passed on unchanged.
 */
export function fromWasm(thrown: unknown): Error {
  if (typeof thrown !== "string") {
    return thrown instanceof Error ? thrown : new Error(String(thrown));
  }
  const split = thrown.indexOf(": ");
  const code = split < 0 ? thrown : thrown.slice(0, split);
  const message = split < 0 ? thrown : thrown.slice(split + 2);
  if (code === "BAD_REQUEST") {
    // A malformed argument: JavaScript's own error for it, as elsewhere.
    return new TypeError(message);
  }
  if (isTokenErrorCode(code)) {
    return new TokenError(code, message);
  }
  return new TypeError(message);
}

/** Runs a call into the module, rethrowing its errors as JavaScript ones. */
export function call<T>(run: () => T): T {
  try {
    return run();
  } catch (thrown) {
    throw fromWasm(thrown);
  }
}
