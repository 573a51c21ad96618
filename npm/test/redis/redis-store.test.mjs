// RedisStore against a real Redis: the store conformance suite, the key
// layout, concurrency, and Redis stopped (and hung) mid-test. Needs
// TESSERA_REDIS_URL (and TESSERA_REDIS_SERVER, a redis-server binary, for
// the outage tests); scripts/test-redis.sh starts a Redis and sets both.
// Without them this file fails: it never skips silently.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as tcpConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { Redis } from "ioredis";
import { TokenService, hashToken } from "tessera-tokens";
import { RedisStore } from "tessera-tokens/redis";
import { sampleRecords, storeConformance } from "../store-conformance.mjs";
import { CATALOG, manualClock } from "../support.mjs";

const url = process.env.TESSERA_REDIS_URL;
const serverBinary = process.env.TESSERA_REDIS_SERVER;
if (!url || !serverBinary) {
  throw new Error(
    "TESSERA_REDIS_URL and TESSERA_REDIS_SERVER are not set: run `bash scripts/test-redis.sh`, which starts a Redis for these tests",
  );
}

/** Options that make an outage fail requests at once instead of queueing them. */
const FAIL_FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 500,
  connectTimeout: 500,
  retryStrategy: () => 50,
  lazyConnect: true,
};

/** A connected client, or a loud failure within a few seconds. */
async function connect(target, options = {}) {
  const client = new Redis(target, { ...FAIL_FAST, ...options });
  client.on("error", () => {}); // Reported through the failing commands instead.
  const timeout = sleep(3000).then(() => {
    throw new Error(`Redis at ${target} did not answer within 3 s`);
  });
  try {
    await Promise.race([client.connect(), timeout]);
    await client.ping();
  } catch (cause) {
    client.disconnect();
    throw new Error(`Redis at ${target} is unreachable (${cause.message}): is the server that TESSERA_REDIS_URL names running?`);
  }
  return client;
}

const client = await connect(url);
after(() => client.disconnect());

/** Every key under a prefix, sorted. */
async function keysUnder(redis, prefix) {
  const found = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== "0");
  return found.sort();
}

async function dropKeys(redis, prefix) {
  const keys = await keysUnder(redis, prefix);
  if (keys.length > 0) await redis.del(...keys);
}

const testPrefix = () => `tessera-test:${randomUUID()}:`;

storeConformance("RedisStore", () => new RedisStore(client, { prefix: testPrefix() }), {
  after: (store) => dropKeys(client, store.prefix),
});

