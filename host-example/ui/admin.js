// @ts-check
/**
 * The administration view: the deployment's default for members, and each
 * user's token setting, with "deactivate all" per user.
 */

import { api, messageOf, signedIn, state } from "./api.js";
import { announce, fieldError, make } from "./dom.js";
import { renderTokens } from "./list.js";
import { openConsole } from "./console.js";
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

export async function saveSettings() {
  const membersCanCreateTokens = ui.membersCanCreate.checked;
  ui.membersCanCreate.disabled = true;
  try {
    await signedIn(() => api("PUT", "/api/settings", { membersCanCreateTokens }));
    fieldError(ui.membersCanCreateError, ui.membersCanCreate, null);
    await loadUsers();
    announce(
      membersCanCreateTokens
        ? "Members who inherit the default may now create and use tokens."
        : "Members who inherit the default may no longer create or use tokens; their tokens are refused until enabled again.",
    );
  } catch (error) {
    ui.membersCanCreate.checked = !membersCanCreateTokens;
    fieldError(ui.membersCanCreateError, ui.membersCanCreate, `The setting could not be saved: ${messageOf(error)}`);
  } finally {
    ui.membersCanCreate.disabled = false;
    ui.membersCanCreate.focus();
  }
}

/** What each token setting is called in the page. */
const TOKEN_SETTINGS = /** @type {const} */ ([
  ["inherit", "Default"],
  ["on", "On"],
  ["off", "Off"],
]);

/** Loads every user with their token setting (administrators only). */
export async function loadUsers() {
  try {
    const answer = /** @type {{ users: UserInfo[] }} */ (await signedIn(() => api("GET", "/api/users")));
    renderUsers(answer.users);
    fieldError(ui.usersError, null, null);
  } catch (error) {
    fieldError(ui.usersError, null, `The users could not be loaded: ${messageOf(error)}`);
  }
}

/** @param {UserInfo} user */
function userStatus(user) {
  if (user.admin) return "Enabled (administrator)";
  return user.tokensEnabled ? "Enabled" : "Disabled: tokens refused";
}

/** @param {UserInfo[]} users */
function renderUsers(users) {
  ui.usersBody.replaceChildren(
    ...users.map((user) => {
      const row = make("tr");
      row.append(make("th", undefined, user.name));
      /** @type {HTMLElement} */ (row.firstChild).setAttribute("scope", "row");
      row.append(make("td", undefined, user.admin ? "Administrator" : "Member"));
      const select = /** @type {HTMLSelectElement} */ (make("select"));
      select.setAttribute("aria-label", `Tokens for ${user.name}`);
      for (const [value, label] of TOKEN_SETTINGS) {
        const option = /** @type {HTMLOptionElement} */ (make("option", undefined, label));
        option.value = value;
        select.append(option);
      }
      select.value = user.tokens;
      const cell = make("td");
      cell.append(select);
      row.append(cell);
      const status = make("td", undefined, userStatus(user));
      row.append(status);
      select.addEventListener("change", () => void saveUserTokens(user, select, status));
      const revoke = /** @type {HTMLButtonElement} */ (make("button", "secondary", "Deactivate all tokens"));
      revoke.type = "button";
      revoke.setAttribute("aria-label", `Deactivate all tokens of ${user.name}`);
      revoke.addEventListener("click", () => void deactivateAllOf(user, revoke));
      const list = /** @type {HTMLButtonElement} */ (make("button", "secondary", "Tokens"));
      list.type = "button";
      list.setAttribute("aria-label", `Tokens of ${user.name}`);
      list.addEventListener("click", () => void openConsole(user.name, list));
      const actions = make("td");
      actions.append(list, " ", revoke);
      row.append(actions);
      return row;
    }),
  );
}

/**
 * Saves one user's token setting; on failure the select shows the old one.
 * @param {UserInfo} user
 * @param {HTMLSelectElement} select
 * @param {HTMLElement} status
 */
async function saveUserTokens(user, select, status) {
  const tokens = select.value;
  select.disabled = true;
  try {
    const saved = /** @type {UserInfo} */ (
      await signedIn(() => api("PUT", `/api/users/${encodeURIComponent(user.name)}/tokens`, { tokens }))
    );
    Object.assign(user, saved);
    status.textContent = userStatus(user);
    fieldError(ui.usersError, select, null);
    announce(
      user.tokensEnabled
        ? `${user.name} may now create and use tokens.`
        : `${user.name} may no longer create or use tokens; their tokens are refused until enabled again.`,
    );
  } catch (error) {
    select.value = user.tokens;
    fieldError(ui.usersError, select, `The setting for ${user.name} could not be saved: ${messageOf(error)}`);
  } finally {
    select.disabled = false;
    select.focus();
  }
}

/**
 * Deactivates every active token of a user at once, after a confirmation.
 * Nothing is deleted: each token can be re-activated by its owner.
 * @param {UserInfo} user
 * @param {HTMLButtonElement} button
 */
async function deactivateAllOf(user, button) {
  if (!window.confirm(`Deactivate every token of ${user.name}? They stop working at once; nothing is deleted.`)) return;
  button.disabled = true;
  try {
    const answer = /** @type {{ deactivated: string[] }} */ (
      await signedIn(() => api("POST", `/api/admin/users/${encodeURIComponent(user.name)}/tokens/deactivate`))
    );
    fieldError(ui.usersError, null, null);
    const count = answer.deactivated.length;
    announce(`${count} ${count === 1 ? "token" : "tokens"} of ${user.name} deactivated.`);
    if (user.name === state.session?.user) {
      data.tokens = /** @type {TokenInfo[]} */ (await api("GET", "/api/usertokens"));
      renderTokens();
    }
  } catch (error) {
    fieldError(ui.usersError, null, `The tokens of ${user.name} could not be deactivated: ${messageOf(error)}`);
  } finally {
    button.disabled = false;
    button.focus();
  }
}
