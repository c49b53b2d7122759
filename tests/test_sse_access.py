"""Check who may keep a stream: per-user limits, the access guard, and draining workers."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from everfresh import create_app
from everfresh.auth.models import Role, User
from everfresh.extensions import db
from everfresh.sse.broker import Broker, Closed
from everfresh.sse.frames import connection_established_frame
from everfresh.sse.guard import StreamGuard
from everfresh.sse.limits import RETRY_AFTER_SECONDS
from tests.live import PrivateRedis, free_port, reset_to_demo
from tests.polling import wait_for


def open_stream(client, headers):
    response = client.get("/sse/events", headers=headers, buffered=False)
    chunks = iter(response.response)
    if response.status_code == 200:
        assert next(chunks) == connection_established_frame(0)
    return response, chunks


def test_streams_beyond_the_per_user_limit_get_429_with_retry_after(app, client, login_as):
    app.config["SSE_MAX_STREAMS_PER_USER"] = 2
    app.extensions["everfresh.stream_limiter"].max_streams = 2
    headers = login_as("staff")
    first, _ = open_stream(client, headers)
    second, _ = open_stream(client, headers)

    refused = client.get("/sse/events", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert refused.json["error"]["message"] == "At most 2 open streams per user."
    # Another user is not affected.
    other, _ = open_stream(client, login_as("admin"))
    assert other.status_code == 200

    first.close()
    again, _ = open_stream(client, headers)
    assert again.status_code == 200
    for response in (second, other, again):
        response.close()


def test_the_limit_is_shared_by_every_worker_through_redis(database_url, redis_url, redis_prefix):
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "SSE_MAX_STREAMS_PER_USER": 2,
    }
    workers = [
        create_app(settings, environment="testing"),
        create_app(settings, environment="testing"),
    ]
    with workers[0].app_context():
        db.create_all()
        from everfresh.demo import seed_demo_logins

        if db.session.scalars(db.select(User)).first() is None:
            seed_demo_logins()
        user = db.session.scalars(db.select(User).where(User.role == Role.STAFF)).first()
        user_id = user.id
    limiters = [app.extensions["everfresh.stream_limiter"] for app in workers]

    first = limiters[0].acquire(user_id)
    second = limiters[1].acquire(user_id)
    assert first and second
    assert limiters[0].acquire(user_id) is None
    assert limiters[1].acquire(user_id) is None
    limiters[0].release(user_id, first)
    third = limiters[1].acquire(user_id)
    assert third is not None
    for lease in (second, third):
        limiters[1].release(user_id, lease)


def test_a_dead_workers_leases_lapse_instead_of_locking_the_user_out(redis_url, redis_prefix):
    from everfresh.sse.limits import RedisStreamLimiter

    crashed = RedisStreamLimiter(1, redis_url, redis_prefix)
    # Long enough that the survivor's first try surely falls within it, on a busy machine too.
    crashed.LEASE_SECONDS = 4
    assert crashed.acquire("user_1") is not None
    survivor = RedisStreamLimiter(1, redis_url, redis_prefix)
    assert survivor.acquire("user_1") is None
    # The crashed worker renews nothing (time.sleep does not run its greenlets).
    lease = wait_for(lambda: survivor.acquire("user_1"), timeout=15)
    survivor.release("user_1", lease)


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        {"role": Role.CUSTOMER},
        {"company_id": "other"},
    ],
    ids=["deactivated", "demoted", "moved"],
)
def test_the_guard_ends_streams_of_users_who_lose_access(app, client, login_as, tenants, change):
    staff, _ = open_stream(client, login_as("staff"))
    admin, admin_chunks = open_stream(client, login_as("admin"))
    staff_chunks = iter(staff.response)
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "staff@everfresh.test")).one()
        if change.get("company_id") == "other":
            change = {"company_id": tenants["brighthome"].company_id}
        for name, value in change.items():
            setattr(user, name, value)
        db.session.commit()

    assert app.extensions["everfresh.stream_guard"].check_once() == 1
    assert list(staff_chunks) == []
    assert next(admin_chunks) == b": keep-alive\n\n"
    admin.close()


def test_a_draining_worker_answers_200_with_only_a_retry(app, client, login_as):
    app.extensions["everfresh.broker"].shutdown()
    response = client.get("/sse/events", headers=login_as("staff"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    body = response.get_data()
    assert body.startswith(b"retry: ") and body.endswith(b"\n\n")
    assert 1000 <= int(body[len("retry: ") : -2]) <= 5000


def test_closing_a_stream_releases_its_subscription_and_slot(app, client, login_as):
    broker = app.extensions["everfresh.broker"]
    responses = [open_stream(client, login_as("staff"))[0] for _ in range(3)]
    assert broker.subscriber_count == 3
    for response in responses:
        response.close()
    assert broker.subscriber_count == 0
    assert dict(app.extensions["everfresh.stream_limiter"]._open) == {}


@pytest.fixture
def lone_cluster_node(tmp_path) -> Iterator[PrivateRedis]:
    """Run a Redis Cluster of one node holding every slot, to stop when the test says."""
    import redis

    node = PrivateRedis()
    node.process = subprocess.Popen(
        ["redis-server", "--port", str(node.port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--cluster-enabled", "yes", "--dir", str(tmp_path)]
        # Given explicitly: port + 10000, the default, may lie above 65535 or be taken.
        + ["--cluster-port", str(free_port())],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=node.port, socket_connect_timeout=0.2)
        wait_for(lambda: _answers(client), timeout=30)
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_for(lambda: client.cluster("INFO")["cluster_state"] == "ok", timeout=30)
        client.close()
        yield node
    finally:
        node.stop()


def _answers(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def test_the_guard_ends_a_deactivated_users_stream_during_a_whole_cluster_outage(
    database_url, lone_cluster_node
):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": lone_cluster_node.url,
            "REDIS_CLUSTER": True,
        },
        environment="testing",
    )
    # A broker of this process alone: the guard's denylist is what talks to the cluster.
    broker = Broker(queue_size=10, heartbeat_seconds=30, heartbeat=b": keep-alive\n\n")
    with app.app_context():
        reset_to_demo()
        staff = db.session.scalars(
            db.select(User).where(User.email == "staff@everfresh.test")
        ).one()
        subscriber = broker.subscribe(staff.company_id, staff.id, time.time() + 600, "a-token-id")
        staff.active = False
        db.session.commit()
    lone_cluster_node.stop()

    # The cluster client cannot reach any node at all, which is no redis.RedisError.
    assert StreamGuard(app, broker).check_once() == 1
    assert subscriber.closed is Closed.REVOKED
    with app.app_context():
        db.engine.dispose()
