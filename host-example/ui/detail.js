// @ts-check
/**
 * The token detail view: one token's facts; its name, description and
 * status edited and saved together; rotation with a chosen grace period
 * (the new token shown once, as at creation); and deletion.
 *
 * The list view opens it (`openDetail`) and tells it when the tokens
 * change (`syncDetail`); what it shares with the list (the show-once
 * dialog, the delete confirmation, reloading) comes in through
 * `initDetail`, so this module imports only the API client and the DOM
 * helpers.
 */

import { api, messageOf, signedIn } from "./api.js";
import { announce, byId, fieldError, make, scopeText, timeElement } from "./dom.js";

/**
 * @typedef {import("./app.js").TokenInfo} TokenInfo
 * @typedef {{
 *   showToken: (value: string, record: TokenInfo) => void,
 *   askDelete: (token: TokenInfo, opener: HTMLElement) => void,
 *   reload: () => Promise<void>,
 *   creatorText: (token: TokenInfo) => string,
 * }} Shared
 */

const ui = {
  section: byId("detail", HTMLElement),
  title: byId("detail-title", HTMLElement),
  name: byId("detail-name", HTMLElement),
  facts: byId("detail-facts", HTMLElement),
  back: byId("detail-back", HTMLButtonElement),
  form: byId("detail-form", HTMLFormElement),
  error: byId("detail-error", HTMLElement),
  tokenName: byId("detail-token-name", HTMLInputElement),
  nameError: byId("detail-token-name-error", HTMLElement),
  description: byId("detail-description", HTMLTextAreaElement),
  active: byId("detail-active", HTMLInputElement),
  inactive: byId("detail-inactive", HTMLInputElement),
  save: byId("detail-save", HTMLButtonElement),
  grace: byId("rotate-grace", HTMLSelectElement),
  rotate: byId("detail-rotate", HTMLButtonElement),
  rotateError: byId("rotate-error", HTMLElement),
  remove: byId("detail-delete", HTMLButtonElement),
};

/** @type {Shared | null} */
let shared = null;
/** The token shown. @type {TokenInfo | null} */
let current = null;
/** Where focus goes back to when the view closes. @type {HTMLElement | null} */
let opener = null;

/** @param {Shared} with_ what the list view shares */
export function initDetail(with_) {
  shared = with_;
  ui.back.addEventListener("click", closeDetail);
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    void save();
  });
  ui.rotate.addEventListener("click", () => void rotate());
  ui.remove.addEventListener("click", () => {
    if (current) shared?.askDelete(current, ui.remove);
  });
  ui.section.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.querySelector("dialog[open]")) closeDetail();
  });
}

/**
 * @param {string} term
 * @param {string | Node} value
 */
function fact(term, value) {
  const dt = make("dt", undefined, term);
  const dd = make("dd");
  dd.append(value);
  ui.facts.append(dt, dd);
}

/** @param {TokenInfo} token */
function render(token) {
  current = token;
  ui.name.textContent = token.name;
  ui.facts.replaceChildren();
  fact("Id", make("code", undefined, token.id));
  fact("Begins with", make("code", undefined, token.hint));
  fact("Created", timeElement(token.createdAt, true));
  fact("Created by", shared?.creatorText(token) ?? "");
  fact("Expires", token.expiresAt === null ? "never" : timeElement(token.expiresAt, true));
  fact("Last used", token.lastUsedAt === null ? "never" : timeElement(token.lastUsedAt, true));
  fact("Permissions", scopeText(token.scope));
  const ips = token.allowedIps ?? [];
  fact("Usable from", ips.length === 0 ? "anywhere" : ips.join(", "));
  if (token.replacedBy) fact("Rotated", "replaced by a newer token; it works until its grace period ends");
  ui.tokenName.value = token.name;
  ui.description.value = token.description ?? "";
  ui.active.checked = token.status === "active";
  ui.inactive.checked = token.status !== "active";
  fieldError(ui.error, null, null);
  fieldError(ui.nameError, ui.tokenName, null);
  fieldError(ui.rotateError, null, null);
}

/**
 * Opens the view on a token.
 * @param {TokenInfo} token
 * @param {HTMLElement} from focused again when the view closes
 */
export function openDetail(token, from) {
  opener = from;
  render(token);
  ui.section.hidden = false;
  ui.title.focus();
  ui.section.scrollIntoView({ block: "start" });
}

/** Closes the view and puts focus back where it was opened from. */
export function closeDetail() {
  if (ui.section.hidden) return;
  ui.section.hidden = true;
  current = null;
  if (opener?.isConnected) opener.focus();
  opener = null;
}

/**
 * Brings the view up to date with the tokens as just loaded; closes it if
 * its token is gone.
 * @param {TokenInfo[]} tokens
 */
export function syncDetail(tokens) {
  if (!current) return;
  const id = current.id;
  const fresh = tokens.find((t) => t.id === id);
  if (fresh) render(fresh);
  else closeDetail();
}

/** Saves what changed of name, description and status, in one request. */
async function save() {
  const token = current;
  if (!token) return;
  /** @type {{ name?: string, description?: string | null, status?: string }} */
  const edit = {};
  const name = ui.tokenName.value.trim();
  if (!name) {
    fieldError(ui.nameError, ui.tokenName, "Give the token a name.");
    ui.tokenName.focus();
    return;
  }
  fieldError(ui.nameError, ui.tokenName, null);
  if (name !== token.name) edit.name = name;
  const description = ui.description.value.trim();
  if (description !== (token.description ?? "")) edit.description = description || null;
  const status = ui.active.checked ? "active" : "inactive";
  if (status !== token.status) edit.status = status;
  if (Object.keys(edit).length === 0) {
    announce("Nothing to save.");
    return;
  }
  ui.save.disabled = true;
  try {
    const answer = await signedIn(() => api("PATCH", `/api/usertokens/${encodeURIComponent(token.id)}`, edit));
    render(/** @type {TokenInfo} */ (answer));
    announce(`${name} was saved.`);
    await shared?.reload();
  } catch (error) {
    fieldError(ui.error, null, `It could not be saved: ${messageOf(error)}`);
  } finally {
    ui.save.disabled = false;
  }
}

/** Rotates the token with the chosen grace period and shows the new one once. */
async function rotate() {
  const token = current;
  if (!token) return;
  ui.rotate.disabled = true;
  try {
    const graceSeconds = Number(ui.grace.value);
    const answer = /** @type {{ token: string, record: TokenInfo }} */ (
      await signedIn(() => api("POST", `/api/usertokens/${encodeURIComponent(token.id)}/rotate`, { graceSeconds }))
    );
    await shared?.reload();
    render(answer.record);
    shared?.showToken(answer.token, answer.record);
    announce(`${token.name} was rotated.`);
  } catch (error) {
    fieldError(ui.rotateError, null, `It could not be rotated: ${messageOf(error)}`);
  } finally {
    ui.rotate.disabled = false;
  }
}
