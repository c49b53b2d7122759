// The board's dates and times in the company's zone, across DST changes, on Node's own runner.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  addDays,
  clockTime,
  longDay,
  minutesOf,
  money,
  parseClock,
  parseDay,
  spokenDay,
  timeSpan,
  zoneMinutes,
  zoneNow,
} from "../../everfresh/board/static/zone.js";

test("the wall clock follows London across the spring change", () => {
  // 2026-03-29 01:00 UTC: London's clocks jump from 01:00 GMT to 02:00 BST.
  assert.deepEqual(zoneNow("Europe/London", new Date("2026-03-29T00:59:00Z")), {
    date: "2026-03-29",
    time: "00:59:00",
  });
  assert.deepEqual(zoneNow("Europe/London", new Date("2026-03-29T01:00:00Z")), {
    date: "2026-03-29",
    time: "02:00:00",
  });
});

test("the wall clock follows New York across the autumn change", () => {
  // 2026-11-01 06:00 UTC: New York's 02:00 EDT becomes 01:00 EST, so 01:30 happens twice.
  assert.equal(zoneNow("America/New_York", new Date("2026-11-01T05:30:00Z")).time, "01:30:00");
  assert.equal(zoneNow("America/New_York", new Date("2026-11-01T06:30:00Z")).time, "01:30:00");
  assert.equal(zoneMinutes("America/New_York", new Date("2026-11-01T06:30:00Z")), 90);
});

test("the company's day is not the browser's day", () => {
  const moment = new Date("2026-12-08T23:30:00Z");
  assert.equal(zoneNow("Europe/London", moment).date, "2026-12-08");
  assert.equal(zoneNow("Pacific/Auckland", moment).date, "2026-12-09");
  assert.equal(zoneNow("America/Los_Angeles", moment).date, "2026-12-08");
});

test("days are added on the calendar, whatever the clocks do", () => {
  assert.equal(addDays("2026-03-28", 1), "2026-03-29");
  assert.equal(addDays("2026-03-29", 1), "2026-03-30");
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  assert.equal(addDays("2028-03-01", -1), "2028-02-29");
});

test("a booking's time reads as its start and end", () => {
  assert.equal(timeSpan("10:00", 120), "10:00-12:00");
  assert.equal(timeSpan("10:45", 180), "10:45-13:45");
  assert.equal(timeSpan("23:00", 120), "23:00-01:00");
  assert.equal(timeSpan("10:00", null), "10:00");
  assert.equal(minutesOf("07:15"), 435);
  assert.equal(clockTime(435), "07:15");
});

for (const [typed, day] of [
  ["2026-12-08", "2026-12-08"],
  [" 2026-1-5 ", "2026-01-05"],
  ["2026-02-30", null],
  ["08/12/2026", null],
  ["", null],
]) {
  test(`the day ${JSON.stringify(typed)} reads as ${day}`, () => {
    assert.equal(parseDay(typed), day);
  });
}

for (const [typed, time] of [
  ["13:30", "13:30"],
  ["9:05", "09:05"],
  ["0930", "09:30"],
  ["24:00", null],
  ["1:30 PM", null],
  ["12:60", null],
]) {
  test(`the time ${JSON.stringify(typed)} reads as ${time}`, () => {
    assert.equal(parseClock(typed), time);
  });
}

test("days are said as people say them", () => {
  assert.equal(spokenDay("2026-12-08", "2026-12-08"), "today");
  assert.equal(spokenDay("2026-12-09", "2026-12-08"), "tomorrow");
  assert.equal(spokenDay("2026-12-15", "2026-12-08"), "on Tuesday 15 December");
  assert.equal(spokenDay("2027-01-05", "2026-12-08"), "on Tuesday 5 January 2027");
});

test("dates are spelled out short, with the year only when it is not this one", () => {
  assert.equal(longDay("2026-12-08", "2026-12-01"), "Tue 8 Dec");
  assert.equal(longDay("2027-01-21", "2026-12-08"), "Thu 21 Jan 2027");
});

test("prices show in the company's currency", () => {
  assert.equal(money(24000, "GBP"), "£240.00");
  assert.equal(money(9000, "USD"), "US$90.00");
  assert.equal(money(1250, "EUR"), "€12.50");
});
