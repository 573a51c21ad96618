// @ts-check
/**
 * The token page: sign in, list, generate, deactivate and delete one's own
 * API tokens through tessera-host's JSON API.
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

import { ApiError, api, hooks, messageOf, send, signedIn, state } from "./api.js";
import { DAY_MS, SOON_MS, announce, byId, fieldError, make, scopeText, timeElement } from "./dom.js";
import { closeDetail, initDetail, openDetail, syncDetail } from "./detail.js";
import { initAccount, resetAccount } from "./account.js";

/**
 * @typedef {{ kind: "user" } | { kind: "token", tokenId: string }
 *   | { kind: "admin", userId: string } | { kind: "service", keyId: string }} Creator
 */
/** @typedef {import("./dom.js").Scope} Scope */
/** @typedef {import("./api.js").Session} Session */
/**
 * A token's metadata as the API lists it (never the token or its hash).
 * @typedef {object} TokenInfo
 * @property {string} id
 * @property {string} userId
 * @property {string} name
 * @property {string | null | undefined} description
 * @property {string} hint
 * @property {Creator} createdBy
 * @property {number} createdAt
 * @property {number | null} expiresAt
 * @property {Scope} scope
 * @property {"active" | "inactive"} status
 * @property {number | null} lastUsedAt
 * @property {string | null} rotatedFrom
 * @property {string | null} replacedBy
 */
/** @typedef {{ action: string, kinds?: string[] }} CatalogEntry */
/** @typedef {{ name: string, admin: boolean, tokens: "inherit" | "on" | "off", tokensEnabled: boolean }} UserInfo */
/** @typedef {"never" | { days: number } | { at: string }} ExpiryRequest */
/** @typedef {{ kind: string, userId?: string, tokenId?: string }} AuditActor */
/**
 * @typedef {object} AuditEntry
 * @property {number} seq
 * @property {number} at
 * @property {string} event
 * @property {string | null} userId
 * @property {string | null} tokenId
 * @property {AuditActor} actor
 * @property {string | null} address
 */

const ui = {
  account: byId("account", HTMLElement),
  accountName: byId("account-name", HTMLElement),
  accountRole: byId("account-role", HTMLElement),
  signOut: byId("sign-out", HTMLButtonElement),
  main: byId("main", HTMLElement),
  status: byId("status", HTMLElement),

  signIn: byId("sign-in", HTMLElement),
  signInForm: byId("sign-in-form", HTMLFormElement),
  signInUser: byId("sign-in-user", HTMLInputElement),
  signInPassword: byId("sign-in-password", HTMLInputElement),
  signInError: byId("sign-in-error", HTMLElement),
  signInSubmit: byId("sign-in-submit", HTMLButtonElement),

  workspace: byId("workspace", HTMLElement),
  admin: byId("admin", HTMLElement),
  membersCanCreate: byId("members-can-create", HTMLInputElement),
  membersCanCreateError: byId("members-can-create-error", HTMLElement),
  usersBody: byId("users-body", HTMLTableSectionElement),
  usersError: byId("users-error", HTMLElement),

  activityError: byId("activity-error", HTMLElement),
  activityEmpty: byId("activity-empty", HTMLElement),
  activityTable: byId("activity-table", HTMLTableElement),
  activityBody: byId("activity-body", HTMLTableSectionElement),
  activityMore: byId("activity-more", HTMLButtonElement),

  tokensTitle: byId("tokens-title", HTMLElement),
  tokensError: byId("tokens-error", HTMLElement),
  tokensEmpty: byId("tokens-empty", HTMLElement),
  tokensTable: byId("tokens-table", HTMLTableElement),
  tokensBody: byId("tokens-body", HTMLTableSectionElement),

  generateForm: byId("generate-form", HTMLFormElement),
  generateError: byId("generate-error", HTMLElement),
  generateSubmit: byId("generate-submit", HTMLButtonElement),
  name: byId("token-name", HTMLInputElement),
  nameError: byId("token-name-error", HTMLElement),
  description: byId("token-description", HTMLTextAreaElement),
  descriptionError: byId("token-description-error", HTMLElement),
  expiry: byId("expiry", HTMLFieldSetElement),
  expiryError: byId("expiry-error", HTMLElement),
  expiryDateField: byId("expiry-date-field", HTMLElement),
  expiryAt: byId("expiry-at", HTMLInputElement),
  expiryTime: byId("expiry-time", HTMLInputElement),
  generateLimit: byId("generate-limit", HTMLElement),
  expiryDaysField: byId("expiry-days-field", HTMLElement),
  expiryDays: byId("expiry-days-count", HTMLInputElement),
  scope: byId("scope", HTMLFieldSetElement),
  scopeError: byId("scope-error", HTMLElement),
  catalog: byId("catalog", HTMLElement),

  created: byId("created-dialog", HTMLDialogElement),
  createdName: byId("created-name", HTMLElement),
  createdToken: byId("created-token", HTMLElement),
  createdCopy: byId("created-copy", HTMLButtonElement),
  createdDownload: byId("created-download", HTMLButtonElement),
  createdFeedback: byId("created-feedback", HTMLElement),
  createdAck: byId("created-ack", HTMLInputElement),
  createdClose: byId("created-close", HTMLButtonElement),
  createdCloseHint: byId("created-close-hint", HTMLElement),

  deleteDialog: byId("delete-dialog", HTMLDialogElement),
  deleteName: byId("delete-name", HTMLElement),
  deleteError: byId("delete-error", HTMLElement),
  deleteCancel: byId("delete-cancel", HTMLButtonElement),
  deleteConfirm: byId("delete-confirm", HTMLButtonElement),
};

