/**
 * `tessera-tokens/remote`: a read-only `TokenStore` for edge workers in
 * front of a `tessera-host`. It asks the token service for the record
 * stored under a token's hash (`GET /api/introspect/{hash}`, with the
 * service credential), keeps answers in memory for a bounded time, and reads
 * the service's revocation feed (`GET /api/revocations`) so that a deleted,
 * deactivated or rotated token is refused within `feedIntervalMs` of the
 * service acknowledging the change, as the Envoy filter does.
 *
 * It has no runtime imports and uses only `fetch`, so it works in
 * Cloudflare Workers, Vercel Edge, Deno, Bun and Node. The token never
 * leaves the worker: only its hash does.
 *
 * @packageDocumentation
 */
import { timeoutOption, withDeadline } from "./deadline.js";
import { HASH, wholeOption } from "./store-checks.js";
import type { TokenStore } from "./store.js";
import type { OwnerStanding, StoreWrite, StoredRecord } from "./types.js";

/** The `fetch` the store calls: the global one, or a service binding's. */
export type Fetch = (input: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
  status: number;
  json(): Promise<unknown>;
  text(): Promise<string>;
}>;

/** Options of an `IntrospectionStore`. */
export interface IntrospectionStoreOptions {
  /**
   * The token service's base URL, such as `https://tokens.example.com`.
   * `http:` is accepted only for loopback addresses (the credential travels
   * with every request).
   */
  url: string;
  /** The service credential the host was started with (`--introspection-secret-file`). */
  secret: string;
  /**
   * How often the revocation feed is read, in milliseconds; 1,000 by
   * default. A cached answer is used only while the feed was read within
   * this interval, so it bounds how long a revoked token is still accepted.
   */
  feedIntervalMs?: number;
  /**
   * The longest an answer is kept, in milliseconds; 300,000 by default. The
   * host's `cacheSeconds` bounds it too; 0 turns the cache off.
   */
  cacheMs?: number;
  /** How many answers are kept; 10,000 by default. */
  maxEntries?: number;
  /** How long a request to the service may take, in milliseconds; 5,000 by default. */
  timeoutMs?: number;
  /**
   * The `fetch` to call, as a plain function; the global `fetch` by
   * default. For a Workers service binding, pass
   * `(url, init) => env.TOKENS.fetch(url, init)`.
   */
  fetch?: Fetch;
}

/** A user's standing as the token service sends it, checked; undefined when malformed. */
function standingOf(value: unknown): OwnerStanding | undefined {
  const v = value as { [key: string]: unknown } | null;
  if (typeof v !== "object" || v === null) return undefined;
  const { admin, tokens, membersEnabled } = v;
  if (typeof admin !== "boolean" || typeof membersEnabled !== "boolean") return undefined;
  if (tokens !== "inherit" && tokens !== "on" && tokens !== "off") return undefined;
  return Object.freeze({ admin, tokens, membersEnabled });
}

/** A cached answer. */
interface Entry {
  /** The record as the service sent it, frozen throughout. */
  record: StoredRecord;
  /** When the answer stops being used, in milliseconds since the epoch. */
  until: number;
}

/** What one page of the revocation feed holds, checked. */
interface FeedPage {
  cursor: number;
  hashes: string[];
  reset: boolean;
  more: boolean;
}

/** The most pages one poll reads before answering (1,000 hashes each). */
const MAX_PAGES = 10;
/** The most uses one report carries (the host's limit). */
const MAX_USES = 10_000;

/**
 * `value` frozen throughout: cached records are handed out as they are,
 * and nobody may change what later lookups will get.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

/** Whether `hostname` names this machine (an `http:` URL is allowed only then). */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** A page of the feed, or an error for anything that is not one. */
function feedPage(body: unknown): FeedPage {
  const page = body as Partial<FeedPage> | null;
  if (
    typeof page !== "object" ||
    page === null ||
    typeof page.cursor !== "number" ||
    !Number.isSafeInteger(page.cursor) ||
    page.cursor < 0 ||
    !Array.isArray(page.hashes) ||
    !page.hashes.every((h) => typeof h === "string" && HASH.test(h)) ||
    typeof page.reset !== "boolean" ||
    typeof page.more !== "boolean"
  ) {
    throw new Error("the revocation feed answered something that is not a feed page");
  }
  return page as FeedPage;
}

