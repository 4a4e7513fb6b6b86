"""How a request's invalid parts are reported: one error per field, named by the request's own
path (``body.priority``, ``query.limit``) and explained in words, never echoing the input."""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from .schemas import PATTERN_MESSAGES


class FieldError(BaseModel):
    """One invalid part of a request."""

    field: str = Field(
        description="Where, as the request has it: `body.priority`, `query.limit`, `body` alone "
        "for the body as a whole",
        examples=["body.title"],
    )
    message: str = Field(description="What is wrong, for people", examples=["Field required"])
    type: str = Field(description="What is wrong, for programs", examples=["missing"])


class ValidationDetails(BaseModel):
    errors: list[FieldError] = Field(description="One per invalid field")


def validation_details(errors: Sequence[Any], body: Any = None) -> dict[str, Any]:
    """One error per invalid field, named by the request's own path and explained in words;
    the offending input is never echoed back. *body* is the parsed request body, to tell its
    keys from the names pydantic gives the members of a union."""
    chosen: dict[str, Mapping[str, Any]] = {}
    for error in errors:
        field = request_path(error["loc"], error["type"], body)
        # A value that fits no member of `X | None` fails both; the "should be None" is noise.
        if field not in chosen or chosen[field]["type"] == "none_required":
            chosen[field] = error
    problems = [
        FieldError(field=field, message=_message(error), type=error["type"])
        for field, error in chosen.items()
    ]
    return ValidationDetails(errors=problems).model_dump()


def request_path(loc: Sequence[str | int], error_type: str, body: Any) -> str:
    """``body.priority`` for pydantic's ``("body", "priority", "function-before[...]")``: only
    the parts of *loc* that are keys or positions of the request, not pydantic's own tags of
    the union members it tried."""
    if not loc:
        return ""
    source, *rest = loc
    path = [str(source)]
    if source != "body":
        # A parameter: its name, then positions in a list of values.
        path += [str(part) for part in rest[:1]]
        path += [str(part) for part in rest[1:] if isinstance(part, int)]
        return ".".join(path)
    value = body
    for index, part in enumerate(rest):
        key = isinstance(value, Mapping) and isinstance(part, str) and part in value
        position = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if key or position:
            value = value[part]
        elif not (
            index == len(rest) - 1
            and error_type.startswith("missing")
            and isinstance(value, Mapping)
        ):
            continue  # a union member's tag, or a position in a body that is not JSON
        path.append(str(part))
    return ".".join(path)


# Pydantic's words where they name its internals instead of the JSON the client sent, or quote
# a piece of the input.
_MESSAGES = {
    "uuid_parsing": "Input should be a valid UUID",
    "model_type": "Input should be a JSON object",
    "model_attributes_type": "Input should be a JSON object",
    "dataclass_type": "Input should be a JSON object",
    "json_invalid": "The body is not valid JSON",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern"))
        return PATTERN_MESSAGES.get(pattern, "Text is not in the format the schema describes")
    if kind == "missing" and tuple(error["loc"]) == ("body",):
        return "A body is required"
    message: str = _MESSAGES.get(kind, error["msg"])
    # A ValueError raised by a validator comes prefixed: "Value error, Input should be ...".
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
