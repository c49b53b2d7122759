// The EverFresh staff board: log in, then watch and work the company's bookings live.
//
// Auth lives in HttpOnly cookies set by POST /auth/session, so the native EventSource can
// stream from /sse/events; this script never sees a token. The list is read only once the
// stream is live, and the two are merged by booking id and `updated_at`, so nothing
// committed after the stream opened can fall between them.

import {
  ApiError,
  Unauthorized,
  Unreachable,
  call,
  endSession,
  readAll,
  renewSession,
  startSession,
  whenSessionEnds,
} from "./api.js";
import * as names from "./names.js";
import { SharedStream } from "./stream.js";
import { addDays, dayLabel, instant, longDay, zoneNow } from "./zone.js";

const STAFF_ROLES = new Set(["staff", "admin", "superadmin"]);
const ADMIN_ROLES = new Set(["admin", "superadmin"]);
const FINAL = new Set(["completed", "cancelled"]);
// A booking is late once its start has passed and nobody has started it.
const NOT_LATE = new Set(["in_progress", "completed", "cancelled"]);
const STATUS_LABELS = {
  pending: "Pending",
  confirmed: "Confirmed",
  in_progress: "In progress",
  completed: "Completed",
  cancelled: "Cancelled",
};
const SHOW_OPTIONS = new Set(["all", "mine", "unassigned"]);
// A new booking stays marked New for this long once it has been on screen.
const NEW_FOR_MS = 10000;
// Lateness and "today" move with the clock: recheck them this often.
const CLOCK_TICK_MS = 15000;
const LIST_RETRY_MS = 5000;
const SESSION_ENDED = "Your session has ended. Please log in again.";
const NOT_STAFF = "The board is for staff and admins.";
const UNAVAILABLE = "The server is unavailable. Try again in a moment.";
const STATE_LABELS = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };
const ALERTS_KEY = "everfresh-alerts";

const $ = (id) => document.getElementById(id);

const board = {
  user: null,
  company: null,
  myStaffId: null,
  stream: null,
  state: null,
  bookings: new Map(),
  fresh: new Set(),
  rows: new Map(),
  cards: new Map(),
  daySections: new Map(),
  openId: null,
  openVersion: null,
  listRequest: 0,
  listError: false,
  renderQueued: false,
  clock: 0,
  newTimers: new Map(),
  audio: null,
};

