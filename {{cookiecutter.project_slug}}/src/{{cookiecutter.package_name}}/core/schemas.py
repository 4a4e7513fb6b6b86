"""Constraints shared by the schemas of every feature."""

# PostgreSQL cannot store NUL in text; rejecting it at the boundary turns a 500 into a 422.
NO_NUL = r"^[^\x00]*$"
# Text a person reads (a name, a title): no NUL, and at least one character that is not a space.
# Input is kept as sent; whitespace is not silently stripped, so the schema is the whole truth.
VISIBLE_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"
