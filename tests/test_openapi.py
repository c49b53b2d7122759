"""Check the OpenAPI document: valid 3.1, complete, true to the code, and readable at /docs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from pydantic import Field, ValidationError

from everfresh.auth.models import Role
from everfresh.eventlog.models import Event
from everfresh.extensions import db
from everfresh.openapi.document import IMPLICIT_METHODS, is_static, operation_for
from everfresh.openapi.request_schemas import trimmed_pattern
from everfresh.web.validation import RequestModel
from tests.dates import in_days

UNKNOWN_ID = "01JD4Z6M3Q5Y7C9V2B4N6R8T0W"
PASSWORD = "everfresh-demo"


@pytest.fixture
def spec(client) -> dict[str, Any]:
    """Return the served document."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def routes(app) -> list[tuple[str, str, str]]:
    """Return (OpenAPI path, method, endpoint) for every route the app serves."""
    found = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - IMPLICIT_METHODS):
            found.append((path, method.lower(), rule.endpoint))
    return found


def assert_matches(spec: dict[str, Any], schema_name: str, body: Any) -> None:
    """Validate `body` against a component schema of the published document."""
    schema = {"components": spec["components"], "$ref": f"#/components/schemas/{schema_name}"}
    errors = [error.message for error in OAS31Validator(schema).iter_errors(body)]
    assert errors == [], f"{schema_name}: {errors}"


def test_the_document_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_route_of_the_app_is_in_the_document(app, spec):
    for path, method, endpoint in routes(app):
        if is_static(endpoint):
            assert path not in spec["paths"], f"{path}: page assets are not API operations"
        else:
            assert method in spec["paths"].get(path, {}), f"{method.upper()} {path} ({endpoint})"


def test_every_endpoint_is_described_on_purpose(app):
    undescribed = {
        endpoint
        for _, _, endpoint in routes(app)
        if not is_static(endpoint) and operation_for(app, endpoint) is None
    }
    assert undescribed == set(), "declare them with everfresh.web.endpoints.endpoint"