/** The signed-in user's tokens, as last listed. @type {TokenInfo[]} */
let tokens = [];
/** The deployment's action catalog. @type {CatalogEntry[]} */
let catalog = [];
/**
 * The deployment's limits on tokens.
 * @type {{ allowNonExpiring: boolean, maxLifetimeDays: number | null, maxTokensPerUser: number | null }}
 */
let policy = { allowNonExpiring: true, maxLifetimeDays: null, maxTokensPerUser: null };
/** The token in the show-once dialog, until it is closed. @type {{ value: string, name: string, id: string } | null} */
let shown = null;
/** A download link's object URL for the shown token, revoked on close. @type {string | null} */
let downloadUrl = null;
/** The token the delete dialog asks about. @type {TokenInfo | null} */
let deleting = null;
/** Where the next (older) page of the activity starts. @type {string | null} */
let activityCursor = null;

/**
 * @param {TokenInfo} token who made it: you, a token by name, a deleted
 * token, or the administrator or service key that issued it for you
 */
function creatorText(token) {
  const by = token.createdBy;
  if (by.kind === "user") return "you";
  if (by.kind === "admin") return `administrator ${by.userId}`;
  if (by.kind === "service") return `service key “${by.keyId}”`;
  const parent = tokens.find((t) => t.id === by.tokenId);
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

// ---------------------------------------------------------------- the list

/** Fetches the caller's tokens and redraws the table. */
async function loadTokens() {
  try {
    tokens = /** @type {TokenInfo[]} */ (await signedIn(() => api("GET", "/api/usertokens")));
    fieldError(ui.tokensError, null, null);
  } catch (error) {
    fieldError(ui.tokensError, null, `Your tokens could not be loaded: ${messageOf(error)}`);
  }
  renderTokens();
  await loadActivity(false);
}

// ---------------------------------------------------------------- activity

/** @type {Record<string, string>} */
const eventNames = {
  "token.created": "Token created",
  "token.rotated": "Token rotated",
  "token.renamed": "Token renamed",
  "token.described": "Description changed",
  "token.deactivated": "Token deactivated",
  "token.reactivated": "Token activated again",
  "token.first-used": "Token first used",
  "token.deleted": "Token deleted",
  "token.refused": "Token refused: tokens disabled",
  "token.changed": "Token changed",
  "user.added": "User added",
  "user.tokens": "Token setting changed",
  "user.admin": "Administrator role changed",
  "user.password": "Password changed",
  "setting.changed": "Setting changed",
};

/** @param {string | null | undefined} id a token's name where known */
function tokenLabel(id) {
  if (!id) return "—";
  const token = tokens.find((t) => t.id === id);
  return token ? token.name : `${id.slice(0, 8)}…`;
}

/** @param {AuditActor} actor */
function actorText(actor) {
  switch (actor.kind) {
    case "password":
      return actor.userId ?? "a user";
    case "token":
      return `Token ${tokenLabel(actor.tokenId)}`;
    case "admin":
      return `${actor.userId ?? "?"} (administrator)`;
    case "operator":
      return "The operator (command line)";
    case "scanner":
      return "GitHub secret scanning";
    default:
      return actor.kind;
  }
}

/** @param {AuditEntry} entry */
function activityRow(entry) {
  const row = make("tr");
  const when = make("td");
  when.append(timeElement(entry.at, true));
  row.append(
    when,
    make("td", undefined, eventNames[entry.event] ?? entry.event),
    make("td", undefined, entry.userId ?? "—"),
    make("td", undefined, tokenLabel(entry.tokenId)),
    make("td", undefined, actorText(entry.actor)),
    make("td", undefined, entry.address ?? "—"),
  );
  return row;
}

/**
 * Loads the newest events (or, with `older`, the page after those shown).
 * @param {boolean} older
 */
async function loadActivity(older) {
  const cursor = older && activityCursor ? `&cursor=${encodeURIComponent(activityCursor)}` : "";
  try {
    const page = /** @type {{ events: AuditEntry[], next: string | null }} */ (
      await signedIn(() => api("GET", `/api/audit?limit=20${cursor}`))
    );
    const rows = page.events.map(activityRow);
    if (older) ui.activityBody.append(...rows);
    else ui.activityBody.replaceChildren(...rows);
    activityCursor = page.next;
    ui.activityMore.hidden = !page.next;
    const empty = ui.activityBody.childElementCount === 0;
    ui.activityTable.hidden = empty;
    ui.activityEmpty.hidden = !empty;
    fieldError(ui.activityError, null, null);
  } catch (error) {
    fieldError(ui.activityError, null, `The activity could not be loaded: ${messageOf(error)}`);
  }
}

function renderTokens() {
  const sorted = [...tokens].sort((a, b) => b.createdAt - a.createdAt);
  ui.tokensBody.replaceChildren(...sorted.map(tokenRow));
  ui.tokensTable.hidden = sorted.length === 0;
  ui.tokensEmpty.hidden = sorted.length !== 0 || !state.session;
  syncDetail(tokens);
  syncLimit();
}

/**
 * Disables Generate, saying why, while the user holds as many tokens as the
 * deployment allows: those not expired and not already replaced by a
 * rotation, as the server counts them. Rotation stays possible.
 */
function syncLimit() {
  const limit = policy.maxTokensPerUser;
  const now = Date.now();
  const live = tokens.filter((t) => (t.expiresAt === null || t.expiresAt > now)
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
    tokens = tokens.map((t) => (t.id === updated.id ? updated : t));
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
 * Opens the delete confirmation for a token.
 * @param {TokenInfo} token
 * @param {HTMLElement} opener focused again if the user cancels
 */
function askDelete(token, opener) {
  deleting = token;
  ui.deleteName.textContent = token.name;
  fieldError(ui.deleteError, null, null);
  ui.deleteDialog.returnValue = "";
  ui.deleteDialog.showModal();
  ui.deleteCancel.focus();
  ui.deleteDialog.addEventListener("close", () => {
    if (ui.deleteDialog.returnValue !== "deleted" && opener.isConnected) opener.focus();
  }, { once: true });
}

async function confirmDelete() {
  const token = deleting;
  if (!token) return;
  ui.deleteConfirm.disabled = true;
  try {
    await signedIn(() => api("DELETE", `/api/usertokens/${encodeURIComponent(token.id)}`));
    deleting = null;
    ui.deleteDialog.close("deleted");
    await loadTokens();
    ui.tokensTitle.focus();
    announce(`${token.name} was deleted.`);
  } catch (error) {
    fieldError(ui.deleteError, null, `It could not be deleted: ${messageOf(error)}`);
  } finally {
    ui.deleteConfirm.disabled = false;
  }
}

// ---------------------------------------------------------------- the form

/** The resource an action belongs to: the text before its last '.'. @param {string} action */
function resourceOf(action) {
  const dot = action.lastIndexOf(".");
  return dot > 0 ? action.slice(0, dot) : action;
}

/** Draws the catalog as resource groups of action checkboxes. */
function renderCatalog() {
  /** @type {Map<string, CatalogEntry[]>} */
  const groups = new Map();
  for (const entry of catalog) {
    const resource = resourceOf(entry.action);
    groups.set(resource, [...(groups.get(resource) ?? []), entry]);
  }
  let n = 0;
  const fieldsets = [...groups].map(([resource, entries]) => {
    const fieldset = make("fieldset");
    fieldset.dataset.resource = resource;
    const legend = make("legend");
    const all = make("input");
    all.type = "checkbox";
    all.id = `scope-resource-${n++}`;
    all.className = "resource";
    const allLabel = make("label", undefined, `${resource} (all actions)`);
    allLabel.htmlFor = all.id;
    legend.append(all, allLabel);
    fieldset.append(legend);

    /** @type {HTMLInputElement[]} */
    const boxes = entries.map((entry) => {
      const row = make("div", "check");
      const box = make("input");
      box.type = "checkbox";
      box.id = `scope-action-${n++}`;
      box.value = entry.action;
      box.className = "action";
      const label = make("label", undefined, entry.action);
      label.htmlFor = box.id;
      if (entry.kinds?.length) label.append(" ", make("span", "kinds", `(${entry.kinds.join(", ")})`));
      row.append(box, label);
      fieldset.append(row);
      return box;
    });
    const sync = () => {
      const ticked = boxes.filter((b) => b.checked).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    };
    all.addEventListener("change", () => {
      for (const box of boxes) box.checked = all.checked;
      all.indeterminate = false;
    });
    for (const box of boxes) box.addEventListener("change", sync);
    return fieldset;
  });
  ui.catalog.replaceChildren(...fieldsets);
}

/**
 * The custom scope's actions: a whole resource by its name when its box is
 * ticked (every action it has now), otherwise the ticked actions.
 * @returns {string[]}
 */
function customActions() {
  /** @type {string[]} */
  const actions = [];
  for (const fieldset of ui.catalog.querySelectorAll("fieldset")) {
    const all = fieldset.querySelector("input.resource");
    if (all instanceof HTMLInputElement && all.checked && fieldset.dataset.resource) {
      actions.push(fieldset.dataset.resource);
      continue;
    }
    for (const box of fieldset.querySelectorAll("input.action")) {
      if (box instanceof HTMLInputElement && box.checked) actions.push(box.value);
    }
  }
  return actions;
}

/** @param {string} name */
function checkedValue(name) {
  const checked = ui.generateForm.querySelector(`input[name="${name}"]:checked`);
  return checked instanceof HTMLInputElement ? checked.value : "";
}

/** A date input's value for the same day one year from today. */
function oneYearAhead() {
  const day = new Date();
  day.setFullYear(day.getFullYear() + 1);
  return localDate(day);
}

/** @param {Date} day `YYYY-MM-DD` in local time */
function localDate(day) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

/** Shows the expiry and scope sub-fields that go with the chosen options. */
function syncForm() {
  const expiry = checkedValue("expiry");
  ui.expiryDateField.hidden = expiry !== "date";
  ui.expiryDaysField.hidden = expiry !== "days";
  ui.catalog.hidden = checkedValue("scope") !== "custom";
}

function resetForm() {
  ui.generateForm.reset();
  ui.expiryAt.value = oneYearAhead();
  ui.expiryAt.min = localDate(new Date());
  for (const all of ui.catalog.querySelectorAll("input.resource")) {
    if (all instanceof HTMLInputElement) all.indeterminate = false;
  }
  clearFormErrors();
  syncForm();
}

function clearFormErrors() {
  fieldError(ui.generateError, null, null);
  fieldError(ui.nameError, ui.name, null);
  fieldError(ui.descriptionError, ui.description, null);
  fieldError(ui.expiryError, ui.expiry, null);
  fieldError(ui.scopeError, ui.scope, null);
}

/** The control to focus for an expiry or scope error: the chosen option. @param {string} name */
function chosen(name) {
  const checked = ui.generateForm.querySelector(`input[name="${name}"]:checked`);
  return checked instanceof HTMLInputElement ? checked : null;
}

/**
 * Shows an error next to the field it concerns, by its stable code, and
 * moves focus there.
 * @param {string} code
 * @param {string} message
 */
function showGenerateError(code, message) {
  /** @type {[HTMLElement, HTMLElement, HTMLElement | null] | null} */
  let target = null;
  if (code === "NAME_INVALID") target = [ui.nameError, ui.name, ui.name];
  else if (code === "DESCRIPTION_INVALID") target = [ui.descriptionError, ui.description, ui.description];
  else if (code.startsWith("EXPIRY_")) {
    const input = checkedValue("expiry") === "date" ? ui.expiryAt : checkedValue("expiry") === "days" ? ui.expiryDays : chosen("expiry");
    target = [ui.expiryError, ui.expiry, input];
  } else if (code.startsWith("SCOPE_")) target = [ui.scopeError, ui.scope, chosen("scope")];
  if (target) {
    fieldError(target[0], target[1], message);
    target[2]?.focus();
  } else {
    fieldError(ui.generateError, null, message);
    ui.generateError.tabIndex = -1;
    ui.generateError.focus();
  }
}

/**
 * Reads the expiry choice, or shows what is wrong with it.
 * @returns {ExpiryRequest | null}
 */
function readExpiry() {
  const choice = checkedValue("expiry");
  if (choice === "date") {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ui.expiryAt.value);
    if (!match) {
      showGenerateError("EXPIRY_INVALID", "Choose the date the token expires.");
      return null;
    }
    // The chosen time of that day, else its end, in the user's time zone.
    const time = /^(\d{2}):(\d{2})$/.exec(ui.expiryTime.value);
    const end = time
      ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(time[1]), Number(time[2]), 0, 0)
      : new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59, 999);
    if (end.getTime() <= Date.now()) {
      showGenerateError("EXPIRY_INVALID", time ? "Choose a time in the future." : "Choose a date in the future.");
      return null;
    }
    return { at: end.toISOString() };
  }
  if (choice === "days") {
    const days = Number(ui.expiryDays.value);
    if (!Number.isInteger(days) || (days < 1 && days !== -1)) {
      showGenerateError("EXPIRY_INVALID", "Enter a whole number of days, 1 or more, or −1 for never.");
      return null;
    }
    return { days };
  }
  return "never";
}

