"""Answer with bookings as the caller sees them: each one with what the caller may do next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from everfresh.bookings import schemas
from everfresh.bookings.models import Booking
from everfresh.bookings.workflow import Action, Caller, allowed_actions
from everfresh.web.responses import serialise


@dataclass(frozen=True)
class SeenBy:
    """A booking together with the actions one caller may take on it, read as one object."""

    booking: Booking
    allowed_actions: list[Action]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.booking, name)


def seen_by(caller: Caller, booking: Booking) -> SeenBy:
    """Pair `booking` with the actions `caller` may take on it now."""
    return SeenBy(booking, allowed_actions(caller, booking))


def booking_answer(caller: Caller, booking: Booking) -> dict[str, Any]:
    """Return `booking` as the JSON the bookings endpoints answer to `caller`."""
    return serialise(schemas.Booking, seen_by(caller, booking))
