"""Believe a reverse proxy's X-Forwarded-* headers only when the operator says one is there."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Trust `PROXY_FIX_X_FOR` / `PROXY_FIX_X_PROTO` proxies in front of `app`; by default none.

    Without a proxy, anyone can send X-Forwarded-For: believing it would let a client pick
    the IP that login attempts are counted against. Behind nginx, set both to 1, so that the
    client's address and the original https scheme are seen.
    """
    x_for, x_proto = app.config["PROXY_FIX_X_FOR"], app.config["PROXY_FIX_X_PROTO"]
    if x_for or x_proto:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto)
