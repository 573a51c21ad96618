// @ts-check
/**
 * End-to-end test of the administrator's console in the token page: an
 * administrator lists a member's tokens, filters them, deactivates one and
 * deletes another, turns on issuing tokens for users and issues one for the
 * member (shown once; the member's, named as issued by the administrator).
 * Keyboard use, axe-core and 360 px. The real binary on a temporary
 * database, in headless Chromium; screenshots go to
 * `tests/ui/artifacts/admin-console/`.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  TOKEN_PATTERN, artifacts, authorization, callApi, hostCli, launchChromium, seriousViolations, startHost,
} from "../harness.mjs";

const ADMIN = "ann";
const MEMBER = "bob";
const ADMIN_PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const MEMBER_PASSWORD = `pw-${randomBytes(12).toString("hex")}`;

let ARTIFACTS = "";
let work = "";
let base = "";
/** @type {import("node:child_process").ChildProcess | undefined} */
let server;
/** @type {import("playwright-core").BrowserContext | undefined} */
let context;

/**
 * Calls the API from Node as the member, by password or with a token.
 * @param {string} method
 * @param {string} path
 * @param {{ token?: string, body?: unknown }} [options]
 */
function call(method, path, { token, body } = {}) {
  return callApi(base, method, path, {
    authorization: authorization({ token, user: MEMBER, password: MEMBER_PASSWORD }),
    body,
  });
}


before(async () => {
  ARTIFACTS = artifacts("admin-console");
  work = mkdtempSync(join(tmpdir(), "tessera-console-"));
  const db = join(work, "tessera.db");
  hostCli(db, ["user", "add", ADMIN, "--admin"], `${ADMIN_PASSWORD}\n`);
  hostCli(db, ["user", "add", MEMBER], `${MEMBER_PASSWORD}\n`);
  hostCli(db, ["user", "set", MEMBER, "--tokens", "on"], "");
  ({ process: server, base } = await startHost(["--db", db], [], () => {}));
  context = await launchChromium(join(work, "chromium-profile"), { bypassCSP: true });
});

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

test("an administrator lists, filters, deactivates, deletes and issues a member's tokens", async () => {
  assert.ok(context);
  // The member's tokens: one by password, one made by that token.
  const parent = await call("POST", "/api/usertokens", { body: { name: "laptop", scope: { preset: "all" } } });
  assert.equal(parent.status, 201);
  const child = await call("POST", "/api/usertokens", {
    token: parent.body.token,
    body: { name: "ci child", scope: { preset: "read" } },
  });
  assert.equal(child.status, 201);

  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(base);
  await page.getByLabel("User name").fill(ADMIN);
  await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();

  // 1. Open bob's tokens from the users table, by keyboard.
  const open = page.getByRole("button", { name: `Tokens of ${MEMBER}`, exact: true });
  await open.focus();
  await page.keyboard.press("Enter");
  const title = page.getByRole("heading", { name: `Tokens of ${MEMBER}` });
  await title.waitFor();
  const rows = page.locator("#console-body tr");
  await page.waitForFunction(() => document.querySelectorAll("#console-body tr").length === 2);

  // 2. Filter: made by a token.
  await page.getByLabel("Created by").selectOption("token");
  await page.waitForFunction(() => document.querySelectorAll("#console-body tr").length === 1);
  assert.match(await rows.first().innerText(), /ci child/);
  await page.getByLabel("Created by").selectOption("");
  await page.waitForFunction(() => document.querySelectorAll("#console-body tr").length === 2);

  // 3. Deactivate the child; the member's own list says so, and it is refused.
  await page.getByRole("button", { name: `Deactivate ci child of ${MEMBER}` }).click();
  await page.getByRole("button", { name: `Re-activate ci child of ${MEMBER}` }).waitFor();
  assert.equal((await call("GET", `/api/usertokens/${child.body.record.id}`)).body.status, "inactive");
  assert.equal((await call("GET", "/api/whoami", { token: child.body.token })).status, 401);
  await page.screenshot({ path: join(ARTIFACTS, "01-console.png"), fullPage: true });

  // 4. Delete the parent, confirmed in the page's own dialog.
  await page.getByRole("button", { name: `Delete laptop of ${MEMBER}` }).click();
  const confirm = page.getByRole("dialog", { name: "Delete token?" });
  await confirm.waitFor();
  assert.match(await confirm.innerText(), /laptop/);
  assert.deepEqual(await seriousViolations(page), [], "the confirmation");
  await confirm.getByRole("button", { name: "Delete token" }).click();
  await page.waitForFunction(() => document.querySelectorAll("#console-body tr").length === 1);
  assert.equal((await call("GET", `/api/usertokens/${parent.body.record.id}`)).status, 404);

  // 5. Issuing is off until the administrator turns it on.
  const issueForm = page.locator("#issue-form");
  assert.equal(await issueForm.isHidden(), true);
  await page.getByLabel("Administrators may issue tokens for users").check();
  await issueForm.waitFor();
  await page.getByLabel("Token name (required)").last().fill("issued for bob");
  await page.getByLabel("Permissions", { exact: true }).last().selectOption("read");
  // Usable only from the loopback networks; a bad range first.
  const issueIps = page.locator("#issue-allowed-ips");
  await issueIps.fill("127.0.0.1/8");
  await page.getByRole("button", { name: "Issue token" }).click();
  await page.locator("#issue-error").filter({ hasText: "bits set beyond its prefix" }).waitFor();
  assert.equal(await issueIps.getAttribute("aria-invalid"), "true");
  await issueIps.fill("127.0.0.0/8, ::1");
  await page.getByRole("button", { name: "Issue token" }).click();
  await page.getByRole("dialog", { name: "Your new token" }).waitFor();
  const issued = (await page.locator("#created-token").innerText()).trim();
  assert.match(issued, TOKEN_PATTERN);
  assert.deepEqual(await seriousViolations(page), [], "the show-once dialog");
  await page.getByLabel("I have copied my token to a safe place").check();
  await page.getByRole("button", { name: "Close", exact: true }).click();
  const whoami = await call("GET", "/api/whoami", { token: issued });
  assert.equal(whoami.status, 200);
  assert.equal(whoami.body.userId, MEMBER);
  const mine = (await call("GET", "/api/usertokens")).body;
  const record = mine.find((/** @type {any} */ t) => t.name === "issued for bob");
  assert.deepEqual(record.createdBy, { kind: "admin", userId: ADMIN });
  assert.deepEqual(record.allowedIps, ["127.0.0.0/8", "::1/128"]);
  await page.waitForFunction(() => document.querySelectorAll("#console-body tr").length === 2);
  assert.match(await page.locator("#console-body").innerText(), /administrator ann/);

  // 6. Accessible, and usable at 360 px.
  assert.deepEqual(await seriousViolations(page), []);
  await page.setViewportSize({ width: 360, height: 800 });
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("#console *:not(td *):not(th *):not(tr):not(td):not(th):not(thead):not(tbody):not(table)")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}`),
  );
  assert.deepEqual(wide, [], "elements wider than 360px (tables scroll in their own box)");
  await page.screenshot({ path: join(ARTIFACTS, "02-narrow.png"), fullPage: false });

  // 7. Closing returns focus to the button that opened it.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole("button", { name: "Close this list" }).click();
  assert.ok(await open.evaluate((el) => el === document.activeElement));
  assert.deepEqual(problems, []);
  await page.close();
});
