// Benchmark (a script, not a test): verify through IntrospectionStore
// against a real tessera-host on loopback (answers cached in memory, and
// with the cache off), beside MemoryStore, in one run on this Node. Prints
// ns/op medians and the ratios against MemoryStore.
// Run `node bench/remote.mjs` after `node scripts/build.mjs` and
// `cargo build -p tessera-host` (or with TESSERA_HOST=path/to/an/optimised/
// tessera-host, such as target/host/tessera-host from scripts/bench-host.sh).
// Options: TOKENS=200 ROUNDS=9.

import { MemoryStore, TokenService } from "tessera-tokens";
import { IntrospectionStore } from "tessera-tokens/remote";
import { Host, SECRET } from "../test/remote/host.mjs";
import { measure as measureMedian } from "./measure.mjs";

const TOKENS = Number(process.env.TOKENS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const READ = { action: "apps.read" };

/** Median ns/op of `op(i)` over ROUNDS rounds of `batch` calls each. */
const measure = (batch, op) => measureMedian(batch, op, { rounds: ROUNDS, warm: 500 });

const host = await Host.start();
try {
  const catalog = await host.catalog();
  const hostTokens = [];
  for (let i = 0; i < TOKENS; i++) hostTokens.push(`Bearer ${(await host.issue(`bench ${i}`)).token}`);
  const memory = new TokenService({ prefix: "tsr", catalog, store: new MemoryStore() });
  const memoryTokens = [];
  for (let i = 0; i < TOKENS; i++) {
    memoryTokens.push(`Bearer ${(await memory.issue("ann", { name: `bench ${i}`, scope: { preset: "read" } })).token}`);
  }
  const cached = new TokenService({
    prefix: "tsr",
    catalog,
    store: new IntrospectionStore({ url: host.url, secret: SECRET, feedIntervalMs: 1_000 }),
  });
  const uncached = new TokenService({
    prefix: "tsr",
    catalog,
    store: new IntrospectionStore({ url: host.url, secret: SECRET, cacheMs: 0 }),
  });
  const must = async (service, header) => {
    const result = await service.check(header, READ);
    if (!result.ok) throw new Error(`refused: ${result.code}`);
  };
  const results = {
    memory: await measure(20_000, (i) => must(memory, memoryTokens[i % TOKENS])),
    cached: await measure(20_000, (i) => must(cached, hostTokens[i % TOKENS])),
    uncached: await measure(500, (i) => must(uncached, hostTokens[i % TOKENS])),
  };
  const line = (name, ns) =>
    `${name.padEnd(58)} ${ns.toFixed(0).padStart(9)} ns/op ${(1e9 / ns).toFixed(0).padStart(9)} /s  ${(ns / results.memory).toFixed(2)}x MemoryStore`;
  console.log(`node ${process.version}, ${TOKENS} tokens, median of ${ROUNDS} rounds, one verification at a time`);
  console.log(line("verify, MemoryStore", results.memory));
  console.log(line("verify, IntrospectionStore (cached, feed every 1 s)", results.cached));
  console.log(line("verify, IntrospectionStore (no cache: one host request)", results.uncached));
} finally {
  await host.close();
}
