"""Constraints and types shared by the schemas of every feature."""

from enum import StrEnum
from typing import Any

from pydantic import BeforeValidator, GetJsonSchemaHandler
from pydantic_core import CoreSchema


def _reject_booleans_and_strings(value: object) -> object:
    if isinstance(value, bool | str):
        raise ValueError("Input should be a JSON number")  # noqa: TRY004 - pydantic wants ValueError
    return value


# A number as JSON Schema means it: 3 and 3.0, never true or "3" (which pydantic would coerce).
# Put it after the constraints: Annotated[int, Field(ge=1), JSON_NUMBER_ONLY].
JSON_NUMBER_ONLY = BeforeValidator(_reject_booleans_and_strings)

# PostgreSQL cannot store NUL in text; rejecting it at the boundary turns a 500 into a 422.
NO_NUL = r"^[^\x00]*$"
# Text a person reads (a name, a title): no NUL, and at least one character that is not a space.
# Input is kept as sent; whitespace is not silently stripped, so the schema is the whole truth.
VISIBLE_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"

# What a 422 says when a value does not match one of these patterns (never the regex itself).
PATTERN_MESSAGES = {
    NO_NUL: "Text must not contain the NUL character",
    VISIBLE_TEXT: "Text must contain a visible character, not only spaces, and no NUL character",
}


class NamedEnum(StrEnum):
    """A string enum whose schema names its members (``x-enum-varnames``), so that generated
    clients read ``ItemSort.CREATED_AT_DESC`` where the value alone (``-created_at``) would
    give them ``VALUE_1``."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        described = handler.resolve_ref_schema(handler(schema))
        described["x-enum-varnames"] = [member.name for member in cls]
        return described
