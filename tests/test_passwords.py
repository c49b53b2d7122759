"""Change a password, reset another's, set one from the shell, and hold every one to the policy.

`POST /auth/password` ends every other session of the caller and renews theirs; an admin's
`POST /users/<id>/reset-password` answers a temporary password and locks the user into
choosing a new one (403 "Password Change Required" on everything else until they do);
`flask set-password` sets one from the shell. One policy judges them all, and `POST /users`
and `flask create-user` too: 12 characters at least, and not easy to guess (zxcvbn).
"""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from everfresh.auth.models import User
from everfresh.auth.passwords import password_problem, temporary_password
from everfresh.extensions import db
from everfresh.sse.frames import connection_established_frame
from tests.live import LiveServer, SSEStream

DEMO_PASSWORD = "everfresh-demo"
NEW_PASSWORD = "plum-kettle-harbour-42"
ENDED = "The session of this token has been ended."
WRONG_CURRENT = "The current password is wrong."
CHANGE_REQUIRED = {
    "error": {
        "code": 403,
        "name": "Password Change Required",
        "message": "Your password was reset: choose a new one with POST /auth/password before "
        "anything else.",
    }
}
TEMPORARY = re.compile(r"[2-9a-zA-HJ-NP-Z]{5}(-[2-9a-zA-HJ-NP-Z]{5}){3}")
TOO_SHORT = "Use at least 12 characters."
TOO_GUESSABLE = "This password is too easy to guess."


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


def log_in(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> dict:
    """Log in over the API and return the answer's body, which must be a 200."""
    answer = client.post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def change(client: FlaskClient, token: str, current: str, new: str):
    """Call `POST /auth/password` with `token` as Bearer."""
    return client.post(
        "/auth/password",
        headers=bearer(token),
        json={"current_password": current, "new_password": new},
    )


def error_message(response) -> tuple[int, str]:
    """Return a failure's status and message."""
    return response.status_code, response.get_json()["error"]["message"]


def stored_user(app: Flask, email: str) -> User:
    """Return the user with `email` as the database holds it now."""
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == email)).one()
        db.session.expunge(user)
        return user


def open_stream(client: FlaskClient, headers: dict[str, str]):
    """Open `GET /sse/events` unbuffered; return the response and its chunks after the greeting."""
    response = client.get("/sse/events", headers=headers, buffered=False)
    chunks = iter(response.response)
    if response.status_code == 200:
        assert next(chunks) == connection_established_frame(0)
    return response, chunks


# --- POST /auth/password ------------------------------------------------------------------------


