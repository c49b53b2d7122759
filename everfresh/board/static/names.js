// Resolve customer, service and staff ids to their rows, on demand, cached, and refreshed
// when asked: the board shows names, never ids.

import { call, readAll } from "./api.js";

const KINDS = ["customers", "services", "staff"];
const rows = Object.fromEntries(KINDS.map((kind) => [kind, new Map()]));
const pending = new Map();
const missing = new Set();
let onResolved = () => {};

/** Say what to run when a row arrives that was not known before. */
export function whenResolved(callback) {
  onResolved = callback;
}

/** Forget everything (another user logged in). */
export function forgetAll() {
  for (const kind of KINDS) rows[kind].clear();
  pending.clear();
  missing.clear();
}

/** Load the first page of customers, and every service and staff member. */
export async function preload() {
  const [customers, services, staff] = await Promise.all([
    readAll("/customers", 1),
    readAll("/services"),
    readAll("/staff"),
  ]);
  for (const [kind, items] of [
    ["customers", customers],
    ["services", services],
    ["staff", staff],
  ]) {
    for (const row of items) rows[kind].set(row.id, row);
  }
}

/** Read every staff member again, so that lanes include those added since the page loaded. */
export async function refreshStaff() {
  const before = JSON.stringify(allStaff());
  for (const row of await readAll("/staff")) rows.staff.set(row.id, row);
  if (JSON.stringify(allStaff()) !== before) onResolved();
}

/** Read every row of a kind again (after an admin changed one). */
export async function refresh(kind) {
  for (const row of await readAll(`/${kind}`)) rows[kind].set(row.id, row);
  onResolved();
}

/** Every service known so far, by name. */
export function allServices() {
  return [...rows.services.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Return the known row, or null while it is looked up (then `onResolved` runs). */
export function row(kind, id) {
  if (!id) return null;
  const known = rows[kind].get(id);
  if (known) return known;
  // An id the API did not know stays unknown until something asks for it afresh.
  if (!missing.has(`${kind}/${id}`)) lookUp(kind, id);
  return null;
}

/** Fetch a row again, or for the first time; resolves to the row or null. */
export function lookUp(kind, id, { fresh = false } = {}) {
  const key = `${kind}/${id}`;
  if (!fresh && rows[kind].has(id)) return Promise.resolve(rows[kind].get(id));
  if (pending.has(key)) return pending.get(key);
  const request = call(`/${kind}/${encodeURIComponent(id)}`)
    .then((found) => {
      const changed = JSON.stringify(rows[kind].get(id)) !== JSON.stringify(found);
      rows[kind].set(id, found);
      missing.delete(key);
      if (changed) onResolved();
      return found;
    })
    .catch(() => {
      if (!missing.has(key)) {
        missing.add(key);
        onResolved();
      }
      return null;
    })
    .finally(() => pending.delete(key));
  pending.set(key, request);
  return request;
}

/** Return a name to show: the row's name, "…" while loading, or a plain word if unknown. */
export function nameOf(kind, id) {
  if (!id) return "";
  const found = row(kind, id);
  if (found) return found.name;
  return missing.has(`${kind}/${id}`) ? UNKNOWN[kind] : "…";
}

const UNKNOWN = {
  customers: "Unknown customer",
  services: "Unknown service",
  staff: "Unknown staff member",
};

/** Every staff member known so far, by name. */
export function allStaff() {
  return [...rows.staff.values()].sort((a, b) => a.name.localeCompare(b.name));
}
