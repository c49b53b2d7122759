"""EverFresh: a multi-company booking backend that pushes new bookings to staff live."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import INSTANCE_DIR, read_settings
from everfresh import auth, commands, database, demo, errors, ops, sse
from everfresh.accounts.views import bp as accounts_bp
from everfresh.auth.views import bp as auth_bp
from everfresh.board import bp as board_bp
from everfresh.bookings.views import bp as bookings_bp
from everfresh.catalog.views import bp as catalog_bp
from everfresh.companies.views import bp as companies_bp
from everfresh.openapi import bp as openapi_bp
from everfresh.signing_key import ensure_signing_key, ensure_tokens_stay_out_of_logs
from everfresh.web import (
    body_deadline,
    cors,
    json_depth,
    proxy,
    request_id,
    request_log,
    request_timing,
    security_headers,
    text_input,
)


def create_app(config: Mapping[str, Any] | None = None, environment: str | None = None) -> Flask:
    """Create an EverFresh app configured from the environment, with `config` overriding it.

    `environment` (development, testing, production) picks the defaults; without it
    `EVERFRESH_ENV` does.
    """
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_mapping(read_settings(environment).flask_config())
    app.config.from_mapping(config or {})
    app.json.sort_keys = False
    request_log.init_app(app)
    request_id.init_app(app)
    request_timing.init_app(app)
    ensure_signing_key(app)
    ensure_tokens_stay_out_of_logs(app)
    proxy.init_app(app)
    body_deadline.init_app(app)
    json_depth.init_app(app)

    database.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)
    text_input.init_app(app)
    cors.init_app(app)
    for blueprint in (
        auth_bp,
        accounts_bp,
        companies_bp,
        catalog_bp,
        bookings_bp,
        board_bp,
        openapi_bp,
    ):
        app.register_blueprint(blueprint)
    sse.init_app(app)
    ops.init_app(app)
    commands.init_app(app)
    demo.init_app(app)
    return app
