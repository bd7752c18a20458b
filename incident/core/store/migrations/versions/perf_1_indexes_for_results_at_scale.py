"""perf: indexes for results at scale (issue 19)

A point's series, a round's table, QC's neighbours, "is this result corrected?"
and "was this file imported?" go by index instead of scanning the incident.
Indexes only: no table or column changes, nothing to migrate (``result.corrects_id``
is indexed by forecast_record_1). ``if_not_exists``: a store indexed by hand keeps working.

Revision ID: perf_1
Revises: evidence_1
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "perf_1"
down_revision: str | None = "evidence_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_sample_point_id_sampled_at", "sample", ["point_id", "sampled_at"]),
    ("ix_sample_round_id", "sample", ["round_id"]),
    ("ix_sample_parallel_of", "sample", ["parallel_of"]),
    ("ix_result_incident_id_parameter", "result", ["incident_id", "parameter"]),
    ("ix_result_sample_id_parameter", "result", ["sample_id", "parameter"]),
    ("ix_logentry_incident_id_kind", "logentry", ["incident_id", "kind"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False, if_not_exists=True)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
