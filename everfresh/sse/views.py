"""Serve `GET /sse/events`, the live stream of a company's booking events."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from flask_jwt_extended import get_jwt
from werkzeug.exceptions import TooManyRequests

from everfresh.auth.access import STAFF_ROLES, caller
from everfresh.auth.denylist import TokenChecksBusy
from everfresh.bookings.schemas import BookingCreatedEvent, BookingUpdatedEvent
from everfresh.errors import DATABASE_UNAVAILABLE
from everfresh.extensions import db
from everfresh.redis_clients import RedisBusy
from everfresh.sse.broker import Broker, Closed, Draining, Subscriber
from everfresh.sse.frames import EventFrame, retry_only_frame
from everfresh.sse.hangups import watch_for_hangup
from everfresh.sse.limits import RETRY_AFTER_SECONDS, StreamLimiter
from everfresh.sse.replay import last_event_id, read_hole
from everfresh.sse.resume import missed_events
from everfresh.sse.schemas import (
    STREAM_DESCRIPTION,
    STREAM_EXAMPLE,
    ConnectionEstablished,
    ReplayTruncated,
    ServerShutdown,
)
from everfresh.sse.streams import HoleReader, stream_frames
from everfresh.tenancy import visible_company_id
from everfresh.web.endpoints import Parameter, endpoint

bp = Blueprint("sse", __name__)

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
STREAM_CONTENT_TYPE = "text/event-stream"


def broker() -> Broker:
    """Return the current app's broker."""
    return current_app.extensions["everfresh.broker"]


def limiter() -> StreamLimiter:
    """Return the current app's per-user stream limiter."""
    return current_app.extensions["everfresh.stream_limiter"]


def _token_locations() -> list[str]:
    locations = ["headers"]
    # The board's native EventSource cannot send headers, only its HttpOnly cookie. Browsers
    # send `Origin` on cross-origin requests only, so a page elsewhere never streams by cookie.
    origin = request.headers.get("Origin")
    if origin is None or origin == request.host_url.rstrip("/"):
        locations.append("cookies")
    if current_app.config["SSE_QUERY_TOKEN"]:
        locations.append("query_string")
    return locations


def _bound_send_buffer() -> None:
    # Linux grows a socket's send buffer up to 4 MB for a client that stops reading; a fixed
    # buffer bounds that memory and lets the bounded queue notice the stuck client sooner.
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, current_app.config["SSE_SEND_BUFFER_BYTES"]
        )


class EventStreamResponse(Response):
    """A stream's response, whose frames gunicorn takes straight from the generator.

    Werkzeug wraps a body in two iterator layers that each frame passes through; every open
    stream parks inside them, and each layer deepens the stack the stream's greenlet keeps
    while it waits. Closing the body still closes the response, running its close callbacks.
    """

    def get_app_iter(self, environ: dict[str, Any]) -> Iterable[bytes]:
        """Return the body for gunicorn to iterate directly, closing the response with it."""
        if environ["REQUEST_METHOD"] == "HEAD":
            return super().get_app_iter(environ)
        return DirectBody(self.response, self.close)


class DirectBody:
    """A WSGI body whose iterator is the stream's own generator, with the response's close."""

    __slots__ = ("_frames", "close")

    def __init__(self, frames: Iterable[bytes], close: Callable[[], None]) -> None:
        self._frames = frames
        self.close = close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._frames)


def _event_stream(body: Iterable[bytes]) -> Response:
    return EventStreamResponse(body, content_type=STREAM_CONTENT_TYPE, headers=STREAM_HEADERS)


def _come_back_later(_error: Exception) -> Response:
    # EventSource gives up for good after a non-200: while the database is down, a new stream
    # (its token check included) is told to come back, as a draining worker does. Open streams
    # hold no connection and go on.
    db.session.remove()
    return _event_stream([retry_only_frame()])


for _unavailable in (*DATABASE_UNAVAILABLE, TokenChecksBusy):
    bp.register_error_handler(_unavailable, _come_back_later)


