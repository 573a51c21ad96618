/**
 * The compiled core, as wasm-bindgen generates it from `wasm/bindgen`.
 * Every entry point calls `initSync` with the module before anything else
 * of the package runs.
 */
export {
  Deployment,
  Record,
  RecordIndex,
  RecordSet,
  codes,
  hash_token,
  initSync,
  present,
  token_pattern,
} from "./generated/tessera_wasm.js";
