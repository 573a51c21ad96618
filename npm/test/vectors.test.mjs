// Replays every shared vector in tests/vectors through the package's public
// API, against both a MemoryStore and a plain TokenStore.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStore, TokenError, hashToken, parseToken, tokenPattern } from "tessera-tokens";
import { STORES, bytes, serviceFor, vector, withoutHash } from "./support.mjs";

/** Asserts that `promise` rejects with a TokenError carrying `code`. */
async function rejectsWith(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof TokenError, `expected a TokenError, got ${error}`);
    assert.equal(error.code, code);
    return true;
  });
}

describe("format vectors", () => {
  const v = vector("format");

  test("every parse case", () => {
    assert.ok(v.parse.length > 0);
    for (const c of v.parse) {
      if (c.expect.error) {
        assert.throws(
          () => parseToken(c.input, { prefix: v.prefix }),
          (e) => e instanceof TokenError && e.code === c.expect.error,
          c.name,
        );
      } else {
        assert.equal(parseToken(c.input, { prefix: v.prefix }).expose(), c.expect.token, c.name);
      }
    }
  });

  test("the published pattern and length", () => {
    assert.equal(tokenPattern(v.prefix).source, v.pattern);
    for (const c of v.issued) {
      assert.equal(c.token.length, v.length);
      assert.match(c.token, new RegExp(`^${v.pattern}$`));
    }
  });

  for (const [kind, makeStore] of STORES) {
    test(`tokens composed from entropy (${kind})`, async () => {
      for (const c of v.issued) {
        const deployment = { prefix: v.prefix, catalog: [{ action: "a.b" }] };
        const service = serviceFor(deployment, makeStore(), { now: 1_800_000_000_000, entropy: c.entropy });
        const { token, record } = await service.issue("u", { name: "n", scope: { preset: "all" } });
        assert.equal(token, c.token);
        assert.equal(record.id, c.id);
        assert.equal(record.hint, c.hint);
        const presented = parseToken(token);
        assert.equal(presented.id, c.id);
        assert.equal(presented.hint, c.hint);
      }
    });
  }
});

describe("hash vectors", () => {
  test("SHA-256 and peppered HMAC-SHA-256", () => {
    const v = vector("hash");
    assert.ok(v.cases.length > 0);
    for (const c of v.cases) {
      const pepper = c.pepper === null ? undefined : bytes(c.pepper);
      assert.equal(hashToken(c.token, pepper), c.hash);
    }
  });
});

describe("scope vectors", () => {
  const v = vector("scope");
  const base = { prefix: "tsr", catalog: v.catalog, policy: {} };
  const grown = { prefix: "tsr", catalog: v.grownCatalog, policy: {} };
  const now = 1_800_000_000_000;

  for (const [kind, makeStore] of STORES) {
    test(`allows, under the catalog at issue or a grown one (${kind})`, async () => {
      assert.ok(v.allows.length > 0);
      for (const [i, c] of v.allows.entries()) {
        const store = makeStore();
        const entropy = i.toString(16).padStart(2, "0").repeat(32);
        const issuer = serviceFor(base, store, { now, entropy });
        const { token, record } = await issuer.issue("u1", { name: "scope", scope: c.scope });
        assert.deepEqual(record.scope, c.resolved, JSON.stringify(c.scope));
        const checker = serviceFor(c.catalog === "grown" ? grown : base, store, { now });
        const result = await checker.check(token, c.request);
        assert.equal(result.ok, c.expect, `${JSON.stringify(c.scope)} ${JSON.stringify(c.request)}`);
        if (!c.expect) assert.equal(result.code, "SCOPE_DENIED");
      }
    });
  }

  test("invalid scopes are refused at issue", async () => {
    assert.ok(v.invalid.length > 0);
    const service = serviceFor(base, new MemoryStore(), { now });
    for (const c of v.invalid) {
      await rejectsWith(service.issue("u1", { name: "scope", scope: c.scope }), c.expect.error);
    }
  });

  test("subset", () => {
    assert.ok(v.subset.length > 0);
    const service = serviceFor(base, new MemoryStore(), { now });
    for (const c of v.subset) {
      assert.equal(service.isSubset(c.a, c.b), c.expect, `${JSON.stringify(c.a)} within ${JSON.stringify(c.b)}`);
    }
  });
});

