// Deno, through the exports map's `deno` condition.
import { conformance, summary } from "../conformance.mjs";

const result = await conformance();
// Deno compiles the shipped tessera.wasm through deno.mjs (a source-phase
// import; the build checks that entry does not embed the module), and this
// run has no --allow-read, so loading it needed none.
const entry = import.meta.resolve("tessera-tokens");
if (entry.endsWith("/dist/deno.mjs")) {
  result.passed += 1;
} else {
  result.failed += 1;
  result.failures.push(`the Deno entry ${entry} is not deno.mjs`);
}
for (const failure of result.failures) console.error(failure);
console.log(summary(`deno ${Deno.version.deno}`, result));
Deno.exit(result.failed === 0 && result.passed > 0 ? 0 : 1);
