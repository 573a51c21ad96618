// @ts-check
/**
 * The token page: sign in, list, generate, deactivate and delete one's own
 * API tokens through tessera-host's JSON API. This module signs in and out
 * and wires the views (see page.js) together.
 *
 * Plain JavaScript with JSDoc types, checked by `tsc --strict --checkJs`
 * (see tsconfig.json beside this file), so the page needs no build step.
 *
 * Secrets: the password is sent once, to sign in, and never kept. The server
 * answers with a session cookie (`HttpOnly`, so this script cannot read it)
 * and a CSRF token, which lives only in the `session` variable of this
 * module and goes with every API call; a reload asks the server for it
 * again. Signing out ends the session on the server. A new token lives only
 * in `shown` and in the show-once dialog; closing the dialog (possible only
 * after the acknowledgement box is ticked) clears both.
 */

import { ApiError, api, hooks, messageOf, send, state } from "./api.js";
import { announce, fieldError } from "./dom.js";
import { closeDetail, initDetail } from "./detail.js";
import { initAccount, resetAccount } from "./account.js";
import { initWebhooks, loadWebhooks, resetWebhooks } from "./webhooks.js";
import { askDelete, confirmDelete, creatorText, loadTokens, renderTokens } from "./list.js";
import { loadActivity, loadLeaks, resetActivity } from "./audit.js";
import { generate, renderCatalog, resetForm, syncForm } from "./create.js";
import { forgetToken, initShown, showToken } from "./shown.js";
import { loadUsers, saveSettings } from "./admin.js";
import { closeConsole, initConsole, showAllow } from "./console.js";
import { data, ui } from "./page.js";

/**
 * @typedef {import("./page.js").TokenInfo} TokenInfo
 * @typedef {import("./page.js").Scope} Scope
 * @typedef {import("./page.js").CatalogEntry} CatalogEntry
 * @typedef {import("./page.js").UserInfo} UserInfo
 * @typedef {import("./page.js").ExpiryRequest} ExpiryRequest
 * @typedef {import("./page.js").AuditActor} AuditActor
 * @typedef {import("./page.js").AuditEntry} AuditEntry
 */
/** @typedef {import("./api.js").Session} Session */

/**
 * Whether a value is what `POST /api/session` and `GET /api/session` answer.
 * @param {unknown} value
 * @returns {value is Session}
 */
function isSession(value) {
  const v = /** @type {Record<string, unknown> | null} */ (value);
  return typeof v?.user === "string" && typeof v.admin === "boolean" && typeof v.csrfToken === "string";
}

/** @param {SubmitEvent} event */
async function signIn(event) {
  event.preventDefault();
  const user = ui.signInUser.value.trim();
  const password = ui.signInPassword.value;
  fieldError(ui.signInError, ui.signInPassword, null);
  if (!user || !password) {
    fieldError(ui.signInError, ui.signInPassword, "Enter your user name and password.");
    (user ? ui.signInPassword : ui.signInUser).focus();
    return;
  }
  ui.signInSubmit.disabled = true;
  try {
    const answer = await send("POST", "/api/session", {}, { user, password });
    ui.signInPassword.value = "";
    if (!isSession(answer)) throw new ApiError(500, "INTERNAL", "The server's answer could not be read.");
    await enter(answer);
  } catch (error) {
    state.session = null;
    const code = error instanceof ApiError ? error.code : "";
    fieldError(ui.signInError, ui.signInPassword,
      code === "UNAUTHENTICATED" ? "Wrong user name or password."
        : code === "TOO_MANY_ATTEMPTS" ? `Too many failed sign-ins. ${messageOf(error)}`
          : `Signing in failed: ${messageOf(error)}`);
    ui.signInPassword.focus();
    ui.signInPassword.select();
  } finally {
    ui.signInSubmit.disabled = false;
  }
}

