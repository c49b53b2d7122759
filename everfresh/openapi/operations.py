"""Say, per endpoint, what its code does not say out loud: models, roles, errors, media types.

Paths, methods, summaries and descriptions come from the app itself (its URL map and the
views' docstrings); the role tuples are the very ones the views check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from everfresh.accounts.schemas import CreateUserRequest, UpdateUserRequest
from everfresh.auth.access import ADMIN_ROLES, ANY_ROLE, STAFF_ROLES
from everfresh.auth.models import Role
from everfresh.auth.schemas import LoginRequest, LogoutRequest
from everfresh.bookings.schemas import BookingListQuery, CreateBookingRequest, UpdateBookingRequest
from everfresh.catalog.schemas import (
    CreateCustomerRequest,
    CreateServiceRequest,
    CreateStaffRequest,
)
from everfresh.companies.schemas import CreateCompanyRequest, UpdateCompanyRequest
from everfresh.openapi import schemas
from everfresh.web.pagination import PageQuery

# Security requirement names, defined in `document.SECURITY_SCHEMES`.
PUBLIC: tuple[str, ...] = ()
ACCESS = ("bearerAuth", "cookieAuth")


@dataclass(frozen=True)
class Parameter:
    """A header or query parameter the view reads outside its models."""

    name: str
    location: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False
    # The boolean setting that must be on for the parameter to exist, if any.
    setting: str | None = None


@dataclass(frozen=True)
class Operation:
    """How one endpoint is documented beyond what its URL rule and docstring say."""

    tag: str
    # The JSON body of the success answer; None with `content` (not JSON) or with no body.
    response: type[BaseModel] | None = None
    status: int = 200
    # Non-JSON success bodies: media type to OpenAPI media type object.
    content: dict[str, dict[str, Any]] | None = None
    response_description: str = ""
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    parameters: tuple[Parameter, ...] = ()
    security: tuple[str, ...] = ACCESS
    # The roles the view admits; empty for endpoints without a role check.
    roles: tuple[Role, ...] = ()
    # Error statuses beyond those implied by auth, roles, body, query and path parameters.
    errors: tuple[int, ...] = ()
    description: str = ""
    # Named frames of an event stream, each with the model of its `data:`.
    events: dict[str, type[BaseModel]] = field(default_factory=dict)


STREAM_DESCRIPTION = """\
A Server-Sent Events stream (`text/event-stream`) of the caller's company's bookings; a
superadmin sees every company's, or one company's with `?company_id=`. No, invalid or
expired token: 401 JSON; role `customer`: 403 JSON; too many open streams: 429 JSON with
`Retry-After`. The board's HttpOnly access cookie is accepted too, from its own origin only.

Frames, each ended by a blank line:

- `connection_established`, written at once: an unnamed message (`data:` only), so
  `EventSource.onmessage` receives it. A `retry:` line may come first.
- `booking_created` (`id: <event id>`, `event: booking_created`), for each booking created
  in the stream's scope; the data holds the nine documented keys plus `company_id`.
- `: keep-alive`, a comment, every `SSE_HEARTBEAT_SECONDS` (default 30) on an idle stream.
- `server_shutdown` (`event: server_shutdown`, with a jittered `retry:`), when the server
  stops; the stream then ends and the client reconnects after the `retry:` delay.

