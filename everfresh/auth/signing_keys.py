"""Sign tokens with the current key, and accept the previous key's while a rotation runs.

Each token names the key that signed it in its `kid` header: a short digest, never the key.
Rotating `JWT_SECRET_KEY` means moving the old value to `JWT_PREVIOUS_SECRET_KEY` and
setting a new one; tokens signed before keep working until they expire (refresh tokens:
`JWT_REFRESH_TOKEN_DAYS`), then the previous key can go.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, current_app

from everfresh.extensions import jwt

EXTENSION_KEY = "everfresh.signing_keys"


def key_id(key: str) -> str:
    """Return the public name of a signing key: the start of its SHA-256 digest."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def signing_headers(_identity: Any) -> dict[str, str]:
    """Name the current key in every new token's header."""
    return {"kid": key_id(current_app.config["JWT_SECRET_KEY"])}


def verification_key(header: dict[str, Any], _payload: dict[str, Any]) -> str:
    """Return the key a token claims to be signed with, if it is one we hold.

    A token without `kid` predates key names and was signed with the current key. An
    unknown `kid` gets the current key too, so its signature fails like any forgery.
    """
    keys = current_app.extensions[EXTENSION_KEY]
    current = current_app.config["JWT_SECRET_KEY"]
    return keys.get(header.get("kid"), current)


def init_app(app: Flask) -> None:
    """Hold the current and, during a rotation, the previous key, by their names."""
    keys = [app.config["JWT_SECRET_KEY"], app.config.get("JWT_PREVIOUS_SECRET_KEY") or ""]
    app.extensions[EXTENSION_KEY] = {key_id(key): key for key in keys if key}
    jwt.additional_headers_loader(signing_headers)
    jwt.decode_key_loader(verification_key)
