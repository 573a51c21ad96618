// A loopback HTTP server for the IntrospectionStore tests that need a token
// service to hang, fail or lie: `handle` answers every request.

import { createServer } from "node:http";

/** Starts one on a free port; its URL and a closer that drops open sockets. */
export async function fakeService(handle) {
  const server = createServer(handle);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(resolve);
      }),
  };
}
