// The EverFresh staff board: log in, then watch and work the company's bookings live.
//
// Auth lives in HttpOnly cookies set by POST /auth/session, so the native EventSource can
// stream from /sse/events; this script never sees a token. The list is read only once the
// stream is live, and the two are merged by booking id and `updated_at`, so nothing
// committed after the stream opened can fall between them. This module holds the board's
// state and hands each part (list, timeline, details, forms, filters, alerts) what it needs.

import {
  PASSWORD_CHANGE_REQUIRED,
  Unauthorized,
  Unreachable,
  call,
  endSession,
  readAll,
  renewSession,
  startSession,
  whenPasswordChangeRequired,
  whenSessionEnds,
} from "./api.js";
import { Alerts } from "./alerts.js";
import { Details } from "./details.js";
import { setOptions } from "./dom.js";
import { dateRange, filterSearch, inRange, passes, readFilters } from "./filters.js";
import { BookingForm, CatalogAdmin, PasswordForm, dayField } from "./forms.js";
import { BookingList } from "./list.js";
import * as names from "./names.js";
import { findClash, refusalWords } from "./refusals.js";
import { SharedStream } from "./stream.js";
import { Timeline } from "./timeline.js";
import { dayLabel, longDay, timeSpan, zoneMinutes, zoneNow } from "./zone.js";

const STAFF_ROLES = new Set(["staff", "admin", "superadmin"]);
const ADMIN_ROLES = new Set(["admin", "superadmin"]);
// A booking is late once its start has passed and nobody has started it.
const NOT_LATE = new Set(["in_progress", "completed", "cancelled"]);
// A new booking stays marked New for this long once it has been on screen.
const NEW_FOR_MS = 10000;
// Lateness, "today" and the timeline's now-line move with the clock: redraw this often.
const CLOCK_TICK_MS = 15000;
const LIST_RETRY_MS = 5000;
// Changes seen on the stream are followed by a read of the booking (for what the caller may
// now do with it); a burst is read as one list instead, beyond this many.
const MAX_SINGLE_READS = 10;
const SESSION_ENDED = "Your session has ended. Please log in again.";
const NOT_STAFF = "The board is for staff and admins.";
const UNAVAILABLE = "The server is unavailable. Try again in a moment.";
const STATE_LABELS = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

const $ = (id) => document.getElementById(id);

const board = {
  user: null,
  company: null,
  myStaffId: null,
  stream: null,
  state: null,
  filters: readFilters(window.location.search),
  bookings: new Map(),
  fresh: new Set(),
  unseen: new Set(),
  onScreen: new Map(),
  newTimers: new Map(),
  toRead: new Set(),
  readTimer: 0,
  listRequest: 0,
  listError: false,
  listLoaded: false,
  renderQueued: false,
  clock: 0,
};

function timeZone() {
  return board.company?.timezone || "UTC";
}

function currency() {
  return board.company?.currency || "GBP";
}

function today() {
  return zoneNow(timeZone()).date;
}

function isAdmin() {
  return ADMIN_ROLES.has(board.user?.role);
}

function schedule(booking) {
  return `${booking.scheduled_date}T${booking.scheduled_time_start}`;
}

function bySchedule(a, b) {
  return schedule(a).localeCompare(schedule(b)) || a.booking_number.localeCompare(b.booking_number);
}

function isLate(booking) {
  if (NOT_LATE.has(booking.status)) return false;
  const now = zoneNow(timeZone());
  return schedule(booking) < `${now.date}T${now.time}`;
}

function durationOf(booking) {
  return names.row("services", booking.service_id)?.duration_minutes ?? null;
}

function staffOptions() {
  return names
    .allStaff()
    .filter((staff) => staff.active !== false)
    .map((staff) => [staff.id, staff.name]);
}

function span(booking) {
  return timeSpan(booking.scheduled_time_start, durationOf(booking));
}

