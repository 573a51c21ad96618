// @ts-check
/**
 * End-to-end test of the token page: the real `tessera-host` binary on a
 * temporary SQLite database, driven through Debian's Chromium in headless
 * mode by playwright-core. Every step saves a screenshot to
 * `tests/ui/artifacts/` (not committed) for a person to look at.
 *
 * Environment: `TESSERA_HOST_BIN` (default `target/debug/tessera-host`) and
 * `CHROMIUM` (default `/usr/bin/chromium`).
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import {
  TOKEN_PATTERN, artifacts, authorization, callApi, hostCli, launchChromium, startHost,
} from "../harness.mjs";

/** Where this file's screenshots go. */
let ARTIFACTS = "";

const ADMIN = "ann";
const MEMBER = "bob";
/** Fresh random passwords: nothing to find in a log but what this run made. */
const ADMIN_PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const MEMBER_PASSWORD = `pw-${randomBytes(12).toString("hex")}`;

/** @type {string} */
let work;
/** @type {import("node:child_process").ChildProcess} */
let server;
/** Everything the servers printed (checked for secrets at the end). */
let serverOutput = "";
/** @type {string} */
let base;
/** The deployment configuration file. @type {string} */
let config;
/** @type {import("playwright-core").BrowserContext} */
let context;

/**
 * Runs the host's CLI on the test database.
 * @param {string[]} args
 * @param {string} input standard input
 */
function cli(args, input) {
  hostCli(join(work, "tessera.db"), args, input);
}

/**
 * Calls the API from Node, as a client program would with the token.
 * @param {string} method
 * @param {string} path
 * @param {{ token?: string, user?: string, password?: string, body?: unknown }} options
 */
function call(method, path, { token, user, password, body }) {
  const who = token || user ? authorization({ token, user, password }) : undefined;
  return callApi(base, method, path, { authorization: who, body });
}

/**
 * Saves a screenshot of the page as `artifacts/NN-name.png`: the whole page,
 * or only the viewport while a modal dialog and its backdrop are up.
 * @param {import("playwright-core").Page} page
 * @param {string} name
 * @param {{ fullPage?: boolean }} [options]
 */
