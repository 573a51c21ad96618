// Benchmark (a script, not a test): verify, a wrong-checksum check and issue
// through the package, beside what a developer writes by hand
// (createHash + Map + timingSafeEqual) and jose's HS256 jwtVerify, all in
// one run on this Node. Prints ns/op medians over several rounds and the
// ratios. Run `node bench/verify.mjs` after `node scripts/build.mjs`.
//
// Options: TOKENS=100000 ROUNDS=15.

import { createHash, hash as oneShot, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";
import { SignJWT, jwtVerify } from "jose";
import { MemoryStore, TokenService } from "tessera-tokens";
import { measure as measureMedian, measureTogether } from "./measure.mjs";

const TOKENS = Number(process.env.TOKENS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const CATALOG = [
  { action: "apps.read", kinds: ["read"] },
  { action: "apps.write" },
  { action: "deploy.run", kinds: ["cli"] },
  { action: "tokens.create" },
];
const REQUEST = { action: "apps.read" };

/** Median ns/op of `op(i)` over ROUNDS rounds of `batch` calls each. */
const measure = (batch, op) => measureMedian(batch, op, { rounds: ROUNDS });

// --- tessera-tokens -------------------------------------------------------
const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store: new MemoryStore() });
const headers = [];
for (let i = 0; i < TOKENS; i++) {
  const { token } = await tokens.issue(`user${i % 1000}`, {
    name: "bench",
    expires: { days: 30 },
    scope: { actions: ["apps.read", "deploy.run"] },
  });
  headers.push(`Bearer ${token}`);
}
const last = headers[0];
const wrongChecksum = last.slice(0, -1) + (last.endsWith("A") ? "B" : "A");
for (const h of [headers[0], headers[TOKENS - 1]]) {
  if ((await tokens.verify(h, REQUEST)).userId === undefined) throw new Error("setup");
}
if ((await tokens.check(wrongChecksum, REQUEST)).code !== "TOKEN_CHECKSUM") throw new Error("setup");

// --- tessera-tokens over a plain async store (a Map), for reference --------
const plain = { byHash: new Map(), byId: new Map() };
const plainStore = {
  async getByHash(hash) {
    return plain.byHash.get(hash) ?? null;
  },
  async getById(id) {
    return plain.byId.get(id) ?? null;
  },
  async put(record) {
    plain.byHash.set(record.hash, record);
    plain.byId.set(record.id, record);
  },
  async delete(id) {
    return plain.byId.delete(id);
  },
  async listByUser() {
    return [];
  },
  async touch(id, lastUsedAt) {
    const record = plain.byId.get(id);
    if (record) record.lastUsedAt = lastUsedAt;
  },
};
const overPlain = new TokenService({ prefix: "tsr", catalog: CATALOG, store: plainStore });
const plainHeaders = [];
for (let i = 0; i < TOKENS; i++) {
  const { token } = await overPlain.issue(`user${i % 1000}`, {
    name: "bench",
    expires: { days: 30 },
    scope: { actions: ["apps.read", "deploy.run"] },
  });
  plainHeaders.push(`Bearer ${token}`);
}

// --- (a) by hand: createHash + Map + timingSafeEqual -----------------------
const byHand = new Map();
const handHeaders = [];
for (let i = 0; i < TOKENS; i++) {
  const token = `tsr_${randomBytes(32).toString("base64url")}`;
  const hash = createHash("sha256").update(token).digest();
  byHand.set(hash.toString("hex"), {
    hash,
    userId: `user${i % 1000}`,
    id: String(i),
    active: true,
    expiresAt: Date.now() + 30 * 86_400_000,
    scopes: ["apps.read", "deploy.run"],
  });
  handHeaders.push(`Bearer ${token}`);
}
/** What a careful developer writes by hand, with the store behind an await. */
async function verifyByHand(header, request) {
  if (typeof header !== "string" || !header.startsWith("Bearer ")) throw new Error("unauthenticated");
  const token = header.slice(7);
  const hash = createHash("sha256").update(token).digest();
  const record = await byHand.get(hash.toString("hex"));
  if (!record || !timingSafeEqual(hash, record.hash)) throw new Error("unauthenticated");
  if (!record.active || Date.now() >= record.expiresAt) throw new Error("unauthenticated");
  if (!record.scopes.includes(request.action)) throw new Error("forbidden");
  return { userId: record.userId, tokenId: record.id };
}
if ((await verifyByHand(handHeaders[0], REQUEST)).userId !== "user0") throw new Error("setup");

