"""schedules (recurring sleep and wake) and the holds manual operations put on them

Revision ID: 0009_schedules
Revises: 0008_catalog_lifecycle
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_schedules"
down_revision: str | None = "0008_catalog_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("apps", sa.JSON(), nullable=True),
        sa.Column("teams", sa.JSON(), nullable=True),
        sa.Column("exclude_apps", sa.JSON(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("weekdays", sa.String(length=80), nullable=False),
        sa.Column("sleep_at", sa.String(length=5), nullable=False),
        sa.Column("wake_at", sa.String(length=5), nullable=True),
        sa.Column("reduce_to", sa.Integer(), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_schedules_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedules_environment_id"), ["environment_id"], unique=False)
    op.create_table(
        "schedule_holds",
        sa.Column("app_environment_id", sa.Integer(), nullable=False),
        sa.Column("awake", sa.Boolean(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=253), nullable=False),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_environment_id"],
            ["app_environments.id"],
            name=op.f("fk_schedule_holds_app_environment_id_app_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_environment_id", name=op.f("pk_schedule_holds")),
    )


def downgrade() -> None:
    op.drop_table("schedule_holds")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedules_environment_id"))
    op.drop_table("schedules")