async function shot(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

before(async () => {
  ARTIFACTS = artifacts("token-page");
  work = mkdtempSync(join(tmpdir(), "tessera-ui-"));
  // A lifetime cap, so the page's one-year default date meets the policy.
  config = join(work, "config.json");
  writeFileSync(config, JSON.stringify({
    prefix: "tsr",
    catalog: [
      { action: "apps.read", kinds: ["read", "cli"] },
      { action: "apps.write", kinds: [] },
      { action: "deploy.run", kinds: ["cli"] },
      { action: "tokens.read", kinds: ["read"] },
      { action: "tokens.create", kinds: [] },
      { action: "tokens.write", kinds: [] },
    ],
    policy: { maxLifetimeDays: 90 },
  }));
  cli(["user", "add", ADMIN, "--admin"], `${ADMIN_PASSWORD}\n`);
  cli(["user", "add", MEMBER], `${MEMBER_PASSWORD}\n`);

  ({ process: server, base } = await startServer([]));

  context = await launchChromium(join(work, "chromium-profile"));
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
});

/**
 * Starts `tessera-host serve` on the test database.
 * @param {string[]} extra global arguments (before `serve`)
 * @returns {Promise<{ process: import("node:child_process").ChildProcess, base: string }>}
 */
async function startServer(extra) {
  return startHost(["--db", join(work, "tessera.db"), "--config", config, ...extra], [], (text) => {
    serverOutput += text;
  });
}

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Opens the page and signs in.
 * @param {string} user
 * @param {string} password
 */
async function signIn(user, password) {
  // Another test's session would otherwise carry on in this page.
  await context.clearCookies();
  const page = await context.newPage();
  await page.goto(base);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  return page;
}

test("sign in, generate a custom token, show it once, use, deactivate and delete it", async () => {
  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) problems.push(message.text());
  });

  // 1. The page, with its security headers.
  const response = await page.goto(base);
  assert.ok(response);
  const headers = response.headers();
  assert.equal(headers["content-type"], "text/html; charset=utf-8");
  assert.match(headers["content-security-policy"] ?? "", /default-src 'self'; script-src 'self'/);
  assert.equal(headers["x-content-type-options"], "nosniff");
  const js = await fetch(`${base}/ui/app.js`);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  const css = await fetch(`${base}/ui/app.css`);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  await page.getByLabel("User name").waitFor();
  assert.ok(await page.getByLabel("User name").evaluate((el) => el === document.activeElement), "focus starts in the form");
  await shot(page, "01-sign-in");

  // 2. A wrong password: the error is next to the password field.
  await page.getByLabel("User name").fill(ADMIN);
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await page.getByText("Wrong user name or password.").waitFor();
  assert.equal(await page.getByLabel("Password", { exact: true }).getAttribute("aria-invalid"), "true");
  await shot(page, "02-wrong-password");

  // 3. Signed in as an administrator: the setting is there, no tokens yet.
  await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  await page.getByText("You have no tokens yet.").waitFor();
  assert.equal(await page.getByLabel("Password", { exact: true }).inputValue(), "", "the password field is emptied");
  const setting = page.getByLabel("Members may create tokens");
  assert.equal(await setting.isChecked(), false);
  await setting.check();
  await page.waitForFunction(() => !document.querySelector("#members-can-create")?.hasAttribute("disabled"));
  assert.deepEqual((await call("GET", "/api/settings", { user: ADMIN, password: ADMIN_PASSWORD })).body,
    { membersCanCreateTokens: true, issueForUsers: false });
  await shot(page, "03-signed-in");

  // 4. Errors next to their fields: a missing name (checked in the page), then
  //    the default one-year date, which the server refuses under a 90-day policy.
  await page.getByRole("button", { name: "Generate token" }).click();
  await page.locator("#token-name-error").getByText("Enter a name").waitFor();
  assert.ok(await page.getByLabel(/^Name/).evaluate((el) => el === document.activeElement), "focus moves to the name");
  await page.getByLabel(/^Name/).fill("ci deploys");
  await page.getByLabel("Description", { exact: true }).fill("used by the deploy pipeline");
  await page.getByLabel("Expires on a date").check();
  const dateValue = await page.getByLabel("Date", { exact: true }).inputValue();
  const yearAhead = new Date();
  yearAhead.setFullYear(yearAhead.getFullYear() + 1);
  assert.equal(dateValue, yearAhead.toISOString().slice(0, 10), "the date defaults to one year ahead");
  await page.getByRole("button", { name: "Generate token" }).click();
  const expiryError = page.locator("#expiry-error");
  await expiryError.waitFor();
  assert.match((await expiryError.textContent()) ?? "", /\S/);
  assert.equal(await page.locator("#expiry").getAttribute("aria-invalid"), "true");
  await shot(page, "04-expiry-refused-by-policy");

  // 5. Five days, and a custom scope: the whole "apps" resource by its box.
  await page.getByLabel("Expires after a number of days").check();
  await page.getByLabel("Days", { exact: true }).fill("5");
  await page.getByLabel("Custom").check();
  await page.getByLabel("apps (all actions)").check();
  assert.equal(await page.getByLabel("apps.read").isChecked(), true);
  assert.equal(await page.getByLabel("apps.write").isChecked(), true);
  assert.equal(await page.getByLabel("deploy.run").isChecked(), false);
  await shot(page, "05-custom-scope");
  await page.getByRole("button", { name: "Generate token" }).click();

  // 6. The show-once dialog: the token, copy and download.
  const dialog = page.getByRole("dialog", { name: "Your new token" });
  await dialog.waitFor();
  const token = ((await page.locator("#created-token").textContent()) ?? "").trim();
  assert.match(token, TOKEN_PATTERN);
  await dialog.getByRole("button", { name: "Copy to clipboard" }).click();
  await dialog.getByText("Copied to the clipboard.").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token, "the clipboard holds the token");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    dialog.getByRole("button", { name: "Download as a file" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "ci-deploys.token.txt");
  const downloaded = join(work, "downloaded.txt");
  await download.saveAs(downloaded);
  assert.equal(readFileSync(downloaded, "utf8"), `${token}\n`);
  rmSync(downloaded);
  await download.delete();
  await shot(page, "06-token-dialog", { fullPage: false });
  // Control for the heap search in step 8: while shown, the token is found.
  assert.ok((await heapSnapshot(page)).includes(token), "control: the heap holds the token while it is shown");

  // 7. Closing before ticking the box is refused: the button, and Escape twice.
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.getByText("Tick “I have copied my token").waitFor();
  assert.equal(await page.locator("#created-dialog").evaluate((d) => /** @type {HTMLDialogElement} */ (d).open), true);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Escape");
  await page.waitForTimeout(200);
  assert.equal(await page.locator("#created-dialog").evaluate((d) => /** @type {HTMLDialogElement} */ (d).open), true,
    "Escape does not bypass the tick box");
  await shot(page, "07-close-refused", { fullPage: false });

  // 8. Tick and close; the token is then nowhere in the page.
  await dialog.getByLabel("I have copied my token to a safe place").check();
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "hidden" });
  const row = page.locator("#tokens-table").getByRole("row", { name: /ci deploys/ });
  await row.waitFor();
  assert.match((await row.textContent()) ?? "", /you/);
  assert.equal(await row.locator(".soon").count(), 1, "an expiry within 7 days is highlighted");
  await shot(page, "08-token-listed");

  const html = await page.content();
  assert.ok(!html.includes(token), "the token is not in the DOM");
  const everything = await page.evaluate(() => {
    const values = [...document.querySelectorAll("input, textarea")].map((el) =>
      /** @type {HTMLInputElement} */ (el).value);
    return [document.documentElement.outerHTML, document.body.innerText, ...values, document.cookie,
      JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage }), String(localStorage.length),
      String(sessionStorage.length)].join("\n");
  });
  assert.ok(!everything.includes(token), "the token is not in fields, storage or cookies");
  assert.ok(!everything.includes(ADMIN_PASSWORD), "the password is not in the DOM or storage");
  // One cookie: the session, out of the script's reach and never sent
  // cross-site.
  const cookies = await context.cookies();
  assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.sameSite]), [["tessera_session", true, "Strict"]]);
  assert.ok(!everything.includes(cookies[0].value), "the session secret is not readable by the page");
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
  // The JavaScript heap, after a garbage collection (step 6 showed that the
  // search finds what is there): neither the token nor the password, which
  // the page sent once to sign in and did not keep.
  const heap = await heapSnapshot(page);
  assert.ok(!heap.includes(token), "the token is not in the page's JavaScript heap");
  assert.ok(!heap.includes(ADMIN_PASSWORD), "the password is not in the page's JavaScript heap");

  // 9. The token at work: its scope allows apps.*, not deploy.run.
  const listed = await call("GET", "/api/usertokens", { user: ADMIN, password: ADMIN_PASSWORD });
  assert.equal(listed.status, 200);
  assert.equal(listed.body.length, 1);
  const record = listed.body[0];
  assert.equal(record.name, "ci deploys");
  assert.equal(record.description, "used by the deploy pipeline");
  assert.deepEqual(record.scope, { actions: ["apps.read", "apps.write"] });
  assert.ok(record.expiresAt - Date.now() < 5 * 86_400_000 + 60_000);
  assert.equal((await call("GET", "/api/apps", { token })).status, 200);
  assert.equal((await call("POST", "/api/apps", { token, body: { name: "shop" } })).status, 201);
  const denied = await call("POST", "/api/deploys", { token, body: { app: "shop" } });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.code, "SCOPE_DENIED");

  // The server writes last uses in the background, within about a second.
  for (let waited = 0; ; waited += 50) {
    const [now] = (await call("GET", "/api/usertokens", { user: ADMIN, password: ADMIN_PASSWORD })).body;
    if (now.lastUsedAt !== null) break;
    assert.ok(waited < 10_000, "the last use was recorded");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // 10. Deactivate it in the page: the API refuses it; reactivate: accepted.
  const toggle = page.getByRole("switch", { name: "ci deploys: active" });
  assert.equal(await toggle.isChecked(), true);
  await toggle.uncheck();
  await row.getByText("Inactive", { exact: true }).waitFor();
  assert.notEqual((await row.locator("td").nth(4).textContent())?.trim(), "never", "the redrawn row shows the last use");
  assert.ok(await toggle.evaluate((el) => el === document.activeElement), "focus stays on the switch");
  await shot(page, "09-deactivated");
  const refused = await call("GET", "/api/apps", { token });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.code, "UNAUTHENTICATED");
  await toggle.check();
  await row.getByText("Active", { exact: true }).waitFor();
  assert.equal((await call("GET", "/api/apps", { token })).status, 200);
  await toggle.uncheck();
  await row.getByText("Inactive", { exact: true }).waitFor();
  assert.equal((await call("GET", "/api/apps", { token })).status, 401);

  // 11. Delete it, after a confirmation (Cancel first keeps it).
  await row.getByRole("button", { name: "Delete ci deploys" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete token?" });
  await confirm.waitFor();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await confirm.waitFor({ state: "hidden" });
  assert.equal((await call("GET", "/api/usertokens", { user: ADMIN, password: ADMIN_PASSWORD })).body.length, 1);
  await row.getByRole("button", { name: "Delete ci deploys" }).click();
  await confirm.waitFor();
  await shot(page, "10-confirm-delete", { fullPage: false });
  await confirm.getByRole("button", { name: "Delete token" }).click();
  await page.getByText("You have no tokens yet.").waitFor();
  await shot(page, "11-deleted");
  assert.deepEqual((await call("GET", "/api/usertokens", { user: ADMIN, password: ADMIN_PASSWORD })).body, []);
  assert.equal((await call("GET", "/api/apps", { token })).status, 401);

  // 12. The activity: what happened to the token, newest first, by whom
  // and from where; never the token.
  await page.locator("#activity-body tr", { hasText: "Token deleted" }).first().waitFor();
  const newest = (await page.locator("#activity-body tr").first().locator("td").allTextContents()).map((t) => t.trim());
  assert.equal(newest[1], "Token deleted");
  assert.equal(newest[2], ADMIN);
  assert.equal(newest[4], ADMIN);
  assert.equal(newest[5], "127.0.0.1");
  const whats = (await page.locator("#activity-body tr td:nth-child(2)").allTextContents()).map((t) => t.trim());
  for (const what of ["Token created", "Token first used", "Token deactivated", "Token activated again"]) {
    assert.ok(whats.includes(what), `${what} in ${whats.join(", ")}`);
  }
  assert.ok(!(await page.locator("#activity-table").innerText()).includes(token));
  await shot(page, "12-activity");

  assert.deepEqual(problems, [], "no script errors or CSP violations");
  assert.ok(!serverOutput.includes(token), "the server never logged the token");
  assert.ok(!serverOutput.includes(ADMIN_PASSWORD), "the server never logged the password");
  await page.close();
});