// ---- small helpers ---------------------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, onClick, className = "") {
  const node = element("button", className, text);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function timeZone() {
  return board.company?.timezone || "UTC";
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

function waitText(seconds) {
  if (!seconds) return "a moment";
  if (seconds <= 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** Put a refused action into words a person can act on. */
function refusalText(error) {
  if (error instanceof Unreachable) return "The server could not be reached; nothing changed.";
  if (!(error instanceof ApiError)) return "Something went wrong; nothing changed.";
  const details = Object.values(error.fields || {}).join(" ");
  const prefix = { 403: "Not allowed", 404: "Not found", 409: "Refused", 422: "Not accepted" };
  const words = `${prefix[error.status] || "Failed"}: ${error.message}`;
  return details ? `${words} ${details}` : words;
}

// ---- filters, kept in the URL ---------------------------------------------------------------

const filters = { view: "list", day: null, show: "all", status: "" };

function readFilters() {
  const query = new URLSearchParams(window.location.search);
  filters.view = query.get("view") === "staff" ? "staff" : "list";
  const day = query.get("day") || "";
  filters.day = /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : null;
  filters.show = SHOW_OPTIONS.has(query.get("show")) ? query.get("show") : "all";
  filters.status = STATUS_LABELS[query.get("status")] ? query.get("status") : "";
}

function writeFilters() {
  const query = new URLSearchParams();
  if (filters.view !== "list") query.set("view", filters.view);
  if (filters.day) query.set("day", filters.day);
  if (filters.show !== "all") query.set("show", filters.show);
  if (filters.status) query.set("status", filters.status);
  const search = query.toString();
  window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
}

function showFilters() {
  $("view-list").setAttribute("aria-pressed", String(filters.view === "list"));
  $("view-staff").setAttribute("aria-pressed", String(filters.view === "staff"));
  $("day").value = filters.day || "";
  $("show").value = filters.show;
  $("status").value = filters.status;
  $("list").hidden = filters.view !== "list";
  $("dispatch").hidden = filters.view !== "staff";
  $("upcoming").hidden = !filters.day;
}

function changeFilters(changes) {
  const before = range().join();
  Object.assign(filters, changes);
  writeFilters();
  showFilters();
  if (range().join() !== before) loadList();
  if (changes.view === "staff") names.refreshStaff().catch(() => null);
  render();
}

/** The dates shown: the picked day, or (list view) today and every later day. */
function range() {
  if (filters.view === "staff") return [filters.day || today(), filters.day || today()];
  return filters.day ? [filters.day, filters.day] : [today(), ""];
}

function inRange(booking) {
  const [from, to] = range();
  return booking.scheduled_date >= from && (!to || booking.scheduled_date <= to);
}

function passesFilters(booking) {
  if (filters.show === "mine" && (!board.myStaffId || booking.staff_id !== board.myStaffId)) {
    return false;
  }
  if (filters.show === "unassigned" && booking.staff_id) return false;
  return !filters.status || booking.status === filters.status;
}

// ---- the bookings the board knows ----------------------------------------------------------

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

function onFrame({ type, data }) {
  if (type === "replay_truncated") return loadList();
  const result = merge(data);
  if (type === "booking_created" && result === "added") {
    board.fresh.add(data.booking_id);
    announce(data.booking_id);
  }
  if (result) render();
}

// ---- rendering ---------------------------------------------------------------------------------

function render() {
  if (board.renderQueued) return;
  board.renderQueued = true;
  // Coalesce bursts of frames into one pass; a microtask runs in background tabs too.
  queueMicrotask(() => {
    board.renderQueued = false;
    if (!board.user) return;
    renderHeader();
    if (filters.view === "list") renderList();
    else renderDispatch();
    renderDetails();
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

function rowFor(booking, store, className) {
  let row = store.get(booking.booking_id);
  if (!row) {
    row = element("li", className);
    row.dataset.bookingId = booking.booking_id;
    const open = button("", () => openDetails(booking.booking_id), "open");
    row.append(open);
    store.set(booking.booking_id, row);
  }
  return row;
}

function summary(booking, { withDay }) {
  const when = element("time", "when");
  when.dateTime = schedule(booking);
  when.textContent = withDay
    ? `${dayLabel(booking.scheduled_date, today())} · ${booking.scheduled_time_start}`
    : booking.scheduled_time_start;
  const parts = [when];
  if (isLate(booking)) parts.push(element("span", "late", "Late"));
  parts.push(
    element("span", "number", booking.booking_number),
    element("span", "customer", names.nameOf("customers", booking.customer_id)),
    element("span", "service", names.nameOf("services", booking.service_id)),
    element(
      "span",
      "staff",
      booking.staff_id ? names.nameOf("staff", booking.staff_id) : "Unassigned",
    ),
    element("span", `status status-${booking.status}`, STATUS_LABELS[booking.status]),
  );
  if (board.fresh.has(booking.booking_id)) parts.push(element("span", "badge", "New"));
  return parts;
}

function fillRow(row, booking, options) {
  row.dataset.status = booking.status;
  row.classList.toggle("fresh", board.fresh.has(booking.booking_id));
  row.classList.toggle("is-late", isLate(booking));
  const open = row.querySelector(".open");
  open.replaceChildren(...summary(booking, options));
  if (board.fresh.has(booking.booking_id)) newObserver.observe(row);
}

/** Put exactly `children`, in order, into `parent`, moving only what is out of place. */
function placeChildren(parent, children) {
  children.forEach((child, index) => {
    if (parent.children[index] !== child) parent.insertBefore(child, parent.children[index] || null);
  });
  while (parent.children.length > children.length) parent.lastElementChild.remove();
}

function renderList() {
  const date = today();
  const shown = [...board.bookings.values()].filter((b) => inRange(b) && passesFilters(b));
  shown.sort(bySchedule);
  const days = new Map();
  const done = [];
  const cancelled = [];
  for (const booking of shown) {
    if (booking.status === "completed") done.push(booking);
    else if (booking.status === "cancelled") cancelled.push(booking);
    else {
      if (!days.has(booking.scheduled_date)) days.set(booking.scheduled_date, []);
      days.get(booking.scheduled_date).push(booking);
    }
  }
  const sections = [];
  for (const [day, bookings] of days) {
    let section = board.daySections.get(day);
    if (!section) {
      section = element("section", "day");
      section.dataset.date = day;
      section.append(element("h3"), element("ol", "bookings"));
      board.daySections.set(day, section);
    }
    const label = dayLabel(day, date);
    section.querySelector("h3").textContent =
      label === "Today" || label === "Tomorrow" ? `${label} · ${longDay(day, date)}` : label;
    const rows = bookings.map((booking) => {
      const row = rowFor(booking, board.rows, "booking");
      fillRow(row, booking, { withDay: false });
      return row;
    });
    placeChildren(section.querySelector("ol"), rows);
    sections.push(section);
  }
  placeChildren($("days"), sections);
  for (const [list, bookings, count] of [
    [$("done-list"), done, $("done-count")],
    [$("cancelled-list"), cancelled, $("cancelled-count")],
  ]) {
    const rows = bookings.map((booking) => {
      const row = rowFor(booking, board.rows, "booking");
      fillRow(row, booking, { withDay: true });
      return row;
    });
    placeChildren(list, rows);
    count.textContent = String(bookings.length);
  }
  $("done").hidden = done.length === 0;
  $("cancelled").hidden = cancelled.length === 0;
  $("empty").hidden = days.size > 0 || board.state !== "live" || !$("list-loading").hidden;
  $("empty").textContent = filters.day
    ? `No bookings on ${longDay(filters.day, date)} match.`
    : "No bookings for today or later match yet. New ones appear here the moment they are made.";
}

// ---- dispatch: one lane per staff member -----------------------------------------------------

function renderDispatch() {
  const day = range()[0];
  $("dispatch-day").textContent = dayLabel(day, today());
  const jobs = [...board.bookings.values()]
    .filter((booking) => booking.scheduled_date === day && booking.status !== "cancelled")
    .sort(bySchedule);
  const lanes = [{ id: "", name: "Unassigned" }, ...names.allStaff()];
  for (const booking of jobs) {
    if (booking.staff_id && !lanes.some((lane) => lane.id === booking.staff_id)) {
      lanes.push({ id: booking.staff_id, name: names.nameOf("staff", booking.staff_id) });
    }
  }
  const laneNodes = lanes.map((lane) => {
    const node = laneFor(lane);
    node.querySelector("h3 .name").textContent = lane.name;
    const cards = jobs
      .filter((booking) => (booking.staff_id || "") === lane.id)
      .map((booking) => {
        const card = cardFor(booking);
        fillCard(card, booking);
        return card;
      });
    node.querySelector("h3 .count").textContent = String(cards.length);
    placeChildren(node.querySelector("ol"), cards);
    return node;
  });
  placeChildren($("lanes"), laneNodes);
}

const laneNodes = new Map();

function laneFor(lane) {
  let node = laneNodes.get(lane.id);
  if (node) return node;
  node = element("section", lane.id ? "lane" : "lane tray");
  node.dataset.staffId = lane.id;
  const heading = element("h3");
  heading.append(element("span", "name"), element("span", "count"));
  node.append(heading, element("ol", "jobs"));
  node.addEventListener("dragover", (event) => {
    if (!isAdmin()) return;
    event.preventDefault();
    node.classList.add("drop-target");
  });
  node.addEventListener("dragleave", () => node.classList.remove("drop-target"));
  node.addEventListener("drop", (event) => {
    event.preventDefault();
    node.classList.remove("drop-target");
    const bookingId = event.dataTransfer.getData("text/plain");
    const booking = board.bookings.get(bookingId);
    if (booking && (booking.staff_id || "") !== lane.id) assign(booking, lane.id || null);
  });
  laneNodes.set(lane.id, node);
  return node;
}

function cardFor(booking) {
  let card = board.cards.get(booking.booking_id);
  if (card) return card;
  card = rowFor(booking, board.cards, "job");
  card.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", booking.booking_id);
    event.dataTransfer.effectAllowed = "move";
  });
  if (isAdmin()) {
    const label = element("label", "assign");
    label.append(element("span", "visually-hidden", "Assign to…"));
    const select = element("select");
    select.addEventListener("change", () => {
      const current = board.bookings.get(booking.booking_id);
      const staffId = select.value || null;
      if (current && staffId !== current.staff_id) assign(current, staffId);
    });
    label.append(select);
    card.append(label);
  }
  return card;
}

function staffOptions(select, chosen) {
  const options = [["", "Unassigned"], ...names.allStaff().map((s) => [s.id, s.name])];
  if (chosen && !options.some(([id]) => id === chosen)) {
    options.push([chosen, names.nameOf("staff", chosen)]);
  }
  const signature = JSON.stringify(options);
  if (select.dataset.signature !== signature) {
    select.replaceChildren(
      ...options.map(([id, name]) => {
        const option = element("option", "", name);
        option.value = id;
        return option;
      }),
    );
    select.dataset.signature = signature;
  }
  select.value = chosen || "";
}

function fillCard(card, booking) {
  fillRow(card, booking, { withDay: false });
  card.draggable = isAdmin() && !FINAL.has(booking.status);
  const select = card.querySelector("select");
  if (select) {
    staffOptions(select, booking.staff_id);
    select.disabled = FINAL.has(booking.status);
    select.setAttribute("aria-label", `Assign ${booking.booking_number} to…`);
  }
}

async function assign(booking, staffId) {
  const who = staffId ? names.nameOf("staff", staffId) : "Unassigned";
  const error = $("dispatch-error");
  error.hidden = true;
  try {
    merge(await call(`/bookings/${booking.booking_id}`, {
      method: "PATCH",
      body: { staff_id: staffId },
    }));
    $("announcer").textContent = staffId
      ? `${booking.booking_number} assigned to ${who}.`
      : `${booking.booking_number} is unassigned.`;
  } catch (failure) {
    if (failure instanceof Unauthorized) return sessionEnded(SESSION_ENDED);
    error.textContent = `${booking.booking_number} stays where it was. ${refusalText(failure)}`;
    error.hidden = false;
    $("announcer").textContent = error.textContent;
  }
  render();
}

// ---- New badges ----------------------------------------------------------------------------

// A booking has a list row and a dispatch card: it counts as on screen while either is.
const onScreen = new Map();

const newObserver = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const id = entry.target.dataset.bookingId;
    if (!board.fresh.has(id)) {
      newObserver.unobserve(entry.target);
      continue;
    }
    const shown = onScreen.get(id) || new Set();
    if (entry.isIntersecting) shown.add(entry.target);
    else shown.delete(entry.target);
    onScreen.set(id, shown);
    if (shown.size > 0 && !board.newTimers.has(id)) {
      board.newTimers.set(id, setTimeout(() => clearFresh(id), NEW_FOR_MS));
    } else if (shown.size === 0 && board.newTimers.has(id)) {
      // Scrolled away (or filtered out) before its time was up: start over when it is back.
      clearTimeout(board.newTimers.get(id));
      board.newTimers.delete(id);
    }
  }
});

function clearFresh(id) {
  clearTimeout(board.newTimers.get(id));
  board.newTimers.delete(id);
  onScreen.delete(id);
  if (board.fresh.delete(id)) render();
}

// ---- details and actions ---------------------------------------------------------------------

async function openDetails(id) {
  const booking = board.bookings.get(id);
  if (!booking) return;
  board.openId = id;
  board.openVersion = null;
  clearFresh(id);
  $("action-error").hidden = true;
  renderDetails();
  if (!$("details").open) $("details").showModal();
  // The stream carries no notes and no customer contact: read them now, fresh.
  const [full] = await Promise.all([
    call(`/bookings/${id}`).catch(() => null),
    names.lookUp("customers", booking.customer_id, { fresh: true }),
    names.lookUp("services", booking.service_id, { fresh: true }),
  ]);
  if (full) merge(full);
  render();
}

function closeDetails() {
  const id = board.openId;
  board.openId = null;
  $("details").close();
  board.rows.get(id)?.querySelector(".open")?.focus();
}

function detail(list, term, value) {
  list.append(element("dt", "", term), element("dd", "", value || "—"));
}

function renderDetails() {
  const booking = board.openId && board.bookings.get(board.openId);
  if (!booking) return;
  const customer = names.row("customers", booking.customer_id);
  const service = names.row("services", booking.service_id);
  const date = today();
  $("details-title").textContent = `Booking ${booking.booking_number}`;
  const fields = $("details-fields");
  fields.replaceChildren();
  detail(fields, "Booking number", booking.booking_number);
  detail(fields, "Status", STATUS_LABELS[booking.status] + (isLate(booking) ? " · Late" : ""));
  detail(
    fields,
    "When",
    `${longDay(booking.scheduled_date, date)} at ${booking.scheduled_time_start} (${timeZone()})`,
  );
  detail(fields, "Customer", names.nameOf("customers", booking.customer_id));
  detail(fields, "Phone", customer?.phone);
  detail(fields, "Email", customer?.email);
  const price = service ? `${(service.price_cents / 100).toFixed(2)}` : "";
  detail(
    fields,
    "Service",
    service
      ? `${service.name} · ${service.duration_minutes} min · ${price}`
      : names.nameOf("services", booking.service_id),
  );
  detail(
    fields,
    "Assigned to",
    booking.staff_id ? names.nameOf("staff", booking.staff_id) : "Unassigned",
  );
  detail(fields, "Notes", booking.notes);
  detail(fields, "Created", instant(booking.created_at, timeZone()));
  detail(fields, "Updated", instant(booking.updated_at || booking.created_at, timeZone()));
  // Rebuild the actions only when the booking changed, so a half-filled form survives.
  const signature = `${version(booking)}|${booking.status}|${booking.staff_id}|${names.allStaff().length}`;
  if (board.openVersion !== signature) {
    board.openVersion = signature;
    renderActions(booking);
  }
}

function renderActions(booking) {
  const actions = $("actions");
  actions.replaceChildren();
  if (FINAL.has(booking.status)) {
    actions.append(element("p", "muted", `This booking is ${STATUS_LABELS[booking.status].toLowerCase()}.`));
    return;
  }
  const act = (changes) => () => update(booking.booking_id, changes);
  const row = element("div", "action-row");
  if (booking.status === "pending") row.append(button("Confirm", act({ status: "confirmed" })));
  if (booking.status === "pending" || booking.status === "confirmed") {
    row.append(button("Start", act({ status: "in_progress" })));
  }
  if (booking.status === "confirmed" || booking.status === "in_progress") {
    row.append(button("Complete", act({ status: "completed" })));
  }
  if (board.myStaffId && booking.staff_id !== board.myStaffId) {
    row.append(button("Assign to me", act({ staff_id: board.myStaffId })));
  }
  actions.append(row);
  if (!isAdmin()) return;

  const assignRow = element("div", "action-row");
  const assignLabel = element("label", "", "Assign to ");
  const select = element("select");
  select.id = "assign-staff";
  staffOptions(select, booking.staff_id);
  assignLabel.append(select);
  assignRow.append(
    assignLabel,
    button("Assign", () => update(booking.booking_id, { staff_id: select.value || null })),
  );

  const moveRow = element("div", "action-row");
  const dateLabel = element("label", "", "Date ");
  const dateInput = element("input");
  dateInput.type = "date";
  dateInput.id = "reschedule-date";
  dateInput.value = booking.scheduled_date;
  dateLabel.append(dateInput);
  const timeLabel = element("label", "", "Time ");
  const timeInput = element("input");
  timeInput.type = "time";
  timeInput.id = "reschedule-time";
  timeInput.value = booking.scheduled_time_start;
  timeLabel.append(timeInput);
  moveRow.append(
    dateLabel,
    timeLabel,
    button("Reschedule", () =>
      update(booking.booking_id, {
        scheduled_date: dateInput.value,
        scheduled_time_start: timeInput.value.slice(0, 5),
      }),
    ),
  );

  const cancelRow = element("div", "action-row");
  const confirmCancel = element("div", "confirm-cancel");
  confirmCancel.hidden = true;
  confirmCancel.append(
    element("span", "", `Cancel ${booking.booking_number}? This cannot be undone.`),
    button("Yes, cancel it", act({ status: "cancelled" }), "danger"),
    button("Keep it", () => {
      confirmCancel.hidden = true;
      askCancel.focus();
    }),
  );
  const askCancel = button(
    "Cancel booking…",
    () => {
      confirmCancel.hidden = false;
      confirmCancel.querySelector("button").focus();
    },
    "danger-outline",
  );
  cancelRow.append(askCancel, confirmCancel);
  actions.append(assignRow, moveRow, cancelRow);
}

async function update(bookingId, changes) {
  const error = $("action-error");
  error.hidden = true;
  const controls = $("actions").querySelectorAll("button, select, input");
  for (const control of controls) control.disabled = true;
  try {
    merge(await call(`/bookings/${bookingId}`, { method: "PATCH", body: changes }));
  } catch (failure) {
    if (failure instanceof Unauthorized) return sessionEnded(SESSION_ENDED);
    error.textContent = refusalText(failure);
    error.hidden = false;
  } finally {
    for (const control of controls) control.disabled = false;
  }
  render();
}

// ---- noticing without watching ---------------------------------------------------------------

async function announce(bookingId) {
  const booking = board.bookings.get(bookingId);
  await Promise.all([
    names.lookUp("customers", booking.customer_id),
    names.lookUp("services", booking.service_id),
  ]);
  const when = `${dayLabel(booking.scheduled_date, today())} at ${booking.scheduled_time_start}`;
  const text = `New booking ${booking.booking_number}: ${names.nameOf(
    "customers",
    booking.customer_id,
  )}, ${names.nameOf("services", booking.service_id)}, ${when}.`;
  $("announcer").textContent = text;
  // Only the tab holding the stream alerts, so four tabs do not ring four times.
  if (!board.stream?.leader || localStorage.getItem(ALERTS_KEY) !== "on") return;
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(`New booking ${booking.booking_number}`, { body: text, tag: bookingId });
  }
  chime();
}

