"""Build the OpenAPI 3.1 document from the app's URL map and each view's `@endpoint` declaration."""

from __future__ import annotations

import inspect
import re
from http import HTTPStatus
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from everfresh.auth.models import Role
from everfresh.openapi.request_schemas import tighten_request_schema
from everfresh.web.endpoints import (
    PUBLIC,
    Operation,
    Parameter,
    created_id_field,
    operation_of,
)
from everfresh.web.responses import ErrorResponse

OPENAPI_VERSION = "3.1.0"
API_VERSION = "0.1.0"
SCHEMA_REF = "#/components/schemas/{model}"
# Methods Werkzeug answers by itself for every rule; they say nothing about the API.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
TAGS = (
    ("Auth", "Tokens for API clients."),
    ("Board session", "The staff board's cookie login (same origin only)."),
    ("Users", "Accounts of a company (admins) or of any company (superadmin)."),
    ("Companies", "Tenants (superadmin)."),
    ("Catalogue", "Each company's customers, services and staff members."),
    ("Bookings", "Create, list, read and update bookings."),
    ("Events", "The live stream of booking events."),
    ("Operations", "Probes and metrics for operators."),
    ("Pages", "HTML pages, static files and this document."),
)
ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON.",
    401: "No, invalid or expired token.",
    403: "The caller's role may not do this.",
    404: "Unknown, or another company's.",
    408: "The body did not arrive whole within `REQUEST_BODY_TIMEOUT_SECONDS`.",
    409: "Conflicts with the current state; `error.fields` names a field to blame, if any.",
    413: "The body is larger than `MAX_CONTENT_LENGTH`.",
    415: "The body is not JSON.",
    422: "Invalid fields: `error.fields` names each one.",
    429: "Too many requests: retry after `Retry-After` seconds.",
    503: "A dependency is unreachable: `error.checks` says which.",
}
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The `access_token` from `POST /auth/login`.",
    },
    "cookieAuth": {
        "type": "apiKey",
        "in": "cookie",
        "name": "access_token_cookie",
        "description": (
            "The board's HttpOnly cookie from `POST /auth/session` (same origin). Unsafe "
            "methods must also send the `csrf_access_token` cookie's value in `X-CSRF-TOKEN`."
        ),
    },
    "refreshBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The `refresh_token` from `POST /auth/login`.",
    },
    "refreshCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "refresh_token_cookie",
        "description": "The board's HttpOnly refresh cookie from `POST /auth/session`.",
    },
}
UNDOCUMENTED = Operation("Other", security=PUBLIC)


def is_static(endpoint: str) -> bool:
    """Say whether `endpoint` serves a blueprint's (or the app's) static files."""
    return endpoint == "static" or endpoint.endswith(".static")


def operation_for(app: Flask, endpoint: str) -> Operation | None:
    """Return how `endpoint` of `app` is declared, or None if its view has no `@endpoint`."""
    return operation_of(app.view_functions[endpoint])


