"""Know which time zone names a company may be given."""

from __future__ import annotations

from functools import cache
from importlib import resources

DEFAULT_TIMEZONE = "UTC"


@cache
def known_timezones() -> frozenset[str]:
    """Return every IANA time zone name, as the pinned tzdata package lists them."""
    # Not zoneinfo.available_timezones(): it also scans the host's zoneinfo directory, which
    # may hold files such as "localtime" that are no zone name, so the answer would differ
    # from host to host.
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(names.split())


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone name, else raise ValueError saying what to send."""
    # ZoneInfo alone would also open "posixrules", or "europe/london" on a case-insensitive
    # file system: only the database's own names are stored.
    if name not in known_timezones():
        raise ValueError("Unknown time zone: use an IANA name such as Europe/London.")
    return name
