"""elections (one server per role) and the resourceVersion a recorded status was derived from

Revision ID: 0006_watch_observations
Revises: 0005_transition_notifications
Create Date: 2026-11-30 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_watch_observations"
down_revision: str | None = "0005_transition_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "elections",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("server_id", sa.String(length=32), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_elections")),
    )
    with op.batch_alter_table("app_environments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_version", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_environments", schema=None) as batch_op:
        batch_op.drop_column("status_version")
    op.drop_table("elections")
