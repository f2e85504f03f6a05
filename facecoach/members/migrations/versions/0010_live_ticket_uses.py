"""live-session tickets that have been used: a ticket opens one socket only

Revision ID: 0010_live_ticket_uses
Revises: 0009_audit_report
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_live_ticket_uses"
down_revision = "0009_audit_report"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_ticket_uses",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    with op.batch_alter_table("live_ticket_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_ticket_uses_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("live_ticket_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_ticket_uses_expires_at"))
    op.drop_table("live_ticket_uses")
