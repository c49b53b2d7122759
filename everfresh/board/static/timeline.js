// The "By staff" timeline: one row per staff member on one time scale, each booking a block
// from its start to its end; admins move blocks by pointer or keyboard to reschedule and
// reassign. The layout is plain arithmetic (exported, and tested under node); the Timeline
// class draws it and turns gestures into proposed changes.

import { clockTime, minutesOf } from "./zone.js";

/** The company's working day, in minutes after midnight, before any booking widens it. */
export const WORKING_DAY = { from: 7 * 60, to: 20 * 60 };
/** Moves snap to this many minutes. */
export const SNAP_MINUTES = 15;
const DAY_MINUTES = 24 * 60;
// A pointer must travel this far before a press becomes a drag, so a click still opens.
const DRAG_THRESHOLD_PX = 4;

/** Widen the working day to whole hours holding every span ({start, end} in minutes). */
export function dayWindow(spans, workingDay = WORKING_DAY) {
  let { from, to } = workingDay;
  for (const span of spans) {
    from = Math.min(from, Math.floor(span.start / 60) * 60);
    to = Math.max(to, Math.ceil(Math.min(span.end, DAY_MINUTES) / 60) * 60);
  }
  return { from: Math.max(0, from), to: Math.min(DAY_MINUTES, to) };
}

/** Place a span on the window: left edge and width as percentages of the track. */
export function place(start, end, window) {
  const length = window.to - window.from;
  const clippedEnd = Math.min(end, window.to);
  return {
    left: ((start - window.from) / length) * 100,
    width: ((clippedEnd - start) / length) * 100,
  };
}

/** Round to the nearest step (15 minutes by default). */
export function snap(minutes, step = SNAP_MINUTES) {
  return Math.round(minutes / step) * step;
}

/** The start a block dragged `dx` pixels along a track `trackWidth` wide moves to, snapped, within the day. */
export function draggedStart(start, duration, dx, trackWidth, window) {
  const moved = snap(start + (dx / trackWidth) * (window.to - window.from));
  return Math.max(0, Math.min(moved, DAY_MINUTES - Math.max(duration, SNAP_MINUTES)));
}

/** Give each span the lowest sub-lane where it overlaps nothing; return how many lanes it took. */
export function packLanes(spans) {
  const laneEnds = [];
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
  for (const span of sorted) {
    let lane = laneEnds.findIndex((end) => end <= span.start);
    if (lane === -1) lane = laneEnds.length;
    laneEnds[lane] = span.end;
    span.lane = lane;
  }
  return Math.max(1, laneEnds.length);
}

/** The hour marks of a window: [{minutes, label, left}]. */
export function hourMarks(window) {
  const marks = [];
  for (let minutes = Math.ceil(window.from / 60) * 60; minutes <= window.to; minutes += 60) {
    marks.push({ minutes, label: clockTime(minutes), left: place(minutes, minutes, window).left });
  }
  return marks;
}

/**
 * Lay out one day: `rows` [{id, name}] in order, `bookings` with `staff_id` and
 * `scheduled_time_start`, `durationOf(booking)` in minutes (null while unknown). Bookings of a
 * staff member without a row get one. Returns {window, rows: [{id, name, lanes, blocks}]},
 * each block {booking, start, end, left, width, lane}.
 */
