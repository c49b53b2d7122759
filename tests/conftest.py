"""Fixtures in Flask's style: `app`, `client`, `runner`, `login_as`, and real servers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings as hypothesis_settings

from everfresh import create_app
from everfresh.auth.models import User
from everfresh.auth.tokens import issue_access_token
from everfresh.catalog.models import Customer, Service, Staff
from everfresh.companies.models import Company
from everfresh.extensions import db
from tests.cluster import RedisClusterServers
from tests.live import (
    LiveServer,
    PrivatePostgres,
    PrivateRedis,
    prepare_database,
    reset_to_demo,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


# What `--fast` leaves out: tests that start gunicorn or a browser, or need PostgreSQL or Redis.
SERVER_FIXTURES = frozenset(
    {"live_server", "private_redis", "postgres_url", "redis_url", "browser", "static_origins"}
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--fast`: run only the tests that need no server, browser, PostgreSQL or Redis."""
    parser.addoption(
        "--fast",
        action="store_true",
        help="deselect tests that start servers or a browser, or need PostgreSQL or Redis",
    )


def needs_a_server(item: pytest.Item) -> bool:
    """Tell whether `item` starts gunicorn, a browser or the app in a process of its own, or needs
    PostgreSQL or Redis."""
    if any(item.get_closest_marker(name) is not None for name in ("live", "process")):
        return True
    if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    # Database fixtures parametrised over both engines fetch PostgreSQL only for that param.
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgresql" in callspec.params.values()


# Property tests that leave the number of examples to the profile: enough to find a crossing
# in the whole suite, a handful in the quick loop.
hypothesis_settings.register_profile("suite", max_examples=20)
hypothesis_settings.register_profile("fast", max_examples=5)


def pytest_configure(config: pytest.Config) -> None:
    """Run property tests with fewer examples under `--fast`."""
    hypothesis_settings.load_profile("fast" if config.getoption("--fast") else "suite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--fast`, deselect every test that needs a server."""
    if not config.getoption("--fast"):
        return
    deselected = [item for item in items if needs_a_server(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not needs_a_server(item)]


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


SQLITE_FILE_URL = "sqlite:///"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Return a database URL: a fresh SQLite file, or the run's PostgreSQL database."""
    if request.param == "sqlite":
        return f"{SQLITE_FILE_URL}{tmp_path / 'everfresh.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def demo_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the schema and the demo data once, in a SQLite file each SQLite test copies."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, environment="testing")
    with app.app_context():
        reset_to_demo()
        db.session.remove()
        db.engine.dispose()
    # The last connection's close folded the write-ahead log into the file: it is complete.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


@pytest.fixture
def app(database_url: str, demo_sqlite_file: Path) -> Iterator[Flask]:
    """Create the app on an empty schema holding only the demo data."""
    on_sqlite = database_url.startswith(SQLITE_FILE_URL)
    if on_sqlite:
        # Building the schema and demo data took about 0.1 s a test; a copy takes a millisecond.
        shutil.copyfile(demo_sqlite_file, database_url.removeprefix(SQLITE_FILE_URL))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    if not on_sqlite:
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
            token = issue_access_token(user)["access_token"]
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def user_id(app: Flask) -> Callable[[str], str]:
    """Return a function giving the id of the user with an email."""

    def find(email: str) -> str:
        with app.app_context():
            return db.session.scalars(db.select(User.id).where(User.email == email)).one()

    return find


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


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """Run a PostgreSQL server of the test's own on a free port, to stop and start at will."""
    bin_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bin_dirs:
        unavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    server = PrivatePostgres(bin_dirs[-1].parent)
    try:
        server.start()
        yield server
    finally:
        server.remove()


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
