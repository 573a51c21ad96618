import * as args from "./args.js";
import type { TokenErrorCode } from "./codes.js";
import { TokenError, call, denialError } from "./errors.js";
import { type MemoryFastPath, memoryFastPath, principalOf } from "./memory-store.js";
import { randomSource } from "./random.js";
import type { TokenStore } from "./store.js";
import { codeAt } from "./token.js";
import type {
  CatalogEntry,
  CheckResult,
  IssueRequest,
  Issued,
  Policy,
  Principal,
  ScopeSpec,
  StoredRecord,
  TokenInfo,
  VerifyRequest,
} from "./types.js";
import { scopeMembers, toRecord, withRecord } from "./record.js";
import { Deployment, type Record as WasmRecord } from "./wasm.js";

/** Options of a `TokenService`. */
export interface TokenServiceOptions {
  /** The token prefix: 1 to 16 characters of `[a-z0-9]`, such as `tsr`. */
  prefix: string;
  /** Every API action, with its kind tags. */
  catalog: CatalogEntry[];
  /** Where records live: a `MemoryStore` or your adapter. */
  store: TokenStore;
  /** Limits on expiry and token count; every field optional. */
  policy?: Policy;
  /** A server-side secret of at least 16 bytes: stores HMAC-SHA-256 instead of SHA-256. */
  pepper?: Uint8Array;
  /** The action that lets a token create tokens; `tokens.create` by default. */
  creationAction?: string;
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /**
   * Fills 32 bytes with randomness for each new token;
   * `crypto.getRandomValues` by default. Replace it only in tests that need
   * fixed tokens (the shared test vectors do): tokens are exactly as
   * unpredictable as these bytes.
   */
  entropy?: (bytes: Uint8Array) => void;
}

/** Denials as frozen results, so that refusing allocates nothing. */
const denied = new Map<TokenErrorCode, CheckResult>();

function deny(code: TokenErrorCode): CheckResult {
  let result = denied.get(code);
  if (result === undefined) {
    result = Object.freeze({ ok: false as const, code });
    denied.set(code, result);
  }
  return result;
}

/** The expiry as the core takes it: `"never"`, `"days"` or `"at"`, and a number. */
function expiryArgs(expires: unknown): [string, number | undefined] {
  if (expires === undefined || expires === "never") {
    return ["never", undefined];
  }
  const choice = args.object(expires, "expires");
  if ("days" in choice) {
    return ["days", args.integer(choice.days, "expires.days", Number.MIN_SAFE_INTEGER)];
  }
  if ("at" in choice) {
    const at = choice.at;
    if (at === null) {
      return ["at", undefined];
    }
    return ["at", args.millis(at instanceof Date ? at.getTime() : at, "expires.at")];
  }
  throw new TypeError('expires must be "never", { days }, or { at }');
}

/** The members of a requested scope; a malformed one is `SCOPE_INVALID`. */
function requestedScope(scope: unknown): [string | undefined, string[] | undefined, string[] | undefined] {
  return scopeMembers(scope, (why) => new TokenError("SCOPE_INVALID", why));
}

/**
 * Issues, verifies, lists, edits, rotates and deletes user API tokens over
 * a store. All token logic runs in the compiled Rust core; this class moves
 * data between it, the clock, the random source and the store.
 *
 * ```ts
 * const tokens = new TokenService({ prefix: "tsr", catalog, store: new MemoryStore() });
 * const { token } = await tokens.issue({ userId: "u1", name: "CI", scope: { preset: "read" } });
 * const principal = await tokens.verify(`Bearer ${token}`, { action: "apps.read" });
 * ```
 */
export class TokenService {
  readonly #deployment: Deployment;
  readonly #store: TokenStore;
  readonly #memory: MemoryFastPath | undefined;
  readonly #now: () => number;
  readonly #entropy: (bytes: Uint8Array) => void;
  readonly #prefix: string;
  readonly #limited: boolean;

