"""Every table of every feature, imported once so ``Base.metadata`` is complete (Alembic, tests)."""

from .core.base import Base
from .features.auth.models import RefreshToken
from .features.items.models import Item
from .features.users.models import User
{%- if cookiecutter.use_file_uploads %}
from .files.models import StoredFile
{%- endif %}

__all__ = [
    "Base",
    "Item",
    "RefreshToken",
{%- if cookiecutter.use_file_uploads %}
    "StoredFile",
{%- endif %}
    "User",
]
