"""Know which currencies a company may price its services in."""

from __future__ import annotations

from functools import cache

from iso4217 import Currency

DEFAULT_CURRENCY = "GBP"


@cache
def known_currencies() -> frozenset[str]:
    """Return the ISO 4217 codes of the currencies prices can be in, from the pinned list."""
    # The list also codes gold, the IMF's drawing rights, bond units and "no currency" (XXX);
    # none of them has a minor unit, and none is something a cleaning is priced in.
    return frozenset(currency.code for currency in Currency if currency.exponent is not None)


def check_currency(code: str) -> str:
    """Return `code` if it is an ISO 4217 currency code, else raise ValueError saying so."""
    if code not in known_currencies():
        raise ValueError("Unknown currency: use an ISO 4217 code such as GBP, EUR or USD.")
    return code