/**
 * Shows the workspace for a session: loads the tokens, the catalog and,
 * for administrators, the settings.
 * @param {Session} signedInAs
 */
async function enter(signedInAs) {
  state.session = signedInAs;
  data.tokens = /** @type {TokenInfo[]} */ (await api("GET", "/api/usertokens"));
  data.catalog = /** @type {CatalogEntry[]} */ (await api("GET", "/api/catalog"));
  data.policy = /** @type {typeof data.policy} */ (await api("GET", "/api/policy"));
  resetAccount();
  const admin = state.session.admin
    ? /** @type {{ membersCanCreateTokens: boolean, issueForUsers: boolean }} */ (await api("GET", "/api/settings"))
    : null;
  ui.accountName.textContent = state.session.user;
  ui.accountRole.textContent = admin ? " (administrator)" : "";
  ui.admin.hidden = !admin;
  ui.membersCanCreate.checked = admin?.membersCanCreateTokens ?? false;
  showAllow(admin?.issueForUsers ?? false);
  if (admin) await loadUsers();
  await loadActivity(false);
  await loadWebhooks();
  renderCatalog();
  resetForm();
  renderTokens();
  await loadLeaks();
  ui.signIn.hidden = true;
  ui.account.hidden = false;
  ui.workspace.hidden = false;
  ui.main.focus();
  announce(`Signed in as ${state.session.user}.`);
}

/**
 * After a reload: the session cookie may still be live; if so, carry on.
 */
async function resume() {
  try {
    const answer = await send("GET", "/api/session", {});
    if (isSession(answer)) {
      await enter(answer);
      return;
    }
  } catch {
    // Not signed in (or the server is away): show the form.
  }
  state.session = null;
  ui.signIn.hidden = false;
  ui.signInUser.focus();
}

/**
 * Signs out on the server (the session ends there, not only here), then
 * forgets everything shown.
 */
async function signOut() {
  const ending = state.session;
  if (ending) {
    try {
      await api("DELETE", "/api/session");
    } catch {
      // Already ended on the server; forget it here all the same.
    }
  }
  leave();
}

/**
 * Forgets everything shown and returns to the sign-in form.
 * @param {string} [reason] shown beside the form
 */
function leave(reason) {
  state.session = null;
  data.tokens = [];
  data.catalog = [];
  forgetToken();
  if (ui.created.open) ui.created.close();
  if (ui.deleteDialog.open) ui.deleteDialog.close();
  ui.tokensBody.replaceChildren();
  ui.usersBody.replaceChildren();
  ui.activityBody.replaceChildren();
  ui.activityTable.hidden = true;
  ui.activityMore.hidden = true;
  resetActivity();
  ui.catalog.replaceChildren();
  ui.generateForm.reset();
  closeDetail();
  closeConsole();
  resetAccount();
  resetWebhooks();
  ui.signInPassword.value = "";
  ui.workspace.hidden = true;
  ui.account.hidden = true;
  ui.admin.hidden = true;
  ui.signIn.hidden = false;
  fieldError(ui.signInError, null, reason ?? null);
  ui.signInUser.focus();
  announce(reason ?? "Signed out.");
}

// ---------------------------------------------------------------- wiring

hooks.ended = leave;
initDetail({ showToken, askDelete, reload: loadTokens, creatorText });
initAccount();
initWebhooks();

ui.signInForm.addEventListener("submit", (event) => void signIn(event));
ui.signOut.addEventListener("click", () => void signOut());
ui.membersCanCreate.addEventListener("change", () => void saveSettings());
ui.generateForm.addEventListener("submit", (event) => void generate(event));
ui.generateForm.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === "radio") syncForm();
});

initShown();
initConsole();

ui.deleteCancel.addEventListener("click", () => ui.deleteDialog.close("cancel"));
ui.deleteConfirm.addEventListener("click", () => void confirmDelete());
ui.activityMore.addEventListener("click", () => void loadActivity(true));

void resume();
