// @ts-check
/**
 * The audit view: what was done to the user's tokens and account (every
 * user's, for administrators), newest first, a page at a time.
 */

import { api, messageOf, signedIn, state } from "./api.js";
import { fieldError, make, timeElement } from "./dom.js";
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

/** Where the next (older) page of the activity starts. @type {string | null} */
let activityCursor = null;

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
  "token.refused": "Token refused",
  "token.expiring": "Token expires soon",
  "token.expired": "Token expired",
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
  const token = data.tokens.find((t) => t.id === id);
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
export async function loadActivity(older) {
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

/**
 * Shows a banner for each of the user's own tokens that GitHub's secret
 * scanning reported and the server deactivated, while it stays
 * deactivated: the token's name, where it leaked and when. Deleting the
 * token (or re-activating it) ends the banner. The place is shown as text,
 * never as a link: it comes from the report.
 */
export async function loadLeaks() {
  const me = state.session?.user;
  /** @type {AuditEntry[]} */
  let events = [];
  try {
    const query = `/api/audit?event=token.deactivated&limit=500&user=${encodeURIComponent(me ?? "")}`;
    events = /** @type {{ events: AuditEntry[] }} */ (await signedIn(() => api("GET", query))).events;
  } catch {
    // The banner is a convenience: the activity view reports failures.
    return;
  }
  /** @type {Map<string, AuditEntry>} */
  const leaked = new Map();
  for (const event of events) {
    if (event.actor.kind !== "scanner" || event.userId !== me || !event.tokenId) continue;
    if (!leaked.has(event.tokenId)) leaked.set(event.tokenId, event);
  }
  const items = [];
  for (const token of data.tokens) {
    const event = leaked.get(token.id);
    if (!event || token.status !== "inactive") continue;
    const item = make("li");
    const where = typeof event.detail?.leakedAt === "string" ? event.detail.leakedAt : "public code";
    item.append(make("strong", undefined, `“${token.name}”`), " was found at ", make("code", undefined, where),
      " on ", timeElement(event.at, true), " and deactivated.");
    items.push(item);
  }
  ui.leakList.replaceChildren(...items);
  ui.leakBanner.hidden = items.length === 0;
}

/** Forgets the pages read (at sign-out). */
export function resetActivity() {
  activityCursor = null;
  ui.leakList.replaceChildren();
  ui.leakBanner.hidden = true;
  ui.activityBody.replaceChildren();
  ui.activityTable.hidden = true;
  ui.activityMore.hidden = true;
}
