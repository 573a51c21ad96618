// @ts-check
/**
 * The administrator's console: one user's tokens, filtered by status,
 * creator, expiry and use; each deactivated, re-activated or deleted; and,
 * when the deployment allows it, a token issued for the user (shown once,
 * like any new token). Another user's token is never renamed, rotated or
 * used from here: the server's core refuses it.
 */

import { ApiError, api, messageOf, signedIn } from "./api.js";
import { announce, byId, entriesOf, fieldError, make, timeElement } from "./dom.js";
import { showToken } from "./shown.js";
import { askDeleteAt } from "./list.js";

/**
 * @typedef {import("./page.js").TokenInfo} TokenInfo
 */

const ui = {
  section: byId("console", HTMLElement),
  title: byId("console-title", HTMLElement),
  user: byId("console-user", HTMLElement),
  filters: byId("console-filters", HTMLFormElement),
  status: byId("console-status", HTMLSelectElement),
  createdBy: byId("console-created-by", HTMLSelectElement),
  expiring: byId("console-expiring", HTMLInputElement),
  neverUsed: byId("console-never-used", HTMLInputElement),
  error: byId("console-error", HTMLElement),
  empty: byId("console-empty", HTMLElement),
  table: byId("console-table", HTMLTableElement),
  body: byId("console-body", HTMLTableSectionElement),
  close: byId("console-close", HTMLButtonElement),
  allow: byId("issue-for-users", HTMLInputElement),
  allowError: byId("issue-for-users-error", HTMLElement),
  issueForm: byId("issue-form", HTMLFormElement),
  issueUser: byId("issue-user", HTMLElement),
  issueName: byId("issue-name", HTMLInputElement),
  issueScope: byId("issue-scope", HTMLSelectElement),
  issueDays: byId("issue-days", HTMLInputElement),
  issueAllowedIps: byId("issue-allowed-ips", HTMLInputElement),
  issueError: byId("issue-error", HTMLElement),
  issueSubmit: byId("issue-submit", HTMLButtonElement),
};

/** The user whose tokens are shown. @type {string | null} */
let shownUser = null;
/** Where focus goes back to when the console closes. @type {HTMLElement | null} */
let opener = null;

/** @param {string} user */
function base(user) {
  return `/api/admin/users/${encodeURIComponent(user)}/tokens`;
}

/** Wires the console. */
export function initConsole() {
  ui.filters.addEventListener("change", () => void load());
  ui.filters.addEventListener("submit", (event) => {
    event.preventDefault();
    void load();
  });
  ui.close.addEventListener("click", closeConsole);
  ui.allow.addEventListener("change", () => void saveAllow());
  ui.issueForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void issue();
  });
}

/**
 * Shows whether tokens may be issued for users, as the settings say.
 * @param {boolean} allowed
 */
export function showAllow(allowed) {
  ui.allow.checked = allowed;
  ui.issueForm.hidden = !allowed;
}

/**
 * Opens the console on a user's tokens.
 * @param {string} user
 * @param {HTMLElement} from focused again when it closes
 */
export async function openConsole(user, from) {
  shownUser = user;
  opener = from;
  ui.user.textContent = user;
  ui.issueUser.textContent = user;
  ui.filters.reset();
  fieldError(ui.issueError, null, null);
  ui.section.hidden = false;
  await load();
  ui.title.focus();
}

/** Closes the console (also at sign-out). */
export function closeConsole() {
  if (ui.section.hidden) return;
  ui.section.hidden = true;
  ui.body.replaceChildren();
  shownUser = null;
  if (opener?.isConnected) opener.focus();
  opener = null;
}

/** Lists the user's tokens with the filters chosen. */
async function load() {
  const user = shownUser;
  if (!user) return;
  const query = new URLSearchParams();
  if (ui.status.value) query.set("status", ui.status.value);
  if (ui.createdBy.value) query.set("createdBy", ui.createdBy.value);
  if (ui.expiring.value.trim()) query.set("expiringDays", ui.expiring.value.trim());
  if (ui.neverUsed.checked) query.set("neverUsed", "true");
  const search = query.toString();
  try {
    const list = /** @type {TokenInfo[]} */ (
      await signedIn(() => api("GET", `${base(user)}${search ? `?${search}` : ""}`))
    );
    fieldError(ui.error, null, null);
    ui.body.replaceChildren(...list.map((token) => row(user, token)));
    ui.table.hidden = list.length === 0;
    ui.empty.hidden = list.length !== 0;
  } catch (error) {
    fieldError(ui.error, null, `The tokens of ${user} could not be loaded: ${messageOf(error)}`);
  }
}

