"""Check the resequencer: order per key, bounded holds for gaps, late and repeated numbers."""

import pytest

from everfresh.sse.broker.resequencer import Resequencer

HOLD = 1.0


@pytest.fixture
def resequencer():
    return Resequencer(hold_seconds=HOLD)


def test_the_first_item_of_an_unknown_key_passes_at_once_whatever_its_number(resequencer):
    assert resequencer.receive("comp_a", 41, "a41", now=0.0) == ["a41"]
    assert resequencer.receive("comp_a", 42, "a42", now=0.0) == ["a42"]
    assert resequencer.next_deadline() is None


def test_items_in_order_pass_straight_through(resequencer):
    released = [resequencer.receive("comp_a", n, f"a{n}", now=0.0) for n in (1, 2, 3)]
    assert released == [["a1"], ["a2"], ["a3"]]
    assert resequencer.expire(now=10.0) == []


def test_an_early_item_waits_for_the_missing_one_then_both_pass_in_order(resequencer):
    assert resequencer.receive("comp_a", 1, "a1", now=0.0) == ["a1"]
    assert resequencer.receive("comp_a", 3, "a3", now=0.1) == []
    assert resequencer.receive("comp_a", 4, "a4", now=0.2) == []
    assert resequencer.next_deadline() == 0.1 + HOLD

    assert resequencer.receive("comp_a", 2, "a2", now=0.3) == ["a2", "a3", "a4"]
    assert resequencer.next_deadline() is None
    assert resequencer.expire(now=10.0) == []
    assert resequencer.receive("comp_a", 5, "a5", now=10.0) == ["a5"]


def test_a_gap_is_given_up_once_the_early_item_has_waited_the_hold(resequencer):
    resequencer.receive("comp_a", 1, "a1", now=0.0)
    assert resequencer.receive("comp_a", 3, "a3", now=0.5) == []
    assert resequencer.expire(now=0.5 + HOLD - 0.01) == []

    assert resequencer.expire(now=0.5 + HOLD) == ["a3"]
    assert resequencer.next_deadline() is None
    assert resequencer.receive("comp_a", 4, "a4", now=2.0) == ["a4"]


def test_giving_up_releases_held_items_in_order_across_several_gaps(resequencer):
    resequencer.receive("comp_a", 1, "a1", now=0.0)
    resequencer.receive("comp_a", 5, "a5", now=0.1)
    resequencer.receive("comp_a", 3, "a3", now=0.2)
    resequencer.receive("comp_a", 6, "a6", now=0.3)
    resequencer.receive("comp_a", 8, "a8", now=0.4)

    assert resequencer.expire(now=0.1 + HOLD) == ["a3", "a5", "a6"]
    # a8 arrived later and still waits its own full hold for number 7.
    assert resequencer.next_deadline() == 0.4 + HOLD
    assert resequencer.receive("comp_a", 7, "a7", now=0.5 + HOLD) == ["a7", "a8"]


def test_a_gap_filled_in_part_still_frees_a_later_item_within_its_hold(resequencer):
    resequencer.receive("comp_a", 1, "a1", now=0.0)
    resequencer.receive("comp_a", 4, "a4", now=0.1)
    assert resequencer.receive("comp_a", 2, "a2", now=0.2) == ["a2"]

    assert resequencer.expire(now=0.1 + HOLD) == ["a4"]


def test_a_given_up_item_that_turns_up_late_passes_without_disturbing_the_order(resequencer):
    resequencer.receive("comp_a", 1, "a1", now=0.0)
    resequencer.receive("comp_a", 3, "a3", now=0.0)
    assert resequencer.expire(now=HOLD) == ["a3"]

    assert resequencer.receive("comp_a", 2, "a2", now=2.0) == ["a2"]
    assert resequencer.receive("comp_a", 5, "a5", now=2.0) == []
    assert resequencer.receive("comp_a", 4, "a4", now=2.0) == ["a4", "a5"]


def test_repeated_numbers_pass_again_for_the_caller_to_drop_and_are_held_once(resequencer):
    resequencer.receive("comp_a", 1, "a1", now=0.0)
    assert resequencer.receive("comp_a", 1, "a1", now=0.0) == ["a1"]
    assert resequencer.receive("comp_a", 3, "a3", now=0.0) == []
    assert resequencer.receive("comp_a", 3, "a3 again", now=0.5) == []

    assert resequencer.receive("comp_a", 2, "a2", now=0.6) == ["a2", "a3"]
    assert resequencer.expire(now=10.0) == []


def test_keys_are_sequenced_independently(resequencer):
    resequencer.receive("comp_a", 1, "a1", now=0.0)
    resequencer.receive("comp_b", 7, "b7", now=0.0)
    assert resequencer.receive("comp_a", 3, "a3", now=0.1) == []
    assert resequencer.receive("comp_b", 8, "b8", now=0.2) == ["b8"]
    assert resequencer.receive("comp_b", 10, "b10", now=0.3) == []

    assert resequencer.expire(now=0.1 + HOLD) == ["a3"]
    assert resequencer.receive("comp_b", 9, "b9", now=0.2 + HOLD) == ["b9", "b10"]
    assert resequencer.next_deadline() is None


def test_any_hashable_key_works_for_one_line_across_every_key():
    resequencer = Resequencer(hold_seconds=HOLD)
    assert resequencer.receive(None, 100, "e100", now=0.0) == ["e100"]
    assert resequencer.receive(None, 102, "e102", now=0.0) == []
    assert resequencer.receive(None, 101, "e101", now=0.0) == ["e101", "e102"]


def test_a_forgotten_key_starts_a_new_line_with_its_next_item(resequencer):
    resequencer.receive("comp_a", 1, "a1", now=0.0)
    resequencer.receive("comp_a", 3, "a3", now=0.1)
    resequencer.receive("comp_b", 1, "b1", now=0.1)

    resequencer.forget("comp_a")

    assert resequencer.keys() == ["comp_b"]
    assert resequencer.next_deadline() is None
    assert resequencer.expire(now=10.0) == []
    # Long after, at number 40: passed at once, not held for 2 to 39.
    assert resequencer.receive("comp_a", 40, "a40", now=10.0) == ["a40"]
    assert resequencer.receive("comp_a", 41, "a41", now=10.0) == ["a41"]
