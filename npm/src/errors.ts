import { type TokenErrorCode, isTokenErrorCode } from "./codes.js";

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

/** Generic messages for the denials the hot path reports as bare codes. */
const DENIAL_MESSAGES: Partial<Record<TokenErrorCode, string>> = {
  TOKEN_MALFORMED: "the input is not shaped like a token",
  TOKEN_PREFIX: "the token carries another deployment's prefix",
  TOKEN_CHECKSUM: "the token checksum does not match",
  TOKEN_UNKNOWN: "the token is not known",
  TOKEN_INACTIVE: "the token is inactive",
  TOKEN_EXPIRED: "the token has expired",
  SCOPE_DENIED: "the token's scope does not allow this request",
  RECORD_INVALID: "a stored record does not match the record format",
  STORE_FAILED: "the token store failed",
};

/** A `TokenError` for a code that came without a message. */
export function denialError(code: TokenErrorCode): TokenError {
  return new TokenError(code, DENIAL_MESSAGES[code] ?? code);
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
