"""The user table."""

from enum import StrEnum

from sqlmodel import Field

from ...core.base import Base, Timestamps, UUIDPrimaryKey
from ...core.columns import enum_as_string


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(UUIDPrimaryKey, Timestamps, Base, table=True):
    __tablename__ = "users"

    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=255)
    full_name: str | None = Field(default=None, max_length=200)
    role: Role = Field(default=Role.USER, sa_type=enum_as_string(Role))
    is_active: bool = True
