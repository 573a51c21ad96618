/**
 * The entry point for runtimes that refuse to compile WebAssembly from
 * bytes (Cloudflare workerd, Vercel Edge): the `.wasm` file is imported as a
 * module, which the runtime or its bundler compiles, and instantiated
 * synchronously on import.
 */
import module from "tessera:wasm-module";
import { initSync } from "../wasm.js";

initSync({ module });

export * from "../index.js";
