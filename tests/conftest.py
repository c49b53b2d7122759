"""Fixtures in Flask's style: `app`, `client`, `runner`, `login_as`, and real servers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

os.environ["EVERFRESH_ENV"] = "testing"

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient, FlaskCliRunner  # noqa: E402
from flask_jwt_extended import create_access_token  # noqa: E402

from everfresh import create_app  # noqa: E402
from everfresh.auth.models import User  # noqa: E402
from everfresh.catalog.models import Customer, Service, Staff  # noqa: E402
from everfresh.companies.models import Company  # noqa: E402
from everfresh.extensions import db  # noqa: E402
from tests.cluster import RedisClusterServers  # noqa: E402
from tests.live import LiveServer, PrivateRedis, prepare_database, reset_to_demo  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(reason: str) -> None:
    """Skip a test whose server is missing, except in CI, where that is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the suite must run against the real server)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Create a uniquely named PostgreSQL database for this run and drop it afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin_url = make_url(TEST_DATABASE_URL)
    name = f"everfresh_test_{uuid.uuid4().hex[:12]}"
    dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL at {TEST_DATABASE_URL} is not reachable: {error}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Return the test Redis URL after checking the server answers."""
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {TEST_REDIS_URL} is not reachable: {error}")
    return TEST_REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """Return a Redis key prefix no other test run uses."""
    return f"everfresh-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Return a database URL: a fresh SQLite file, or the run's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'everfresh.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """Create the app on an empty schema holding only the demo data."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        reset_to_demo()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a runner for the app's CLI commands."""
    return app.test_cli_runner()


@dataclass(frozen=True)
class Tenant:
    """The demo rows of one company, by id."""

    company_id: str
    customer_id: str
    service_id: str
    staff_id: str


@pytest.fixture
def tenants(app: Flask) -> dict[str, Tenant]:
    """Return the ids of the demo rows of each demo company, keyed `everfresh` and `brighthome`."""
    found = {}
    with app.app_context():
        for key, name in (("everfresh", "EverFresh Demo"), ("brighthome", "BrightHome Demo")):
            company = db.session.scalars(db.select(Company).where(Company.name == name)).one()

            def first(model: type, company_id: str = company.id) -> str:
                return db.session.scalars(
                    db.select(model.id).where(model.company_id == company_id).order_by(model.id)
                ).first()

            found[key] = Tenant(company.id, first(Customer), first(Service), first(Staff))
    return found


DEMO_EMAILS = {
    ("customer", "everfresh"): "customer@everfresh.test",
    ("staff", "everfresh"): "staff@everfresh.test",
    ("admin", "everfresh"): "admin@everfresh.test",
    ("staff", "brighthome"): "staff@brighthome.test",
    ("admin", "brighthome"): "admin@brighthome.test",
    ("superadmin", None): "superadmin@everfresh.test",
}


@pytest.fixture
def login_as(app: Flask) -> Callable[..., dict[str, str]]:
    """Return a function giving Authorization headers for a demo user by role and company."""

    def headers(role: str, company: str | None = "everfresh") -> dict[str, str]:
        email = DEMO_EMAILS[(role, None if role == "superadmin" else company)]
        with app.app_context():
            user = db.session.scalars(db.select(User).where(User.email == email)).one()
            token = create_access_token(
                identity=user.id,
                additional_claims={"role": str(user.role), "company_id": user.company_id},
            )
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def live_server(tmp_path) -> Iterator[Callable[..., LiveServer]]:
    """Start real gunicorn servers with gevent workers on free loopback ports; always stop them."""
    started: list[LiveServer] = []

    def start(database_url: str | None = None, **settings: str) -> LiveServer:
        if database_url is None:
            database_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
            prepare_database(database_url)
        server = LiveServer(database_url, settings)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """Run a redis-server of the test's own on a free port, to stop and start at will."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServers]:
    """Run one six-node Redis Cluster (three masters, three replicas) for the session."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        unavailable("redis-server and redis-cli are not installed")
    cluster = RedisClusterServers(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
