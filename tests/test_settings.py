"""Read the settings from the environment when the app is created, with named type errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config import SettingsError, read_settings
from everfresh import create_app
from everfresh.extensions import db


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SSE_HEARTBEAT_SECONDS", "x", "SSE_HEARTBEAT_SECONDS must be a whole number, got 'x'"),
        ("DATABASE_POOL_SIZE", "1.5", "DATABASE_POOL_SIZE must be a whole number, got '1.5'"),
        ("WEB_CONCURRENCY", "two", "WEB_CONCURRENCY must be a whole number, got 'two'"),
        ("SSE_QUERY_TOKEN", "maybe", "SSE_QUERY_TOKEN must be true or false, got 'maybe'"),
        ("JWT_COOKIE_SECURE", "Y", "JWT_COOKIE_SECURE must be true or false, got 'y'"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of text, json, got 'xml'"),
        (
            "LOG_LEVEL",
            "loud",
            "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_named_in_one_message(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as raised:
        read_settings("development")

    assert str(raised.value) == message


def test_every_bad_variable_is_named_at_once(monkeypatch):
    monkeypatch.setenv("SSE_QUEUE_SIZE", "many")
    monkeypatch.setenv("RATELIMIT_ENABLED", "sometimes")

    with pytest.raises(SettingsError) as raised:
        read_settings("development")

    assert str(raised.value) == (
        "SSE_QUEUE_SIZE must be a whole number, got 'many'\n"
        "RATELIMIT_ENABLED must be true or false, got 'sometimes'"
    )


def test_an_unknown_environment_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("EVERFRESH_ENV", "staging")

    with pytest.raises(
        SettingsError,
        match=r"EVERFRESH_ENV must be one of \['development', 'production', 'testing'\], "
        r"got 'staging'",
    ):
        read_settings()


@pytest.mark.parametrize(
    ("environment", "expected"),
    [(" Production ", "production"), ("", "development"), ("testing", "testing")],
)
def test_everfresh_env_picks_the_environment(monkeypatch, environment, expected):
    monkeypatch.setenv("EVERFRESH_ENV", environment)

    assert read_settings().environment == expected


def test_values_are_parsed_into_the_flask_config_keys(monkeypatch):
    for name, value in {
        "DATABASE_URL": " sqlite:///elsewhere.sqlite3 ",
        "JWT_ACCESS_TOKEN_MINUTES": "5",
        "JWT_REFRESH_TOKEN_DAYS": "2",
        "SSE_QUERY_TOKEN": "ON",
        "CORS_ORIGINS": " https://a.example, ,https://b.example ",
        "LOG_LEVEL": "debug",
        "LOG_FORMAT": "JSON",
    }.items():
        monkeypatch.setenv(name, value)

    config = read_settings("development").flask_config()

    assert {
        name: config[name]
        for name in (
            "SQLALCHEMY_DATABASE_URI",
            "JWT_ACCESS_TOKEN_EXPIRES",
            "JWT_REFRESH_TOKEN_EXPIRES",
            "SSE_QUERY_TOKEN",
            "CORS_ORIGINS",
            "LOG_LEVEL",
            "LOG_FORMAT",
        )
    } == {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///elsewhere.sqlite3",
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=5),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=2),
        "SSE_QUERY_TOKEN": True,
        "CORS_ORIGINS": ["https://a.example", "https://b.example"],
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "json",
    }


def test_a_blank_variable_keeps_the_default(monkeypatch):
    monkeypatch.setenv("SSE_HEARTBEAT_SECONDS", "  ")
    monkeypatch.setenv("REDIS_PREFIX", "")

    settings = read_settings("development")

    assert (settings.sse_heartbeat_seconds, settings.redis_prefix) == (30, "everfresh")


@pytest.mark.parametrize(
    ("environment", "secure"), [("development", False), ("testing", False), ("production", True)]
)
def test_cookie_security_defaults_per_environment(monkeypatch, environment, secure):
    monkeypatch.delenv("JWT_COOKIE_SECURE", raising=False)

    assert read_settings(environment).flask_config()["JWT_COOKIE_SECURE"] is secure


def test_production_cookies_can_still_be_sent_over_http_when_told(monkeypatch):
    monkeypatch.setenv("JWT_COOKIE_SECURE", "false")

    assert read_settings("production").flask_config()["JWT_COOKIE_SECURE"] is False


def test_the_test_suites_own_values_beat_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://somewhere/real")
    monkeypatch.setenv("REDIS_URL", "redis://somewhere:6379/0")
    monkeypatch.setenv("SSE_HEARTBEAT_SECONDS", "30")

    config = read_settings("testing").flask_config()

    assert (
        config["SQLALCHEMY_DATABASE_URI"],
        config["REDIS_URL"],
        config["SSE_HEARTBEAT_SECONDS"],
        config["TESTING"],
    ) == ("sqlite:///:memory:", "", 1, True)


def test_the_environment_is_read_when_the_app_is_created(monkeypatch, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'settings.sqlite3'}"
    monkeypatch.setenv("SSE_QUEUE_SIZE", "7")
    first = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    monkeypatch.setenv("SSE_QUEUE_SIZE", "9")
    second = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")

    assert (first.config["SSE_QUEUE_SIZE"], second.config["SSE_QUEUE_SIZE"]) == (7, 9)
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_a_bad_variable_stops_the_app_from_starting(monkeypatch):
    monkeypatch.setenv("SSE_REPLAY_HOURS", "a day")

    with pytest.raises(SettingsError, match="SSE_REPLAY_HOURS must be a whole number, got 'a day'"):
        create_app(environment="testing")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [("LOG_FORMAT", "JSON", "json"), ("LOG_LEVEL", "warning", "WARNING")],
)
def test_log_choices_are_read_in_any_case(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)

    assert read_settings("development").flask_config()[name] == expected
