// @ts-check
/**
 * The list view: the user's tokens with their creator, expiry, last use,
 * scope and an Active switch; Details and Delete for each; Generate disabled,
 * with the reason, at the deployment's limit.
 */

import { api, messageOf, signedIn, state } from "./api.js";
import { DAY_MS, SOON_MS, announce, fieldError, make, scopeText, timeElement } from "./dom.js";
import { openDetail, syncDetail } from "./detail.js";
import { loadActivity, loadLeaks } from "./audit.js";
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

/**
 * What the delete dialog asks about: the token, the API path that deletes
 * it, and what follows a deletion.
 * @type {{ token: TokenInfo, path: string, done: () => Promise<void> } | null}
 */
let deleting = null;

/**
 * @param {TokenInfo} token who made it: you, a token by name, a deleted
 * token, or the administrator or service key that issued it for you
 */
export function creatorText(token) {
  const by = token.createdBy;
  if (by.kind === "user") return "you";
  if (by.kind === "admin") return `administrator ${by.userId}`;
  if (by.kind === "service") return `service key “${by.keyId}”`;
  const parent = data.tokens.find((t) => t.id === by.tokenId);
  return parent ? `token “${parent.name}”` : "a deleted token";
}

/** @param {TokenInfo} token */
function expiryCell(token) {
  const cell = make("td");
  if (token.expiresAt === null) {
    cell.textContent = "never";
    return cell;
  }
  const left = token.expiresAt - Date.now();
  const time = timeElement(token.expiresAt, false);
  if (left <= 0) {
    const span = make("span", "expired", "expired ");
    span.append(time);
    cell.append(span);
  } else if (left < SOON_MS) {
    const days = Math.ceil(left / DAY_MS);
    const span = make("span", "soon");
    span.append(time, ` (in ${days} day${days === 1 ? "" : "s"})`);
    cell.append(span);
  } else {
    cell.append(time);
  }
  return cell;
}

/** Fetches the caller's tokens and redraws the table. */
export async function loadTokens() {
  try {
    data.tokens = /** @type {TokenInfo[]} */ (await signedIn(() => api("GET", "/api/usertokens")));
    fieldError(ui.tokensError, null, null);
  } catch (error) {
    fieldError(ui.tokensError, null, `Your tokens could not be loaded: ${messageOf(error)}`);
  }
  renderTokens();
  await loadActivity(false);
  await loadLeaks();
}

export function renderTokens() {
  const sorted = [...data.tokens].sort((a, b) => b.createdAt - a.createdAt);
  ui.tokensBody.replaceChildren(...sorted.map(tokenRow));
  ui.tokensTable.hidden = sorted.length === 0;
  ui.tokensEmpty.hidden = sorted.length !== 0 || !state.session;
  syncDetail(data.tokens);
  syncLimit();
}

/**
 * Disables Generate, saying why, while the user holds as many tokens as the
 * deployment allows: those not expired and not already replaced by a
 * rotation, as the server counts them. Rotation stays possible.
 */
export function syncLimit() {
  const limit = data.policy.maxTokensPerUser;
  const now = Date.now();
  const live = data.tokens.filter((t) => (t.expiresAt === null || t.expiresAt > now)
    && !(t.replacedBy && t.expiresAt !== null && t.expiresAt > now)).length;
  const full = limit !== null && live >= limit;
  ui.generateSubmit.disabled = full;
  ui.generateLimit.hidden = !full;
  if (full) {
    ui.generateLimit.textContent = limit === 1
      ? "You already have a token, and this deployment allows one per user. Delete it (or let it expire) to generate another, or rotate it to replace it."
      : `You have ${live} tokens, the most this deployment allows. Delete one (or let one expire) to generate another, or rotate one to replace it.`;
    ui.generateSubmit.setAttribute("aria-describedby", "generate-limit");
  } else {
    ui.generateSubmit.removeAttribute("aria-describedby");
  }
}

