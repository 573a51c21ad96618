// @ts-check
/**
 * The webhooks view: the signed-in user's subscriptions (an
 * administrator's list holds every one), adding one (its signing secret
 * shown once) and removing one.
 */

import { ApiError, api, messageOf, signedIn, state } from "./api.js";
import { announce, byId, fieldError, make } from "./dom.js";

/**
 * A subscription as the API lists it (never its secret).
 * @typedef {object} Webhook
 * @property {string} id
 * @property {string | null} owner
 * @property {string} url
 * @property {string[]} events
 * @property {number} delivered
 * @property {number} attempts
 * @property {string | null} lastError
 */

const ui = {
  table: byId("webhooks-table", HTMLTableElement),
  body: byId("webhooks-body", HTMLTableSectionElement),
  empty: byId("webhooks-empty", HTMLElement),
  form: byId("webhook-form", HTMLFormElement),
  url: byId("webhook-url", HTMLInputElement),
  urlError: byId("webhook-url-error", HTMLElement),
  events: byId("webhook-events", HTMLFieldSetElement),
  wideField: byId("webhook-wide-field", HTMLElement),
  wide: byId("webhook-wide", HTMLInputElement),
  error: byId("webhook-error", HTMLElement),
  submit: byId("webhook-submit", HTMLButtonElement),
  secretBox: byId("webhook-secret-box", HTMLElement),
  secret: byId("webhook-secret", HTMLElement),
};

/** Wires the form. */
export function initWebhooks() {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    void add();
  });
}

/** How delivery goes, in words. @param {Webhook} hook */
function progress(hook) {
  if (hook.attempts > 0) return `Failing (${hook.lastError ?? "no answer"}); retrying`;
  return hook.delivered === 1 ? "1 delivered" : `${hook.delivered} delivered`;
}

/** Loads and draws the list (at sign-in and after each change). */
export async function loadWebhooks() {
  const hooks = /** @type {Webhook[]} */ (await api("GET", "/api/webhooks"));
  ui.wideField.hidden = !state.session?.admin;
  ui.body.replaceChildren(
    ...hooks.map((hook) => {
      const row = make("tr");
      const endpoint = make("td", undefined, hook.url);
      if (hook.owner === null) endpoint.append(make("span", "muted", " (every user)"));
      const remove = make("button", "secondary", "Remove");
      remove.setAttribute("aria-label", `Remove the webhook to ${hook.url}`);
      remove.addEventListener("click", () => void removeHook(hook));
      const actions = make("td");
      actions.append(remove);
      row.append(endpoint, make("td", undefined, hook.events.join(", ")), make("td", undefined, progress(hook)), actions);
      return row;
    }),
  );
  ui.table.hidden = hooks.length === 0;
  ui.empty.hidden = hooks.length !== 0;
}

/** Forgets what was shown (at sign-out). */
export function resetWebhooks() {
  ui.form.reset();
  ui.body.replaceChildren();
  ui.secret.textContent = "";
  ui.secretBox.hidden = true;
  fieldError(ui.urlError, ui.url, null);
  fieldError(ui.error, null, null);
}

async function add() {
  fieldError(ui.urlError, ui.url, null);
  fieldError(ui.error, null, null);
  const url = ui.url.value.trim();
  if (!/^https?:\/\/\S+$/.test(url)) {
    fieldError(ui.urlError, ui.url, "Enter an http or https URL.");
    ui.url.focus();
    return;
  }
  const events = [...ui.events.querySelectorAll("input:checked")].map((box) =>
    box instanceof HTMLInputElement ? box.value : "",
  );
  if (events.length === 0) {
    fieldError(ui.error, null, "Choose at least one event.");
    return;
  }
  /** @type {Record<string, unknown>} */
  const body = { url, events };
  if (ui.wide.checked) body.deploymentWide = true;
  ui.submit.disabled = true;
  try {
    const created = /** @type {{ secret: string }} */ (await signedIn(() => api("POST", "/api/webhooks", body)));
    ui.form.reset();
    ui.secret.textContent = created.secret;
    ui.secretBox.hidden = false;
    announce("Webhook added. Copy its signing secret now: it is shown only once.");
    await loadWebhooks();
  } catch (error) {
    const text = `It could not be added: ${messageOf(error)}`;
    if (error instanceof ApiError && error.status === 422) {
      fieldError(ui.urlError, ui.url, text);
      ui.url.focus();
    } else fieldError(ui.error, null, text);
  } finally {
    ui.submit.disabled = false;
  }
}

/** @param {Webhook} hook */
async function removeHook(hook) {
  try {
    await signedIn(() => api("DELETE", `/api/webhooks/${encodeURIComponent(hook.id)}`));
    ui.secretBox.hidden = true;
    announce(`The webhook to ${hook.url} was removed.`);
    await loadWebhooks();
  } catch (error) {
    fieldError(ui.error, null, `It could not be removed: ${messageOf(error)}`);
  }
}
