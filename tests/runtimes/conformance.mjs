// The runtime-conformance checks: one script, run unchanged under Node,
// Deno, Bun, workerd and Vercel's edge runtime by the harnesses beside it.
// It imports the package by name, so each runtime resolves `tessera-tokens`
// through the package's exports map. It uses web-standard APIs only.

import {
  MemoryStore,
  TOKEN_ERROR_CODES,
  TokenError,
  TokenService,
  errorCodes,
  hashToken,
  parseToken,
  tokenPattern,
} from "tessera-tokens";

/** A known answer from tests/vectors/hash.json. */
const KNOWN = {
  token: "tsr_FAxb6b1BkCwjWEhRdhwqd0mDgx6zOdq1fNe2ZL5klLe3vSQID",
  hash: "aec79b29d9e8e7168e20c7ed66103c40397119e8d5ed1304f172babb1a983b7f",
};

/**
 * Runs every check and returns `{ passed, failed, failures }`; never
 * throws, so each harness can report in its runtime's own way.
 */
export async function conformance() {
  const failures = [];
  let passed = 0;
  async function check(name, run) {
    try {
      await run();
      passed += 1;
    } catch (error) {
      failures.push(`${name}: ${error && error.stack ? error.stack : error}`);
    }
  }
  function ensure(condition, message) {
    if (!condition) throw new Error(message);
  }

  const tokens = new TokenService({
    prefix: "tsr",
    catalog: [{ action: "apps.read", kinds: ["read"] }, { action: "apps.write" }],
    store: new MemoryStore(),
  });
  let issued;

  await check("issue with the runtime's clock and crypto.getRandomValues", async () => {
    issued = await tokens.issue("u1", { name: "CI", expires: { days: 1 }, scope: { preset: "read" } });
    ensure(/^tsr_[0-9A-Za-z]{49}$/.test(issued.token), "token shape");
    ensure(issued.record.userId === "u1" && !("hash" in issued.record), "record");
    ensure(Math.abs(issued.record.createdAt - Date.now()) < 60_000, "clock");
  });
  await check("verify a Bearer header", async () => {
    const principal = await tokens.verify(`Bearer ${issued.token}`, { action: "apps.read" });
    ensure(principal.userId === "u1" && principal.tokenId === issued.record.id, "principal");
  });
  await check("allowed IPs: inside verifies, outside is IP_DENIED, a bad range is IPS_INVALID", async () => {
    const gated = await tokens.issue("u1", {
      name: "office",
      scope: { preset: "all" },
      allowedIps: ["2001:db8::/32", "10.0.0.0/8", "10.9.0.0/16"],
    });
    const ranges = gated.record.allowedIps.join(",");
    ensure(ranges === "10.0.0.0/8,2001:db8::/32", `normal form ${ranges}`);
    const inside = await tokens.verify(gated.token, { action: "apps.read", ip: "::ffff:10.1.2.3" });
    ensure(inside.tokenId === gated.record.id && inside.ip === "::ffff:10.1.2.3", "inside");
    const outside = await tokens.check(gated.token, { action: "apps.read", ip: "192.0.2.1" });
    ensure(!outside.ok && outside.code === "IP_DENIED", `outside ${outside.code}`);
    const unknown = await tokens.check(gated.token, { action: "apps.read" });
    ensure(!unknown.ok && unknown.code === "IP_DENIED", `no address ${unknown.code}`);
    let caught;
    try {
      await tokens.issue("u1", { name: "bad", scope: { preset: "read" }, allowedIps: ["203.0.113.7/33"] });
    } catch (error) {
      caught = error;
    }
    ensure(caught instanceof TokenError && caught.code === "IPS_INVALID", `bad range ${caught && caught.code}`);
  });
  await check("a denial: verify throws a TokenError with SCOPE_DENIED", async () => {
    let caught;
    try {
      await tokens.verify(issued.token, { action: "apps.write" });
    } catch (error) {
      caught = error;
    }
    ensure(caught instanceof TokenError && caught instanceof Error, "TokenError");
    ensure(caught.code === "SCOPE_DENIED", `code ${caught && caught.code}`);
  });
  await check("check reports a bad checksum without throwing", async () => {
    const typo = issued.token.slice(0, -1) + (issued.token.endsWith("A") ? "B" : "A");
    const result = await tokens.check(typo, { action: "apps.read" });
    ensure(result.ok === false && result.code === "TOKEN_CHECKSUM", JSON.stringify(result));
  });
  await check("hashToken, parseToken and tokenPattern", async () => {
    ensure(hashToken(KNOWN.token) === KNOWN.hash, "hash");
    ensure(parseToken(`UserToken ${KNOWN.token}`).expose() === KNOWN.token, "parse");
    ensure(tokenPattern("tsr").test(`x ${KNOWN.token} y`), "pattern");
    // The codes the compiled core reports are the package's typed list.
    ensure(JSON.stringify(errorCodes()) === JSON.stringify(TOKEN_ERROR_CODES), "codes");
  });
  await check("the actor rule: another user's token is NOT_FOUND, a narrow token cannot rotate a wider one", async () => {
    const managed = new TokenService({
      prefix: "tsr",
      catalog: [{ action: "apps.read", kinds: ["read"] }, { action: "tokens.create" }, { action: "tokens.read", kinds: ["read"] }],
      store: new MemoryStore(),
    });
    const wide = await managed.issue("u1", { name: "wide", scope: { preset: "all" } });
    const narrow = await managed.issue("u1", { name: "narrow", expires: { days: 1 }, scope: { actions: ["tokens.create"] } });
    const codeOf = (promise) => promise.then(() => "none", (error) => error instanceof TokenError && error.code);
    ensure((await codeOf(managed.get("u2", wide.record.id))) === "NOT_FOUND", "another user's get");
    ensure((await codeOf(managed.delete("u2", wide.record.id))) === "NOT_FOUND", "another user's delete");
    const caller = await managed.authenticate(`Bearer ${narrow.token}`);
    ensure((await codeOf(managed.rotate(caller, wide.record.id))) === "SCOPE_EXCEEDS_PARENT", "escalation by rotation");
    ensure((await codeOf(managed.issue({ ...caller }, { name: "x", scope: { preset: "all" } }))) === false, "a look-alike actor");
    ensure((await managed.list("u1")).length === 2, "nothing changed");
  });
  await check("separate services share nothing", async () => {
    const other = new TokenService({ prefix: "abc", catalog: [{ action: "a.b" }], store: new MemoryStore() });
    const result = await other.check(issued.token, { action: "a.b" });
    ensure(result.ok === false && result.code === "TOKEN_PREFIX", JSON.stringify(result));
  });

  return { passed, failed: failures.length, failures };
}

/** The closing line every harness prints. */
export function summary(runtime, result) {
  return `${runtime}: ${result.passed} passed, ${result.failed} failed`;
}
