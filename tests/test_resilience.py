"""Misbehaving clients against a real server: stuck readers, vanishing clients, dead workers."""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import threading
import time

import pytest

pytestmark = pytest.mark.live


def worker_pids(server) -> list[int]:
    """Return the pids of the gunicorn master's workers."""
    children = f"/proc/{server.process.pid}/task/{server.process.pid}/children"
    with open(children) as file:
        return [int(pid) for pid in file.read().split()]


def open_sockets(pid: int) -> int:
    """Count the sockets process `pid` holds open."""
    fds = f"/proc/{pid}/fd"
    return sum(os.readlink(f"{fds}/{fd}").startswith("socket:") for fd in os.listdir(fds))


def rss_kb(pids: list[int]) -> int:
    """Return the summed resident memory of `pids` in KiB."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as file:
            total += int(re.search(r"VmRSS:\s+(\d+)", file.read()).group(1))
    return total


def wait_for(condition, timeout: float = 10, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def read_until(sock: socket.socket, marker: bytes) -> bool:
    """Read from `sock` until `marker` has arrived; False if the connection ends first."""
    seen = b""
    while marker not in seen:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        seen = seen[-len(marker) :] + chunk
    return True


def received_ids(frames) -> list[str]:
    return [frame.json["booking_id"] for frame in frames if frame.event == "booking_created"]


def test_a_client_that_stops_reading_is_dropped_and_catches_up_on_reconnect(live_server):
    server = live_server(SSE_QUEUE_SIZE="8", SSE_HEARTBEAT_SECONDS="30")
    token = server.login("staff@everfresh.test")
    healthy = server.stream(token)
    assert healthy.next_frame().data is not None
    healthy_frames = []

    def read_healthy() -> None:
        while (frame := healthy.next_frame(timeout=60)) is not None:
            healthy_frames.append(frame)

    reader = threading.Thread(target=read_healthy)
    reader.start()
    # A tiny receive window makes the server's writes block once a few frames are in flight.
    stuck = server.stream(token, receive_buffer=1024)
    assert stuck.next_frame().data is not None

    created = []
    while server.metric("everfresh_slow_consumers_dropped_total") < 1:
        assert len(created) < 2000, "the stuck client was never dropped"
        created += [server.create_booking(token)["booking_id"] for _ in range(25)]
    # The healthy stream was not held back by the stuck one.
    assert wait_for(lambda: len(received_ids(healthy_frames)) == len(created))
    assert received_ids(healthy_frames) == created

    buffered = stuck.frames_until_closed(timeout=10)
    assert stuck.closed
    got = received_ids(buffered)
    assert got == created[: len(got)] and len(got) < len(created)
    last_id = [frame.id for frame in buffered if frame.event == "booking_created"][-1]
    with server.stream(token, headers={"Last-Event-ID": last_id}) as resumed:
        assert resumed.next_frame().data is not None
        rest = [resumed.next_event() for _ in range(len(created) - len(got))]
    assert got + received_ids(rest) == created
    healthy.sock.shutdown(socket.SHUT_RDWR)
    reader.join(timeout=10)


def test_a_storm_of_vanishing_clients_leaves_no_subscribers_and_flat_memory(live_server):
    # A vanished client is noticed on the next write; the heartbeat guarantees one.
    server = live_server(SSE_MAX_STREAMS_PER_USER="100000", SSE_HEARTBEAT_SECONDS="1")
    token = server.login("staff@everfresh.test")
    workers = worker_pids(server)

    def storm(cycles: int) -> None:
        for cycle in range(cycles):
            stream = server.stream(token)
            assert stream.next_frame().data is not None
            if cycle % 2:
                # Vanish without a goodbye: an RST instead of a FIN.
                stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            stream.close()

    # The first storm lets the allocator reach its working size. A leak grows the worker on
    # every further storm alike; the allocator's own steps come once in a while, so a storm
    # that leaves memory flat is what a leak can never show.
    storm(1000)
    assert wait_for(lambda: server.metric("everfresh_open_streams") == 0)
    growth_kb = []
    for _ in range(2):
        before = rss_kb(workers)
        storm(1000)
        assert wait_for(lambda: server.metric("everfresh_open_streams") == 0)
        growth_kb.append(rss_kb(workers) - before)
    assert min(growth_kb) < 1024, f"worker memory grew by {growth_kb} KiB per 1,000 streams"


def test_a_killed_worker_is_replaced_and_its_clients_replay_what_they_missed(
    live_server, redis_url, redis_prefix
):
    # The dead worker's streams keep their Redis leases until they lapse; not this test's topic.
    server = live_server(
        WEB_CONCURRENCY="2",
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
        SSE_MAX_STREAMS_PER_USER="100",
    )
    token = server.login("staff@everfresh.test")
    streams = []
    for _ in range(8):
        stream = server.stream(token)
        assert stream.next_frame().data is not None
        streams.append(stream)
    first = server.create_booking(token)["booking_id"]
    last_ids = []
    for stream in streams:
        frame = stream.next_event()
        assert frame.json["booking_id"] == first
        last_ids.append(frame.id)

    # The worker holding the most connections: the one whose death cuts streams.
    victim = max(worker_pids(server), key=open_sockets)
    os.kill(victim, signal.SIGKILL)
    missed = [server.create_booking(token)["booking_id"] for _ in range(3)]
    assert wait_for(lambda: len(worker_pids(server)) == 2 and victim not in worker_pids(server))

    cut = 0
    for stream, last_id in zip(streams, last_ids, strict=True):
        frames = []
        while len(frames) < len(missed) and (frame := stream.next_event(timeout=5)) is not None:
            frames.append(frame)
        if stream.closed:
            # This client was on the killed worker: it reconnects with its last id.
            with server.stream(token, headers={"Last-Event-ID": last_id}) as again:
                assert again.next_frame().data is not None
                frames = [again.next_event() for _ in missed]
        assert received_ids(frames) == missed
        cut += stream.closed
        stream.close()
    assert cut > 0, "no stream was on the killed worker"


def test_the_api_keeps_answering_while_a_worker_holds_thousands_of_streams(live_server):
    server = live_server(SSE_MAX_STREAMS_PER_USER="100000")
    token = server.login("staff@everfresh.test")
    request = (
        f"GET /sse/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    sockets = []
    try:
        for _ in range(2000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(request)
            sockets.append(sock)
        # Every stream is open (each greeted) before the API is asked anything.
        for sock in sockets:
            assert read_until(sock, b"connection_established")
        assert server.metric("everfresh_open_streams") == 2000

        # One SQLite connection per worker: an open stream holding it would starve these.
        assert server.request("GET", "/auth/me", token=token).status == 200
        booking = server.create_booking(token)
        assert (
            server.request("GET", f"/bookings/{booking['booking_id']}", token=token).status == 200
        )
        for sock in sockets[:: len(sockets) // 20]:
            assert read_until(sock, booking["booking_id"].encode())
    finally:
        for sock in sockets:
            sock.close()
