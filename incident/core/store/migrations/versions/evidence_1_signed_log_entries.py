"""evidence: every log entry signed by its author (signer, key id, Ed25519 signature)

Three nullable columns: entries written before signing was enabled stay as they
are (legacy, reported as unsigned by ``incident verify``). Adding a column does
not rebuild the table, so the append-only triggers stay in place.

Revision ID: evidence_1
Revises: fieldops_1
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "evidence_1"
down_revision: str | None = "fieldops_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("logentry", sa.Column("signer", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("logentry", sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("logentry", sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logentry") as batch:
        batch.drop_column("signature")
        batch.drop_column("key_id")
        batch.drop_column("signer")
