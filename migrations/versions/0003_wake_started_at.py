"""wake start on app environments

Revision ID: 0003_wake_started_at
Revises: 0002_api_tokens
Create Date: 2026-11-26 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_wake_started_at"
down_revision: str | None = "0002_api_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_environments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wake_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_environments", schema=None) as batch_op:
        batch_op.drop_column("wake_started_at")
