"""The floor of this stack: a bare Flask generator parked on a gevent queue.

No auth, no database, no heartbeat, no tenancy: `GET /stream` greets and then yields
whatever lands in its queue; `POST /bookings` builds one frame of exactly the shape and
size of EverFresh's `booking_created` frame and puts it into every queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import count

from flask import Flask, Response, request
from gevent.queue import Queue
from ulid import ULID

from bench.apps.booking_payload import booking_payload

GREETING = b'data: {"type":"connection_established","message":"Connected to SSE server"}\n\n'
COMPANY_ID = "comp_" + str(ULID())

app = Flask(__name__)
queues: set[Queue] = set()
event_ids = count(1)
booking_numbers = count(1001)


@app.get("/stream")
def stream() -> Response:
    """Greet, then stream every frame put into this stream's queue."""
    queue: Queue = Queue()
    queues.add(queue)

    def frames() -> Iterator[bytes]:
        try:
            yield GREETING
            while True:
                yield queue.get()
        finally:
            queues.discard(queue)

    return Response(frames(), content_type="text/event-stream")


@app.post("/bookings")
def create_booking() -> tuple[dict, int]:
    """Put one booking-sized frame into every stream's queue."""
    payload = booking_payload(request.get_json(), COMPANY_ID, next(booking_numbers))
    data = json.dumps(payload, separators=(",", ":"))
    frame = f"id: {next(event_ids)}\nevent: booking_created\ndata: {data}\n\n".encode()
    for queue in queues:
        queue.put_nowait(frame)
    return payload, 201
