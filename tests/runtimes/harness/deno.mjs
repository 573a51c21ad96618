// Deno, through the exports map's `deno` condition.
import { conformance, summary } from "../conformance.mjs";

const result = await conformance();
for (const failure of result.failures) console.error(failure);
console.log(summary(`deno ${Deno.version.deno}`, result));
Deno.exit(result.failed === 0 && result.passed > 0 ? 0 : 1);
