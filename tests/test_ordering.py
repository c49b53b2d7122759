"""Check that events leave every line in commit order and that a hole is read, never skipped."""

from __future__ import annotations

import gevent
import pytest

from everfresh.sse.broker import Broker, Envelope
from everfresh.sse.ordering import Hole, Ordering
from tests.test_broker import HEARTBEAT, LATER, arriving, waiting

HOLD = 1.0


@pytest.fixture
def ordering() -> Ordering[str, str]:
    return Ordering(hold_seconds=HOLD)


def test_items_come_out_in_order_however_they_arrive(ordering):
    assert ordering.receive("a", 10, "a10", now=0.0) == ["a10"]
    assert ordering.receive("a", 12, "a12", now=0.1) == []
    assert ordering.receive("a", 13, "a13", now=0.2) == []
    assert ordering.receive("a", 11, "a11", now=0.3) == ["a11", "a12", "a13"]
    assert ordering.receive("a", 14, "a14", now=0.4) == ["a14"]
    assert ordering.held("a") == 0 and ordering.next_due() is None


def test_lines_are_ordered_independently(ordering):
    assert ordering.receive("a", 1, "a1", now=0.0) == ["a1"]
    assert ordering.receive("b", 7, "b7", now=0.0) == ["b7"]
    assert ordering.receive("a", 3, "a3", now=0.0) == []
    assert ordering.receive("b", 8, "b8", now=0.0) == ["b8"]


def test_a_number_below_the_line_is_dropped_as_already_sent(ordering):
    ordering.receive("a", 5, "a5", now=0.0)
    assert ordering.receive("a", 5, "again", now=0.1) == []
    assert ordering.receive("a", 4, "before the line", now=0.2) == []
    # A held item offered twice is held once.
    ordering.receive("a", 7, "a7", now=0.3)
    ordering.receive("a", 7, "a7 again", now=0.4)
    assert ordering.receive("a", 6, "a6", now=0.5) == ["a6", "a7"]


def test_a_hole_is_named_once_its_hold_runs_out_and_never_skipped(ordering):
    ordering.receive("a", 1, "a1", now=5.0)
    ordering.receive("a", 4, "a4", now=5.0)
    ordering.receive("a", 5, "a5", now=5.5)

    assert ordering.holes(now=5.9) == []
    assert ordering.next_due() == 6.0
    assert ordering.holes(now=6.0) == [Hole("a", 2, 3, "a4")]
    # Named once: while it is read nothing is named again, and nothing moves on by itself.
    assert ordering.holes(now=60.0) == []
    assert ordering.next_due() is None
    assert ordering.held("a") == 2


def test_filling_a_hole_releases_the_line_in_order(ordering):
    ordering.receive("a", 1, "a1", now=0.0)
    ordering.receive("a", 4, "a4", now=0.0)
    (hole,) = ordering.holes(now=HOLD)

    assert ordering.fill(hole, [(2, "a2"), (3, "a3")], now=1.1) == (["a2", "a3", "a4"], 0)
    assert ordering.receive("a", 5, "a5", now=1.2) == ["a5"]
    # The late originals are duplicates now.
    assert ordering.receive("a", 2, "a2 late", now=1.3) == []


def test_numbers_the_log_lacks_are_given_up_and_counted(ordering):
    ordering.receive("a", 1, "a1", now=0.0)
    ordering.receive("a", 5, "a5", now=0.0)
    (hole,) = ordering.holes(now=HOLD)

    assert ordering.fill(hole, [(3, "a3")], now=1.1) == (["a3", "a5"], 2)
    assert ordering.receive("a", 6, "a6", now=1.2) == ["a6"]


def test_a_hole_filled_live_while_it_is_read_costs_nothing(ordering):
    ordering.receive("a", 1, "a1", now=0.0)
    ordering.receive("a", 3, "a3", now=0.0)
    (hole,) = ordering.holes(now=HOLD)
    assert ordering.receive("a", 2, "a2", now=1.05) == ["a2", "a3"]

    assert ordering.fill(hole, [(2, "a2 from the log")], now=1.1) == ([], 0)


