"""Upgrades keep every row: a database made at revision 0001 goes to head intact.

The fixture (tests/fixtures/rev0001.sqlite, built by make_rev0001_db.py) has
rows in every table. Whatever migrations head holds, the upgrade must keep
each row, leave the values as they were and the evidence trail verifiable.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory

from incident.core.store.engine import alembic_config, current_revision, open_store, session_scope
from incident.evidence import integrity

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "rev0001.sqlite"


def snapshot(path: Path) -> tuple[dict[str, int], dict[str, list]]:
    conn = sqlite3.connect(path)
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
        if r[0] != "alembic_version"
    ]
    counts = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    spots = {
        "result": conn.execute(
            "SELECT id, sample_id, value, unit, corrects_id FROM result ORDER BY id"
        ).fetchall(),
        "logentry": conn.execute("SELECT id, chain, seq, hash FROM logentry ORDER BY id").fetchall(),
        "incident": conn.execute("SELECT id, code, title, source_reach, mass_kg FROM incident").fetchall(),
        "reach": conn.execute("SELECT reach_id, length_m, discharge_m3s FROM reach ORDER BY id").fetchall(),
        "stepstate": conn.execute("SELECT run_id, step_id, status FROM stepstate ORDER BY id").fetchall(),
    }
    conn.close()
    return counts, spots


def test_fixture_at_0001_upgrades_to_head_with_every_row_kept(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)
    before_counts, before_spots = snapshot(path)
    assert all(before_counts.values()), "the fixture has rows in every table"

    engine = open_store(f"sqlite:///{path}")
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert current_revision(engine) == head != "0001"
    engine.dispose()

    after_counts, after_spots = snapshot(path)
    assert {n: after_counts[n] for n in before_counts} == before_counts
    assert after_spots == before_spots
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()

    engine = open_store(f"sqlite:///{path}")
    with session_scope(engine) as s:
        report = integrity.verify(s)
    engine.dispose()
    assert report.ok, report.first_problem.render()
    assert report.rows_checked["result"] == 4 and not report.warnings  # guards installed by the upgrade
