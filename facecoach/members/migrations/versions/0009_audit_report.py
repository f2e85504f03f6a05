"""the audit report: the kept video's folder and the worst frames' thumbnails

Revision ID: 0009_audit_report
Revises: 0008_billing
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_audit_report"
down_revision = "0008_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_dir", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_thumbnails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("t_s", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["audit_jobs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_thumbnails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_thumbnails_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_thumbnails_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_thumbnails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_thumbnails_job_id"))
        batch_op.drop_index(batch_op.f("ix_audit_thumbnails_user_id"))
    op.drop_table("audit_thumbnails")
    with op.batch_alter_table("audit_jobs", schema=None) as batch_op:
        batch_op.drop_column("media_dir")
