"""Every table of every feature, imported once so ``Base.metadata`` is complete (Alembic, tests)."""

from .core.base import Base
from .features.auth.models import RefreshToken
from .features.items.models import Item
from .features.users.models import User

__all__ = ["Base", "Item", "RefreshToken", "User"]