/**
 * Reads the scope choice, or shows what is wrong with it.
 * @returns {Scope | null}
 */
function readScope() {
  const choice = checkedValue("scope");
  if (choice !== "custom") return { preset: choice };
  const actions = customActions();
  if (actions.length === 0) {
    showGenerateError("SCOPE_INVALID", "Choose at least one action, or another kind of permissions.");
    const first = ui.catalog.querySelector("input");
    if (first instanceof HTMLInputElement) first.focus();
    return null;
  }
  return { actions };
}

/** @param {SubmitEvent} event */
async function generate(event) {
  event.preventDefault();
  clearFormErrors();
  const name = ui.name.value.trim();
  if (!name) {
    showGenerateError("NAME_INVALID", "Enter a name for the token.");
    return;
  }
  const expires = readExpiry();
  if (!expires) return;
  const scope = readScope();
  if (!scope) return;
  const description = ui.description.value.trim();
  /** @type {Record<string, unknown>} */
  const body = { name, expires, scope };
  if (description) body.description = description;

  ui.generateSubmit.disabled = true;
  try {
    const created = /** @type {{ token: string, record: TokenInfo }} */ (
      await signedIn(() => api("POST", "/api/usertokens", body))
    );
    showToken(created.token, created.record);
    resetForm();
    await loadTokens();
  } catch (error) {
    if (error instanceof ApiError) showGenerateError(error.code, error.message);
    else showGenerateError("", messageOf(error));
  } finally {
    ui.generateSubmit.disabled = false;
    syncLimit();
  }
}