  /** Checks the options and builds the deployment; throws `TypeError`, `RangeError` or `TokenError`. */
  constructor(options: TokenServiceOptions) {
    const o = args.object(options, "options");
    const prefix = args.string(o.prefix, "prefix");
    if (!Array.isArray(o.catalog)) {
      throw new TypeError("catalog must be an array of { action, kinds }");
    }
    const catalog = o.catalog.map((entry: unknown, i: number) => {
      const e = args.object(entry, `catalog[${i}]`);
      const kinds = e.kinds ?? [];
      if (!Array.isArray(kinds) || !kinds.every((k) => typeof k === "string")) {
        throw new TypeError(`catalog[${i}].kinds must be an array of strings`);
      }
      return { action: args.string(e.action, `catalog[${i}].action`), kinds };
    });
    const store = args.object(o.store, "store") as unknown as TokenStore;
    for (const method of ["getByHash", "getById", "put", "delete", "listByUser", "touch"] as const) {
      args.func(store[method], `store.${method}`);
    }
    const policy = o.policy === undefined ? {} : args.object(o.policy, "policy");
    for (const key of Object.keys(policy)) {
      if (!["allowNonExpiring", "maxLifetimeDays", "maxTokensPerUser"].includes(key)) {
        throw new TypeError(`policy has no option ${key}`);
      }
    }
    if (policy.allowNonExpiring !== undefined && typeof policy.allowNonExpiring !== "boolean") {
      throw new TypeError("policy.allowNonExpiring must be a boolean");
    }
    const allowNonExpiring = policy.allowNonExpiring ?? true;
    const limit = (key: "maxLifetimeDays" | "maxTokensPerUser"): number | undefined => {
      if (policy[key] === undefined) return undefined;
      const value = args.integer(policy[key], `policy.${key}`, 1);
      if (value > 0xffff_ffff) throw new RangeError(`policy.${key} must be at most 2^32 - 1`);
      return value;
    };
    const maxLifetimeDays = limit("maxLifetimeDays");
    const maxTokensPerUser = limit("maxTokensPerUser");
    let pepper: string | undefined;
    if (o.pepper !== undefined) {
      if (!(o.pepper instanceof Uint8Array)) {
        throw new TypeError("pepper must be a Uint8Array");
      }
      pepper = args.hex(o.pepper);
    }
    const creationAction =
      o.creationAction === undefined ? undefined : args.string(o.creationAction, "creationAction");
    this.#now = o.now === undefined ? Date.now : args.func<() => number>(o.now, "now");
    this.#entropy =
      o.entropy === undefined ? randomSource() : args.func<(bytes: Uint8Array) => void>(o.entropy, "entropy");
    this.#deployment = call(
      () =>
        new Deployment(
          prefix,
          catalog.map((entry) => entry.action),
          Uint32Array.from(catalog, (entry) => entry.kinds.length),
          catalog.flatMap((entry) => entry.kinds as string[]),
          allowNonExpiring,
          maxLifetimeDays,
          maxTokensPerUser,
          pepper,
          creationAction,
        ),
    );
    this.#store = store;
    this.#memory = memoryFastPath(store);
    this.#prefix = prefix;
    this.#limited = maxTokensPerUser !== undefined;
  }

  /** The clock's reading, checked. */
  #time(): number {
    return args.millis(this.#now(), "now()");
  }

  /** 32 fresh bytes from the entropy source. */
  #random(): Uint8Array {
    const bytes = new Uint8Array(32);
    this.#entropy(bytes);
    return bytes;
  }

  /** Runs a store operation, turning any failure into `STORE_FAILED`. */
  async #stored<T>(run: () => T | Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      const error = denialError("STORE_FAILED");
      (error as Error & { cause?: unknown }).cause = cause;
      throw error;
    }
  }

  /** The record with `id`, or `NOT_FOUND`. */
  async #record(id: string): Promise<StoredRecord> {
    args.string(id, "id");
    const record = await this.#stored(() => this.#store.getById(id));
    if (record == null) {
      throw new TokenError("NOT_FOUND", "no token has this id");
    }
    return record;
  }

  /**
   * What lists show of a record from the store, read through the core (so a
   * corrupt record is `RECORD_INVALID`, never half-shown).
   */
  #info(record: StoredRecord): TokenInfo {
    return JSON.parse(withRecord(record, (checked) => checked.info())) as TokenInfo;
  }

  /** What lists show of a record the core has just written: all but the hash. */
  #fresh(record: StoredRecord): TokenInfo {
    const { hash: _hash, ...info } = record;
    return info;
  }

  /**
   * Issues a token and stores its record. Returns the token, to show once,
   * and what lists show of the record. Throws `TokenError` with codes such
   * as `SCOPE_INVALID`, `EXPIRY_EXCEEDS_POLICY`, `LIMIT_REACHED` or, for a
   * token made by a token, `SCOPE_EXCEEDS_PARENT`.
   */
  async issue(request: IssueRequest): Promise<Issued> {
    const r = args.object(request, "request");
    const userId = args.string(r.userId, "userId");
    const name = args.string(r.name, "name");
    const description = r.description == null ? undefined : args.string(r.description, "description");
    const [expiry, expiryValue] = expiryArgs(r.expires);
    const [preset, actions, resources] = requestedScope(r.scope);
    const now = this.#time();
    let parentToken: string | undefined;
    let parent: StoredRecord | null | undefined;
    if (r.parentToken !== undefined) {
      parentToken = args.string(r.parentToken, "parentToken");
      const key = this.#deployment.lookup_key(parentToken);
      if (key.length !== 64) {
        throw denialError(key as TokenErrorCode);
      }
      parent = await this.#stored(() => this.#store.getByHash(key));
    }
    let tokensHeld = 0;
    if (this.#limited) {
      const store = this.#store;
      tokensHeld = await this.#stored(async () =>
        store.countByUser ? await store.countByUser(userId) : (await store.listByUser(userId)).length,
      );
    }
    const entropy = this.#random();
    const issue = (parentRecord: WasmRecord | undefined) =>
      this.#deployment.issue(
        userId,
        name,
        description,
        expiry,
        expiryValue,
        preset,
        actions,
        resources,
        tokensHeld,
        parentToken,
        parentRecord,
        now,
        entropy,
      );
    const json = call(() => (parent == null ? issue(undefined) : issue(toRecord(parent))));
    entropy.fill(0);
    const out = JSON.parse(json) as { token: string; record: StoredRecord };
    await this.#stored(() => this.#store.put(out.record));
    return { token: out.token, record: this.#fresh(out.record) };
  }

  /**
   * Checks a token for a request without throwing for a denial: the form
   * for hot paths and attack traffic. `header` is the raw `Authorization`
   * value (`Bearer <t>`, `UserToken <t>`) or a bare token; `null` (no
   * header) is `TOKEN_MALFORMED`. A store that fails yields `STORE_FAILED`,
   * never a principal. Last-used is written at most once a minute per token.
   */
  async check(header: string | null | undefined, request: VerifyRequest): Promise<CheckResult> {
    return this.#check(header, request);
  }

  /** `check`, synchronous when the store is a `MemoryStore`. */
  #check(header: string | null | undefined, request: VerifyRequest): CheckResult | Promise<CheckResult> {
    if (typeof header !== "string") {
      if (header == null) {
        return deny("TOKEN_MALFORMED");
      }
      throw new TypeError("the header must be a string, null or undefined");
    }
    if (typeof request !== "object" || request === null || typeof request.action !== "string") {
      throw new TypeError("the request must be an object with a string action");
    }
    const resource = request.resource ?? undefined;
    if (resource !== undefined && typeof resource !== "string") {
      throw new TypeError("the request's resource must be a string");
    }
    const now = this.#time();
    const memory = this.#memory;
    if (memory !== undefined) {
      const slot = this.#deployment.verify_indexed(memory.index, header, request.action, resource, now);
      if (slot < 0) {
        return deny(codeAt(slot));
      }
      const principal = memory.principal(slot);
      return principal === undefined ? deny("STORE_FAILED") : { ok: true, principal };
    }
    return this.#checkStored(header, request.action, resource, now);
  }

  /** `check` through the store's interface. */
  async #checkStored(header: string, action: string, resource: string | undefined, now: number): Promise<CheckResult> {
    const key = this.#deployment.lookup_key(header);
    if (key.length !== 64) {
      return deny(key as TokenErrorCode);
    }
    let record: StoredRecord | null | undefined;
    try {
      record = await this.#store.getByHash(key);
    } catch {
      return deny("STORE_FAILED");
    }
    let checked: WasmRecord | undefined;
    try {
      checked = record == null ? undefined : toRecord(record);
    } catch (error) {
      return deny(error instanceof TokenError ? error.code : "RECORD_INVALID");
    }
    // The record is handed over (and freed) by the call.
    const result = this.#deployment.verify_record(header, checked, action, resource, now);
    if (result < 0 || record == null) {
      return deny(result < 0 ? codeAt(result) : "TOKEN_UNKNOWN");
    }
    if (result === 1) {
      try {
        await this.#store.touch(record.id, now);
      } catch {
        return deny("STORE_FAILED");
      }
    }
    return { ok: true, principal: principalOf(record) };
  }

  /**
   * Verifies a token for a request: the principal, or a thrown `TokenError`
   * (`TOKEN_MALFORMED`, `TOKEN_UNKNOWN`, `TOKEN_EXPIRED`, … → answer 401;
   * `SCOPE_DENIED` → 403; `STORE_FAILED` → 503). `check` without the throw.
   */
  async verify(header: string | null | undefined, request: VerifyRequest): Promise<Principal> {
    const result = await this.#check(header, request);
    if (result.ok) {
      return result.principal;
    }
    throw denialError(result.code);
  }

  /** What lists show of the token with `id`, or `null`. */
  async get(id: string): Promise<TokenInfo | null> {
    args.string(id, "id");
    const record = await this.#stored(() => this.#store.getById(id));
    return record == null ? null : this.#info(record);
  }

  /** The user's tokens, oldest first: metadata and hints, never tokens or hashes. */
  async list(userId: string): Promise<TokenInfo[]> {
    args.string(userId, "userId");
    const records = await this.#stored(() => this.#store.listByUser(userId));
    return this.#sorted(records);
  }

  /** Activates or deactivates a token; an inactive token is refused until reactivated. */
  async setStatus(id: string, status: "active" | "inactive"): Promise<TokenInfo> {
    if (status !== "active" && status !== "inactive") {
      throw new TypeError('status must be "active" or "inactive"');
    }
    const record = await this.#record(id);
    const edited = JSON.parse(
      withRecord(record, (checked) => {
        call(() => checked.set_status(status));
        return checked.json();
      }),
    ) as StoredRecord;
    await this.#stored(() => this.#store.put(edited));
    return this.#fresh(edited);
  }

  /**
   * Renames a token and/or replaces its description (`null` or `""` removes
   * it). Nothing else about a token can change.
   */
  async rename(id: string, changes: { name?: string; description?: string | null }): Promise<TokenInfo> {
    const c = args.object(changes, "changes");
    const name = c.name === undefined ? undefined : args.string(c.name, "name");
    const describe = "description" in c && c.description !== undefined;
    const description = c.description == null ? undefined : args.string(c.description, "description");
    const record = await this.#record(id);
    const edited = JSON.parse(
      withRecord(record, (checked) => {
        call(() => checked.edit(name, describe, description));
        return checked.json();
      }),
    ) as StoredRecord;
    await this.#stored(() => this.#store.put(edited));
    return this.#fresh(edited);
  }

  /**
   * Rotates a token: a new token with the same owner, name, scope and
   * lifetime; the old one keeps working for the grace period (default 0).
   * Returns the new token, to show once.
   */
  async rotate(id: string, options: { graceSeconds?: number; graceMs?: number } = {}): Promise<Issued> {
    const o = args.object(options, "options");
    let graceMs = 0;
    if (o.graceMs !== undefined) {
      graceMs = args.integer(o.graceMs, "graceMs", Number.MIN_SAFE_INTEGER);
    } else if (o.graceSeconds !== undefined) {
      graceMs = args.integer(o.graceSeconds, "graceSeconds", Number.MIN_SAFE_INTEGER) * 1000;
    }
    const record = await this.#record(id);
    const now = this.#time();
    const entropy = this.#random();
    const json = withRecord(record, (checked) => call(() => this.#deployment.rotate(checked, graceMs, now, entropy)));
    entropy.fill(0);
    const out = JSON.parse(json) as { token: string; record: StoredRecord; retired: StoredRecord };
    // The new record first: if the second write is lost, the old token only
    // keeps its original expiry.
    await this.#stored(() => this.#store.put(out.record));
    await this.#stored(() => this.#store.put(out.retired));
    return { token: out.token, record: this.#fresh(out.record) };
  }

  /** Deletes a token for good; whether there was one. */
  async delete(id: string): Promise<boolean> {
    args.string(id, "id");
    return this.#stored(() => this.#store.delete(id));
  }

  /** The user's tokens that are valid now but expire within the window. */
  async expiringWithin(userId: string, window: { days?: number; ms?: number }): Promise<TokenInfo[]> {
    args.string(userId, "userId");
    const w = args.object(window, "window");
    const ms = w.ms !== undefined ? args.integer(w.ms, "ms", 0) : args.integer(w.days, "days", 0) * 86_400_000;
    const now = this.#time();
    const records = await this.#stored(() => this.#store.listByUser(userId));
    return this.#sorted(
      records.filter((record) => withRecord(record, (checked) => checked.expires_within(now, ms))),
    );
  }

  /** What lists show of the records, oldest first. */
  #sorted(records: StoredRecord[]): TokenInfo[] {
    return records
      .map((record) => this.#info(record))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Whether every request scope `a` allows, scope `b` allows, under this
   * deployment's catalog and every catalog it may grow into. Both are
   * checked against the catalog (`SCOPE_INVALID`).
   */
  isSubset(a: ScopeSpec, b: ScopeSpec): boolean {
    const [aPreset, aActions, aResources] = requestedScope(a);
    const [bPreset, bActions, bResources] = requestedScope(b);
    return call(() => this.#deployment.is_subset(aPreset, aActions, aResources, bPreset, bActions, bResources));
  }

  /** Shows the prefix only: never the pepper. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `TokenService { prefix: '${this.#prefix}' }`;
  }
}
