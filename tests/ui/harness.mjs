// @ts-check
/**
 * What the browser tests share: the real `tessera-host` binary on a
 * temporary database, and Debian's Chromium in headless mode driven by
 * playwright-core.
 *
 * Environment: `TESSERA_HOST_BIN` (default `target/debug/tessera-host`) and
 * `CHROMIUM` (default `/usr/bin/chromium`).
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
export const BIN = process.env.TESSERA_HOST_BIN ?? join(root, "target/debug/tessera-host");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const TOKEN_PATTERN = /^tsr_[0-9A-Za-z]{49}$/;
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/**
 * An empty directory for one test file's screenshots,
 * `tests/ui/artifacts/NAME/` (not committed).
 * @param {string} name
 */
export function artifacts(name) {
  const dir = join(here, "artifacts", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Runs the host's CLI on a database; it must succeed.
 * @param {string} db
 * @param {string[]} args
 * @param {string} input standard input
 */
export function hostCli(db, args, input) {
  const out = spawnSync(BIN, ["--db", db, ...args], { input, encoding: "utf8" });
  assert.equal(out.status, 0, `tessera-host ${args.join(" ")} failed: ${out.stderr}`);
  return out.stdout;
}

/**
 * Starts `tessera-host serve` on a database, on a free loopback port.
 * @param {string[]} args global arguments (before `serve`), the database among them
 * @param {string[]} serveArgs arguments after `serve`
 * @param {(text: string) => void} output receives everything the server prints
 * @returns {Promise<{ process: import("node:child_process").ChildProcess, base: string }>}
 */
export async function startHost(args, serveArgs, output) {
  const child = spawn(BIN, [...args, "serve", "--listen", "127.0.0.1:0", ...serveArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  const note = (/** @type {string} */ text) => {
    printed += text;
    output(text);
  };
  child.stderr?.on("data", (chunk) => note(String(chunk)));
  const url = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${printed}`)), 30_000);
    child.once("exit", (code) => reject(new Error(`the server exited (${code}): ${printed}`)));
    if (!child.stdout) return reject(new Error("no stdout"));
    createInterface({ input: child.stdout }).on("line", (line) => {
      note(`${line}\n`);
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
  });
  return { process: child, base: /** @type {string} */ (url) };
}

/**
 * Headless Chromium with a profile in `profile`.
 * @param {string} profile
 * @param {{ bypassCSP?: boolean }} [options] `bypassCSP` lets a test inject
 *   axe-core into a page whose policy allows only its own scripts
 */
export async function launchChromium(profile, { bypassCSP = false } = {}) {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
    timezoneId: "UTC",
    bypassCSP,
  });
}

/**
 * The serious and critical accessibility violations axe-core finds on the
 * page as it is now, each as "impact: rule at selectors". The context must
 * bypass the page's CSP (see `launchChromium`) for axe-core to be injected.
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
export async function seriousViolations(page) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => {
    // @ts-ignore: axe-core was injected above.
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((/** @type {any} */ v) =>
      `${v.impact}: ${v.id} at ${v.nodes.map((/** @type {any} */ n) => n.target.join(" ")).join(", ")}`);
  });
  return found.filter((/** @type {string} */ v) => v.startsWith("serious") || v.startsWith("critical"));
}

/**
 * Calls the API from Node, as a client program would.
 * @param {string} base the server's URL
 * @param {string} method
 * @param {string} path
 * @param {{ authorization?: string, body?: unknown }} [options]
 * @returns {Promise<{ status: number, body: any }>}
 */
export async function callApi(base, method, path, { authorization, body } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (authorization) headers.authorization = authorization;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/**
 * An `Authorization` value: a token, or a user name and password.
 * @param {{ token?: string, user?: string, password?: string }} who
 */
export function authorization({ token, user, password }) {
  if (token) return `Bearer ${token}`;
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}
