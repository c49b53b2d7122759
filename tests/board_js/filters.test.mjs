// The filters kept in the address: read, written and applied.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  dateRange,
  filterSearch,
  inRange,
  passes,
  readFilters,
} from "../../everfresh/board/static/filters.js";

for (const [search, filters] of [
  ["", { view: "list", day: null, show: "all", status: "" }],
  [
    "?view=staff&day=2026-12-08&show=mine&status=confirmed",
    { view: "staff", day: "2026-12-08", show: "mine", status: "confirmed" },
  ],
  ["?view=grid&day=2026-13-01&show=everyone&status=lost", { view: "list", day: null, show: "all", status: "" }],
]) {
  test(`${JSON.stringify(search)} reads as ${JSON.stringify(filters)}`, () => {
    assert.deepEqual(readFilters(search), filters);
  });
}

test("filters survive the round trip through the address, defaults left out", () => {
  const filters = { view: "staff", day: "2026-12-08", show: "unassigned", status: "" };
  assert.equal(filterSearch(filters), "?view=staff&day=2026-12-08&show=unassigned");
  assert.deepEqual(readFilters(filterSearch(filters)), filters);
  assert.equal(filterSearch(readFilters("")), "");
});

test("the list shows today and after; the timeline one day", () => {
  assert.deepEqual(dateRange(readFilters(""), "2026-12-08"), ["2026-12-08", ""]);
  assert.deepEqual(dateRange(readFilters("?day=2026-12-10"), "2026-12-08"), ["2026-12-10", "2026-12-10"]);
  assert.deepEqual(dateRange(readFilters("?view=staff"), "2026-12-08"), ["2026-12-08", "2026-12-08"]);
  assert.equal(inRange({ scheduled_date: "2027-01-01" }, ["2026-12-08", ""]), true);
  assert.equal(inRange({ scheduled_date: "2026-12-07" }, ["2026-12-08", ""]), false);
});

test("Show and Status narrow the bookings", () => {
  const mine = { staff_id: "staff_1", status: "confirmed" };
  const nobodys = { staff_id: null, status: "pending" };
  const filters = readFilters("?show=mine");
  assert.equal(passes(mine, filters, "staff_1"), true);
  assert.equal(passes(nobodys, filters, "staff_1"), false);
  assert.equal(passes(mine, filters, null), false);
  assert.equal(passes(nobodys, readFilters("?show=unassigned"), null), true);
  assert.equal(passes(mine, readFilters("?status=pending"), null), false);
});
