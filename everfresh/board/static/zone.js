// Dates and times in the company's time zone: bookings are wall-clock times there.

const partsFormatters = new Map();

function partsFormatter(timeZone) {
  if (!partsFormatters.has(timeZone)) {
    partsFormatters.set(
      timeZone,
      new Intl.DateTimeFormat("en-CA", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
      }),
    );
  }
  return partsFormatters.get(timeZone);
}

/** Return the wall clock in `timeZone` now: {date: "YYYY-MM-DD", time: "HH:MM:SS"}. */
export function zoneNow(timeZone, moment = new Date()) {
  const parts = Object.fromEntries(
    partsFormatter(timeZone)
      .formatToParts(moment)
      .map((part) => [part.type, part.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}:${parts.second}`,
  };
}

function asUtcDate(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}

/** Return the calendar date `days` after `isoDate`. */
export function addDays(isoDate, days) {
  const date = asUtcDate(isoDate);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Name a day for people: "Today", "Tomorrow", else "Tue 1 Dec", with the year if not this one. */
export function dayLabel(isoDate, today) {
  if (isoDate === today) return "Today";
  if (isoDate === addDays(today, 1)) return "Tomorrow";
  return longDay(isoDate, today);
}

/** Spell a date out: "Tue 1 Dec", with the year when it is not `today`'s year. */
export function longDay(isoDate, today) {
  const date = asUtcDate(isoDate);
  const weekday = date.toLocaleDateString("en-GB", { timeZone: "UTC", weekday: "short" });
  const options = { timeZone: "UTC", day: "numeric", month: "short" };
  if (isoDate.slice(0, 4) !== today.slice(0, 4)) options.year = "numeric";
  return `${weekday} ${date.toLocaleDateString("en-GB", options)}`;
}

/** Show an instant (ISO, UTC) as a wall-clock time in `timeZone`, with its date. */
export function instant(iso, timeZone) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("en-GB", {
    timeZone,
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** Turn "HH:MM" into minutes after midnight. */
export function minutesOf(clock) {
  const [hours, minutes] = clock.split(":").map(Number);
  return hours * 60 + minutes;
}

/** Turn minutes after midnight into "HH:MM" (24:00 and beyond stay on the same clock face). */
export function clockTime(minutes) {
  const whole = Math.round(minutes);
  const hours = Math.floor(whole / 60);
  return `${String(hours).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

/** Say a booking's time as its start and end: "10:00-12:00" (the end as it falls, even past midnight). */
export function timeSpan(start, durationMinutes) {
  if (!Number.isFinite(durationMinutes)) return start;
  const end = (minutesOf(start) + durationMinutes) % (24 * 60);
  return `${start}-${clockTime(end)}`;
}

/** Return the wall-clock minutes after midnight in `timeZone` now. */
export function zoneMinutes(timeZone, moment = new Date()) {
  const { time } = zoneNow(timeZone, moment);
  return minutesOf(time) + Number(time.slice(6, 8)) / 60;
}

/** Say a day as people do: "today", "tomorrow", else "on Tuesday 8 December" (with a year if not this one). */
export function spokenDay(isoDate, today) {
  if (isoDate === today) return "today";
  if (isoDate === addDays(today, 1)) return "tomorrow";
  const date = asUtcDate(isoDate);
  const weekday = date.toLocaleDateString("en-GB", { timeZone: "UTC", weekday: "long" });
  const options = { timeZone: "UTC", day: "numeric", month: "long" };
  if (isoDate.slice(0, 4) !== today.slice(0, 4)) options.year = "numeric";
  return `on ${weekday} ${date.toLocaleDateString("en-GB", options)}`;
}

/** Check a "YYYY-MM-DD" a person typed: a real calendar date, or null. */
export function parseDay(text) {
  const match = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$/.exec(text || "");
  if (!match) return null;
  const iso = `${match[1]}-${match[2].padStart(2, "0")}-${match[3].padStart(2, "0")}`;
  const date = asUtcDate(iso);
  return date.toISOString().slice(0, 10) === iso ? iso : null;
}

/** Check an "HH:MM" a person typed on a 24-hour clock ("9:30" is fine), or null. */
export function parseClock(text) {
  const match = /^\s*(\d{1,2})[:.h]?(\d{2})\s*$/.exec(text || "");
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours > 23 || minutes > 59) return null;
  return clockTime(hours * 60 + minutes);
}

/** Show an amount of minor units in the company's currency: "£240.00", "$90.00". */
export function money(cents, currency) {
  try {
    return new Intl.NumberFormat("en-GB", { style: "currency", currency: currency || "GBP" }).format(
      cents / 100,
    );
  } catch {
    // An unknown code still shows the amount, with the code the company gave.
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}
