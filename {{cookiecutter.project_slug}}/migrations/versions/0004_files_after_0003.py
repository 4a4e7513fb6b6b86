"""file uploads pack: join its revision and the core's 0003 into one head

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-12-01

The pack's 0002 and the core's 0003 both follow 0001: this revision, which changes nothing,
makes them one head again, so that ``alembic upgrade head`` and ``alembic revision`` work as in a
bake without the pack. A database at 0002 goes on through 0003 to here.
"""

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