def build_document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every API route `app` serves.

    Static files (the board's and the docs page's scripts and styles) are assets of those
    pages, not part of the API, and are left out.
    """
    rules = sorted(
        (rule for rule in app.url_map.iter_rules() if not is_static(rule.endpoint)),
        key=lambda rule: (rule.rule, rule.endpoint),
    )
    operations = {
        rule.endpoint: operation_for(app, rule.endpoint) or UNDOCUMENTED for rule in rules
    }
    schemas = _component_schemas(operations.values())
    for model in _request_models(operations.values()):
        tighten_request_schema(model, schemas[model.__name__])
    paths: dict[str, dict[str, Any]] = {}
    for rule in rules:
        operation = operations[rule.endpoint]
        methods = sorted((rule.methods or set()) - IMPLICIT_METHODS)
        for method in methods:
            operation_id = rule.endpoint.replace(".", "_")
            if len(methods) > 1:
                operation_id += f"_{method.lower()}"
            paths.setdefault(_openapi_path(rule), {})[method.lower()] = _operation_object(
                app, rule, operation, operation_id, schemas
            )
    for operation in operations.values():
        if operation.query is not None:
            # Query models become parameters; as components they would only mislead.
            schemas.pop(operation.query.__name__, None)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "EverFresh API",
            "version": API_VERSION,
            "summary": "Multi-company bookings, with new bookings pushed to staff live.",
            "description": (
                'Every error answers `{"error": {"code", "name", "message"}}` with its '
                'status. Lists answer `{"items": [...], "next_cursor": ...}`: pass the '
                "cursor as `?cursor=` for the next page, `?limit=` up to 100."
            ),
        },
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }


def _request_models(operations: Any) -> set[type[BaseModel]]:
    return {
        model
        for operation in operations
        for model in (operation.body, operation.query)
        if model is not None
    }


def _component_schemas(operations: Any) -> dict[str, Any]:
    requests = _request_models(operations)
    answers: set[type[BaseModel]] = {ErrorResponse}
    for operation in operations:
        if operation.response is not None:
            answers.add(operation.response)
        answers.update(operation.events.values())
    # Request models are described as they are accepted, answers as they are written.
    models = [(model, "validation") for model in sorted(requests, key=lambda m: m.__name__)]
    models += [(model, "serialization") for model in sorted(answers, key=lambda m: m.__name__)]
    _, top = models_json_schema(models, ref_template=SCHEMA_REF)
    return dict(sorted(top.get("$defs", {}).items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": SCHEMA_REF.format(model=model.__name__)}


def _openapi_path(rule: Rule) -> str:
    # Flask writes `<converter:name>`, OpenAPI `{name}`.
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _docstring(app: Flask, endpoint: str) -> tuple[str, str]:
    doc = inspect.getdoc(app.view_functions[endpoint]) or endpoint
    summary, _, rest = doc.partition("\n")
    return summary.strip(), rest.strip()


def _roles_sentence(roles: tuple[Role, ...]) -> str:
    if not roles or set(roles) == set(Role):
        return "Any logged-in user." if roles else ""
    return "Roles: " + ", ".join(f"`{role}`" for role in roles) + "."


def _parameter_object(parameter: Parameter) -> dict[str, Any]:
    result = {
        "name": parameter.name,
        "in": parameter.location,
        "description": parameter.description,
        "schema": parameter.schema,
    }
    if parameter.required:
        result["required"] = True
    return result


def _parameters(
    app: Flask, rule: Rule, operation: Operation, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in sorted(rule.arguments)
    ]
    if operation.query is not None:
        query = schemas[operation.query.__name__]
        for name, schema in query.get("properties", {}).items():
            parameter = {"name": name, "in": "query", "schema": _query_schema(schema)}
            if name in query.get("required", []):
                parameter["required"] = True
            parameters.append(parameter)
    parameters += [
        _parameter_object(parameter)
        for parameter in operation.parameters
        if parameter.setting is None or app.config.get(parameter.setting)
    ]
    return parameters


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    # A query string cannot carry null: `str | None = None` just means "may be left out".
    result = {key: value for key, value in schema.items() if key != "title"}
    if "default" in result and result["default"] is None:
        del result["default"]
    if "anyOf" in result:
        options = [option for option in result.pop("anyOf") if option != {"type": "null"}]
        result = {**options[0], **result} if len(options) == 1 else {"anyOf": options, **result}
    return result


def _error_statuses(rule: Rule, operation: Operation) -> list[int]:
    statuses = set(operation.errors)
    if operation.security:
        statuses.add(401)
    if operation.roles and set(operation.roles) != set(Role):
        statuses.add(403)
    if rule.arguments:
        statuses.add(404)
    if operation.body is not None:
        statuses.update((400, 408, 413, 415, 422))
    if operation.query is not None:
        statuses.add(422)
    return sorted(statuses)


def _success(operation: Operation) -> dict[str, Any]:
    if operation.response is not None:
        summary = (inspect.getdoc(operation.response) or "").partition("\n")[0]
        answer = {
            "description": operation.response_description or summary,
            "content": {"application/json": {"schema": _ref(operation.response)}},
        }
        if created_id_field(operation) is not None:
            answer["headers"] = {
                "Location": {
                    "description": "The path of the new resource: this path, then its id.",
                    "required": True,
                    "schema": {"type": "string"},
                }
            }
        return answer
    answer: dict[str, Any] = {"description": operation.response_description or "Success."}
    if operation.content is not None:
        answer["content"] = operation.content
    return answer


def _operation_object(
    app: Flask, rule: Rule, operation: Operation, operation_id: str, schemas: dict[str, Any]
) -> dict[str, Any]:
    summary, details = _docstring(app, rule.endpoint)
    description = "\n\n".join(
        part for part in (details, _roles_sentence(operation.roles), operation.description) if part
    )
    result: dict[str, Any] = {
        "tags": [operation.tag],
        "summary": summary,
        "operationId": operation_id,
    }
    if description:
        result["description"] = description
    if parameters := _parameters(app, rule, operation, schemas):
        result["parameters"] = parameters
    if operation.body is not None:
        result["requestBody"] = {
            "required": operation.body_required,
            "content": {"application/json": {"schema": _ref(operation.body)}},
        }
    responses = {str(operation.status): _success(operation)}
    for status in _error_statuses(rule, operation):
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {"application/json": {"schema": _ref(ErrorResponse)}},
        }
        if status == 429:
            responses[str(status)]["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
    result["responses"] = responses
    # An empty list says "no authentication" explicitly; each entry is one accepted way.
    result["security"] = [{name: []} for name in operation.security]
    if operation.events:
        result["x-events"] = {name: _ref(model) for name, model in operation.events.items()}
    return result
