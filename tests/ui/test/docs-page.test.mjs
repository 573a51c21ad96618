// @ts-check
/**
 * End-to-end test of the API documentation page (`/api/docs`): the real
 * `tessera-host` binary on a temporary database, in headless Chromium. A
 * user pastes a token and executes `POST /api/usertokens` from the page; the
 * new token is theirs, made by the pasted one. The page is keyboard
 * operable, has no serious or critical axe-core violations, works at
 * 360 px, and loads nothing from another origin. Screenshots go to
 * `tests/ui/artifacts/docs-page/`.
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

const USER = "bob";
const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;

let ARTIFACTS = "";
let work = "";
let base = "";
let serverOutput = "";
/** @type {import("node:child_process").ChildProcess | undefined} */
let server;
/** @type {import("playwright-core").BrowserContext | undefined} */
let context;

/**
 * Calls the API from Node with a password or a token.
 * @param {string} method
 * @param {string} path
 * @param {{ token?: string, body?: unknown }} [options]
 */
function call(method, path, { token, body } = {}) {
  return callApi(base, method, path, { authorization: authorization({ token, user: USER, password: PASSWORD }), body });
}


before(async () => {
  ARTIFACTS = artifacts("docs-page");
  work = mkdtempSync(join(tmpdir(), "tessera-docs-"));
  const db = join(work, "tessera.db");
  hostCli(db, ["user", "add", USER], `${PASSWORD}\n`);
  hostCli(db, ["user", "set", USER, "--tokens", "on"], "");
  ({ process: server, base } = await startHost(["--db", db], [], (text) => {
    serverOutput += text;
  }));
  context = await launchChromium(join(work, "chromium-profile"), { bypassCSP: true });
});

after(async () => {
  await context?.close();
  server?.kill("SIGTERM");
  if (work) rmSync(work, { recursive: true, force: true });
});

test("a user pastes a token and creates a token from the documentation page", async () => {
  assert.ok(context);
  const created = await call("POST", "/api/usertokens", { body: { name: "docs key", scope: { preset: "all" } } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const pasted = created.body.token;
  const pastedId = created.body.record.id;

  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  /** @type {string[]} */
  const elsewhere = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(base)) elsewhere.push(request.url());
  });

  // 1. The page, from the binary, under the token page's policy.
  const response = await page.goto(`${base}/api/docs`);
  assert.ok(response);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-security-policy"] ?? "", /default-src 'self'; script-src 'self'/);
  await page.getByRole("heading", { name: "Operations" }).waitFor();
  const create = page.locator("#createToken");
  await create.waitFor();
  await page.screenshot({ path: join(ARTIFACTS, "01-docs.png"), fullPage: false });

  // 2. Keyboard only: reach the operation's summary and open it with Enter.
  await page.getByLabel("Token", { exact: true }).fill(pasted);
  const summary = create.locator("summary");
  await summary.focus();
  await page.keyboard.press("Enter");
  assert.equal(await create.evaluate((el) => /** @type {HTMLDetailsElement} */ (el).open), true);

  // 3. The body is prefilled from the schema's example; the user edits it
  //    and executes the request.
  const body = page.locator("#createToken-body");
  const example = JSON.parse(await body.inputValue());
  assert.deepEqual(Object.keys(example).sort(), ["expires", "name", "scope"]);
  await body.fill(JSON.stringify({ name: "from the docs", scope: { preset: "read" }, expires: { days: 7 } }));
  await create.getByRole("button", { name: "Execute" }).click();
  await page.locator("#createToken-status").filter({ hasText: "201" }).waitFor();
  const answer = JSON.parse(await page.locator("#createToken-answer").innerText());
  assert.match(answer.token, TOKEN_PATTERN);
  assert.equal(answer.record.name, "from the docs");
  assert.deepEqual(answer.record.createdBy, { kind: "token", tokenId: pastedId });
  await page.screenshot({ path: join(ARTIFACTS, "02-created.png"), fullPage: true });

  // The new token is the user's, and it works.
  const listed = await call("GET", "/api/usertokens");
  assert.ok(listed.body.some((/** @type {any} */ t) => t.id === answer.record.id && t.userId === USER));
  assert.equal((await call("GET", "/api/whoami", { token: answer.token })).status, 200);

  // 4. A wrong token is told 401, and the page says so.
  await page.getByLabel("Token", { exact: true }).fill("tsr_not-a-token");
  await create.getByRole("button", { name: "Execute" }).click();
  await page.locator("#createToken-status").filter({ hasText: "401" }).waitFor();
  assert.match(await page.locator("#createToken-answer").innerText(), /UNAUTHENTICATED/);

  // 5. A body that is not JSON is caught before anything is sent.
  await body.fill("{ name: ");
  await create.getByRole("button", { name: "Execute" }).click();
  await page.locator("#createToken-error").filter({ hasText: "not valid JSON" }).waitFor();

  // 6. A path parameter: the token just made, read back with the pasted one.
  await page.getByLabel("Token", { exact: true }).fill(pasted);
  const get = page.locator("#getToken");
  await get.locator("summary").click();
  await get.getByLabel(/^id/).fill(answer.record.id);
  await get.getByRole("button", { name: "Execute" }).click();
  await page.locator("#getToken-status").filter({ hasText: "200" }).waitFor();
  assert.equal(JSON.parse(await page.locator("#getToken-answer").innerText()).name, "from the docs");

  // 7. Accessible, and usable at 360 px.
  assert.deepEqual(await seriousViolations(page), []);
  await page.setViewportSize({ width: 360, height: 800 });
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`),
  );
  assert.deepEqual(wide, [], "elements wider than 360px");
  await page.screenshot({ path: join(ARTIFACTS, "03-narrow.png"), fullPage: false });

  assert.deepEqual(elsewhere, [], "requests to another origin");
  assert.deepEqual(problems, []);
  // Neither token reached the server's log.
  assert.ok(!serverOutput.includes(pasted) && !serverOutput.includes(answer.token));
  await page.close();
});