function chime() {
  try {
    board.audio ||= new AudioContext();
    const tone = board.audio.createOscillator();
    const volume = board.audio.createGain();
    tone.frequency.value = 880;
    volume.gain.value = 0.08;
    tone.connect(volume).connect(board.audio.destination);
    tone.start();
    tone.stop(board.audio.currentTime + 0.25);
  } catch {
    // No sound available: the notification and the live region still tell.
  }
}

function showAlertsButton() {
  const on = localStorage.getItem(ALERTS_KEY) === "on";
  $("alerts").setAttribute("aria-pressed", String(on));
  $("alerts").textContent = on ? "Alerts on" : "Turn on alerts";
}

async function toggleAlerts() {
  if (localStorage.getItem(ALERTS_KEY) === "on") {
    localStorage.removeItem(ALERTS_KEY);
  } else {
    const permission = "Notification" in window ? await Notification.requestPermission() : "denied";
    localStorage.setItem(ALERTS_KEY, "on");
    // Sound works even without notifications; the click lets the tab play it.
    chime();
    if (permission !== "granted") {
      $("announcer").textContent = "Desktop notifications are blocked; alerts will only chime.";
    }
  }
  showAlertsButton();
}

// ---- connection state ------------------------------------------------------------------------

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

// ---- screens -------------------------------------------------------------------------------

