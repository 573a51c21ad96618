// IntrospectionStore through the read-only part of the store conformance
// suite, over a token service faked on loopback that holds exactly the
// suite's records, and fails, hangs or damages a record on request. (The
// real tessera-host is in introspection-store.test.mjs.)

import { IntrospectionStore } from "tessera-tokens/remote";
import { readOnlyConformance } from "../store-conformance.mjs";
import { fakeService } from "./fake-service.mjs";

const SECRET = "a-service-credential-for-the-suite";

readOnlyConformance("IntrospectionStore (a token service faked on loopback)", async (records) => {
  const byHash = new Map(records.map((record) => [record.hash, structuredClone(record)]));
  const changed = [];
  let mode = "ok";
  const service = await fakeService((request, response) => {
    if (mode === "hang") return;
    response.setHeader("content-type", "application/json");
    if (mode === "error" || request.headers.authorization !== `Service ${SECRET}`) {
      response.statusCode = mode === "error" ? 500 : 401;
      response.end("{}");
      return;
    }
    const url = new URL(request.url, "http://service");
    if (url.pathname === "/api/revocations") {
      const after = url.searchParams.get("after");
      const from = after === null ? changed.length : Number(after);
      response.end(JSON.stringify({ cursor: changed.length, hashes: changed.slice(from), reset: after === null, more: false }));
      return;
    }
    const record = byHash.get(url.pathname.slice("/api/introspect/".length));
    response.statusCode = record ? 200 : 404;
    response.end(JSON.stringify(record ? { record, owner: { admin: false, tokens: "on", membersEnabled: true }, cacheSeconds: 300 } : { code: "NOT_FOUND", cacheSeconds: 300 }));
  });
  return {
    store: new IntrospectionStore({ url: service.url, secret: SECRET, feedIntervalMs: 50, timeoutMs: 300 }),
    set: (next) => {
      mode = next;
    },
    corrupt: async (record) => {
      byHash.set(record.hash, { ...record, scope: "damaged", createdBy: null });
      changed.push(record.hash);
    },
    close: service.close,
  };
});