// ---------------------------------------------------------------- shown once

/**
 * Opens the show-once dialog with a new token.
 * @param {string} value
 * @param {TokenInfo} record
 */
function showToken(value, record) {
  shown = { value, name: record.name, id: record.id };
  ui.createdName.textContent = record.name;
  ui.createdToken.textContent = value;
  ui.createdFeedback.textContent = "";
  ui.createdAck.checked = false;
  syncAck();
  ui.created.showModal();
  ui.createdCopy.focus();
}

/** Shows the hint beside Close until the box is ticked (Close stays focusable and says why it refuses). */
function syncAck() {
  ui.createdCloseHint.hidden = ui.createdAck.checked;
}

async function copyToken() {
  if (!shown) return;
  try {
    await navigator.clipboard.writeText(shown.value);
    ui.createdFeedback.textContent = "Copied to the clipboard.";
  } catch {
    ui.createdFeedback.textContent = "The browser refused to copy: select the token above and copy it yourself.";
  }
}

function downloadToken() {
  if (!shown) return;
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([`${shown.value}\n`], { type: "text/plain" }));
  const link = make("a");
  link.href = downloadUrl;
  link.download = `${shown.name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "token"}.token.txt`;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  ui.createdFeedback.textContent = "Saved as a file: keep it somewhere only you can read.";
}