/** @param {TokenInfo} token */
function tokenRow(token) {
  const row = make("tr");
  row.dataset.tokenId = token.id;
  if (token.status !== "active") row.classList.add("inactive");

  const name = make("td");
  const title = make("strong", "token-name", token.name);
  title.id = `token-${token.id}`;
  title.tabIndex = -1;
  name.append(title);
  if (token.description) name.append(make("span", "description", token.description));
  name.append(make("span", "hint-code", token.hint));

  const lastUsed = make("td");
  if (token.lastUsedAt === null) lastUsed.textContent = "never";
  else lastUsed.append(timeElement(token.lastUsedAt, true));

  const created = make("td");
  created.append(timeElement(token.createdAt, false));

  const active = make("td");
  const label = make("label", "switch");
  const toggle = make("input");
  toggle.type = "checkbox";
  toggle.setAttribute("role", "switch");
  toggle.checked = token.status === "active";
  toggle.setAttribute("aria-label", `${token.name}: active`);
  const state = make("span", undefined, toggle.checked ? "Active" : "Inactive");
  state.setAttribute("aria-hidden", "true");
  toggle.addEventListener("change", () => void setStatus(token, toggle));
  label.append(toggle, state);
  active.append(label);

  const actions = make("td");
  const details = make("button", "link plain", "Details");
  details.type = "button";
  details.setAttribute("aria-label", `Details of ${token.name}`);
  details.addEventListener("click", () => openDetail(token, details));
  actions.append(details);
  const remove = make("button", "link", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete ${token.name}`);
  remove.addEventListener("click", () => askDelete(token, remove));
  actions.append(remove);

  row.append(name, make("td", undefined, creatorText(token)), created, expiryCell(token), lastUsed,
    make("td", undefined, scopeText(token.scope)), active, actions);
  return row;
}

/**
 * Activates or deactivates a token from its switch, then redraws its row
 * from the record the server returns (which also brings its last use up to
 * date) and puts focus back on the switch.
 * @param {TokenInfo} token
 * @param {HTMLInputElement} toggle
 */
async function setStatus(token, toggle) {
  const status = toggle.checked ? "active" : "inactive";
  toggle.disabled = true;
  try {
    const updated = /** @type {TokenInfo} */ (
      await signedIn(() => api("PATCH", `/api/usertokens/${encodeURIComponent(token.id)}`, { status }))
    );
    data.tokens = data.tokens.map((t) => (t.id === updated.id ? updated : t));
    const row = tokenRow(updated);
    toggle.closest("tr")?.replaceWith(row);
    row.querySelector("input")?.focus();
    fieldError(ui.tokensError, null, null);
    announce(`${token.name} is now ${status}.`);
  } catch (error) {
    toggle.checked = !toggle.checked;
    toggle.disabled = false;
    toggle.focus();
    fieldError(ui.tokensError, null, `${token.name} could not be changed: ${messageOf(error)}`);
  }
}

/**
 * Opens the delete confirmation for one of the user's own tokens.
 * @param {TokenInfo} token
 * @param {HTMLElement} opener focused again if the user cancels
 */
export function askDelete(token, opener) {
  askDeleteAt(token, `/api/usertokens/${encodeURIComponent(token.id)}`, opener, async () => {
    await loadTokens();
    ui.tokensTitle.focus();
  });
}

/**
 * Opens the delete confirmation for a token deleted through `path` (the
 * user's own route, or an administrator's for another user's token); `done`
 * runs after the deletion and places focus.
 * @param {TokenInfo} token
 * @param {string} path
 * @param {HTMLElement} opener focused again if the user cancels
 * @param {() => Promise<void>} done
 */
export function askDeleteAt(token, path, opener, done) {
  deleting = { token, path, done };
  ui.deleteName.textContent = token.name;
  fieldError(ui.deleteError, null, null);
  ui.deleteDialog.returnValue = "";
  ui.deleteDialog.showModal();
  ui.deleteCancel.focus();
  ui.deleteDialog.addEventListener("close", () => {
    if (ui.deleteDialog.returnValue !== "deleted" && opener.isConnected) opener.focus();
  }, { once: true });
}

export async function confirmDelete() {
  const asked = deleting;
  if (!asked) return;
  const { token, path, done } = asked;
  ui.deleteConfirm.disabled = true;
  try {
    await signedIn(() => api("DELETE", path));
    deleting = null;
    ui.deleteDialog.close("deleted");
    await done();
    announce(`${token.name} was deleted.`);
  } catch (error) {
    fieldError(ui.deleteError, null, `It could not be deleted: ${messageOf(error)}`);
  } finally {
    ui.deleteConfirm.disabled = false;
  }
}
