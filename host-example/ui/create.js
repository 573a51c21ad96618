// @ts-check
/**
 * The create view: the form that generates a token (name, description,
 * expiry by date and time, by days or never, a preset or custom scope, the
 * networks it may be used from), its errors beside their fields, and the
 * new token shown once.
 */

import { ApiError, api, messageOf, signedIn } from "./api.js";
import { entriesOf, fieldError, make } from "./dom.js";
import { loadTokens, syncLimit } from "./list.js";
import { showToken } from "./shown.js";
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

/** The resource an action belongs to: the text before its last '.'. @param {string} action */
function resourceOf(action) {
  const dot = action.lastIndexOf(".");
  return dot > 0 ? action.slice(0, dot) : action;
}

/** Draws the catalog as resource groups of action checkboxes. */
export function renderCatalog() {
  /** @type {Map<string, CatalogEntry[]>} */
  const groups = new Map();
  for (const entry of data.catalog) {
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
export function syncForm() {
  const expiry = checkedValue("expiry");
  ui.expiryDateField.hidden = expiry !== "date";
  ui.expiryDaysField.hidden = expiry !== "days";
  ui.catalog.hidden = checkedValue("scope") !== "custom";
}

export function resetForm() {
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
  fieldError(ui.allowedIpsError, ui.allowedIps, null);
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
  else if (code.startsWith("IPS_")) target = [ui.allowedIpsError, ui.allowedIps, ui.allowedIps];
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
export async function generate(event) {
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
  const allowedIps = entriesOf(ui.allowedIps); // the server checks each (IPS_INVALID names the bad one)
  if (allowedIps.length > 0) body.allowedIps = allowedIps;

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