/** @param {TokenInfo} token */
function creator(token) {
  const by = token.createdBy;
  switch (by.kind) {
    case "user": return "the user";
    case "token": return "a token";
    case "admin": return `administrator ${by.userId}`;
    case "service": return `service key “${by.keyId}”`;
  }
}

/**
 * One token's row: what it is, and buttons to switch and delete it.
 * @param {string} user
 * @param {TokenInfo} token
 */
function row(user, token) {
  const tr = make("tr");
  const name = make("th", undefined, token.name);
  name.setAttribute("scope", "row");
  name.append(make("span", "hint-code", token.hint));
  const expires = make("td");
  expires.append(token.expiresAt === null ? "never" : timeElement(token.expiresAt, true));
  const used = make("td");
  used.append(token.lastUsedAt === null ? "never" : timeElement(token.lastUsedAt, true));
  const active = token.status === "active";
  const toggle = make("button", "secondary", active ? "Deactivate" : "Re-activate");
  toggle.type = "button";
  toggle.setAttribute("aria-label", `${active ? "Deactivate" : "Re-activate"} ${token.name} of ${user}`);
  toggle.addEventListener("click", () => void setStatus(user, token, active ? "inactive" : "active", toggle));
  const remove = make("button", "link", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete ${token.name} of ${user}`);
  remove.addEventListener("click", () => remove_(user, token, remove));
  const actions = make("td");
  actions.append(toggle, remove);
  tr.append(name, make("td", undefined, creator(token)), expires, used,
    make("td", undefined, active ? "Active" : "Inactive"), actions);
  return tr;
}

/**
 * @param {string} user
 * @param {TokenInfo} token
 * @param {"active" | "inactive"} status
 * @param {HTMLButtonElement} button
 */
async function setStatus(user, token, status, button) {
  button.disabled = true;
  try {
    await signedIn(() => api("PATCH", `${base(user)}/${encodeURIComponent(token.id)}`, { status }));
    announce(`${token.name} of ${user} is now ${status}.`);
    await load();
    ui.title.focus();
  } catch (error) {
    fieldError(ui.error, null, `${token.name} could not be changed: ${messageOf(error)}`);
    button.disabled = false;
  }
}

/**
 * Asks, in the page's delete dialog, whether to delete another user's
 * token; then lists the tokens again.
 * @param {string} user
 * @param {TokenInfo} token
 * @param {HTMLButtonElement} button
 */
function remove_(user, token, button) {
  askDeleteAt(token, `${base(user)}/${encodeURIComponent(token.id)}`, button, async () => {
    await load();
    ui.title.focus();
  });
}

/** Saves whether tokens may be issued for users. */
async function saveAllow() {
  const issueForUsers = ui.allow.checked;
  ui.allow.disabled = true;
  try {
    await signedIn(() => api("PUT", "/api/settings", { issueForUsers }));
    fieldError(ui.allowError, ui.allow, null);
    showAllow(issueForUsers);
    announce(issueForUsers ? "Administrators may now issue tokens for users." : "Tokens are no longer issued for users.");
  } catch (error) {
    ui.allow.checked = !issueForUsers;
    fieldError(ui.allowError, ui.allow, `The setting could not be saved: ${messageOf(error)}`);
  } finally {
    ui.allow.disabled = false;
  }
}

/** Issues a token for the user shown and shows it once. */
async function issue() {
  const user = shownUser;
  if (!user) return;
  const name = ui.issueName.value.trim();
  if (!name) {
    fieldError(ui.issueError, ui.issueName, "Give the token a name.");
    ui.issueName.focus();
    return;
  }
  const days = Number(ui.issueDays.value);
  if (!Number.isInteger(days) || (days < 1 && days !== -1)) {
    fieldError(ui.issueError, ui.issueDays, "Enter a whole number of days, 1 or more, or −1 for never.");
    ui.issueDays.focus();
    return;
  }
  fieldError(ui.issueError, ui.issueName, null);
  const allowedIps = entriesOf(ui.issueAllowedIps);
  ui.issueSubmit.disabled = true;
  try {
    const created = /** @type {{ token: string, record: TokenInfo }} */ (
      await signedIn(() => api("POST", "/api/usertokens", {
        name,
        userId: user,
        scope: { preset: ui.issueScope.value },
        expires: { days },
        ...(allowedIps.length > 0 ? { allowedIps } : {}),
      }))
    );
    ui.issueName.value = "";
    ui.issueAllowedIps.value = "";
    await load();
    showToken(created.token, created.record);
  } catch (error) {
    const text = error instanceof ApiError ? error.message : messageOf(error);
    const field = error instanceof ApiError && error.code.startsWith("IPS_") ? ui.issueAllowedIps : null;
    fieldError(ui.issueError, field, `No token was issued: ${text}`);
    field?.focus();
  } finally {
    ui.issueSubmit.disabled = false;
  }
}
