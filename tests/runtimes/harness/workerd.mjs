// Cloudflare workerd: bundled with the `workerd` condition, so the package
// imports its .wasm file as a module (workerd refuses to compile bytes).
// `workerd test` calls the `test` handler; a throw fails the run.
import { conformance, summary } from "../conformance.mjs";

export default {
  async test() {
    const result = await conformance();
    for (const failure of result.failures) console.error(failure);
    console.log(summary("workerd", result));
    if (result.failed !== 0 || result.passed === 0) {
      throw new Error(summary("workerd", result));
    }
  },
};
