/**
 * The entry point for Node (ESM and CommonJS) and Bun: the module is
 * read from the `tessera.wasm` shipped beside this bundle and instantiated
 * synchronously on import, so the package carries the WebAssembly once.
 */
import bytes from "tessera:wasm-file";
import { initSync } from "../wasm.js";

initSync({ module: bytes });

export * from "../index.js";
