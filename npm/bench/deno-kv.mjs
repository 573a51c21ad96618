// Verify latency over DenoKvStore (a local Deno KV file) beside MemoryStore,
// in one Deno run (a script, not a test): 1,000 tokens issued into each,
// every token verified once (which writes its last-used time), then ROUNDS
// rounds of VERIFIES verifications with the clock standing still (no more
// last-used writes). Prints ns/op per round, the medians and the ratio.
//
//   cd npm && DENO_NO_UPDATE_CHECK=1 node_modules/.bin/deno run \
//     --allow-read --allow-write --allow-env --unstable-kv bench/deno-kv.mjs
//
// Options (environment): TOKENS=1000 VERIFIES=20000 ROUNDS=5.

import { MemoryStore, TokenService } from "tessera-tokens";
import { DenoKvStore } from "tessera-tokens/deno-kv";
import { CATALOG } from "../test/support.mjs";

const TOKENS = Number(Deno.env.get("TOKENS") ?? 1_000);
const VERIFIES = Number(Deno.env.get("VERIFIES") ?? 20_000);
const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 5);
const REQUEST = { action: "apps.read" };
const now = 1_800_000_000_000;

async function measure(name, store) {
  const tokens = new TokenService({ prefix: "tsr", catalog: CATALOG, store, now: () => now });
  const headers = [];
  for (let i = 0; i < TOKENS; i++) {
    const { token } = await tokens.issue(`user${i % 100}`, { name: "bench", scope: { actions: ["apps.read"] } });
    headers.push(`Bearer ${token}`);
  }
  for (const header of headers) await tokens.verify(header, REQUEST); // warm-up, last-used written
  const samples = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < VERIFIES; i++) {
      const principal = await tokens.verify(headers[i % TOKENS], REQUEST);
      if (principal.userId === undefined) throw new Error("not verified");
    }
    samples.push(((performance.now() - start) * 1e6) / VERIFIES);
  }
  const median = [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  console.log(`${name.padEnd(34)} median ${median.toFixed(0).padStart(7)} ns/op   rounds: ${samples.map((s) => s.toFixed(0)).join(", ")}`);
  return median;
}

const dir = await Deno.makeTempDir({ prefix: "tessera-deno-kv-bench-" });
const kv = await Deno.openKv(`${dir}/bench.sqlite`);
try {
  console.log(`deno ${Deno.version.deno}: ${TOKENS} tokens, ${ROUNDS} rounds of ${VERIFIES} verifies`);
  const memory = await measure("MemoryStore", new MemoryStore());
  const denoKv = await measure("DenoKvStore (local Deno KV file)", new DenoKvStore(kv));
  console.log(`ratio DenoKvStore / MemoryStore: ${(denoKv / memory).toFixed(1)}x`);
} finally {
  kv.close();
  await Deno.remove(dir, { recursive: true });
}