def test_a_change_ends_every_other_session_and_renews_the_callers(app, client):
    elsewhere = log_in(client, "staff@everfresh.test")
    here = log_in(client, "staff@everfresh.test")

    response = change(client, here["access_token"], DEMO_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 200
    body = response.get_json()
    assert sorted(body) == ["access_token", "expires_in", "refresh_token", "token_type", "user"]
    assert (body["token_type"], body["user"]["email"]) == ("Bearer", "staff@everfresh.test")
    assert body["user"]["must_change_password"] is False
    for old in (elsewhere, here):
        for token, path in ((old["access_token"], "/auth/me"), (old["refresh_token"], None)):
            refused = (
                client.get(path, headers=bearer(token))
                if path
                else client.post("/auth/refresh", headers=bearer(token))
            )
            assert error_message(refused) == (401, ENDED)
    assert client.get("/auth/me", headers=bearer(body["access_token"])).status_code == 200
    assert client.post("/auth/refresh", headers=bearer(body["refresh_token"])).status_code == 200
    assert log_in(client, "staff@everfresh.test", NEW_PASSWORD)["user"]["role"] == "staff"
    old_password = client.post(
        "/auth/login", json={"email": "staff@everfresh.test", "password": DEMO_PASSWORD}
    )
    assert error_message(old_password) == (401, "Invalid email or password.")


def test_the_board_changes_its_password_by_cookie_and_gets_new_cookies(client):
    login = client.post(
        "/auth/session", json={"email": "admin@everfresh.test", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200
    old_refresh = client.get_cookie("refresh_token_cookie", path="/auth/session").value
    body = {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}

    without_csrf = client.post("/auth/password", json=body)
    response = client.post(
        "/auth/password",
        json=body,
        headers={"X-CSRF-TOKEN": client.get_cookie("csrf_access_token").value},
    )

    assert without_csrf.status_code == 401
    assert response.status_code == 200
    assert sorted(response.get_json()) == ["expires_in", "user"]
    cookies = {header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")}
    assert cookies == {
        "access_token_cookie",
        "csrf_access_token",
        "refresh_token_cookie",
        "csrf_refresh_token",
    }
    # The new cookies carry on; the old refresh token is over.
    assert client.get("/auth/me").status_code == 200
    assert client.get_cookie("refresh_token_cookie", path="/auth/session").value != old_refresh
    assert error_message(client.post("/auth/refresh", headers=bearer(old_refresh))) == (401, ENDED)


def test_a_change_ends_the_other_sessions_streams(app, client):
    elsewhere = log_in(client, "staff@everfresh.test")
    here = log_in(client, "staff@everfresh.test")
    stream, chunks = open_stream(client, bearer(elsewhere["access_token"]))
    assert stream.status_code == 200

    renewed = change(client, here["access_token"], DEMO_PASSWORD, NEW_PASSWORD).get_json()
    after, after_chunks = open_stream(client, bearer(renewed["access_token"]))

    assert app.extensions["everfresh.stream_guard"].check_once() == 1
    assert list(chunks) == []
    assert after.status_code == 200
    assert next(after_chunks) == b": keep-alive\n\n"
    after.close()


def test_a_wrong_current_password_is_403_and_changes_nothing(app, client):
    tokens = log_in(client, "staff@everfresh.test")
    before = stored_user(app, "staff@everfresh.test")

    response = change(client, tokens["access_token"], "not-the-password", NEW_PASSWORD)

    assert response.get_json() == {
        "error": {"code": 403, "name": "Forbidden", "message": WRONG_CURRENT}
    }
    after = stored_user(app, "staff@everfresh.test")
    assert (after.password_hash, after.sessions_valid_after) == (
        before.password_hash,
        before.sessions_valid_after,
    )
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 200


def test_wrong_current_passwords_count_as_login_attempts(app, client):
    app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT_AND_IP"] = "3/minute"
    token = log_in(client, "staff@everfresh.test")["access_token"]

    guesses = [change(client, token, f"guess-{n}", NEW_PASSWORD) for n in range(2)]
    login = client.post(
        "/auth/login", json={"email": "Staff@EverFresh.test", "password": DEMO_PASSWORD}
    )
    other = client.post(
        "/auth/login", json={"email": "admin@everfresh.test", "password": DEMO_PASSWORD}
    )

    assert [error_message(guess) for guess in guesses] == [(403, WRONG_CURRENT)] * 2
    # The first login and the two guesses spent the account's three attempts from here.
    assert error_message(login) == (429, "Too many login attempts. Try again later.")
    assert "Retry-After" in login.headers
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short", TOO_SHORT),
        ("eleven-char", TOO_SHORT),
        ("password1234", f"{TOO_GUESSABLE} This is a very common password."),
        ("qwertyuiop123", f"{TOO_GUESSABLE} This is a very common password."),
        ("aaaaaaaaaaaaaaaa", f'{TOO_GUESSABLE} Repeats like "aaa" are easy to guess.'),
        ("everfresh2026!", TOO_GUESSABLE),
        ("staff@everfresh.test", TOO_GUESSABLE),
        (DEMO_PASSWORD, "Choose a password other than the current one."),
    ],
    ids=[
        "short",
        "eleven-characters",
        "common",
        "keyboard-row",
        "repeats",
        "the-product-name",
        "the-own-email",
        "unchanged",
    ],
)
def test_the_new_password_must_pass_the_policy(app, client, new_password, message):
    token = log_in(client, "staff@everfresh.test")["access_token"]
    before = stored_user(app, "staff@everfresh.test").password_hash

    response = change(client, token, DEMO_PASSWORD, new_password)

    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert list(fields) == ["new_password"]
    assert fields["new_password"].startswith(message), fields
    assert stored_user(app, "staff@everfresh.test").password_hash == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["current_password", "new_password"]),
        ({"current_password": DEMO_PASSWORD}, ["new_password"]),
        ({"current_password": "", "new_password": NEW_PASSWORD}, ["current_password"]),
        ({"current_password": DEMO_PASSWORD, "new_password": 123456789012}, ["new_password"]),
        (
            {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD, "email": "x"},
            ["email"],
        ),
    ],
    ids=["empty", "no-new-password", "empty-current", "a-number", "unknown-field"],
)
def test_a_change_validates_its_body(client, body, fields):
    token = log_in(client, "staff@everfresh.test")["access_token"]

    response = client.post("/auth/password", headers=bearer(token), json=body)

    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == fields


