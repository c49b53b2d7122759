// What the board shows (view, day, whose bookings, which status), kept in the address so a
// reload or a shared link shows the same.

import { parseDay } from "./zone.js";

const SHOW_OPTIONS = new Set(["all", "mine", "unassigned"]);
const STATUSES = new Set(["pending", "confirmed", "in_progress", "completed", "cancelled"]);

/** Read the filters from a query string; anything unknown falls back to the default. */
export function readFilters(search) {
  const query = new URLSearchParams(search);
  return {
    view: query.get("view") === "staff" ? "staff" : "list",
    day: parseDay(query.get("day")),
    show: SHOW_OPTIONS.has(query.get("show")) ? query.get("show") : "all",
    status: STATUSES.has(query.get("status")) ? query.get("status") : "",
  };
}

/** Write the filters as a query string, leaving out defaults ("" when all are). */
export function filterSearch(filters) {
  const query = new URLSearchParams();
  if (filters.view !== "list") query.set("view", filters.view);
  if (filters.day) query.set("day", filters.day);
  if (filters.show !== "all") query.set("show", filters.show);
  if (filters.status) query.set("status", filters.status);
  const search = query.toString();
  return search ? `?${search}` : "";
}

/** The dates shown, [from, to] ("" for no end): the picked day, or today and after (list). */
export function dateRange(filters, today) {
  if (filters.view === "staff") return [filters.day || today, filters.day || today];
  return filters.day ? [filters.day, filters.day] : [today, ""];
}

/** Whether a booking falls in the shown dates. */
export function inRange(booking, range) {
  const [from, to] = range;
  return booking.scheduled_date >= from && (!to || booking.scheduled_date <= to);
}

/** Whether a booking passes the Show and Status filters for a user whose staff row is `myStaffId`. */
export function passes(booking, filters, myStaffId) {
  if (filters.show === "mine" && (!myStaffId || booking.staff_id !== myStaffId)) return false;
  if (filters.show === "unassigned" && booking.staff_id) return false;
  return !filters.status || booking.status === filters.status;
}
