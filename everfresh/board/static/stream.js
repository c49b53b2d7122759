// One event stream per browser and user: the tab holding a Web Lock streams and relays every
// frame to its sibling tabs over a BroadcastChannel; when it closes, the next tab in the
// lock's queue takes over from the last event id the tabs have seen.

const page = document.body.dataset;
const HEARTBEAT_MS = Number(page.heartbeatSeconds || 30) * 1000;
// EventSource hides the server's `: keep-alive` comments, so a quiet stream and a dead one
// look alike: after two heartbeats without a message the leader reconnects to find out.
const STALE_AFTER_MS = 2 * HEARTBEAT_MS;
// A check-up reconnect of a quiet stream takes milliseconds; only one that drags on is shown.
const RECONNECT_GRACE_MS = 3000;
// Reconnecting this long without success is shown as offline; the board keeps trying.
const OFFLINE_AFTER_MS = Math.max(15000, STALE_AFTER_MS);
// After the server refuses a stream (429, 5xx), wait this long, doubling up to the cap.
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;
// A laptop that slept lets timers fire late; a gap this long means the stream may be dead.
// Chrome runs a long-hidden tab's timers only once a minute, so a shorter gap proves nothing.
const SLEEP_GAP_MS = 150000;
const EVENT_TYPES = ["booking_created", "booking_updated"];

/**
 * Share one stream among the user's tabs.
 *
 * `onFrame({type, id, data})` receives every booking event once per tab, and
 * `{type: "replay_truncated"}` when the server could not replay all that was missed;
 * `onState(state)` receives "live", "reconnecting" or "offline"; `onRefused()` is asked (in
 * the leader only) whether a refused stream may be retried, and answers false when the
 * session is over.
 */
export class SharedStream {
  constructor(userId, { onFrame, onState, onRefused, onEnded }) {
    this.callbacks = { onFrame, onState, onRefused, onEnded };
    this.lockName = `everfresh-stream:${userId}`;
    this.channel = new BroadcastChannel(this.lockName);
    this.channel.onmessage = (message) => this.received(message.data);
    this.lastEventId = null;
    this.seen = new Set();
    this.seenOrder = [];
    this.state = null;
    this.leader = false;
    this.source = null;
    this.retryMs = FIRST_RETRY_MS;
    this.timers = { stale: 0, grace: 0, offline: 0, retry: 0, sleep: 0 };
    this.releaseLock = null;
    this.stopped = false;
  }

  /** Join the queue for the stream, and meanwhile listen to whichever tab holds it. */
  start() {
    if (!navigator.locks) {
      // Without Web Locks every tab streams for itself: more streams, nothing missed.
      this.lead();
      return;
    }
    // Leaving (logout) must also leave the queue, or a stale request would hold the lock.
    this.queue = new AbortController();
    navigator.locks
      .request(this.lockName, { signal: this.queue.signal }, () => {
        if (this.stopped) return null;
        return new Promise((release) => {
          this.releaseLock = release;
          this.lead();
        });
      })
      .catch(() => null);
    // Ask the current leader how its stream is doing.
    this.channel.postMessage({ kind: "hello" });
  }

  /** Close the stream (if this tab holds it) and hand the lock on. */
  stop() {
    this.stopped = true;
    this.queue?.abort();
    this.disconnect();
    for (const name of Object.keys(this.timers)) this.clearTimer(name);
    this.channel.close();
    if (this.releaseLock) this.releaseLock();
    this.releaseLock = null;
    this.leader = false;
  }

  /** Tell every other tab that the session is over (logout, or refused for good). */
  announceEnd(message) {
    this.channel.postMessage({ kind: "ended", message });
  }

  lead() {
    this.leader = true;
    this.setState("reconnecting");
    this.connect();
    this.watchForSleep();
  }

  received(message) {
    if (message.kind === "hello" && this.leader) {
      this.channel.postMessage({ kind: "state", state: this.state, lastEventId: this.lastEventId });
    } else if (message.kind === "frame" && !this.leader) {
      this.deliver(message.frame);
    } else if (message.kind === "state" && !this.leader) {
      if (message.lastEventId && !this.lastEventId) this.lastEventId = message.lastEventId;
      this.showState(message.state);
    } else if (message.kind === "ended") {
      this.callbacks.onEnded(message.message);
    }
  }

