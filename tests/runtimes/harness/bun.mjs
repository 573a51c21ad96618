// Bun, through the exports map's `bun` condition.
import { conformance, summary } from "../conformance.mjs";

const result = await conformance();
for (const failure of result.failures) console.error(failure);
console.log(summary(`bun ${Bun.version}`, result));
process.exit(result.failed === 0 && result.passed > 0 ? 0 : 1);
