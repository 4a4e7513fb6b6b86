"""Constraints shared by the schemas of every feature."""

# PostgreSQL cannot store NUL in text; rejecting it at the boundary turns a 500 into a 422.
NO_NUL = r"^[^\x00]*$"
