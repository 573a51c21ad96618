import * as args from "./args.js";
import { StoreConflict, stillExpected } from "./conflict.js";
import { call } from "./errors.js";
import { withSeed } from "./random.js";
import { parseStored, withRecord } from "./record.js";
import type { TokenStore } from "./store.js";
import type { Principal, ScopeSpec, StoreWrite, StoredRecord, TokenInfo } from "./types.js";
import { RecordIndex } from "./wasm.js";

/** @internal What `TokenService` reads of a `MemoryStore` to verify in one call. */
export interface MemoryFastPath {
  readonly index: RecordIndex;
  /** The principal of the record in `slot`, built the first time it is asked for. */
  principal(slot: number): Principal | undefined;
  /** Forgets the principal of `slot`, where the service has just stored a record in `index` itself. */
  stored(slot: number): void;
  /** The record stored under `id` now, read at once (no `await`). */
  storedNow(id: string): StoredRecord | null;
}

/** Reads the fast path of a plain `MemoryStore`; set by its static block. */
let fastPathOf: (store: unknown) => MemoryFastPath | undefined = () => undefined;

/**
 * @internal The fast path of `store` when it is a `MemoryStore` itself (a subclass
 * may override methods and a Proxy may intercept them, so both go through the
 * ordinary interface).
 */
export function memoryFastPath(store: unknown): MemoryFastPath | undefined {
  return fastPathOf(store);
}

/** A base class whose constructor hands back the object it is given. */
class Returning {
  constructor(target: object) {
    return target; // The stamp below adds its field to `target` itself.
  }
}

/**
 * The mark of every principal this package made: only these may act as a
 * token. It is a private field added to the principal itself (through the
 * base class above), so a principal stays a plain object that compares
 * equal to a look-alike, yet only objects stamped here carry the field, and
 * checking it costs no registry. The field holds whether the token has
 * allowed IPs, so that each use names its address.
 */
class Stamp extends Returning {
  readonly #gated: boolean;

  private constructor(target: object, gated: boolean) {
    super(target);
    this.#gated = gated;
  }

  /** Stamps and freezes `principal`. */
  static seal<T extends object>(principal: T, gated: boolean): Readonly<T> {
    new Stamp(principal, gated);
    return Object.freeze(principal);
  }

  /** Whether `value` was stamped, and whether its token has allowed IPs; `undefined` when not stamped. */
  static gated(value: object): boolean | undefined {
    return #gated in value ? (value as Stamp).#gated : undefined;
  }
}

/** @internal A frozen principal for a record, shared by every verification of it. */
export function principalOf(record: StoredRecord | TokenInfo): Principal {
  const gated = Array.isArray(record.allowedIps) && record.allowedIps.length > 0;
  return Stamp.seal({ userId: record.userId, tokenId: record.id, scope: frozenScope(record.scope) }, gated);
}

/**
 * @internal The principal of one verification from `ip`: the shared one for a
 * token usable anywhere; for a token with allowed IPs, a copy naming the
 * address, which its lifecycle operations are checked from.
 */
export function verifiedFrom(principal: Principal, ip: string | undefined): Principal {
  if (ip === undefined || Stamp.gated(principal) !== true) return principal;
  return Stamp.seal({ ...principal, ip }, true);
}

/** @internal Whether `value` is a principal `verify` or `check` returned (not a look-alike). */
export function isPrincipal(value: unknown): value is Principal {
  return typeof value === "object" && value !== null && Stamp.gated(value) !== undefined;
}

/** A frozen copy of a scope, so no caller can alter a cached principal. */
function frozenScope(scope: ScopeSpec): Readonly<ScopeSpec> {
  // A checked scope has at most these three members; each present one is
  // copied as it is (a `null` stays), lists frozen.
  const copy: { preset?: unknown; actions?: unknown; resources?: unknown } = {};
  if (Object.hasOwn(scope, "preset")) copy.preset = scope.preset;
  if (Object.hasOwn(scope, "actions")) copy.actions = frozenList(scope.actions);
  if (Object.hasOwn(scope, "resources")) copy.resources = frozenList(scope.resources);
  return Object.freeze(copy) as Readonly<ScopeSpec>;
}

/** A frozen copy of a list, or the value itself when it is not one. */
function frozenList(list: unknown): unknown {
  return Array.isArray(list) ? Object.freeze(list.slice()) : list;
}

/** What a `MemoryStore` may be given. */
export interface MemoryStoreOptions {
  /**
   * Fills 16 bytes with randomness, once: the secret keys under which the
   * store's maps of user ids and token ids hash. `crypto.getRandomValues`
   * by default; pass it only where the runtime has none.
   */
  entropy?: (bytes: Uint8Array) => void;
}