test("a member sees no administration and the creator of each token", async () => {
  // A parent token made with the password, and a child made by the parent.
  const parent = await call("POST", "/api/usertokens", {
    user: MEMBER, password: MEMBER_PASSWORD,
    body: { name: "parent", expires: { days: 30 }, scope: { preset: "all" } },
  });
  assert.equal(parent.status, 201);
  const child = await call("POST", "/api/usertokens", {
    token: parent.body.token, body: { name: "child", expires: { days: 10 }, scope: { preset: "read" } },
  });
  assert.equal(child.status, 201);

  const page = await signIn(MEMBER, MEMBER_PASSWORD);
  assert.equal(await page.getByRole("heading", { name: "Administration" }).count(), 0);
  const childRow = page.locator("#tokens-table").getByRole("row", { name: /^child/ });
  assert.match((await childRow.textContent()) ?? "", /token “parent”/);
  assert.match((await childRow.textContent()) ?? "", /Read only/);
  await shot(page, "12-member-creators");

  await page.locator("#tokens-table").getByRole("row", { name: /^parent/ }).getByRole("button", { name: "Delete parent" }).click();
  await page.getByRole("dialog", { name: "Delete token?" }).getByRole("button", { name: "Delete token" }).click();
  await page.locator("#tokens-table").getByRole("row", { name: /^parent/ }).waitFor({ state: "detached" });
  assert.match((await childRow.textContent()) ?? "", /a deleted token/);
  await shot(page, "13-member-parent-deleted");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.locator("#tokens-body tr").count(), 0, "signing out clears the list");
  await page.close();
});

