// A booking's details dialog: who, where (with a map link and access notes), what, when,
// and the buttons the server says the caller may use (`allowed_actions`).

import { button, element, labelled, setOptions } from "./dom.js";
import { dayField, timeField } from "./forms.js";
import { statusLabel } from "./list.js";
import { instant, longDay, money, timeSpan } from "./zone.js";

/** A link that finds an address on OpenStreetMap (no key, no tracking script on our page). */
export function mapLink(customer) {
  const parts = [customer.address_line1, customer.address_line2, customer.city, customer.postcode];
  const address = parts.filter(Boolean).join(", ");
  if (!address) return null;
  return { address, href: `https://www.openstreetmap.org/search?query=${encodeURIComponent(address)}` };
}

/**
 * The details dialog. `view`: {booking(id), today(), timeZone(), currency(), nameOf(kind, id),
 * row(kind, id), staffOptions(), myStaffId(), isLate(booking), act(booking, changes) → promise
 * of null or refusal words, closed(id)}.
 */
export class Details {
  constructor(nodes, view) {
    this.nodes = nodes;
    this.view = view;
    this.openId = null;
    this.signature = null;
    nodes.close.addEventListener("click", () => this.close());
    nodes.dialog.addEventListener("close", () => {
      if (this.openId) this.close();
    });
  }

  /** Open a booking's details. */
  open(id) {
    this.openId = id;
    this.signature = null;
    this.nodes.error.hidden = true;
    this.render();
    if (!this.nodes.dialog.open) this.nodes.dialog.showModal();
  }

  /** Close the dialog and give the focus back to the booking. */
  close() {
    const id = this.openId;
    this.openId = null;
    if (this.nodes.dialog.open) this.nodes.dialog.close();
    this.view.closed(id);
  }

  /** Draw the open booking again, keeping a half-filled form when the booking did not change. */
  render() {
    const booking = this.openId && this.view.booking(this.openId);
    if (!booking) return;
    const { view } = this;
    const customer = view.row("customers", booking.customer_id);
    const service = view.row("services", booking.service_id);
    const today = view.today();
    this.nodes.title.textContent = `Booking ${booking.booking_number}`;
    const fields = this.nodes.fields;
    fields.replaceChildren();
    const detail = (term, value) => {
      const dd = element("dd");
      if (value instanceof Node) dd.append(value);
      else dd.textContent = value || "—";
      fields.append(element("dt", "", term), dd);
    };
    detail("Booking number", booking.booking_number);
    detail("Status", statusLabel(booking.status) + (view.isLate(booking) ? " · Late" : ""));
    const span = timeSpan(booking.scheduled_time_start, service?.duration_minutes);
    detail("When", `${longDay(booking.scheduled_date, today)} ${span} (${view.timeZone()})`);
    detail("Customer", view.nameOf("customers", booking.customer_id));
    const where = customer && mapLink(customer);
    if (where) {
      const link = element("a", "map", where.address);
      link.href = where.href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      detail("Address", link);
    } else {
      detail("Address", "");
    }
    detail("Access", customer?.access_notes);
    detail("Phone", customer?.phone);
    detail("Email", customer?.email);
    detail(
      "Service",
      service
        ? `${service.name} · ${service.duration_minutes} min · ${money(service.price_cents, view.currency())}`
        : view.nameOf("services", booking.service_id),
    );
    detail("Assigned to", booking.staff_id ? view.nameOf("staff", booking.staff_id) : "Unassigned");
    detail("Notes", booking.notes);
    detail("Created", instant(booking.created_at, view.timeZone()));
    detail("Updated", instant(booking.updated_at || booking.created_at, view.timeZone()));
    const signature = JSON.stringify([
      booking.updated_at || booking.created_at,
      booking.status,
      booking.staff_id,
      booking.allowed_actions,
      view.staffOptions().length,
    ]);
    if (this.signature !== signature) {
      this.signature = signature;
      this.renderActions(booking);
    }
  }

