// @ts-check
/**
 * What every view of the pages shares: finding and making elements,
 * announcing to screen readers, errors beside their fields, and how dates,
 * times and scopes are written.
 */

/** @typedef {{ preset?: string, actions?: string[], resources?: string[] }} Scope */

export const DAY_MS = 86_400_000;
/** Expiry dates closer than this are highlighted. */
export const SOON_MS = 7 * DAY_MS;

/** Preset scopes as the form and the list name them. */
export const PRESETS = /** @type {const} */ ({ all: "All permissions", read: "Read only", cli: "CLI developer" });

/**
 * The element with this id, checked to be of the expected type.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T }} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing or of the wrong type`);
  return element;
}

/**
 * A new element with an optional class and text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function make(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** @param {string} text a message for screen readers */
export function announce(text) {
  const status = byId("status", HTMLElement);
  status.textContent = "";
  // A fresh text node after a tick makes screen readers announce a repeat.
  setTimeout(() => { status.textContent = text; }, 50);
}

/**
 * Shows or clears an error next to a control.
 * @param {HTMLElement} message the error's element
 * @param {HTMLElement | null} control the control it concerns (gets aria-invalid)
 * @param {string | null} text
 */
export function fieldError(message, control, text) {
  message.textContent = text ?? "";
  message.hidden = !text;
  if (control) {
    if (text) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}


export const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
export const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * A `<time>` element for a moment.
 * @param {number} ms
 * @param {boolean} withTime
 */
export function timeElement(ms, withTime) {
  const time = make("time", undefined, (withTime ? dateTimeFormat : dateFormat).format(ms));
  time.dateTime = new Date(ms).toISOString();
  time.title = dateTimeFormat.format(ms);
  return time;
}

/** @param {Scope} scope */
export function scopeText(scope) {
  let text;
  if (scope.preset) text = PRESETS[/** @type {keyof typeof PRESETS} */ (scope.preset)] ?? scope.preset;
  else text = (scope.actions ?? []).join(", ");
  if (scope.resources?.length) text += ` on ${scope.resources.join(", ")}`;
  return text;
}

/**
 * The entries typed into a field: one per line or separated by commas or
 * spaces (allowed IP ranges). The server checks each.
 * @param {HTMLInputElement | HTMLTextAreaElement} field
 * @returns {string[]}
 */
export function entriesOf(field) {
  return field.value.split(/[\s,]+/).filter((entry) => entry !== "");
}
