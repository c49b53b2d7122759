"""Faults to inject under a live server: a slow link to Redis, frozen and killed workers."""

from __future__ import annotations

import heapq
import itertools
import os
import signal
import socket
import threading
import time

from tests.live import LiveServer, free_port


class DelayingProxy:
    """A TCP proxy that holds what its clients send for `delay` seconds: a congested link.

    What the server answers passes at once, so a host behind it publishes (and subscribes)
    late while it still hears what others publish on time. A broken upstream closes the
    client's side too, as a dropped link would, so the client reconnects through the proxy.
    """

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database: int = 0) -> str:
        """Return the Redis URL that goes through this proxy."""
        return f"redis://127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Close the listener and every connection."""
        self._stopped.set()
        for sock in [self._listener, *self._sockets]:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self._sockets += [client, upstream]
            pending: list[tuple[float, int, bytes | None]] = []
            arrived = threading.Condition()
            threading.Thread(
                target=self._hold, args=(client, upstream, pending, arrived), daemon=True
            ).start()
            threading.Thread(
                target=self._send_late, args=(upstream, client, pending, arrived), daemon=True
            ).start()
            threading.Thread(target=self._pass, args=(upstream, client), daemon=True).start()

    def _hold(self, source, target, pending, arrived) -> None:
        order = itertools.count()
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            with arrived:
                heapq.heappush(pending, (time.monotonic() + self.delay, next(order), data or None))
                arrived.notify()
            if not data:
                return

    def _send_late(self, target, source, pending, arrived) -> None:
        while True:
            with arrived:
                while not pending:
                    arrived.wait()
                due, _, data = pending[0]
                wait = due - time.monotonic()
                if wait > 0:
                    arrived.wait(wait)
                    continue
                heapq.heappop(pending)
            if data is None:
                _close(target, source)
                return
            try:
                target.sendall(data)
            except OSError:
                _close(target, source)
                return

    def _pass(self, source, target) -> None:
        while True:
            try:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
            except OSError:
                break
        _close(source, target)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def worker_pids(server: LiveServer) -> list[int]:
    """Return the pids of a live server's gunicorn workers."""
    pid = server.process.pid
    with open(f"/proc/{pid}/task/{pid}/children") as file:
        return [int(child) for child in file.read().split()]


def freeze(pid: int, seconds: float) -> None:
    """Stop a process for `seconds` (SIGSTOP), as a host that stalls would, then let it go on."""
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)


def end_database_connections(database_url: str) -> int:
    """End every other connection to the database (`pg_terminate_backend`); return how many."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        ).fetchall()
    return len(rows)
