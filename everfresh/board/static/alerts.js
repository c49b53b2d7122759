// Tell people what changed where their eyes are: the tab title counts what they have not
// seen, a pill points to arrivals off screen, a burst becomes one summary, and desktop
// notifications and a chime reach them in another window, when they asked for them.

import { button, element } from "./dom.js";
import { dayLabel } from "./zone.js";

/** Arrivals closer together than this count as one burst. */
export const BURST_WINDOW_MS = 3000;
/** More arrivals than this within the window are summed up rather than highlighted one by one. */
export const BURST_SIZE = 3;
const ALERTS_KEY = "everfresh-alerts";

/** The tab's title with the count of bookings not yet seen: "(3) EverFresh". */
export function titleFor(unseen, base = "EverFresh") {
  return unseen > 0 ? `(${unseen}) ${base}` : base;
}

/** Sum a burst up: "15 new bookings: 9 today, 6 tomorrow." */
export function burstSummary(bookings, today) {
  const byDay = new Map();
  for (const booking of [...bookings].sort((a, b) => a.scheduled_date.localeCompare(b.scheduled_date))) {
    const label = dayLabel(booking.scheduled_date, today);
    byDay.set(label, (byDay.get(label) || 0) + 1);
  }
  const days = [...byDay].map(([label, count]) => {
    const said = label === "Today" || label === "Tomorrow" ? label.toLowerCase() : label;
    return `${count} ${said}`;
  });
  return `${bookings.length} new bookings: ${days.join(", ")}.`;
}

/** How the Alerts button reads: on only while the user wants them and the browser allows them. */
export function alertsLabel(wanted, permission) {
  if (wanted && permission === "granted") return { pressed: true, text: "Alerts on" };
  if (wanted && permission === "denied") return { pressed: false, text: "Alerts blocked" };
  return { pressed: false, text: "Turn on alerts" };
}

/** Count the elements above and below the viewport: {above, below, first: {up, down}}. */
export function offScreen(boxes, viewportHeight) {
  const result = { above: 0, below: 0, up: null, down: null };
  for (const { box, id } of boxes) {
    if (box.bottom <= 0) {
      result.above += 1;
      if (!result.up || box.bottom > result.up.box.bottom) result.up = { box, id };
    } else if (box.top >= viewportHeight) {
      result.below += 1;
      if (!result.down || box.top < result.down.box.top) result.down = { box, id };
    }
  }
  return result;
}

/** The board's alerting: title, pill, burst summary, toasts, notifications and chime. */
export class Alerts {
  constructor({ announcer, pill, burst, toasts, alertsButton, isLeader }) {
    this.nodes = { announcer, pill, burst, toasts, alertsButton };
    this.isLeader = isLeader;
    this.audio = null;
    this.arrivals = [];
    this.burstIds = new Set();
    this.baseTitle = "EverFresh";
  }

  /** Speak a sentence to screen readers. */
  say(text) {
    this.nodes.announcer.textContent = text;
  }

  /** Show a message that stays until the user dismisses it. */
  toast(text) {
    const note = element("p", "toast");
    note.setAttribute("role", "alert");
    note.append(element("span", "", text), button("Dismiss", () => note.remove(), "secondary"));
    this.nodes.toasts.append(note);
  }

  /** Note an arrival; return true when it belongs to a burst (highlight it quietly). */
  arrived(bookingId, now = Date.now()) {
    this.arrivals = this.arrivals.filter((arrival) => now - arrival.at < BURST_WINDOW_MS);
    this.arrivals.push({ at: now, id: bookingId });
    if (this.arrivals.length > BURST_SIZE) {
      for (const arrival of this.arrivals) this.burstIds.add(arrival.id);
    }
    return this.burstIds.has(bookingId);
  }

  /** Whether a booking arrived as part of a burst still summed up. */
  inBurst(bookingId) {
    return this.burstIds.has(bookingId);
  }

  /** Show (or hide) the burst summary for its bookings still marked New. */
  showBurst(bookings, today, onShow, onDismiss) {
    const shown = bookings.filter((booking) => this.burstIds.has(booking.booking_id));
    const node = this.nodes.burst;
    node.hidden = shown.length === 0;
    if (node.hidden) return;
    const text = burstSummary(shown, today);
    if (node.dataset.text === text) return;
    node.dataset.text = text;
    node.replaceChildren(
      element("span", "", text),
      button("Show", () => onShow(shown), "secondary"),
      button("Dismiss", () => onDismiss(shown.map((booking) => booking.booking_id)), "secondary"),
    );
  }

  /** Forget the burst (its bookings were seen). */
  endBurst(ids = [...this.burstIds]) {
    for (const id of ids) this.burstIds.delete(id);
    if (this.burstIds.size === 0) {
      this.nodes.burst.hidden = true;
      delete this.nodes.burst.dataset.text;
    }
  }

  /** Count unseen bookings in the tab's title. */
  showUnseen(count) {
    document.title = titleFor(count, this.baseTitle);
  }

  /** Point at unseen bookings above or below the screen; clicking scrolls to the nearest. */
  showPill(elements) {
    const boxes = elements.map(({ node, id }) => ({ box: node.getBoundingClientRect(), id, node }));
    const where = offScreen(boxes, window.innerHeight);
    const pill = this.nodes.pill;
    const parts = [];
    if (where.above) parts.push(this.pillButton(`${where.above} new ↑`, where.up, elements));
    if (where.below) parts.push(this.pillButton(`${where.below} new ↓`, where.down, elements));
    pill.replaceChildren(...parts);
    pill.hidden = parts.length === 0;
  }

  pillButton(text, target, elements) {
    return button(text, () => {
      const found = elements.find((item) => item.id === target.id);
      found?.node.scrollIntoView({ block: "center" });
      found?.node.focus({ preventScroll: true });
    }, "pill");
  }

  /** Whether the user asked for alerts in this browser. */
  wanted() {
    return localStorage.getItem(ALERTS_KEY) === "on";
  }

  /** Show the Alerts button as the browser's permission allows. */
  showButton() {
    const permission = "Notification" in window ? Notification.permission : "denied";
    const { pressed, text } = alertsLabel(this.wanted(), permission);
    this.nodes.alertsButton.setAttribute("aria-pressed", String(pressed));
    this.nodes.alertsButton.textContent = text;
  }

  /** Turn alerts on (asking the browser) or off. */
  async toggle() {
    if (this.wanted() && Notification.permission === "granted") {
      localStorage.removeItem(ALERTS_KEY);
    } else {
      const permission = "Notification" in window ? await Notification.requestPermission() : "denied";
      localStorage.setItem(ALERTS_KEY, "on");
      this.chime();
      if (permission !== "granted") {
        this.toast("Desktop notifications are blocked in this browser's settings; allow them for this site to get alerts.");
      }
    }
    this.showButton();
  }

  /** Raise a desktop notification and a chime (in the tab holding the stream only). */
  notify(title, body, tag) {
    if (!this.isLeader() || !this.wanted()) return;
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(title, { body, tag });
      this.chime();
    }
  }

  chime() {
    try {
      this.audio ||= new AudioContext();
      const tone = this.audio.createOscillator();
      const volume = this.audio.createGain();
      tone.frequency.value = 880;
      volume.gain.value = 0.08;
      tone.connect(volume).connect(this.audio.destination);
      tone.start();
      tone.stop(this.audio.currentTime + 0.25);
    } catch {
      // No sound available: the notification and the live region still tell.
    }
  }
}
