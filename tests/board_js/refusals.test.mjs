// Refusals in words: the person named, the day said as people say it.

import assert from "node:assert/strict";
import { test } from "node:test";

import { clashWords, findClash, refusalWords } from "../../everfresh/board/static/refusals.js";

const durations = { deep: 180, standard: 120 };
const durationOf = (booking) => durations[booking.service_id] ?? null;
const held = {
  booking_id: "A",
  staff_id: "staff_1",
  service_id: "deep",
  scheduled_date: "2026-12-08",
  scheduled_time_start: "10:45",
  status: "confirmed",
};

test("a clash is found on the same staff member's overlapping job only", () => {
  const wanted = { ...held, booking_id: "B", service_id: "standard", scheduled_time_start: "12:00" };
  assert.equal(findClash(wanted, [held], durationOf), held);
  assert.equal(findClash({ ...wanted, scheduled_time_start: "13:45" }, [held], durationOf), null);
  assert.equal(findClash({ ...wanted, scheduled_time_start: "08:45" }, [held], durationOf), null);
  assert.equal(findClash({ ...wanted, staff_id: "staff_2" }, [held], durationOf), null);
  assert.equal(findClash(wanted, [{ ...held, status: "cancelled" }], durationOf), null);
  assert.equal(findClash({ ...wanted, staff_id: null }, [held], durationOf), null);
});

test("a clash names the staff member, the job, its times and its day", () => {
  const facts = { staffName: "Ada Lovelace", serviceName: "Deep clean", duration: 180, today: "2026-12-01" };
  assert.equal(
    clashWords(held, facts),
    "Ada Lovelace already has Deep clean 10:45-13:45 on Tuesday 8 December.",
  );
  assert.equal(
    clashWords(held, { ...facts, isMe: true, today: "2026-12-08" }),
    "You already have Deep clean 10:45-13:45 today.",
  );
});

const context = { today: "2026-12-08", timeZone: "Europe/London", bookingNumber: "BK-1001" };

for (const [error, wanted, words] of [
  [
    { status: 422, fields: { scheduled_date: "This date has passed." } },
    { scheduled_date: "2026-12-01", scheduled_time_start: "10:00" },
    "That day has passed in Europe/London; pick today or a later day.",
  ],
  [
    { status: 422, fields: { scheduled_time_start: "This time has passed." } },
    { scheduled_date: "2026-12-08", scheduled_time_start: "06:00" },
    "06:00 today has already passed in Europe/London; pick a later time.",
  ],
  [
    { status: 409, fields: { status: "Final." } },
    {},
    "BK-1001 has already moved on; it cannot change like that now.",
  ],
  [
    { status: 422, fields: { customer_id: "Not found in this company." } },
    {},
    "Customer: Not found in this company.",
  ],
  [{}, {}, "The server could not be reached; nothing changed."],
]) {
  test(`${error.status} ${JSON.stringify(error.fields)} is said in words`, () => {
    assert.equal(refusalWords(error, { ...context, wanted }), words);
  });
}

test("a clash the board cannot see still names the staff member", () => {
  const error = { status: 409, fields: { staff_id: "Already booked from 10:00 on 2026-12-08 for 120 minutes." } };
  assert.equal(
    refusalWords(error, { ...context, clash: null, clashFacts: { staffName: "Grace Hopper" } }),
    "Grace Hopper is already booked then.",
  );
});
