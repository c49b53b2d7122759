"""Describe the event stream for the API document, and its frames that are not booking events."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from everfresh.web.responses import Answer

STREAM_DESCRIPTION = """\
A Server-Sent Events stream (`text/event-stream`) of the caller's company's bookings; a
superadmin sees every company's, or one company's with `?company_id=`. No, invalid or
expired token: 401 JSON; role `customer`: 403 JSON; too many open streams: 429 JSON with
`Retry-After`. The board's HttpOnly access cookie is accepted too, from its own origin only.

Frames, each ended by a blank line:

- `connection_established`, written at once: an unnamed message, so `EventSource.onmessage`
  receives it. A `retry:` line may come first. Its `id:` is the stream's resume point: the
  client's own last id when it sent one, else the log's position when the stream
  subscribed, so a client that drops before any other frame still resumes without a gap.
  No other control frame has an `id:`.
- `booking_created` (`id: <event id>`, `event: booking_created`), for each booking created
  in the stream's scope; the data holds the nine documented keys plus `company_id`.
- `booking_updated` (`id: <event id>`, `event: booking_updated`), for each committed change
  to a booking (`PATCH /bookings/<id>`; a cancellation is one whose status is `cancelled`):
  the same ten keys holding the state after the change, then `updated_at` and `changes`,
  the sorted names of the fields that changed. A PATCH that changes nothing sends nothing.
  Named events reach only their own listeners, never `onmessage`.
- `replay_truncated` (`event: replay_truncated`, no `id:`), when a reconnect missed more than
  `SSE_REPLAY_MAX_EVENTS` (default 10000) events: it follows the first that many, and its
  data is `{"message":"Too many missed events to replay; reload the list, then listen
  live.","last_event_id":<id>}`. Reload the list now: every event after `last_event_id`
  (the log's position when the replay stopped) then arrives live. Having no `id:`, it
  leaves the resume point at the last event received, so a client that drops before
  reloading is told again when it reconnects.
- `: keep-alive`, a comment, every `SSE_HEARTBEAT_SECONDS` (default 30) on an idle stream.
- `server_shutdown` (`event: server_shutdown`, with a jittered `retry:`), when the server
  stops; the stream then ends and the client reconnects after the `retry:` delay.

Event ids follow commit order across every company. Reconnect with `Last-Event-ID: <id>`
(or `?lastEventId=<id>`) to receive, in order, every event of the stream's scope after that
id still in the replay window (up to `SSE_REPLAY_MAX_EVENTS`, see `replay_truncated`), then
live events, with no gap and no duplicate; this holds
for a superadmin's stream of every company too. An id beyond the log's last one resumes from
the last one (the greeting's `id:` says so). A stream never sends an event before every
earlier one of its scope (by the company's sequence; by event id for every company's events):
a late one is read from the event log first, and if the log cannot be read the stream ends
with a `retry:` line so the client resumes by replay. The stream also ends when its access token
expires (reconnect with a fresh one), or within one heartbeat of that token being revoked
(`POST /auth/logout`, `DELETE /auth/session`) or of its user losing access.
"""

STREAM_EXAMPLE = (
    'id: 41\ndata: {"type":"connection_established","message":"Connected to SSE server"}\n\n'
    "id: 42\nevent: booking_created\n"
    'data: {"booking_id":"01JD4Z6M3Q5Y7C9V2B4N6R8T0W","booking_number":"BK-1001",'
    '"customer_id":"cust_01JD4Z6M3Q5Y7C9V2B4N6R8T0X","service_id":"serv_01JD4Z6M3Q5Y7C9V2B4N6R8T0Y",'
    '"staff_id":null,"scheduled_date":"2026-12-01T00:00:00.000Z","scheduled_time_start":"10:00",'
    '"status":"pending","created_at":"2026-11-26T14:30:00.123Z",'
    '"company_id":"comp_01JD4Z6M3Q5Y7C9V2B4N6R8T0Z"}\n\n'
    "id: 43\nevent: booking_updated\n"
    'data: {"booking_id":"01JD4Z6M3Q5Y7C9V2B4N6R8T0W","booking_number":"BK-1001",'
    '"customer_id":"cust_01JD4Z6M3Q5Y7C9V2B4N6R8T0X","service_id":"serv_01JD4Z6M3Q5Y7C9V2B4N6R8T0Y",'
    '"staff_id":"staff_01JD4Z6M3Q5Y7C9V2B4N6R8T10","scheduled_date":"2026-12-01T00:00:00.000Z",'
    '"scheduled_time_start":"10:00","status":"confirmed","created_at":"2026-11-26T14:30:00.123Z",'
    '"company_id":"comp_01JD4Z6M3Q5Y7C9V2B4N6R8T0Z","updated_at":"2026-11-26T15:02:11.480Z",'
    '"changes":["staff_id","status"]}\n\n'
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


class ReplayTruncated(Answer):
    """The data of the `replay_truncated` frame: too many missed events; reload, then go live."""

    message: Literal["Too many missed events to replay; reload the list, then listen live."]
    last_event_id: int = Field(
        description="The log's position when the replay stopped: every later event arrives live.",
        ge=0,
    )
