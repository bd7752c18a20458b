"""reports: author inputs, as-of time and supersedes on report

Revision ID: reports_1
Revises: 0001
Create Date: 2026-11-23 08:38:56.411396
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "reports_1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        # server_default so that existing rows (if any) get an empty object
        batch_op.add_column(
            sa.Column("inputs_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("as_of", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_report_supersedes_id_report", "report", ["supersedes_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint("fk_report_supersedes_id_report", type_="foreignkey")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("as_of")
        batch_op.drop_column("inputs_json")
