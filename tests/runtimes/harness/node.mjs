// Node, through the exports map's `node` + `import` conditions.
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { conformance, summary } from "../conformance.mjs";

const result = await conformance();
// Node loads the shipped tessera.wasm: its entry does not embed the module.
const entry = fileURLToPath(import.meta.resolve("tessera-tokens"));
const wasm = fileURLToPath(new URL("tessera.wasm", import.meta.resolve("tessera-tokens")));
if (entry.endsWith("node.mjs") && statSync(entry).size < statSync(wasm).size) {
  result.passed += 1;
} else {
  result.failed += 1;
  result.failures.push(`the Node entry ${entry} embeds the module or is not node.mjs`);
}
for (const failure of result.failures) console.error(failure);
console.log(summary(`node ${process.version} (import)`, result));
process.exitCode = result.failed === 0 && result.passed > 0 ? 0 : 1;
