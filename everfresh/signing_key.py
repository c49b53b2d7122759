"""Refuse weak signing keys and logged query tokens in production; make a key elsewhere."""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from pathlib import Path

from flask import Flask

from config import ConfigurationError

MIN_KEY_BYTES = 32
# Bits per character of the key's own character frequencies. Random keys in any usual alphabet
# clear it (32 hex digits, the poorest, average 3.66 and fall under 3.0 about once in 13,000
# draws; base64 keys never do), while one character repeated gives 0 and "abcd" repeated, 2.
MIN_KEY_BITS_PER_CHARACTER = 3.0


class InsecureConfiguration(ConfigurationError, RuntimeError):
    """Raised at start-up when a setting would make the service unsafe to run."""


def ensure_signing_key(app: Flask) -> None:
    """Check the JWT signing key; outside production, make and keep one under instance/."""
    key = app.config.get("JWT_SECRET_KEY") or ""
    if app.config["ENV_NAME"] == "production":
        previous = app.config.get("JWT_PREVIOUS_SECRET_KEY") or ""
        if previous and (
            len(previous.encode()) < MIN_KEY_BYTES
            or bits_per_character(previous) < MIN_KEY_BITS_PER_CHARACTER
        ):
            raise InsecureConfiguration(
                "JWT_PREVIOUS_SECRET_KEY must be the random key used before the rotation "
                f"(at least {MIN_KEY_BYTES} bytes), or empty."
            )
        if len(key.encode()) < MIN_KEY_BYTES:
            raise InsecureConfiguration(
                f"Set JWT_SECRET_KEY to a random value of at least {MIN_KEY_BYTES} bytes, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        if bits_per_character(key) < MIN_KEY_BITS_PER_CHARACTER:
            raise InsecureConfiguration(
                "JWT_SECRET_KEY is too repetitive to be random (under "
                f"{MIN_KEY_BITS_PER_CHARACTER:g} bits per character); set it to a random value, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return
    if not key:
        app.config["JWT_SECRET_KEY"] = _development_key(Path(app.instance_path) / "jwt-secret-key")


def bits_per_character(text: str) -> float:
    """Estimate the entropy of `text` from its character frequencies (Shannon), in bits."""
    counts = Counter(text)
    total = len(text)
    return -sum(count / total * math.log2(count / total) for count in counts.values())


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
