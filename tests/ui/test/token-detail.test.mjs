// @ts-check
/**
 * End-to-end test of the token page's detail view and what came with it:
 * expiry by date and time of day and by days with −1 for never; Generate
 * disabled, with the reason, at the deployment's token limit; one token's
 * name, description and status saved together; rotation with a chosen
 * grace period and the show-once dialog; deletion from the detail view;
 * changing one's own password; keyboard use, axe-core and 360 px. The real
 * binary on a temporary database, in headless Chromium; screenshots go to
 * `tests/ui/artifacts/token-detail/`.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  TOKEN_PATTERN, artifacts, authorization, callApi, hostCli, launchChromium, seriousViolations, startHost,
} from "../harness.mjs";

const USER = "bob";
const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const NEW_PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const HOUR = 3_600_000;

let ARTIFACTS = "";
let work = "";
let base = "";
let serverOutput = "";
/** @type {import("node:child_process").ChildProcess | undefined} */
let server;
/** @type {import("playwright-core").BrowserContext | undefined} */
let context;

/**
 * Calls the API from Node, with a password or a token.
 * @param {string} method
 * @param {string} path
 * @param {{ token?: string, password?: string }} [options]
 */
function call(method, path, { token, password = PASSWORD } = {}) {
  return callApi(base, method, path, { authorization: authorization({ token, user: USER, password }) });
}

/** @param {import("playwright-core").Page} page @param {string} name */
async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Ticks the show-once dialog's box, closes it, and returns the token it showed.
 * @param {import("playwright-core").Page} page
 */
async function takeShownToken(page) {
  const dialog = page.getByRole("dialog", { name: "Your new token" });
  await dialog.waitFor();
  const token = (await page.locator("#created-token").innerText()).trim();
  assert.match(token, TOKEN_PATTERN);
  await page.getByLabel("I have copied my token to a safe place").check();
  await page.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "hidden" });
  return token;
}


before(async () => {
  ARTIFACTS = artifacts("token-detail");
  work = mkdtempSync(join(tmpdir(), "tessera-detail-"));
  const db = join(work, "tessera.db");
  const config = join(work, "config.json");
  writeFileSync(config, JSON.stringify({
    prefix: "tsr",
    catalog: [
      { action: "apps.read", kinds: ["read", "cli"] },
      { action: "tokens.read", kinds: ["read"] },
      { action: "tokens.create", kinds: [] },
      { action: "tokens.write", kinds: [] },
    ],
    policy: { maxTokensPerUser: 2 },
  }));
  hostCli(db, ["user", "add", USER], `${PASSWORD}\n`);
  hostCli(db, ["user", "set", USER, "--tokens", "on"], "");
  ({ process: server, base } = await startHost(["--db", db, "--config", config], [], (text) => {
    serverOutput += text;
  }));
  context = await launchChromium(join(work, "chromium-profile"), { bypassCSP: true });
});

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