/** Closes the show-once dialog if the box is ticked; otherwise says why not. */
function closeToken() {
  if (!ui.createdAck.checked) {
    ui.createdFeedback.textContent = "Tick “I have copied my token to a safe place” first: the token cannot be shown again.";
    ui.createdAck.focus();
    return;
  }
  const id = shown?.id;
  forgetToken();
  ui.created.close();
  const row = id ? document.getElementById(`token-${id}`) : null;
  if (row) row.focus();
  else ui.name.focus();
  announce("The token is no longer shown.");
}

/** Removes the token from the dialog, the download link and this module. */
function forgetToken() {
  shown = null;
  ui.createdToken.textContent = "";
  ui.createdFeedback.textContent = "";
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = null;
  ui.createdAck.checked = false;
}

// ---------------------------------------------------------------- sign in

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
  tokens = /** @type {TokenInfo[]} */ (await api("GET", "/api/usertokens"));
  catalog = /** @type {CatalogEntry[]} */ (await api("GET", "/api/catalog"));
  policy = /** @type {typeof policy} */ (await api("GET", "/api/policy"));
  resetAccount();
  const admin = state.session.admin
    ? /** @type {{ membersCanCreateTokens: boolean }} */ (await api("GET", "/api/settings"))
    : null;
  ui.accountName.textContent = state.session.user;
  ui.accountRole.textContent = admin ? " (administrator)" : "";
  ui.admin.hidden = !admin;
  ui.membersCanCreate.checked = admin?.membersCanCreateTokens ?? false;
  if (admin) await loadUsers();
  await loadActivity(false);
  renderCatalog();
  resetForm();
  renderTokens();
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
  tokens = [];
  catalog = [];
  forgetToken();
  if (ui.created.open) ui.created.close();
  if (ui.deleteDialog.open) ui.deleteDialog.close();
  ui.tokensBody.replaceChildren();
  ui.usersBody.replaceChildren();
  ui.activityBody.replaceChildren();
  ui.activityTable.hidden = true;
  ui.activityMore.hidden = true;
  activityCursor = null;
  ui.catalog.replaceChildren();
  ui.generateForm.reset();
  closeDetail();
  resetAccount();
  ui.signInPassword.value = "";
  ui.workspace.hidden = true;
  ui.account.hidden = true;
  ui.admin.hidden = true;
  ui.signIn.hidden = false;
  fieldError(ui.signInError, null, reason ?? null);
  ui.signInUser.focus();
  announce(reason ?? "Signed out.");
}