describe("issue vectors", () => {
  const v = vector("issue");

  for (const [kind, makeStore] of STORES) {
    test(`every case (${kind})`, async () => {
      assert.ok(v.cases.length > 0);
      for (const c of v.cases) {
        const store = makeStore();
        const parent = c.parent === null ? undefined : v.parents[c.parent];
        if (parent && parent.record.userId !== c.request.userId) {
          // A token acts for its own user: another user's parent cannot
          // even be expressed through the API.
          assert.equal(c.expect.error, "PARENT_INVALID", c.name);
          continue;
        }
        if (parent) await store.put(parent.record);
        // The vectors state how many live tokens the user holds; the core
        // counts them among the user's records.
        const template = Object.values(v.parents)[0].record;
        for (let i = 0; i < c.request.tokensHeld; i++) {
          assert.equal(parent, undefined, "fillers and parents are not mixed");
          const hash = (i + 1).toString(16).padStart(64, "0");
          const filler = { ...template, id: `filler${i}`, hash, userId: c.request.userId };
          await store.put({ ...filler, expiresAt: null, status: "active", createdBy: { kind: "user" } });
        }
        const service = serviceFor(v.deployments[c.deployment], store, { now: c.now, entropy: c.entropy });
        const { tokensHeld: _held, userId, ...request } = c.request;
        const issuing = (async () => {
          const actor = parent ? await service.authenticate(parent.token, { ip: c.ip }) : userId;
          return service.issue(actor, request);
        })();
        if (c.expect.error) {
          await rejectsWith(issuing, c.expect.error);
          continue;
        }
        const { token, record } = await issuing;
        assert.equal(token, c.expect.token, c.name);
        assert.deepEqual(record, withoutHash(c.expect.record), c.name);
        assert.deepEqual(await store.getById(record.id), c.expect.record, c.name);
      }
    });
  }
});

/** Whether a standing is the one a store without users implies. */
function isOwnerDefault(owner) {
  return !owner.admin && owner.tokens === "on" && owner.membersEnabled;
}

/** Tokens are enabled for administrators always, for members by their setting. */
function tokensEnabled(standing) {
  if (standing.admin) return true;
  return standing.tokens === "inherit" ? standing.membersEnabled : standing.tokens === "on";
}

describe("verify vectors", () => {
  const v = vector("verify");

  for (const [kind, makeStore] of STORES) {
    test(`every case (${kind})`, async () => {
      assert.ok(v.cases.length > 0);
      for (const c of v.cases) {
        const store = makeStore();
        for (const record of v.records) await store.put(record);
        // A store that knows users tells the core the owner's standing.
        if (!isOwnerDefault(c.owner)) store.ownerOf = () => c.owner;
        const service = serviceFor(v.deployments[c.deployment], store, { now: c.now });
        // The client's address, as the application passes it.
        const request = { ...c.request, ip: c.ip };
        const result = await service.check(c.input, request);
        if (c.expect.error) {
          assert.deepEqual(result, { ok: false, code: c.expect.error }, c.name);
          await assert.rejects(service.verify(c.input, request), { name: "TokenError", code: c.expect.error });
          continue;
        }
        assert.equal(result.ok, true, `${c.name}: ${result.code}`);
        assert.equal(result.principal.userId, c.expect.userId, c.name);
        assert.equal(result.principal.tokenId, c.expect.tokenId, c.name);
        const before = v.records.find((r) => r.id === c.expect.tokenId).lastUsedAt;
        const after = (await store.getById(c.expect.tokenId)).lastUsedAt;
        assert.equal(after, c.expect.touch ? c.now : before, `${c.name}: last-used`);
      }
    });
  }
});

describe("rotate vectors", () => {
  const v = vector("rotate");

  for (const [kind, makeStore] of STORES) {
    test(`every case (${kind})`, async () => {
      assert.ok(v.cases.length > 0);
      for (const c of v.cases) {
        const store = makeStore();
        await store.put(c.record);
        const service = serviceFor(v.deployments[c.deployment], store, { now: c.now, entropy: c.entropy });
        const rotating = service.rotate(c.record.userId, c.record.id, { graceMs: c.graceMs });
        if (c.expect.error) {
          await rejectsWith(rotating, c.expect.error);
          assert.deepEqual(await store.getById(c.record.id), c.record, `${c.name}: the old record is untouched`);
          continue;
        }
        const { token, record } = await rotating;
        assert.equal(token, c.expect.token, c.name);
        assert.deepEqual(record, withoutHash(c.expect.record), c.name);
        assert.deepEqual(await store.getById(record.id), c.expect.record, c.name);
        assert.deepEqual(await store.getById(c.record.id), c.expect.retired, c.name);
      }
    });
  }
});

