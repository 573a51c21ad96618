import { TokenError, call } from "./errors.js";
import type { StoredRecord } from "./types.js";
import { RECORD_MEMBERS } from "./generated/schema.js";
import { Record } from "./wasm.js";

/** The members a stored record has (the core's schema); an unknown one makes it `RECORD_INVALID`. */
const MEMBERS: ReadonlySet<string> = new Set(RECORD_MEMBERS);

function invalid(why: string): TokenError {
  return new TokenError("RECORD_INVALID", `a stored record does not match the record format: ${why}`);
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw invalid(`${what} is not a string`);
  return value;
}

function optionalText(value: unknown, what: string): string | undefined {
  return value == null ? undefined : text(value, what);
}

function time(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw invalid(`${what} is not a whole number`);
  return value;
}

function optionalTime(value: unknown, what: string): number | undefined {
  return value == null ? undefined : time(value, what);
}

/** A list of strings, or none (`null`, absent) as an empty one. */
export function stringList(value: unknown, fail: (why: string) => TokenError, what: string): string[] {
  if (value == null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw fail(`${what} is a list of strings`);
  }
  return value as string[];
}

/** The three members of a scope, checked for shape only (the core checks the rest). */
export function scopeMembers(
  scope: unknown,
  fail: (why: string) => TokenError,
): [string | undefined, string[] | undefined, string[] | undefined] {
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) throw fail("a scope is an object");
  const s = scope as { [key: string]: unknown };
  for (const key of Object.keys(s)) {
    if (key !== "preset" && key !== "actions" && key !== "resources") throw fail(`a scope has no member ${key}`);
  }
  if (s.preset != null && typeof s.preset !== "string") throw fail("a scope's preset is a string");
  const list = (value: unknown, what: string) => {
    if (value == null) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
      throw fail(`a scope's ${what} is a list of strings`);
    }
    return value as string[];
  };
  return [s.preset == null ? undefined : (s.preset as string), list(s.actions, "actions"), list(s.resources, "resources")];
}

/**
 * The member that names a creator of this kind: none for the user
 * (`undefined`), `null` for a kind that does not exist.
 */
function creatorIdMember(kind: unknown): string | undefined | null {
  switch (kind) {
    case "user":
      return undefined;
    case "token":
      return "tokenId";
    case "admin":
      return "userId";
    case "service":
      return "keyId";
    default:
      return null;
  }
}

/** A stored record's members, each of the type the record format gives it. */
export interface StoredMembers {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly hash: string;
  readonly hint: string;
  readonly creatorKind: string;
  readonly creatorId: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
  readonly preset: string | undefined;
  readonly actions: string[] | undefined;
  readonly resources: string[] | undefined;
  readonly allowedIps: string[];
  readonly status: string;
  readonly lastUsedAt: number | undefined;
  readonly rotatedFrom: string | undefined;
  readonly replacedBy: string | undefined;
}

/**
 * A stored record's members, checked as strictly as the core reads its
 * JSON form for everything but the values the core parses (the hash,
 * status, scope and allowed IP ranges, which it checks when they cross):
 * unknown members, wrong types and an unknown creator are `RECORD_INVALID`.
 */
