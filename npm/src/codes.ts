/**
 * The stable error codes, identical to the Rust core's `code::ALL` and in
 * the same order. A test compares this list with the one the compiled core
 * reports, so the two cannot drift apart.
 */
export const TOKEN_ERROR_CODES = [
  "TOKEN_MALFORMED",
  "TOKEN_PREFIX",
  "TOKEN_CHECKSUM",
  "TOKEN_UNKNOWN",
  "TOKEN_INACTIVE",
  "TOKEN_EXPIRED",
  "SCOPE_DENIED",
  "SCOPE_INVALID",
  "SCOPE_EXCEEDS_PARENT",
  "EXPIRY_INVALID",
  "EXPIRY_EXCEEDS_POLICY",
  "EXPIRY_EXCEEDS_PARENT",
  "NAME_INVALID",
  "DESCRIPTION_INVALID",
  "USER_INVALID",
  "PARENT_INVALID",
  "LIMIT_REACHED",
  "PREFIX_INVALID",
  "CATALOG_INVALID",
  "PEPPER_INVALID",
  "RECORD_INVALID",
  "STORE_FAILED",
  "NOT_FOUND",
] as const;

/** One of the stable error codes: what `TokenError#code` holds. */
export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[number];

/** The codes a caller answers with HTTP 401 (every parse error included). */
const UNAUTHENTICATED: ReadonlySet<TokenErrorCode> = new Set<TokenErrorCode>([
  "TOKEN_MALFORMED",
  "TOKEN_PREFIX",
  "TOKEN_CHECKSUM",
  "TOKEN_UNKNOWN",
  "TOKEN_INACTIVE",
  "TOKEN_EXPIRED",
]);

/**
 * Whether a verification failure means "not authenticated" (HTTP 401) rather
 * than "authenticated but not allowed" (403 for `SCOPE_DENIED`) or a server
 * fault (`STORE_FAILED`, `RECORD_INVALID`: 503 or 500). Answer every 401
 * the same way, so a client never learns which reason applied.
 */
export function isUnauthenticated(code: TokenErrorCode): boolean {
  return UNAUTHENTICATED.has(code);
}

/** Whether `value` is one of the stable codes. */
export function isTokenErrorCode(value: unknown): value is TokenErrorCode {
  return (TOKEN_ERROR_CODES as readonly unknown[]).includes(value);
}
