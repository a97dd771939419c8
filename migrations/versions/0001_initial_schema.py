"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26 22:58:17.928032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("team", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("name", name=op.f("uq_apps_name")),
    )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.create_index("ix_apps_team_name", ["team", "name"], unique=False)

    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("server", sa.String(length=2048), nullable=True),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("ca_data", sa.Text(), nullable=True),
        sa.Column("insecure_skip_tls_verify", sa.Boolean(), nullable=False),
        sa.Column("kubeconfig_path", sa.String(length=4096), nullable=True),
        sa.Column("kubeconfig_context", sa.String(length=253), nullable=True),
        sa.Column("in_cluster", sa.Boolean(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
        sa.UniqueConstraint("name", name=op.f("uq_clusters_name")),
    )
    op.create_table(
        "environments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_environments_cluster_id_clusters"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environments")),
        sa.UniqueConstraint("name", name=op.f("uq_environments_name")),
    )
    with op.batch_alter_table("environments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_environments_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "app_environments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("release_name", sa.String(length=53), nullable=False),
        sa.Column("desired_replicas", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "NOT_DEPLOYED",
                "HEALTHY",
                "PROGRESSING",
                "DEGRADED",
                "MISSING",
                "HIBERNATING",
                "PARTIALLY_HIBERNATED",
                "WAKING",
                "UNKNOWN",
                name="app_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_environments_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_app_environments_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_environments")),
        sa.UniqueConstraint("app_id", "environment_id", name=op.f("uq_app_environments_app_id_environment_id")),
    )
    with op.batch_alter_table("app_environments", schema=None) as batch_op:
        batch_op.create_index("ix_app_environments_app_id_status", ["app_id", "status"], unique=False)
        batch_op.create_index("ix_app_environments_environment_id_status", ["environment_id", "status"], unique=False)
        batch_op.create_index("ix_app_environments_status_app_id", ["status", "app_id"], unique=False)

    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_environment_id", sa.Integer(), nullable=False),
        sa.Column("image", sa.String(length=1024), nullable=False),
        sa.Column("on_hibernated", sa.String(length=16), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "RUNNING",
                "SUCCEEDED",
                "FAILED",
                "SKIPPED",
                name="deployment_outcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=253), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_environment_id"],
            ["app_environments.id"],
            name=op.f("fk_deployments_app_environment_id_app_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_index("ix_deployments_app_environment_id_id", ["app_environment_id", "id"], unique=False)

    op.create_table(
        "hibernation_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_environment_id", sa.Integer(), nullable=False),
        sa.Column(
            "workload_kind",
            sa.Enum("Deployment", "StatefulSet", "CronJob", name="workload_kind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("workload_name", sa.String(length=253), nullable=False),
        sa.Column("original_replicas", sa.Integer(), nullable=True),
        sa.Column("original_suspend", sa.Boolean(), nullable=True),
        sa.Column("actor", sa.String(length=253), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_environment_id"],
            ["app_environments.id"],
            name=op.f("fk_hibernation_records_app_environment_id_app_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hibernation_records")),
        sa.UniqueConstraint(
            "app_environment_id",
            "workload_kind",
            "workload_name",
            name=op.f("uq_hibernation_records_app_environment_id_workload_kind_workload_name"),
        ),
    )
    op.create_table(
        "operation_leases",
        sa.Column("app_environment_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=253), nullable=True),
        sa.Column("operation", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=253), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_environment_id"],
            ["app_environments.id"],
            name=op.f("fk_operation_leases_app_environment_id_app_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_environment_id", name=op.f("pk_operation_leases")),
    )
    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_environment_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "NOT_DEPLOYED",
                "HEALTHY",
                "PROGRESSING",
                "DEGRADED",
                "MISSING",
                "HIBERNATING",
                "PARTIALLY_HIBERNATED",
                "WAKING",
                "UNKNOWN",
                name="app_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "NOT_DEPLOYED",
                "HEALTHY",
                "PROGRESSING",
                "DEGRADED",
                "MISSING",
                "HIBERNATING",
                "PARTIALLY_HIBERNATED",
                "WAKING",
                "UNKNOWN",
                name="app_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "cause",
            sa.Enum(
                "OBSERVED",
                "DEPLOY",
                "HIBERNATE",
                "UNHIBERNATE",
                "ATTACH",
                name="transition_cause",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=253), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_environment_id"],
            ["app_environments.id"],
            name=op.f("fk_transitions_app_environment_id_app_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
    )
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.create_index("ix_transitions_app_environment_id_id", ["app_environment_id", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_transitions_app_environment_id_id")

    op.drop_table("transitions")
    op.drop_table("operation_leases")
    op.drop_table("hibernation_records")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_deployments_app_environment_id_id")

    op.drop_table("deployments")
    with op.batch_alter_table("app_environments", schema=None) as batch_op:
        batch_op.drop_index("ix_app_environments_status_app_id")
        batch_op.drop_index("ix_app_environments_environment_id_status")
        batch_op.drop_index("ix_app_environments_app_id_status")

    op.drop_table("app_environments")
    with op.batch_alter_table("environments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_environments_cluster_id"))

    op.drop_table("environments")
    op.drop_table("clusters")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_index("ix_apps_team_name")

    op.drop_table("apps")
