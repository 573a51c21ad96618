// @ts-check
/**
 * What the token page's views share: the page's elements, found once, and
 * the data they show (the user's tokens, the catalog, the policy). Each view
 * is its own module: list.js, detail.js, create.js (with shown.js, the
 * show-once dialog), admin.js, audit.js and account.js; app.js signs in and
 * out and wires them together. All of them call the API through api.js.
 */

import { byId } from "./dom.js";

/**
 * @typedef {{ kind: "user" } | { kind: "token", tokenId: string }
 *   | { kind: "admin", userId: string } | { kind: "service", keyId: string }} Creator
 */
/** @typedef {import("./dom.js").Scope} Scope */
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
 * @property {string[]} allowedIps
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
 * @property {{ [key: string]: unknown } | null} [detail]
 */

/** The page's elements, found once. */
export const ui = {
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
  leakBanner: byId("leak-banner", HTMLElement),
  leakList: byId("leak-list", HTMLElement),

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
  allowedIps: byId("token-allowed-ips", HTMLTextAreaElement),
  allowedIpsError: byId("token-allowed-ips-error", HTMLElement),

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

/** What the views show. */
export const data = {
  /** The signed-in user's tokens, as last listed. @type {TokenInfo[]} */
  tokens: [],
  /** The deployment's action catalog. @type {CatalogEntry[]} */
  catalog: [],
  /**
   * The deployment's limits on tokens.
   * @type {{ allowNonExpiring: boolean, maxLifetimeDays: number | null, maxTokensPerUser: number | null }}
   */
  policy: { allowNonExpiring: true, maxLifetimeDays: null, maxTokensPerUser: null },
};
