// The EverFresh staff board: log in, list today's and upcoming bookings, add new ones live.
//
// Auth lives in HttpOnly cookies set by POST /auth/session, so the native EventSource can
// stream from /sse/events; this script never sees a token.

const page = document.body.dataset;
const STAFF_ROLES = new Set(["staff", "admin", "superadmin"]);
const HEARTBEAT_MS = Number(page.heartbeatSeconds || 30) * 1000;
// EventSource hides the server's `: keep-alive` comments, so a quiet stream and a dead one
// look alike: after two heartbeats without a message the board reconnects to find out.
const STALE_AFTER_MS = 2 * HEARTBEAT_MS;
// A check-up reconnect of a quiet stream takes milliseconds; only one that drags on is shown.
const RECONNECT_GRACE_MS = 3000;
// Reconnecting this long without success is shown as offline; the board keeps trying.
const OFFLINE_AFTER_MS = Math.max(15000, STALE_AFTER_MS);
// After the server refuses a stream (429, 5xx), wait this long, doubling up to the cap.
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;
// Renew the access cookie when this share of its lifetime has passed.
const RENEW_AT = 0.8;
const PAGE_SIZE = 100;
const MAX_PAGES = 10;
const SESSION_ENDED = "Your session has ended. Please log in again.";
const NOT_STAFF = "The board is for staff and admins.";
const STATE_LABELS = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

const $ = (id) => document.getElementById(id);

const board = {
  state: null,
  source: null,
  lastEventId: null,
  retryMs: FIRST_RETRY_MS,
  timers: { stale: 0, grace: 0, offline: 0, retry: 0, renew: 0 },
  shown: new Set(),
  names: { customers: new Map(), services: new Map(), staff: new Map() },
};

class Unauthorized extends Error {}

function clearTimer(name) {
  clearTimeout(board.timers[name]);
  board.timers[name] = 0;
}

function readCookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : null;
}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) throw new Unauthorized(path);
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.status === 204 ? null : response.json();
}

// Call the API; on 401 renew the access cookie once and try again.
async function call(path, options) {
  try {
    return await api(path, options);
  } catch (error) {
    if (!(error instanceof Unauthorized) || !(await renewSession())) throw error;
    return api(path, options);
  }
}

// Swap the refresh cookie for a new access cookie; return the user, or null if refused.
async function renewSession() {
  const csrf = readCookie(page.refreshCsrfCookie);
  if (!csrf) return null;
  const response = await fetch("/auth/session/refresh", {
    method: "POST",
    credentials: "same-origin",
    headers: { [page.refreshCsrfHeader]: csrf },
  });
  if (!response.ok) return null;
  const session = await response.json();
  scheduleRenewal(session.expires_in);
  return session.user;
}

function scheduleRenewal(expiresInSeconds) {
  clearTimer("renew");
  board.timers.renew = setTimeout(async () => {
    try {
      if (!(await renewSession())) showLogin(SESSION_ENDED);
    } catch {
      scheduleRenewal(10); // The server is unreachable; try again shortly.
    }
  }, expiresInSeconds * 1000 * RENEW_AT);
}

// ---- connection state ------------------------------------------------------------------

function setState(state) {
  // Once offline, the board says so until the stream is live again.
  if (state === "reconnecting" && board.state === "offline") return;
  board.state = state;
  const indicator = $("connection");
  indicator.hidden = false;
  indicator.dataset.state = state;
  indicator.querySelector(".label").textContent = STATE_LABELS[state];
  clearTimer("grace");
  if (state !== "reconnecting") clearTimer("offline");
  else if (!board.timers.offline) {
    board.timers.offline = setTimeout(() => {
      board.timers.offline = 0;
      setState("offline");
    }, OFFLINE_AFTER_MS);
  }
  if (state === "live") board.retryMs = FIRST_RETRY_MS;
}

// Any sign of life from the stream restarts the stale-stream watchdog.
function heardFromServer() {
  clearTimer("stale");
  board.timers.stale = setTimeout(checkQuietStream, STALE_AFTER_MS);
}

function checkQuietStream() {
  connect();
  board.timers.grace = setTimeout(() => setState("reconnecting"), RECONNECT_GRACE_MS);
}

function disconnect() {
  if (board.source) board.source.close();
  board.source = null;
  for (const name of ["stale", "grace", "retry"]) clearTimer(name);
}

function connect() {
  disconnect();
  // A stream the board reopens itself resumes where it left off; EventSource's own
  // reconnects send Last-Event-ID for us.
  const url = board.lastEventId
    ? `/sse/events?lastEventId=${encodeURIComponent(board.lastEventId)}`
    : "/sse/events";
  const source = new EventSource(url);
  board.source = source;
  // Also a connect timeout: a server that accepts but never answers counts as quiet.
  heardFromServer();
  source.onopen = heardFromServer;
  source.onmessage = (event) => {
    heardFromServer();
    if (parse(event.data)?.type === "connection_established") setState("live");
  };
  source.addEventListener("booking_created", (event) => {
    heardFromServer();
    board.lastEventId = event.lastEventId || board.lastEventId;
    const booking = parse(event.data);
    if (booking) showBooking(booking, { fresh: true });
  });
  source.addEventListener("server_shutdown", () => {
    // EventSource reconnects by itself after the server's jittered `retry:` delay.
    clearTimer("stale");
    setState("reconnecting");
  });
  source.onerror = () => {
    if (source !== board.source) return;
    clearTimer("stale");
    setState("reconnecting");
    if (source.readyState === EventSource.CLOSED) streamRefused();
  };
}

