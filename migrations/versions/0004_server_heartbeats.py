"""server heartbeats; leases know their server and why they wait to be settled

Revision ID: 0004_server_heartbeats
Revises: 0003_wake_started_at
Create Date: 2026-11-29 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_server_heartbeats"
down_revision: str | None = "0003_wake_started_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "servers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("machine", sa.String(length=300), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_servers")),
    )
    with op.batch_alter_table("operation_leases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("server_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("unsettled", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_operation_leases_holder"), ["holder"], unique=False)
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_index("ix_deployments_outcome", ["outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_deployments_outcome")
    with op.batch_alter_table("operation_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operation_leases_holder"))
        batch_op.drop_column("unsettled")
        batch_op.drop_column("server_id")
    op.drop_table("servers")
