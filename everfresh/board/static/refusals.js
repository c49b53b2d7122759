// Say why the server refused a change, in words that name the person and say the day as
// people say it, from the API's status and fields and what the board already knows.

import { minutesOf, spokenDay, timeSpan } from "./zone.js";

const FIELD_NAMES = {
  customer_id: "Customer",
  service_id: "Service",
  staff_id: "Staff member",
  scheduled_date: "Day",
  scheduled_time_start: "Time",
  notes: "Notes",
  status: "Status",
};

/** Find the booking of the same staff member on the same day that overlaps `wanted`, if any. */
export function findClash(wanted, bookings, durationOf) {
  if (!wanted.staff_id) return null;
  const start = minutesOf(wanted.scheduled_time_start);
  const end = start + (durationOf(wanted) ?? 0);
  for (const other of bookings) {
    if (other.booking_id === wanted.booking_id || other.status === "cancelled") continue;
    if (other.staff_id !== wanted.staff_id || other.scheduled_date !== wanted.scheduled_date) {
      continue;
    }
    const otherStart = minutesOf(other.scheduled_time_start);
    const otherEnd = otherStart + (durationOf(other) ?? 0);
    if (otherStart < end && start < otherEnd) return other;
  }
  return null;
}

/**
 * Say a clash: "Ada Lovelace already has Deep clean 10:45-13:45 on Tuesday 8 December".
 * `facts`: {staffName, isMe, serviceName, duration, today}.
 */
export function clashWords(other, facts) {
  const who = facts.isMe ? "You already have" : `${facts.staffName} already has`;
  const span = timeSpan(other.scheduled_time_start, facts.duration);
  return `${who} ${facts.serviceName} ${span} ${spokenDay(other.scheduled_date, facts.today)}.`;
}

/**
 * Put a refused change into words. `error` carries the API's `status`, `message` and `fields`;
 * `context`: {wanted (the booking as it would have been), clash (the other booking, or null),
 * clashFacts, today, timeZone, bookingNumber}.
 */
export function refusalWords(error, context = {}) {
  if (error?.status === undefined) return "The server could not be reached; nothing changed.";
  const fields = error.fields || {};
  const { wanted, today, timeZone } = context;
  if (error.status === 409 && fields.staff_id) {
    if (context.clash) return clashWords(context.clash, context.clashFacts);
    const who = context.clashFacts?.isMe ? "You are" : `${context.clashFacts?.staffName || "That staff member"} is`;
    return `${who} already booked then.`;
  }
  if (error.status === 409 && fields.status) {
    return `${context.bookingNumber || "This booking"} has already moved on; it cannot change like that now.`;
  }
  if (error.status === 422 && wanted && fields.scheduled_date && wanted.scheduled_date < today) {
    return `That day has passed in ${timeZone}; pick today or a later day.`;
  }
  if (error.status === 422 && wanted && fields.scheduled_time_start && wanted.scheduled_date === today) {
    return `${wanted.scheduled_time_start} today has already passed in ${timeZone}; pick a later time.`;
  }
  if (error.status === 404) return "It is no longer there: someone removed it or it is another company's.";
  if (error.status === 403) return error.message || "You may not do that.";
  const details = Object.entries(fields).map(([field, problem]) => {
    const name = FIELD_NAMES[field] || field;
    return `${name}: ${problem}`;
  });
  if (details.length) return details.join(" ");
  return error.message || `The server answered ${error.status}.`;
}
