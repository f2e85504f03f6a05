"""pending sign-ups; no usable link left in the outbox

The outbox used to keep the full text of reset mails, links included, where the instructor could read
them: those links are removed from the stored text and every reset token still outstanding is spent
(members who had one ask again). Removing the links cannot be undone by the downgrade.

Revision ID: 0003_accounts
Revises: 0002
Create Date: 2026-12-01
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0003_accounts"
down_revision = "0002"
branch_labels = None
depends_on = None

_LINK = re.compile(r"/reset/[A-Za-z0-9_-]+")


def upgrade() -> None:
    op.create_table(
        "signup_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("signup_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signup_requests_email"), ["email"], unique=False)

    bind = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("body", sa.Text))
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.body).where(outbox.c.body.like("%/reset/%")))
    for row_id, body in list(rows):
        bind.execute(
            outbox.update().where(outbox.c.id == row_id).values(body=_LINK.sub("/reset/[link removed]", body))
        )
    resets = sa.table("password_resets", sa.column("used", sa.Boolean))
    bind.execute(resets.update().where(resets.c.used == sa.false()).values(used=True))


def downgrade() -> None:
    with op.batch_alter_table("signup_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signup_requests_email"))
    op.drop_table("signup_requests")
