"""Hold one stream's frames in a bounded mailbox and wake its greenlet when frames arrive."""

from __future__ import annotations

import enum

import gevent
from gevent.hub import Waiter, get_hub


class Closed(enum.Enum):
    """Why the broker ended a subscription."""

    SHUTDOWN = "shutdown"
    OVERFLOW = "overflow"
    REVOKED = "revoked"
    EXPIRED = "expired"
    DISCONNECTED = "disconnected"
    # The database stopped answering mid-replay: going live would skip the rest.
    UNAVAILABLE = "unavailable"


class Subscriber:
    """One open stream's mailbox: a bounded list of frames for one company, or for all.

    A list and a one-shot waiter rather than a gevent Queue: a Queue carries three deques,
    about 2.5 KB per stream before a single frame arrives, and a stream only ever needs
    "append, and wake the one reader".
    """

    __slots__ = (
        "company_id",
        "user_id",
        "token_id",
        "issued_at",
        "expires_at",
        "closed",
        "registered",
        "reading_log",
        "heartbeat_slot",
        "_frames",
        "_spare",
        "_capacity",
        "_waiter",
        "_reusable_waiter",
        "_greenlet",
    )

    def __init__(
        self,
        company_id: str | None,
        user_id: str,
        expires_at: float,
        queue_size: int,
        token_id: str | None = None,
        issued_at: float = 0.0,
    ) -> None:
        self.company_id = company_id
        self.user_id = user_id
        # The `jti` of the access token the stream was opened with; revoking it ends the stream.
        self.token_id = token_id
        # When that token was issued: ending the user's sessions ends streams opened with it.
        self.issued_at = issued_at
        # When the stream's access token expires (epoch seconds); the stream ends then.
        self.expires_at = expires_at
        self.closed: Closed | None = None
        # Whether the broker still delivers to it, and which heartbeat slot it sits in.
        self.registered = False
        self.heartbeat_slot = 0
        # True while the stream's greenlet queries the event log, as the view does right after
        # subscribing: it is busy, not stuck, and killing it mid-query would waste a connection.
        self.reading_log = True
        self._frames: list[bytes] = []
        self._spare: list[bytes] = []
        self._capacity = queue_size
        # Set while the stream waits for frames; whoever adds one wakes it through the hub.
        self._waiter: Waiter | None = None
        self._reusable_waiter = Waiter()
        # The greenlet serving this stream; it writes to the socket, so only it can be stuck.
        self._greenlet = gevent.getcurrent()

    def offer(self, frame: bytes) -> bool:
        """Queue `frame` without waiting; return False when the mailbox is full."""
        if len(self._frames) >= self._capacity:
            return False
        self._frames.append(frame)
        self._wake()
        return True

    def put(self, frame: bytes) -> int:
        """Queue `frame` without waking the stream; return the frames now queued, 0 when full.

        1 means the mailbox was empty, so this stream needs a wake-up (`wake`); more means
        one is already due, and this frame goes out in the same write.
        """
        frames = self._frames
        if len(frames) >= self._capacity:
            return 0
        frames.append(frame)
        return len(frames)

    def wake(self) -> None:
        """Wake the stream if it is waiting and has frames to take."""
        if self._waiter is not None and self._frames:
            self._wake()

    def discard_queued(self) -> None:
        """Drop every queued frame: a replaying stream reads those events from the log instead."""
        self._frames.clear()

    def finish(self) -> None:
        """Note that the stream is over, so a late close can no longer end its greenlet."""
        # The greenlet may go on to serve the connection's next request, and a guard's check
        # already under way can still close this subscriber.
        self._greenlet = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            # Waiters are switched to from the hub, never from another greenlet directly.
            get_hub().loop.run_callback(waiter.switch, None)

    def next_frames(self) -> list[bytes] | Closed:
        """Wait for frames and return every one queued by then (valid until the next call).

        Taking all that is waiting at once lets the stream write them in one go: a burst of
        bookings costs one socket write per stream, not one per booking.
        """
        # A loop: a wake-up queued for frames this stream already took finds nothing new.
        while self.closed is None and not self._frames:
            # One Waiter per stream, reused: gevent resets it after each completed get().
            self._waiter = self._reusable_waiter
            try:
                self._reusable_waiter.get()
            finally:
                self._waiter = None
        if self.closed is not None:
            return self.closed
        # Two lists take turns, so a wake allocates nothing that outlives it: objects that
        # survive from wake to wake pile up in the oldest GC generation, and collecting that
        # stalls fan-out. The caller must be done with the list by its next call.
        frames = self._frames
        self._spare.clear()
        self._frames, self._spare = self._spare, frames
        return frames

    def close(self, reason: Closed) -> None:
        """End the subscription; the stream notices at once, or is ended if stuck writing."""
        if self.closed is not None:
            return
        self.closed = reason
        if self._waiter is not None:
            self._wake()
        elif not self.reading_log and (
            reason is not Closed.SHUTDOWN or len(self._frames) >= self._capacity
        ):
            # Neither waiting for frames nor reading the log, the greenlet is writing, and a
            # client that stopped reading would hold it (and its user's stream slot) there
            # for good: end it. A shutdown lets a write that still moves finish, so the
            # goodbye frame goes out; a full mailbox means it does not move.
            if (
                isinstance(self._greenlet, gevent.Greenlet)
                and self._greenlet is not gevent.getcurrent()
            ):
                self._greenlet.kill(block=False)
