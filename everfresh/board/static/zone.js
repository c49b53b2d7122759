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
  const options = { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" };
  if (isoDate.slice(0, 4) !== today.slice(0, 4)) options.year = "numeric";
  return asUtcDate(isoDate).toLocaleDateString("en-GB", options);
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
