"""Bound what a replay costs: paged from the log, capped, and ended with its token when stuck.

Real gunicorn with gevent workers and raw sockets; the event log is filled in bulk before
the server starts, as if the clients had been away through a busy day.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from everfresh import create_app
from everfresh.auth.models import User
from everfresh.auth.tokens import issue_access_token
from everfresh.companies.models import Company
from everfresh.eventlog.models import Event, claim_event_ids
from everfresh.extensions import db
from everfresh.sse.frames import REPLAY_TRUNCATED_MESSAGE
from tests.live import JWT_TEST_KEY, LiveServer, SSEStream, prepare_database
from tests.test_resilience import rss_kb, wait_for, worker_pids

pytestmark = pytest.mark.live

STAFF = "staff@everfresh.test"
OTHER_STAFF = "staff@brighthome.test"
SUPERADMIN = "superadmin@everfresh.test"
# A client that stops reading: the server's writes block once this and its send buffer fill.
TINY_RECEIVE_BUFFER = 1024


def company_of(email: str) -> str:
    """Return the company id of the user with `email` (the app context's database)."""
    return db.session.scalars(db.select(User.company_id).where(User.email == email)).one()


def append_events(database_url: str, count: int, emails: list[str]) -> dict[str, list[int]]:
    """Log `count` booking events in bulk, taking turns among the companies of `emails`.

    Return each company's new event ids. The ids are claimed from the counter as a commit
    would, so the server's log position and later bookings carry on after them.
    """
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, environment="testing")
    with app.app_context():
        companies = [company_of(email) for email in emails]
        sequences = {
            company_id: db.session.get_one(Company, company_id).last_event_sequence
            for company_id in companies
        }
        last = claim_event_ids(db.session, count)
        rows, ids = [], {company_id: [] for company_id in companies}
        for event_id in range(last - count + 1, last + 1):
            company_id = companies[event_id % len(companies)]
            sequences[company_id] += 1
            ids[company_id].append(event_id)
            payload = {
                "booking_id": f"01JBULK{event_id:019d}",
                "booking_number": f"BK-{event_id}",
                "customer_id": "cust_01JD4Z6M3Q5Y7C9V2B4N6R8T0X",
                "service_id": "serv_01JD4Z6M3Q5Y7C9V2B4N6R8T0Y",
                "staff_id": None,
                "scheduled_date": "2026-12-01T00:00:00.000Z",
                "scheduled_time_start": "10:00",
                "status": "pending",
                "created_at": "2026-11-26T14:30:00.123Z",
                "company_id": company_id,
            }
            rows.append(
                {
                    "id": event_id,
                    "company_id": company_id,
                    "sequence": sequences[company_id],
                    "type": "booking_created",
                    "payload": json.dumps(payload, separators=(",", ":")),
                }
            )
        db.session.execute(db.insert(Event), rows)
        for company_id, sequence in sequences.items():
            db.session.get_one(Company, company_id).last_event_sequence = sequence
        db.session.commit()
        db.engine.dispose()
    return ids


