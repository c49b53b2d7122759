"""Check that events reach all-company streams in commit (id) order, waiting only briefly."""

from __future__ import annotations

import gevent

from everfresh.sse.broker import Broker, Envelope
from everfresh.sse.ordering import CommitOrder
from tests.test_broker import HEARTBEAT, LATER, waiting


def test_items_come_out_in_id_order_however_they_arrive():
    order: CommitOrder[str] = CommitOrder(hold_seconds=1.0)
    order.start_after(9)

    assert order.offer(11, "e11", now=0.0) == []
    assert order.offer(12, "e12", now=0.1) == []
    assert order.offer(10, "e10", now=0.2) == ["e10", "e11", "e12"]
    assert order.offer(13, "e13", now=0.3) == ["e13"]
    assert order.held == 0 and order.due_at() is None


def test_a_missing_id_holds_later_ones_only_for_the_hold_time():
    order: CommitOrder[str] = CommitOrder(hold_seconds=1.0)
    order.start_after(0)
    order.offer(2, "e2", now=5.0)
    order.offer(4, "e4", now=5.5)

    assert order.release_overdue(now=5.9) == []
    assert order.due_at() == 6.0
    assert order.release_overdue(now=6.0) == ["e2"]
    # 3 is missing too: 4 waits a full hold from the moment 2 went out.
    assert order.due_at() == 7.0
    assert order.release_overdue(now=7.0) == ["e4"]
    # A late arrival goes out at once, out of order rather than never.
    assert order.offer(1, "e1", now=8.0) == ["e1"]
    assert order.offer(5, "e5", now=8.0) == ["e5"]


def test_without_a_known_position_the_first_id_starts_the_order():
    order: CommitOrder[str] = CommitOrder(hold_seconds=1.0)
    assert order.offer(7, "e7", now=0.0) == ["e7"]
    order.start_after(3)
    assert order.offer(9, "e9", now=0.0) == []
    assert order.offer(8, "e8", now=0.0) == ["e8", "e9"]


def test_the_broker_hands_all_company_streams_events_in_id_order():
    broker = Broker(queue_size=10, heartbeat_seconds=2, heartbeat=HEARTBEAT)
    everyone = broker.subscribe(None, "superadmin", LATER)
    company_a = broker.subscribe("comp_a", "staff", LATER)
    broker.note_log_position(20)

    broker.publish(Envelope("comp_a", 22, 5, b"a22"))
    broker.publish(Envelope("comp_b", 21, 9, b"b21"))

    assert waiting(company_a) == [b"a22"]
    assert waiting(everyone) == [b"b21", b"a22"]
    broker.publish(Envelope("comp_a", 24, 6, b"a24"))
    assert waiting(everyone) == []
    gevent.sleep(1.2)
    assert waiting(everyone) == [b"a24"]
