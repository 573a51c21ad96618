/**
 * The entry point for Vercel's edge runtime: the module is imported as a
 * compiled `WebAssembly.Module` (`./tessera.wasm?module`, the form its
 * bundler takes) and instantiated synchronously on import.
 */
import module from "tessera:wasm-edge-module";
import { initSync } from "../wasm.js";

initSync({ module });

export * from "../index.js";
