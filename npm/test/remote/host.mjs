// A real tessera-host for the IntrospectionStore tests: started from the
// workspace's debug build on a loopback port, with a SQLite file in a
// scratch directory, an administrator and the service credential. It can
// be stopped and started again on the same port and database, to show a
// host going away and coming back.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** The host binary: `TESSERA_HOST`, or the workspace's debug build. */
const BIN = process.env.TESSERA_HOST ?? new URL("../../../target/debug/tessera-host", import.meta.url).pathname;
export const SECRET = "introspection-secret-for-the-npm-tests";
export const PASSWORD = "correct horse battery";

/** A running (or stopped) tessera-host. */
export class Host {
  dir = mkdtempSync(join(tmpdir(), "tessera-remote-"));
  db = join(this.dir, "tessera.db");
  /** `http://127.0.0.1:PORT` once started. */
  url = "";
  #child = undefined;

  /** Starts a host with an administrator `ann`; `cacheSeconds` as its introspection answers say. */
  static async start({ cacheSeconds = 300 } = {}) {
    if (!existsSync(BIN)) {
      throw new Error(`${BIN} is missing: run cargo build -p tessera-host first`);
    }
    const host = new Host();
    writeFileSync(join(host.dir, "secret"), `${SECRET}\n`);
    host.cacheSeconds = cacheSeconds;
    const added = spawnSync(BIN, ["--db", host.db, "user", "add", "ann", "--admin"], {
      input: `${PASSWORD}\n`,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (added.status !== 0) throw new Error(`user add failed: ${added.stderr}`);
    await host.resume("127.0.0.1:0");
    return host;
  }

  /** Starts the server on `listen` (the same port after `stop`). */
  async resume(listen = this.url.slice("http://".length)) {
    const child = spawn(
      BIN,
      [
        "--db",
        this.db,
        "serve",
        "--listen",
        listen,
        "--introspection-secret-file",
        join(this.dir, "secret"),
        "--introspection-cache-seconds",
        String(this.cacheSeconds),
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    this.#child = child;
    const lines = createInterface({ input: child.stdout });
    const address = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("tessera-host did not start within 60 s")), 60_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`tessera-host exited with ${code} before listening`));
      });
      lines.on("line", (line) => {
        const match = line.match(/^tessera-host listening on (http:\/\/\S+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    this.url = address;
  }

  /** Stops the server (SIGKILL: it goes away as a crashed host would). */
  async stop() {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    this.#child = undefined;
  }

  /** Stops the server and removes its files. */
  async close() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs a CLI command on the host's database, feeding `input`; throws unless it succeeds. */
  cli(args, input = "") {
    const run = spawnSync(BIN, ["--db", this.db, ...args], { input, encoding: "utf8", timeout: 60_000 });
    if (run.status !== 0) throw new Error(`${args.join(" ")} failed: ${run.stderr}`);
    return run.stdout;
  }

  /** A request to the host's API as `user` (basic auth, default ann); the status and parsed body. */
  async api(method, path, body, user = "ann") {
    const headers = { authorization: `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** Issues a token for ann on the host; `{ token, record }`. */
  async issue(name, scope = { preset: "read" }) {
    const { status, body } = await this.api("POST", "/api/usertokens", { name, expires: { days: 30 }, scope });
    if (status !== 201 && status !== 200) throw new Error(`issue failed: ${status} ${JSON.stringify(body)}`);
    return body;
  }

  /** The host's catalog, as a TokenService takes it. */
  async catalog() {
    const { status, body } = await this.api("GET", "/api/catalog");
    if (status !== 200) throw new Error(`catalog: ${status}`);
    return body.map((entry) => ({ action: entry.action, kinds: entry.kinds ?? [] }));
  }
}
