"""Start the servers under test (gunicorn), a private Redis and the databases; tear them down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench import processes
from bench.client import BENCH_STAFF_EMAIL, DEMO_STAFF_EMAIL, Api

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN = str(BIN / "gunicorn")
FLASK = str(BIN / "flask")
# A fixed, strong key: every server of a run signs and checks tokens with it.
JWT_KEY = "bench-only-signing-key-" + "0123456789abcdef" * 3
# Settings that would change what is measured are removed from the servers' environment.
SCRUBBED = ("PASSWORD_HASH_METHOD", "ACCESS_LOG", "REDIS_URL", "DATABASE_URL", "WEB_CONCURRENCY")


def base_environment() -> dict[str, str]:
    """Return this process's environment without the settings the harness must control."""
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    env["PYTHONPATH"] = str(ROOT)
    return env


@dataclass
class Server:
    """One gunicorn master and its workers, listening on a loopback port."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    stop_signal: int

    def worker_pids(self) -> list[int]:
        """Return the worker processes' ids."""
        return processes.children_of(self.process.pid)

    def rss_kb(self) -> int:
        """Return the RSS of the master plus every worker, in KiB."""
        return processes.tree_rss_kb(self.process.pid)

    def log_tail(self, characters: int = 3000) -> str:
        """Return the end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server and every worker, forcefully if they do not go within seconds."""
        processes.stop(self.process, self.stop_signal, grace=15)


def start_gunicorn(
    name: str,
    arguments: list[str],
    env: dict[str, str],
    port: int,
    workers: int,
    log_dir: Path,
    stop_signal: int = signal.SIGTERM,
    timeout: float = 60,
) -> Server:
    """Start gunicorn with `arguments` and wait until every worker is up and HTTP answers."""
    log_path = log_dir / f"{name}-{port}.log"
    process = processes.spawn([GUNICORN, *arguments], env=env, cwd=ROOT, log_path=log_path)
    server = Server(name, port, process, log_path, stop_signal)

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
        if len(server.worker_pids()) < workers:
            return False
        api = Api(port, timeout=5)
        try:
            api.request("GET", "/bench-ready-probe")
            return True
        except OSError:
            return False
        finally:
            api.close()

    try:
        if not processes.wait_until(answers, timeout, interval=0.2):
            raise RuntimeError(f"{name} did not answer within {timeout:.0f}s:\n{server.log_tail()}")
    except BaseException:
        server.stop()
        raise
    return server


def everfresh_environment(
    port: int,
    database_url: str,
    workers: int,
    worker_connections: int,
    redis_url: str = "",
    redis_prefix: str = "",
) -> dict[str, str]:
    """Return EverFresh's production-like settings for a benchmark server.

    Real scrypt password hashing (PASSWORD_HASH_METHOD is never set), the production
    config, the default heartbeat and queue size. Three limits differ from a deployment,
    so that the loader can hold thousands of streams as one staff user for a long run:
    SSE_MAX_STREAMS_PER_USER is raised far above N, access tokens last four hours, and
    the login rate limits are raised far above the number of logins the harness makes.
    """
    env = base_environment()
    env.update(
        {
            "EVERFRESH_ENV": "production",
            "BIND": f"127.0.0.1:{port}",
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": JWT_KEY,
            "WEB_CONCURRENCY": str(workers),
            "WORKER_CONNECTIONS": str(worker_connections),
            "SSE_MAX_STREAMS_PER_USER": "1000000",
            "JWT_ACCESS_TOKEN_MINUTES": "240",
            "LOG_LEVEL": "warning",
            "GRACEFUL_TIMEOUT": "10",
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix or "everfresh",
            # The harness logs in as one demo user many times (every server, the login
            # phase): the limiter still runs on each login, it just never says no.
            "LOGIN_RATE_LIMIT_PER_IP": "1000000/minute",
            "LOGIN_RATE_LIMIT_PER_ACCOUNT": "1000000/minute",
            "LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP": "1000000/minute",
        }
    )
    return env


def start_everfresh(
    database_url: str,
    log_dir: Path,
    workers: int = 1,
    worker_connections: int = 12000,
    redis_url: str = "",
    redis_prefix: str = "",
    extra_env: dict[str, str] | None = None,
) -> Server:
    """Start EverFresh under its own gunicorn.conf.py on a free port."""
    # The schema may have gained a migration since the run began: upgrade (idempotent).
    upgrade_everfresh_database(database_url, log_dir)
    port = processes.free_port()
    env = everfresh_environment(
        port, database_url, workers, worker_connections, redis_url, redis_prefix
    )
    env.update(extra_env or {})
    name = f"everfresh-{workers}w"
    return start_gunicorn(name, ["-c", "gunicorn.conf.py"], env, port, workers, log_dir)


