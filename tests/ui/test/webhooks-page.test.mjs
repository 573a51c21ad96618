// @ts-check
/**
 * End-to-end test of the token page's Webhooks card: a member adds a
 * webhook (a loopback URL is refused beside the field, as the host runs
 * without `--webhooks-to-private-networks`), sees its signing secret once
 * and the subscription in the list, cannot choose every user's tokens, and
 * removes it; an administrator can. The real binary on a temporary
 * database, in headless Chromium, with axe-core; screenshots go to
 * `tests/ui/artifacts/webhooks-page/`.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  artifacts, authorization, callApi, hostCli, launchChromium, seriousViolations, startHost,
} from "../harness.mjs";

const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const HOOK = "https://hooks.example.com/tessera";

let ARTIFACTS = "";
let work = "";
let base = "";
/** @type {import("node:child_process").ChildProcess | undefined} */
let server;
/** @type {import("playwright-core").BrowserContext | undefined} */
let context;

before(async () => {
  ARTIFACTS = artifacts("webhooks-page");
  work = mkdtempSync(join(tmpdir(), "tessera-webhooks-"));
  const db = join(work, "tessera.db");
  hostCli(db, ["user", "add", "bob"], `${PASSWORD}\n`);
  hostCli(db, ["user", "add", "ann", "--admin"], `${PASSWORD}\n`);
  ({ process: server, base } = await startHost(["--db", db], [], () => {}));
  context = await launchChromium(join(work, "chromium-profile"), { bypassCSP: true });
});

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

/** @param {string} user */
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

test("webhooks: add one, see the secret once, refuse a private URL, remove it", async () => {
  const page = await signIn("bob");
  const card = page.locator("section.card", { has: page.getByRole("heading", { name: "Webhooks", exact: true }) });
  await card.getByText("No webhooks yet.").waitFor();
  assert.equal(await page.getByLabel("Every user's tokens (administrators)").isVisible(), false, "members follow their own");

  // A loopback endpoint is refused, beside the field.
  const url = page.getByLabel("Endpoint URL");
  await url.fill("http://127.0.0.1:9/hook");
  await page.getByRole("button", { name: "Add webhook" }).click();
  await page.locator("#webhook-url-error").filter({ hasText: "private networks" }).waitFor();
  assert.equal(await url.getAttribute("aria-invalid"), "true");

  // A public one, for leaks and deletions only.
  await url.fill(HOOK);
  for (const label of ["Expiring soon", "Expired", "Deactivated"]) {
    await card.getByLabel(label, { exact: true }).uncheck();
  }
  await page.getByRole("button", { name: "Add webhook" }).click();
  const secret = page.getByLabel("The signing secret");
  await secret.waitFor();
  assert.match(await secret.innerText(), /^whsec_[A-Za-z0-9+/=]{44}$/);
  await card.getByRole("cell", { name: HOOK, exact: true }).waitFor();
  await card.getByRole("cell", { name: "token.deleted, token.leaked" }).waitFor();
  assert.deepEqual(await seriousViolations(page), [], "the card with its secret");
  await page.screenshot({ path: join(ARTIFACTS, "01-added.png"), fullPage: true });

  // The API agrees, and never lists the secret.
  const auth = authorization({ user: "bob", password: PASSWORD });
  const listed = await callApi(base, "GET", "/api/webhooks", { authorization: auth });
  assert.equal(listed.body.length, 1);
  assert.deepEqual(listed.body[0].events, ["token.deleted", "token.leaked"]);
  assert.equal(JSON.stringify(listed.body).includes("whsec_"), false);

  // After a reload the secret is gone for good; the webhook stays.
  await page.reload();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  await card.getByRole("cell", { name: HOOK, exact: true }).waitFor();
  assert.equal(await page.getByLabel("The signing secret").isVisible(), false);

  await card.getByRole("button", { name: `Remove the webhook to ${HOOK}` }).click();
  await card.getByText("No webhooks yet.").waitFor();
  assert.equal((await callApi(base, "GET", "/api/webhooks", { authorization: auth })).body.length, 0);
});

test("webhooks: an administrator may follow every user's tokens", async () => {
  const page = await signIn("ann");
  await page.getByLabel("Endpoint URL").fill(HOOK);
  await page.getByLabel("Every user's tokens (administrators)").check();
  await page.getByRole("button", { name: "Add webhook" }).click();
  await page.getByLabel("The signing secret").waitFor();
  await page.getByText("(every user)").waitFor();
  const listed = await callApi(base, "GET", "/api/webhooks", {
    authorization: authorization({ user: "ann", password: PASSWORD }),
  });
  const wide = listed.body.filter((/** @type {any} */ hook) => hook.url === HOOK && hook.owner === null);
  assert.equal(wide.length, 1, JSON.stringify(listed.body));
});