/**
 * A read-only `TokenStore` that asks a `tessera-host` for records: for
 * `TokenService.verify`, `check` and `authenticate` in edge workers. Issue,
 * rotate and revoke stay with the host: the other methods reject (and the
 * service reports `STORE_FAILED`).
 *
 * ```ts
 * const store = new IntrospectionStore({ url: env.TOKENS_URL, secret: env.TOKENS_SECRET });
 * const tokens = new TokenService({ prefix: "tsr", catalog, store });
 * const principal = await tokens.verify(request.headers.get("Authorization"), { action: "apps.read" });
 * ctx.waitUntil(store.flush()); // report last uses to the host
 * ```
 *
 * The `TokenService` must use the host's deployment: the same prefix,
 * catalog and pepper (the host's `GET /api/catalog` lists its catalog).
 *
 * Consistency: an answer is used only while the feed was read within
 * `feedIntervalMs`, and an answer that left the host before a change the
 * feed reported is never used, so a token the host deleted, deactivated or
 * rotated away is refused within `feedIntervalMs` (plus one feed request)
 * of the host acknowledging it. While the feed cannot be read, nothing is
 * served from memory: every verification asks the host, and fails closed
 * (`STORE_FAILED`) when the host cannot answer.
 */
export class IntrospectionStore implements TokenStore {
  readonly #base: string;
  readonly #authorization: string;
  readonly #fetch: Fetch;
  readonly #feedIntervalMs: number;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #timeoutMs: number;
  /** Answers by hash, oldest first. */
  readonly #entries = new Map<string, Entry>();
  /**
   * The hash each cached record's id was cached under, for `touch`, which
   * gets an id. Entries may outlive their answer (then they miss); cleared
   * with the cache and whenever it outgrows it twice over.
   */
  readonly #hashOfId = new Map<string, string>();
  /**
   * The standing of each answered record's user, as the service sent it
   * with the record; `ownerOf` reads it for the core.
   */
  readonly #owners = new WeakMap<StoredRecord, OwnerStanding>();
  /** Last uses to report, by token id. */
  readonly #uses = new Map<string, number>();
  /** The feed's cursor; undefined until the first page. */
  #cursor: number | undefined;
  /** When the last successful feed read started; -Infinity while none counts. */
  #readAt = Number.NEGATIVE_INFINITY;
  /** Moves whenever answers are forgotten: an answer fetched before cannot be kept. */
  #epoch = 0;
  /** The feed read under way, shared by the lookups that wait for it. */
  #reading: Promise<boolean> | undefined;

