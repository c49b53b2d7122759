// The list view: the shown days' bookings grouped by date in schedule order, with finished
// ones in collapsed Done and Cancelled sections.

import { button, element, placeChildren } from "./dom.js";
import { dayLabel, longDay, timeSpan } from "./zone.js";

const STATUS_LABELS = {
  pending: "Pending",
  confirmed: "Confirmed",
  in_progress: "In progress",
  completed: "Completed",
  cancelled: "Cancelled",
};

/** A status as people read it. */
export function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}

/**
 * Draw bookings into the list's sections. `view` answers questions about a booking:
 * {today(), nameOf(kind, id), durationOf(booking), isLate(booking), isFresh(id), isQuiet(id),
 * open(id), watch(node)} (watch: a row marked New is now on the page).
 */
export class BookingList {
  constructor(nodes, view) {
    this.nodes = nodes;
    this.view = view;
    this.rows = new Map();
    this.sections = new Map();
  }

  /** Forget every row (another user logged in). */
  clear() {
    this.rows.clear();
    this.sections.clear();
    for (const key of ["days", "doneList", "cancelledList"]) this.nodes[key].replaceChildren();
  }

  /** The row of a booking, if drawn. */
  rowOf(id) {
    return this.rows.get(id);
  }

  /** Draw `bookings` (already filtered), `upcoming` when showing today and after. */
  render(bookings, { upcoming, day, ready }) {
    const today = this.view.today();
    const days = new Map();
    if (upcoming) days.set(today, []);
    const done = [];
    const cancelled = [];
    for (const booking of bookings) {
      if (booking.status === "completed") done.push(booking);
      else if (booking.status === "cancelled") cancelled.push(booking);
      else {
        if (!days.has(booking.scheduled_date)) days.set(booking.scheduled_date, []);
        days.get(booking.scheduled_date).push(booking);
      }
    }
    const sections = [];
    for (const [date, dayBookings] of days) {
      const section = this.section(date, today);
      const rows = dayBookings.map((booking) => this.row(booking, false));
      placeChildren(section.querySelector("ol"), rows);
      const empty = section.querySelector(".day-empty");
      empty.hidden = rows.length > 0 || !ready;
      sections.push(section);
    }
    placeChildren(this.nodes.days, sections);
    for (const [list, finished, count, wrapper] of [
      [this.nodes.doneList, done, this.nodes.doneCount, this.nodes.done],
      [this.nodes.cancelledList, cancelled, this.nodes.cancelledCount, this.nodes.cancelled],
    ]) {
      placeChildren(list, finished.map((booking) => this.row(booking, true)));
      count.textContent = String(finished.length);
      wrapper.hidden = finished.length === 0;
    }
    const anyDay = [...days.values()].some((list) => list.length > 0);
    this.nodes.empty.hidden = anyDay || upcoming || !ready;
    this.nodes.empty.textContent = day ? `No bookings on ${longDay(day, today)} match.` : "";
  }

  section(date, today) {
    let section = this.sections.get(date);
    if (!section) {
      section = element("section", "day");
      section.dataset.date = date;
      const empty = element(
        "p",
        "day-empty",
        "Nothing booked yet. New bookings appear here the moment they are made.",
      );
      section.append(element("h3"), element("ol", "bookings"), empty);
      this.sections.set(date, section);
    }
    const label = dayLabel(date, today);
    section.querySelector("h3").textContent =
      label === "Today" || label === "Tomorrow" ? `${label} · ${longDay(date, today)}` : label;
    return section;
  }

  row(booking, withDay) {
    const id = booking.booking_id;
    let row = this.rows.get(id);
    if (!row) {
      row = element("li", "booking");
      row.dataset.bookingId = id;
      row.append(button("", () => this.view.open(id), "open"));
      this.rows.set(id, row);
    }
    const fresh = this.view.isFresh(id);
    row.dataset.status = booking.status;
    row.classList.toggle("fresh", fresh && !this.view.isQuiet(id));
    row.classList.toggle("fresh-quiet", fresh && this.view.isQuiet(id));
    row.classList.toggle("is-late", this.view.isLate(booking));
    row.querySelector(".open").replaceChildren(...this.summary(booking, withDay, fresh));
    if (fresh) this.view.watch(row);
    return row;
  }

  summary(booking, withDay, fresh) {
    const { view } = this;
    const when = element("time", "when");
    when.dateTime = `${booking.scheduled_date}T${booking.scheduled_time_start}`;
    const span = timeSpan(booking.scheduled_time_start, view.durationOf(booking));
    when.textContent = withDay ? `${dayLabel(booking.scheduled_date, view.today())} · ${span}` : span;
    const parts = [when];
    if (view.isLate(booking)) parts.push(element("span", "late", "Late"));
    parts.push(
      element("span", "number", booking.booking_number),
      element("span", "customer", view.nameOf("customers", booking.customer_id)),
      element("span", "service", view.nameOf("services", booking.service_id)),
      element(
        "span",
        "staff",
        booking.staff_id ? view.nameOf("staff", booking.staff_id) : "Unassigned",
      ),
      element("span", `status status-${booking.status}`, statusLabel(booking.status)),
    );
    if (fresh) parts.push(element("span", "badge", "New"));
    for (const part of parts) part.title = part.textContent;
    return parts;
  }
}
