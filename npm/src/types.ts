import type { TokenErrorCode } from "./codes.js";

/** One action of the deployment's catalog, such as `apps.read` tagged `read`. */
export interface CatalogEntry {
  /** The action's name: 1 to 128 characters of `[a-z0-9_.-]`, `resource.action` or similar. */
  action: string;
  /** Kind tags such as `read` or `cli`, which the presets of the same name follow. */
  kinds?: string[];
}

/** What a deployment allows. Every field is optional. */
export interface Policy {
  /** Whether tokens may be created without an expiry. Default `true`. */
  allowNonExpiring?: boolean;
  /** The longest lifetime of a token that expires, in days. */
  maxLifetimeDays?: number;
  /** The most tokens one user may hold. */
  maxTokensPerUser?: number;
}

/**
 * A scope: a preset that follows the catalog as it grows, or a custom list
 * of actions frozen at creation (a whole resource such as `"apps"` selects
 * its actions of that moment), either narrowed to resource patterns such
 * as `orgs/acme/**`.
 */
export type ScopeSpec =
  | { preset: "all" | "read" | "cli"; actions?: undefined; resources?: string[] }
  | { actions: string[]; preset?: undefined; resources?: string[] };

/**
 * When a new token expires: `"never"` (the default, when the policy allows
 * it), a number of days from now (`-1` means never), or a time (`null`:
 * a year ahead, or the policy's or parent's limit if sooner).
 */
export type ExpiryChoice = "never" | { days: number } | { at: Date | number | string | null };

/**
 * Who created a token: the user, another token of the same user, or (in a
 * host that lets tokens be issued for users) an administrator or a service
 * key.
 */
export type CreatedBy =
  | { kind: "user" }
  | { kind: "token"; tokenId: string }
  | { kind: "admin"; userId: string }
  | { kind: "service"; keyId: string };

/**
 * What a store that knows users says of a record's user (see
 * `TokenStore.ownerOf`): whether they administer the deployment, their own
 * token setting, and the deployment's default for members who `inherit`
 * it. Tokens are enabled for administrators always, and for members by
 * their setting; the core decides.
 */
export interface OwnerStanding {
  readonly admin: boolean;
  readonly tokens: "inherit" | "on" | "off";
  readonly membersEnabled: boolean;
}

export type { StoredRecord, TokenInfo } from "./generated/schema.js";
import type { StoredRecord, TokenInfo } from "./generated/schema.js";

/** A request to issue a token; the owner and creator come from the actor. */
export interface IssueRequest {
  /** The display name (required; trimmed; 1 to 100 characters). */
  name: string;
  /** An optional description (at most 1,000 characters). */
  description?: string | null;
  /** When the token expires; `"never"` when absent. */
  expires?: ExpiryChoice;
  /** What the token allows. */
  scope: ScopeSpec;
  /**
   * The CIDR ranges (or single addresses) the token may be used from, such
   * as `["10.0.0.0/8", "2001:db8::/32"]`; absent or empty for anywhere. A
   * token made by a token must name ranges within its parent's
   * (`IPS_EXCEED_PARENT`); a malformed range is `IPS_INVALID`.
   */
  allowedIps?: string[] | null;
}

/**
 * Who performs a lifecycle operation: the id of a user your application
 * authenticated (a password, a session), or a `Principal` that `verify` or
 * `check` returned for a token. A token acts only on its own user's tokens,
 * and only on those it could have created itself (scope within its own,
 * expiry no later); it may always deactivate or delete itself.
 */
export type Actor = string | Principal;

/** Changes to a token: only name, description and status can change. */
export interface TokenChanges {
  /** A new name. */
  name?: string;
  /** A new description; `null` or `""` removes it. */
  description?: string | null;
  /** A new status; an inactive token is refused until reactivated. */
  status?: "active" | "inactive";
}

/** The outcome of `update`: the edited token and every id it changed. */
export interface Updated {
  /** What lists show of the edited token. */
  record: TokenInfo;
  /** The ids of every record written, the target's first. */
  affected: string[];
}

/**
 * One change for a store, applied with the others of an operation at once.
 * `expected` is the record with that id as `TokenService` read it before
 * the core decided (`null`: there was none). A store should apply the
 * writes only while every record is still the one expected, ignoring
 * `lastUsedAt`, and otherwise change nothing and throw an error whose
 * `code` is `"STORE_CONFLICT"`: the service then reads again and retries,
 * so a change decided on a stale read never undoes a concurrent one. A
 * store that ignores `expected` keeps the last write.
 */
export type StoreWrite =
  | { readonly put: StoredRecord; readonly expected?: StoredRecord | null }
  | { readonly delete: string; readonly expected?: StoredRecord | null };

/** A freshly issued token: show `token` once, never store or log it. */
export interface Issued {
  token: string;
  record: TokenInfo;
}

/** What a verified request asks to do. */
export interface VerifyRequest {
  /** A catalog action, such as `apps.read`. */
  action: string;
  /** The resource acted on, such as `orgs/acme/apps/1`, for narrowed scopes. */
  resource?: string | null;
  /**
   * The client's IP address, checked against the token's `allowedIps`. A
   * token with allowed IPs is refused (`IP_DENIED`, answer 403) from
   * outside them or without an address; behind a proxy, pass the address
   * the proxy you trust reports, never a header a client could set.
   */
  ip?: string | null;
}

/** Who is calling: the outcome of a successful verification. Frozen. */
export interface Principal {
  readonly userId: string;
  readonly tokenId: string;
  readonly scope: Readonly<ScopeSpec>;
  /**
   * The client address a token with allowed IPs was verified from; a
   * lifecycle operation with this principal as actor is checked from it.
   */
  readonly ip?: string;
}

/** The outcome of `check`: a principal, or a denial's code. */
export type CheckResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly code: TokenErrorCode };
