// Run the customer's documented event-source-polyfill snippet as an SPA on another origin
// would, recording what it logs so the test can read it: open with #api=<base URL>&token=<jwt>.

// What `import { EventSourcePolyfill } from 'event-source-polyfill'` gives a bundled SPA.
const { EventSourcePolyfill } = window;

const settings = new URLSearchParams(window.location.hash.slice(1));
const API_URL = settings.get("api");
const received = { logs: [], warnings: [], errors: [], bookings: [] };
window.received = received;

const levels = { log: received.logs, warn: received.warnings, error: received.errors };
for (const [level, list] of Object.entries(levels)) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    list.push(args.map((arg) => (arg instanceof Event ? arg.type : arg)));
    original(...args);
  };
}
const updateBookingList = (booking) => received.bookings.push(booking);

// ---- From realtime-events.md, "Using event-source-polyfill", unchanged. ----
const connectSSE = (token) => {
  const eventSource = new EventSourcePolyfill(`${API_URL}/sse/events`, {
    headers: {
      Authorization: `Bearer ${token}`
    },
    heartbeatTimeout: 45000 // slightly higher than server heartbeat (30s)
  });

  eventSource.onmessage = (event) => {
    const data = JSON.parse(event.data);
    console.log('Received generic message:', data);
  };

  eventSource.addEventListener('booking_created', (event) => {
    const booking = JSON.parse(event.data);
    console.log('New Booking Created:', booking);
    // Refresh booking list or add to state
    updateBookingList(booking);
  });

  eventSource.addEventListener('server_shutdown', (event) => {
    console.warn('Server shutting down');
    eventSource.close();
  });

  eventSource.onerror = (err) => {
    console.error('SSE Error:', err);
    // Polyfill usually handles reconnect, but you can add custom logic here
  };

  return eventSource;
};
// ---- End of the documented snippet. ----

window.eventSource = connectSSE(settings.get("token"));
