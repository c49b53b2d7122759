"""Parse request bodies and query strings into pydantic models, or fail with a 422 naming fields."""

from __future__ import annotations

from typing import Annotated, TypeVar

from email_validator import EmailNotValidError, validate_email
from flask import request
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from everfresh.errors import ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)


def _email_address(value: str) -> str:
    # The demo logins live under `.test`, so reserved test domains must be accepted too;
    # pydantic's EmailStr refuses them.
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as error:
        raise ValueError(f"Not a valid email address: {error}") from None


EmailAddress = Annotated[str, AfterValidator(_email_address)]


class RequestModel(BaseModel):
    """Base for request bodies: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def fields_of(error: ValidationError) -> dict[str, str]:
    """Map each failing field's dotted path to its first error message."""
    fields: dict[str, str] = {}
    for problem in error.errors():
        path = ".".join(str(part) for part in problem["loc"]) or "body"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "Unknown field."
        elif problem["type"] == "value_error" and "error" in problem.get("ctx", {}):
            # Our own validators' messages, without pydantic's "Value error, " prefix;
            # pydantic's own value errors (EmailStr's, say) carry no "error" and keep theirs.
            message = str(problem["ctx"]["error"])
        fields.setdefault(path, message)
    return fields


def parse_body(model: type[ModelT]) -> ModelT:
    """Validate the JSON body against `model`: 415 unless JSON, 400 if malformed, 422 if invalid."""
    payload = request.get_json()
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise ValidationFailed(fields_of(error)) from None


def parse_query(model: type[ModelT]) -> ModelT:
    """Validate the query string against `model`, failing with 422 naming the parameters."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise ValidationFailed(
            fields_of(error), "The query string has invalid parameters."
        ) from None