/** The same, with the one-shot `crypto.hash` (Node 20.12+), the faster of the two. */
async function verifyByHandOneShot(header, request) {
  if (typeof header !== "string" || !header.startsWith("Bearer ")) throw new Error("unauthenticated");
  const token = header.slice(7);
  const hex = oneShot("sha256", token, "hex");
  const record = await byHand.get(hex);
  if (!record || !timingSafeEqual(Buffer.from(hex, "hex"), record.hash)) throw new Error("unauthenticated");
  if (!record.active || Date.now() >= record.expiresAt) throw new Error("unauthenticated");
  if (!record.scopes.includes(request.action)) throw new Error("forbidden");
  return { userId: record.userId, tokenId: record.id };
}
if ((await verifyByHandOneShot(handHeaders[0], REQUEST)).userId !== "user0") throw new Error("setup");

// --- (a') issue by hand: the same token format (base62 body, CRC32 checksum) --
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** `bytes` as a fixed-width base62 number, the way one writes it with BigInt. */
function base62(value, width) {
  let n = value;
  let out = "";
  for (let i = 0; i < width; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}
const handIssued = new Map();
const handIssuedById = new Map();
/** What a careful developer writes by hand to issue a token of Tessera's format. */
async function issueByHand(userId, request) {
  const body = base62(BigInt(`0x${randomBytes(32).toString("hex")}`), 43);
  const unchecked = `tsr_${body}`;
  const token = unchecked + base62(BigInt(crc32(unchecked)), 6);
  const now = Date.now();
  const record = {
    id: randomBytes(16).toString("hex"),
    userId,
    name: request.name,
    hint: `${token.slice(0, 8)}…`,
    hash: oneShot("sha256", token, "hex"),
    createdAt: now,
    expiresAt: now + request.expires.days * 86_400_000,
    scope: { actions: [...request.scope.actions] },
    status: "active",
    lastUsedAt: null,
  };
  await handIssued.set(record.hash, record);
  handIssuedById.set(record.id, record);
  const { hash: _hash, ...shown } = record;
  return { token, record: shown };
}
if ((await issueByHand("u", { name: "x", expires: { days: 30 }, scope: { actions: ["apps.read"] } })).token.length !== 53) {
  throw new Error("setup");
}

// --- (b) jose HS256 jwtVerify ----------------------------------------------
const secret = randomBytes(32);
const jwts = [];
for (let i = 0; i < 1_000; i++) {
  jwts.push(
    await new SignJWT({ scope: "apps.read deploy.run" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(`user${i}`)
      .setIssuedAt()
      .setExpirationTime("30d")
      .sign(secret),
  );
}
async function verifyJwt(jwt) {
  const { payload } = await jwtVerify(jwt, secret, { algorithms: ["HS256"] });
  if (!String(payload.scope).split(" ").includes("apps.read")) throw new Error("forbidden");
  return payload.sub;
}

// --- run ------------------------------------------------------------------
const results = {};
// The verifications and their baselines run in alternating rounds (see
// measureTogether), so their ratios come from the same stretch of time.
Object.assign(
  results,
  await measureTogether(
    20_000,
    {
      verify: (i) => tokens.verify(headers[i % TOKENS], REQUEST),
      plainStore: (i) => overPlain.verify(plainHeaders[i % TOKENS], REQUEST),
      byHand: (i) => verifyByHand(handHeaders[i % TOKENS], REQUEST),
      byHandOneShot: (i) => verifyByHandOneShot(handHeaders[i % TOKENS], REQUEST),
      // The cheapest answer the package gives (no hash, no lookup): a floor
      // under any verification's cost.
      checkWrongChecksum: () => tokens.check(wrongChecksum, REQUEST),
    },
    { rounds: ROUNDS },
  ),
);
results.verifySame = await measure(20_000, () => tokens.verify(last, REQUEST));
results.jose = await measure(300, (i) => verifyJwt(jwts[i % jwts.length]));
const issuer = new TokenService({ prefix: "tsr", catalog: CATALOG, store: new MemoryStore() });
// Issue and its baseline, likewise in alternating rounds; each call is for
// a new user.
Object.assign(
  results,
  await measureTogether(
    2_000,
    {
      issue: (i) => issuer.issue(`u${i}`, { name: "bench", expires: { days: 30 }, scope: { actions: ["apps.read"] } }),
      issueByHand: (i) =>
        issueByHand(`u${i}`, { name: "bench", expires: { days: 30 }, scope: { actions: ["apps.read"] } }),
    },
    { rounds: ROUNDS },
  ),
);

// A user who already holds tokens: issue reads all of them (the per-user
// limit counts the live ones), so this shows what that reading costs.
results.issueHeld = await measure(2_000, (i) =>
  tokens.issue(`user${i % 1000}`, { name: "bench", expires: { days: 30 }, scope: { actions: ["apps.read"] } }),
);

// Every other lifecycle operation reads the user's records the same way.
const renamed = headers.slice(0, 1000).map((header) => tokens.authenticate(header));
const principals = await Promise.all(renamed);
results.renameHeld = await measure(2_000, (i) => {
  const principal = principals[i % principals.length];
  return tokens.rename(principal.userId, principal.tokenId, { name: `renamed ${i}` });
});

const ns = (v) => `${v.toFixed(0).padStart(8)} ns/op`;
console.log(`node ${process.version}, ${TOKENS} tokens, median of ${ROUNDS} rounds`);
console.log(`tessera verify (MemoryStore, ${TOKENS} tokens cycled, custom scope) ${ns(results.verify)}`);
console.log(`tessera verify (one token, warm)                            ${ns(results.verifySame)}`);
console.log(`tessera check of a wrong-checksum token                     ${ns(results.checkWrongChecksum)}`);
console.log(`tessera issue (MemoryStore)                                 ${ns(results.issue)}`);
console.log(`tessera issue for a user who holds ${String(Math.round(TOKENS / 1000)).padEnd(4)} tokens            ${ns(results.issueHeld)}`);
console.log(`tessera rename for a user who holds ${String(Math.round(TOKENS / 1000)).padEnd(4)} tokens           ${ns(results.renameHeld)}`);
console.log(`tessera verify through a plain async TokenStore (a Map)     ${ns(results.plainStore)}`);
console.log(`(a) by hand: createHash + Map + timingSafeEqual             ${ns(results.byHand)}`);
console.log(`(a') by hand: crypto.hash one-shot + Map + timingSafeEqual   ${ns(results.byHandOneShot)}`);
console.log(`(a') issue by hand: randomBytes, BigInt base62, zlib.crc32, crypto.hash ${ns(results.issueByHand)}`);
console.log(`(b) jose HS256 jwtVerify                                    ${ns(results.jose)}`);
console.log(`verify vs (a): ${(results.byHand / results.verify).toFixed(2)}x faster`);
console.log(`verify vs (a'): ${(results.byHandOneShot / results.verify).toFixed(2)}x faster (target >= 3x)`);
console.log(
  `3x faster than (a') leaves a verification ${(results.byHandOneShot / 3).toFixed(0)} ns; a wrong-checksum ` +
    `check, which stops before hashing, costs ${(results.checkWrongChecksum / (results.byHandOneShot / 3)).toFixed(2)}x that`,
);
console.log(`issue vs (a') issue: ${(results.issueByHand / results.issue).toFixed(2)}x faster (target >= 2x)`);
console.log(`plain async store vs MemoryStore: ${(results.plainStore / results.verify).toFixed(2)}x the time (target <= 2x)`);
console.log(`verify vs (b): ${(results.jose / results.verify).toFixed(1)}x faster (target >= 50x)`);
