/**
 * The default entropy source: `crypto.getRandomValues`, drawn 1 KiB at a
 * time because each call costs microseconds in Node. Every token still gets
 * 32 bytes no other token sees; bytes are zeroed in the pool once handed out.
 */
export function randomSource(): (bytes: Uint8Array) => void {
  const crypto = globalThis.crypto;
  if (typeof crypto?.getRandomValues !== "function") {
    throw new TypeError("this runtime has no crypto.getRandomValues: pass the entropy option");
  }
  const pool = new Uint8Array(1024);
  let used = pool.length;
  return (bytes) => {
    if (bytes.length > pool.length) {
      crypto.getRandomValues(bytes);
      return;
    }
    if (used + bytes.length > pool.length) {
      crypto.getRandomValues(pool);
      used = 0;
    }
    const slice = pool.subarray(used, used + bytes.length);
    bytes.set(slice);
    slice.fill(0);
    used += bytes.length;
  };
}

/**
 * Builds something from 16 fresh random bytes (the keys of a
 * `MemoryStore`'s maps of user ids and token ids, which callers may
 * choose), then zeroes this copy of them. The bytes come from `fill` when
 * given, else from `crypto.getRandomValues`; a `fill` that leaves them all
 * zero is refused, since keys anyone can guess protect nothing.
 */
export function withSeed<T>(fill: ((bytes: Uint8Array) => void) | undefined, build: (seed: Uint8Array) => T): T {
  const seed = new Uint8Array(16);
  try {
    if (fill !== undefined) {
      fill(seed);
      if (seed.every((b) => b === 0)) {
        throw new TypeError("the entropy option left all 16 bytes zero");
      }
    } else {
      const crypto = globalThis.crypto;
      if (typeof crypto?.getRandomValues !== "function") {
        throw new TypeError("this runtime has no crypto.getRandomValues: pass the entropy option");
      }
      crypto.getRandomValues(seed);
    }
    return build(seed);
  } finally {
    seed.fill(0);
  }
}
