"""perf_2: a covering index for "which rounds hold results" (issue 19)

The round table lists the rounds that hold a result on a sample other than a field
blank: one probe per round, which read every sample row of the round for its type.
With ``sample (round_id, sample_type)`` the probe stays in the index. Index only:
nothing to migrate; ``if_not_exists``: a store indexed by hand keeps working.

Revision ID: perf_2
Revises: perf_1
Create Date: 2026-12-06 07:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "perf_2"
down_revision: str | None = "perf_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sample_round_id_sample_type",
        "sample",
        ["round_id", "sample_type"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_sample_round_id_sample_type", table_name="sample", if_exists=True)
