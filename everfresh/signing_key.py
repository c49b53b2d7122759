"""Make sure tokens are signed with a strong key, and that production never uses a default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

MIN_KEY_BYTES = 32


class InsecureConfiguration(RuntimeError):
    """Raised at start-up when a setting would make the service unsafe to run."""


def ensure_signing_key(app: Flask) -> None:
    """Check the JWT signing key; outside production, make and keep one under instance/."""
    key = app.config.get("JWT_SECRET_KEY") or ""
    if app.config["ENV_NAME"] == "production":
        if len(key.encode()) < MIN_KEY_BYTES:
            raise InsecureConfiguration(
                f"Set JWT_SECRET_KEY to a random value of at least {MIN_KEY_BYTES} bytes, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return
    if not key:
        app.config["JWT_SECRET_KEY"] = _development_key(Path(app.instance_path) / "jwt-secret-key")


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
