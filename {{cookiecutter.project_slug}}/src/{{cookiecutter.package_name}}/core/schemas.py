"""Constraints shared by the schemas of every feature."""

from pydantic import BeforeValidator


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
