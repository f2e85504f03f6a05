"""practice_sessions.source: live (built by the server) or manual (logged by hand)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Rows from before: live coaching always wrote ``"source": "live"`` into the stored summary and the API
never could (its model had no such field), so that key tells the two apart; everything else is manual.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=10), nullable=False, server_default="manual")
        )
    if op.get_bind().dialect.name == "postgresql":
        was_live = "summary::jsonb ->> 'source' = 'live'"
    else:
        was_live = "json_extract(summary, '$.source') = 'live'"
    op.execute(f"UPDATE practice_sessions SET source = 'live' WHERE {was_live}")


def downgrade() -> None:
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_column("source")
