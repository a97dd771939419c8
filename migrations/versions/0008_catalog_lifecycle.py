"""catalog lifecycle: clusters, environments, apps and attachments archived instead of deleted (names
unique among the rest); clusters keep client certificates from kubeconfigs; rollbacks link to the
deployment they rolled back

Revision ID: 0008_catalog_lifecycle
Revises: 0006_watch_observations
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_catalog_lifecycle"
down_revision: str | None = "0006_watch_observations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_NAMED = ("clusters", "environments", "apps")
_LIVE = sa.text("archived_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_certificate_data", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("client_key_data", sa.Text(), nullable=True))
    for table in (*_NAMED, "app_environments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    for table in _NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_name", type_="unique")
            batch_op.create_index(
                f"uq_{table}_name_live", ["name"], unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE
            )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rolled_back_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deployments_rolled_back_from_id_deployments"),
            "deployments",
            ["rolled_back_from_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deployments_rolled_back_from_id_deployments"), type_="foreignkey")
        batch_op.drop_column("rolled_back_from_id")
    for table in _NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"uq_{table}_name_live")
            batch_op.create_unique_constraint(f"uq_{table}_name", ["name"])
    for table in (*_NAMED, "app_environments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("archived_at")
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.drop_column("client_key_data")
        batch_op.drop_column("client_certificate_data")