test("detail view: edit, rotate with grace, delete; expiry by time and −1; the limit; the password", async () => {
  assert.ok(context);
  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(base);
  await page.getByLabel("User name").waitFor();
  assert.deepEqual(await seriousViolations(page), [], "the sign-in view");
  await page.getByLabel("User name").fill(USER);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();

  // 1. Expiry on a date at a time of day (the browser is in UTC).
  const tomorrow = new Date(Date.now() + 24 * HOUR);
  const day = tomorrow.toISOString().slice(0, 10);
  await page.getByLabel("Name (required)", { exact: true }).fill("timed");
  await page.getByLabel("Expires on a date").check();
  await page.getByLabel("Date", { exact: true }).fill(day);
  await page.getByLabel("Time of day (optional)").fill("14:30");
  await page.getByRole("button", { name: "Generate token" }).click();
  await takeShownToken(page);
  let listed = (await call("GET", "/api/usertokens")).body;
  const timed = listed.find((/** @type {any} */ t) => t.name === "timed");
  assert.equal(timed.expiresAt, Date.parse(`${day}T14:30:00Z`));

  // 2. Expiry after −1 days: never; usable only from the loopback
  // networks. A range with host bits set is refused beside its field.
  await page.getByLabel("Name (required)", { exact: true }).fill("forever");
  await page.getByLabel("Expires after a number of days").check();
  await page.getByLabel("Days", { exact: true }).fill("-1");
  const allowed = page.locator("#generate-form").getByLabel("Allowed IP addresses (optional)");
  await allowed.fill("127.0.0.0/8, 10.0.0.1/8");
  await page.getByRole("button", { name: "Generate token" }).click();
  await page.locator("#token-allowed-ips-error").filter({ hasText: "entry 2 has bits set" }).waitFor();
  assert.ok(await allowed.evaluate((el) => el === document.activeElement), "focus moves to the field");
  assert.equal(await allowed.getAttribute("aria-invalid"), "true");
  await allowed.fill("127.0.0.0/8\n::1");
  await page.getByRole("button", { name: "Generate token" }).click();
  const forever = await takeShownToken(page);
  listed = (await call("GET", "/api/usertokens")).body;
  const foreverRecord = listed.find((/** @type {any} */ t) => t.name === "forever");
  assert.equal(foreverRecord.expiresAt, null);
  assert.deepEqual(foreverRecord.allowedIps, ["127.0.0.0/8", "::1/128"]);

  // 3. Two tokens, the deployment's limit: Generate is disabled and says why.
  const generate = page.getByRole("button", { name: "Generate token" });
  assert.equal(await generate.isDisabled(), true);
  await page.getByText("the most this deployment allows").waitFor();
  await shot(page, "01-at-the-limit");

  // 4. The detail view, by keyboard: rename, describe, deactivate, save.
  const details = page.getByRole("button", { name: "Details of timed" });
  await details.focus();
  await page.keyboard.press("Enter");
  const title = page.getByRole("heading", { name: "Token timed" });
  await title.waitFor();
  assert.ok(await title.evaluate((el) => el === document.activeElement), "focus moves to the view");
  await page.locator("#detail-token-name").fill("timed, renamed");
  await page.locator("#detail-description").fill("for the nightly job");
  await page.getByLabel("Inactive", { exact: true }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: "Token timed, renamed" }).waitFor();
  const saved = (await call("GET", `/api/usertokens/${timed.id}`)).body;
  assert.equal(saved.name, "timed, renamed");
  assert.equal(saved.description, "for the nightly job");
  assert.equal(saved.status, "inactive");
  assert.deepEqual(await seriousViolations(page), []);
  await shot(page, "02-detail-saved");

  // An inactive token cannot be rotated: the view says so beside the button.
  await page.getByRole("button", { name: "Rotate token" }).click();
  await page.locator("#rotate-error").filter({ hasText: "could not be rotated" }).waitFor();

  // 5. Rotate the never-expiring token with a one-hour grace period.
  await page.getByRole("button", { name: "Back to your tokens" }).click();
  await page.getByRole("button", { name: "Details of forever" }).click();
  await page.locator("#detail-facts").filter({ hasText: "127.0.0.0/8, ::1/128" }).waitFor();
  await page.getByLabel("Grace period").selectOption({ label: "1 hour" });
  const before = Date.now();
  await page.getByRole("button", { name: "Rotate token" }).click();
  const rotated = await takeShownToken(page);
  assert.notEqual(rotated, forever);
  assert.equal((await call("GET", "/api/whoami", { token: rotated })).status, 200);
  assert.equal((await call("GET", "/api/whoami", { token: forever })).status, 200, "the old one works in its grace");
  listed = (await call("GET", "/api/usertokens")).body;
  const old = listed.find((/** @type {any} */ t) => t.name === "forever" && t.replacedBy);
  assert.ok(old.expiresAt >= before + HOUR - 5_000 && old.expiresAt <= Date.now() + HOUR + 5_000, "a one-hour grace");
  await shot(page, "03-rotated");

  // 6. Delete the renamed token from its detail view.
  await page.getByRole("button", { name: "Details of timed, renamed" }).click();
  await page.getByRole("button", { name: "Delete User Token" }).click();
  await page.getByRole("button", { name: "Delete token" }).click();
  await page.locator("#detail").waitFor({ state: "hidden" });
  assert.equal((await call("GET", `/api/usertokens/${timed.id}`)).status, 404);

  // 7. The user's own password.
  await page.getByLabel("New password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator("#password-error").filter({ hasText: "at least 8" }).waitFor();
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("New password, again").fill(`${NEW_PASSWORD}x`);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator("#confirm-password-error").filter({ hasText: "differ" }).waitFor();
  await page.getByLabel("New password, again").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator("#status").filter({ hasText: "Your password was changed" }).waitFor();
  assert.equal((await call("GET", "/api/usertokens")).status, 401, "the old password is refused");
  assert.equal((await call("GET", "/api/usertokens", { password: NEW_PASSWORD })).status, 200);
  assert.equal((await call("GET", "/api/whoami", { token: rotated })).status, 200, "tokens keep working");
  // The renewed session still writes (its new CSRF token was read back).
  await page.getByRole("button", { name: "Details of forever" }).first().click();
  await page.locator("#detail-description").fill("still signed in");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#status").filter({ hasText: "was saved" }).waitFor();

  // 8. 360 px wide, detail view open.
  await page.setViewportSize({ width: 360, height: 800 });
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("#detail *, #password-form *, #generate-form *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}`),
  );
  assert.deepEqual(wide, [], "elements wider than 360px");
  await shot(page, "04-narrow");

  assert.deepEqual(problems, []);
  for (const secret of [NEW_PASSWORD, PASSWORD, rotated, forever]) {
    assert.ok(!serverOutput.includes(secret), "a secret in the server's output");
  }
  await page.close();
});
