"""Describe the event stream for the API document, and its frames that are not booking events."""

from __future__ import annotations

from typing import Literal

from everfresh.web.responses import Answer

STREAM_DESCRIPTION = """\
A Server-Sent Events stream (`text/event-stream`) of the caller's company's bookings; a
superadmin sees every company's, or one company's with `?company_id=`. No, invalid or
expired token: 401 JSON; role `customer`: 403 JSON; too many open streams: 429 JSON with
`Retry-After`. The board's HttpOnly access cookie is accepted too, from its own origin only.

Frames, each ended by a blank line:

- `connection_established`, written at once: an unnamed message (`data:` only), so
  `EventSource.onmessage` receives it. A `retry:` line may come first.
- `booking_created` (`id: <event id>`, `event: booking_created`), for each booking created
  in the stream's scope; the data holds the nine documented keys plus `company_id`.
- `: keep-alive`, a comment, every `SSE_HEARTBEAT_SECONDS` (default 30) on an idle stream.
- `server_shutdown` (`event: server_shutdown`, with a jittered `retry:`), when the server
  stops; the stream then ends and the client reconnects after the `retry:` delay.

Reconnect with `Last-Event-ID: <id>` (or `?lastEventId=<id>`) to receive, in order, every
event after that id still in the replay window, then live events, with no gap and no
duplicate. The stream also ends when its access token expires: reconnect with a fresh one.
"""

STREAM_EXAMPLE = (
    'data: {"type":"connection_established","message":"Connected to SSE server"}\n\n'
    "id: 42\nevent: booking_created\n"
    'data: {"booking_id":"01JD4Z6M3Q5Y7C9V2B4N6R8T0W","booking_number":"BK-1001",'
    '"customer_id":"cust_01JD4Z6M3Q5Y7C9V2B4N6R8T0X","service_id":"serv_01JD4Z6M3Q5Y7C9V2B4N6R8T0Y",'
    '"staff_id":null,"scheduled_date":"2026-12-01T00:00:00.000Z","scheduled_time_start":"10:00",'
    '"status":"pending","created_at":"2026-11-26T14:30:00.123Z",'
    '"company_id":"comp_01JD4Z6M3Q5Y7C9V2B4N6R8T0Z"}\n\n'
    ": keep-alive\n\n"
    'retry: 3127\nevent: server_shutdown\ndata: {"message":"Server shutting down"}\n\n'
)


class ConnectionEstablished(Answer):
    """The first frame of every stream: an unnamed message, so `onmessage` receives it."""

    type: Literal["connection_established"]
    message: Literal["Connected to SSE server"]


class ServerShutdown(Answer):
    """The data of the `server_shutdown` frame, sent to every stream before the server stops."""

    message: Literal["Server shutting down"]