def test_a_second_hole_found_while_the_first_is_read_waits_its_own_hold(ordering):
    ordering.receive("a", 1, "a1", now=0.0)
    ordering.receive("a", 3, "a3", now=0.0)
    (hole,) = ordering.holes(now=HOLD)
    ordering.receive("a", 5, "a5", now=1.05)

    assert ordering.fill(hole, [(2, "a2")], now=1.1) == (["a2", "a3"], 0)
    assert ordering.holes(now=1.9) == []
    assert ordering.holes(now=2.1) == [Hole("a", 4, 4, "a5")]


def test_a_forgotten_line_starts_anew_and_ignores_an_old_fill(ordering):
    ordering.receive("a", 1, "a1", now=0.0)
    ordering.receive("a", 3, "a3", now=0.0)
    (hole,) = ordering.holes(now=HOLD)
    ordering.forget("a")
    assert ordering.receive("a", 9, "a9", now=1.1) == ["a9"]

    assert ordering.fill(hole, [(2, "a2")], now=1.2) == ([], 0)
    assert ordering.receive("a", 10, "a10", now=1.3) == ["a10"]


class Log:
    """An event log for a broker: what a hole read finds, and which holes were asked for."""

    def __init__(self, *envelopes: Envelope) -> None:
        self.envelopes = envelopes
        self.asked: list[tuple[str | None, int, int, int]] = []
        self.down = False

    def read(self, key: str | None, first: int, last: int, waiting: int) -> list[Envelope]:
        self.asked.append((key, first, last, waiting))
        if self.down:
            raise ConnectionError("the database is down")
        return [
            envelope
            for envelope in self.envelopes
            if (envelope.event_id if key is None else envelope.sequence) in range(first, last + 1)
            and (key is None or envelope.company_id == key)
        ]


class QuickBroker(Broker):
    def __init__(self) -> None:
        super().__init__(queue_size=10, heartbeat_seconds=2, heartbeat=HEARTBEAT)
        self._ordering = Ordering(hold_seconds=0.1)


A1, B1, A2, A3 = (
    Envelope("comp_a", 21, 1, b"a21"),
    Envelope("comp_b", 22, 1, b"b22"),
    Envelope("comp_a", 23, 2, b"a23"),
    Envelope("comp_a", 24, 3, b"a24"),
)


def test_the_broker_reads_a_late_event_from_the_log_and_sends_it_first():
    broker, log = QuickBroker(), Log(A1, B1, A2, A3)
    broker.read_log = log.read
    company_a = broker.subscribe("comp_a", "staff", LATER)
    everyone = broker.subscribe(None, "superadmin", LATER)

    broker.publish(A1)
    broker.publish(A3)
    broker.publish(B1)
    assert waiting(company_a) == [b"a21"]
    assert waiting(everyone) == [b"a21", b"b22"]

    assert arriving(company_a) == [b"a23", b"a24"]
    assert arriving(everyone) == [b"a23", b"a24"]
    assert sorted(log.asked, key=str) == [("comp_a", 2, 2, 24), (None, 23, 23, 24)]
    # The late original finds its lines past it.
    broker.publish(A2)
    assert waiting(company_a) == [] and waiting(everyone) == []


def test_while_the_log_cannot_be_read_the_broker_moves_on_for_streams_to_mend():
    broker, log = QuickBroker(), Log()
    log.down = True
    broker.read_log = log.read
    company_a = broker.subscribe("comp_a", "staff", LATER)

    broker.publish(A1)
    broker.publish(A3)
    assert waiting(company_a) == [b"a21"]
    # Each stream meets the hole itself (see test_stream_holes.py) and resumes by replay.
    assert arriving(company_a) == [b"a24"]


def test_a_line_is_kept_only_while_a_stream_here_follows_it():
    broker, log = QuickBroker(), Log(A1, A2, A3)
    broker.read_log = log.read
    broker.publish(A1)
    broker.publish(A3)
    gevent.sleep(0.3)
    assert log.asked == []

    stream = broker.subscribe("comp_a", "staff", LATER)
    broker.publish(A2)
    assert waiting(stream) == [b"a23"]
    broker.unsubscribe(stream)
    assert broker._ordering.held("comp_a") == 0
