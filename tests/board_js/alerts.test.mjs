// What the alerts say: title count, burst summary, Alerts button, off-screen arrivals.

import assert from "node:assert/strict";
import { test } from "node:test";

import { alertsLabel, burstSummary, offScreen, titleFor } from "../../everfresh/board/static/alerts.js";

test("the tab title counts unseen bookings", () => {
  assert.equal(titleFor(0), "EverFresh");
  assert.equal(titleFor(3), "(3) EverFresh");
});

test("a burst is summed up by day", () => {
  const bookings = [
    ...Array(9).fill({ scheduled_date: "2026-12-08" }),
    ...Array(6).fill({ scheduled_date: "2026-12-09" }),
    { scheduled_date: "2026-12-15" },
  ];
  assert.equal(
    burstSummary(bookings, "2026-12-08"),
    "16 new bookings: 9 today, 6 tomorrow, 1 Tue 15 Dec.",
  );
});

for (const [wanted, permission, label] of [
  [true, "granted", { pressed: true, text: "Alerts on" }],
  [true, "denied", { pressed: false, text: "Alerts blocked" }],
  [true, "default", { pressed: false, text: "Turn on alerts" }],
  [false, "granted", { pressed: false, text: "Turn on alerts" }],
]) {
  test(`alerts wanted=${wanted} with permission ${permission} read "${label.text}"`, () => {
    assert.deepEqual(alertsLabel(wanted, permission), label);
  });
}

test("arrivals above and below the screen are counted, the nearest pointed at", () => {
  const boxes = [
    { id: "far-up", box: { top: -500, bottom: -450 } },
    { id: "up", box: { top: -60, bottom: -10 } },
    { id: "seen", box: { top: 100, bottom: 150 } },
    { id: "down", box: { top: 900, bottom: 950 } },
    { id: "far-down", box: { top: 1500, bottom: 1550 } },
  ];
  const where = offScreen(boxes, 800);
  assert.equal(where.above, 2);
  assert.equal(where.below, 2);
  assert.equal(where.up.id, "up");
  assert.equal(where.down.id, "down");
});
