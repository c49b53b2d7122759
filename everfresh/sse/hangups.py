"""Notice at once when a stream's client hangs up, instead of at a later heartbeat's write.

A stream only writes, so by itself it learns of a closed connection when a write fails:
the first heartbeat after a clean close still lands in the kernel, so it took one or two
heartbeats (30-60 s) for the stream to end, and meanwhile its user's stream slot stayed
taken (a board reloaded a few times got 429) and the open-streams gauge counted it.
Clients never send anything on a stream, so the socket turning readable means a hang-up.
"""

from __future__ import annotations

import array
import fcntl
import socket
import termios
from collections.abc import Callable

from gevent.hub import get_hub

# libev's EV_READ.
READABLE = 1


def _pending_bytes(fd: int) -> int:
    pending = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, pending)
    return pending[0]


def watch_for_hangup(
    sock: socket.socket | None, on_hangup: Callable[[], None]
) -> Callable[[], None]:
    """Call `on_hangup` from the event loop when the client closes or resets `sock`.

    Return the function that stops watching; the stream must call it when it ends, before
    the socket can be closed and its descriptor reused. One libev watcher per stream, not
    a greenlet, keeps this to a few hundred bytes.
    """
    if sock is None:
        return lambda: None
    fd = sock.fileno()
    watcher = get_hub().loop.io(fd, READABLE)

    def readable() -> None:
        # Readable with nothing to read: the peer's FIN, or an error such as a reset.
        try:
            hung_up = _pending_bytes(fd) == 0
        except OSError:
            hung_up = True
        # Level-triggered: stop either way, or bytes a client did send would fire forever;
        # such a client's hang-up is noticed on a write, as before.
        watcher.stop()
        if hung_up:
            on_hangup()

    watcher.start(readable)
    return watcher.close