Reconnect with `Last-Event-ID: <id>` (or `?lastEventId=<id>`) to receive, in order, every
event after that id still in the replay window, then live events, with no gap and no
duplicate. The stream also ends when its access token expires: reconnect with a fresh one.
"""

STREAM_EXAMPLE = (
    'data: {"type":"connection_established","message":"Connected to SSE server"}\n\n'
    "id: 42\nevent: booking_created\n"
    'data: {"booking_id":"01JD4Z6M3Q5Y7C9V2B4N6R8T0W","booking_number":"BK-1001",'
    '"customer_id":"cust_01JD4Z6M3Q5Y7C9V2B4N6R8T0X","service_id":"serv_01JD4Z6M3Q5Y7C9V2B4N6R8T0Y",'
    '"staff_id":null,"scheduled_date":"2026-12-01T00:00:00.000Z","scheduled_time_start":"10:00",'
    '"status":"pending","created_at":"2026-11-26T14:30:00.123Z",'
    '"company_id":"comp_01JD4Z6M3Q5Y7C9V2B4N6R8T0Z"}\n\n'
    ": keep-alive\n\n"
    'retry: 3127\nevent: server_shutdown\ndata: {"message":"Server shutting down"}\n\n'
)

HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}

OPERATIONS: dict[str, Operation] = {
    "auth.login": Operation(
        "Auth", schemas.TokenPair, body=LoginRequest, security=PUBLIC, errors=(429,)
    ),
    "auth.refresh": Operation(
        "Auth",
        schemas.AccessToken,
        security=("refreshBearer",),
        description="Send the refresh token, not the access token, as the Bearer token.",
    ),
    "auth.me": Operation("Auth", schemas.User, roles=ANY_ROLE),
    "auth.logout": Operation(
        "Auth",
        status=204,
        response_description="The tokens are revoked until they expire.",
        body=LogoutRequest,
        body_required=False,
        roles=ANY_ROLE,
    ),
    "auth.start_session": Operation(
        "Board session",
        schemas.BoardSession,
        body=LoginRequest,
        security=PUBLIC,
        errors=(429,),
        description=(
            "Sets the HttpOnly `access_token_cookie` and `refresh_token_cookie`, plus the "
            "readable `csrf_access_token` and `csrf_refresh_token` whose values unsafe "
            "requests authenticated by cookie must send back in `X-CSRF-TOKEN`."
        ),
    ),
    "auth.refresh_session": Operation(
        "Board session",
        schemas.BoardSession,
        security=("refreshCookie",),
        parameters=(
            Parameter(
                "X-CSRF-TOKEN",
                "header",
                "The value of the `csrf_refresh_token` cookie.",
                required=True,
            ),
        ),
    ),
    "auth.end_session": Operation(
        "Board session",
        status=204,
        response_description="The cookies' tokens are revoked and the cookies cleared.",
        security=PUBLIC,
    ),
    "accounts.list_users": Operation(
        "Users", schemas.UserPage, query=PageQuery, roles=ADMIN_ROLES, errors=(404,)
    ),
    "accounts.create_user": Operation(
        "Users", schemas.User, 201, body=CreateUserRequest, roles=ADMIN_ROLES, errors=(404, 409)
    ),
    "accounts.update_user": Operation(
        "Users", schemas.User, body=UpdateUserRequest, roles=ADMIN_ROLES, errors=(409,)
    ),
    "companies.list_companies": Operation(
        "Companies", schemas.CompanyPage, query=PageQuery, roles=(Role.SUPERADMIN,)
    ),
    "companies.get_company": Operation("Companies", schemas.Company, roles=ANY_ROLE),
    "companies.create_company": Operation(
        "Companies",
        schemas.Company,
        201,
        body=CreateCompanyRequest,
        roles=(Role.SUPERADMIN,),
        errors=(409,),
    ),
    "companies.update_company": Operation(
        "Companies",
        schemas.Company,
        body=UpdateCompanyRequest,
        roles=(Role.SUPERADMIN,),
        errors=(409,),
    ),
    "catalog.list_customers": Operation(
        "Catalogue", schemas.CustomerPage, query=PageQuery, roles=STAFF_ROLES, errors=(404,)
    ),
    "catalog.get_customer": Operation("Catalogue", schemas.Customer, roles=STAFF_ROLES),
    "catalog.create_customer": Operation(
        "Catalogue",
        schemas.Customer,
        201,
        body=CreateCustomerRequest,
        roles=STAFF_ROLES,
        errors=(404,),
    ),
    "catalog.list_services": Operation(
        "Catalogue", schemas.ServicePage, query=PageQuery, roles=ANY_ROLE, errors=(404,)
    ),
    "catalog.get_service": Operation("Catalogue", schemas.Service, roles=ANY_ROLE),
    "catalog.create_service": Operation(
        "Catalogue",
        schemas.Service,
        201,
        body=CreateServiceRequest,
        roles=ADMIN_ROLES,
        errors=(404,),
    ),
    "catalog.list_staff": Operation(
        "Catalogue", schemas.StaffPage, query=PageQuery, roles=STAFF_ROLES, errors=(404,)
    ),
    "catalog.get_staff": Operation("Catalogue", schemas.Staff, roles=STAFF_ROLES),
    "catalog.create_staff": Operation(
        "Catalogue", schemas.Staff, 201, body=CreateStaffRequest, roles=ADMIN_ROLES, errors=(404,)
    ),
    "bookings.create": Operation(
        "Bookings",
        schemas.Booking,
        201,
        body=CreateBookingRequest,
        roles=ANY_ROLE,
        errors=(409,),
        parameters=(
            Parameter(
                "Idempotency-Key",
                "header",
                "Retrying with the same key and body returns the first booking and emits no "
                "second event; the same key with another body is 409. Kept 24 hours per user.",
                schema={"type": "string", "maxLength": 255},
            ),
        ),
    ),
    "bookings.list_bookings": Operation(
        "Bookings", schemas.BookingPage, query=BookingListQuery, roles=ANY_ROLE, errors=(404,)
    ),
    "bookings.get": Operation("Bookings", schemas.Booking, roles=ANY_ROLE),
    "bookings.update": Operation(
        "Bookings",
        schemas.Booking,
        body=UpdateBookingRequest,
        roles=STAFF_ROLES,
        errors=(409,),
    ),
    "sse.events": Operation(
        "Events",
        content={
            "text/event-stream": {
                "schema": {"type": "string", "description": "Server-Sent Events frames."},
                "example": STREAM_EXAMPLE,
            }
        },
        response_description="The event stream; see the frames below.",
        roles=STAFF_ROLES,
        errors=(404, 429),
        description=STREAM_DESCRIPTION,
        parameters=(
            Parameter("company_id", "query", "Superadmin only: one company's events."),
            Parameter(
                "Last-Event-ID",
                "header",
                "Replay every event after this id, then stream live.",
                schema={"type": "string", "pattern": "^[0-9]+$"},
            ),
            Parameter(
                "lastEventId",
                "query",
                "The same as `Last-Event-ID`, for clients that cannot set headers.",
                schema={"type": "string", "pattern": "^[0-9]+$"},
            ),
            Parameter(
                "token",
                "query",
                "An access token, for clients that cannot send headers.",
                setting="SSE_QUERY_TOKEN",
            ),
        ),
        events={
            "connection_established": schemas.ConnectionEstablished,
            "booking_created": schemas.BookingCreatedEvent,
            "server_shutdown": schemas.ServerShutdown,
        },
    ),
    "ops.healthz": Operation("Operations", schemas.Health, security=PUBLIC),
    "ops.readyz": Operation("Operations", schemas.Readiness, security=PUBLIC, errors=(503,)),
    "ops.metrics": Operation(
        "Operations",
        content={"text/plain": {"schema": {"type": "string"}}},
        response_description="Every metric, summed across workers, in Prometheus text format.",
        security=PUBLIC,
    ),
    "board.board": Operation(
        "Pages", content=HTML_PAGE, response_description="The board page.", security=PUBLIC
    ),
    "openapi.openapi_document": Operation(
        "Pages",
        content={"application/json": {"schema": {"type": "object"}}},
        response_description="This document.",
        security=PUBLIC,
    ),
    "openapi.docs": Operation(
        "Pages", content=HTML_PAGE, response_description="The docs page.", security=PUBLIC
    ),
}

# Every blueprint's static files (and the app's) are documented alike.
STATIC_FILE = Operation(
    "Pages",
    content={"*/*": {"schema": {"type": "string", "contentEncoding": "binary"}}},
    response_description="The file.",
    security=PUBLIC,
    errors=(404,),
)


def operation_for(endpoint: str) -> Operation | None:
    """Return how `endpoint` is documented, or None if nobody has said yet."""
    if endpoint == "static" or endpoint.endswith(".static"):
        return STATIC_FILE
    return OPERATIONS.get(endpoint)
