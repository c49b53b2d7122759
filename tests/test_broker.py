"""Check the broker: tenancy, bounded queues, heartbeats, expiry, de-duplication, shutdown."""

import time

import gevent
import pytest

from everfresh.sse.broker import Broker, Closed, Draining, Envelope, RedisBroker

HEARTBEAT = b": hb\n\n"
LATER = time.time() + 3600


@pytest.fixture
def broker():
    return Broker(queue_size=3, heartbeat_seconds=2, heartbeat=HEARTBEAT)


def waiting(subscriber):
    """Return what the subscriber has waiting, without blocking for long."""
    return gevent.with_timeout(0.05, subscriber.next_frames, timeout_value=[])


def arriving(subscriber, timeout=5.0):
    """Return the next frames the subscriber gets, failing if none come within `timeout`."""
    return gevent.with_timeout(timeout, subscriber.next_frames)


def test_frames_reach_only_their_company_and_all_company_subscribers(broker):
    acme = broker.subscribe("comp_a", "user_1", LATER)
    other = broker.subscribe("comp_b", "user_2", LATER)
    everyone = broker.subscribe(None, "user_3", LATER)

    assert broker.publish(Envelope("comp_a", 1, 1, b"frame-1")) is None
    assert waiting(acme) == [b"frame-1"]
    assert waiting(everyone) == [b"frame-1"]
    assert waiting(other) == []


def test_a_stream_takes_every_waiting_frame_at_once(broker):
    subscriber = broker.subscribe("comp_a", "user_1", LATER)
    for event_id in (1, 2, 3):
        broker.deliver("comp_a", b"f%d" % event_id)
    assert waiting(subscriber) == [b"f1", b"f2", b"f3"]


def test_deliver_counts_recipients(broker):
    first = broker.subscribe("comp_a", "user_1", LATER)
    broker.subscribe("comp_a", "user_2", LATER)
    assert broker.deliver("comp_a", b"x") == 2
    assert broker.deliver("comp_b", b"x") == 0
    assert waiting(first) == [b"x"]


def test_a_duplicate_event_reaches_each_stream_once(broker):
    company, everyone = broker.subscribe("comp_a", "u", LATER), broker.subscribe(None, "s", LATER)
    broker.publish(Envelope("comp_a", 5, 1, b"x"))
    broker.publish(Envelope("comp_a", 5, 1, b"x"))
    assert waiting(company) == [b"x"]
    assert waiting(everyone) == [b"x"]


def test_a_full_queue_drops_the_subscriber_and_spares_the_others(broker):
    slow = broker.subscribe("comp_a", "slow", LATER)
    fast = broker.subscribe("comp_a", "fast", LATER)
    for event_id in range(1, 5):
        broker.publish(Envelope("comp_a", event_id, event_id, b"f%d" % event_id))
        assert waiting(fast) == [b"f%d" % event_id]

    assert waiting(slow) is Closed.OVERFLOW
    assert broker.subscriber_count == 1


def test_each_stream_gets_a_heartbeat_once_per_interval(broker):
    subscriber = broker.subscribe("comp_a", "u", LATER)
    broker.beat(time.time())
    assert waiting(subscriber) == []
    broker.beat(time.time())
    assert waiting(subscriber) == [HEARTBEAT]
    broker.beat(time.time())
    broker.beat(time.time())
    assert waiting(subscriber) == [HEARTBEAT]


def test_a_stream_that_cannot_take_its_heartbeat_is_dropped(broker):
    stuck = broker.subscribe("comp_a", "u", LATER)
    for _ in range(3):
        broker.deliver("comp_a", b"f")
    for _ in range(2):
        broker.beat(time.time())
    assert stuck.closed is Closed.OVERFLOW
    assert broker.subscriber_count == 0


def test_streams_end_when_their_token_expires(broker):
    now = time.time()
    soon = broker.subscribe("comp_a", "u", now + 5)
    later = broker.subscribe("comp_a", "v", now + 60)
    broker.beat(now + 4)
    assert soon.closed is None
    broker.beat(now + 5)
    assert waiting(soon) is Closed.EXPIRED
    assert later.closed is None
    assert broker.subscriber_count == 1


