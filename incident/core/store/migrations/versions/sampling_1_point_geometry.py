"""sampling points: offset, trailing edge, HJ/T 91 verticals and depths, note

Revision ID: sampling_1
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "sampling_1"
down_revision: str | None = "playbook_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("samplingpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offset_m", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("trailing_h", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("verticals", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("points_per_vertical", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("samplingpoint", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("points_per_vertical")
        batch_op.drop_column("verticals")
        batch_op.drop_column("trailing_h")
        batch_op.drop_column("offset_m")