async function saveSettings() {
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

// ---------------------------------------------------------------- users

/** What each token setting is called in the page. */
const TOKEN_SETTINGS = /** @type {const} */ ([
  ["inherit", "Default"],
  ["on", "On"],
  ["off", "Off"],
]);

/** Loads every user with their token setting (administrators only). */
async function loadUsers() {
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
      const actions = make("td");
      actions.append(revoke);
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
      tokens = /** @type {TokenInfo[]} */ (await api("GET", "/api/usertokens"));
      renderTokens();
    }
  } catch (error) {
    fieldError(ui.usersError, null, `The tokens of ${user.name} could not be deactivated: ${messageOf(error)}`);
  } finally {
    button.disabled = false;
    button.focus();
  }
}

// ---------------------------------------------------------------- wiring

hooks.ended = leave;
initDetail({ showToken, askDelete, reload: loadTokens, creatorText });
initAccount();

ui.signInForm.addEventListener("submit", (event) => void signIn(event));
ui.signOut.addEventListener("click", () => void signOut());
ui.membersCanCreate.addEventListener("change", () => void saveSettings());
ui.generateForm.addEventListener("submit", (event) => void generate(event));
ui.generateForm.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === "radio") syncForm();
});

ui.createdCopy.addEventListener("click", () => void copyToken());
ui.createdDownload.addEventListener("click", downloadToken);
ui.createdAck.addEventListener("change", syncAck);
ui.createdClose.addEventListener("click", closeToken);
// Escape must not get around the tick box: stop it before it becomes a
// close request, refuse the cancel event, and reopen the dialog should the
// browser close it anyway while the token is still unacknowledged.
ui.created.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    closeToken();
  }
});
ui.created.addEventListener("cancel", (event) => {
  event.preventDefault();
  closeToken();
});
ui.created.addEventListener("close", () => {
  if (shown) ui.created.showModal();
});

ui.deleteCancel.addEventListener("click", () => ui.deleteDialog.close("cancel"));
ui.deleteConfirm.addEventListener("click", () => void confirmDelete());
ui.activityMore.addEventListener("click", () => void loadActivity(true));

void resume();
