"""append-only guards: triggers refusing UPDATE/DELETE on the log and evidence tables

Revision ID: reliability_1
Revises: 0001
Create Date: 2026-11-23 10:00:00

See incident/core/store/guards.py. The app re-installs missing guards on every
start (an SQLite table rebuilt by a later batch migration loses its triggers),
so later migrations need not repeat this one.
"""

from collections.abc import Sequence

from alembic import op

from incident.core.store import guards

revision: str = "reliability_1"
down_revision: str | None = "sampling_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    guards.install(op.get_bind())


def downgrade() -> None:
    guards.uninstall(op.get_bind())
