"""Serve EverFresh with gevent workers, sized for thousands of open event streams.

No application code is imported at module level: gevent must patch the standard library
in the worker before any database driver is imported (psycopg picks its wait function
at import time and would otherwise block the whole worker).
"""

import errno
import os
import resource
import shutil
import signal
import socket
import tempfile
from pathlib import Path

from gunicorn.errors import HaltServer

# The settings model and the log formatters alone: config.py imports pydantic and
# log_format.py the standard library, never the app or a database driver.
from config import (
    CONFIGURATION_ERROR_EXIT_STATUS,
    REFUSAL_FILE_VARIABLE,
    ConfigurationError,
    read_settings,
    refuse_to_start,
)
from log_format import gunicorn_logging

# A master re-executed by SIGUSR2 inherits the old master's file; it makes its own.
os.environ.pop(REFUSAL_FILE_VARIABLE, None)
try:
    settings = read_settings()
except ConfigurationError as error:
    refuse_to_start(error)

wsgi_app = "wsgi:app"
bind = settings.bind
worker_class = "gevent"
# Without Redis, events only reach streams held by the worker that created them: one worker.
default_workers = (os.cpu_count() or 1) if settings.redis_url else 1
workers = default_workers if settings.web_concurrency is None else settings.web_concurrency
# Each open stream takes one connection slot; a full pool also stops API requests.
worker_connections = settings.worker_connections
# Streams never finish on their own; the shutdown hooks below end them within moments.
graceful_timeout = settings.graceful_timeout
timeout = 30
keepalive = 2
preload_app = False
# Several instances (tests, blue/green) must be able to run side by side.
control_socket_disable = True
accesslog = settings.access_log or None
# The path without its query string: a `?token=` must never reach a log. The request id is the
# one the app answered with, so an access line and the app's request line can be matched.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
loglevel = settings.log_level.lower()
# gunicorn's own lines in the app's format, so that with LOG_FORMAT=json every line is JSON.
logconfig_dict = gunicorn_logging(
    settings.log_level.upper(), settings.log_format.lower(), settings.access_log
)


def on_starting(server):
    """Refuse several workers without Redis, or a taken address; raise the open-file limit."""
    if server.cfg.workers > 1 and not settings.redis_url:
        refuse_to_start(
            ConfigurationError(
                f"refusing to start {server.cfg.workers} workers without REDIS_URL. "
                "The in-process broker only reaches streams in its own worker, so bookings "
                "would be lost across workers. Set REDIS_URL, or run one worker "
                "(WEB_CONCURRENCY=1)."
            )
        )
    _refuse_a_taken_address(server)
    _prepare_refusal_file()
    _prepare_metrics_directory()
    wanted = server.cfg.workers * server.cfg.worker_connections + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def _refuse_a_taken_address(server):
    # gunicorn meets a taken address with five binds a second apart, ten error lines and
    # "Can't connect to (...)", exit status 1, none of them naming the setting to change.
    # Sockets handed over (a SIGUSR2 re-exec, systemd socket activation) are already bound.
    if server.master_pid or os.environ.get("LISTEN_FDS") or server.cfg.reuse_port:
        return
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As gunicorn binds: a port whose last connections linger in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                refuse_to_start(ConfigurationError(_bind_refusal(server.cfg.bind, address, error)))


def _bind_refusal(binds, address, error):
    # Named as given (BIND, or gunicorn's own -b), so the operator finds the value to change.
    host, port = address[0], address[1]
    where = f"BIND={','.join(binds)}: cannot listen on {host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (
            f"{where}, another process listens there (`ss -ltnp 'sport = :{port}'` names it). "
            "Stop it, or set BIND to a free address."
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return f"{where}, no network interface of this host has that address. Correct BIND."
    if error.errno == errno.EACCES:
        return f"{where}, ports below 1024 need privileges. Choose a port above 1023 in BIND."
    return f"{where} ({error.strerror}). Correct BIND."


def _prepare_metrics_directory():
    # Workers write their metrics to files here, so /metrics can sum every worker's.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="everfresh-metrics-")


def _prepare_refusal_file():
    # A worker that refuses the configuration writes why here and exits with status 2, which
    # gunicorn alone would answer by booting another worker, forever. child_exit reads it.
    descriptor, path = tempfile.mkstemp(prefix="everfresh-refusal-")
    os.close(descriptor)
    os.environ[REFUSAL_FILE_VARIABLE] = path


def _refusal():
    path = os.environ.get(REFUSAL_FILE_VARIABLE, "")
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return ""


_halting = False


def child_exit(server, worker):
    """Drop a dead worker's live gauges; stop the server when the worker refused its settings."""
    global _halting
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
    refusal = _refusal()
    # Once: halting reaps the other workers, which may have refused too, through this hook.
    if refusal and not _halting:
        _halting = True
        # Through gunicorn's error log, so that with LOG_FORMAT=json this line is JSON too.
        server.log.error("EverFresh: %s", refusal)
        raise HaltServer("EverFresh refused its configuration.", CONFIGURATION_ERROR_EXIT_STATUS)


def on_exit(server):
    """Remove the metrics and refusal files of this run."""
    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)
    if os.environ.get(REFUSAL_FILE_VARIABLE):
        Path(os.environ[REFUSAL_FILE_VARIABLE]).unlink(missing_ok=True)


def post_fork(server, worker):
    """Remember a stop signal that arrives while the new worker is still booting.

    Until the worker installs its own handlers (after patching and loading the app) it
    carries the master's, which only queue the signal: a deploy that lands during a boot
    would otherwise wait out graceful_timeout for a worker that never heard it.
    """

    def stop_when_booted(signum, frame):
        worker.alive = False

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, stop_when_booted)


def post_worker_init(worker):
    """Refuse a database it cannot use and production with demo logins; start the watchers."""
    from everfresh.database import check_connection
    from everfresh.demo import refuse_demo_logins_in_production
    from everfresh.lifecycle import watch_worker

    try:
        with worker.wsgi.app_context():
            # The first workers of a start: a database that is missing, down or refusing the
            # login is the operator's to fix now. A worker that replaces another later, during
            # an outage, serves 503s until the database is back, as its peers do.
            if worker.age <= worker.cfg.workers:
                check_connection()
            refuse_demo_logins_in_production()
    except ConfigurationError as error:
        refuse_to_start(error)
    watch_worker(worker)


def worker_int(worker):
    """On SIGINT/SIGQUIT (Ctrl-C), say goodbye to every stream before the worker exits."""
    from everfresh.lifecycle import say_goodbye

    say_goodbye(worker)
