"""Store the people who log in, with their role and company."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from everfresh.extensions import db
from everfresh.ids import prefixed_id
from everfresh.timestamps import UTCDateTime, utcnow


class Role(StrEnum):
    """What a user may do; every user has exactly one."""

    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


class User(db.Model):
    """Someone who logs in: a customer, a staff member, a company admin or a superadmin."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(
        String(40), primary_key=True, default=lambda: prefixed_id("user")
    )
    # Stored lower-cased, so uniqueness and login are case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(20))
    # Null only for a superadmin, who belongs to no company.
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"), index=True)
    # The Customer a `customer` user books for.
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Tokens issued before this moment are refused: set when the user is deactivated or an
    # admin ends their sessions, so reactivation never brings old tokens back.
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by an admin's password reset: until the user chooses a new password, their calls are
    # refused with 403 "Password Change Required" (everfresh/auth/access.py).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def end_sessions(self) -> None:
        """Void every token issued to the user until now; the caller commits."""
        self.sessions_valid_after = utcnow()

    def set_password_hash(self, password_hash: str, must_change: bool = False) -> None:
        """Replace the password and void every token issued until now; the caller commits.

        `must_change` marks a temporary password the user must replace before anything else.
        """
        self.password_hash = password_hash
        self.must_change_password = must_change
        self.end_sessions()


def issued_before_sessions_ended(sessions_valid_after: datetime | None, issued_at: float) -> bool:
    """Tell whether a token issued at `issued_at` (epoch seconds) predates its user's mark."""
    return sessions_valid_after is not None and issued_at < sessions_valid_after.timestamp()
