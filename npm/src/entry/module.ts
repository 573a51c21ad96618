/**
 * The entry point for Cloudflare workerd, which refuses to compile
 * WebAssembly from bytes: the `.wasm` file is imported as a module, which
 * the runtime or its bundler compiles, and instantiated synchronously on
 * import. (Vercel's edge runtime has its own, `edge-module.ts`.)
 */
import module from "tessera:wasm-module";
import { initSync } from "../wasm.js";

initSync({ module });

export * from "../index.js";
