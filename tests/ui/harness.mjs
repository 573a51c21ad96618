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
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
export const BIN = process.env.TESSERA_HOST_BIN ?? join(root, "target/debug/tessera-host");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const TOKEN_PATTERN = /^tsr_[0-9A-Za-z]{49}$/;

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
