// Talk to the EverFresh API with the board's HttpOnly cookies, echoing the CSRF cookie on writes.

const page = document.body.dataset;
// Renew the access cookie when this share of its lifetime has passed.
const RENEW_AT = 0.8;

/** An answer that is not 2xx, carrying the API's own words. */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body?.error?.message || `The server answered ${status}.`);
    this.status = status;
    this.errorName = body?.error?.name || "";
    this.fields = body?.error?.fields || {};
    this.retryAfter = retryAfter;
  }
}

/** The access cookie is missing, expired or revoked. */
export class Unauthorized extends ApiError {}

/** The server could not be reached at all. */
export class Unreachable extends Error {}

export function readCookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : null;
}

/** The error name of a 403 that means: choose a new password before anything else. */
export const PASSWORD_CHANGE_REQUIRED = "Password Change Required";

let onPasswordChangeRequired = () => {};

/** Say what to do when the server asks for a new password (after an admin's reset). */
export function whenPasswordChangeRequired(callback) {
  onPasswordChangeRequired = callback;
}

async function send(path, { method = "GET", body, headers: extra = {} } = {}) {
  const headers = { ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    const csrf = readCookie(page.accessCsrfCookie);
    if (csrf) headers[page.accessCsrfHeader] = csrf;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Unreachable(path);
  }
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => null);
  if (response.ok) return answer;
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  const ErrorClass = response.status === 401 ? Unauthorized : ApiError;
  const error = new ErrorClass(response.status, answer, retryAfter);
  if (error.status === 403 && error.errorName === PASSWORD_CHANGE_REQUIRED) {
    onPasswordChangeRequired(error);
  }
  throw error;
}

/** Call the API; on 401 renew the access cookie once and try again. */
export async function call(path, options) {
  try {
    return await send(path, options);
  } catch (error) {
    if (!(error instanceof Unauthorized) || !(await renewSession())) throw error;
    return send(path, options);
  }
}

/** Read every page of a list endpoint, up to `maxPages` of 100. */
export async function readAll(path, maxPages = 10) {
  const items = [];
  let cursor = null;
  for (let pageNumber = 0; pageNumber < maxPages; pageNumber += 1) {
    const separator = path.includes("?") ? "&" : "?";
    const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const result = await call(`${path}${separator}${query}`);
    items.push(...result.items);
    cursor = result.next_cursor;
    if (!cursor) break;
  }
  return items;
}

let renewTimer = 0;
let onSessionEnded = () => {};

/** Say what to do when the session can no longer be renewed. */
export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

/** Swap the refresh cookie for a new access cookie; return the user, or null if refused. */
export async function renewSession() {
  const csrf = readCookie(page.refreshCsrfCookie);
  if (!csrf) return null;
  let response;
  try {
    response = await fetch("/auth/session/refresh", {
      method: "POST",
      credentials: "same-origin",
      headers: { [page.refreshCsrfHeader]: csrf },
    });
  } catch {
    throw new Unreachable("/auth/session/refresh");
  }
  if (response.status >= 500) throw new Unreachable("/auth/session/refresh");
  if (!response.ok) return null;
  const session = await response.json();
  scheduleRenewal(session.expires_in);
  return session.user;
}

export function scheduleRenewal(expiresInSeconds) {
  clearTimeout(renewTimer);
  renewTimer = setTimeout(async () => {
    try {
      if (!(await renewSession())) onSessionEnded();
    } catch {
      scheduleRenewal(10); // The server is unreachable; try again shortly.
    }
  }, expiresInSeconds * 1000 * RENEW_AT);
}

export function stopRenewal() {
  clearTimeout(renewTimer);
}

/** Start a cookie session; the answer says who logged in and for how long. */
export async function startSession(email, password) {
  const session = await send("/auth/session", { method: "POST", body: { email, password } });
  scheduleRenewal(session.expires_in);
  return session.user;
}

export async function endSession() {
  stopRenewal();
  await send("/auth/session", { method: "DELETE" }).catch(() => null);
}