test("an administrator switches a member's tokens off and on again in the page", async () => {
  const made = await call("POST", "/api/usertokens", {
    user: MEMBER, password: MEMBER_PASSWORD,
    body: { name: "switched", expires: { days: 30 }, scope: { preset: "read" } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const whoami = async () => (await call("GET", "/api/whoami", { token: made.body.token })).status;
  assert.equal(await whoami(), 200);

  const page = await signIn(ADMIN, ADMIN_PASSWORD);
  const row = page.locator("#users-table").getByRole("row", { name: new RegExp(`^${MEMBER}`) });
  await row.waitFor();
  const setting = page.getByLabel(`Tokens for ${MEMBER}`);
  assert.equal(await setting.inputValue(), "inherit");
  assert.match((await row.textContent()) ?? "", /Member.*Enabled/);
  assert.match((await page.locator("#users-help").textContent()) ?? "", /refuses every token they hold at once/);

  await setting.selectOption("off");
  await row.getByText("Disabled: tokens refused").waitFor();
  assert.equal(await whoami(), 401, "refused at once");
  assert.ok(await setting.evaluate((el) => el === document.activeElement), "focus stays on the setting");
  await shot(page, "17-member-switched-off");
  // The member still sees the token: nothing was deleted.
  const listed = await call("GET", "/api/usertokens", { user: MEMBER, password: MEMBER_PASSWORD });
  assert.ok(listed.body.some((/** @type {{ id: string }} */ t) => t.id === made.body.record.id));

  await setting.selectOption("inherit");
  await row.getByText(/^Enabled$/).waitFor();
  assert.equal(await whoami(), 200, "restored");
  // Deactivate all of the member's tokens in one action, after a confirmation
  // (dismissed first: nothing happens).
  page.once("dialog", (dialog) => void dialog.dismiss());
  await row.getByRole("button", { name: `Deactivate all tokens of ${MEMBER}` }).click();
  assert.equal(await whoami(), 200, "a dismissed confirmation changes nothing");
  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: `Deactivate all tokens of ${MEMBER}` }).click();
  await page.locator("#status").getByText(new RegExp(`tokens? of ${MEMBER} deactivated`)).waitFor();
  assert.equal(await whoami(), 401, "deactivated");
  const after = await call("GET", "/api/usertokens", { user: MEMBER, password: MEMBER_PASSWORD });
  assert.ok(after.body.every((/** @type {{ status: string }} */ t) => t.status === "inactive"), "every token of theirs");
  // The administrator's own row: always enabled.
  const own = page.locator("#users-table").getByRole("row", { name: new RegExp(`^${ADMIN}`) });
  assert.match((await own.textContent()) ?? "", /Enabled \(administrator\)/);
  await page.setViewportSize({ width: 360, height: 800 });
  // Usable at 360 px: a wide table scrolls in its own box, the page does not.
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 360, "no page-wide horizontal scroll");
  await shot(page, "18-users-narrow");
  await page.close();
});

