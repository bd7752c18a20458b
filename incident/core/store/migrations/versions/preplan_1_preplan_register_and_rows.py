"""preplan: the risk-source register (sources, intakes, interception points) and pre-plan rows

Revision ID: preplan_1
Revises: drills_1
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "preplan_1"
down_revision: str | None = "drills_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preplanentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entry_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reach_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("data_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("role", "entry_id"),
    )
    with op.batch_alter_table("preplanentry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_preplanentry_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_preplanentry_role"), ["role"], unique=False)

    op.create_table(
        "preplanrow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("intake_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("input_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("row_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("preplanrow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_preplanrow_intake_id"), ["intake_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_preplanrow_key"), ["key"], unique=True)
        batch_op.create_index(batch_op.f("ix_preplanrow_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("preplanrow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preplanrow_source_id"))
        batch_op.drop_index(batch_op.f("ix_preplanrow_key"))
        batch_op.drop_index(batch_op.f("ix_preplanrow_intake_id"))
    op.drop_table("preplanrow")
    with op.batch_alter_table("preplanentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preplanentry_role"))
        batch_op.drop_index(batch_op.f("ix_preplanentry_entry_id"))
    op.drop_table("preplanentry")
