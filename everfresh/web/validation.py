"""Parse request bodies and query strings into pydantic models, or fail with a 422 naming fields."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from flask import request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from everfresh.errors import ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)


def normalise_email(value: str) -> str:
    """Return `value` as a normalised email address, or raise ValueError saying why not."""
    # The demo logins live under `.test`, so reserved test domains must be accepted too;
    # pydantic's EmailStr refuses them.
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as error:
        raise ValueError(f"Not a valid email address: {error}") from None


# Documented as an email address: `normalise_email` decides, as a format leaves room to.
EmailAddress = Annotated[
    str,
    AfterValidator(normalise_email),
    Field(json_schema_extra={"format": "email"}),
]
# Passwords are taken byte for byte: trimming would silently change a secret.
Password = Annotated[str, StringConstraints(strip_whitespace=False)]


def _whole_number(value: object) -> object:
    # JSON has one number type: 30.0 is the integer 30, as JSON Schema's "integer" says.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer field of a JSON body: no strings or booleans, but 30.0 counts as 30.
WholeNumber = Annotated[int, BeforeValidator(_whole_number), Field(strict=True)]


class RequestModel(BaseModel):
    """Base for request bodies: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _refuse_null(value: object) -> object:
    # Runs only when the field was sent: an explicit null would erase a required value.
    if value is None:
        raise ValueError("May be left out, but not null.")
    return value


class _NotNull:
    """Refuse an explicit null, and leave null out of the field's documented schema."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_refuse_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        result = handler(schema)
        options = [option for option in result.pop("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1:
            result = {**options[0], **result}
        elif options:
            result["anyOf"] = options
        return result


# Marks a field of an update that may be left out but, when sent, may not be null.
NotNull = _NotNull()


class UpdateRequest(RequestModel):
    """Base for PATCH bodies: only the fields sent change, and at least one must be sent."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateRequest:
        if not self.model_fields_set:
            raise ValueError("Send at least one field to change.")
        return self


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