export function layoutDay(rows, bookings, durationOf, workingDay = WORKING_DAY) {
  const spans = bookings.map((booking) => {
    const start = minutesOf(booking.scheduled_time_start);
    // Until its service is known a block shows as a quarter hour, never as nothing.
    const duration = durationOf(booking) ?? SNAP_MINUTES;
    return { booking, start, end: start + duration };
  });
  const window = dayWindow(spans, workingDay);
  const laidOut = rows.map((row) => ({ ...row, blocks: [] }));
  const byId = new Map(laidOut.map((row) => [row.id, row]));
  for (const span of spans) {
    const id = span.booking.staff_id || "";
    if (!byId.has(id)) {
      const row = { id, name: id, blocks: [] };
      laidOut.push(row);
      byId.set(id, row);
    }
    byId.get(id).blocks.push({ ...span, ...place(span.start, span.end, window) });
  }
  for (const row of laidOut) row.lanes = packLanes(row.blocks);
  return { window, rows: laidOut };
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draw the timeline into `container` and report what the user does.
 *
 * `handlers`: `open(bookingId)`; `permissions(booking)` → {reschedule, assignTo(staffId)};
 * `move(booking, changes)` → a promise of null (done) or the refusal in words;
 * `describe(booking)` → {title, lines}; `announce(text)`.
 */
export class Timeline {
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;
    this.blocks = new Map();
    this.rowNodes = new Map();
    this.refusals = new Map();
    this.pending = new Map();
    this.drag = null;
    this.layout = null;
    this.picked = null;
    this.scroll = element("div", "tl-scroll");
    this.grid = element("div", "tl-grid");
    this.axis = element("div", "tl-axis");
    this.axis.append(element("div", "tl-corner"), element("div", "tl-hours"));
    this.scroll.append(this.grid);
    container.replaceChildren(this.scroll);
  }

  /** Show only this staff member's row on a narrow screen ("" for Unassigned). */
  pick(staffId) {
    this.picked = staffId;
    for (const [id, node] of this.rowNodes) node.classList.toggle("picked", id === staffId);
  }

  /** Draw `rows` and the day's `bookings`; `now` is the company's minutes today, or null. */
  render({ rows, bookings, durationOf, now }) {
    // A block in hand (pointer or keyboard) is not moved under the user.
    if (this.drag?.moving || this.keyMove) return;
    const shown = bookings.map((booking) => {
      const pending = this.pending.get(booking.booking_id);
      return pending ? { ...booking, ...pending } : booking;
    });
    this.layout = layoutDay(rows, shown, durationOf);
    const { window } = this.layout;
    this.grid.style.setProperty("--hours", String((window.to - window.from) / 60));
    const hours = this.axis.querySelector(".tl-hours");
    hours.replaceChildren(
      ...hourMarks(window).map((mark) => {
        const label = element("span", "tl-hour", mark.label);
        label.style.left = `${mark.left}%`;
        return label;
      }),
    );
    const rowNodes = this.layout.rows.map((row) => this.renderRow(row, window, now));
    if (this.picked === null || !this.rowNodes.has(this.picked)) this.pick(this.layout.rows[0]?.id ?? "");
    else this.pick(this.picked);
    const children = [this.axis, ...rowNodes];
    children.forEach((child, index) => {
      if (this.grid.children[index] !== child) {
        this.grid.insertBefore(child, this.grid.children[index] || null);
      }
    });
    while (this.grid.children.length > children.length) this.grid.lastElementChild.remove();
    for (const id of this.blocks.keys()) {
      if (!bookings.some((booking) => booking.booking_id === id)) this.blocks.delete(id);
    }
  }

  renderRow(row, window, now) {
    let node = this.rowNodes.get(row.id);
    if (!node) {
      node = element("section", row.id ? "tl-row" : "tl-row unassigned");
      node.dataset.staffId = row.id;
      const name = element("h4", "tl-name");
      name.append(element("span", "name"), element("span", "count"));
      const track = element("div", "tl-track");
      node.append(name, track);
      this.rowNodes.set(row.id, node);
    }
    node.querySelector(".name").textContent = row.name;
    node.querySelector(".count").textContent = String(row.blocks.length);
    node.style.setProperty("--lanes", String(row.lanes));
    const track = node.querySelector(".tl-track");
    const parts = [];
    for (const block of row.blocks) {
      const blockNode = this.renderBlock(block);
      parts.push(blockNode);
      const refusal = this.refusals.get(block.booking.booking_id);
      if (refusal) parts.push(this.refusalNode(block, refusal));
    }
    if (now !== null && now >= window.from && now <= window.to) {
      const line = element("div", "tl-now");
      line.style.left = `${place(now, now, window).left}%`;
      line.title = `Now, ${clockTime(Math.floor(now))}`;
      parts.push(line);
    }
    // Keep focused blocks where they are: moving a node would drop the keyboard's place.
    parts.forEach((part, index) => {
      if (track.children[index] !== part) track.insertBefore(part, track.children[index] || null);
    });
    while (track.children.length > parts.length) track.lastElementChild.remove();
    return node;
  }

  renderBlock(block) {
    const { booking } = block;
    let node = this.blocks.get(booking.booking_id);
    if (!node) {
      node = element("button", "tl-block");
      node.type = "button";
      node.dataset.bookingId = booking.booking_id;
      node.addEventListener("click", (event) => this.clicked(event, node));
      node.addEventListener("pointerdown", (event) => this.pressed(event, node));
      node.addEventListener("keydown", (event) => this.key(event, node));
      node.addEventListener("blur", () => {
        if (this.keyMove?.id !== node.dataset.bookingId) return;
        this.keyMove = null;
        this.handlers.rerender();
      });
      this.blocks.set(booking.booking_id, node);
    }
    const described = this.handlers.describe(booking);
    node.className = `tl-block status-${booking.status}${described.classes || ""}`;
    node.classList.toggle("moving", this.pending.has(booking.booking_id));
    node.style.left = `${block.left}%`;
    node.style.width = `${block.width}%`;
    node.style.setProperty("--lane", String(block.lane));
    node.style.transform = "";
    node.dataset.start = booking.scheduled_time_start;
    node.title = described.title;
    const lines = described.lines.map(([className, text]) => element("span", className, text));
    node.replaceChildren(...lines);
    const allowed = this.handlers.permissions(booking);
    node.classList.toggle("movable", allowed.reschedule || allowed.assignAny);
    return node;
  }

  refusalNode(block, text) {
    const note = element("p", "tl-refusal");
    note.setAttribute("role", "alert");
    note.dataset.for = block.booking.booking_id;
    note.style.left = `${Math.min(block.left, 70)}%`;
    note.style.setProperty("--lane", String(block.lane));
    note.append(element("span", "", text));
    const close = element("button", "tl-dismiss", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", () => {
      this.refusals.delete(block.booking.booking_id);
      note.remove();
    });
    note.append(close);
    return note;
  }

  booking(node) {
    const id = node.dataset.bookingId;
    for (const row of this.layout?.rows || []) {
      for (const block of row.blocks) if (block.booking.booking_id === id) return block;
    }
    return null;
  }

  clicked(event, node) {
    if (this.suppressClick) {
      this.suppressClick = false;
      event.preventDefault();
      return;
    }
    this.handlers.open(node.dataset.bookingId);
  }

  pressed(event, node) {
    if (event.button !== 0) return;
    const block = this.booking(node);
    if (!block) return;
    const allowed = this.handlers.permissions(block.booking);
    if (!allowed.reschedule && !allowed.assignAny) return;
    const track = node.parentElement;
    this.drag = {
      node,
      block,
      allowed,
      x: event.clientX,
      y: event.clientY,
      trackWidth: track.getBoundingClientRect().width,
      moving: false,
      start: block.start,
      staffId: block.booking.staff_id || "",
    };
    node.setPointerCapture?.(event.pointerId);
    const move = (moveEvent) => this.dragged(moveEvent);
    const up = (upEvent) => {
      node.removeEventListener("pointermove", move);
      node.removeEventListener("pointerup", up);
      node.removeEventListener("pointercancel", up);
      this.dropped(upEvent);
    };
    node.addEventListener("pointermove", move);
    node.addEventListener("pointerup", up);
    node.addEventListener("pointercancel", up);
  }

  dragged(event) {
    const drag = this.drag;
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moving && Math.hypot(dx, dy) < DRAG_THRESHOLD_PX) return;
    drag.moving = true;
    drag.node.classList.add("dragging");
    const { window } = this.layout;
    const duration = drag.block.end - drag.block.start;
    if (drag.allowed.reschedule) {
      drag.start = draggedStart(drag.block.start, duration, dx, drag.trackWidth, window);
      drag.node.style.left = `${place(drag.start, drag.start + duration, window).left}%`;
    }
    const rowNode = this.rowAt(event.clientX, event.clientY);
    const target = rowNode?.dataset.staffId ?? drag.staffId;
    const origin = this.rowNodes.get(drag.block.booking.staff_id || "");
    for (const node of this.rowNodes.values()) node.classList.remove("drop-target");
    if (rowNode && target !== (drag.block.booking.staff_id || "") && drag.allowed.assignTo(target)) {
      drag.staffId = target;
      rowNode.classList.add("drop-target");
      const shift = rowNode.getBoundingClientRect().top - origin.getBoundingClientRect().top;
      drag.node.style.transform = `translateY(${shift}px)`;
    } else {
      drag.staffId = drag.block.booking.staff_id || "";
      drag.node.style.transform = "";
    }
    drag.node.dataset.proposed = clockTime(drag.start);
  }

  rowAt(x, y) {
    for (const node of this.rowNodes.values()) {
      const box = node.getBoundingClientRect();
      if (y >= box.top && y < box.bottom && x >= box.left && x <= box.right) return node;
    }
    return null;
  }

  dropped() {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    for (const node of this.rowNodes.values()) node.classList.remove("drop-target");
    drag.node.classList.remove("dragging");
    if (!drag.moving) return;
    // The click that ends a drag must not also open the booking.
    this.suppressClick = true;
    setTimeout(() => {
      this.suppressClick = false;
    }, 0);
    this.propose(drag.block.booking, { start: drag.start, staffId: drag.staffId });
  }

  /** Ask for a move; show it at once, snap back with the reason beside it if refused. */
  async propose(booking, { start, staffId }) {
    const changes = {};
    const time = clockTime(start);
    if (time !== booking.scheduled_time_start) changes.scheduled_time_start = time;
    if (staffId !== (booking.staff_id || "")) changes.staff_id = staffId || null;
    if (Object.keys(changes).length === 0) return this.handlers.rerender();
    const id = booking.booking_id;
    this.refusals.delete(id);
    this.pending.set(id, { scheduled_time_start: time, staff_id: staffId || null });
    this.handlers.rerender();
    const refusal = await this.handlers.move(booking, changes);
    this.pending.delete(id);
    if (refusal) this.refusals.set(id, refusal);
    this.handlers.rerender();
    if (refusal) this.handlers.announce(refusal);
    this.blocks.get(id)?.focus();
  }

  key(event, node) {
    const block = this.booking(node);
    if (!block) return;
    const allowed = this.handlers.permissions(block.booking);
    const id = block.booking.booking_id;
    const keyMove = this.keyMove?.id === id ? this.keyMove : null;
    const duration = block.end - block.start;
    const { window } = this.layout;
    const rows = this.layout.rows.map((row) => row.id);
    let next = keyMove || { id, start: block.start, staffId: block.booking.staff_id || "" };
    if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && allowed.reschedule) {
      const step = event.key === "ArrowLeft" ? -SNAP_MINUTES : SNAP_MINUTES;
      const start = Math.max(0, Math.min(next.start + step, 24 * 60 - duration));
      next = { ...next, start };
    } else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && allowed.assignAny) {
      let index = rows.indexOf(next.staffId);
      const step = event.key === "ArrowUp" ? -1 : 1;
      do index += step;
      while (index >= 0 && index < rows.length && !allowed.assignTo(rows[index]));
      if (index < 0 || index >= rows.length) return event.preventDefault();
      next = { ...next, staffId: rows[index] };
    } else if (event.key === "Enter" && keyMove) {
      event.preventDefault();
      this.keyMove = null;
      node.classList.remove("key-moving");
      this.propose(block.booking, keyMove);
      return;
    } else if (event.key === "Escape" && keyMove) {
      event.preventDefault();
      event.stopPropagation();
      this.keyMove = null;
      this.handlers.rerender();
      this.handlers.announce("Move cancelled.");
      return;
    } else {
      return;
    }
    event.preventDefault();
    this.keyMove = next;
    node.classList.add("key-moving");
    node.style.left = `${place(next.start, next.start + duration, window).left}%`;
    const origin = this.rowNodes.get(block.booking.staff_id || "");
    const target = this.rowNodes.get(next.staffId);
    const shift = target.getBoundingClientRect().top - origin.getBoundingClientRect().top;
    node.style.transform = shift ? `translateY(${shift}px)` : "";
    node.dataset.proposed = clockTime(next.start);
    const who = target.querySelector(".name").textContent;
    this.handlers.announce(
      `Move to ${clockTime(next.start)}, ${who}. Enter to save, Escape to cancel.`,
    );
  }
}
