// The timeline's layout: the day's window, where blocks go, snapping and sub-lanes.

import assert from "node:assert/strict";
import { test } from "node:test";

import { zoneMinutes } from "../../everfresh/board/static/zone.js";
import {
  WORKING_DAY,
  dayWindow,
  draggedStart,
  hourMarks,
  layoutDay,
  packLanes,
  place,
  snap,
} from "../../everfresh/board/static/timeline.js";

const hours = (h) => h * 60;

test("the window is the working day when every booking fits in it", () => {
  assert.deepEqual(dayWindow([{ start: hours(9), end: hours(11) }]), WORKING_DAY);
  assert.deepEqual(WORKING_DAY, { from: hours(7), to: hours(20) });
});

test("the window widens to whole hours around an early or late booking", () => {
  const spans = [
    { start: hours(6) + 30, end: hours(8) },
    { start: hours(19), end: hours(21) + 15 },
  ];
  assert.deepEqual(dayWindow(spans), { from: hours(6), to: hours(22) });
});

test("a booking running past midnight widens the window to midnight only", () => {
  assert.deepEqual(dayWindow([{ start: hours(23), end: hours(25) }]), {
    from: hours(7),
    to: hours(24),
  });
});

test("a block's left edge is its start and its width its length, on one scale", () => {
  const window = { from: hours(7), to: hours(20) };
  const block = place(hours(10), hours(12), window);
  assert.equal(block.left, (180 / 780) * 100);
  assert.equal(block.width, (120 / 780) * 100);
  // Same length, same width, wherever it starts.
  assert.equal(place(hours(15), hours(17), window).width, block.width);
  assert.equal(place(hours(7), hours(7), window).left, 0);
  assert.equal(place(hours(20), hours(20), window).left, 100);
});

for (const [minutes, snapped] of [
  [600, 600],
  [607, 600],
  [608, 615],
  [622, 615],
  [623, 630],
]) {
  test(`${minutes} minutes snap to ${snapped}`, () => {
    assert.equal(snap(minutes), snapped);
  });
}

test("a drag moves the start by the track's scale, snapped, and stays within the day", () => {
  const window = { from: hours(7), to: hours(20) };
  // 780 minutes over 780 px: one pixel a minute.
  assert.equal(draggedStart(hours(10), 120, 60, 780, window), hours(11));
  assert.equal(draggedStart(hours(10), 120, 53, 780, window), hours(11));
  assert.equal(draggedStart(hours(10), 120, 52, 780, window), hours(10) + 45);
  assert.equal(draggedStart(hours(10), 120, -37, 780, window), hours(9) + 30);
  assert.equal(draggedStart(hours(1), 120, -5000, 780, window), 0);
  assert.equal(draggedStart(hours(20), 120, 5000, 780, window), hours(22));
});

test("overlapping bookings take sub-lanes, back-to-back ones share one", () => {
  const spans = [
    { start: hours(9), end: hours(11) },
    { start: hours(10), end: hours(12) },
    { start: hours(11), end: hours(13) },
    { start: hours(10) + 30, end: hours(11) },
  ];
  assert.equal(packLanes(spans), 3);
  assert.deepEqual(
    spans.map((span) => span.lane),
    [0, 1, 0, 2],
  );
  assert.equal(packLanes([]), 1);
});

test("hour marks label each whole hour of the window", () => {
  const marks = hourMarks({ from: hours(7), to: hours(10) });
  assert.deepEqual(
    marks.map((mark) => [mark.label, Math.round(mark.left)]),
    [
      ["07:00", 0],
      ["08:00", 33],
      ["09:00", 67],
      ["10:00", 100],
    ],
  );
});

test("a day lays out rows in order, with a row for a staff member not listed", () => {
  const durations = { deep: 240, standard: 120 };
  const bookings = [
    { booking_id: "a", staff_id: "staff_1", service_id: "deep", scheduled_time_start: "11:30" },
    { booking_id: "b", staff_id: null, service_id: "standard", scheduled_time_start: "06:00" },
    { booking_id: "c", staff_id: "staff_9", service_id: "unknown", scheduled_time_start: "09:00" },
  ];
  const { window, rows } = layoutDay(
    [
      { id: "", name: "Unassigned" },
      { id: "staff_1", name: "Ada" },
      { id: "staff_2", name: "Grace" },
    ],
    bookings,
    (booking) => durations[booking.service_id] ?? null,
  );
  assert.deepEqual(window, { from: hours(6), to: hours(20) });
  assert.deepEqual(
    rows.map((row) => [row.id, row.blocks.map((block) => block.booking.booking_id)]),
    [
      ["", ["b"]],
      ["staff_1", ["a"]],
      ["staff_2", []],
      ["staff_9", ["c"]],
    ],
  );
  const deep = rows[1].blocks[0];
  assert.equal(deep.start, hours(11) + 30);
  assert.equal(deep.end, hours(15) + 30);
  assert.equal(deep.left, ((hours(5) + 30) / 840) * 100);
  assert.equal(deep.width, (240 / 840) * 100);
  // A block whose service is still being read shows as a quarter hour.
  assert.equal(rows[3].blocks[0].end - rows[3].blocks[0].start, 15);
});

test("the now-line stands at the wall clock on the mornings the clocks change", () => {
  const window = WORKING_DAY;
  // 2026-03-29 08:30 UTC is 09:30 in London (BST began at 01:00 UTC).
  const spring = zoneMinutes("Europe/London", new Date("2026-03-29T08:30:00Z"));
  assert.equal(spring, hours(9) + 30);
  assert.equal(place(spring, spring, window).left, (150 / 780) * 100);
  // 2026-11-01 14:00 UTC is 09:00 in New York (EST began at 06:00 UTC).
  const autumn = zoneMinutes("America/New_York", new Date("2026-11-01T14:00:00Z"));
  assert.equal(autumn, hours(9));
});