def test_bearer_jwt_is_the_api_security_scheme(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    booking = spec["paths"]["/bookings"]["post"]
    assert {"bearerAuth": []} in booking["security"]
    assert spec["paths"]["/auth/login"]["post"]["security"] == []


def test_request_bodies_are_the_views_own_models(app, spec):
    for _, _, endpoint in routes(app):
        operation = operation_for(app, endpoint)
        if operation is None or operation.body is None:
            continue
        schema = spec["components"]["schemas"][operation.body.__name__]
        assert set(schema["properties"]) == set(operation.body.model_fields), endpoint
        assert schema["additionalProperties"] is False


def test_errors_are_described_with_the_one_error_shape(spec):
    post = spec["paths"]["/bookings"]["post"]["responses"]
    assert set(post) == {"201", "400", "401", "408", "409", "413", "415", "422"}
    for status in ("401", "422"):
        schema = post[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "name", "message"}
    assert "403" in spec["paths"]["/services"]["post"]["responses"]
    assert "403" not in spec["paths"]["/services"]["get"]["responses"]


def test_every_201_documents_its_location_header(spec):
    created = [
        (path, method, answers["201"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "201" in (answers := operation["responses"])
    ]

    assert {(path, method) for path, method, _ in created} == {
        (path, "post")
        for path in ("/bookings", "/companies", "/customers", "/services", "/staff", "/users")
    }
    for _, _, answer in created:
        assert answer["headers"]["Location"]["required"] is True


def test_the_event_stream_is_described_with_its_frames(spec):
    stream = spec["paths"]["/sse/events"]["get"]
    content = stream["responses"]["200"]["content"]
    assert list(content) == ["text/event-stream"]
    events = {
        "connection_established",
        "booking_created",
        "booking_updated",
        "replay_truncated",
        "server_shutdown",
    }
    assert set(stream["x-events"]) == events
    assert ": keep-alive" in stream["description"]
    assert "Last-Event-ID" in [parameter["name"] for parameter in stream["parameters"]]
    assert "Retry-After" in stream["responses"]["429"]["headers"]
    event = spec["components"]["schemas"]["BookingCreatedEvent"]
    assert len(event["properties"]) == 10
    updated = spec["components"]["schemas"]["BookingUpdatedEvent"]
    assert list(updated["properties"]) == [*event["properties"], "updated_at", "changes"]
    truncated = spec["components"]["schemas"]["ReplayTruncated"]
    assert list(truncated["properties"]) == ["message", "last_event_id"]


def test_the_query_token_is_documented_only_when_enabled(app, client, spec):
    def names(document: dict[str, Any]) -> list[str]:
        return [p["name"] for p in document["paths"]["/sse/events"]["get"]["parameters"]]

    assert "token" not in names(spec)
    app.config["SSE_QUERY_TOKEN"] = True
    app.extensions.pop("everfresh.openapi")
    assert "token" in names(client.get("/openapi.json").json)


def test_real_answers_match_the_documented_models(app, client, spec, login_as, tenants):
    staff, superadmin = login_as("staff"), login_as("superadmin")
    tenant = tenants["everfresh"]
    credentials = {"email": "admin@everfresh.test", "password": PASSWORD}
    login = client.post("/auth/login", json=credentials)
    refresh = {"Authorization": f"Bearer {login.json['refresh_token']}"}
    booking = client.post(
        "/bookings",
        headers=staff,
        json={
            "customer_id": tenant.customer_id,
            "service_id": tenant.service_id,
            "scheduled_date": in_days(1),
            "scheduled_time_start": "10:00",
        },
    )
    answers = [
        ("TokenPair", login),
        ("AccessToken", client.post("/auth/refresh", headers=refresh)),
        ("BoardSession", client.post("/auth/session", json=credentials)),
        ("User", client.get("/auth/me", headers=staff)),
        ("Booking", booking),
        ("Booking", client.get(f"/bookings/{booking.json['booking_id']}", headers=staff)),
        ("BookingPage", client.get("/bookings", headers=staff)),
        ("CustomerPage", client.get("/customers", headers=staff)),
        ("ServicePage", client.get("/services", headers=staff)),
        ("StaffPage", client.get("/staff", headers=staff)),
        ("UserPage", client.get("/users", headers=superadmin)),
        ("CompanyPage", client.get("/companies", headers=superadmin)),
        ("Company", client.get(f"/companies/{tenant.company_id}", headers=staff)),
        ("Customer", client.get(f"/customers/{tenant.customer_id}", headers=staff)),
        ("Service", client.get(f"/services/{tenant.service_id}", headers=staff)),
        ("Staff", client.get(f"/staff/{tenant.staff_id}", headers=staff)),
        ("Health", client.get("/healthz")),
        ("Readiness", client.get("/readyz")),
        ("ErrorResponse", client.get(f"/bookings/{UNKNOWN_ID}", headers=staff)),
        ("ErrorResponse", client.post("/bookings", headers=staff, json={})),
    ]
    for schema_name, response in answers:
        assert response.status_code < 300 or schema_name == "ErrorResponse", response.json
        assert_matches(spec, schema_name, response.json)
    changed = client.patch(
        f"/bookings/{booking.json['booking_id']}", headers=staff, json={"status": "confirmed"}
    )
    assert changed.status_code == 200
    with app.app_context():
        created, updated = db.session.scalars(db.select(Event.payload).order_by(Event.id)).all()
    assert_matches(spec, "BookingCreatedEvent", json.loads(created))
    assert_matches(spec, "BookingUpdatedEvent", json.loads(updated))


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.STAFF, Role.ADMIN, Role.SUPERADMIN])
def test_documented_roles_are_the_enforced_ones(app, client, login_as, role):
    for path, method, endpoint in routes(app):
        operation = operation_for(app, endpoint)
        if operation is None or not operation.roles:
            continue
        url = re.sub(r"{[^}]+}", UNKNOWN_ID, path)
        # A fresh token each time: `POST /auth/logout` revokes the one it is sent.
        headers = login_as(str(role))
        response = client.open(url, method=method.upper(), headers=headers, json={}, buffered=False)
        response.close()
        refused = response.status_code == 403
        assert refused == (role not in operation.roles), f"{role} {method.upper()} {path}"


def test_the_docs_page_loads_swagger_ui_from_this_origin_only(client):
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources == [
        "/docs/static/swagger-ui/swagger-ui.css",
        "/docs/static/swagger-ui/swagger-ui-bundle.js",
        "/docs/static/docs.js",
    ]
    assert 'data-spec-url="/openapi.json"' in page
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    for source in sources:
        assert client.get(source).status_code == 200


# --- The request schemas say exactly what is accepted ---------------------------------------

# Edge cases of trimming: ASCII and Unicode spaces pydantic trims, and \x1c and U+200B, which
# Python calls space but pydantic keeps.
TRIM_SAMPLES = ["", " ", "a", " a ", "\u3000a\u00a0", "\x1c", "\u200b", "ab", "a b", " a b c "]


@pytest.mark.parametrize(
    ("minimum", "maximum"), [(0, None), (1, None), (1, 1), (1, 3), (0, 3), (2, 4), (3, 5)]
)
@pytest.mark.parametrize("sample", TRIM_SAMPLES, ids=repr)
def test_trimmed_pattern_takes_what_a_trimming_model_takes(minimum, maximum, sample):
    class Model(RequestModel):
        value: str = Field(min_length=minimum, max_length=maximum)

    try:
        Model(value=sample)
        accepted = True
    except ValidationError:
        accepted = False

    assert bool(re.search(trimmed_pattern(minimum, maximum), sample)) is accepted


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ("UpdateUserRequest", "name"),
        ("UpdateUserRequest", "active"),
        ("UpdateCompanyRequest", "timezone"),
        ("UpdateBookingRequest", "scheduled_date"),
    ],
)
def test_fields_that_refuse_null_are_not_documented_as_nullable(spec, schema, field):
    documented = spec["components"]["schemas"][schema]["properties"][field]

    assert "anyOf" not in documented
    assert "default" not in documented
    assert spec["components"]["schemas"][schema]["minProperties"] == 1


@pytest.mark.parametrize(
    ("cursor", "status"),
    [("cust_0", 200), ("Zz_9", 200), ("a" * 40, 200), ("a" * 41, 422), ("a-b", 422), ("", 422)],
)
def test_the_documented_cursor_pattern_is_what_the_server_takes(
    client, spec, login_as, cursor, status
):
    (parameter,) = [
        parameter
        for parameter in spec["paths"]["/customers"]["get"]["parameters"]
        if parameter["name"] == "cursor"
    ]

    response = client.get("/customers", query_string={"cursor": cursor}, headers=login_as("admin"))

    assert response.status_code == status
    assert bool(re.search(parameter["schema"]["pattern"], cursor)) is (status == 200)


def test_request_strings_refuse_nul_in_the_document(spec):
    schema = spec["components"]["schemas"]["CreateStaffRequest"]["properties"]
    pattern = schema["company_id"]["anyOf"][0]["pattern"]

    assert re.search(pattern, "comp_1")
    assert not re.search(pattern, "comp\x001")
    assert not re.search(schema["name"]["pattern"], "Bo\x00b")
