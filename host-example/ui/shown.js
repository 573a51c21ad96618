// @ts-check
/**
 * The show-once dialog: a new token (created or rotated) with Copy and
 * Download; it closes only once the user ticks that they copied it, and
 * then the token is gone from the page.
 */

import { announce, make } from "./dom.js";
import { ui } from "./page.js";

/**
 * @typedef {import("./page.js").TokenInfo} TokenInfo
 * @typedef {import("./page.js").Scope} Scope
 * @typedef {import("./page.js").CatalogEntry} CatalogEntry
 * @typedef {import("./page.js").UserInfo} UserInfo
 * @typedef {import("./page.js").ExpiryRequest} ExpiryRequest
 * @typedef {import("./page.js").AuditActor} AuditActor
 * @typedef {import("./page.js").AuditEntry} AuditEntry
 */

/** The token in the show-once dialog, until it is closed. @type {{ value: string, name: string, id: string } | null} */
let shown = null;

/** A download link's object URL for the shown token, revoked on close. @type {string | null} */
let downloadUrl = null;

/**
 * Opens the show-once dialog with a new token.
 * @param {string} value
 * @param {TokenInfo} record
 */
export function showToken(value, record) {
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
export function forgetToken() {
  shown = null;
  ui.createdToken.textContent = "";
  ui.createdFeedback.textContent = "";
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = null;
  ui.createdAck.checked = false;
}

/** Wires the dialog. Escape must not get around the tick box: it is stopped
 * before it becomes a close request, the cancel event is refused, and the
 * dialog reopens should the browser close it while the token is still
 * unacknowledged. */
export function initShown() {
  ui.createdCopy.addEventListener("click", () => void copyToken());
  ui.createdDownload.addEventListener("click", downloadToken);
  ui.createdAck.addEventListener("change", syncAck);
  ui.createdClose.addEventListener("click", closeToken);
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
}
