"""Probe every dependency requests rely on, all at once, each within a short deadline."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import gevent
from flask import Flask
from sqlalchemy import Engine, text

from everfresh.extensions import db, limiter

# Long enough for a healthy round trip under load, short enough that a load balancer's
# probe (typically a few seconds) gets an answer even when every dependency hangs.
CHECK_SECONDS = 1.0

Probe = Callable[[], object]


def database_answers(engine: Engine) -> bool:
    """Run `SELECT 1` on a connection of its own, so no request's session is touched."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True


def dependency_probes(app: Flask) -> dict[str, Probe]:
    """Return a probe per dependency: the database, and each use of Redis when configured.

    Each Redis probe goes through the client that use really holds (all made by
    `everfresh.redis_clients`; the login limits' storage by flask-limiter from the same
    settings), so a check is only "ok" when the connection that use needs answers.
    """
    probes: dict[str, Probe] = {"database": partial(database_answers, db.engine)}
    if app.config["REDIS_URL"]:
        probes["redis_broker"] = app.extensions["everfresh.broker"].ping
        probes["redis_stream_leases"] = app.extensions["everfresh.stream_limiter"].ping
        probes["redis_denylist"] = app.extensions["everfresh.denylist"].ping
        probes["redis_login_limits"] = limiter.storage.check
    return probes


def probe_state(probe: Probe, seconds: float) -> str:
    """Return "ok", "unreachable" (it failed or said no) or "timeout" (no answer in time)."""
    try:
        with gevent.Timeout(seconds):
            return "ok" if probe() else "unreachable"
    except gevent.Timeout:
        return "timeout"
    except Exception:
        # Whatever a driver raises while its server is down, the answer is the same.
        return "unreachable"


def check_dependencies(probes: dict[str, Probe], seconds: float = CHECK_SECONDS) -> dict[str, str]:
    """Run every probe concurrently and return each one's state, named as in `probes`."""
    greenlets = {name: gevent.spawn(probe_state, probe, seconds) for name, probe in probes.items()}
    # Each probe ends itself at `seconds`; the margin only covers a probe stuck outside gevent.
    gevent.joinall(list(greenlets.values()), timeout=seconds + 0.5)
    states = {}
    for name, greenlet in greenlets.items():
        if greenlet.ready():
            states[name] = greenlet.value
        else:
            greenlet.kill(block=False)
            states[name] = "timeout"
    return states