describe("RedisStore: keys and concurrency", () => {
  test("the key layout, and nothing left behind after moves and deletes", async () => {
    const prefix = testPrefix();
    const store = new RedisStore(client, { prefix });
    const { parent, child, freshHash } = await sampleRecords();
    await store.put(parent);
    await store.put(child);
    assert.deepEqual(
      await keysUnder(client, prefix),
      [
        `${prefix}hash:${child.hash}`,
        `${prefix}hash:${parent.hash}`,
        `${prefix}id:${child.id}`,
        `${prefix}id:${parent.id}`,
        `${prefix}user:u1`,
      ].sort(),
    );
    assert.equal(await client.type(`${prefix}id:${parent.id}`), "hash");
    assert.deepEqual(await client.hgetall(`${prefix}id:${parent.id}`), {
      json: JSON.stringify(parent),
      hash: parent.hash,
      userId: "u1",
    });
    assert.equal(await client.get(`${prefix}hash:${parent.hash}`), parent.id);
    assert.deepEqual((await client.smembers(`${prefix}user:u1`)).sort(), [child.id, parent.id].sort());
    assert.equal(JSON.stringify(await store.getById(parent.id)), JSON.stringify(parent), "the same JSON, byte for byte");

    await store.touch(parent.id, 1_800_000_000_001);
    assert.equal(await client.hget(`${prefix}id:${parent.id}`, "lastUsedAt"), "1800000000001");
    await store.put({ ...parent, hash: freshHash, userId: "u5" });
    assert.equal(await client.exists(`${prefix}hash:${parent.hash}`), 0, "no stale hash entry");
    assert.deepEqual(await client.smembers(`${prefix}user:u1`), [child.id], "no stale user entry");
    assert.equal(await client.hget(`${prefix}id:${parent.id}`, "lastUsedAt"), null, "a put replaces the whole record");

    const conflict = await store.put({ ...child, hash: freshHash }).catch((error) => error);
    assert.match(conflict.message, /^RedisStore\.put: .*another record is stored under this hash/);
    assert.ok(!inspect(conflict).includes(freshHash), "errors carry no command arguments");

    assert.equal(await store.delete(parent.id), true);
    assert.equal(await store.delete(child.id), true);
    await store.touch(child.id, 1_800_000_000_003);
    assert.deepEqual(await keysUnder(client, prefix), [], "touching a deleted id creates nothing");
  });

  test("the default prefix is tessera:, and a client's own keyPrefix comes first", async () => {
    const other = await connect(url, { db: 1 });
    const prefixed = await connect(url, { db: 1, keyPrefix: "app:" });
    try {
      await other.flushdb();
      const { parent } = await sampleRecords();
      const plain = new RedisStore(other);
      assert.equal(plain.prefix, "tessera:");
      await plain.put(parent);
      assert.ok((await keysUnder(other, "tessera:")).includes(`tessera:id:${parent.id}`));
      assert.equal(await plain.delete(parent.id), true);

      const nested = new RedisStore(prefixed);
      await nested.put(parent);
      assert.deepEqual(await nested.getByHash(parent.hash), parent);
      assert.equal(await nested.countByUser("u1"), 1);
      assert.deepEqual(
        await keysUnder(other, ""),
        [`app:tessera:hash:${parent.hash}`, `app:tessera:id:${parent.id}`, "app:tessera:user:u1"].sort(),
      );
      await nested.touch(parent.id, 1_800_000_000_002);
      assert.equal((await nested.getById(parent.id)).lastUsedAt, 1_800_000_000_002);
      assert.equal(await nested.delete(parent.id), true);
      assert.deepEqual(await keysUnder(other, ""), []);
    } finally {
      await other.flushdb();
      other.disconnect();
      prefixed.disconnect();
    }
  });

  test("hundreds of concurrent issues all land, counted and findable", async () => {
    const prefix = testPrefix();
    const store = new RedisStore(client, { prefix });
    try {
      const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: manualClock().read });
      const issued = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          tokens.issue(`user${i % 5}`, { name: `t${i}`, scope: { preset: "read" } }),
        ),
      );
      assert.equal(new Set(issued.map((x) => x.record.id)).size, 300);
      for (let u = 0; u < 5; u++) {
        assert.equal(await store.countByUser(`user${u}`), 60);
        assert.equal((await tokens.list(`user${u}`)).length, 60);
      }
      const checks = await Promise.all(issued.map((x) => tokens.check(x.token, { action: "apps.read" })));
      assert.ok(checks.every((c) => c.ok));
      // Each deletion reads its user's 60 records first (the core decides
      // over them): delete in bursts of 30, so the 500 ms command timeout
      // measures Redis, not a queue of 18,000 record reads.
      for (let i = 0; i < issued.length; i += 30) {
        await Promise.all(issued.slice(i, i + 30).map((x) => tokens.delete(x.record.userId, x.record.id)));
      }
      assert.deepEqual(await keysUnder(client, prefix), []);
    } finally {
      await dropKeys(client, prefix);
    }
  });
});

/** A loopback port nothing listens on, for a moment. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A redis-server of this test's own, in a temporary directory, with an
 * append-only file so that its data survives a stop and start.
 */
class OwnRedis {
  constructor(port, dir) {
    this.port = port;
    this.dir = dir;
    this.process = undefined;
  }

