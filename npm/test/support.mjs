// Helpers shared by the test suites: the shared vectors, a plain store that
// goes through the TokenStore interface, and services built from vector
// deployments with a fixed clock and fixed entropy.

import { readFileSync } from "node:fs";
import { MemoryStore, TokenService } from "tessera-tokens";

const vectors = new URL("../../tests/vectors/", import.meta.url);

/** One file of tests/vectors, parsed. */
export function vector(name) {
  return JSON.parse(readFileSync(new URL(`${name}.json`, vectors), "utf8"));
}

/** Bytes from hex. */
export function bytes(hex) {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** The catalog used by most behaviour tests. */
export const CATALOG = [
  { action: "apps.read", kinds: ["read"] },
  { action: "apps.write" },
  { action: "deploy.run", kinds: ["cli"] },
  { action: "tokens.create" },
];

/**
 * A store over a Map that implements only the TokenStore interface, so the
 * service goes through the general (non-MemoryStore) path. Records are
 * copied in and out, as a real store would serialize them.
 */
export class MapStore {
  records = new Map();
  calls = [];

  async getByHash(hash) {
    this.calls.push("getByHash");
    for (const record of this.records.values()) {
      if (record.hash === hash) return structuredClone(record);
    }
    return null;
  }
  async getById(id) {
    this.calls.push("getById");
    const record = this.records.get(id);
    return record === undefined ? null : structuredClone(record);
  }
  async put(record) {
    this.calls.push("put");
    this.records.set(record.id, structuredClone(record));
  }
  async delete(id) {
    this.calls.push("delete");
    return this.records.delete(id);
  }
  async listByUser(userId) {
    this.calls.push("listByUser");
    return [...this.records.values()].filter((r) => r.userId === userId).map((r) => structuredClone(r));
  }
  async touch(id, lastUsedAt) {
    this.calls.push("touch");
    const record = this.records.get(id);
    if (record !== undefined) record.lastUsedAt = lastUsedAt;
  }
}

/** The kinds of store every vector runs against. */
export const STORES = [
  ["MemoryStore", () => new MemoryStore()],
  ["a plain TokenStore", () => new MapStore()],
];

/**
 * A service for a vector deployment (`{ prefix, catalog, policy, pepper? }`)
 * with a fixed clock and, optionally, fixed entropy.
 */
export function serviceFor(deployment, store, { now, entropy } = {}) {
  const options = { prefix: deployment.prefix, catalog: deployment.catalog, policy: deployment.policy, store };
  if (deployment.pepper) options.pepper = bytes(deployment.pepper);
  if (deployment.creationAction) options.creationAction = deployment.creationAction;
  if (now !== undefined) options.now = () => now;
  if (entropy !== undefined) options.entropy = (out) => out.set(bytes(entropy));
  return new TokenService(options);
}

/** A record without its hash: what the service returns and lists show. */
export function withoutHash(record) {
  const { hash: _hash, ...info } = record;
  return info;
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_800_000_000_000) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}
