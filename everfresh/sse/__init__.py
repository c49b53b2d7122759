"""Live booking events over Server-Sent Events, with the broker that fans them out."""

from __future__ import annotations

from functools import partial

from flask import Flask

from everfresh.auth.connect_checks import EXTENSION_KEY as CONNECT_CHECKS_KEY
from everfresh.signals import booking_created, booking_updated
from everfresh.sse.broker import Broker, RedisBroker, RedisClusterBroker
from everfresh.sse.budget import RedisReplayBudget, ReplayBudget
from everfresh.sse.busy import RequestsInFlight
from everfresh.sse.frames import KEEP_ALIVE
from everfresh.sse.guard import StreamGuard
from everfresh.sse.limits import RedisStreamLimiter, StreamLimiter
from everfresh.sse.publishing import (
    catch_up_from_log,
    publish_booking_event,
    read_hole_from_log,
    recent_from_log,
)
from everfresh.sse.replay import REPLAY_BUDGET_KEY, SHARED_READS_KEY
from everfresh.sse.shared_reads import SharedReads
from everfresh.sse.views import bp


def init_app(app: Flask) -> None:
    """Give the app its broker, stream limits and guard, connect the signal, mount the route."""
    streams = (app.config["SSE_QUEUE_SIZE"], app.config["SSE_HEARTBEAT_SECONDS"], KEEP_ALIVE)
    max_streams = app.config["SSE_MAX_STREAMS_PER_USER"]
    redis_url, prefix = app.config["REDIS_URL"], app.config["REDIS_PREFIX"]
    cluster = app.config["REDIS_CLUSTER"]
    budget_per_minute = app.config["SSE_REPLAY_BUDGET_PER_MINUTE"]
    if redis_url:
        broker_class = RedisClusterBroker if cluster else RedisBroker
        broker = broker_class(*streams, redis_url, prefix)
        broker.catch_up = partial(catch_up_from_log, app)
        limiter = RedisStreamLimiter(max_streams, redis_url, prefix, cluster)
        budget = RedisReplayBudget(budget_per_minute, redis_url, prefix, cluster)
    else:
        broker = Broker(*streams)
        limiter = StreamLimiter(max_streams)
        budget = ReplayBudget(budget_per_minute)
    broker.read_log = partial(read_hole_from_log, app)
    broker.read_recent = partial(recent_from_log, app)
    # Frames wait briefly for company only while the worker serves other requests.
    requests_in_flight = RequestsInFlight()
    requests_in_flight.init_app(app)
    broker.busy = requests_in_flight.busy
    app.extensions["everfresh.broker"] = broker
    app.extensions["everfresh.stream_limiter"] = limiter
    app.extensions["everfresh.stream_guard"] = StreamGuard(app, broker)
    app.extensions[REPLAY_BUDGET_KEY] = budget
    app.extensions[SHARED_READS_KEY] = SharedReads(app)
    # Streams connect in storms (every client of a restarted worker at once): their token
    # checks are batched.
    app.extensions[CONNECT_CHECKS_KEY].endpoints.add("sse.events")
    booking_created.connect(publish_booking_event)
    booking_updated.connect(publish_booking_event)
    app.register_blueprint(bp)
