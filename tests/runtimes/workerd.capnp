# The workerd configuration for the conformance run: one worker whose test
# handler runs the checks. The package's workerd build imports tessera.wasm
# as a module, which is how workerd accepts WebAssembly.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "conformance", worker = .conformanceWorker) ],
);

const conformanceWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "build/worker.mjs"),
    (name = "tessera.wasm", wasm = embed "build/tessera.wasm"),
  ],
  compatibilityDate = "2025-09-01",
);
