"""EverFresh: a multi-company booking backend that pushes new bookings to staff live."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import INSTANCE_DIR, config_from_environment
from everfresh import commands, database, errors, ops, sse
from everfresh.auth.views import bp as auth_bp
from everfresh.bookings.views import bp as bookings_bp
from everfresh.catalog.views import bp as catalog_bp
from everfresh.companies.views import bp as companies_bp
from everfresh.extensions import jwt
from everfresh.signing_key import ensure_signing_key


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create an EverFresh app configured from the environment, with `config` overriding it."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(config_from_environment())
    app.config.from_mapping(config or {})
    app.json.sort_keys = False
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    ensure_signing_key(app)

    database.init_app(app)
    jwt.init_app(app)
    errors.init_app(app)
    for blueprint in (auth_bp, companies_bp, catalog_bp, bookings_bp):
        app.register_blueprint(blueprint)
    sse.init_app(app)
    ops.init_app(app)
    commands.init_app(app)
    return app