  /** Checks the options; throws `TypeError` for a bad one. */
  constructor(options: IntrospectionStoreOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("options must be an object with url and secret");
    }
    if (typeof options.url !== "string") {
      throw new TypeError("url must be the token service's base URL");
    }
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError("url must be an absolute URL, such as https://tokens.example.com");
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
      throw new TypeError("url must use https: (http: only for a loopback address)");
    }
    if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
      throw new TypeError("url must be a base URL without query, fragment or credentials");
    }
    if (typeof options.secret !== "string" || options.secret.length < 16 || /[\r\n]/.test(options.secret)) {
      throw new TypeError("secret must be the service credential: at least 16 characters on one line");
    }
    const fetcher = options.fetch;
    if (fetcher !== undefined && typeof fetcher !== "function") {
      throw new TypeError("fetch must be a function, such as (url, init) => env.TOKENS.fetch(url, init)");
    }
    if (fetcher === undefined && typeof globalThis.fetch !== "function") {
      throw new TypeError("this runtime has no global fetch: pass the fetch option");
    }
    this.#base = url.href.replace(/\/+$/, "");
    this.#authorization = `Service ${options.secret}`;
    // Called as a plain function: workerd refuses a `fetch` called on
    // another object ("Illegal invocation").
    this.#fetch =
      fetcher ?? ((input, init) => (globalThis.fetch as unknown as Fetch)(input, init));
    this.#feedIntervalMs = wholeOption(options.feedIntervalMs, "feedIntervalMs", 1_000, 1, 3_600_000);
    this.#cacheMs = wholeOption(options.cacheMs, "cacheMs", 300_000, 0, 86_400_000);
    this.#maxEntries = wholeOption(options.maxEntries, "maxEntries", 10_000, 1, 10_000_000);
    this.#timeoutMs = timeoutOption(options.timeoutMs);
  }

  /** How many answers are in memory now. */
  get size(): number {
    return this.#entries.size;
  }

  /** One request to the service, bounded by the timeout; the parsed JSON and status. */
  async #request(method: string, path: string, body?: string): Promise<{ status: number; body: unknown }> {
    const abort = typeof AbortController === "function" ? new AbortController() : undefined;
    const headers: Record<string, string> = { authorization: this.#authorization, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const work = (async () => {
      const response = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(abort ? { signal: abort.signal } : {}),
      });
      if (response.status === 204) {
        return { status: 204, body: null };
      }
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text === "" ? null : JSON.parse(text);
      } catch {
        parsed = null;
      }
      return { status: response.status, body: parsed };
    })();
    try {
      return await withDeadline(work, this.#timeoutMs, "the token service");
    } catch (error) {
      abort?.abort();
      throw error;
    }
  }

  /** Forgets every answer (a reset, a failed feed read). */
  #forgetAll(): void {
    this.#entries.clear();
    this.#hashOfId.clear();
    this.#epoch++;
  }

  /**
   * Reads the feed from the cursor, forgetting what it names; whether the
   * cache may be trusted now. Also sends the last uses noted since.
   */
  async #readFeed(): Promise<boolean> {
    const startedAt = Date.now();
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const query = this.#cursor === undefined ? "" : `?after=${this.#cursor}`;
        const answer = await this.#request("GET", `/api/revocations${query}`);
        if (answer.status !== 200) {
          throw new Error(`the revocation feed answered ${answer.status}`);
        }
        const { cursor, hashes, reset, more } = feedPage(answer.body);
        if (reset) {
          this.#forgetAll();
        } else if (hashes.length > 0) {
          for (const hash of hashes) this.#entries.delete(hash);
          this.#epoch++;
        }
        this.#cursor = cursor;
        if (!more) {
          this.#readAt = startedAt;
          await this.#report();
          return true;
        }
      }
      // Still behind after MAX_PAGES: start over rather than trust a partial read.
      this.#cursor = undefined;
      this.#forgetAll();
      this.#readAt = Number.NEGATIVE_INFINITY;
      return false;
    } catch {
      this.#forgetAll();
      this.#readAt = Number.NEGATIVE_INFINITY;
      return false;
    }
  }

  /** Whether cached answers may be used now, reading the feed first when it is due. */
  async #fresh(): Promise<boolean> {
    if (this.#cacheMs === 0) return false;
    if (Date.now() - this.#readAt < this.#feedIntervalMs) return true;
    let reading = this.#reading;
    if (reading === undefined) {
      reading = this.#readFeed().finally(() => {
        this.#reading = undefined;
      });
      this.#reading = reading;
    }
    // A read shared with another request is bounded by this request's own
    // deadline too, so no lookup waits on it forever.
    try {
      return await withDeadline(reading, this.#timeoutMs, "the revocation feed");
    } catch {
      return false;
    }
  }

  /**
   * The record stored under `hash` on the host, if any: frozen, since
   * answers from memory are shared by every lookup of the token.
   */
  async getByHash(hash: string): Promise<StoredRecord | null> {
    if (typeof hash !== "string" || !HASH.test(hash)) {
      throw new TypeError("hash must be 64 lowercase hex digits");
    }
    const trusted = await this.#fresh();
    const now = Date.now();
    if (trusted) {
      const entry = this.#entries.get(hash);
      if (entry !== undefined) {
        if (entry.until > now) return entry.record;
        this.#entries.delete(hash);
      }
    }
    const epoch = this.#epoch;
    const answer = await this.#request("GET", `/api/introspect/${hash}`);
    if (answer.status === 404) {
      return null;
    }
    if (answer.status !== 200) {
      throw new Error(`introspection answered ${answer.status}`);
    }
    const body = answer.body as { record?: unknown; owner?: unknown; cacheSeconds?: unknown } | null;
    const record = body?.record as StoredRecord | undefined;
    const owner = standingOf(body?.owner);
    if (
      typeof record !== "object" ||
      record === null ||
      Array.isArray(record) ||
      record.hash !== hash ||
      owner === undefined
    ) {
      // Never a record for another hash, nor half of one, nor one without
      // its user's standing.
      throw new Error("introspection answered something that is not the record under this hash");
    }
    this.#owners.set(record, owner);
    const hostMs =
      typeof body?.cacheSeconds === "number" && body.cacheSeconds >= 0 ? body.cacheSeconds * 1000 : 0;
    const keepMs = Math.min(this.#cacheMs, hostMs);
    if (trusted && keepMs > 0 && epoch === this.#epoch) {
      const known = this.#uses.get(record.id);
      if (known !== undefined && (record.lastUsedAt ?? 0) < known) record.lastUsedAt = known;
      this.#entries.set(hash, { record: deepFreeze(record), until: now + keepMs });
      if (this.#hashOfId.size >= 2 * this.#maxEntries) this.#hashOfId.clear();
      this.#hashOfId.set(record.id, hash);
      if (this.#entries.size > this.#maxEntries) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
    }
    return record;
  }

  /**
   * The standing of the user of a record this store answered, as the token
   * service sent it: the core refuses a disabled user's token with it
   * (`TOKENS_DISABLED`), exactly as the host and the Envoy filter do.
   */
  ownerOf(record: StoredRecord): OwnerStanding | undefined {
    const owner = this.#owners.get(record);
    if (owner === undefined) {
      throw new Error("a record this store did not answer");
    }
    return owner;
  }

  /**
   * Notes a use of the token, sent to the host with the next feed read (or
   * `flush`), and keeps the cached answer's `lastUsedAt` in step so that
   * each token is reported at most once a minute.
   */
  touch(id: string, lastUsedAt: number): void {
    if (typeof id !== "string" || typeof lastUsedAt !== "number") return;
    const hash = this.#hashOfId.get(id);
    const entry = hash === undefined ? undefined : this.#entries.get(hash);
    if (entry !== undefined && entry.record.id === id) {
      const owner = this.#owners.get(entry.record);
      entry.record = Object.freeze({ ...entry.record, lastUsedAt });
      if (owner !== undefined) this.#owners.set(entry.record, owner);
    }
    if (!this.#uses.has(id) && this.#uses.size >= MAX_USES) {
      const oldest = this.#uses.keys().next().value;
      if (oldest !== undefined) this.#uses.delete(oldest);
    }
    this.#uses.set(id, Math.max(this.#uses.get(id) ?? 0, lastUsedAt));
  }

  /** Sends the noted last uses; those the host did not take are kept for the next time. */
  async #report(): Promise<void> {
    if (this.#uses.size === 0) return;
    const batch = [...this.#uses].slice(0, MAX_USES);
    try {
      const answer = await this.#request(
        "POST",
        "/api/last-used",
        JSON.stringify({ uses: batch.map(([id, at]) => ({ id, at })) }),
      );
      if (answer.status !== 204) return;
      for (const [id, at] of batch) {
        if (this.#uses.get(id) === at) this.#uses.delete(id);
      }
    } catch {
      // Kept for the next report; a lost last use never fails a verification.
    }
  }

  /**
   * Sends the last uses noted so far to the host. In a worker, pass it to
   * `ctx.waitUntil` after answering; it never rejects.
   */
  async flush(): Promise<void> {
    await this.#report();
  }

  #readOnly(operation: string): never {
    throw new Error(`IntrospectionStore is read-only: ${operation} happens on the token service`);
  }

  /** Rejects: records are found by hash only. */
  async getById(_id: string): Promise<StoredRecord | null> {
    return this.#readOnly("finding a token by id");
  }

  /** Rejects: issue and edit tokens on the token service. */
  async put(_record: StoredRecord): Promise<void> {
    this.#readOnly("storing a token");
  }

  /** Rejects: delete tokens on the token service. */
  async delete(_id: string): Promise<boolean> {
    return this.#readOnly("deleting a token");
  }

  /** Rejects: list a user's tokens on the token service. */
  async listByUser(_userId: string): Promise<StoredRecord[]> {
    return this.#readOnly("listing tokens");
  }

  /** Rejects: every lifecycle operation happens on the token service. */
  async apply(_writes: readonly StoreWrite[]): Promise<void> {
    this.#readOnly("changing tokens");
  }
}
