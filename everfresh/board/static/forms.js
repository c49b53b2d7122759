// The board's forms: day and time fields in the board's own 24-hour format, the booking
// form (customer search, clash shown before submit), the admin screens for customers,
// services and staff members, and the password forms.

import { call, readAll } from "./api.js";
import { button, element, labelled, setOptions } from "./dom.js";
import { clashWords, findClash, refusalWords } from "./refusals.js";
import { addDays, money, parseClock, parseDay, spokenDay } from "./zone.js";

/** A day field: YYYY-MM-DD typed or stepped a day at a time, said in words beside it. */
export function dayField(value, todayNow, id) {
  // The company's today: a function, since the field outlives a midnight.
  const today = typeof todayNow === "function" ? todayNow : () => todayNow;
  const input = element("input", "day-input");
  input.type = "text";
  input.id = id;
  input.inputMode = "numeric";
  input.placeholder = "YYYY-MM-DD";
  input.autocomplete = "off";
  input.size = 10;
  input.value = value || "";
  const said = element("span", "said");
  const show = () => {
    const day = parseDay(input.value);
    said.textContent = day ? spokenDay(day, today()).replace(/^on /, "") : "YYYY-MM-DD";
    input.setAttribute("aria-invalid", String(!day));
  };
  const step = (days) => () => {
    input.value = addDays(parseDay(input.value) || today(), days);
    show();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  input.addEventListener("input", show);
  show();
  const earlier = button("‹", step(-1), "step");
  earlier.setAttribute("aria-label", "Day before");
  const later = button("›", step(1), "step");
  later.setAttribute("aria-label", "Day after");
  const group = element("span", "day-field");
  group.append(earlier, input, later, said);
  return { label: labelled("Day", group), input, value: () => parseDay(input.value) };
}

/** A time field on a 24-hour clock (HH:MM), offering the quarter hours. */
export function timeField(value, id) {
  const input = element("input", "time-input");
  input.type = "text";
  input.id = id;
  input.inputMode = "numeric";
  input.placeholder = "HH:MM";
  input.autocomplete = "off";
  input.size = 5;
  input.value = value || "";
  input.setAttribute("list", "quarter-hours");
  input.addEventListener("input", () => {
    input.setAttribute("aria-invalid", String(!parseClock(input.value)));
  });
  return { label: labelled("Time", input), input, value: () => parseClock(input.value) };
}

function dialog(id, title) {
  const node = element("dialog", "form-dialog");
  node.id = id;
  const heading = element("h2", "", title);
  heading.id = `${id}-title`;
  node.setAttribute("aria-labelledby", heading.id);
  node.append(heading);
  document.body.append(node);
  return node;
}

function field(text, name, { type = "text", value = "", required = false, multiline = false } = {}) {
  const input = element(multiline ? "textarea" : "input");
  if (!multiline) input.type = type;
  input.name = name;
  input.value = value ?? "";
  input.required = required;
  if (multiline) input.rows = 2;
  return labelled(text, input, "field");
}

/**
 * The booking form. `view`: {today(), timeZone(), staffOptions(), services(), bookingsOn(day)
 * → promise of the day's bookings, durationOf(booking), nameOf(kind, id), myStaffId(),
 * booked(booking), unauthorized()}.
 */
export class BookingForm {
  constructor(view) {
    this.view = view;
    this.customers = [];
    this.node = dialog("booking-form", "New booking");
    this.form = element("form", "stacked");
    this.form.noValidate = true;
    this.node.append(this.form);
  }

  /** Open an empty form (a day and staff member may be given, e.g. from the timeline). */
  async open({ day, staffId } = {}) {
    const today = this.view.today();
    this.key = crypto.randomUUID();
    this.customerId = null;
    const search = element("input");
    search.id = "bf-customer";
    search.type = "search";
    search.autocomplete = "off";
    search.placeholder = "Name, phone, email or postcode";
    search.setAttribute("role", "combobox");
    search.setAttribute("aria-controls", "bf-matches");
    search.setAttribute("aria-expanded", "false");
    const matches = element("ul", "matches");
    matches.id = "bf-matches";
    matches.setAttribute("role", "listbox");
    const chosen = element("p", "chosen muted", "No customer chosen yet.");
    chosen.id = "bf-chosen";
    const service = element("select");
    service.id = "bf-service";
    const services = this.view.services().map((row) => [
      row.id,
      `${row.name} · ${row.duration_minutes} min · ${money(row.price_cents, this.view.currency())}`,
    ]);
    setOptions(service, services, services[0]?.[0]);
    this.dayInput = dayField(day && day >= today ? day : today, this.view.today, "bf-day");
    this.timeInput = timeField("", "bf-time");
    const staff = element("select");
    staff.id = "bf-staff";
    setOptions(staff, [["", "No one yet"], ...this.view.staffOptions()], staffId || "");
    const clash = element("p", "clash");
    clash.id = "bf-clash";
    clash.setAttribute("role", "status");
    clash.hidden = true;
    const notes = element("textarea");
    notes.id = "bf-notes";
    notes.rows = 2;
    const error = element("p", "error");
    error.id = "bf-error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    const submit = element("button", "", "Book");
    submit.type = "submit";
    const cancel = button("Cancel", () => this.node.close(), "secondary");
    const customerLabel = labelled("Customer", search, "field");
    const staffLabel = labelled("Staff member (optional)", staff, "field");
    const when = element("div", "when-fields");
    when.append(this.dayInput.label, this.timeInput.label);
    const buttons = element("div", "action-row");
    buttons.append(submit, cancel);
    this.form.replaceChildren(
      customerLabel,
      matches,
      chosen,
      labelled("Service", service, "field"),
      when,
      staffLabel,
      clash,
      labelled("Notes (optional)", notes, "field"),
      error,
      buttons,
    );
    this.parts = { search, matches, chosen, service, staff, clash, notes, error, submit };
    search.addEventListener("input", () => this.search());
    for (const control of [service, staff, this.dayInput.input, this.timeInput.input]) {
      control.addEventListener("input", () => this.checkClash());
      control.addEventListener("change", () => this.checkClash());
    }
    this.form.onsubmit = (event) => {
      event.preventDefault();
      this.submit();
    };
    if (!this.node.open) this.node.showModal();
    search.focus();
    try {
      this.customers = (await readAll("/customers")).filter((row) => row.active !== false);
    } catch {
      this.customers = [];
    }
    this.search();
  }

  search() {
    const { search, matches } = this.parts;
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const found = words.length
      ? this.customers.filter((row) => {
          const text = [row.name, row.email, row.phone, row.postcode, row.address_line1]
            .filter(Boolean)
            .join(" ")
            .toLowerCase();
          return words.every((word) => text.includes(word));
        })
      : [];
    matches.replaceChildren(
      ...found.slice(0, 8).map((row) => {
        const item = element("li");
        item.setAttribute("role", "option");
        const pick = button(row.name, () => this.choose(row), "match");
        if (row.postcode || row.address_line1) {
          pick.append(element("span", "muted", ` · ${[row.address_line1, row.postcode].filter(Boolean).join(", ")}`));
        }
        item.append(pick);
        return item;
      }),
    );
    search.setAttribute("aria-expanded", String(found.length > 0));
  }

  choose(row) {
    this.customerId = row.id;
    this.parts.chosen.textContent = `Customer: ${row.name}`;
    this.parts.chosen.classList.remove("muted");
    this.parts.search.value = row.name;
    this.parts.matches.replaceChildren();
    this.parts.search.setAttribute("aria-expanded", "false");
    this.parts.service.focus();
  }

  wanted() {
    return {
      booking_id: null,
      service_id: this.parts.service.value,
      staff_id: this.parts.staff.value || null,
      scheduled_date: this.dayInput.value(),
      scheduled_time_start: this.timeInput.value(),
    };
  }

  /** Show a clash with the staff member's other job before anything is sent. */
  async checkClash() {
    const wanted = this.wanted();
    const { clash, submit } = this.parts;
    const check = (this.check = (this.check || 0) + 1);
    let other = null;
    if (wanted.staff_id && wanted.scheduled_date && wanted.scheduled_time_start) {
      const bookings = await this.view.bookingsOn(wanted.scheduled_date).catch(() => []);
      if (check !== this.check) return;
      other = findClash(wanted, bookings, this.view.durationOf);
    }
    clash.hidden = !other;
    submit.disabled = Boolean(other);
    if (other) clash.textContent = `${clashWords(other, this.clashFacts(other, wanted.staff_id))} Pick another time or staff member.`;
    return other;
  }

  clashFacts(other, staffId) {
    return {
      staffName: this.view.nameOf("staff", staffId),
      isMe: staffId === this.view.myStaffId(),
      serviceName: this.view.nameOf("services", other.service_id),
      duration: this.view.durationOf(other),
      today: this.view.today(),
    };
  }

  async submit() {
    const { error, submit, notes } = this.parts;
    const wanted = this.wanted();
    const missing = [];
    if (!this.customerId) missing.push("choose a customer from the list");
    if (!wanted.service_id) missing.push("pick a service");
    if (!wanted.scheduled_date) missing.push("give the day as YYYY-MM-DD");
    if (!wanted.scheduled_time_start) missing.push("give the time as HH:MM (24-hour)");
    if (missing.length) {
      error.textContent = `To book, ${missing.join(", ")}.`;
      error.hidden = false;
      return;
    }
    if (await this.checkClash()) return;
    const body = {
      customer_id: this.customerId,
      service_id: wanted.service_id,
      scheduled_date: wanted.scheduled_date,
      scheduled_time_start: wanted.scheduled_time_start,
    };
    if (wanted.staff_id) body.staff_id = wanted.staff_id;
    if (notes.value.trim()) body.notes = notes.value.trim();
    submit.disabled = true;
    error.hidden = true;
    try {
      const booking = await call("/bookings", {
        method: "POST",
        body,
        headers: { "Idempotency-Key": this.key },
      });
      this.node.close();
      this.view.booked(booking);
    } catch (failure) {
      if (failure.status === 401) return this.view.unauthorized();
      const bookings = wanted.scheduled_date ? await this.view.bookingsOn(wanted.scheduled_date).catch(() => []) : [];
      const other = findClash(wanted, bookings, this.view.durationOf);
      error.textContent = refusalWords(failure, {
        wanted,
        clash: other,
        clashFacts: other ? this.clashFacts(other, wanted.staff_id) : { staffName: this.view.nameOf("staff", wanted.staff_id) },
        today: this.view.today(),
        timeZone: this.view.timeZone(),
      });
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }
}

const CATALOG = {
  customers: {
    title: "Customers",
    one: "customer",
    fields: [
      ["Name", "name", { required: true }],
      ["Email", "email", { type: "email" }],
      ["Phone", "phone", { type: "tel" }],
      ["Address", "address_line1"],
      ["Address, second line", "address_line2"],
      ["Town or city", "city"],
      ["Postcode", "postcode"],
      ["Access notes (key safe, alarm, pets)", "access_notes", { multiline: true }],
    ],
    describe: (row) => [row.email, row.phone, [row.address_line1, row.city, row.postcode].filter(Boolean).join(", ")].filter(Boolean).join(" · "),
  },
  services: {
    title: "Services",
    one: "service",
    fields: [
      ["Name", "name", { required: true }],
      ["Length in minutes", "duration_minutes", { type: "number", required: true }],
      ["Price", "price", { type: "number", required: true }],
    ],
    describe: (row, currency) => `${row.duration_minutes} min · ${money(row.price_cents, currency)}`,
  },
  staff: {
    title: "Staff members",
    one: "staff member",
    fields: [["Name", "name", { required: true }]],
    describe: (row) => (row.user_id ? "Can log in" : ""),
  },
};

/** Turn a form's values into the API's fields (prices typed in major units, sent in cents). */
export function catalogBody(kind, values) {
  const body = {};
  for (const [, name] of CATALOG[kind].fields) {
    const value = (values[name] ?? "").trim();
    if (name === "price") body.price_cents = Math.round(Number(value) * 100);
    else if (name === "duration_minutes") body.duration_minutes = Number(value);
    else if (value || name !== "name") body[name] = value || null;
  }
  return body;
}

/** The admin screens: add, edit and deactivate customers, services and staff members. */
export class CatalogAdmin {
  constructor(view) {
    this.view = view;
    this.kind = "customers";
    this.node = dialog("admin", "Customers, services and staff");
    this.node.classList.add("admin-dialog");
    const tabs = element("div", "views");
    tabs.setAttribute("role", "group");
    tabs.setAttribute("aria-label", "What to manage");
    this.tabs = Object.entries(CATALOG).map(([kind, spec]) => {
      const tab = button(spec.title, () => this.show(kind));
      tab.dataset.kind = kind;
      tabs.append(tab);
      return tab;
    });
    this.error = element("p", "error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    this.list = element("ul", "catalog-list");
    this.editor = element("form", "stacked editor");
    this.editor.noValidate = true;
    this.editor.hidden = true;
    const close = button("Close", () => this.node.close(), "secondary");
    this.addButton = button("Add", () => this.edit(null));
    const head = element("div", "action-row");
    head.append(tabs, this.addButton);
    this.node.append(head, this.error, this.editor, this.list, close);
  }

  /** Open the screens on one kind of row. */
  async open(kind = this.kind) {
    if (!this.node.open) this.node.showModal();
    await this.show(kind);
  }

  async show(kind) {
    this.kind = kind;
    this.editor.hidden = true;
    this.error.hidden = true;
    for (const tab of this.tabs) tab.setAttribute("aria-pressed", String(tab.dataset.kind === kind));
    this.addButton.textContent = `Add a ${CATALOG[kind].one}`;
    let rows = [];
    try {
      rows = await readAll(`/${kind}?include_inactive=true`);
    } catch (failure) {
      if (failure.status === 401) return this.view.unauthorized();
      this.error.textContent = `Could not read the ${CATALOG[kind].title.toLowerCase()}: ${refusalWords(failure)}`;
      this.error.hidden = false;
    }
    rows.sort((a, b) => Number(b.active !== false) - Number(a.active !== false) || a.name.localeCompare(b.name));
    this.list.replaceChildren(...rows.map((row) => this.item(row)));
  }

  item(row) {
    const spec = CATALOG[this.kind];
    const item = element("li", row.active === false ? "inactive" : "");
    item.dataset.id = row.id;
    const text = element("div", "catalog-text");
    text.append(element("strong", "", row.name), element("span", "muted", spec.describe(row, this.view.currency())));
    if (row.active === false) text.append(element("span", "status", "Deactivated"));
    const actions = element("div", "action-row");
    actions.append(button("Edit", () => this.edit(row), "secondary"));
    actions.append(
      row.active === false
        ? button("Reactivate", () => this.save(row, { active: true }), "secondary")
        : button("Deactivate", () => this.save(row, { active: false }), "danger-outline"),
    );
    item.append(text, actions);
    return item;
  }

  edit(row) {
    const spec = CATALOG[this.kind];
    const values = row ? { ...row, price: row.price_cents !== undefined ? (row.price_cents / 100).toFixed(2) : "" } : {};
    this.editor.replaceChildren(
      element("h3", "", row ? `Edit ${row.name}` : `New ${spec.one}`),
      ...spec.fields.map(([text, name, options]) => field(text, name, { ...options, value: values[name] })),
    );
    const buttons = element("div", "action-row");
    const submit = element("button", "", row ? "Save" : `Add ${spec.one}`);
    submit.type = "submit";
    buttons.append(submit, button("Cancel", () => (this.editor.hidden = true), "secondary"));
    this.editor.append(buttons);
    this.editor.onsubmit = (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(this.editor));
      this.save(row, catalogBody(this.kind, values));
    };
    this.editor.hidden = false;
    this.editor.querySelector("input").focus();
  }

  async save(row, body) {
    this.error.hidden = true;
    try {
      if (row) await call(`/${this.kind}/${encodeURIComponent(row.id)}`, { method: "PATCH", body });
      else await call(`/${this.kind}`, { method: "POST", body });
    } catch (failure) {
      if (failure.status === 401) return this.view.unauthorized();
      this.error.textContent = refusalWords(failure);
      this.error.hidden = false;
      return;
    }
    this.view.changed(this.kind);
    await this.show(this.kind);
  }
}

/**
 * The password form: "Change password" from the user menu, or "Choose a new password" when
 * the server requires one (after an admin's reset). `done()` runs after a success.
 */
export class PasswordForm {
  constructor() {
    this.node = dialog("password", "Change password");
    this.form = element("form", "stacked");
    this.form.noValidate = true;
    this.note = element("p", "muted");
    this.current = field("Current password", "current_password", { type: "password", required: true });
    this.current.querySelector("input").autocomplete = "current-password";
    this.fresh = field("New password (at least 12 characters)", "new_password", { type: "password", required: true });
    this.fresh.querySelector("input").autocomplete = "new-password";
    this.repeat = field("New password again", "repeat_password", { type: "password", required: true });
    this.repeat.querySelector("input").autocomplete = "new-password";
    this.error = element("p", "error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    const submit = element("button", "", "Change password");
    submit.type = "submit";
    this.cancel = button("Cancel", () => this.node.close(), "secondary");
    const buttons = element("div", "action-row");
    buttons.append(submit, this.cancel);
    this.form.append(this.note, this.current, this.fresh, this.repeat, this.error, buttons);
    this.node.append(this.form);
    this.form.onsubmit = (event) => {
      event.preventDefault();
      this.submit();
    };
    // A required change cannot be waved away: the board is unusable until it is made.
    this.node.addEventListener("cancel", (event) => {
      if (this.forced) event.preventDefault();
    });
  }

  /** Open the form; `forced` when the server requires a new password before anything else. */
  open({ forced = false, currentPassword = "", done = () => {} } = {}) {
    this.forced = forced;
    this.done = done;
    this.form.reset();
    this.node.querySelector("h2").textContent = forced ? "Choose a new password" : "Change password";
    this.note.textContent = forced
      ? "Your password was reset. Choose a new one of your own to go on."
      : "Your other sessions end; this one goes on.";
    this.current.querySelector("input").value = currentPassword;
    this.current.hidden = forced && Boolean(currentPassword);
    this.cancel.hidden = forced;
    this.error.hidden = true;
    if (!this.node.open) this.node.showModal();
    (this.current.hidden ? this.fresh : this.current).querySelector("input").focus();
  }

  async submit() {
    const values = Object.fromEntries(new FormData(this.form));
    if (values.new_password !== values.repeat_password) {
      this.error.textContent = "The two new passwords differ.";
      this.error.hidden = false;
      return;
    }
    try {
      await call("/auth/password", {
        method: "POST",
        body: { current_password: values.current_password, new_password: values.new_password },
      });
    } catch (failure) {
      const words = Object.values(failure.fields || {}).join(" ");
      this.error.textContent = words || failure.message || "The password was not changed.";
      this.error.hidden = false;
      return;
    }
    this.forced = false;
    this.node.close();
    this.done();
  }
}
