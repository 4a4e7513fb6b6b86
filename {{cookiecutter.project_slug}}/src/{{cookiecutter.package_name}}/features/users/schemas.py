"""What the users API accepts and returns; server-owned fields are never accepted."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ...core.pagination import Page
from ...core.schemas import VISIBLE_TEXT
from .models import Role


class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str | None
    role: Role
    is_active: bool
    created_at: datetime


class UserUpdate(BaseModel):
    """Fields a user may change on their own account; anything else is rejected."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=200, pattern=VISIBLE_TEXT)


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class ActiveUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool = Field(description="false deactivates the account, true reactivates it")


class UserPage(Page[UserResponse]):
    """One page of users."""
