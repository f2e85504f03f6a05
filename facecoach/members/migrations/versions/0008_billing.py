"""self-service billing: a subscription's billing option, item, period and cancellation at its end

Revision ID: 0008_billing
Revises: 0007_api_tokens
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_billing"
down_revision = "0007_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("billing", sa.String(length=20), nullable=False, server_default="monthly")
        )
        batch_op.add_column(sa.Column("item_ref", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("period_start", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("provider_changed_at", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("provider_changed_at")
        batch_op.drop_column("cancel_at_period_end")
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
        batch_op.drop_column("item_ref")
        batch_op.drop_column("billing")
