"""Decide who may do what to a booking, and which status moves the workflow allows.

One function, `refusal`, is the home of these rules: a PATCH is checked with it, and the
`allowed_actions` every booking answer carries are the actions it does not refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from werkzeug.exceptions import Forbidden, HTTPException

from everfresh.auth.access import ROLE_REFUSAL
from everfresh.auth.models import Role, User
from everfresh.bookings.models import Booking, BookingStatus
from everfresh.catalog.models import Staff
from everfresh.errors import FieldConflict
from everfresh.extensions import db


class Action(StrEnum):
    """Something a caller may do to a booking; PATCH bodies are read as these."""

    ASSIGN = "assign"
    ASSIGN_SELF = "assign_self"
    CANCEL = "cancel"
    COMPLETE = "complete"
    CONFIRM = "confirm"
    EDIT_NOTES = "edit_notes"
    RESCHEDULE = "reschedule"
    START = "start"


@dataclass(frozen=True)
class Move:
    """A status change of the workflow: the statuses it starts from and the one it ends in."""

    sources: frozenset[BookingStatus]
    target: BookingStatus


FINAL_STATUSES = frozenset({BookingStatus.COMPLETED, BookingStatus.CANCELLED})
# pending → confirmed → in_progress → completed, and cancelled from any status not final.
MOVES = {
    Action.CONFIRM: Move(frozenset({BookingStatus.PENDING}), BookingStatus.CONFIRMED),
    Action.START: Move(frozenset({BookingStatus.CONFIRMED}), BookingStatus.IN_PROGRESS),
    Action.COMPLETE: Move(frozenset({BookingStatus.IN_PROGRESS}), BookingStatus.COMPLETED),
    Action.CANCEL: Move(frozenset(BookingStatus) - FINAL_STATUSES, BookingStatus.CANCELLED),
}
STAFF_ACTIONS = frozenset(
    {Action.CONFIRM, Action.START, Action.COMPLETE, Action.EDIT_NOTES, Action.ASSIGN_SELF}
)
# Customers are missing on purpose: they may book, but never change a booking.
ROLE_ACTIONS = {
    Role.STAFF: STAFF_ACTIONS,
    Role.ADMIN: frozenset(Action),
    Role.SUPERADMIN: frozenset(Action),
}
# Why staff may not do the actions kept for admins, in words a person can act on.
ADMIN_ONLY = {
    Action.ASSIGN: "Staff assign only themselves, and only to an unassigned booking; "
    "an admin assigns anyone else, or no one.",
    Action.CANCEL: "Only an admin may cancel a booking.",
    Action.RESCHEDULE: "Only an admin may reschedule a booking.",
}
RESCHEDULING_FIELDS = ("scheduled_date", "scheduled_time_start")


class Caller:
    """The user acting on bookings, and the staff member they are, looked up when first needed."""

    def __init__(self, user: User) -> None:
        self.user = user

    @cached_property
    def staff_member(self) -> tuple[str, str] | None:
        """Return (id, company_id) of the Staff row linked to the user, or None."""
        if self.user.role not in (Role.STAFF, Role.ADMIN):
            return None
        row = db.session.execute(
            db.select(Staff.id, Staff.company_id).where(Staff.user_id == self.user.id)
        ).first()
        return None if row is None else (row.id, row.company_id)

    def staff_id_in(self, company_id: str) -> str | None:
        """Return the id of the caller's own Staff row in `company_id`, or None."""
        member = self.staff_member
        return member[0] if member is not None and member[1] == company_id else None


def refusal(caller: Caller, booking: Booking, action: Action) -> HTTPException | None:
    """Return the error refusing `action` on `booking` by `caller` now, or None if it is allowed.

    The booking's state is judged first (409: final, or a status move the workflow does not
    have), then the caller's role (403).
    """
    if booking.status in FINAL_STATUSES:
        return _final(booking)
    move = MOVES.get(action)
    if move is not None and booking.status not in move.sources:
        return _no_such_move(booking.status, move.target)
    if action not in ROLE_ACTIONS.get(caller.user.role, frozenset()):
        return Forbidden(ADMIN_ONLY.get(action, ROLE_REFUSAL))
    if action is Action.ASSIGN_SELF:
        # The booking first: then an assigned booking costs no look-up of the caller's staff row.
        if booking.staff_id is not None:
            return FieldConflict(
                {"staff_id": "The booking is assigned already."},
                "Only an unassigned booking can be taken.",
            )
        if caller.staff_id_in(booking.company_id) is None:
            return Forbidden("Your account is not linked to a staff member of this company.")
    return None


def allowed_actions(caller: Caller, booking: Booking) -> list[Action]:
    """Return, sorted, every action `caller` may take on `booking` now."""
    return [action for action in sorted(Action) if refusal(caller, booking, action) is None]


def actions_of(caller: Caller, booking: Booking, changes: dict[str, Any]) -> list[Action]:
    """Return the actions a PATCH's `changes` (field name to new value) amount to, status first.

    A change of status that no move of the workflow makes is refused here (409).
    """
    if booking.status in FINAL_STATUSES:
        raise _final(booking)
    actions = []
    if "status" in changes:
        actions.append(_status_action(booking.status, changes["status"]))
    if "staff_id" in changes:
        own = caller.staff_id_in(booking.company_id)
        taking = booking.staff_id is None and own is not None and changes["staff_id"] == own
        actions.append(Action.ASSIGN_SELF if taking else Action.ASSIGN)
    if any(name in changes for name in RESCHEDULING_FIELDS):
        actions.append(Action.RESCHEDULE)
    if "notes" in changes:
        actions.append(Action.EDIT_NOTES)
    return actions


def check_change(caller: Caller, booking: Booking, changes: dict[str, Any]) -> None:
    """Refuse (409 or 403) a change the workflow or the caller's role does not allow.

    A final booking takes no change at all, not even one that would leave it as it is.
    """
    for action in actions_of(caller, booking, changes):
        refused = refusal(caller, booking, action)
        if refused is not None:
            raise refused


def _status_action(current: BookingStatus, target: BookingStatus) -> Action:
    for action, move in MOVES.items():
        if move.target == target and current in move.sources:
            return action
    raise _no_such_move(current, target)


def _final(booking: Booking) -> FieldConflict:
    return FieldConflict(
        {"status": f"A {booking.status} booking is final."},
        f"The booking is {booking.status}; it can no longer change.",
    )


def _no_such_move(current: BookingStatus, target: BookingStatus) -> FieldConflict:
    onward = [move.target for move in MOVES.values() if current in move.sources]
    return FieldConflict(
        {"status": f"A {current} booking moves only to {' or '.join(onward)}, not to {target}."},
        "The workflow does not allow this change of status.",
    )
