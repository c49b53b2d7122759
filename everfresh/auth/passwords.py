"""Hash and check passwords off the event loop, so a login never freezes open streams."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

import gevent
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

ResultT = TypeVar("ResultT")


def _in_threadpool(function: Callable[..., ResultT], *args: object) -> ResultT:
    # A hash costs 100+ ms of CPU; run on the hub's thread pool the stream greenlets keep going.
    return gevent.get_hub().threadpool.apply(function, args)


def hash_password(password: str) -> str:
    """Return a salted hash of `password` using the configured method."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    return _in_threadpool(generate_password_hash, password, method)


@cache
def _decoy_hash(method: str) -> str:
    return generate_password_hash("everfresh-decoy-password", method)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check `password` against `password_hash`; without a hash, spend the same time and fail.

    Checking against a decoy hash when the email is unknown makes both failures take as
    long, so timing does not reveal which emails have accounts.
    """
    if password_hash is None:
        decoy = _decoy_hash(current_app.config["PASSWORD_HASH_METHOD"])
        _in_threadpool(check_password_hash, decoy, password)
        return False
    return _in_threadpool(check_password_hash, password_hash, password)
