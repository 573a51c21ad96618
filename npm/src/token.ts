import * as args from "./args.js";
import { type TokenErrorCode, TOKEN_ERROR_CODES } from "./codes.js";
import { call } from "./errors.js";
import { codes, hash_token, present, token_pattern } from "./wasm.js";

/**
 * A token someone presented whose shape and checksum are right, but which
 * has not been looked up: what `parseToken` returns. The token itself is
 * kept in a private field and shown only by `expose()`; printing, JSON and
 * `inspect` show the prefix, public id and hint.
 */
export class Presented {
  /** The token's prefix, such as `tsr`. */
  readonly prefix: string;
  /** The token's public id (32 hex digits), computable by anyone holding it. */
  readonly id: string;
  /** The non-secret hint lists show, such as `tsr_AbCd…`. */
  readonly hint: string;
  readonly #token: string;

  /** @internal Use `parseToken`. */
  constructor(token: string, prefix: string, id: string, hint: string) {
    this.#token = token;
    this.prefix = prefix;
    this.id = id;
    this.hint = hint;
  }

  /** The bare token (without any `Bearer` scheme). It is as secret as the input. */
  expose(): string {
    return this.#token;
  }

  /** The non-secret fields. */
  toJSON(): { prefix: string; id: string; hint: string } {
    return { prefix: this.prefix, id: this.id, hint: this.hint };
  }

  /** A redacted description. */
  toString(): string {
    return `Presented(${this.prefix}_<redacted>)`;
  }

  /** Redacted, for `console.log` and `util.inspect`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Presented { prefix: '${this.prefix}', id: '${this.id}', hint: '${this.hint}' }`;
  }
}

/**
 * Parses a bare token or an `Authorization` header value (`Bearer <t>` or
 * `UserToken <t>`, any case) and checks its format and checksum, without a
 * store. With `prefix`, tokens of other prefixes are `TOKEN_PREFIX`; without
 * it, any well-formed prefix is accepted. Throws a `TokenError`.
 */
export function parseToken(input: string, options: { prefix?: string } = {}): Presented {
  args.string(input, "input");
  const prefix = options.prefix === undefined ? undefined : args.string(options.prefix, "prefix");
  const out = JSON.parse(call(() => present(input, prefix))) as {
    token: string;
    prefix: string;
    id: string;
    hint: string;
  };
  return new Presented(out.token, out.prefix, out.id, out.hint);
}

/**
 * The hash a store keeps for a token (any prefix; a header value is
 * accepted): SHA-256 in hex, or HMAC-SHA-256 under a pepper of at least 16
 * bytes. Throws a `TokenError` for a malformed token or short pepper.
 */
export function hashToken(token: string, pepper?: Uint8Array): string {
  args.string(token, "token");
  if (pepper !== undefined && !(pepper instanceof Uint8Array)) {
    throw new TypeError("pepper must be a Uint8Array");
  }
  return call(() => hash_token(token, pepper));
}

/**
 * The regular expression that matches tokens under `prefix`, for secret
 * scanners and log filters: `/tsr_[0-9A-Za-z]{49}/`. It is unanchored and
 * has no flags; a match still needs its checksum checked with `parseToken`.
 */
export function tokenPattern(prefix: string): RegExp {
  args.string(prefix, "prefix");
  return new RegExp(call(() => token_pattern(prefix)));
}

/** The stable error codes as the compiled core lists them (`code::ALL`). */
export function errorCodes(): TokenErrorCode[] {
  return codes().split(",") as TokenErrorCode[];
}

/** The codes by the index the hot paths return (`-1 - index`). */
let table: readonly TokenErrorCode[] | undefined;

/** The code for a hot path's negative return value; unknown ones fail closed. */
export function codeAt(result: number): TokenErrorCode {
  table ??= errorCodes();
  return table[-1 - result] ?? TOKEN_ERROR_CODES[TOKEN_ERROR_CODES.length - 1] ?? "STORE_FAILED";
}