def test_a_change_needs_a_token(client):
    response = client.post(
        "/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert error_message(response) == (401, "Missing or malformed access token.")


# --- POST /users/<id>/reset-password --------------------------------------------------------------


def reset(client: FlaskClient, login_as, email: str, user_id, role="admin", company="everfresh"):
    """Reset the password of the user with `email` as a demo caller."""
    return client.post(
        f"/users/{user_id(email)}/reset-password", headers=login_as(role, company)
    )


def test_a_reset_ends_every_session_and_requires_a_new_password(app, client, login_as, user_id):
    old = log_in(client, "staff@everfresh.test")
    stream, chunks = open_stream(client, bearer(old["access_token"]))

    response = reset(client, login_as, "staff@everfresh.test", user_id)

    assert response.status_code == 200
    assert list(response.get_json()) == ["temporary_password"]
    temporary = response.get_json()["temporary_password"]
    assert TEMPORARY.fullmatch(temporary)
    assert error_message(client.get("/auth/me", headers=bearer(old["access_token"]))) == (
        401,
        ENDED,
    )
    refused = client.post("/auth/refresh", headers=bearer(old["refresh_token"]))
    assert error_message(refused) == (401, ENDED)
    assert app.extensions["everfresh.stream_guard"].check_once() == 1
    assert list(chunks) == []
    assert stored_user(app, "staff@everfresh.test").must_change_password is True


def test_until_the_change_every_other_call_is_refused(client, login_as, user_id):
    temporary = reset(client, login_as, "staff@everfresh.test", user_id).get_json()
    tokens = log_in(client, "staff@everfresh.test", temporary["temporary_password"])
    headers = bearer(tokens["access_token"])

    assert tokens["user"]["must_change_password"] is True
    for method, path in [
        ("GET", "/bookings"),
        ("POST", "/bookings"),
        ("GET", "/customers"),
        ("GET", "/services"),
        ("GET", f"/companies/{tokens['user']['company_id']}"),
        ("GET", "/sse/events"),
    ]:
        answer = client.open(path, method=method, headers=headers, json={})
        assert (answer.status_code, answer.get_json()) == (403, CHANGE_REQUIRED), path
        assert answer.mimetype == "application/json"
    # What the board needs meanwhile: who the user is, fresh tokens, and the change itself.
    me = client.get("/auth/me", headers=headers)
    assert (me.status_code, me.get_json()["must_change_password"]) == (200, True)
    refreshed = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    renewed = change(
        client, refreshed.get_json()["access_token"], temporary["temporary_password"], NEW_PASSWORD
    )
    assert renewed.status_code == 200
    assert renewed.get_json()["user"]["must_change_password"] is False
    after = client.get("/bookings", headers=bearer(renewed.get_json()["access_token"]))
    assert after.status_code == 200


def test_a_user_who_must_change_can_still_log_out(client, login_as, user_id):
    temporary = reset(client, login_as, "staff@everfresh.test", user_id).get_json()
    tokens = log_in(client, "staff@everfresh.test", temporary["temporary_password"])

    response = client.post(
        "/auth/logout",
        headers=bearer(tokens["access_token"]),
        json={"refresh_token": tokens["refresh_token"]},
    )

    assert response.status_code == 204
    assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_the_board_session_of_a_user_who_must_change(client, login_as, user_id):
    temporary = reset(client, login_as, "staff@everfresh.test", user_id).get_json()

    login = client.post(
        "/auth/session",
        json={"email": "staff@everfresh.test", "password": temporary["temporary_password"]},
    )
    bookings = client.get("/bookings")
    stream = client.get("/sse/events")
    renewed = client.post(
        "/auth/session/refresh",
        headers={"X-CSRF-TOKEN": client.get_cookie("csrf_refresh_token").value},
    )

    assert (login.status_code, login.get_json()["user"]["must_change_password"]) == (200, True)
    assert (bookings.status_code, bookings.get_json()) == (403, CHANGE_REQUIRED)
    assert (stream.status_code, stream.get_json()) == (403, CHANGE_REQUIRED)
    assert renewed.status_code == 200


@pytest.mark.parametrize(
    ("role", "company", "email"),
    [
        ("admin", "everfresh", "staff@everfresh.test"),
        ("admin", "everfresh", "customer@everfresh.test"),
        ("admin", "brighthome", "staff@brighthome.test"),
        ("superadmin", None, "admin@brighthome.test"),
        ("superadmin", None, "customer@everfresh.test"),
    ],
)
def test_admins_reset_their_company_and_superadmins_anyone(
    app, client, login_as, user_id, role, company, email
):
    response = reset(client, login_as, email, user_id, role, company)

    assert response.status_code == 200
    temporary = response.get_json()["temporary_password"]
    assert log_in(client, email, temporary)["user"]["must_change_password"] is True


@pytest.mark.parametrize(
    ("role", "company", "email", "status", "message"),
    [
        ("admin", "everfresh", "staff@brighthome.test", 404, "User not found."),
        ("admin", "everfresh", "superadmin@everfresh.test", 404, "User not found."),
        ("staff", "everfresh", "staff@everfresh.test", 403, "Your role may not do this."),
        ("customer", "everfresh", "staff@everfresh.test", 403, "Your role may not do this."),
        (
            "admin",
            "everfresh",
            "admin@everfresh.test",
            409,
            "Change your own password with POST /auth/password.",
        ),
    ],
    ids=["other-company", "superadmin", "staff", "customer", "oneself"],
)
def test_resets_are_refused_to_others(
    app, client, login_as, user_id, role, company, email, status, message
):
    before = stored_user(app, email)

    response = reset(client, login_as, email, user_id, role, company)

    assert error_message(response) == (status, message)
    after = stored_user(app, email)
    assert (after.password_hash, after.must_change_password) == (before.password_hash, False)
    assert log_in(client, email)["user"]["email"] == email


def test_resetting_an_unknown_user_is_404(client, login_as):
    response = client.post(
        "/users/user_01J000000000000000000000000/reset-password", headers=login_as("admin")
    )

    assert error_message(response) == (404, "User not found.")


def test_temporary_passwords_pass_the_policy_and_differ():
    passwords = [temporary_password() for _ in range(50)]

    assert all(TEMPORARY.fullmatch(password) for password in passwords)
    assert [password_problem(password) for password in passwords] == [None] * 50
    assert len(set(passwords)) == 50


# --- POST /users --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", TOO_SHORT),
        ("password1234", f"{TOO_GUESSABLE} This is a very common password."),
        ("newcleaner@everfresh.test", TOO_GUESSABLE),
        ("Nadia Cleaner", TOO_GUESSABLE),
    ],
    ids=["short", "common", "the-email", "the-name"],
)
def test_new_accounts_get_passwords_the_policy_accepts(client, login_as, password, message):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={
            "email": "newcleaner@everfresh.test",
            "password": password,
            "name": "Nadia Cleaner",
            "role": "staff",
        },
    )

    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert list(fields) == ["password"]
    assert fields["password"].startswith(message), fields


