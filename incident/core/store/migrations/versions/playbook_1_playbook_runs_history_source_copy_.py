"""playbook runs: history, source copy, action outcome

Revision ID: playbook_1
Revises: 0001
Create Date: 2026-11-23 08:36:24.648372

Existing rows get the empty values (server defaults), so a store with runs
already in it upgrades in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "playbook_1"
down_revision: str | None = "results_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("playbookrun", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("history_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("source_toml", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("source_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )

    with op.batch_alter_table("stepstate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("action_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("stepstate", schema=None) as batch_op:
        batch_op.drop_column("action_json")

    with op.batch_alter_table("playbookrun", schema=None) as batch_op:
        batch_op.drop_column("source_name")
        batch_op.drop_column("source_toml")
        batch_op.drop_column("history_json")
