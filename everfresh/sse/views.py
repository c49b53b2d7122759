"""Serve `GET /sse/events`, the live stream of a company's booking events."""

from __future__ import annotations

import socket

from flask import Blueprint, Response, abort, current_app, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from werkzeug.exceptions import TooManyRequests

from everfresh.auth.access import STAFF_ROLES, caller, visible_company_id
from everfresh.eventlog.models import log_position
from everfresh.extensions import db
from everfresh.sse.broker import Broker, Draining
from everfresh.sse.frames import retry_only_frame
from everfresh.sse.limits import RETRY_AFTER_SECONDS, StreamLimiter
from everfresh.sse.replay import last_event_id, replay_since
from everfresh.sse.streams import stream_frames

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


def _event_stream(body: object) -> Response:
    return Response(body, content_type=STREAM_CONTENT_TYPE, headers=STREAM_HEADERS)


@bp.get("/sse/events")
def events():
    """Stream the caller's company's booking events (every company's for a superadmin)."""
    verify_jwt_in_request(locations=_token_locations())
    user = caller()
    if user.role not in STAFF_ROLES:
        abort(403, "Only staff, admins and superadmins may watch bookings live.")
    company_id = visible_company_id(request.args.get("company_id"))
    claims = get_jwt()
    expires_at, token_id = float(claims["exp"]), claims["jti"]
    user_id = user.id
    streams, limits = broker(), limiter()
    if request.method == "HEAD":
        # Headers only: no body will ever be read, so take no subscription and no slot.
        return _event_stream(())
    if streams.draining:
        # EventSource gives up for good after a non-200, so a draining worker says "come back".
        return _event_stream([retry_only_frame()])

    lease = limits.acquire(user_id)
    if lease is None:
        raise TooManyRequests(
            f"At most {limits.max_streams} open streams per user.",
            retry_after=RETRY_AFTER_SECONDS,
        )
    try:
        # Subscribe before reading the log, so nothing committed in between is missed.
        subscriber = streams.subscribe(company_id, user_id, expires_at, token_id)
    except Draining:
        limits.release(user_id, lease)
        return _event_stream([retry_only_frame()])

    def on_close() -> None:
        streams.unsubscribe(subscriber)
        limits.release(user_id, lease)

    try:
        # Read after subscribing: whatever commits later reaches the stream live.
        position = log_position()
        streams.note_log_position(position)
        after = last_event_id()
        replay = replay_since(after, company_id) if after is not None else []
    except BaseException:
        on_close()
        raise
    # An open stream must never hold a database connection.
    db.session.remove()
    current_app.extensions["everfresh.stream_guard"].start()
    _bound_send_buffer()
    resume_from = after if after is not None else position
    return _event_stream(stream_frames(subscriber, resume_from, replay, on_close))
