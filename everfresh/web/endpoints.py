"""Declare each route once: who may call it and what it takes and answers.

`@endpoint(...)` enforces the roles it names and keeps the declaration on the view, where
the API document reads it; paths, methods and summaries come from the URL map and the
view's docstring, so nothing about a route is written down twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ParamSpec

from flask import request
from pydantic import BaseModel
from werkzeug.wrappers import Response

from everfresh.auth.access import ROLE_REFUSAL, require_role
from everfresh.auth.models import Role

P = ParamSpec("P")

# Security requirement names, defined in `everfresh.openapi.document.SECURITY_SCHEMES`.
PUBLIC: tuple[str, ...] = ()
ACCESS = ("bearerAuth", "cookieAuth")
HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}


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


def endpoint(
    tag: str,
    *,
    roles: tuple[Role, ...] = (),
    security: tuple[str, ...] | None = None,
    token_locations: Callable[[], list[str]] | None = None,
    refusal: str = ROLE_REFUSAL,
    **documented: Any,
) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    """Declare a route: check `roles` before the view runs, and describe it for the document.

    With `roles`, a request needs a valid access token (401 otherwise), read from
    `token_locations()` when given, whose user has one of them (403 with `refusal`
    otherwise). `security` defaults to the access token when roles are checked, else to
    none. The other keywords are `Operation` fields; a view answering a bare body gets
    the declared `status`, and a 201 with a `response` model also a `Location` header.
    """
    operation = Operation(
        tag,
        roles=roles,
        security=(ACCESS if roles else PUBLIC) if security is None else security,
        **documented,
    )
    id_field = created_id_field(operation)

    def decorator(view: Callable[P, Any]) -> Callable[P, Any]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            if roles:
                require_role(roles, token_locations() if token_locations else None, refusal)
            answer = view(*args, **kwargs)
            if isinstance(answer, Response | tuple):
                return answer
            if id_field is not None:
                return answer, operation.status, {"Location": created_location(answer[id_field])}
            return answer, operation.status

        wrapper.operation = operation  # type: ignore[attr-defined]
        return wrapper

    return decorator


def created_id_field(operation: Operation) -> str | None:
    """Return the answer field holding a created resource's id, or None if nothing is created.

    Every 201 answer model must have one: `id`, or a field read from the row's `id`.
    """
    if operation.status != 201 or operation.response is None:
        return None
    for name, info in operation.response.model_fields.items():
        if name == "id" or info.validation_alias == "id":
            return name
    raise TypeError(f"{operation.response.__name__} answers a 201 but has no id field.")


def created_location(resource_id: str) -> str:
    """Return where the resource a POST to a collection created lives: below the collection."""
    return f"{request.script_root}{request.path}/{resource_id}"


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """Return the declaration `@endpoint` left on `view`, or None if it has none."""
    return getattr(view, "operation", None)
