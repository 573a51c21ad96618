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
