import * as args from "./args.js";
import type { TokenErrorCode } from "./codes.js";
import { isConflict } from "./conflict.js";
import { TokenError, call, denialError } from "./errors.js";
import { type MemoryFastPath, isPrincipal, memoryFastPath, principalOf, verifiedFrom } from "./memory-store.js";
import { randomSource } from "./random.js";
import type { TokenStore } from "./store.js";
import { codeAt } from "./token.js";
import type {
  Actor,
  CatalogEntry,
  CheckResult,
  IssueRequest,
  Issued,
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
import {
  type StoredMembers,
  joinedLists,
  joinedMembers,
  scopeMembers,
  storedMembers,
  stringList,
  toRecord,
} from "./record.js";
import { Deployment, Owner, RecordSet, rfc3339_millis } from "./wasm.js";

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
  /**
   * Told of failures that do not fail the operation: a last-used write that
   * failed after a valid verification (the token is still accepted). The
   * error never holds a token. Ignored by default.
   */
  onError?: (error: unknown, context: { operation: "touch"; tokenId: string }) => void;
}

/** How many times a lifecycle operation is tried when its records keep changing under it. */
const MAX_ATTEMPTS = 8;

/** Denials as frozen results, so that refusing allocates nothing. */
const denied = new Map<TokenErrorCode, CheckResult>();

/** A store's owner standing as the core takes it; anything else is `RECORD_INVALID`. */
function toOwner(standing: unknown): Owner {
  const s = standing as { [key: string]: unknown } | null;
  if (
    typeof s !== "object" ||
    s === null ||
    typeof s.admin !== "boolean" ||
    typeof s.tokens !== "string" ||
    typeof s.membersEnabled !== "boolean"
  ) {
    throw new TokenError("RECORD_INVALID", "an owner standing is { admin, tokens, membersEnabled }");
  }
  return call(() => new Owner(s.admin as boolean, s.tokens as string, s.membersEnabled as boolean));
}

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
    if (typeof at === "string") {
      // RFC 3339 text, read by the core's parser, as on every surface.
      const millis = rfc3339_millis(at);
      if (millis === undefined) {
        throw new TypeError("expires.at must be an RFC 3339 time, such as 2027-01-15T08:00:00Z");
      }
      return ["at", millis];
    }
    return ["at", args.millis(at instanceof Date ? at.getTime() : at, "expires.at")];
  }
  throw new TypeError('expires must be "never", { days }, or { at }');
}

/** The `cascade` option, checked. */
function cascadeOption(options: unknown): boolean {
  const o = args.object(options, "options");
  if (o.cascade !== undefined && typeof o.cascade !== "boolean") {
    throw new TypeError("cascade must be a boolean");
  }
  return o.cascade === true;
}

/** The id a write changes. */
function writeId(write: StoreWrite): string {
  return "put" in write ? write.put.id : write.delete;
}

/**
 * The user id and, for a token, the token id of an actor and the client
 * address it was verified from.
 */
function actorOf(actor: unknown): [string, string | undefined, string | undefined] {
  if (typeof actor === "string") {
    return [actor, undefined, undefined];
  }
  if (isPrincipal(actor)) {
    return [actor.userId, actor.tokenId, actor.ip];
  }
  throw new TypeError("the actor must be a user id or a principal that verify or check returned");
}

