"""The headless commands, run in-process on a copy of the demo store."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from incident.cli import main
from incident.core import log
from incident.core.store.engine import session_scope
from incident.core.store.tables import Consumable, Equipment


@pytest.fixture
def run(demo_engine, capsys):
    url = str(demo_engine.url)

    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", url, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


def test_readiness_exit_codes(run):
    code, out, _ = run("readiness")
    assert code == 0, out
    assert out.startswith("CAN FIELD 2 TEAM(S) NOW: 2 READY")
    code, out, _ = run("readiness", "--teams", "4")
    assert code == 1
    assert out.startswith("CANNOT FIELD 4 TEAM(S) NOW: ONLY 2 READY")
    code, out, _ = run("readiness", "--teams", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["can_field"] is True and data["teams_ready"] == 2
    assert run("readiness", "--teams", "3", "--json")[0] == 1


def test_readiness_shows_due_soon_and_expired_demo_items(run):
    code, out, _ = run("readiness")
    # due soon: the heavy-metal analyser's standard curve (5 days) in Crew B's kit
    # (5 days after loading; 4 when the machine's date and the centre's UTC+8 date differ)
    assert re.search(r"INS-HM-01 multi-point standard curve: due \S+ \(in [45] d\)", out)
    # expired: cadmium test strips lot CD-2311, and the blocked teams with their reasons
    assert "CD-2311" in out and "EXPIRED" in out
    assert "✗ Crew C: Mo Jun: hazmat PPE certificate expired" in out
    assert "✗ Crew D: kit KIT-GEN-2: multiparameter probe: missing" in out
    assert "✗ Crew D: VEH-04: broken" in out
    assert "RESTOCK" in out and "nitrobenzene detection tubes" in out


def test_readiness_in_chinese(run):
    code, out, _ = run("--lang", "zh", "readiness", "--teams", "4")
    assert code == 1 and out.startswith("现在无法出动 4 支队伍")
    assert "已过期" in out


def test_bad_input_is_refused_with_exit_2(run):
    code, _, err = run("readiness", "--on", "2026-13-01")
    assert code == 2 and "--on" in err and "YYYY-MM-DD" in err
    code, _, err = run("readiness", "--teams", "0")
    assert code == 2 and "at least one team" in err


def test_readiness_on_a_future_day_sees_more_overdue(run):
    code, out, _ = run("readiness", "--on", "2099-01-01", "--teams", "1")
    assert code == 1 and "ONLY 0 READY" in out


def test_checkout_refused_then_overridden(run, demo_code):
    code, _, err = run("checkout", "INS-HM-02", "--crew", "Crew B")
    assert code == 2 and "not ready" in err and "--override" in err
    code, out, err = run(
        "checkout",
        "INS-HM-02",
        "--crew",
        "Crew B",
        "--incident",
        demo_code,
        "--override",
        "spare unit broke in the field",
    )
    assert code == 0 and "override logged" in err
    code, out, _ = run("log", demo_code)
    assert "spare unit broke in the field" in out
    code, out, _ = run("checkin")
    assert "INS-HM-02" in out and "Crew B" in out
    assert run("checkin", "INS-HM-02")[0] == 0


def test_calibrate_maintain_stock_and_show(run, demo_engine):
    from incident.readiness.rules import today_local

    today = today_local().isoformat()
    code, out, err = run(
        "calibrate", "INS-HM-02", "--schedule", "multi-point standard curve", "--on", today, "--by", "lab"
    )
    assert code == 0, err
    code, out, _ = run("equipment", "show", "INS-HM-02")
    assert code == 0 and "calibration history" in out and "lab" in out
    code, _, err = run("stock", "ASV electrolyte", "--lot", "EL-2409", "--delta", "-7", "--reason", "used")
    assert code == 2 and "cannot go negative" in err
    code, _, err = run("stock", "ASV electrolyte", "--lot", "EL-2409", "--delta", "-2")
    assert code == 2 and "--reason" in err
    code, out, _ = run(
        "stock", "ASV electrolyte", "--lot", "EL-2409", "--delta", "-2", "--reason", "used at drill"
    )
    assert code == 0
    code, out, _ = run(
        "maintain", "PPE-04", "--on", today, "--by", "store", "--condition", "working", "--notes", "new visor"
    )
    assert code == 0
    with session_scope(demo_engine) as s:
        assert s.exec(select(Consumable).where(Consumable.lot == "EL-2409")).one().quantity == 4
        assert s.exec(select(Equipment).where(Equipment.asset_tag == "PPE-04")).one().condition == "working"
        kinds = [e.kind for e in log.entries(s, log.CENTRE_CHAIN)]
        assert {"equipment.calibrated", "stock.moved", "equipment.maintained"} <= set(kinds)


def test_due_by_week(run):
    code, out, _ = run("due", "--weeks", "2")
    assert code == 0
    assert "INS-HM-01" in out and "INS-HM-02" in out  # due in 5 days; overdue
    assert "INS-MP-01" not in out  # due in 20 days: beyond two weeks
    code, out, _ = run("due", "--json")
    items = json.loads(out)
    assert all(set(i) >= {"week", "due", "days", "kind", "subject"} for i in items)
    assert [i["due"] for i in items] == sorted(i["due"] for i in items)
