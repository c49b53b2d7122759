"""Check the in-process broker: tenancy, bounded queues, de-duplication and shutdown."""

import pytest

from everfresh.sse.broker import Broker, Closed, Draining


@pytest.fixture
def broker():
    return Broker(queue_size=3)


def test_frames_reach_only_their_company_and_all_company_subscribers(broker):
    acme = broker.subscribe("comp_a", "user_1")
    other = broker.subscribe("comp_b", "user_2")
    everyone = broker.subscribe(None, "user_3")

    assert broker.publish("comp_a", 1, b"frame-1") is None
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
        broker.publish("comp_a", event_id, b"f%d" % event_id)
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
    broker.publish("comp_a", 1, b"pending")
    broker.shutdown()

    assert [s.next_frame(0.1) for s in subscribers] == [Closed.SHUTDOWN, Closed.SHUTDOWN]
    with pytest.raises(Draining):
        broker.subscribe("comp_a", "late")


def test_wait_until_idle_reports_whether_streams_finished(broker):
    subscriber = broker.subscribe("comp_a", "u")
    assert broker.wait_until_idle(0.05) is False
    broker.unsubscribe(subscriber)
    assert broker.wait_until_idle(0.05) is True