def short_lived_token(database_url: str, email: str, seconds: int) -> str:
    """Return an access token for `email` that the live server accepts for `seconds` only."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "JWT_SECRET_KEY": JWT_TEST_KEY,
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(seconds=seconds),
        },
        environment="testing",
    )
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == email)).one()
        token = issue_access_token(user)["access_token"]
        db.engine.dispose()
    return token


@pytest.fixture
def busy_log(live_server, database_url):
    """Return a function starting a server over a log of `count` events; its ids by company."""

    def start(count: int, emails: list[str], **settings: str):
        prepare_database(database_url)
        ids = append_events(database_url, count, emails)
        return live_server(database_url, **settings), ids, database_url

    return start


def resume_from_start(server: LiveServer, token: str, **kwargs) -> SSEStream:
    """Open a stream asking for every event still in the log."""
    stream = server.stream(token, headers={"Last-Event-ID": "0"}, **kwargs)
    assert stream.status == 200
    return stream


def test_streams_that_replay_a_large_log_and_never_read_keep_the_worker_small(busy_log):
    server, _, _ = busy_log(20_000, [STAFF])
    token = server.login(STAFF)
    [worker] = worker_pids(server)
    assert server.request("GET", "/healthz").status == 200
    before = rss_kb([worker])

    # Each stream's head comes with its first write: by then its replay is under way.
    stuck = [resume_from_start(server, token, receive_buffer=TINY_RECEIVE_BUFFER) for _ in range(5)]
    assert server.request("GET", "/healthz").status == 200
    grown_mb = (rss_kb([worker]) - before) / 1024

    assert grown_mb < 60, f"five stuck replays grew the worker by {grown_mb:.0f} MB"
    for stream in stuck:
        stream.close()


@pytest.mark.parametrize("ending", ["expired", "revoked"])
def test_a_stuck_replay_ends_when_its_token_does_and_frees_the_slot(busy_log, ending):
    server, _, database_url = busy_log(
        20_000, [STAFF], SSE_MAX_STREAMS_PER_USER="1", SSE_HEARTBEAT_SECONDS="1"
    )
    if ending == "expired":
        token = short_lived_token(database_url, STAFF, seconds=5)
    else:
        token = server.login(STAFF)
    stuck = resume_from_start(server, token, receive_buffer=TINY_RECEIVE_BUFFER)
    fresh = server.login(STAFF)
    assert server.stream(fresh).status == 429
    if ending == "revoked":
        assert server.request("POST", "/auth/logout", token=token).status == 204

    def admitted() -> bool:
        with server.stream(fresh) as stream:
            return stream.status == 200

    # The stuck stream never reads, so only the server can end it and give its slot back.
    assert wait_for(admitted, timeout=30, interval=0.5)
    # Ended mid-write: whatever was in flight arrives, then the connection closes.
    stuck.frames_until_closed(timeout=10)
    assert stuck.closed


def test_a_replay_past_the_cap_says_so_then_goes_live(busy_log):
    server, ids, _ = busy_log(120, [STAFF, OTHER_STAFF], SSE_REPLAY_MAX_EVENTS="50")
    token = server.login(STAFF)
    own, last = list(ids.values())[0], max(max(company) for company in ids.values())
    with resume_from_start(server, token) as stream:
        assert stream.next_event().id == "0"
        replayed = [stream.next_event() for _ in range(50)]
        truncated = stream.next_event()
        booked = server.create_booking(token)
        live = stream.next_event()

    assert [int(frame.id) for frame in replayed] == own[:50]
    assert {frame.event for frame in replayed} == {"booking_created"}
    assert (truncated.event, truncated.id) == ("replay_truncated", None)
    assert truncated.json == {"message": REPLAY_TRUNCATED_MESSAGE, "last_event_id": last}
    assert (live.event, live.json["booking_id"]) == ("booking_created", booked["booking_id"])
    assert int(live.id) == last + 1


@pytest.mark.parametrize(("email", "companies"), [(STAFF, 1), (SUPERADMIN, 2)])
def test_a_paged_replay_arrives_complete_in_order_and_once(busy_log, email, companies):
    server, ids, _ = busy_log(2_000, [STAFF, OTHER_STAFF])
    scope = list(ids.values())[:companies]
    expected = sorted(event_id for company in scope for event_id in company)
    last = max(max(company) for company in ids.values())
    token = server.login(email)
    with resume_from_start(server, token) as stream:
        assert stream.next_event().id == "0"
        replayed = [int(stream.next_event().id) for _ in expected]
        booked = server.create_booking(server.login(STAFF))
        live = stream.next_event()

    assert replayed == expected
    assert (int(live.id), live.json["booking_id"]) == (last + 1, booked["booking_id"])
