"""Estimate how many guesses a secret would take: the one judge of passwords and signing keys.

zxcvbn (Dropbox's estimator, maintained as the `zxcvbn` package) counts the guesses an
attacker who knows common passwords, words, names, keyboard patterns, repeats, sequences and
dates would need, rather than the characters a secret is made of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.lock import Semaphore

# zxcvbn refuses longer input. The first 72 characters bound a longer secret's estimate from
# below: characters after them only add guesses.
ESTIMATED_LENGTH = 72
# Words of the product itself, which an attacker tries first: its name, its demo companies
# and the published demo password.
PRODUCT_WORDS = ("everfresh", "brighthome", "everfresh-demo", "cleaning", "booking")
# zxcvbn keeps each call's own words in a module-level dictionary: two calls at once, on two
# threads, could judge a secret against each other's words.
_ONE_CALL_AT_A_TIME = Semaphore()


@dataclass(frozen=True)
class Estimate:
    """How hard a secret is to guess: log10 of the guesses, and what gives it away, in words."""

    guesses_log10: float
    # What makes it guessable ("This is a very common password."), or "".
    warning: str
    # How to do better, a sentence each.
    suggestions: tuple[str, ...]

    @property
    def advice(self) -> str:
        """Return the warning and the suggestions as one text, or ""."""
        return " ".join(sentence for sentence in (self.warning, *self.suggestions) if sentence)


def estimate(secret: str, known_words: Sequence[str] = ()) -> Estimate:
    """Estimate the guesses `secret` takes for someone who also knows `known_words`."""
    words = [*PRODUCT_WORDS, *known_words]
    # 1 to 90 ms of CPU (measured; 72 characters of random hex are the slowest): on the hub's
    # thread pool, so the worker's streams go on meanwhile, one call at a time.
    with _ONE_CALL_AT_A_TIME:
        result = gevent.get_hub().threadpool.apply(_zxcvbn, (secret[:ESTIMATED_LENGTH], words))
    feedback = result["feedback"]
    return Estimate(
        float(result["guesses_log10"]), feedback["warning"], tuple(feedback["suggestions"])
    )


def _zxcvbn(secret: str, words: list[str]) -> dict[str, Any]:
    # Imported here: its dictionaries cost a process about 14 MB, which only the processes
    # that judge a password or a production signing key need.
    from zxcvbn import zxcvbn

    return zxcvbn(secret, user_inputs=words)
