"""Check the board page and its cookie session: login, CSRF, refresh, logout, cookie streams."""

from __future__ import annotations

import pytest

from everfresh.sse.frames import connection_established_frame
from tests.dates import in_days

STAFF = {"email": "staff@everfresh.test", "password": "everfresh-demo"}
LOGIN_KEYS = {"access_token", "refresh_token", "token_type", "expires_in", "user"}


def set_cookies(response) -> dict[str, str]:
    """Map each cookie the response sets to its whole Set-Cookie header."""
    headers = response.headers.getlist("Set-Cookie")
    return {header.split("=", 1)[0]: header for header in headers}


def start_session(client, credentials=STAFF):
    response = client.post("/auth/session", json=credentials)
    assert response.status_code == 200, response.json
    return response


def csrf(client, name: str = "csrf_access_token") -> dict[str, str]:
    return {"X-CSRF-TOKEN": client.get_cookie(name).value}


def booking_body(tenants) -> dict[str, str]:
    tenant = tenants["everfresh"]
    return {
        "customer_id": tenant.customer_id,
        "service_id": tenant.service_id,
        "scheduled_date": in_days(1),
        "scheduled_time_start": "10:00",
    }


def test_the_board_page_carries_the_heartbeat_and_a_strict_content_policy(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'data-heartbeat-seconds="1"' in page
    assert 'data-access-csrf-cookie="csrf_access_token"' in page
    assert 'data-access-csrf-header="X-CSRF-TOKEN"' in page
    assert '<script type="module" src="/board/static/board.js"></script>' in page
    assert '<form id="login"' in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "'unsafe-inline'" not in policy


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        *[
            (f"/board/static/{module}.js", "text/javascript")
            for module in (
                "board",
                "api",
                "stream",
                "names",
                "zone",
                "list",
                "timeline",
                "details",
                "forms",
                "filters",
                "alerts",
                "refusals",
                "dom",
            )
        ],
        ("/board/static/board.css", "text/css"),
    ],
)
def test_the_board_serves_its_own_script_and_stylesheet(client, path, mimetype):
    response = client.get(path)

    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_session_login_sets_httponly_strict_cookies_and_returns_no_token(client):
    response = start_session(client)

    assert set(response.json) == {"user", "expires_in"}
    assert response.json["user"]["email"] == STAFF["email"]
    assert response.json["expires_in"] == 15 * 60
    cookies = set_cookies(response)
    assert set(cookies) == {
        "access_token_cookie",
        "csrf_access_token",
        "refresh_token_cookie",
        "csrf_refresh_token",
    }
    for name in ("access_token_cookie", "refresh_token_cookie"):
        assert "HttpOnly" in cookies[name]
        assert "SameSite=Strict" in cookies[name]
        assert "Secure" not in cookies[name]
    assert "Path=/;" in cookies["access_token_cookie"]
    assert "Path=/auth/session;" in cookies["refresh_token_cookie"]
    # The page script must read the CSRF values to echo them.
    assert "HttpOnly" not in cookies["csrf_access_token"]
    assert "HttpOnly" not in cookies["csrf_refresh_token"]


def test_session_cookies_are_secure_when_configured(app, client):
    app.config["JWT_COOKIE_SECURE"] = True

    response = start_session(client)

    assert all("; Secure" in header for header in set_cookies(response).values())


def test_production_settings_keep_cookies_off_plain_http(monkeypatch):
    from config import read_settings

    monkeypatch.delenv("JWT_COOKIE_SECURE", raising=False)

    assert read_settings("production").flask_config()["JWT_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("credentials", "status"),
    [
        ({"email": "staff@everfresh.test", "password": "wrong"}, 401),
        ({"email": "nobody@everfresh.test", "password": "everfresh-demo"}, 401),
        ({"email": "staff@everfresh.test"}, 422),
        ({**STAFF, "remember": True}, 422),
    ],
)
def test_a_refused_session_login_sets_no_cookie(client, credentials, status):
    response = client.post("/auth/session", json=credentials)

    assert response.status_code == status
    assert response.json["error"]["code"] == status
    assert "Set-Cookie" not in response.headers


def test_the_api_login_keeps_its_json_contract_and_sets_no_cookie(client):
    response = client.post("/auth/login", json=STAFF)

    assert response.status_code == 200
    assert set(response.json) == LOGIN_KEYS
    assert "Set-Cookie" not in response.headers


def test_the_cookie_authenticates_safe_requests(client):
    start_session(client)

    response = client.get("/auth/me")

    assert response.status_code == 200
    assert response.json["email"] == STAFF["email"]


def test_unsafe_requests_by_cookie_need_the_csrf_header(client, tenants):
    start_session(client)

    without = client.post("/bookings", json=booking_body(tenants))
    forged = client.post(
        "/bookings", json=booking_body(tenants), headers={"X-CSRF-TOKEN": "forged"}
    )
    with_header = client.post("/bookings", json=booking_body(tenants), headers=csrf(client))

    assert without.status_code == 401
    assert forged.status_code == 401
    assert with_header.status_code == 201


def test_the_authorization_header_wins_over_the_cookie(client):
    start_session(client)

    response = client.get("/auth/me", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401


def test_refresh_renews_the_access_cookie_only_with_the_csrf_header(client):
    start_session(client)

    refused = client.post("/auth/session/refresh")
    renewed = client.post("/auth/session/refresh", headers=csrf(client, "csrf_refresh_token"))

    assert refused.status_code == 401
    assert renewed.status_code == 200
    assert renewed.json["user"]["email"] == STAFF["email"]
    assert set(set_cookies(renewed)) == {"access_token_cookie", "csrf_access_token"}


def test_refresh_refuses_an_access_token_in_place_of_the_refresh_cookie(client, login_as):
    response = client.post("/auth/session/refresh", headers=login_as("staff"))

    assert response.status_code == 401


def test_logout_revokes_both_tokens_and_clears_every_cookie(client):
    start_session(client)
    access = client.get_cookie("access_token_cookie").value
    refresh = client.get_cookie("refresh_token_cookie", path="/auth/session").value

    response = client.delete("/auth/session")

    assert response.status_code == 204
    cookies = set_cookies(response)
    assert len(cookies) == 4
    assert all("Expires=Thu, 01 Jan 1970" in header for header in cookies.values())
    assert client.get("/auth/me").status_code == 401
    # Copies of the tokens taken before the logout are worthless too.
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    again = client.post("/auth/refresh", headers={"Authorization": f"Bearer {refresh}"})
    assert again.status_code == 401


def test_logout_without_a_session_still_clears_the_cookies(client):
    client.set_cookie("access_token_cookie", "not-a-token")

    response = client.delete("/auth/session")

    assert response.status_code == 204
    assert len(set_cookies(response)) == 4


def open_stream(client, headers=None):
    response = client.get("/sse/events", headers=headers or {}, buffered=False)
    if response.status_code == 200:
        assert next(iter(response.response)) == connection_established_frame(0)
    return response


@pytest.mark.parametrize("origin", [None, "http://localhost"])
def test_the_board_streams_by_cookie_from_its_own_origin(client, origin):
    start_session(client)

    response = open_stream(client, {"Origin": origin} if origin else {})

    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    response.close()


def test_a_page_on_another_origin_cannot_stream_by_cookie(client):
    start_session(client)

    response = open_stream(client, {"Origin": "http://127.0.0.1:5173"})

    assert response.status_code == 401
    assert response.json["error"]["code"] == 401


def test_a_customer_session_may_not_stream(client):
    start_session(client, {"email": "customer@everfresh.test", "password": "everfresh-demo"})

    response = open_stream(client)

    assert response.status_code == 403