  start() {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--appendonly", "yes"];
    args.push("--appendfsync", "always", "--daemonize", "no", "--logfile", join(this.dir, "redis.log"));
    this.process = spawn(serverBinary, args, { stdio: "ignore" });
    this.exited = new Promise((resolve) => this.process.once("exit", resolve));
  }

  async stop(signal = "SIGTERM") {
    if (this.process === undefined || this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill(signal);
    await Promise.race([this.exited, sleep(5000)]);
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill("SIGKILL");
      await this.exited;
    }
  }
}

/** Whether something accepts connections on the loopback port. */
function listening(port) {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until `check` resolves true, for at most `ms`. */
async function eventually(check, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

describe("RedisStore: Redis stops mid-run", () => {
  test("verify fails closed with STORE_FAILED while Redis is down or hung, and recovers", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-redis-outage-"));
    const server = new OwnRedis(await freePort(), dir);
    const onExit = () => server.process?.kill("SIGKILL");
    process.once("exit", onExit);
    t.after(async () => {
      process.removeListener("exit", onExit);
      if (server.paused) server.process.kill("SIGCONT");
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    server.start();
    const redis = new Redis(`redis://127.0.0.1:${server.port}`, FAIL_FAST);
    redis.on("error", () => {});
    t.after(() => redis.disconnect());
    await eventually(() => listening(server.port), 5000, "redis-server started");
    await redis.connect();

    const clock = manualClock();
    const store = new RedisStore(redis);
    const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: clock.read });
    const request = { action: "apps.read" };
    const { token, record } = await tokens.issue("u1", { name: "a", scope: { preset: "all" } });
    assert.equal((await tokens.check(token, request)).ok, true);

    // Stopped: every answer is STORE_FAILED, quickly, never a principal.
    await server.stop();
    for (let i = 0; i < 5; i++) {
      clock.now += 60_000; // so that verify also wants to write last-used
      const started = Date.now();
      assert.deepEqual(await tokens.check(token, request), { ok: false, code: "STORE_FAILED" });
      await assert.rejects(tokens.verify(`Bearer ${token}`, request), { name: "TokenError", code: "STORE_FAILED" });
      assert.ok(Date.now() - started < 2000, "fails fast");
    }
    // What an application may log of the failure holds neither the token nor its hash.
    const failure = await tokens.rename("u1", record.id, { name: "b" }).catch((error) => error);
    assert.equal(failure.code, "STORE_FAILED");
    assert.match(failure.cause.message, /^RedisStore\.listByUser: /);
    const direct = await store.getByHash(hashToken(token)).catch((error) => error);
    assert.match(direct.message, /^RedisStore\.getByHash: /);
    for (const shown of [inspect(failure), inspect(failure.cause), String(failure.cause.stack), inspect(direct)]) {
      assert.ok(!shown.includes(hashToken(token)) && !shown.includes(token.slice(4, 20)), shown);
    }
    await assert.rejects(tokens.issue("u1", { name: "b", scope: { preset: "all" } }), { code: "STORE_FAILED" });
    await assert.rejects(tokens.list("u1"), { code: "STORE_FAILED" });

    // Back (same data directory): the client reconnects by itself.
    server.start();
    await eventually(async () => redis.status === "ready", 10_000, "the client reconnected");
    assert.deepEqual((await tokens.verify(token, request)).tokenId, record.id);
    assert.equal((await tokens.list("u1")).length, 1, "no acknowledged write was lost");

    // Hung (stopped with SIGSTOP): the command timeout turns into STORE_FAILED.
    server.process.kill("SIGSTOP");
    server.paused = true;
    const started = Date.now();
    assert.deepEqual(await tokens.check(token, request), { ok: false, code: "STORE_FAILED" });
    assert.ok(Date.now() - started < 3000, "fails within the command timeout");
    server.process.kill("SIGCONT");
    server.paused = false;
    await eventually(async () => (await tokens.check(token, request)).ok, 10_000, "verification recovered after the hang");
  });
});
