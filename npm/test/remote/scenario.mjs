// What a worker in front of tessera-host does with IntrospectionStore, run
// inside workerd and Vercel's edge runtime by edge.test.mjs. The host is
// real; a control server in the test process changes tokens on it and stops
// and restarts it, so the scenario sees what a fleet of workers would.
// Returns `{ passed, failed, failures, notes }`; never throws.

import { TokenService } from "tessera-tokens";
import { IntrospectionStore } from "tessera-tokens/remote";

const INTERVAL = 200;
const READ = { action: "apps.read" };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the scenario. `env` holds the host's URL and service credential, its
 * catalog (JSON), a token the host issued and the control server's URL.
 */
export async function scenario(env) {
  const result = { passed: 0, failed: 0, failures: [], notes: [] };
  const expect = (name, actual, expected) => {
    if (JSON.stringify(actual) === JSON.stringify(expected)) {
      result.passed++;
    } else {
      result.failed++;
      result.failures.push(`${name}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
  };
  const control = async (what) => {
    const response = await fetch(`${env.control}/${what}`, { method: "POST" });
    if (response.status !== 204) throw new Error(`control ${what} answered ${response.status}`);
  };
  try {
    const store = new IntrospectionStore({ url: env.url, secret: env.secret, feedIntervalMs: INTERVAL, timeoutMs: 2_000 });
    const tokens = new TokenService({ prefix: "tsr", catalog: JSON.parse(env.catalog), store });
    const header = `Bearer ${env.token}`;

    const first = await tokens.check(header, READ);
    expect("a token the host issued is accepted", first.ok && first.principal.tokenId, env.tokenId);
    expect("answered from the isolate's cache the next time", store.size, 1);
    expect("scope is the core's decision", await tokens.check(header, { action: "apps.write" }), {
      ok: false,
      code: "SCOPE_DENIED",
    });

    await control("deactivate");
    const acknowledged = Date.now();
    let refused;
    for (let i = 0; i < 100; i++) {
      const checked = await tokens.check(header, READ);
      if (!checked.ok) {
        refused = checked.code;
        break;
      }
      await sleep(20);
    }
    const took = Date.now() - acknowledged;
    expect("a token the host deactivated is refused", refused, "TOKEN_INACTIVE");
    result.notes.push(`deactivation refused ${took} ms after the host acknowledged it (interval ${INTERVAL} ms)`);
    await sleep(INTERVAL + 20);
    expect("and refused at once after the bound", (await tokens.check(header, READ)).code, "TOKEN_INACTIVE");

    await control("activate");
    await sleep(INTERVAL + 20);
    expect("reactivated on the host, accepted again", (await tokens.check(header, READ)).ok, true);

    await control("stop");
    await sleep(INTERVAL + 20);
    expect("the host gone: fails closed, cached answer or not", await tokens.check(header, READ), {
      ok: false,
      code: "STORE_FAILED",
    });
    expect("nothing kept while the feed cannot be read", store.size, 0);

    await control("start");
    expect("the host back: accepted again", (await tokens.check(header, READ)).ok, true);

    await control("delete");
    await sleep(INTERVAL + 20);
    expect("a token the host deleted is refused", (await tokens.check(header, READ)).code, "TOKEN_UNKNOWN");
    await store.flush();
  } catch (error) {
    result.failed++;
    result.failures.push(`the scenario threw: ${error?.stack ?? error}`);
  }
  return result;
}