function waitText(seconds) {
  if (!seconds) return "a moment";
  if (seconds <= 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Put a refused change to a booking into words, with what the board knows around it. */
function refusalFor(booking, changes, error) {
  const wanted = { ...booking, ...changes };
  const clash = findClash(wanted, [...board.bookings.values()], durationOf);
  return refusalWords(error, {
    wanted,
    clash,
    clashFacts: {
      staffName: names.nameOf("staff", wanted.staff_id),
      isMe: Boolean(wanted.staff_id) && wanted.staff_id === board.myStaffId,
      serviceName: clash ? names.nameOf("services", clash.service_id) : "",
      duration: clash ? durationOf(clash) : null,
      today: today(),
    },
    today: today(),
    timeZone: timeZone(),
    bookingNumber: booking.booking_number,
  });
}

// ---- the parts of the board ------------------------------------------------------------

const alerts = new Alerts({
  announcer: $("announcer"),
  pill: $("new-pill"),
  burst: $("burst"),
  toasts: $("toasts"),
  alertsButton: $("alerts"),
  isLeader: () => Boolean(board.stream?.leader),
});

const list = new BookingList(
  {
    days: $("days"),
    empty: $("empty"),
    done: $("done"),
    doneList: $("done-list"),
    doneCount: $("done-count"),
    cancelled: $("cancelled"),
    cancelledList: $("cancelled-list"),
    cancelledCount: $("cancelled-count"),
  },
  {
    today,
    nameOf: names.nameOf,
    durationOf,
    isLate,
    isFresh: (id) => board.fresh.has(id),
    isQuiet: (id) => alerts.inBurst(id),
    open: openDetails,
    watch: (node) => newObserver.observe(node),
  },
);

const timeline = new Timeline($("timeline"), {
  open: openDetails,
  permissions(booking) {
    const allowed = new Set(booking.allowed_actions || []);
    const mayAssignSelf = allowed.has("assign_self") && Boolean(board.myStaffId);
    return {
      reschedule: allowed.has("reschedule"),
      assignAny: allowed.has("assign") || (mayAssignSelf && !booking.staff_id),
      assignTo: (staffId) => allowed.has("assign") || (mayAssignSelf && staffId === board.myStaffId),
    };
  },
  async move(booking, changes) {
    try {
      merge(await call(`/bookings/${booking.booking_id}`, { method: "PATCH", body: changes }));
      const who = changes.staff_id === undefined ? "" : ` with ${names.nameOf("staff", changes.staff_id) || "no one"}`;
      const moved = board.bookings.get(booking.booking_id);
      alerts.say(`${booking.booking_number} now ${span(moved)}${who}.`);
      return null;
    } catch (failure) {
      if (failure instanceof Unauthorized) {
        sessionEnded(SESSION_ENDED);
        return null;
      }
      return `${booking.booking_number} stays where it was: ${refusalFor(booking, changes, failure)}`;
    }
  },
  describe(booking) {
    const customer = names.nameOf("customers", booking.customer_id);
    const service = names.nameOf("services", booking.service_id);
    const fresh = board.fresh.has(booking.booking_id);
    let classes = "";
    if (fresh) classes += alerts.inBurst(booking.booking_id) ? " fresh-quiet" : " fresh";
    if (isLate(booking)) classes += " is-late";
    return {
      title: `${span(booking)} ${booking.booking_number} · ${customer} · ${service}`,
      lines: [
        ["tl-time", booking.scheduled_time_start],
        ["tl-end", span(booking).slice(5)],
        ["tl-service", `${fresh ? "New · " : ""}${service}`],
        ["tl-customer", customer],
      ],
      classes,
    };
  },
  announce: (text) => alerts.say(text),
  rerender: () => render(),
});

const details = new Details(
  {
    dialog: $("details"),
    title: $("details-title"),
    fields: $("details-fields"),
    actions: $("actions"),
    error: $("action-error"),
    close: $("details-close"),
  },
  {
    booking: (id) => board.bookings.get(id),
    today,
    timeZone,
    currency,
    nameOf: names.nameOf,
    row: names.row,
    staffOptions,
    myStaffId: () => board.myStaffId,
    isLate,
    async act(booking, changes) {
      try {
        merge(await call(`/bookings/${booking.booking_id}`, { method: "PATCH", body: changes }));
        render();
        return null;
      } catch (failure) {
        if (failure instanceof Unauthorized) return sessionEnded(SESSION_ENDED);
        return refusalFor(booking, changes, failure);
      }
    },
    closed(id) {
      const target = list.rowOf(id)?.querySelector(".open") || timeline.blocks.get(id);
      target?.focus();
    },
  },
);

const formView = {
  today,
  timeZone,
  currency,
  staffOptions,
  services: () => names.allServices().filter((service) => service.active !== false),
  durationOf,
  nameOf: names.nameOf,
  myStaffId: () => board.myStaffId,
  async bookingsOn(day) {
    if (inRange({ scheduled_date: day }, range()) && board.listLoaded) {
      return [...board.bookings.values()].filter((booking) => booking.scheduled_date === day);
    }
    const items = await readAll(`/bookings?date_from=${day}&date_to=${day}`);
    await Promise.all(items.map((booking) => names.lookUp("services", booking.service_id)));
    return items;
  },
  booked(booking) {
    merge(booking);
    alerts.say(`Booked ${booking.booking_number}: ${names.nameOf("customers", booking.customer_id)}, ${dayLabel(booking.scheduled_date, today())} ${span(booking)}.`);
    render();
  },
  changed(kind) {
    names.refresh(kind).catch(() => null);
  },
  unauthorized: () => sessionEnded(SESSION_ENDED),
};
const bookingForm = new BookingForm(formView);
const catalogAdmin = new CatalogAdmin(formView);
const passwordForm = new PasswordForm();

// ---- filters, kept in the URL -------------------------------------------------------------

const dayPicker = dayField("", today, "day");
$("day-control").replaceChildren(dayPicker.label);

function showFilters() {
  const { filters } = board;
  $("view-list").setAttribute("aria-pressed", String(filters.view === "list"));
  $("view-staff").setAttribute("aria-pressed", String(filters.view === "staff"));
  // By staff always shows one day: today's date stands in the field when none is picked.
  const shownDay = filters.day || (filters.view === "staff" ? today() : "");
  if (dayPicker.value() !== shownDay) dayPicker.input.value = shownDay;
  $("show").value = filters.show;
  $("status").value = filters.status;
  $("list").hidden = filters.view !== "list";
  $("dispatch").hidden = filters.view !== "staff";
  $("upcoming").hidden = !filters.day;
  $("upcoming").textContent = filters.view === "staff" ? "Today" : "Today and upcoming";
  const folded = filters.show !== "all" || filters.status !== "";
  $("filters-toggle").textContent = folded ? "Filters (on)" : "Filters";
}

function changeFilters(changes) {
  const before = range().join();
  Object.assign(board.filters, changes);
  const search = filterSearch(board.filters);
  window.history.replaceState(null, "", search || window.location.pathname);
  showFilters();
  if (range().join() !== before) loadList();
  if (changes.view === "staff") names.refreshStaff().catch(() => null);
  render();
}

function range() {
  return dateRange(board.filters, today());
}

// ---- the bookings the board knows -------------------------------------------------------

function version(booking) {
  return booking.updated_at || booking.created_at;
}

/** Keep the newest state of a booking; return "added", "changed" or null (an older state). */
function merge(incoming) {
  // The stream writes the date as UTC midnight, the REST API as YYYY-MM-DD.
  const booking = { ...incoming, scheduled_date: incoming.scheduled_date.slice(0, 10) };
  delete booking.changes;
  const known = board.bookings.get(booking.booking_id);
  if (known && version(known) > version(booking)) return null;
  board.bookings.set(booking.booking_id, known ? { ...known, ...booking } : booking);
  return known ? "changed" : "added";
}

async function loadList() {
  if (board.state !== "live") return; // Read once the stream is live, so the two meet.
  const request = ++board.listRequest;
  const [from, to] = range();
  const query = new URLSearchParams({ date_from: from });
  if (to) query.set("date_to", to);
  try {
    const items = await readAll(`/bookings?${query}`);
    if (request !== board.listRequest) return;
    for (const booking of items) merge(booking);
    board.listError = false;
    board.listLoaded = true;
  } catch (error) {
    if (error instanceof Unauthorized) return sessionEnded(SESSION_ENDED);
    if (request !== board.listRequest) return;
    board.listError = true;
    // The stream keeps the board current meanwhile; the list fills in what came before.
    setTimeout(() => {
      if (request === board.listRequest) loadList();
    }, LIST_RETRY_MS);
  }
  $("list-loading").hidden = true;
  render();
}

/** Read again, soon, the bookings the stream changed: the frames do not say what the caller may now do. */
function readSoon(id) {
  board.toRead.add(id);
  clearTimeout(board.readTimer);
  board.readTimer = setTimeout(async () => {
    const ids = [...board.toRead];
    board.toRead.clear();
    if (ids.length > MAX_SINGLE_READS) return loadList();
    await Promise.all(
      ids.map((bookingId) =>
        call(`/bookings/${bookingId}`)
          .then((full) => merge(full))
          .catch(() => null),
      ),
    );
    render();
  }, 100);
}

function onFrame({ type, data }) {
  if (type === "replay_truncated") return loadList();
  const result = merge(data);
  if (!result) return;
  const booking = board.bookings.get(data.booking_id);
  // What the caller may do follows the status and the staff member, which the frame does not
  // say: read it again. Meanwhile the last known actions stand; the server judges anyway.
  readSoon(data.booking_id);
  if (type === "booking_created" && result === "added") arrived(booking);
  render();
}

function arrived(booking) {
  const id = booking.booking_id;
  board.fresh.add(id);
  board.unseen.add(id);
  const quiet = alerts.arrived(id);
  clearTimeout(board.announceTimer);
  // A burst is told once, when it has settled, not fifteen times.
  board.announceTimer = setTimeout(() => announce(quiet ? null : id), quiet ? 500 : 0);
}

async function announce(bookingId) {
  if (!bookingId) {
    const burst = [...board.fresh].filter((id) => alerts.inBurst(id));
    const text = `${burst.length} new bookings arrived.`;
    alerts.say(text);
    alerts.notify(`${burst.length} new bookings`, text, "burst");
    return;
  }
  const booking = board.bookings.get(bookingId);
  await Promise.all([
    names.lookUp("customers", booking.customer_id),
    names.lookUp("services", booking.service_id),
  ]);
  const when = `${dayLabel(booking.scheduled_date, today())} at ${span(booking)}`;
  const text = `New booking ${booking.booking_number}: ${names.nameOf(
    "customers",
    booking.customer_id,
  )}, ${names.nameOf("services", booking.service_id)}, ${when}.`;
  alerts.say(text);
  alerts.notify(`New booking ${booking.booking_number}`, text, bookingId);
}

// ---- rendering -----------------------------------------------------------------------------

function render() {
  if (board.renderQueued) return;
  board.renderQueued = true;
  // Coalesce bursts of frames into one pass; a microtask runs in background tabs too.
  queueMicrotask(() => {
    board.renderQueued = false;
    if (!board.user) return;
    renderHeader();
    if (board.filters.view === "list") renderList();
    else renderTimeline();
    details.render();
    renderNotices();
  });
}

function renderHeader() {
  const date = today();
  const when = $("today");
  when.dateTime = date;
  when.dataset.date = date;
  when.textContent = `Today: ${longDay(date, "")}`;
  $("zone").textContent = timeZone();
  $("board-error").hidden = !board.listError;
}

function shownBookings() {
  const shown = [...board.bookings.values()].filter(
    (booking) => inRange(booking, range()) && passes(booking, board.filters, board.myStaffId),
  );
  return shown.sort(bySchedule);
}

function renderList() {
  list.render(shownBookings(), {
    upcoming: !board.filters.day,
    day: board.filters.day,
    ready: board.state === "live" && $("list-loading").hidden,
  });
}

function renderTimeline() {
  const day = range()[0];
  const date = today();
  const label = dayLabel(day, date);
  $("dispatch-day").textContent =
    label === "Today" || label === "Tomorrow" ? `${label} · ${longDay(day, date)}` : label;
  const bookings = [...board.bookings.values()].filter(
    (booking) =>
      booking.scheduled_date === day &&
      booking.status !== "cancelled" &&
      passes(booking, board.filters, board.myStaffId),
  );
  const staff = names.allStaff().filter(
    (row) => row.active !== false || bookings.some((booking) => booking.staff_id === row.id),
  );
  const rows = [{ id: "", name: "Unassigned" }, ...staff.map((row) => ({ id: row.id, name: row.name }))];
  const picker = $("timeline-staff");
  setOptions(picker, rows.map((row) => [row.id, row.name]), timeline.picked ?? board.myStaffId ?? "");
  if (timeline.picked === null && board.myStaffId) timeline.pick(board.myStaffId);
  timeline.render({
    rows,
    bookings: bookings.sort(bySchedule),
    durationOf,
    now: day === date ? zoneMinutes(timeZone()) : null,
  });
  $("timeline-empty").hidden = bookings.length > 0;
}

/** The unseen bookings' elements on the page now, in the current view. */
function unseenElements() {
  const found = [];
  for (const id of board.unseen) {
    const node = board.filters.view === "list" ? list.rowOf(id) : timeline.blocks.get(id);
    if (node?.isConnected && node.offsetParent !== null) found.push({ id, node });
  }
  return found;
}

function renderNotices() {
  alerts.showUnseen(board.unseen.size);
  const fresh = [...board.fresh].map((id) => board.bookings.get(id)).filter(Boolean);
  alerts.showBurst(fresh, today(), (bookings) => {
    const first = [...bookings].sort(bySchedule)[0];
    const node = list.rowOf(first.booking_id) || timeline.blocks.get(first.booking_id);
    node?.scrollIntoView({ block: "center" });
  }, (ids) => ids.forEach(clearFresh));
  // Layout is settled only after this frame: measure then.
  requestAnimationFrame(() => alerts.showPill(unseenElements()));
}

// ---- New marks: what arrived since the user last looked ---------------------------------

const newObserver = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const id = entry.target.dataset.bookingId;
    if (!board.fresh.has(id)) {
      newObserver.unobserve(entry.target);
      continue;
    }
    const shown = board.onScreen.get(id) || new Set();
    if (entry.isIntersecting) shown.add(entry.target);
    else shown.delete(entry.target);
    board.onScreen.set(id, shown);
  }
  lookedAt();
});

