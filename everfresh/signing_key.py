"""Refuse guessable signing keys and logged query tokens in production; make a key elsewhere."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from config import ConfigurationError
from everfresh.auth.strength import estimate

MIN_KEY_BYTES = 32
# A random 256-bit key would take 2^256 (10^77) guesses, but zxcvbn credits a random string
# at most 10^(its length): 43 characters of base64, `token_urlsafe(32)`, get about 10^43.
# Measured: in 20,000 draws of token_urlsafe(32) the lowest estimate was 10^40.2; in 5,000 of
# token_hex(32), 10^59.8. The guessable keys sit far below: "your-256-bit-secret-your-256-
# bit-secret" 10^30.0, "everfresh-demo-everfresh-demo-everfresh" 10^17.9, repeated
# "0123456789abcdef" 10^4.8, and token_hex(16) (128 bits, half an HS256 key) 10^26.7-10^32.
MIN_KEY_GUESSES_LOG10 = 38.0
KEY_ADVICE = (
    'Set it to a random value, e.g. `python -c "import secrets; print(secrets.token_hex(32))"`.'
)
# A weak previous key cannot be replaced by another: the tokens it signed could be forged.
PREVIOUS_KEY_ADVICE = "Leave it empty: every session it signed then ends (users log in again)."


class InsecureConfiguration(ConfigurationError, RuntimeError):
    """Raised at start-up when a setting would make the service unsafe to run."""


def ensure_signing_key(app: Flask) -> None:
    """Check the JWT signing keys in production; outside production, make and keep one."""
    key = app.config.get("JWT_SECRET_KEY") or ""
    if app.config["ENV_NAME"] == "production":
        previous = app.config.get("JWT_PREVIOUS_SECRET_KEY") or ""
        if previous:
            refuse_weak_key("JWT_PREVIOUS_SECRET_KEY", previous, PREVIOUS_KEY_ADVICE)
        refuse_weak_key("JWT_SECRET_KEY", key)
        return
    if not key:
        app.config["JWT_SECRET_KEY"] = _development_key(Path(app.instance_path) / "jwt-secret-key")


def refuse_weak_key(setting: str, key: str, advice: str = KEY_ADVICE) -> None:
    """Raise InsecureConfiguration unless `key` is long and hard enough to guess to sign tokens.

    The strength estimator is the passwords' own: repeats, sequences, keyboard patterns and
    dictionary words give a key away however long it is.
    """
    if len(key.encode()) < MIN_KEY_BYTES:
        raise InsecureConfiguration(
            f"{setting} is shorter than the {MIN_KEY_BYTES} bytes a signing key needs. {advice}"
        )
    judged = estimate(key)
    if judged.guesses_log10 < MIN_KEY_GUESSES_LOG10:
        found = f" ({judged.warning.rstrip('.')})" if judged.warning else ""
        raise InsecureConfiguration(
            f"{setting} is too easy to guess: about 10^{judged.guesses_log10:.0f} guesses, "
            f"under the 10^{MIN_KEY_GUESSES_LOG10:.0f} a signing key needs{found}. {advice}"
        )


def _development_key(path: Path) -> str:
    # Kept on disk so tokens survive restarts and are shared by every worker.
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        key = secrets.token_urlsafe(48)
        file.write(key)
    return key


def ensure_tokens_stay_out_of_logs(app: Flask) -> None:
    """In production, refuse `?token=` on streams while some log keeps query strings."""
    config = app.config
    if config["ENV_NAME"] != "production":
        return
    if config["SSE_QUERY_TOKEN"] and config["LOG_QUERY_STRINGS"]:
        raise InsecureConfiguration(
            "SSE_QUERY_TOKEN=true puts access tokens in URLs and LOG_QUERY_STRINGS=true says a "
            "log keeps query strings, so tokens would be written to logs. Keep query strings out "
            "of every log (gunicorn's and nginx's) and set LOG_QUERY_STRINGS=false, or set "
            "SSE_QUERY_TOKEN=false."
        )
