/**
 * `tessera-tokens`: user API tokens (personal access tokens) for Node,
 * Deno, Bun, Cloudflare Workers and edge runtimes, from one Rust core
 * compiled to WebAssembly.
 *
 * The package does no I/O of its own: records live in a `TokenStore` you
 * supply (or a `MemoryStore`), time comes from `Date.now` unless you pass a
 * clock, and randomness from `crypto.getRandomValues`.
 *
 * @packageDocumentation
 */
export { TOKEN_ERROR_CODES, type TokenErrorCode, isUnauthenticated } from "./codes.js";
export { TokenError } from "./errors.js";
export { MemoryStore, type MemoryStoreOptions } from "./memory-store.js";
export { TokenService, type TokenServiceOptions } from "./service.js";
export type { MaybePromise, TokenStore } from "./store.js";
export { Presented, errorCodes, hashToken, parseToken, tokenPattern } from "./token.js";
export type {
  Actor,
  CatalogEntry,
  CheckResult,
  CreatedBy,
  ExpiryChoice,
  IssueRequest,
  Issued,
  OwnerStanding,
  Policy,
  Principal,
  ScopeSpec,
  StoreWrite,
  StoredRecord,
  TokenChanges,
  TokenInfo,
  Updated,
  VerifyRequest,
} from "./types.js";