/** Count as seen what is on screen while the tab is in front; retire New marks in time. */
function lookedAt() {
  if (document.hidden) return;
  let changed = false;
  for (const [id, shown] of board.onScreen) {
    if (shown.size > 0) {
      if (board.unseen.delete(id)) changed = true;
      if (!board.newTimers.has(id)) {
        board.newTimers.set(id, setTimeout(() => clearFresh(id), NEW_FOR_MS));
      }
    } else if (board.newTimers.has(id)) {
      // Scrolled away (or filtered out) before its time was up: start over when it is back.
      clearTimeout(board.newTimers.get(id));
      board.newTimers.delete(id);
    }
  }
  if (changed) renderNotices();
}

function clearFresh(id) {
  clearTimeout(board.newTimers.get(id));
  board.newTimers.delete(id);
  board.onScreen.delete(id);
  board.unseen.delete(id);
  alerts.endBurst([id]);
  if (board.fresh.delete(id)) render();
}

// ---- details -------------------------------------------------------------------------------

async function openDetails(id) {
  const booking = board.bookings.get(id);
  if (!booking) return;
  clearFresh(id);
  details.open(id);
  // The stream carries no notes, no customer contact and no allowed actions: read them now.
  const [full] = await Promise.all([
    call(`/bookings/${id}`).catch(() => null),
    names.lookUp("customers", booking.customer_id, { fresh: true }),
    names.lookUp("services", booking.service_id, { fresh: true }),
  ]);
  if (full) merge(full);
  render();
}

