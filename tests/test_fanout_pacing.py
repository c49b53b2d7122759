"""Check fan-out pacing: idle workers wake streams at once, busy ones share wake-ups, in slices."""

import time

import gevent
import pytest
from flask import Flask

from everfresh.sse.broker import Broker, Envelope
from everfresh.sse.broker.pacing import hold_seconds, slices
from everfresh.sse.busy import RequestsInFlight

HEARTBEAT = b": hb\n\n"
LATER = time.time() + 3600
# Far longer than any test waits: a frame held for the window would never arrive in time.
WINDOW = 3600.0


@pytest.mark.parametrize(
    ("busy", "window", "expected"),
    [(False, 0.05, 0.0), (False, WINDOW, 0.0), (True, 0.05, 0.05), (True, 0.0, 0.0)],
)
def test_only_a_busy_worker_holds_frames(busy, window, expected):
    assert hold_seconds(busy, window) == expected


@pytest.mark.parametrize(
    ("count", "size", "expected"),
    [
        (0, 256, []),
        (3, 256, [[0, 1, 2]]),
        (5, 2, [[0, 1], [2, 3], [4]]),
        (4, 2, [[0, 1], [2, 3]]),
        (3, 1, [[0], [1], [2]]),
    ],
)
def test_slices_keep_order_and_size(count, size, expected):
    assert [list(part) for part in slices(list(range(count)), size)] == expected


@pytest.mark.parametrize("size", [0, -1])
def test_a_slice_holds_at_least_one(size):
    with pytest.raises(ValueError, match="at least 1"):
        list(slices([1, 2], size))


class PacedBroker(Broker):
    COALESCE_SECONDS = WINDOW
    WAKE_SLICE = 2


@pytest.fixture
def broker():
    return PacedBroker(queue_size=5, heartbeat_seconds=2, heartbeat=HEARTBEAT)


def waiting_reader(subscriber):
    """Start a greenlet that waits for the subscriber's next frames, as a stream does."""
    reader = gevent.spawn(lambda: list(subscriber.next_frames()))
    gevent.sleep(0)
    return reader


def test_an_idle_worker_wakes_every_stream_at_once(broker):
    subscribers = [broker.subscribe("comp_a", f"user_{n}", LATER) for n in range(5)]
    readers = [waiting_reader(subscriber) for subscriber in subscribers]

    broker.publish(Envelope("comp_a", 1, 1, b"e1"))

    # Five streams in slices of two, none held for the window.
    assert [reader.get(timeout=5) for reader in readers] == [[b"e1"]] * 5


def test_a_busy_worker_holds_frames_until_it_is_idle_and_sends_them_together(broker):
    busy = [True]
    broker.busy = lambda: busy[0]
    subscriber = broker.subscribe("comp_a", "user_1", LATER)
    reader = waiting_reader(subscriber)

    broker.publish(Envelope("comp_a", 1, 1, b"e1"))
    broker.publish(Envelope("comp_a", 2, 2, b"e2"))
    assert reader.join(timeout=0.05) is None and not reader.ready()

    busy[0] = False
    broker.publish(Envelope("comp_a", 3, 3, b"e3"))
    assert reader.get(timeout=5) == [b"e1", b"e2", b"e3"]


def test_a_stream_already_holding_frames_is_woken_once(broker):
    subscriber = broker.subscribe("comp_a", "user_1", LATER)
    broker.publish(Envelope("comp_a", 1, 1, b"e1"))
    broker.publish(Envelope("comp_a", 2, 2, b"e2"))

    assert list(subscriber.next_frames()) == [b"e1", b"e2"]
    # The wake-up queued for those frames finds nothing new and does not end the wait early.
    reader = waiting_reader(subscriber)
    gevent.sleep(0.01)
    assert not reader.ready()
    broker.publish(Envelope("comp_a", 3, 3, b"e3"))
    assert reader.get(timeout=5) == [b"e3"]


def test_a_full_mailbox_still_drops_its_stream(broker):
    broker.busy = lambda: True
    slow = broker.subscribe("comp_a", "user_1", LATER)
    for event_id in range(1, 7):
        broker.publish(Envelope("comp_a", event_id, event_id, b"e%d" % event_id))

    assert slow.closed is not None
    assert broker.subscriber_count == 0


def test_requests_in_flight_count_other_requests_only():
    app = Flask(__name__)
    tracker = RequestsInFlight()
    tracker.init_app(app)
    seen = {}

    @app.get("/probe")
    def probe():
        seen["others"] = tracker.others()
        # Seen from another greenlet (a Redis listener), this request makes the worker busy.
        seen["busy_elsewhere"] = gevent.spawn(tracker.busy).get()
        return ""

    assert tracker.busy() is False
    app.test_client().get("/probe")

    assert seen == {"others": 0, "busy_elsewhere": True}
    assert tracker.others() == 0
    assert tracker.busy() is False