  deliver(frame) {
    if (frame.id) this.lastEventId = frame.id;
    if (frame.type === "greeting") return;
    // It has no id, so it is never deduplicated: each one asks for a fresh list.
    if (frame.type === "replay_truncated") return this.callbacks.onFrame(frame);
    if (this.seen.has(frame.id)) return;
    this.seen.add(frame.id);
    this.seenOrder.push(frame.id);
    if (this.seenOrder.length > 5000) this.seen.delete(this.seenOrder.shift());
    this.callbacks.onFrame(frame);
  }

  relay(frame) {
    this.deliver(frame);
    this.channel.postMessage({ kind: "frame", frame });
  }

  showState(state) {
    if (state === this.state) return;
    this.state = state;
    this.callbacks.onState(state);
  }

  setState(state) {
    // Once offline, the board says so until the stream is live again.
    if (state === "reconnecting" && this.state === "offline") return;
    this.showState(state);
    if (this.leader) this.channel.postMessage({ kind: "state", state, lastEventId: this.lastEventId });
    this.clearTimer("grace");
    if (state !== "reconnecting") this.clearTimer("offline");
    else if (!this.timers.offline) {
      this.timers.offline = setTimeout(() => {
        this.timers.offline = 0;
        this.setState("offline");
      }, OFFLINE_AFTER_MS);
    }
    if (state === "live") this.retryMs = FIRST_RETRY_MS;
  }

  clearTimer(name) {
    clearTimeout(this.timers[name]);
    this.timers[name] = 0;
  }

  // Any sign of life from the stream restarts the stale-stream watchdog.
  heardFromServer() {
    this.clearTimer("stale");
    this.timers.stale = setTimeout(() => this.checkQuietStream(), STALE_AFTER_MS);
  }

  checkQuietStream() {
    this.connect();
    this.timers.grace = setTimeout(() => this.setState("reconnecting"), RECONNECT_GRACE_MS);
  }

  // Timers stop while a laptop sleeps: a tick that comes far too late means it just woke,
  // and its stream is probably a dead socket nobody has noticed yet.
  watchForSleep() {
    let last = Date.now();
    const tick = () => {
      const now = Date.now();
      if (now - last > SLEEP_GAP_MS && this.source) this.reconnectNow();
      last = now;
      this.timers.sleep = setTimeout(tick, 2000);
    };
    this.timers.sleep = setTimeout(tick, 2000);
  }

  /** Reopen the stream at once (network back, laptop awake), resuming from the last id. */
  reconnectNow() {
    if (!this.leader) return;
    this.setState("reconnecting");
    this.connect();
  }

  /** Show the connection as offline until it comes back (the browser lost its network). */
  wentOffline() {
    if (this.leader) this.setState("offline");
  }

  disconnect() {
    if (this.source) this.source.close();
    this.source = null;
    for (const name of ["stale", "grace", "retry"]) this.clearTimer(name);
  }

  connect() {
    this.disconnect();
    // A stream the board reopens itself resumes where it left off; EventSource's own
    // reconnects send Last-Event-ID for it.
    const url = this.lastEventId
      ? `/sse/events?lastEventId=${encodeURIComponent(this.lastEventId)}`
      : "/sse/events";
    const source = new EventSource(url);
    this.source = source;
    // Also a connect timeout: a server that accepts but never answers counts as quiet.
    this.heardFromServer();
    source.onopen = () => this.heardFromServer();
    source.onmessage = (event) => {
      this.heardFromServer();
      if (parse(event.data)?.type !== "connection_established") return;
      // The greeting's id is where the stream subscribed: resuming from it leaves no gap.
      this.relay({ type: "greeting", id: event.lastEventId || this.lastEventId });
      this.setState("live");
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => {
        this.heardFromServer();
        const data = parse(event.data);
        if (data) this.relay({ type, id: event.lastEventId, data });
      });
    }
    source.addEventListener("replay_truncated", () => {
      // Too many missed events to replay: the list, read again, holds what was skipped.
      this.heardFromServer();
      this.relay({ type: "replay_truncated" });
    });
    source.addEventListener("server_shutdown", () => {
      // EventSource reconnects by itself after the server's jittered `retry:` delay.
      this.clearTimer("stale");
      this.setState("reconnecting");
    });
    source.onerror = () => {
      if (source !== this.source) return;
      this.clearTimer("stale");
      this.setState("reconnecting");
      if (source.readyState === EventSource.CLOSED) this.refused();
    };
  }

  // EventSource gives up for good after a non-200 answer: find out why, then retry ourselves.
  async refused() {
    this.disconnect();
    if (!(await this.callbacks.onRefused())) return;
    this.timers.retry = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}

function parse(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}