/**
 * The session cookie the browser holds, as a `Cookie` header value.
 */
async function sessionCookie() {
  const cookie = (await context.cookies()).find((c) => c.name === "tessera_session");
  assert.ok(cookie, "the browser holds a session cookie");
  return `tessera_session=${cookie.value}`;
}

test("a session survives a reload and ends on the server at sign-out", async () => {
  const page = await signIn(MEMBER, MEMBER_PASSWORD);
  await page.reload();
  await page.getByRole("heading", { name: "API tokens" }).waitFor();
  assert.equal(await page.locator("#account-name").textContent(), MEMBER, "still signed in after a reload");
  const cookie = await sessionCookie();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  // A copy of the cookie taken before signing out is worth nothing now.
  const replay = await fetch(`${base}/api/session`, { headers: { cookie } });
  assert.equal(replay.status, 401);
  await page.reload();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot(page, "14-signed-out");
  await page.close();
});

test("a form or script on another site cannot use the session", async () => {
  const page = await signIn(ADMIN, ADMIN_PASSWORD);
  const before = await call("GET", "/api/usertokens", { user: ADMIN, password: ADMIN_PASSWORD });
  // The attacker's page: another site (localhost is not 127.0.0.1) that
  // posts a form, in the one encoding that can carry JSON-looking text, and
  // tries a credentialed fetch.
  const target = `${base}/api/usertokens`;
  const attacker = createServer((request, response) => {
    response.setHeader("content-type", "text/html; charset=utf-8");
    response.end(`<!doctype html><title>prize</title>
      <form id="f" method="POST" action="${target}" enctype="text/plain">
        <input name='{"name":"csrf-form","scope":{"preset":"all"},"x":"' value='"}'>
      </form>
      <script>
        fetch(${JSON.stringify(target)}, { method: "POST", credentials: "include", mode: "no-cors",
          headers: { "content-type": "text/plain" },
          body: JSON.stringify({ name: "csrf-fetch", scope: { preset: "all" } }) })
          .finally(() => document.getElementById("f").submit());
      </script>`);
  });
  await new Promise((resolvePromise) => attacker.listen(0, "127.0.0.1", () => resolvePromise(undefined)));
  const port = /** @type {import("node:net").AddressInfo} */ (attacker.address()).port;
  const evil = await context.newPage();
  const landed = evil.waitForURL(target, { timeout: 15_000 });
  await evil.goto(`http://localhost:${port}/`);
  await landed;
  const answer = (await evil.locator("body").textContent()) ?? "";
  await shot(evil, "15-cross-site-form");
  attacker.close();
  // The form reached the server without the cookie (SameSite=Strict) and
  // as text/plain (415); nothing was created either way.
  assert.match(answer, /UNSUPPORTED_MEDIA_TYPE|UNAUTHENTICATED/);
  const after = await call("GET", "/api/usertokens", { user: ADMIN, password: ADMIN_PASSWORD });
  assert.deepEqual(after.body, before.body, "no token was created");
  await evil.close();
  await page.close();
});

test("a session ends after 30 idle minutes (a server whose clock is 31 minutes ahead)", async () => {
  const page = await signIn(MEMBER, MEMBER_PASSWORD);
  const cookie = await sessionCookie();
  const later = await startServer(["--clock-offset-ms", String(31 * 60_000)]);
  try {
    // Cookies belong to the host, not the port: the browser sends the same
    // cookie to the second server, which shares the database.
    await page.goto(later.base);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const replay = await fetch(`${later.base}/api/session`, { headers: { cookie } });
    assert.equal(replay.status, 401);
    await shot(page, "16-idle-expired");
  } finally {
    later.process.kill("SIGTERM");
  }
  await page.close();
});

/**
 * Takes a heap snapshot of the page's JavaScript (after a garbage
 * collection) through the DevTools protocol, as text.
 * @param {import("playwright-core").Page} page
 */
async function heapSnapshot(page) {
  const cdp = await context.newCDPSession(page);
  /** @type {string[]} */
  const chunks = [];
  cdp.on("HeapProfiler.addHeapSnapshotChunk", (event) => { chunks.push(event.chunk); });
  await cdp.send("HeapProfiler.enable");
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  await cdp.detach();
  return chunks.join("");
}
