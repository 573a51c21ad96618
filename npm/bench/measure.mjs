// The benchmarks' one timing loop (Node): the median ns/op of awaited calls.

/**
 * The median ns/op of `op(i)` over `rounds` rounds of `batch` awaited calls
 * each, after up to `warm` calls to warm up.
 */
export async function measure(batch, op, { rounds, warm = 2_000 }) {
  for (let i = 0; i < Math.min(batch, warm); i++) await op(i);
  const samples = [];
  let i = 0;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let n = 0; n < batch; n++) await op(i++);
    samples.push(Number(process.hrtime.bigint() - start) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * The median ns/op of each of `ops` (name → op), measured in alternating
 * rounds: round r of every op runs before round r + 1 of any, so a machine
 * that slows down or speeds up mid-run moves all of them alike and their
 * ratios hold. Each round is `batch` awaited calls, after a warm-up.
 */
export async function measureTogether(batch, ops, { rounds, warm = 2_000 }) {
  const names = Object.keys(ops);
  const counters = Object.fromEntries(names.map((name) => [name, 0]));
  for (const name of names) {
    for (let i = 0; i < Math.min(batch, warm); i++) await ops[name](counters[name]++);
  }
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const op = ops[name];
      let i = counters[name];
      const start = process.hrtime.bigint();
      for (let n = 0; n < batch; n++) await op(i++);
      samples[name].push(Number(process.hrtime.bigint() - start) / batch);
      counters[name] = i;
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const sorted = samples[name].sort((a, b) => a - b);
      return [name, sorted[Math.floor(sorted.length / 2)]];
    }),
  );
}
