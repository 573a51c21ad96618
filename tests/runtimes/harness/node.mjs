// Node, through the exports map's `import` condition.
import { conformance, summary } from "../conformance.mjs";

const result = await conformance();
for (const failure of result.failures) console.error(failure);
console.log(summary(`node ${process.version} (import)`, result));
process.exitCode = result.failed === 0 && result.passed > 0 ? 0 : 1;
