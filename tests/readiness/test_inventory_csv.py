"""CSV export/import: round trip, all-or-nothing import, every bad row reported."""

from __future__ import annotations

import csv

import pytest
from sqlmodel import func, select

from incident.core import log
from incident.core.errors import ValidationErrors
from incident.core.store.engine import session_scope
from incident.core.store.tables import CalibrationSchedule, Consumable, Equipment, StockMovement
from incident.readiness.inventory_csv import COLUMNS, export_csv, import_csv


def _count(s, table) -> int:
    return s.exec(select(func.count()).select_from(table)).one()


def test_round_trip_into_an_empty_store_and_back(demo_engine, engine, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    with session_scope(demo_engine) as s:
        counts = export_csv(s, first)
    assert counts == {"equipment": 19, "calibration": 11, "consumable": 7}
    with session_scope(engine) as s:
        result = import_csv(s, first, actor="tester")
    assert result == {"added": 37, "updated": 0, "unchanged": 0}
    with session_scope(engine) as s:
        export_csv(s, second)
        assert log.entries(s, log.CENTRE_CHAIN)[-1].kind == "inventory.imported"
    assert first.read_bytes() == second.read_bytes()
    # importing the same file again changes nothing
    with session_scope(demo_engine) as s:
        assert import_csv(s, first, actor="tester") == {"added": 0, "updated": 0, "unchanged": 37}


def test_quantity_change_is_a_stock_movement(demo_engine, tmp_path):
    path = tmp_path / "inv.csv"
    with session_scope(demo_engine) as s:
        export_csv(s, path)
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    for row in rows:
        if row["lot"] == "NB-2502":
            row["quantity"] = "30"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    with session_scope(demo_engine) as s:
        assert import_csv(s, path, actor="tester")["updated"] == 1
    with session_scope(demo_engine) as s:
        [move] = s.exec(select(StockMovement)).all()
        assert move.delta == 22 and "line" in move.reason
        assert s.exec(select(Consumable).where(Consumable.lot == "NB-2502")).one().quantity == 30


def test_bad_rows_import_nothing_and_are_all_listed(demo_engine, tmp_path):
    path = tmp_path / "bad.csv"
    lines = [
        ",".join(COLUMNS),
        "equipment,NEW-01,instrument,pH meter,,,,,,,,,,,,,,,,,",  # 2: good
        "equipment,NEW-02,spaceship,pH meter,,,,,,,,,,,,,,,,,",  # 3: bad category
        "consumable,,,,,,,,,,,,,,buffer,B1,O.5,,,,",  # 4: O.5 is not a number
        "calibration,NOPE-9,,,,,,,,,curve,30,,,,,,,,,",  # 5: unknown asset
        "consumable,,,,,,,,,,,,,,buffer,B2,-3,,2026-02-30,,",  # 6: negative and bad date
        "equipment,NEW-01,instrument,pH meter,,,,,,,,,,,,,,,,,",  # 7: duplicate of line 2
        "kit,,,,,,,,,,,,,,,,,,,,",  # 8: unknown record
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with session_scope(demo_engine) as s:
        before = (_count(s, Equipment), _count(s, Consumable), _count(s, CalibrationSchedule))
        with pytest.raises(ValidationErrors) as exc:
            import_csv(s, path, actor="tester")
    text = str(exc.value)
    assert "nothing was imported" in text
    for where, words in [
        (":3 column category", "'spaceship'"),
        (":4 column quantity", "'O.5' is not a number"),
        (":5 column asset_tag", "'NOPE-9'"),
        (":6 column quantity", "at least 0"),
        (":6 column expires_on", "'2026-02-30' is not a date"),
        (":7 column", "line 2"),
        (":8 column record", "'kit'"),
    ]:
        assert any(where in p.where and words in p.render() for p in exc.value.problems), (where, text)
    assert not any(":2 " in p.where for p in exc.value.problems)
    with session_scope(demo_engine) as s:
        assert (_count(s, Equipment), _count(s, Consumable), _count(s, CalibrationSchedule)) == before


def test_unknown_column_and_missing_header(tmp_path, engine):
    path = tmp_path / "x.csv"
    path.write_text("record,asset_tag,categry,type\nequipment,A,instrument,t\n", encoding="utf-8")
    with pytest.raises(ValidationErrors) as exc, session_scope(engine) as s:
        import_csv(s, path, actor="t")
    assert any("'categry'" in p.problem for p in exc.value.problems)
    path.write_text("tag,type\nA,t\n", encoding="utf-8")
    with pytest.raises(Exception, match="no 'record' column"), session_scope(engine) as s:
        import_csv(s, path, actor="t")


def test_cli_import_reports_bad_rows(demo_engine, tmp_path, capsys):
    from incident.cli import main

    path = tmp_path / "bad.csv"
    path.write_text(",".join(COLUMNS) + "\nequipment,X,instrument,,,,,,,,,,,,,,,,,,\n", encoding="utf-8")
    assert main(["--db", str(demo_engine.url), "inventory", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:2 column type" in err and "nothing was imported" in err
    out_path = tmp_path / "out.csv"
    assert main(["--db", str(demo_engine.url), "inventory", "export", str(out_path)]) == 0
    assert main(["--db", str(demo_engine.url), "inventory", "import", "--dry-run", str(out_path)]) == 0
    assert "dry run" in capsys.readouterr().out