def test_the_policy_reports_with_the_other_fields(client, login_as):
    response = client.post(
        "/users",
        headers=login_as("admin"),
        json={"email": "bad", "password": "password1234", "name": "X", "role": "boss"},
    )

    assert list(response.get_json()["error"]["fields"]) == ["email", "password", "role"]


# --- flask set-password ---------------------------------------------------------------------------


def test_set_password_prompts_twice_and_ends_every_session(app, client, runner):
    old = log_in(client, "staff@everfresh.test")

    result = runner.invoke(
        args=["set-password", "Staff@EverFresh.test"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )

    assert result.exit_code == 0, result.output
    staff = stored_user(app, "staff@everfresh.test")
    assert result.output.endswith(
        f"Set the password of staff@everfresh.test ({staff.id}) and ended their sessions.\n"
    )
    assert result.output.count("New password") == 1
    assert "Repeat for confirmation" in result.output
    assert NEW_PASSWORD not in result.output
    assert error_message(client.get("/auth/me", headers=bearer(old["access_token"]))) == (
        401,
        ENDED,
    )
    assert log_in(client, "staff@everfresh.test", NEW_PASSWORD)["user"]["must_change_password"] is (
        False
    )


def test_set_password_reads_stdin_and_can_make_it_temporary(app, client, runner):
    result = runner.invoke(
        args=["set-password", "staff@everfresh.test", "--password-stdin", "--must-change"],
        input=f"{NEW_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert result.output.endswith("; they must change it at their next login.\n")
    tokens = log_in(client, "staff@everfresh.test", NEW_PASSWORD)
    assert tokens["user"]["must_change_password"] is True
    refused = client.get("/bookings", headers=bearer(tokens["access_token"]))
    assert (refused.status_code, refused.get_json()) == (403, CHANGE_REQUIRED)


@pytest.mark.parametrize(
    ("arguments", "typed", "error"),
    [
        (
            ["nobody@everfresh.test", "--password-stdin"],
            f"{NEW_PASSWORD}\n",
            "Invalid value for EMAIL: no user with email 'nobody@everfresh.test'",
        ),
        (
            ["staff@everfresh.test", "--password-stdin"],
            "short\n",
            f"Invalid value for --password: {TOO_SHORT}",
        ),
        (
            ["staff@everfresh.test", "--password-stdin"],
            "password1234\n",
            f"Invalid value for --password: {TOO_GUESSABLE} This is a very common password.",
        ),
        (
            ["staff@everfresh.test", "--password-stdin"],
            f"{DEMO_PASSWORD}\n",
            f"Invalid value for --password: {TOO_GUESSABLE}",
        ),
        (
            ["staff@everfresh.test"],
            f"{NEW_PASSWORD}\nsomething-else-entirely\n",
            "Error: The two entered values do not match.",
        ),
    ],
    ids=["unknown-email", "short", "common", "the-demo-password", "prompts-differ"],
)
def test_set_password_refuses(app, runner, arguments, typed, error):
    before = stored_user(app, "staff@everfresh.test")

    result = runner.invoke(args=["set-password", *arguments], input=typed)

    assert error in result.output
    assert stored_user(app, "staff@everfresh.test").password_hash == before.password_hash


def test_create_user_holds_passwords_to_the_policy(runner):
    result = runner.invoke(
        args=[
            "create-user",
            *("--email", "new@everfresh.test", "--name", "New", "--role", "staff"),
            *("--company", "EverFresh Demo", "--password", "password1234"),
        ]
    )

    assert result.exit_code == 2
    assert f"Invalid value for --password: {TOO_GUESSABLE}" in result.output


# --- Streams on a real server ---------------------------------------------------------------------

# Generous: the stream guard looks once per heartbeat (1 s here); this only bounds a failure.
STREAM_DEADLINE = 15


def open_live_stream(server: LiveServer, token: str) -> SSEStream:
    """Open a stream on `server` with `token` and read its greeting."""
    stream = server.stream(token)
    assert stream.status == 200
    assert stream.next_event(timeout=10).json["type"] == "connection_established"
    return stream


def assert_stream_ends(stream: SSEStream) -> None:
    """Wait for the server to end `stream`, reading nothing but heartbeats meanwhile."""
    deadline = time.monotonic() + STREAM_DEADLINE
    while time.monotonic() < deadline:
        frame = stream.next_frame(timeout=STREAM_DEADLINE)
        if frame is None:
            return
        assert frame.comments == ["keep-alive"]
    raise AssertionError(f"the stream was still open after {STREAM_DEADLINE} s")


@pytest.mark.live
def test_a_change_ends_the_users_streams_on_a_live_server(live_server):
    server = live_server(SSE_HEARTBEAT_SECONDS="1")
    elsewhere = server.login("staff@everfresh.test")
    here = server.login("staff@everfresh.test")
    bystander = open_live_stream(server, server.login("admin@everfresh.test"))
    ending = open_live_stream(server, elsewhere)

    renewed = server.request(
        "POST",
        "/auth/password",
        {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
        token=here,
    )
    assert renewed.status == 200, renewed.body
    assert_stream_ends(ending)
    fresh = open_live_stream(server, renewed.body["access_token"])
    booking = server.create_booking(renewed.body["access_token"])

    for stream in (fresh, bystander):
        frame = stream.next_event(timeout=STREAM_DEADLINE)
        assert (frame.event, frame.json["booking_id"]) == ("booking_created", booking["booking_id"])
        stream.close()


@pytest.mark.live
def test_a_reset_ends_the_users_streams_and_refuses_new_ones_on_a_live_server(live_server):
    server = live_server(SSE_HEARTBEAT_SECONDS="1")
    admin = server.login("admin@everfresh.test")
    staff = server.request("GET", "/auth/me", token=server.login("staff@everfresh.test")).body
    ending = open_live_stream(server, server.login("staff@everfresh.test"))

    reset = server.request("POST", f"/users/{staff['id']}/reset-password", token=admin)
    assert reset.status == 200, reset.body
    assert_stream_ends(ending)
    temporary = server.login("staff@everfresh.test", reset.body["temporary_password"])
    refused = server.stream(temporary)

    assert (refused.status, refused.read_json()) == (403, CHANGE_REQUIRED)
    refused.close()
