"""The worker's recent events: what a reconnecting stream may resume from without the log."""

from __future__ import annotations

import pytest

from everfresh.sse.tail import Recent, RecentEvents


def frame(event_id: int) -> bytes:
    return b"id: %d\n\n" % event_id


def deliver(tail: RecentEvents, company_id: str, *events: tuple[int, int]) -> None:
    for event_id, sequence in events:
        tail.record(company_id, event_id, sequence, frame(event_id))


def ids(answer: Recent | None) -> list[int] | None:
    return None if answer is None else [event.event_id for event in answer.events]


def test_a_company_resumes_from_any_point_after_the_first_event_heard():
    tail = RecentEvents()
    # Company "a" has ids 10, 12, 13 (11 belongs to another company this worker also heard).
    deliver(tail, "a", (10, 1), (12, 2), (13, 3))
    deliver(tail, "b", (11, 1))

    assert ids(tail.since("a", 10)) == [12, 13]
    assert ids(tail.since("a", 11)) == [12, 13]
    assert ids(tail.since("a", 13)) == []
    # Where each resume point stands in the company's numbering.
    assert [tail.since("a", at).sequence for at in (10, 11, 12, 13)] == [1, 1, 2, 3]
    # Before the first event heard, the worker cannot know what it missed.
    assert tail.since("a", 9) is None
    assert tail.since("c", 12) is None


def test_a_resume_point_beyond_the_last_event_heard_is_left_to_the_log():
    tail = RecentEvents()
    deliver(tail, "a", (10, 1), (11, 2))

    assert ids(tail.since("a", 11)) == []
    assert tail.since("a", 12) is None


@pytest.mark.parametrize(
    ("delivered", "known_from"),
    [
        # The second event never came: what follows starts a new chain.
        ([(10, 1), (12, 3), (13, 4)], 12),
        # Two announcements crossed: the later one starts anew, the earlier one is too late.
        ([(10, 1), (12, 3), (11, 2), (13, 4)], 12),
    ],
    ids=["lost", "crossed"],
)
def test_a_hole_in_a_company_sequence_restarts_what_is_kept(delivered, known_from):
    tail = RecentEvents()
    deliver(tail, "a", *delivered)

    assert tail.since("a", known_from - 1) is None
    if 11 in [event_id for event_id, _ in delivered]:
        assert ids(tail.since("a", known_from)) == [13]
    else:
        # Event 11 may still be on its way: no resume past it is answered here.
        assert tail.since("a", known_from) is None


def test_a_late_copy_changes_nothing():
    tail = RecentEvents()
    deliver(tail, "a", (10, 1), (11, 2), (10, 1))

    assert ids(tail.since("a", 10)) == [11]


def test_what_falls_out_of_a_bounded_company_tail_moves_its_known_start():
    tail = RecentEvents(per_company=3)
    deliver(tail, "a", *[(event_id, event_id) for event_id in range(1, 7)])

    assert tail.since("a", 2) is None
    assert ids(tail.since("a", 3)) == [4, 5, 6]
    assert tail.since("a", 3).sequence == 3


def test_companies_heard_from_longest_ago_go_first_past_the_total_bound():
    tail = RecentEvents(per_company=4, max_events=4)
    deliver(tail, "a", (1, 1), (2, 2))
    deliver(tail, "b", (3, 1), (4, 2))
    deliver(tail, "c", (5, 1))

    assert tail.since("a", 1) is None
    assert ids(tail.since("b", 3)) == [4]
    assert ids(tail.since("c", 5)) == []


def test_all_company_streams_resume_only_over_consecutive_ids():
    tail = RecentEvents()
    for event_id in (5, 6, 7, 9, 10):
        tail.record_for_all_companies(event_id, 0, frame(event_id))

    # 8 never came here: only from 9 on is the tail whole.
    assert tail.since(None, 7) is None
    assert ids(tail.since(None, 9)) == [10]


def test_filling_from_the_log_joins_what_was_delivered_meanwhile():
    tail = RecentEvents()
    # Delivered while the log was being read: event 13 (company a's fourth).
    deliver(tail, "a", (13, 4))
    tail.record_for_all_companies(13, 4, frame(13))
    tail.fill(9, [("a", 10, 1, frame(10)), ("b", 11, 7, frame(11)), ("a", 12, 3, frame(12))])

    # Company a's events after 9 are 10 and 12 (sequence 2 went before 9), then 13.
    assert ids(tail.since("a", 9)) == [10, 12, 13]
    # Sequence 2 went before the read: the log's window starts after it.
    assert tail.since("a", 9).sequence == 0
    assert ids(tail.since("b", 9)) == [11]
    assert ids(tail.since(None, 9)) == [10, 11, 12, 13]
    assert tail.since(None, 8) is None


def test_a_fill_that_does_not_meet_the_delivered_events_is_not_trusted():
    tail = RecentEvents()
    deliver(tail, "a", (20, 9))
    tail.record_for_all_companies(20, 9, frame(20))
    tail.fill(9, [("a", 10, 1, frame(10))])

    assert tail.since("a", 9) is None
    assert ids(tail.since("a", 20)) == []
    assert tail.since(None, 9) is None


def test_a_forgotten_company_is_left_to_the_log():
    tail = RecentEvents()
    deliver(tail, "a", (10, 1), (11, 2))
    tail.forget("a")

    assert tail.since("a", 10) is None
    deliver(tail, "b", (12, 1), (13, 2))
    deliver(tail, "a", (14, 5))
    assert tail.since("a", 11) is None
    assert ids(tail.since("a", 14)) == []


def test_a_company_resume_waits_for_an_earlier_event_still_on_its_way():
    tail = RecentEvents()
    deliver(tail, "a", (10, 1))
    # Company a's event 11 is still crossing from another worker when b's 12 arrives, and a
    # client that already got 11 elsewhere resumes from it here.
    deliver(tail, "b", (12, 1))
    assert tail.since("a", 11) is None
    assert tail.since("a", 12) is None

    deliver(tail, "a", (11, 2))
    assert ids(tail.since("a", 11)) == []
    assert tail.since("a", 11).sequence == 2
