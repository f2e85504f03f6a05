"""habit guard (issue 16): guard_settings and guard_hours (opt-in hourly counts, never frames)

Revision ID: 0005_guard
Revises: 0004_studio
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_guard"
down_revision = "0004_studio"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guard_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_min", sa.Integer(), nullable=False),
        sa.Column("quiet_start_h", sa.Integer(), nullable=True),
        sa.Column("quiet_end_h", sa.Integer(), nullable=True),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.Column("sound", sa.Boolean(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("save_counts", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "guard_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("measured_s", sa.Float(), nullable=False),
        sa.Column("habit_s", sa.JSON(), nullable=False),
        sa.Column("nudges", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "client_id", "day", "hour"),
    )
    with op.batch_alter_table("guard_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guard_hours_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_guard_hours_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guard_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guard_hours_day"))
        batch_op.drop_index(batch_op.f("ix_guard_hours_user_id"))
    op.drop_table("guard_hours")
    op.drop_table("guard_settings")
