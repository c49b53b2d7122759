"""Configure the database engine for SQLite or PostgreSQL, and create or upgrade the schema."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from everfresh.extensions import db, migrate


def engine_options(database_url: str, pool_size: int) -> dict[str, Any]:
    """Return SQLAlchemy engine options suited to the database behind `database_url`."""
    if make_url(database_url).get_backend_name() == "sqlite":
        # SQLite calls never yield to other greenlets, so one connection per process,
        # used in short transactions, is both the fastest and the safest.
        return {
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 30,
            "connect_args": {"check_same_thread": False, "timeout": 15},
        }
    return {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def init_app(app: Flask) -> None:
    """Bind the database and migrations to `app` with engine options for its database."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(uri, app.config["DATABASE_POOL_SIZE"])
    )
    db.init_app(app)
    migrate.init_app(app, db)


def create_schema() -> None:
    """Create every table that does not exist yet."""
    db.create_all()
