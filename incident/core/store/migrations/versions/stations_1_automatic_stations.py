"""stations: automatic stations (HJ 212-2017), their readings, rejected packets and early-warning alerts

Revision ID: stations_1
Revises: preplan_1
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "stations_1"
down_revision: str | None = "preplan_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString
_time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mn", _text(), nullable=False),
        sa.Column("name", _text(), nullable=False),
        sa.Column("river_network_id", sa.Integer(), nullable=True),
        sa.Column("reach_id", _text(), nullable=True),
        sa.Column("km", sa.Float(), nullable=True),
        sa.Column("parameters_json", _text(), nullable=False),
        sa.Column("water_class", _text(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("created_by", _text(), nullable=False),
        sa.ForeignKeyConstraint(["river_network_id"], ["rivernetwork.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_station_mn"), ["mn"], unique=True)
    op.create_table(
        "stationreading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("parameter", _text(), nullable=False),
        sa.Column("interval", _text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("flag", _text(), nullable=False),
        sa.Column("received_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stationreading", schema=None) as batch_op:
        batch_op.create_index(
            "ux_stationreading_station_at", ["station_id", "at", "parameter", "interval"], unique=True
        )
    op.create_table(
        "stationrejection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("source", _text(), nullable=False),
        sa.Column("mn", _text(), nullable=True),
        sa.Column("reason", _text(), nullable=False),
        sa.Column("packet", _text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stationrejection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stationrejection_at"), ["at"], unique=False)
    op.create_table(
        "stationalert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", _text(), nullable=False),
        sa.Column("status", _text(), nullable=False),
        sa.Column("first_abnormal_at", _time(), nullable=False),
        sa.Column("detected_at", _time(), nullable=False),
        sa.Column("opened_at", _time(), nullable=False),
        sa.Column("station_mn", _text(), nullable=False),
        sa.Column("parameter", _text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("evidence_json", _text(), nullable=False),
        sa.Column("candidates_json", _text(), nullable=False),
        sa.Column("risk_sources_json", _text(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stationalert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stationalert_code"), ["code"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("stationalert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stationalert_code"))
    op.drop_table("stationalert")
    with op.batch_alter_table("stationrejection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stationrejection_at"))
    op.drop_table("stationrejection")
    with op.batch_alter_table("stationreading", schema=None) as batch_op:
        batch_op.drop_index("ux_stationreading_station_at")
    op.drop_table("stationreading")
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_mn"))
    op.drop_table("station")
