/**
 * The compiled core, as wasm-bindgen generates it from `wasm/bindgen`.
 * Every entry point calls `initSync` with the module before anything else
 * of the package runs.
 */
export {
  Deployment,
  RecordIndex,
  codes,
  hash_token,
  initSync,
  present,
  record_edit,
  record_expires_within,
  record_info,
  record_set_status,
  token_pattern,
} from "./generated/tessera_wasm.js";