// ---- connection state ----------------------------------------------------------------------

function onState(state) {
  const wasLive = board.state === "live";
  board.state = state;
  const indicator = $("connection");
  indicator.hidden = false;
  indicator.dataset.state = state;
  indicator.querySelector(".label").textContent = STATE_LABELS[state];
  // Each time the stream (re)opens, read the list again: whatever the stream could not
  // replay (a sleep longer than the replay window) is in the list.
  if (state === "live" && !wasLive) loadList();
}

async function streamRefused() {
  try {
    const user = await renewSession();
    if (!user || !STAFF_ROLES.has(user.role)) {
      const message = user ? NOT_STAFF : SESSION_ENDED;
      board.stream?.announceEnd(message);
      sessionEnded(message);
      return false;
    }
  } catch {
    // The server is unreachable: keep retrying.
  }
  return true;
}

// ---- screens ---------------------------------------------------------------------------------

function sessionEnded(message) {
  showLogin(message);
  return null;
}

function resetBoard() {
  board.stream?.stop();
  board.stream = null;
  board.user = null;
  board.state = null;
  board.bookings.clear();
  board.fresh.clear();
  board.unseen.clear();
  for (const timer of board.newTimers.values()) clearTimeout(timer);
  board.newTimers.clear();
  board.onScreen.clear();
  board.listRequest += 1;
  board.listLoaded = false;
  clearInterval(board.clock);
  names.forgetAll();
  list.clear();
  alerts.showUnseen(0);
}

