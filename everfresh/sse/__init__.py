"""Live booking events over Server-Sent Events, with the broker that fans them out."""

from __future__ import annotations

from functools import partial

from flask import Flask

from everfresh.signals import booking_created, booking_updated
from everfresh.sse.broker import Broker, RedisBroker, RedisClusterBroker
from everfresh.sse.busy import RequestsInFlight
from everfresh.sse.frames import KEEP_ALIVE
from everfresh.sse.guard import StreamGuard
from everfresh.sse.limits import RedisStreamLimiter, StreamLimiter
from everfresh.sse.publishing import (
    catch_up_from_log,
    publish_booking_event,
    read_hole_from_log,
)
from everfresh.sse.views import bp


def init_app(app: Flask) -> None:
    """Give the app its broker, stream limiter and guard, connect the signal, mount the route."""
    streams = (app.config["SSE_QUEUE_SIZE"], app.config["SSE_HEARTBEAT_SECONDS"], KEEP_ALIVE)
    max_streams = app.config["SSE_MAX_STREAMS_PER_USER"]
    redis_url, prefix = app.config["REDIS_URL"], app.config["REDIS_PREFIX"]
    cluster = app.config["REDIS_CLUSTER"]
    if redis_url:
        broker_class = RedisClusterBroker if cluster else RedisBroker
        broker = broker_class(*streams, redis_url, prefix)
        broker.catch_up = partial(catch_up_from_log, app)
        limiter = RedisStreamLimiter(max_streams, redis_url, prefix, cluster)
    else:
        broker = Broker(*streams)
        limiter = StreamLimiter(max_streams)
    broker.read_log = partial(read_hole_from_log, app)
    # Frames wait briefly for company only while the worker serves other requests.
    requests_in_flight = RequestsInFlight()
    requests_in_flight.init_app(app)
    broker.busy = requests_in_flight.busy
    app.extensions["everfresh.broker"] = broker
    app.extensions["everfresh.stream_limiter"] = limiter
    app.extensions["everfresh.stream_guard"] = StreamGuard(app, broker)
    booking_created.connect(publish_booking_event)
    booking_updated.connect(publish_booking_event)
    app.register_blueprint(bp)
