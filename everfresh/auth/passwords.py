"""Hash and check passwords off the event loop, and hold every new password to one policy.

The policy applies wherever a password is chosen: `POST /auth/password`, `POST /users`,
`flask create-user` and `flask set-password`. Only the demo seed, whose logins production
refuses anyway, writes a password without it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from functools import cache
from typing import TypeVar

import gevent
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from everfresh.auth.strength import estimate
from everfresh.errors import ValidationFailed

ResultT = TypeVar("ResultT")

MIN_PASSWORD_LENGTH = 12
# zxcvbn's "safely unguessable" score (3): 10^8 guesses, months for an online attacker
# held to the login limits, and a long way for one holding the scrypt hashes.
MIN_PASSWORD_GUESSES_LOG10 = 8.0
TOO_SHORT = f"Use at least {MIN_PASSWORD_LENGTH} characters."
TOO_GUESSABLE = "This password is too easy to guess."
DEFAULT_ADVICE = "Add another word or two; uncommon words are better."
# Temporary passwords: no characters that read alike (0/O, 1/l/I), in groups of five.
TEMPORARY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
TEMPORARY_GROUPS = 4
TEMPORARY_GROUP_LENGTH = 5


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


def words_of(*texts: str | None) -> list[str]:
    """Return `texts` (an email, a name) and their parts, as words a guesser would try."""
    words: list[str] = []
    for text in texts:
        if text:
            words += [text, *(part for part in re.split(r"[\s@.+_-]+", text) if part)]
    return words


def password_problem(password: str, known_words: Sequence[str] = ()) -> str | None:
    """Return why `password` may not be chosen, in words, or None if the policy accepts it.

    `known_words` are what a guesser knows of the account: its email and name.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    judged = estimate(password, known_words)
    if judged.guesses_log10 < MIN_PASSWORD_GUESSES_LOG10:
        return f"{TOO_GUESSABLE} {judged.advice or DEFAULT_ADVICE}"
    return None


def require_acceptable_password(
    password: str, field: str, known_words: Sequence[str] = ()
) -> None:
    """Raise a 422 naming `field` unless the password policy accepts `password`."""
    problem = password_problem(password, known_words)
    if problem is not None:
        raise ValidationFailed({field: problem})


def temporary_password() -> str:
    """Return a new random one-time password: 20 characters in groups of five, about 115 bits."""
    return "-".join(
        "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_GROUP_LENGTH))
        for _ in range(TEMPORARY_GROUPS)
    )
