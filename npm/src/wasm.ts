/**
 * The compiled core, as wasm-bindgen generates it from `wasm/bindgen`.
 * Every entry point calls `initSync` with the module before anything else
 * of the package runs.
 */
export {
  Deployment,
  Owner,
  Record,
  RecordIndex,
  RecordSet,
  codes,
  hash_token,
  initSync,
  present,
  rfc3339_millis,
  token_pattern,
} from "./generated/tessera_wasm.js";
