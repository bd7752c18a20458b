"""Calibration, maintenance and stock records; the playbook action."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import CalibrationSchedule, Consumable, Equipment, Kit, StockMovement
from incident.readiness import rules as readiness
from incident.readiness.upkeep import equipment_detail, move_stock, record_calibration, record_maintenance


def _centre_kinds(s) -> list[str]:
    return [e.kind for e in log.entries(s, log.CENTRE_CHAIN)]


def test_passed_calibration_moves_the_schedule_and_readies_the_item(demo_engine):
    today = readiness.today_local()
    with session_scope(demo_engine) as s:
        out = record_calibration(
            s,
            "INS-HM-02",
            schedule="Multi-point standard curve",
            done_on=today,
            by="Metrology lab",
            actor="tester",
        )
        assert out["next_due"] == today + timedelta(days=90)
    with session_scope(demo_engine) as s:
        eq = s.exec(select(Equipment).where(Equipment.asset_tag == "INS-HM-02")).one()
        sched = s.exec(select(CalibrationSchedule).where(CalibrationSchedule.equipment_id == eq.id)).one()
        assert (sched.last_done, sched.next_due) == (today, today + timedelta(days=90))
        assert readiness.equipment_problems(s, eq.id) == []
        assert _centre_kinds(s)[-1] == "equipment.calibrated"
        detail = equipment_detail(s, "INS-HM-02")
        assert detail.state == "ready" and detail.calibrations[0]["by"] == "Metrology lab"


def test_failed_calibration_marks_the_instrument_not_ready(demo_engine):
    today = readiness.today_local()
    with session_scope(demo_engine) as s:
        kit = s.exec(select(Kit).where(Kit.name == "KIT-HM-1")).one()
        assert readiness.kit_ready(s, kit.id)[0]
        record_calibration(
            s,
            "INS-HM-01",
            schedule="multi-point standard curve",
            done_on=today,
            by="lab",
            passed=False,
            actor="tester",
        )
    with session_scope(demo_engine) as s:
        ok, reasons = readiness.kit_ready(s, kit.id)
        assert not ok and any("failed calibration" in r for r in reasons)
        entry = log.entries(s, log.CENTRE_CHAIN)[-1]
        assert "FAILED" in entry.summary and json.loads(entry.payload_json)["passed"] is False
        # a later pass clears it
        record_calibration(
            s, "INS-HM-01", schedule="multi-point standard curve", done_on=today, by="lab", actor="tester"
        )
        assert readiness.kit_ready(s, kit.id)[0]


def test_calibration_input_is_checked(demo_engine):
    today = readiness.today_local()
    with session_scope(demo_engine) as s:
        with pytest.raises(UserError) as exc:
            record_calibration(s, "INS-HM-01", schedule="pH", done_on=today, by="lab", actor="t")
        assert "metrological verification" in exc.value.fix
        with pytest.raises(UserError, match="in the future"):
            record_calibration(
                s,
                "INS-HM-01",
                schedule="metrological verification",
                done_on=today + timedelta(days=1),
                by="lab",
                actor="t",
            )
        with pytest.raises(UserError, match="no equipment"):
            record_calibration(s, "NOPE", schedule="x", done_on=today, by="lab", actor="t")


def test_maintenance_sets_condition_and_service(demo_engine):
    today = readiness.today_local()
    with session_scope(demo_engine) as s:
        record_maintenance(
            s,
            "VEH-04",
            done_on=today,
            by="dealer",
            kind="repair",
            condition_after="working",
            in_service=True,
            notes="gearbox replaced",
            actor="tester",
        )
    with session_scope(demo_engine) as s:
        eq = s.exec(select(Equipment).where(Equipment.asset_tag == "VEH-04")).one()
        assert (eq.condition, eq.in_service) == ("working", True)
        entry = log.entries(s, log.CENTRE_CHAIN)[-1]
        assert entry.kind == "equipment.maintained" and "broken → working" in entry.summary
        crew_d = next(x for x in readiness.rollup(s).teams if x.crew == "Crew D")
        assert not any("VEH-04" in b for b in crew_d.blocking)
        assert equipment_detail(s, "VEH-04").maintenance[0]["notes"] == "gearbox replaced"


def test_stock_cannot_go_negative_and_needs_a_reason(demo_engine):
    with session_scope(demo_engine) as s:
        with pytest.raises(UserError, match="cannot go negative"):
            move_stock(s, "nitrobenzene detection tubes", lot="NB-2502", delta=-9, reason="used", actor="t")
        with pytest.raises(UserError, match="reason"):
            move_stock(s, "nitrobenzene detection tubes", lot="NB-2502", delta=-1, reason=" ", actor="t")
        assert s.exec(select(StockMovement)).all() == []
        move_stock(
            s, "nitrobenzene detection tubes", lot="NB-2502", delta=-8, reason="used at drill", actor="t"
        )
        lot = s.exec(select(Consumable).where(Consumable.lot == "NB-2502")).one()
        assert lot.quantity == 0
        assert _centre_kinds(s)[-1] == "stock.moved"


def test_taking_without_a_lot_uses_earliest_expiry_first_and_skips_expired(demo_engine):
    today = readiness.today_local()
    with session_scope(demo_engine) as s:
        move_stock(
            s,
            "cadmium test strips",
            lot="CD-2501",
            delta=10,
            reason="delivery",
            expires_on=today + timedelta(days=30),
            actor="t",
        )
        lines = move_stock(s, "cadmium test strips", delta=-15, reason="used at INC", actor="t")
    # CD-2311 (expired) untouched; CD-2501 (30 d) emptied first, then 5 from CD-2406 (200 d)
    assert [(x["lot"], x["delta"], x["quantity"]) for x in lines] == [
        ("CD-2501", -10, 0),
        ("CD-2406", -5, 35),
    ]
    with session_scope(demo_engine) as s:
        assert s.exec(select(Consumable).where(Consumable.lot == "CD-2311")).one().quantity == 25
        with pytest.raises(UserError, match="in date"):
            move_stock(s, "cadmium test strips", delta=-1000, reason="x", actor="t")
        with pytest.raises(UserError, match="new"):
            move_stock(s, "cadmium test strips", lot="CD-9999", delta=5, reason="x", actor="t")


def test_playbook_action_checks_a_kit_and_logs(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        summary, data = readiness.check_readiness_action(s, demo_code, {"kit": "KIT-HM-1"}, "tester")
        assert data["ready"] is True and "KIT-HM-1" in summary
        with pytest.raises(UserError) as exc:
            readiness.check_readiness_action(s, demo_code, {"kit": "KIT-GEN-2"}, "tester")
        assert "multiparameter probe: missing" in exc.value.problem
        summary, data = readiness.check_readiness_action(
            s, demo_code, {"template": "general water sampling kit", "require": False}, "tester"
        )
        assert data["ready"] is True and data["ready_kits"] == ["KIT-GEN-1"]
        summary, data = readiness.check_readiness_action(
            s, demo_code, {"teams": 3, "require": False}, "tester"
        )
        assert data["ready"] is False and "Crew C" in summary
        entries = [e for e in log.entries(s, log.incident_chain(demo_code)) if e.kind == "readiness.checked"]
        assert len(entries) == 3
        with pytest.raises(UserError, match="unknown parameter"):
            readiness.check_readiness_action(s, demo_code, {"kits": "x"}, "tester")