/**
 * A `TokenStore` that keeps records in memory, inside the WebAssembly
 * module: for tests, single-process services and caches of nothing.
 *
 * `TokenService` verifies against it in a single call into the module, and
 * last-used writes happen there too. Records are checked against the record
 * format when put (`RECORD_INVALID`).
 */
export class MemoryStore implements TokenStore {
  /**
   * The records. Its maps of user ids and token ids hash under keys drawn
   * for this store, so no one can choose ids that collide in them.
   */
  readonly #index: RecordIndex;
  /**
   * Each slot's principal, built from the record in the index the first
   * time a verification asks for it: most tokens issued are verified
   * seldom or never, so issuing and putting build none.
   */
  readonly #principals: (Principal | undefined)[] = [];

  /**
   * An empty store. It draws 16 random bytes once, as the secret keys of
   * its maps of user ids and token ids; a `TypeError` when the runtime has
   * no `crypto.getRandomValues` and no `options.entropy` is given.
   */
  constructor(options?: MemoryStoreOptions) {
    const o: { entropy?: unknown } = options == null ? {} : args.object(options, "options");
    const fill =
      o.entropy === undefined ? undefined : args.func<(bytes: Uint8Array) => void>(o.entropy, "entropy");
    this.#index = withSeed(fill, (seed) => new RecordIndex(seed));
  }

  static {
    fastPathOf = (store) => {
      // `#principals in store` holds for a MemoryStore itself only: a Proxy
      // around one (instrumentation, fault injection) passes `instanceof`
      // and shows the same prototype, but has no private fields, and must
      // be called through its traps.
      if (
        typeof store !== "object" ||
        store === null ||
        !(#principals in store) ||
        Object.getPrototypeOf(store) !== MemoryStore.prototype ||
        // A store given users' standing goes through `ownerOf`.
        "ownerOf" in store
      ) {
        return undefined;
      }
      const principals = store.#principals;
      const index = store.#index;
      return {
        index,
        principal: (slot) => {
          const known = principals[slot];
          if (known !== undefined) return known;
          const info = index.info_at(slot);
          if (info === undefined) return undefined;
          const principal = principalOf(JSON.parse(info) as TokenInfo);
          principals[slot] = principal;
          return principal;
        },
        stored: (slot) => {
          principals[slot] = undefined;
        },
        storedNow: (id) => parse(index.get_by_id(id)),
      };
    };
  }

  /** How many records the store holds. */
  get size(): number {
    return this.#index.size();
  }

  async getByHash(hash: string): Promise<StoredRecord | null> {
    return parse(this.#index.get_by_hash(hash));
  }

  async getById(id: string): Promise<StoredRecord | null> {
    return parse(this.#index.get_by_id(id));
  }

  async put(record: StoredRecord, expected?: StoredRecord | null): Promise<void> {
    this.#expect(record.id, expected);
    this.#put(record);
  }

  async delete(id: string, expected?: StoredRecord | null): Promise<boolean> {
    this.#expect(id, expected);
    return this.#delete(id);
  }

  async apply(writes: readonly StoreWrite[]): Promise<void> {
    // Check every record and expectation first, then write without yielding,
    // so that a bad record or a changed one changes nothing.
    for (const write of writes) {
      if ("put" in write) withRecord(write.put, () => undefined);
      this.#expect("put" in write ? write.put.id : write.delete, write.expected);
    }
    for (const write of writes) {
      if ("put" in write) this.#put(write.put);
      else this.#delete(write.delete);
    }
  }

  /** Throws a conflict unless the record under `id` is still the one expected. */
  #expect(id: string, expected: StoredRecord | null | undefined): void {
    if (expected !== undefined && !stillExpected(parse(this.#index.get_by_id(id)), expected)) {
      throw new StoreConflict(id);
    }
  }

  #put(record: StoredRecord): void {
    const slot = withRecord(record, (checked) => call(() => this.#index.put(checked)));
    this.#principals[slot] = undefined;
  }

  #delete(id: string): boolean {
    const slot = this.#index.delete(id);
    if (slot < 0) {
      return false;
    }
    this.#principals[slot] = undefined;
    return true;
  }

  async listByUser(userId: string): Promise<StoredRecord[]> {
    return JSON.parse(this.#index.list_by_user(userId)) as StoredRecord[];
  }

  async countByUser(userId: string): Promise<number> {
    return this.#index.count_by_user(userId);
  }

  async touch(id: string, lastUsedAt: number): Promise<void> {
    this.#index.touch(id, lastUsedAt);
  }

  /** Shows the size only: records hold hashes, which lists never show. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `MemoryStore { size: ${this.size} }`;
  }
}

function parse(json: string | undefined): StoredRecord | null {
  return json === undefined ? null : parseStored(json);
}
