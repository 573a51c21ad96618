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

/**
 * A stored record as the core's `Record`, checked as strictly as the core
 * reads its JSON form: unknown members, wrong types, a malformed hash or
 * scope are `RECORD_INVALID`. Free it with `free()` after use.
 */
export function toRecord(stored: unknown): Record {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) throw invalid("not an object");
  const r = stored as { [key: string]: unknown };
  for (const key of Object.keys(r)) {
    if (!MEMBERS.has(key)) throw invalid(`unknown member ${key}`);
  }
  const createdBy = r.createdBy as { [key: string]: unknown } | null;
  if (typeof createdBy !== "object" || createdBy === null) throw invalid("createdBy is not an object");
  const creatorKind = createdBy.kind;
  const creatorMember = creatorIdMember(creatorKind);
  const creatorKeys = Object.keys(createdBy).sort().join(",");
  const wanted = creatorMember === undefined ? "kind" : ["kind", creatorMember].sort().join(",");
  if (creatorMember === null || creatorKeys !== wanted) {
    throw invalid("createdBy is not a user, a token, an administrator or a service key");
  }
  const creatorId =
    creatorMember === undefined ? undefined : text(createdBy[creatorMember], `createdBy.${creatorMember}`);
  const [preset, actions, resources] = scopeMembers(r.scope, (why) => invalid(why));
  return call(
    () =>
      new Record(
        text(r.id, "id"),
        text(r.userId, "userId"),
        text(r.name, "name"),
        optionalText(r.description, "description"),
        text(r.hash, "hash"),
        text(r.hint, "hint"),
        creatorKind as string,
        creatorId,
        time(r.createdAt, "createdAt"),
        optionalTime(r.expiresAt, "expiresAt"),
        preset,
        actions,
        resources,
        stringList(r.allowedIps, invalid, "allowedIps"),
        text(r.status, "status"),
        optionalTime(r.lastUsedAt, "lastUsedAt"),
        optionalText(r.rotatedFrom, "rotatedFrom"),
        optionalText(r.replacedBy, "replacedBy"),
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