@pytest.mark.parametrize(
    ("reason", "reading_log", "killed"),
    [
        (Closed.EXPIRED, False, True),
        (Closed.REVOKED, False, True),
        (Closed.DISCONNECTED, False, True),
        # Mid-query it is busy, not stuck: it notices the close after the page.
        (Closed.EXPIRED, True, False),
        # A shutdown lets a moving write finish, so the goodbye frame still goes out.
        (Closed.SHUTDOWN, False, False),
    ],
)
def test_a_stream_stuck_outside_its_mailbox_is_ended_when_closed(
    broker, reason, reading_log, killed
):
    subscribed = []

    def stream() -> None:
        subscriber = broker.subscribe("comp_a", "u", LATER)
        subscriber.reading_log = reading_log
        subscribed.append(subscriber)
        # Stands for a write to a client that stopped reading.
        gevent.sleep(60)

    greenlet = gevent.spawn(stream)
    gevent.sleep(0)
    subscribed[0].close(reason)
    gevent.sleep(0.05)

    assert greenlet.dead is killed
    greenlet.kill()


def test_a_close_after_the_stream_finished_leaves_its_greenlet_alone(broker):
    subscribed = []

    def serve() -> None:
        subscriber = broker.subscribe("comp_a", "u", LATER)
        subscriber.reading_log = False
        subscribed.append(subscriber)
        subscriber.finish()
        # Stands for the connection's next request, served by the same greenlet.
        gevent.sleep(60)

    greenlet = gevent.spawn(serve)
    gevent.sleep(0)
    subscribed[0].close(Closed.REVOKED)
    gevent.sleep(0.05)

    assert not greenlet.dead
    greenlet.kill()


def test_unsubscribe_forgets_the_stream_and_is_idempotent(broker):
    subscriber = broker.subscribe("comp_a", "user_1", LATER)
    broker.unsubscribe(subscriber)
    broker.unsubscribe(subscriber)
    assert broker.subscriber_count == 0
    assert broker.deliver("comp_a", b"x") == 0
    broker.beat(time.time())
    broker.beat(time.time())
    assert waiting(subscriber) == []


def test_shutdown_closes_every_stream_and_refuses_new_ones(broker):
    subscribers = [broker.subscribe("comp_a", "u", LATER), broker.subscribe(None, "s", LATER)]
    broker.publish(Envelope("comp_a", 1, 1, b"pending"))
    broker.shutdown()

    assert [waiting(s) for s in subscribers] == [Closed.SHUTDOWN, Closed.SHUTDOWN]
    with pytest.raises(Draining):
        broker.subscribe("comp_a", "late", LATER)


def test_wait_until_idle_reports_whether_streams_finished(broker):
    subscriber = broker.subscribe("comp_a", "u", LATER)
    assert broker.wait_until_idle(0.05) is False
    broker.unsubscribe(subscriber)
    assert broker.wait_until_idle(0.05) is True


def test_events_crossed_in_redis_reach_streams_in_commit_order():
    # Not connected (nothing listens there): what arrives is handed to `receive` directly.
    broker = RedisBroker(10, 2, HEARTBEAT, redis_url="redis://127.0.0.1:1/0", prefix="t")
    company, everyone = broker.subscribe("comp_a", "u", LATER), broker.subscribe(None, "s", LATER)
    broker.receive(Envelope("comp_a", 10, 1, b"a1"))
    broker.receive(Envelope("comp_b", 12, 7, b"b7"))
    broker.receive(Envelope("comp_a", 13, 3, b"a3"))
    assert waiting(company) == [b"a1"]
    assert waiting(everyone) == [b"a1"]

    broker.receive(Envelope("comp_a", 11, 2, b"a2"))
    assert waiting(company) == [b"a2", b"a3"]
    assert waiting(everyone) == [b"a2", b"b7", b"a3"]


def test_ended_streams_do_not_pile_up_while_their_tokens_live_on(broker):
    keeper = broker.subscribe("comp_a", "keeper", LATER)
    for _ in range(1000):
        broker.unsubscribe(broker.subscribe("comp_a", "u", LATER))
    assert len(broker._expiries) <= 2 * broker.subscriber_count + 65
    assert keeper in [entry[2] for entry in broker._expiries]