function showLogin(message = "") {
  resetBoard();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
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
    await endSession();
    showLogin(NOT_STAFF);
    return;
  }
  resetBoard();
  board.user = user;
  board.company = { name: "All companies", timezone: "UTC", currency: "GBP" };
  try {
    if (user.company_id) board.company = await call(`/companies/${user.company_id}`);
    await names.preload();
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin(SESSION_ENDED);
    if (error.errorName === PASSWORD_CHANGE_REQUIRED) return;
    // Names and the zone are looked up again on demand; the board still works.
  }
  board.myStaffId = names.allStaff().find((staff) => staff.user_id === user.id)?.id || null;
  $("loading").hidden = true;
  $("login").hidden = true;
  $("board").hidden = false;
  $("account").hidden = false;
  $("list-loading").hidden = false;
  $("who").textContent = `${user.name} · ${user.role}`;
  $("manage").hidden = !isAdmin();
  $("company-name").textContent = board.company.name;
  $("show").querySelector('[value="mine"]').disabled = !board.myStaffId;
  board.filters = readFilters(window.location.search);
  showFilters();
  alerts.showButton();
  board.clock = setInterval(render, CLOCK_TICK_MS);
  board.stream = new SharedStream(user.id, {
    onFrame,
    onState,
    onRefused: streamRefused,
    onEnded: (message) => sessionEnded(message || SESSION_ENDED),
  });
  board.stream.start();
  render();
}

