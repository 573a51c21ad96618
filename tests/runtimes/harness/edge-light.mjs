// Vercel's edge runtime: bundled with the `edge-light` condition into a
// script that run.mjs evaluates in an EdgeRuntime context, which reports
// through the `__report` function the context is given.
import { conformance, summary } from "../conformance.mjs";

conformance().then(
  (result) => globalThis.__report(summary("edge-runtime", result), result),
  (error) => globalThis.__report(`edge-runtime: ${error}`, { passed: 0, failed: 1, failures: [String(error)] }),
);