function sessionEnded(message) {
  showLogin(message);
}

function resetBoard() {
  board.stream?.stop();
  board.stream = null;
  board.user = null;
  board.state = null;
  board.bookings.clear();
  board.fresh.clear();
  for (const timer of board.newTimers.values()) clearTimeout(timer);
  board.newTimers.clear();
  onScreen.clear();
  board.rows.clear();
  board.cards.clear();
  board.daySections.clear();
  laneNodes.clear();
  board.listRequest += 1;
  clearInterval(board.clock);
  names.forgetAll();
  for (const id of ["days", "done-list", "cancelled-list", "lanes"]) $(id).replaceChildren();
}

function showLogin(message = "") {
  resetBoard();
  if ($("details").open) $("details").close();
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
  board.company = { name: "All companies", timezone: "UTC" };
  try {
    if (user.company_id) board.company = await call(`/companies/${user.company_id}`);
    await names.preload();
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin(SESSION_ENDED);
    // Names and the zone are looked up again on demand; the board still works.
  }
  board.myStaffId = names.allStaff().find((staff) => staff.user_id === user.id)?.id || null;
  $("loading").hidden = true;
  $("login").hidden = true;
  $("board").hidden = false;
  $("account").hidden = false;
  $("list-loading").hidden = false;
  $("who").textContent = `${user.name} · ${user.role}`;
  $("company-name").textContent = board.company.name;
  $("show").querySelector('[value="mine"]').disabled = !board.myStaffId;
  readFilters();
  showFilters();
  showAlertsButton();
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
  submit.disabled = true;
  try {
    const user = await startSession(form.elements.email.value, form.elements.password.value);
    form.reset();
    await openBoard(user);
  } catch (error) {
    showLogin(loginRefusal(error));
  } finally {
    submit.disabled = false;
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

async function logOut() {
  board.stream?.announceEnd("You logged out in another tab.");
  await endSession();
  showLogin();
}

function wireControls() {
  $("login").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("view-list").addEventListener("click", () => changeFilters({ view: "list" }));
  $("view-staff").addEventListener("click", () => changeFilters({ view: "staff" }));
  $("day").addEventListener("change", () => changeFilters({ day: $("day").value || null }));
  $("upcoming").addEventListener("click", () => changeFilters({ day: null }));
  $("show").addEventListener("change", () => changeFilters({ show: $("show").value }));
  $("status").addEventListener("change", () => changeFilters({ status: $("status").value }));
  $("alerts").addEventListener("click", toggleAlerts);
  $("details-close").addEventListener("click", closeDetails);
  $("details").addEventListener("close", () => {
    if (board.openId) closeDetails();
  });
  window.addEventListener("offline", () => board.stream?.wentOffline());
  window.addEventListener("online", () => board.stream?.reconnectNow());
  whenSessionEnds(() => sessionEnded(SESSION_ENDED));
  names.whenResolved(render);
}

async function start() {
  wireControls();
  try {
    // A reload keeps the cookies: renewing tells who is logged in and for how long.
    const user = await renewSession();
    if (user) await openBoard(user);
    else showLogin();
  } catch {
    showLogin(UNAVAILABLE);
  }
}

start();