// EventSource gives up for good after a non-200 answer: find out why, then retry ourselves.
async function streamRefused() {
  disconnect();
  try {
    const user = await renewSession();
    if (!user || !STAFF_ROLES.has(user.role)) {
      showLogin(user ? NOT_STAFF : SESSION_ENDED);
      return;
    }
  } catch {
    // The server is unreachable: keep retrying below.
  }
  board.timers.retry = setTimeout(connect, board.retryMs);
  board.retryMs = Math.min(board.retryMs * 2, MAX_RETRY_MS);
}

function parse(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

// ---- bookings ----------------------------------------------------------------------------

function localDate(date = new Date()) {
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function formatDay(isoDate) {
  if (isoDate === localDate()) return "Today";
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(year, month - 1, day).toLocaleDateString(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
  });
}

function field(className, text) {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}

function renderBooking(booking, fresh) {
  // The stream writes the date as UTC midnight, the REST API as YYYY-MM-DD.
  const date = booking.scheduled_date.slice(0, 10);
  const { customers, services, staff } = board.names;
  const assignee = booking.staff_id ? staff.get(booking.staff_id) || booking.staff_id : "Unassigned";
  const item = document.createElement("li");
  item.className = fresh ? "booking fresh" : "booking";
  item.dataset.bookingId = booking.booking_id;
  item.dataset.bookingNumber = booking.booking_number;
  const when = document.createElement("time");
  when.className = "when";
  when.dateTime = `${date}T${booking.scheduled_time_start}`;
  when.textContent = `${formatDay(date)} · ${booking.scheduled_time_start}`;
  item.append(
    field("number", booking.booking_number),
    when,
    field("customer", customers.get(booking.customer_id) || booking.customer_id),
    field("service", services.get(booking.service_id) || booking.service_id),
    field("staff", assignee),
    field(`status status-${booking.status}`, booking.status.replace("_", " ")),
  );
  if (fresh) item.append(field("badge", "New"));
  return item;
}

function showBooking(booking, { fresh }) {
  if (board.shown.has(booking.booking_id)) return;
  board.shown.add(booking.booking_id);
  const item = renderBooking(booking, fresh);
  if (fresh) $("bookings").prepend(item);
  else $("bookings").append(item);
  $("empty").hidden = true;
}

async function loadNames() {
  const lists = Object.keys(board.names);
  const pages = await Promise.all(
    lists.map((name) => call(`/${name}?limit=${PAGE_SIZE}`).catch(rethrowUnauthorized)),
  );
  lists.forEach((name, index) => {
    for (const row of pages[index]?.items || []) board.names[name].set(row.id, row.name);
  });
}

function rethrowUnauthorized(error) {
  if (error instanceof Unauthorized) throw error;
  return null; // Names are a nicety: the board still works with ids.
}

async function loadBookings() {
  const bookings = [];
  let cursor = null;
  for (let pageNumber = 0; pageNumber < MAX_PAGES; pageNumber += 1) {
    const query = new URLSearchParams({ date_from: localDate(), limit: PAGE_SIZE });
    if (cursor) query.set("cursor", cursor);
    const result = await call(`/bookings?${query}`);
    bookings.push(...result.items);
    cursor = result.next_cursor;
    if (!cursor) break;
  }
  const schedule = (booking) => `${booking.scheduled_date} ${booking.scheduled_time_start}`;
  bookings.sort((a, b) => schedule(a).localeCompare(schedule(b)));
  for (const booking of bookings) showBooking(booking, { fresh: false });
  $("empty").hidden = board.shown.size > 0;
}

// ---- screens -----------------------------------------------------------------------------

function showLogin(message = "") {
  disconnect();
  for (const name of Object.keys(board.timers)) clearTimer(name);
  board.state = null;
  board.shown.clear();
  board.lastEventId = null;
  $("bookings").replaceChildren();
  $("loading").hidden = true;
  $("board").hidden = true;
  $("account").hidden = true;
  $("connection").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-error").hidden = !message;
  $("login").elements.email.focus();
}

async function openBoard(user) {
  if (!STAFF_ROLES.has(user.role)) {
    await fetch("/auth/session", { method: "DELETE", credentials: "same-origin" });
    showLogin(NOT_STAFF);
    return;
  }
  $("loading").hidden = true;
  $("login").hidden = true;
  $("board").hidden = false;
  $("account").hidden = false;
  $("who").textContent = `${user.name} · ${user.role}`;
  setState("reconnecting");
  try {
    await loadNames();
    // Connect before loading the list, so nothing created in between is missed.
    connect();
    await loadBookings();
    $("board-error").hidden = true;
  } catch (error) {
    if (error instanceof Unauthorized) {
      showLogin(SESSION_ENDED);
      return;
    }
    $("board-error").textContent = "Could not load the bookings; new ones still appear live.";
    $("board-error").hidden = false;
  }
}

async function logIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch("/auth/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        email: form.elements.email.value,
        password: form.elements.password.value,
      }),
    });
    if (response.ok) {
      const session = await response.json();
      form.reset();
      scheduleRenewal(session.expires_in);
      await openBoard(session.user);
    } else {
      const refused = response.status === 401 || response.status === 429;
      showLogin(refused ? (await response.json()).error.message : "Enter an email and a password.");
    }
  } catch {
    showLogin("The server could not be reached.");
  } finally {
    button.disabled = false;
  }
}

async function logOut() {
  await fetch("/auth/session", { method: "DELETE", credentials: "same-origin" }).catch(() => null);
  showLogin();
}

async function start() {
  $("login").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  window.addEventListener("offline", () => {
    if (board.source) setState("offline");
  });
  window.addEventListener("online", () => {
    if (board.source) connect();
  });
  try {
    // A reload keeps the cookies: renewing tells who is logged in and for how long.
    const user = await renewSession();
    if (user) await openBoard(user);
    else showLogin();
  } catch {
    showLogin("The server could not be reached.");
  }
}

start();
