/**
 * The compiled module as the entry points receive it; the build script
 * resolves these names (see scripts/build.mjs).
 */
declare module "tessera:wasm-bytes" {
  /** The module's bytes, embedded in the bundle. */
  const bytes: Uint8Array;
  export default bytes;
}

declare module "tessera:wasm-module" {
  /** The module compiled by the runtime from a `.wasm` import (workerd). */
  const module: WebAssembly.Module;
  export default module;
}

declare module "tessera:wasm-edge-module" {
  /** The module compiled by Vercel's bundler from a `.wasm?module` import. */
  const module: WebAssembly.Module;
  export default module;
}

declare module "tessera:wasm-file" {
  /** The module's bytes, read from `tessera.wasm` beside the bundle (Node, Bun). */
  const bytes: Uint8Array;
  export default bytes;
}
