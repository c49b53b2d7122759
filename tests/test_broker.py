"""Check the in-process broker: tenancy, bounded queues, de-duplication and shutdown."""

import pytest

from everfresh.sse.broker import Broker, Closed, Draining, Envelope


@pytest.fixture
def broker():
    return Broker(queue_size=3)


def test_frames_reach_only_their_company_and_all_company_subscribers(broker):
    acme = broker.subscribe("comp_a", "user_1")
    other = broker.subscribe("comp_b", "user_2")
    everyone = broker.subscribe(None, "user_3")

    assert broker.publish(Envelope("comp_a", 1, 1, b"frame-1")) is None
    assert acme.next_frame(0.1) == b"frame-1"
    assert everyone.next_frame(0.1) == b"frame-1"
    assert other.next_frame(0.05) is None


def test_deliver_counts_recipients_and_drops_duplicate_event_ids(broker):
    first = broker.subscribe("comp_a", "user_1")
    broker.subscribe("comp_a", "user_2")
    assert broker.deliver("comp_a", 5, b"x") == 2
    assert broker.deliver("comp_a", 5, b"x") == 0
    assert first.next_frame(0.1) == b"x"
    assert first.next_frame(0.05) is None


def test_a_full_queue_drops_the_subscriber_and_spares_the_others(broker):
    slow = broker.subscribe("comp_a", "slow")
    fast = broker.subscribe("comp_a", "fast")
    for event_id in range(1, 5):
        broker.publish(Envelope("comp_a", event_id, event_id, b"f%d" % event_id))
        assert fast.next_frame(0.1) == b"f%d" % event_id

    assert slow.next_frame(0.1) is Closed.OVERFLOW
    assert broker.subscriber_count == 1


def test_unsubscribe_forgets_the_stream_and_is_idempotent(broker):
    subscriber = broker.subscribe("comp_a", "user_1")
    broker.unsubscribe(subscriber)
    broker.unsubscribe(subscriber)
    assert broker.subscriber_count == 0
    assert broker.deliver("comp_a", 1, b"x") == 0


def test_shutdown_closes_every_stream_and_refuses_new_ones(broker):
    subscribers = [broker.subscribe("comp_a", "u"), broker.subscribe(None, "s")]
    broker.publish(Envelope("comp_a", 1, 1, b"pending"))
    broker.shutdown()

    assert [s.next_frame(0.1) for s in subscribers] == [Closed.SHUTDOWN, Closed.SHUTDOWN]
    with pytest.raises(Draining):
        broker.subscribe("comp_a", "late")


def test_wait_until_idle_reports_whether_streams_finished(broker):
    subscriber = broker.subscribe("comp_a", "u")
    assert broker.wait_until_idle(0.05) is False
    broker.unsubscribe(subscriber)
    assert broker.wait_until_idle(0.05) is True


@pytest.fixture
def redis_broker():
    from everfresh.sse.broker import RedisBroker

    redis_broker = RedisBroker(queue_size=10, redis_url="redis://127.0.0.1:1/0", prefix="t")
    redis_broker.HOLD_SECONDS = 0.2
    return redis_broker


def drain(subscriber):
    frames = []
    while (frame := subscriber.next_frame(0.01)) is not None:
        frames.append(frame)
    return frames


def test_events_that_cross_in_transit_are_delivered_in_commit_order(redis_broker):
    subscriber = redis_broker.subscribe("comp_a", "u")
    redis_broker.receive(Envelope("comp_a", 10, 1, b"e1"))
    redis_broker.receive(Envelope("comp_a", 13, 3, b"e3"))
    redis_broker.receive(Envelope("comp_a", 14, 4, b"e4"))
    assert drain(subscriber) == [b"e1"]

    redis_broker.receive(Envelope("comp_a", 12, 2, b"e2"))
    assert drain(subscriber) == [b"e2", b"e3", b"e4"]


def test_a_lost_event_holds_later_ones_only_briefly(redis_broker):
    import gevent

    subscriber = redis_broker.subscribe("comp_a", "u")
    redis_broker.receive(Envelope("comp_a", 10, 1, b"e1"))
    redis_broker.receive(Envelope("comp_a", 13, 3, b"e3"))
    assert drain(subscriber) == [b"e1"]
    gevent.sleep(0.3)
    assert drain(subscriber) == [b"e3"]
    # If the lost one turns up after all (catch-up), it is delivered, once.
    redis_broker.receive(Envelope("comp_a", 12, 2, b"e2"))
    redis_broker.receive(Envelope("comp_a", 12, 2, b"e2"))
    assert drain(subscriber) == [b"e2"]


def test_companies_are_sequenced_independently(redis_broker):
    subscriber = redis_broker.subscribe(None, "superadmin")
    redis_broker.receive(Envelope("comp_a", 1, 1, b"a1"))
    redis_broker.receive(Envelope("comp_b", 2, 7, b"b7"))
    redis_broker.receive(Envelope("comp_a", 3, 2, b"a2"))
    assert drain(subscriber) == [b"a1", b"b7", b"a2"]
