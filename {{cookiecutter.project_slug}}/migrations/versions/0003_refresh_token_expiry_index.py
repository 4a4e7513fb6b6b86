"""refresh tokens: an index on their expiry, for the retention purge

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01

The purge (features/auth/retention.py) looks for expired rows every few minutes in every process;
without this index each look reads the whole table. On PostgreSQL the index is built
concurrently, outside the migrations' transaction, so that logins and refreshes keep writing to
the table while it is built: it waits for the transactions open when it starts (a long report,
a dump), with no statement timeout (migrations/env.py). (An add-on pack's revision may also
follow 0001: a bake with that pack has a revision of the pack's own that joins the two again.)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE, INDEX = "refresh_tokens", "ix_refresh_tokens_expires_at"


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            # A concurrent build that failed (cancelled, or a duplicate) leaves an invalid index
            # behind, which would fail every retry: start again from none.
            op.drop_index(INDEX, table_name=TABLE, postgresql_concurrently=True, if_exists=True)
            op.create_index(INDEX, TABLE, ["expires_at"], postgresql_concurrently=True)
    else:
        op.create_index(INDEX, TABLE, ["expires_at"])


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(INDEX, table_name=TABLE, postgresql_concurrently=True)
    else:
        op.drop_index(INDEX, table_name=TABLE)
