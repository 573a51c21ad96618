/**
 * The entry point for Node (ESM and CommonJS), Deno, Bun and any runtime
 * that may compile WebAssembly from bytes: the module is embedded in the
 * bundle and instantiated synchronously on import.
 */
import bytes from "tessera:wasm-bytes";
import { initSync } from "../wasm.js";

initSync({ module: bytes });

export * from "../index.js";
