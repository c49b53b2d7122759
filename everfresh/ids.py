"""Make the public identifiers of EverFresh rows: ULIDs, optionally behind a type prefix."""

from ulid import ULID


def new_ulid() -> str:
    """Return a fresh ULID: 26 characters of uppercase Crockford base32, sortable by time."""
    return str(ULID())


def prefixed_id(prefix: str) -> str:
    """Return a fresh id such as ``cust_01J...`` for the given type prefix."""
    return f"{prefix}_{new_ulid()}"
