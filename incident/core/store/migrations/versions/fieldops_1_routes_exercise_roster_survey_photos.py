"""fieldops: crew routes (stop order, window, readiness override), check-in location,
exercise rosters, HJ 589 Appendix A field survey, photo attachments

Revision ID: fieldops_1
Revises: forecast_record_1
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "fieldops_1"
down_revision: str | None = "forecast_record_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fieldsurvey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fields_json", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fieldsurvey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fieldsurvey_incident_id"), ["incident_id"], unique=False)
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("stored_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("original_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("caption", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("point_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("taken_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_incident_id"), ["incident_id"], unique=False)
    # a plain ADD COLUMN (no table rebuild: other tables reference crew rows)
    if op.get_bind().dialect.name == "sqlite":  # SQLite takes a REFERENCES clause on ADD COLUMN
        op.execute("ALTER TABLE crew ADD COLUMN exercise_id INTEGER REFERENCES incident (id)")
    else:
        op.add_column("crew", sa.Column("exercise_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_crew_exercise_id_incident", "crew", "incident", ["exercise_id"], ["id"])
    op.create_index(op.f("ix_crew_exercise_id"), "crew", ["exercise_id"], unique=False)
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lon", sa.Float(), nullable=True))
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stop", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("window_open", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("override_reason")
        batch_op.drop_column("window_open")
        batch_op.drop_column("stop")
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_column("lon")
        batch_op.drop_column("lat")
    op.drop_index(op.f("ix_crew_exercise_id"), table_name="crew")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_crew_exercise_id_incident", "crew", type_="foreignkey")
    with op.batch_alter_table("crew", schema=None) as batch_op:
        batch_op.drop_column("exercise_id")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_incident_id"))
    op.drop_table("attachment")
    with op.batch_alter_table("fieldsurvey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fieldsurvey_incident_id"))
    op.drop_table("fieldsurvey")
