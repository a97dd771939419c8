"""announce committed transitions to every server (PostgreSQL NOTIFY)

Revision ID: 0005_transition_notifications
Revises: 0004_server_heartbeats
Create Date: 2026-11-30 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_transition_notifications"
down_revision: str | None = "0004_server_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# NOTIFY payloads are at most 8,000 bytes: the ids of one statement go in chunks of 500.
_FUNCTION = """
CREATE OR REPLACE FUNCTION hibernia_announce_transitions() RETURNS trigger AS $$
DECLARE
    chunk text;
BEGIN
    FOR chunk IN
        SELECT string_agg(id::text, ',' ORDER BY id)
        FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / 500 AS part FROM inserted) AS numbered
        GROUP BY part
    LOOP
        PERFORM pg_notify('hibernia_transitions', chunk);
    END LOOP;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_TRIGGER = """
CREATE TRIGGER transitions_announce AFTER INSERT ON transitions
REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION hibernia_announce_transitions()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: one process, announced in process after each commit (app/db/feed.py)
    op.execute(_FUNCTION)
    op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS transitions_announce ON transitions")
    op.execute("DROP FUNCTION IF EXISTS hibernia_announce_transitions()")
