"""Live booking events over Server-Sent Events, with the broker that fans them out."""

from __future__ import annotations

from functools import partial

from flask import Flask

from everfresh.signals import booking_created
from everfresh.sse.broker import Broker, RedisBroker
from everfresh.sse.publishing import catch_up_from_log, publish_booking_event
from everfresh.sse.views import bp


def init_app(app: Flask) -> None:
    """Give the app its broker, connect the booking signal to it, and mount the stream route."""
    queue_size = app.config["SSE_QUEUE_SIZE"]
    if app.config["REDIS_URL"]:
        broker = RedisBroker(queue_size, app.config["REDIS_URL"], app.config["REDIS_PREFIX"])
        broker.catch_up = partial(catch_up_from_log, app)
    else:
        broker = Broker(queue_size)
    app.extensions["everfresh.broker"] = broker
    booking_created.connect(publish_booking_event)
    app.register_blueprint(bp)
