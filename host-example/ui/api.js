// @ts-check
/**
 * The pages' one small API client: JSON requests as the signed-in user
 * (the session cookie, same origin only, and its CSRF token, which lives
 * only in this module's memory), and the API's errors with their stable
 * codes.
 */

/** @typedef {{ user: string, admin: boolean, csrfToken: string }} Session */

/** Who is signed in, and the session's CSRF token, in memory only. */
export const state = {
  /** @type {Session | null} */
  session: null,
};

/** What the page does when the server says the session has ended. */
export const hooks = {
  /** @type {(reason: string) => void} */
  ended: () => {},
};

/** An error answer from the API: its HTTP status and stable code. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}


/**
 * Sends one request to the API and reads its JSON answer. The session
 * cookie goes along (same origin only); `headers` adds the CSRF token.
 * @param {string} method
 * @param {string} path
 * @param {Record<string, string>} headers
 * @param {unknown} [body]
 * @returns {Promise<unknown>} the parsed JSON body, or null for 204
 */
export async function send(method, path, headers, body) {
  /** @type {Record<string, string>} */
  const all = { Accept: "application/json", ...headers };
  // The server takes writes only as JSON (which no cross-site form can send).
  if (method === "POST" || method === "PUT" || method === "PATCH") all["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch {
    throw new ApiError(0, "NETWORK", "The server could not be reached. Check your connection and try again.");
  }
  if (response.status === 204) return null;
  /** @type {unknown} */
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = /** @type {{ code?: unknown, message?: unknown } | null} */ (data);
    const code = typeof error?.code === "string" ? error.code : `HTTP_${response.status}`;
    const message = typeof error?.message === "string" ? sentence(error.message) : `The server answered ${response.status}.`;
    throw new ApiError(response.status, code, message);
  }
  return data;
}

/**
 * Calls the API as the signed-in user: the session cookie and its CSRF
 * token.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<unknown>} the parsed JSON body, or null for 204
 */
export async function api(method, path, body) {
  if (!state.session) throw new ApiError(401, "UNAUTHENTICATED", "You are signed out.");
  return send(method, path, { "X-CSRF-Token": state.session.csrfToken }, body);
}

/**
 * Runs an API call; an `UNAUTHENTICATED` answer after sign-in (the password
 * was changed elsewhere, the user removed) ends the session.
 * @template T
 * @param {() => Promise<T>} call
 * @returns {Promise<T>}
 */
export async function signedIn(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED" && state.session) {
      hooks.ended("Your session has ended. Sign in again.");
    }
    throw error;
  }
}

/**
 * A server message as a sentence: capitalised, with a full stop.
 * @param {string} text
 */
export function sentence(text) {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** @param {unknown} error */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