export function storedMembers(stored: unknown): StoredMembers {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) throw invalid("not an object");
  const r = stored as { [key: string]: unknown };
  for (const key of Object.keys(r)) {
    if (!MEMBERS.has(key)) throw invalid(`unknown member ${key}`);
  }
  const createdBy = r.createdBy as { [key: string]: unknown } | null;
  if (typeof createdBy !== "object" || createdBy === null) throw invalid("createdBy is not an object");
  const creatorKind = createdBy.kind;
  const creatorMember = creatorIdMember(creatorKind);
  const creatorKeys = Object.keys(createdBy);
  // Exactly `kind`, and the member that names this kind's creator if any.
  const shaped =
    creatorMember === undefined
      ? creatorKeys.length === 1
      : creatorMember !== null && creatorKeys.length === 2 && creatorKeys.includes(creatorMember);
  if (!shaped || !creatorKeys.includes("kind")) {
    throw invalid("createdBy is not a user, a token, an administrator or a service key");
  }
  const creatorId =
    creatorMember === undefined ? undefined : text(createdBy[creatorMember as string], `createdBy.${creatorMember}`);
  const [preset, actions, resources] = scopeMembers(r.scope, (why) => invalid(why));
  return {
    id: text(r.id, "id"),
    userId: text(r.userId, "userId"),
    name: text(r.name, "name"),
    description: optionalText(r.description, "description"),
    hash: text(r.hash, "hash"),
    hint: text(r.hint, "hint"),
    creatorKind: creatorKind as string,
    creatorId,
    createdAt: time(r.createdAt, "createdAt"),
    expiresAt: optionalTime(r.expiresAt, "expiresAt"),
    preset,
    actions,
    resources,
    allowedIps: stringList(r.allowedIps, invalid, "allowedIps"),
    status: text(r.status, "status"),
    lastUsedAt: optionalTime(r.lastUsedAt, "lastUsedAt"),
    rotatedFrom: optionalText(r.rotatedFrom, "rotatedFrom"),
    replacedBy: optionalText(r.replacedBy, "replacedBy"),
  };
}

/**
 * The members of a record the core parses (hash, status, scope, allowed IP
 * ranges) as they cross into the module: one string of newline-separated
 * items, and how many items each list has (`-1` for an absent scope list).
 * One crossing instead of one per member and item; the module refuses a
 * record whose pieces outnumber the counts (an item with a newline).
 */
export interface JoinedMembers {
  readonly text: string;
  readonly preset: boolean;
  readonly actions: number;
  readonly resources: number;
  readonly allowedIps: number;
}

/**
 * A scope's action and resource items as one newline-joined string, an
 * empty or absent list adding nothing: the module splits it by the two
 * lists' counts, and refuses an item holding a newline (the pieces then
 * outnumber the counts).
 */
export function joinedLists(first: readonly string[] | undefined, second: readonly string[] | undefined): string {
  if (first === undefined || first.length === 0) return second?.join("\n") ?? "";
  if (second === undefined || second.length === 0) return first.join("\n");
  return `${first.join("\n")}\n${second.join("\n")}`;
}

/** The members of `m` the core parses, joined (see {@link JoinedMembers}). */
export function joinedMembers(m: StoredMembers): JoinedMembers {
  let text = `${m.hash}\n${m.status}`;
  if (m.preset !== undefined) text += `\n${m.preset}`;
  if ((m.actions?.length ?? 0) + (m.resources?.length ?? 0) > 0) text += `\n${joinedLists(m.actions, m.resources)}`;
  if (m.allowedIps.length > 0) text += `\n${m.allowedIps.join("\n")}`;
  return {
    text,
    preset: m.preset !== undefined,
    actions: m.actions?.length ?? -1,
    resources: m.resources?.length ?? -1,
    allowedIps: m.allowedIps.length,
  };
}

/**
 * A stored record as the core's `Record`, checked as strictly as the core
 * reads its JSON form: unknown members, wrong types, a malformed hash or
 * scope are `RECORD_INVALID`. Free it with `free()` after use.
 */
export function toRecord(stored: unknown): Record {
  const m = storedMembers(stored);
  const j = joinedMembers(m);
  return call(
    () =>
      new Record(
        m.id,
        m.userId,
        m.name,
        m.description,
        m.hint,
        m.creatorKind,
        m.creatorId,
        m.createdAt,
        m.expiresAt,
        m.lastUsedAt,
        m.rotatedFrom,
        m.replacedBy,
        j.text,
        j.preset,
        j.actions,
        j.resources,
        j.allowedIps,
      ),
  );
}

/** Runs `use` on the stored record as a core `Record`, then frees it. */
export function withRecord<T>(stored: unknown, use: (record: Record) => T): T {
  const record = toRecord(stored);
  try {
    return use(record);
  } finally {
    record.free();
  }
}

/** A stored record as the core writes it. */
export function parseStored(json: string): StoredRecord {
  return JSON.parse(json) as StoredRecord;
}
