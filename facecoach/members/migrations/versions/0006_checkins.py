"""guided check-ins and their opt-in pictures

Revision ID: 0006_checkins
Revises: 0005_guard
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_checkins"
down_revision = "0005_guard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkins_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkins_created_at"), ["created_at"], unique=False)
    op.create_table(
        "checkin_pictures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checkin_id"),
    )
    with op.batch_alter_table("checkin_pictures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_pictures_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checkin_pictures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_pictures_user_id"))
    op.drop_table("checkin_pictures")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkins_created_at"))
        batch_op.drop_index(batch_op.f("ix_checkins_user_id"))
    op.drop_table("checkins")
