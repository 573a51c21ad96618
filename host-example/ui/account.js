// @ts-check
/**
 * The account view: the signed-in user changes their own password. The
 * server ends every session of the user and gives this browser a new one,
 * whose CSRF token is read back at once; tokens keep working.
 */

import { ApiError, api, messageOf, send, signedIn, state } from "./api.js";
import { announce, byId, fieldError } from "./dom.js";

const ui = {
  form: byId("password-form", HTMLFormElement),
  password: byId("new-password", HTMLInputElement),
  confirm: byId("confirm-password", HTMLInputElement),
  error: byId("password-error", HTMLElement),
  confirmError: byId("confirm-password-error", HTMLElement),
  submit: byId("password-submit", HTMLButtonElement),
  username: byId("password-username", HTMLInputElement),
};

/** Wires the form. */
export function initAccount() {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    void change();
  });
}

/** Clears the form (at sign-in and sign-out); password managers learn whose password it is. */
export function resetAccount() {
  ui.form.reset();
  ui.username.value = state.session?.user ?? "";
  fieldError(ui.error, ui.password, null);
  fieldError(ui.confirmError, ui.confirm, null);
}

async function change() {
  const password = ui.password.value;
  fieldError(ui.error, ui.password, null);
  fieldError(ui.confirmError, ui.confirm, null);
  if (password.length < 8) {
    fieldError(ui.error, ui.password, "A password has at least 8 characters.");
    ui.password.focus();
    return;
  }
  if (password !== ui.confirm.value) {
    fieldError(ui.confirmError, ui.confirm, "The two passwords differ.");
    ui.confirm.focus();
    return;
  }
  ui.submit.disabled = true;
  try {
    await signedIn(() => api("PUT", "/api/password", { password }));
    // The session was renewed: read its new CSRF token.
    const renewed = /** @type {import("./api.js").Session} */ (await send("GET", "/api/session", {}));
    state.session = renewed;
    ui.form.reset();
    announce("Your password was changed. Other browsers were signed out; your tokens still work.");
  } catch (error) {
    const text = error instanceof ApiError && error.code === "PASSWORD_INVALID"
      ? error.message
      : `It could not be changed: ${messageOf(error)}`;
    fieldError(ui.error, ui.password, text);
    ui.password.focus();
  } finally {
    ui.submit.disabled = false;
  }
}
