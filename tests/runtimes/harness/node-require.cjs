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
  console.log(`node ${process.version} (require): 2 passed, 0 failed`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