  renderActions(booking) {
    const actions = this.nodes.actions;
    actions.replaceChildren();
    const allowed = new Set(booking.allowed_actions || []);
    if (!booking.allowed_actions) {
      actions.append(element("p", "muted", "Reading what you may do…"));
      return;
    }
    if (allowed.size === 0) {
      const final = booking.status === "completed" || booking.status === "cancelled";
      const text = final
        ? `This booking is ${statusLabel(booking.status).toLowerCase()}.`
        : "Nothing for you to do with this booking.";
      actions.append(element("p", "muted", text));
      return;
    }
    const act = (changes) => () => this.act(booking, changes);
    const row = element("div", "action-row");
    if (allowed.has("confirm")) row.append(button("Confirm", act({ status: "confirmed" })));
    if (allowed.has("start")) row.append(button("Start", act({ status: "in_progress" })));
    if (allowed.has("complete")) row.append(button("Complete", act({ status: "completed" })));
    const mine = this.view.myStaffId();
    if (allowed.has("assign_self") && mine && booking.staff_id !== mine) {
      row.append(button("Assign to me", act({ staff_id: mine })));
    }
    if (row.children.length) actions.append(row);

    if (allowed.has("assign")) {
      const assignRow = element("div", "action-row");
      const select = element("select");
      select.id = "assign-staff";
      setOptions(select, [["", "Unassigned"], ...this.view.staffOptions()], booking.staff_id);
      assignRow.append(
        labelled("Assign to", select),
        button("Assign", () => this.act(booking, { staff_id: select.value || null })),
      );
      actions.append(assignRow);
    }
    if (allowed.has("reschedule")) {
      const moveRow = element("div", "action-row");
      const day = dayField(booking.scheduled_date, this.view.today, "reschedule-date");
      const time = timeField(booking.scheduled_time_start, "reschedule-time");
      moveRow.append(
        day.label,
        time.label,
        button("Reschedule", () => {
          if (!day.value() || !time.value()) return this.showError("Enter the day as YYYY-MM-DD and the time as HH:MM.");
          return this.act(booking, { scheduled_date: day.value(), scheduled_time_start: time.value() });
        }),
      );
      actions.append(moveRow);
    }
    if (allowed.has("edit_notes")) {
      const notesRow = element("div", "action-row notes-row");
      const notes = element("textarea");
      notes.id = "edit-notes";
      notes.rows = 2;
      notes.value = booking.notes || "";
      notesRow.append(
        labelled("Notes", notes),
        button("Save notes", () => this.act(booking, { notes: notes.value })),
      );
      actions.append(notesRow);
    }
    if (allowed.has("cancel")) {
      const cancelRow = element("div", "action-row");
      const confirmCancel = element("div", "confirm-cancel");
      confirmCancel.hidden = true;
      const askCancel = button(
        "Cancel booking…",
        () => {
          confirmCancel.hidden = false;
          confirmCancel.querySelector("button").focus();
        },
        "danger-outline",
      );
      confirmCancel.append(
        element("span", "", `Cancel ${booking.booking_number}? This cannot be undone.`),
        button("Yes, cancel it", act({ status: "cancelled" }), "danger"),
        button("Keep it", () => {
          confirmCancel.hidden = true;
          askCancel.focus();
        }),
      );
      cancelRow.append(askCancel, confirmCancel);
      actions.append(cancelRow);
    }
  }

  showError(text) {
    this.nodes.error.textContent = text;
    this.nodes.error.hidden = !text;
  }

  async act(booking, changes) {
    this.showError("");
    const controls = this.nodes.actions.querySelectorAll("button, select, input, textarea");
    for (const control of controls) control.disabled = true;
    try {
      const refusal = await this.view.act(booking, changes);
      if (refusal) this.showError(refusal);
    } finally {
      for (const control of controls) control.disabled = false;
    }
  }
}
