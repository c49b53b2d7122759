// Follow GET /sse/events with the `eventsource` npm package, as a Node client would, and print
// one JSON line per thing that happens: each connection attempt (with the Last-Event-ID it
// sends), each message and event, and each error. Usage: node resume.mjs <url> <token>
import { EventSource } from 'eventsource';

const [url, token] = process.argv.slice(2);
const report = (fields) => process.stdout.write(`${JSON.stringify(fields)}\n`);

const source = new EventSource(url, {
  fetch: (input, init) => {
    report({ kind: 'connect', lastEventId: init.headers['Last-Event-ID'] ?? null });
    return fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
  },
});

const forward = (event) => report({ kind: event.type, id: event.lastEventId, data: event.data });
source.onmessage = forward;
for (const name of ['booking_created', 'booking_updated', 'server_shutdown']) {
  source.addEventListener(name, forward);
}
source.onerror = () => report({ kind: 'error' });
