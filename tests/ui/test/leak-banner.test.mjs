// @ts-check
/**
 * End-to-end test of the leaked-token banner: GitHub's secret scanning
 * (simulated with a P-256 key this test makes, whose public half the host
 * is started with) reports one of a member's tokens; the server deactivates
 * it, and the member's token page says which token leaked, where and when,
 * until the token is deleted. Another member sees nothing. The real binary
 * on a temporary database, in headless Chromium; screenshots go to
 * `tests/ui/artifacts/leak-banner/`.
 */

import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  artifacts, authorization, callApi, hostCli, launchChromium, seriousViolations, startHost,
} from "../harness.mjs";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const LEAKED_AT = "https://github.com/someone/dotfiles/blob/main/.env";

let ARTIFACTS = "";
let work = "";
let base = "";
/** @type {import("node:child_process").ChildProcess | undefined} */
let server;
/** @type {import("playwright-core").BrowserContext | undefined} */
let context;
const keys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });

before(async () => {
  ARTIFACTS = artifacts("leak-banner");
  work = mkdtempSync(join(tmpdir(), "tessera-leak-"));
  const db = join(work, "tessera.db");
  const github = join(work, "github-keys.json");
  const pem = keys.publicKey.export({ type: "spki", format: "pem" });
  writeFileSync(github, JSON.stringify({ public_keys: [{ key_identifier: "k1", key: pem, is_current: true }] }));
  for (const user of ["bob", "carol"]) {
    hostCli(db, ["user", "add", user], `${PASSWORD}\n`);
    hostCli(db, ["user", "set", user, "--tokens", "on"], "");
  }
  ({ process: server, base } = await startHost(["--db", db], ["--github-keys", github], () => {}));
  context = await launchChromium(join(work, "chromium-profile"), { bypassCSP: true });
});

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Signs in to the page as `user`.
 * @param {string} user
 */
async function signIn(user) {
  assert.ok(context);
  await context.clearCookies();
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  return page;
}

test("a token GitHub reports is deactivated and its owner's page says where it leaked", async () => {
  const bob = authorization({ user: "bob", password: PASSWORD });
  const created = await callApi(base, "POST", "/api/usertokens", {
    authorization: bob,
    body: { name: "laptop", scope: { preset: "read" } },
  });
  assert.equal(created.status, 201);
  const kept = await callApi(base, "POST", "/api/usertokens", {
    authorization: bob,
    body: { name: "ci", scope: { preset: "read" } },
  });
  assert.equal(kept.status, 201);

  // GitHub's alert, signed with the test's key.
  const body = JSON.stringify([
    { token: created.body.token, type: "tessera_token", url: LEAKED_AT, source: "content" },
  ]);
  const signature = sign("sha256", new TextEncoder().encode(body), keys.privateKey).toString("base64");
  const alert = await fetch(`${base}/api/github/secret-scanning`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "github-public-key-identifier": "k1",
      "github-public-key-signature": signature,
    },
    body,
  });
  assert.equal(alert.status, 200);
  assert.match(await alert.text(), /true_positive/);

  // The owner sees the banner: which token, where, deactivated.
  const page = await signIn("bob");
  const banner = page.getByRole("alert").filter({ hasText: "A token of yours was found in public code" });
  await banner.waitFor();
  const text = await banner.innerText();
  assert.match(text, /“laptop” was found at/);
  assert.ok(text.includes(LEAKED_AT), text);
  assert.ok(!text.includes("“ci”"), "only the leaked token");
  assert.equal(await banner.locator("a").count(), 0, "the reported place is text, not a link");
  assert.deepEqual(await seriousViolations(page), []);
  await page.screenshot({ path: join(ARTIFACTS, "01-banner.png"), fullPage: false });

  // Another member sees nothing.
  const other = await signIn("carol");
  assert.equal(await other.locator("#leak-banner").isHidden(), true);
  await other.close();

  // Deleting the leaked token ends the banner.
  const again = await signIn("bob");
  await again.locator("#leak-banner").waitFor();
  await again.getByRole("button", { name: "Delete laptop" }).click();
  await again.getByRole("button", { name: "Delete token" }).click();
  await again.locator("#leak-banner").waitFor({ state: "hidden" });
  await again.close();
  await page.close();
});