/** A request's client address: a string, or none; the core parses it. */
function clientIp(ip: unknown): string | undefined {
  if (ip == null) return undefined;
  if (typeof ip !== "string") throw new TypeError("the request's ip must be a string");
  return ip;
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
 * const { token } = await tokens.issue("u1", { name: "CI", scope: { preset: "read" } });
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
  readonly #onError: (error: unknown, context: { operation: "touch"; tokenId: string }) => void;

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
      // Zero passes through: the core refuses it with POLICY_INVALID, as on
      // every surface.
      const value = args.integer(policy[key], `policy.${key}`, 0);
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
    this.#onError =
      o.onError === undefined
        ? () => undefined
        : args.func<(error: unknown, context: { operation: "touch"; tokenId: string }) => void>(o.onError, "onError");
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

  /**
   * Runs a lifecycle operation for `actor` over the records of the actor's
   * user, read through the core (a corrupt record is `RECORD_INVALID`,
   * never half-read). The core decides; this only moves data.
   */
  async #acting<T>(
    actor: Actor,
    run: (set: RecordSet, userId: string, tokenId: string | undefined, ip: string | undefined) => string,
    read: (json: string) => T,
    seen?: (records: StoredRecord[]) => void,
  ): Promise<T> {
    const memory = this.#memory;
    if (memory !== undefined && seen === undefined) {
      return this.#actingIndexed(memory, actor, run, read);
    }
    const [userId, tokenId, ip] = actorOf(actor);
    args.string(userId, "userId");
    const records = await this.#stored(() => this.#store.listByUser(userId));
    if (!Array.isArray(records)) {
      throw denialError("STORE_FAILED");
    }
    seen?.(records);
    const set = new RecordSet();
    try {
      for (const record of records) {
        set.push(toRecord(record));
      }
      return read(call(() => run(set, userId, tokenId, ip)));
    } finally {
      set.free();
    }
  }

  /**
   * `#acting` over a `MemoryStore`: the set shares the records of its index
   * inside the module (no JSON, no record crossing one by one), and the
   * operation runs at once, without yielding.
   */
  #actingIndexed<T>(
    memory: MemoryFastPath,
    actor: Actor,
    run: (set: RecordSet, userId: string, tokenId: string | undefined, ip: string | undefined) => string,
    read: (json: string) => T,
  ): T {
    const [userId, tokenId, ip] = actorOf(actor);
    args.string(userId, "userId");
    const set = memory.index.user_set(userId);
    try {
      return read(call(() => run(set, userId, tokenId, ip)));
    } finally {
      set.free();
    }
  }

  /**
   * Runs a lifecycle operation that writes: reads the actor's user's
   * records, lets the core decide, and applies its writes, each carrying the
   * record it replaces as read. When the store reports that one changed in
   * between (`STORE_CONFLICT`), the operation starts again from a fresh
   * read, at most `MAX_ATTEMPTS` times.
   */
  async #changing<T>(
    actor: Actor,
    run: (set: RecordSet, userId: string, tokenId: string | undefined, ip: string | undefined) => string,
    read: (json: string) => T,
    writesOf: (out: T) => StoreWrite[],
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let out: T;
      let writes: StoreWrite[];
      const memory = this.#memory;
      if (memory !== undefined) {
        // A MemoryStore: decided and each write's record-as-read noted in
        // one synchronous stretch, so nothing can change in between.
        out = this.#actingIndexed(memory, actor, run, read);
        writes = writesOf(out).map((write) => ({ ...write, expected: memory.storedNow(writeId(write)) }));
      } else {
        let before = new Map<string, StoredRecord>();
        out = await this.#acting(actor, run, read, (records) => {
          before = new Map(records.map((record) => [record.id, record]));
        });
        writes = writesOf(out).map((write) => ({ ...write, expected: before.get(writeId(write)) ?? null }));
      }
      try {
        await this.#apply(writes);
        return out;
      } catch (error) {
        const conflict = error instanceof TokenError && isConflict((error as { cause?: unknown }).cause);
        if (!conflict || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** Applies an operation's writes: at once when the store can, else in order. */
  async #apply(writes: StoreWrite[]): Promise<void> {
    const store = this.#store;
    if (typeof store.apply === "function") {
      await this.#stored(() => store.apply?.(writes));
      return;
    }
    for (const [i, write] of writes.entries()) {
      try {
        if ("put" in write) {
          await this.#stored(() => store.put(write.put, write.expected));
        } else {
          await this.#stored(() => store.delete(write.delete, write.expected));
        }
      } catch (error) {
        if (i === 0) throw error;
        // Earlier writes were made: not a conflict to retry over them.
        const partial = denialError("STORE_FAILED");
        (partial as Error & { cause?: unknown }).cause = new Error(
          `the store failed after ${i} of the operation's ${writes.length} writes (it has no apply)`,
          { cause: (error as { cause?: unknown }).cause ?? error },
        );
        throw partial;
      }
    }
  }

  /**
   * Issues a token for the actor's user and stores its record; a token
   * actor becomes its parent, which it may not exceed. Returns the token, to
   * show once, and what lists show of the record. Throws `TokenError` with
   * codes such as `SCOPE_INVALID`, `EXPIRY_EXCEEDS_POLICY`, `LIMIT_REACHED`
   * or, for a token actor, `SCOPE_EXCEEDS_PARENT` and `PARENT_INVALID`.
   */
  async issue(actor: Actor, request: IssueRequest): Promise<Issued> {
    const r = args.object(request, "request");
    const name = args.string(r.name, "name");
    const description = r.description == null ? undefined : args.string(r.description, "description");
    const [expiry, expiryValue] = expiryArgs(r.expires);
    const [preset, actions, resources] = requestedScope(r.scope);
    const allowedIps = stringList(r.allowedIps, (why) => new TokenError("IPS_INVALID", why), "allowedIps");
    const now = this.#time();
    // The request crosses as flat arguments, each list joined (see
    // `joinedLists`): no object is made in the module and freed again. Both
    // ways of issuing take them in this order.
    const flat = [
      name,
      description,
      expiry,
      expiryValue,
      preset,
      joinedLists(actions, resources),
      actions?.length ?? -1,
      resources?.length ?? -1,
      allowedIps.join("\n"),
      allowedIps.length,
    ] as const;
    const entropy = new Uint8Array(32);
    try {
      this.#entropy(entropy);
      const memory = this.#memory;
      if (memory !== undefined) {
        // A MemoryStore: the user's records are read, and the new one
        // stored, inside the module in the same call.
        const [userId, tokenId, ip] = actorOf(actor);
        args.string(userId, "userId");
        const out = JSON.parse(
          call(() =>
            this.#deployment.issue_indexed(memory.index, userId, tokenId, ip, ...flat, now, entropy),
          ),
        ) as Issued & { slot: number };
        memory.stored(out.slot);
        return { token: out.token, record: out.record };
      }
      const out = await this.#changing(
        actor,
        (set, userId, tokenId, ip) => this.#deployment.issue(set, userId, tokenId, ip, ...flat, now, entropy),
        (json) => JSON.parse(json) as Issued & { writes: StoreWrite[] },
        (out) => out.writes,
      );
      return { token: out.token, record: out.record };
    } finally {
      entropy.fill(0);
    }
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
    const ip = clientIp(request.ip);
    const now = this.#time();
    const memory = this.#memory;
    if (memory !== undefined) {
      const slot = this.#deployment.verify_indexed(memory.index, header, request.action, resource, ip, now);
      if (slot < 0) {
        return deny(codeAt(slot));
      }
      const principal = memory.principal(slot);
      return principal === undefined ? deny("STORE_FAILED") : { ok: true, principal: verifiedFrom(principal, ip) };
    }
    return this.#checkStored(header, request.action, resource, ip, now);
  }

  /**
   * Authenticates a token whatever its scope: the principal of any active,
   * unexpired token, or a thrown `TokenError` (401 codes, `STORE_FAILED`).
   * Use it for a token that acts on tokens (`issue`, `rotate`, `update`,
   * `delete`, …), where the core decides what its scope allows; use
   * `verify` for everything else. `options.ip` is the client's address, as
   * for `verify`: a token with allowed IPs is refused without it.
   */
  async authenticate(header: string | null | undefined, options?: { ip?: string | null }): Promise<Principal> {
    const ip = clientIp(options == null ? undefined : args.object(options, "options").ip);
    const result = await this.#checkStored(header, undefined, undefined, ip, this.#time());
    if (result.ok) {
      return result.principal;
    }
    throw denialError(result.code);
  }

  /** `check` through the store's interface; without an action, only authenticates. */
  async #checkStored(
    header: string | null | undefined,
    action: string | undefined,
    resource: string | undefined,
    ip: string | undefined,
    now: number,
  ): Promise<CheckResult> {
    if (typeof header !== "string") {
      if (header == null) {
        return deny("TOKEN_MALFORMED");
      }
      throw new TypeError("the header must be a string, null or undefined");
    }
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
    let standing: unknown;
    if (record != null && this.#store.ownerOf !== undefined) {
      try {
        standing = await this.#store.ownerOf(record);
      } catch {
        return deny("STORE_FAILED");
      }
    }
    let members: StoredMembers | undefined;
    let owner: Owner | undefined;
    try {
      owner = standing === undefined ? undefined : toOwner(standing);
      members = record == null ? undefined : storedMembers(record);
    } catch (error) {
      owner?.free();
      return deny(error instanceof TokenError ? error.code : "RECORD_INVALID");
    }
    // The owner is handed over (and freed) by the call. Only what the core
    // decides from crosses into it; the principal is read from the record.
    const j = members === undefined ? undefined : joinedMembers(members);
    const result = this.#deployment.check_stored(
      j === undefined ? key : `${key}\n${j.text}`,
      j !== undefined,
      members?.expiresAt,
      members?.lastUsedAt,
      j?.preset ?? false,
      j?.actions ?? -1,
      j?.resources ?? -1,
      j?.allowedIps ?? 0,
      owner,
      action,
      resource,
      ip,
      now,
    );
    if (result < 0 || record == null) {
      return deny(result < 0 ? codeAt(result) : "TOKEN_UNKNOWN");
    }
    if (result === 1) {
      try {
        await this.#store.touch(record.id, now);
      } catch (error) {
        // A lost last-used write never refuses a valid token.
        this.#report(error, record.id);
      }
    }
    return { ok: true, principal: verifiedFrom(principalOf(record), ip) };
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

  /** Tells `onError` of a failed last-used write; its own failure is ignored. */
  #report(error: unknown, tokenId: string): void {
    try {
      this.#onError(error, { operation: "touch", tokenId });
    } catch {
      // The reporter failing must not fail the verification either.
    }
  }

  /**
   * What lists show of one of the actor's user's tokens. Another user's
   * token, or none, is `NOT_FOUND`; a token actor needs the read action.
   */
  async get(actor: Actor, id: string): Promise<TokenInfo> {
    args.string(id, "id");
    const now = this.#time();
    return this.#acting(
      actor,
      (set, userId, tokenId, ip) => this.#deployment.get(set, userId, tokenId, ip, id, now),
      (json) => JSON.parse(json) as TokenInfo,
    );
  }

  /** The actor's user's tokens, oldest first: metadata and hints, never tokens or hashes. */
  async list(actor: Actor): Promise<TokenInfo[]> {
    const now = this.#time();
    return this.#acting(
      actor,
      (set, userId, tokenId, ip) => this.#deployment.list(set, userId, tokenId, ip, undefined, now),
      (json) => JSON.parse(json) as TokenInfo[],
    );
  }

  /**
   * Changes a token's name, description or status. With `cascade`, a
   * deactivation also deactivates every token the target created, directly
   * or transitively; re-activation never cascades. A token actor may only
   * change tokens within its reach, but may always deactivate itself.
   */
  async update(actor: Actor, id: string, changes: TokenChanges, options: { cascade?: boolean } = {}): Promise<Updated> {
    args.string(id, "id");
    const c = args.object(changes, "changes");
    for (const key of Object.keys(c)) {
      if (key !== "name" && key !== "description" && key !== "status") {
        throw new TypeError(`${key} cannot change: only name, description and status can`);
      }
    }
    const name = c.name === undefined ? undefined : args.string(c.name, "name");
    const describe = c.description !== undefined;
    const description = c.description == null ? undefined : args.string(c.description, "description");
    const status = c.status;
    if (status !== undefined && status !== "active" && status !== "inactive") {
      throw new TypeError('status must be "active" or "inactive"');
    }
    const cascade = cascadeOption(options);
    const now = this.#time();
    const out = await this.#changing(
      actor,
      (set, userId, tokenId, ip) =>
        this.#deployment.update(set, userId, tokenId, ip, id, name, describe, description, status, cascade, now),
      (json) => JSON.parse(json) as { record: TokenInfo; writes: StoreWrite[] },
      (out) => out.writes,
    );
    return { record: out.record, affected: out.writes.map(writeId) };
  }

  /** Activates or deactivates a token: `update` with a status. */
  async setStatus(
    actor: Actor,
    id: string,
    status: "active" | "inactive",
    options: { cascade?: boolean } = {},
  ): Promise<TokenInfo> {
    return (await this.update(actor, id, { status }, options)).record;
  }

  /** Renames a token and/or replaces its description: `update` without a status. */
  async rename(actor: Actor, id: string, changes: { name?: string; description?: string | null }): Promise<TokenInfo> {
    const c = args.object(changes, "changes");
    if ("status" in c) {
      throw new TypeError("rename changes name and description only; use setStatus");
    }
    return (await this.update(actor, id, c as TokenChanges)).record;
  }

  /**
   * Rotates a token: a new token with the same owner, name, scope and
   * lifetime; the old one keeps working for the grace period (default 0)
   * and cannot be rotated again meanwhile (`TOKEN_ROTATED`). Rotation is a
   * creation: a token actor needs the creation action, and the new token
   * never outlives it. Returns the new token, to show once.
   */
  async rotate(actor: Actor, id: string, options: { graceSeconds?: number; graceMs?: number } = {}): Promise<Issued> {
    args.string(id, "id");
    const o = args.object(options, "options");
    let graceMs = 0;
    if (o.graceMs !== undefined) {
      graceMs = args.integer(o.graceMs, "graceMs", Number.MIN_SAFE_INTEGER);
    } else if (o.graceSeconds !== undefined) {
      graceMs = args.integer(o.graceSeconds, "graceSeconds", Number.MIN_SAFE_INTEGER) * 1000;
    }
    const now = this.#time();
    const entropy = this.#random();
    try {
      const out = await this.#changing(
        actor,
        (set, userId, tokenId, ip) => this.#deployment.rotate(set, userId, tokenId, ip, id, graceMs, now, entropy),
        (json) => JSON.parse(json) as Issued & { writes: StoreWrite[] },
        (out) => out.writes,
      );
      return { token: out.token, record: out.record };
    } finally {
      entropy.fill(0);
    }
  }

  /**
   * Deletes a token for good; with `cascade`, every token it created too.
   * Returns the deleted ids, the target's first. A token may always delete
   * itself.
   */
  async delete(actor: Actor, id: string, options: { cascade?: boolean } = {}): Promise<string[]> {
    args.string(id, "id");
    const cascade = cascadeOption(options);
    const now = this.#time();
    const writes = await this.#changing(
      actor,
      (set, userId, tokenId, ip) => this.#deployment.delete(set, userId, tokenId, ip, id, cascade, now),
      (json) => JSON.parse(json) as StoreWrite[],
      (writes) => writes,
    );
    return writes.map(writeId);
  }

  /** The actor's user's tokens that are valid now but expire within the window, oldest first. */
  async expiringWithin(actor: Actor, window: { days?: number; ms?: number }): Promise<TokenInfo[]> {
    const w = args.object(window, "window");
    const ms = w.ms !== undefined ? args.integer(w.ms, "ms", 0) : args.integer(w.days, "days", 0) * 86_400_000;
    const now = this.#time();
    return this.#acting(
      actor,
      (set, userId, tokenId, ip) => this.#deployment.list(set, userId, tokenId, ip, ms, now),
      (json) => JSON.parse(json) as TokenInfo[],
    );
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