@bp.get("/sse/events")
@endpoint(
    "Events",
    roles=STAFF_ROLES,
    token_locations=_token_locations,
    refusal="Only staff, admins and superadmins may watch bookings live.",
    content={
        "text/event-stream": {
            "schema": {"type": "string", "description": "Server-Sent Events frames."},
            "example": STREAM_EXAMPLE,
        }
    },
    response_description="The event stream; see the frames below.",
    errors=(404, 429),
    description=STREAM_DESCRIPTION,
    parameters=(
        Parameter("company_id", "query", "Superadmin only: one company's events."),
        Parameter(
            "Last-Event-ID",
            "header",
            "Replay every event after this id, then stream live; the greeting echoes it.",
            schema={"type": "string", "pattern": "^[0-9]+$"},
        ),
        Parameter(
            "lastEventId",
            "query",
            "The same as `Last-Event-ID`, for clients that cannot set headers.",
            schema={"type": "string", "pattern": "^[0-9]+$"},
        ),
        Parameter(
            "token",
            "query",
            "An access token, for clients that cannot send headers.",
            setting="SSE_QUERY_TOKEN",
        ),
    ),
    events={
        "connection_established": ConnectionEstablished,
        "booking_created": BookingCreatedEvent,
        "booking_updated": BookingUpdatedEvent,
        "replay_truncated": ReplayTruncated,
        "server_shutdown": ServerShutdown,
    },
)
def events():
    """Stream the caller's company's booking events (every company's for a superadmin)."""
    user = caller()
    company_id = visible_company_id(request.args.get("company_id"))
    claims = get_jwt()
    expires_at, token_id = float(claims["exp"]), claims["jti"]
    issued_at = float(claims["iat"])
    user_id = user.id
    streams, limits = broker(), limiter()
    # Done with the request's own session: what follows reads in batches shared with the
    # streams connecting alongside, and SQLite has a single connection to share.
    db.session.remove()
    if request.method == "HEAD":
        # Headers only: no body will ever be read, so take no subscription and no slot.
        return _event_stream(())
    if streams.draining:
        # EventSource gives up for good after a non-200, so a draining worker says "come back".
        return _event_stream([retry_only_frame()])

    try:
        lease = limits.acquire(user_id)
    except RedisBusy:
        # Slots are counted in Redis, which answers but not in time: come back, uncounted
        # streams never.
        return _event_stream([retry_only_frame()])
    if lease is None:
        raise TooManyRequests(
            f"At most {limits.max_streams} open streams per user.",
            retry_after=RETRY_AFTER_SECONDS,
        )
    try:
        # Subscribe before reading the log, so nothing committed in between is missed.
        subscriber = streams.subscribe(company_id, user_id, expires_at, token_id, issued_at)
    except Draining:
        limits.release(user_id, lease)
        return _event_stream([retry_only_frame()])

    # The slot and the subscription go back as soon as the client hangs up.
    stop_watching = watch_for_hangup(
        request.environ.get("gunicorn.socket"), lambda: subscriber.close(Closed.DISCONNECTED)
    )

    def on_close() -> None:
        stop_watching()
        streams.unsubscribe(subscriber)
        limits.release(user_id, lease)

    app = current_app._get_current_object()
    try:
        # Read after subscribing: whatever commits later reaches the stream live.
        start, replay = missed_events(app, streams, subscriber, last_event_id())
    except BaseException:
        on_close()
        raise
    # An open stream must never hold a database connection; a replay takes one per page.
    db.session.remove()
    subscriber.reading_log = False
    current_app.extensions["everfresh.stream_guard"].start()
    _bound_send_buffer()
    return _event_stream(
        stream_frames(subscriber, start, replay, _hole_reader(app, subscriber), on_close)
    )


def _hole_reader(app: Flask, subscriber: Subscriber) -> HoleReader:
    """Return how a stream reads, from the log, events of its scope that never reached it."""

    def read(first: int, last: int, waiting: int) -> list[EventFrame]:
        subscriber.reading_log = True
        try:
            with app.app_context():
                try:
                    envelopes = read_hole(subscriber.company_id, first, last, waiting)
                finally:
                    db.session.remove()
        finally:
            subscriber.reading_log = False
        return [envelope.frame for envelope in envelopes]

    return read