async function logIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const submit = form.querySelector("button");
  const password = form.elements.password.value;
  submit.disabled = true;
  try {
    const user = await startSession(form.elements.email.value, password);
    form.reset();
    board.loginPassword = password;
    await openBoard(user);
  } catch (error) {
    if (error.errorName === PASSWORD_CHANGE_REQUIRED) return;
    showLogin(loginRefusal(error));
  } finally {
    submit.disabled = false;
    board.loginPassword = "";
  }
}

function loginRefusal(error) {
  if (error instanceof Unreachable || error.status >= 500) return UNAVAILABLE;
  if (error.status === 429) {
    return `Too many login attempts. Try again in ${waitText(error.retryAfter)}.`;
  }
  if (error.status === 401) return error.message;
  if (error.status === 422) return "Enter an email and a password.";
  return error.message || UNAVAILABLE;
}

/** The server wants a new password before anything else: ask for it, then carry on. */
function passwordChangeRequired() {
  if (passwordForm.forced) return;
  const currentPassword = board.loginPassword || "";
  $("loading").hidden = true;
  passwordForm.open({
    forced: true,
    currentPassword,
    done: async () => {
      const user = await renewSession().catch(() => null);
      if (user) await openBoard(user);
      else showLogin("Your password is changed. Log in with it.");
    },
  });
}

async function logOut() {
  board.stream?.announceEnd("You logged out in another tab.");
  await endSession();
  showLogin();
}

function wireControls() {
  $("login").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("change-password").addEventListener("click", () => {
    $("user-menu").open = false;
    passwordForm.open();
  });
  $("manage").addEventListener("click", () => {
    $("user-menu").open = false;
    catalogAdmin.open();
  });
  $("new-booking").addEventListener("click", () =>
    bookingForm.open({
      day: board.filters.day || today(),
      staffId: board.filters.view === "staff" ? timeline.picked : "",
    }),
  );
  $("view-list").addEventListener("click", () => changeFilters({ view: "list" }));
  $("view-staff").addEventListener("click", () => changeFilters({ view: "staff" }));
  dayPicker.input.addEventListener("input", () => {
    const day = dayPicker.value();
    if (day && day !== board.filters.day) changeFilters({ day });
    if (!dayPicker.input.value) changeFilters({ day: null });
  });
  $("upcoming").addEventListener("click", () => changeFilters({ day: null }));
  $("show").addEventListener("change", () => changeFilters({ show: $("show").value }));
  $("status").addEventListener("change", () => changeFilters({ status: $("status").value }));
  $("filters-toggle").addEventListener("click", () => {
    const open = $("toolbar").classList.toggle("filters-open");
    $("filters-toggle").setAttribute("aria-expanded", String(open));
  });
  // The menu under the user's name closes when the click lands anywhere else.
  document.addEventListener("click", (event) => {
    if (!$("user-menu").contains(event.target)) $("user-menu").open = false;
  });
  $("timeline-staff").addEventListener("change", () => timeline.pick($("timeline-staff").value));
  $("alerts").addEventListener("click", () => alerts.toggle());
  window.addEventListener("offline", () => board.stream?.wentOffline());
  window.addEventListener("online", () => board.stream?.reconnectNow());
  document.addEventListener("visibilitychange", lookedAt);
  document.addEventListener("scroll", () => renderNotices(), { passive: true, capture: true });
  whenSessionEnds(() => sessionEnded(SESSION_ENDED));
  whenPasswordChangeRequired(passwordChangeRequired);
  names.whenResolved(render);
}

async function start() {
  wireControls();
  try {
    // A reload keeps the cookies: renewing tells who is logged in and for how long.
    const user = await renewSession();
    if (user) await openBoard(user);
    else showLogin();
  } catch (error) {
    if (error?.errorName === PASSWORD_CHANGE_REQUIRED) return;
    showLogin(UNAVAILABLE);
  }
}

start();
