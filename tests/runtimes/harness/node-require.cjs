// Node, through the exports map's `require` condition: the CommonJS build.
const assert = require("node:assert/strict");
const tessera = require("tessera-tokens");

async function main() {
  const tokens = new tessera.TokenService({
    prefix: "tsr",
    catalog: [{ action: "apps.read" }, { action: "apps.write" }],
    store: new tessera.MemoryStore(),
  });
  const { token } = await tokens.issue("u1", { name: "CI", scope: { actions: ["apps.read"] } });
  assert.equal((await tokens.verify(token, { action: "apps.read" })).userId, "u1");
  const denied = await tokens.check(token, { action: "apps.write" });
  assert.deepEqual(denied, { ok: false, code: "SCOPE_DENIED" });
  // Node loads the shipped tessera.wasm: its entry does not embed the module.
  const entry = require.resolve("tessera-tokens");
  const wasm = require("node:path").join(require("node:path").dirname(entry), "tessera.wasm");
  const size = (file) => require("node:fs").statSync(file).size;
  assert.ok(entry.endsWith("node.cjs") && size(entry) < size(wasm), entry);
  console.log(`node ${process.version} (require): 3 passed, 0 failed`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