describe("lifecycle vectors", () => {
  const v = vector("lifecycle");
  const byId = (list) => [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  /** What the store holds after `writes` on `records`. */
  function after(records, writes) {
    const held = new Map(records.map((r) => [r.id, r]));
    for (const write of writes) {
      if (write.put) held.set(write.put.id, write.put);
      else held.delete(write.delete);
    }
    return byId(held.values());
  }

  /** Runs one case's operation through the public API. */
  async function run(service, actor, op) {
    switch (op.op) {
      case "create":
        return service.issue(actor, op.request);
      case "rotate":
        return service.rotate(actor, op.id, { graceMs: op.graceMs });
      case "update":
        return service.update(actor, op.id, op.edit, { cascade: op.cascade });
      case "delete":
        return service.delete(actor, op.id, { cascade: op.cascade });
      case "list":
        return { ids: (await service.list(actor)).map((r) => r.id) };
      case "get":
        return { ids: [(await service.get(actor, op.id)).id] };
      case "expiringWithin":
        return { ids: (await service.expiringWithin(actor, { ms: op.windowMs })).map((r) => r.id) };
      default:
        throw new Error(`unknown operation ${op.op}`);
    }
  }

  for (const [kind, makeStore] of STORES) {
    test(`every case (${kind})`, async () => {
      let replayed = 0;
      for (const c of v.cases) {
        // The package's user actors may always create tokens (the
        // application decides whom it lets call issue): the cases about a
        // deployment's disabled members are the token service's. A token
        // actor's owner comes from the store, as `ownerOf` tells it.
        if (c.actor.kind === "user" && !tokensEnabled(c.actor.standing)) continue;
        // The package has no administrators, issuers nor "deactivate all":
        // the token service's console.
        if (["administrator", "issuer"].includes(c.actor.kind) || c.operation.op === "deactivateAll") continue;
        replayed++;
        const store = makeStore();
        for (const record of v.records) await store.put(record);
        if (c.actor.kind === "token") store.ownerOf = () => c.actor.standing;
        const users = [...new Set(v.records.map((r) => r.userId))];
        const entropy = c.operation.entropy;
        const service = serviceFor(v.deployments[c.deployment], store, { now: v.now, entropy });
        let actor;
        try {
          actor =
            c.actor.kind === "user"
              ? c.actor.userId
              : await service.authenticate(c.actor.token, { ip: c.actor.ip });
        } catch (error) {
          // Refused as it authenticates: its user's tokens are disabled, or
          // it comes from outside its allowed IPs.
          assert.equal(error.code, c.expect.error, c.name);
          assert.ok(["TOKENS_DISABLED", "IP_DENIED"].includes(error.code), c.name);
          continue;
        }
        const held = async () => byId((await Promise.all(users.map((u) => store.listByUser(u)))).flat());
        // Authenticating may record a use: that is the state the case starts from.
        const before = await held();
        const outcome = await run(service, actor, c.operation).then(
          (value) => ({ value }),
          (error) => ({ error }),
        );
        if (c.expect.error) {
          assert.ok(outcome.error instanceof TokenError, `${c.name}: ${outcome.error ?? "no error"}`);
          assert.equal(outcome.error.code, c.expect.error, c.name);
          assert.deepEqual(await held(), before, `${c.name}: a refusal changed the store`);
          continue;
        }
        assert.equal(outcome.error, undefined, `${c.name}: ${outcome.error}`);
        if (c.expect.ids) {
          assert.deepEqual(outcome.value.ids, c.expect.ids, c.name);
          continue;
        }
        if (c.expect.token) assert.equal(outcome.value.token, c.expect.token, c.name);
        // The writes expected were computed before any use was recorded.
        const touched = new Map(before.map((r) => [r.id, r.lastUsedAt]));
        const expected = after(v.records, c.expect.writes).map((r) =>
          touched.has(r.id) && !c.expect.writes.some((w) => w.put?.id === r.id) ? { ...r, lastUsedAt: touched.get(r.id) } : r,
        );
        const written = c.expect.writes.map((w) => w.put?.id ?? w.delete);
        const got = await held();
        for (const record of expected) {
          const stored = got.find((r) => r.id === record.id);
          if (written.includes(record.id) && c.actor.kind === "token") {
            // The acting token's own use may be recorded on its new state.
            assert.deepEqual({ ...stored, lastUsedAt: null }, { ...record, lastUsedAt: null }, `${c.name}: ${record.id}`);
          } else {
            assert.deepEqual(stored, record, `${c.name}: ${record.id}`);
          }
        }
        assert.equal(got.length, expected.length, `${c.name}: record count`);
      }
      assert.ok(replayed > 30, `only ${replayed} lifecycle cases replayed`);
    });
  }
});
