// The store conformance suite over MemoryStore, and the packaging of the
// stores with subpaths of their own (which needs no backend to check). The same suite runs over
// RedisStore against a real Redis in redis/redis-store.test.mjs, through
// scripts/test-redis.sh.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { MemoryStore } from "tessera-tokens";
import { RedisStore } from "tessera-tokens/redis";
import { storeConformance } from "./store-conformance.mjs";

storeConformance("MemoryStore", () => new MemoryStore());

describe("packaging of the stores: tessera-tokens/redis, /d1, /deno-kv, /remote", () => {
  const dist = new URL("../dist/", import.meta.url);

  test("the main, workerd and edge entries include none of the stores with subpaths of their own", () => {
    for (const file of ["index.mjs", "node.mjs", "node.cjs", "workerd.mjs", "edge-light.mjs"]) {
      const text = readFileSync(new URL(file, dist), "utf8");
      for (const name of ["RedisStore", "ioredis", "D1Store", "DenoKvStore", "IntrospectionStore", "/api/introspect"]) {
        assert.ok(!text.includes(name), `${file} includes ${name}`);
      }
    }
    const types = readFileSync(new URL("types/index.d.ts", dist), "utf8");
    for (const name of ["redis", "d1-store", "deno-kv-store", "introspection-store"]) {
      assert.ok(!types.includes(name), `the main declarations mention ${name}`);
    }
  });

  test("each store's subpath has no runtime imports (the application passes its client, binding or URL)", () => {
    for (const file of ["redis", "d1", "deno-kv", "remote"].flatMap((name) => [`${name}.mjs`, `${name}.cjs`])) {
      const text = readFileSync(new URL(file, dist), "utf8");
      assert.doesNotMatch(text, /\bimport\s*[^(]|\brequire\(/, file);
    }
  });

  test("ESM and CommonJS both export RedisStore; a wrong client or prefix is a TypeError", () => {
    const require = createRequire(import.meta.url);
    const cjs = require("tessera-tokens/redis");
    assert.equal(typeof cjs.RedisStore, "function");
    assert.throws(() => new RedisStore(null), TypeError);
    assert.throws(() => new RedisStore({ get() {} }), TypeError);
    const defined = [];
    const fake = {
      get() {},
      hmget() {},
      smembers() {},
      scard() {},
      defineCommand: (name) => defined.push(name),
    };
    assert.throws(() => new RedisStore(fake, { prefix: 3 }), TypeError);
    const store = new cjs.RedisStore(fake);
    assert.equal(store.prefix, "tessera:");
    assert.equal(new RedisStore(fake, { prefix: "{t}:" }).prefix, "{t}:");
    assert.ok(defined.length >= 3 && defined.every((name) => name.startsWith("tesseraStore")));
  });
});
