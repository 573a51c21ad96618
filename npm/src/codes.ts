import { CODE_CLASSES, TOKEN_ERROR_CODES } from "./generated/codes.js";

/**
 * The stable error codes, identical to the Rust core's `code::ALL` and in
 * the same order: generated from the core's code table at build time, and
 * compared by a test with the list the compiled core reports.
 */
export { TOKEN_ERROR_CODES };

/** One of the stable error codes: what `TokenError#code` holds. */
export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[number];

/**
 * Whether a verification failure means "not authenticated" (HTTP 401) rather
 * than "authenticated but not allowed" (403 for `SCOPE_DENIED`) or a server
 * fault (`STORE_FAILED`, `RECORD_INVALID`: 503 or 500). Answer every 401
 * the same way, so a client never learns which reason applied.
 */
export function isUnauthenticated(code: TokenErrorCode): boolean {
  return CODE_CLASSES[code] === "unauthenticated";
}

/** Whether `value` is one of the stable codes. */
export function isTokenErrorCode(value: unknown): value is TokenErrorCode {
  return (TOKEN_ERROR_CODES as readonly unknown[]).includes(value);
}