def start_reference(
    app: str,
    log_dir: Path,
    workers: int = 1,
    worker_connections: int = 12000,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """Start a reference app (`bench.apps.floor:app`, ...) with EverFresh's worker settings."""
    port = processes.free_port()
    env = base_environment()
    env.update(
        {
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "WORKER_CONNECTIONS": str(worker_connections),
            "LOG_LEVEL": "warning",
            "GRACEFUL_TIMEOUT": "10",
        }
    )
    env.update(extra_env or {})
    name = app.split(":")[0].rsplit(".", 1)[-1]
    arguments = ["-c", "bench/apps/gunicorn_reference.py", app]
    # Their streams never end on their own: quit at once rather than wait out graceful_timeout.
    return start_gunicorn(name, arguments, env, port, workers, log_dir, stop_signal=signal.SIGQUIT)


def _flask_command(command: str, database_url: str, log_dir: Path) -> None:
    env = base_environment()
    env.update({"DATABASE_URL": database_url, "JWT_SECRET_KEY": JWT_KEY, "LOG_LEVEL": "warning"})
    env["EVERFRESH_ENV"] = "development"
    log_path = log_dir / "prepare-database.log"
    process = processes.spawn([FLASK, "--app", "wsgi", command], env, ROOT, log_path)
    try:
        code = process.wait(timeout=120)
    finally:
        processes.stop(process)
    if code != 0:
        raise RuntimeError(f"flask {command} failed:\n{log_path.read_text()[-3000:]}")


def upgrade_everfresh_database(database_url: str, log_dir: Path) -> None:
    """Create or upgrade EverFresh's schema behind `database_url` (`flask init-db`)."""
    _flask_command("init-db", database_url, log_dir)


def prepare_everfresh_database(database_url: str, log_dir: Path) -> None:
    """Create EverFresh's schema behind `database_url` and seed the demo data (scrypt hashes)."""
    upgrade_everfresh_database(database_url, log_dir)
    _flask_command("seed-demo", database_url, log_dir)
    _retire_demo_logins(database_url)


def _retire_demo_logins(database_url: str) -> None:
    """Switch the demo logins off, keeping the staff user under an address of its own.

    Production refuses to start while a demo login (published password) can sign in; the
    benchmark's one staff user keeps its password under an address that is not a demo one.
    """
    import sqlalchemy

    from everfresh.demo import demo_emails

    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sqlalchemy.text(
                    "UPDATE users SET active = false WHERE email IN :emails"
                ).bindparams(sqlalchemy.bindparam("emails", expanding=True)),
                {"emails": [email for email in demo_emails() if email != DEMO_STAFF_EMAIL]},
            )
            connection.execute(
                sqlalchemy.text("UPDATE users SET email = :bench WHERE email = :demo"),
                {"bench": BENCH_STAFF_EMAIL, "demo": DEMO_STAFF_EMAIL},
            )
    finally:
        engine.dispose()


class RedisServer:
    """A private redis-server on a free loopback port (or an existing one, by URL).

    Private by default, so that thousands of Flask-SSE connections never reach, or exhaust,
    a Redis that other people are using.
    """

    def __init__(self, log_dir: Path, max_clients: int, url: str = "") -> None:
        import redis

        self.process: subprocess.Popen | None = None
        if url:
            self.url = url
        else:
            port = processes.free_port()
            self.url = f"redis://127.0.0.1:{port}/0"
            self.process = processes.spawn(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--maxclients",
                    str(max_clients),
                    "--dir",
                    str(log_dir),
                ],
                log_path=log_dir / f"redis-{port}.log",
            )
        self.client = redis.Redis.from_url(self.url)
        try:
            if not processes.wait_until(self._answers, 15):
                raise RuntimeError(f"Redis at {self.url} does not answer")
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        import redis

        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def subscribers(self, channel: str) -> int:
        """Return how many connections subscribe to `channel`."""
        return int(self.client.pubsub_numsub(channel)[0][1])

    def rss_kb(self) -> int:
        """Return the private redis-server's RSS in KiB (0 for an external Redis)."""
        return processes.rss_kb(self.process.pid) if self.process is not None else 0

    def stop(self) -> None:
        """Stop the private redis-server."""
        self.client.close()
        processes.stop(self.process, signal.SIGTERM, grace=10)


class PostgresDatabase:
    """A uniquely named PostgreSQL database, created for the run and dropped after it."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.name = f"everfresh_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._admin = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(self._admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        base, _, _ = admin_url.rpartition("/")
        self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        """Drop the database, ending any connection still open to it."""
        import psycopg

        for _ in range(3):
            try:
                with psycopg.connect(self._admin, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                return
            except psycopg.Error:
                time.sleep(1)
