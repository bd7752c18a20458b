"""Check-out and check-in on the demo centre: refusals, overrides and the log."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import Checkout, Equipment, Kit
from incident.readiness import rules as readiness
from incident.readiness.checkout import check_in, check_out


def test_out_of_calibration_instrument_refused_without_override(demo_engine):
    # INS-HM-02: its standard curve was due 5 days ago in the demo
    with pytest.raises(UserError) as exc, session_scope(demo_engine) as s:
        check_out(s, "INS-HM-02", crew="Crew B", actor="tester")
    assert "INS-HM-02 is not ready" in exc.value.problem
    assert "overdue" in exc.value.problem
    assert "--override" in exc.value.fix
    with session_scope(demo_engine) as s:
        assert s.exec(select(Checkout)).all() == []
        assert not [e for e in log.entries(s, log.CENTRE_CHAIN) if e.kind == "equipment.checked_out"]


def test_override_reason_is_logged_on_both_chains(demo_engine, demo_code):
    reason = "only analyser left; results marked provisional"
    with session_scope(demo_engine) as s:
        out = check_out(s, "INS-HM-02", crew="Crew B", actor="tester", incident=demo_code, override=reason)
    assert out["override_reason"] == reason
    with session_scope(demo_engine) as s:
        row = s.exec(select(Checkout)).one()
        assert row.override_reason == reason and row.in_at is None
        for chain in (log.CENTRE_CHAIN, log.incident_chain(demo_code)):
            entry = [e for e in log.entries(s, chain) if e.kind == "equipment.checked_out"][-1]
            assert reason in entry.summary and "OVERRIDE" in entry.summary
            payload = json.loads(entry.payload_json)
            assert payload["override_reason"] == reason
            assert any("overdue" in p for p in payload["problems"])
            ok, _ = log.verify_chain(log.entries(s, chain))
            assert ok
        assert s.exec(select(Equipment).where(Equipment.asset_tag == "INS-HM-02")).one().holder == "Crew B"


def test_empty_override_is_refused(demo_engine):
    with pytest.raises(UserError, match="override reason is empty"), session_scope(demo_engine) as s:
        check_out(s, "INS-HM-02", crew="Crew B", actor="tester", override="   ")


def test_ready_kit_goes_out_and_back_and_blocks_other_crews(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        out = check_out(s, "KIT-HM-1", crew="Crew B", actor="tester", incident=demo_code)
        assert out["override_reason"] is None and out["problems"] == []
    with session_scope(demo_engine) as s:
        with pytest.raises(UserError, match="already checked out to Crew B"):
            check_out(s, "KIT-HM-1", crew="Crew A", actor="tester")
        with pytest.raises(UserError, match="out with kit KIT-HM-1"):
            check_out(s, "INS-HM-01", crew="Crew A", actor="tester")
        kit = s.exec(select(Kit).where(Kit.name == "KIT-HM-1")).one()
        r = readiness.rollup(s)
        assert next(k for k in r.kits if k.name == "KIT-HM-1").checked_out_to == "Crew B"
        assert readiness.kit_ready(s, kit.id)[0] is True
    with session_scope(demo_engine) as s:
        back = check_in(s, "KIT-HM-1", actor="tester")
        assert back["crew"] == "Crew B"
        kinds = [e.kind for e in log.entries(s, log.incident_chain(demo_code))]
        assert kinds[-2:] == ["equipment.checked_out", "equipment.checked_in"]
        assert s.exec(select(Equipment).where(Equipment.asset_tag == "INS-HM-01")).one().holder == ""
    with pytest.raises(UserError, match="is not checked out"), session_scope(demo_engine) as s:
        check_in(s, "KIT-HM-1", actor="tester")


def test_item_out_alone_makes_its_kit_not_ready(demo_engine):
    with session_scope(demo_engine) as s:
        check_out(s, "INS-MP-01", crew="Crew C", actor="tester")
    with session_scope(demo_engine) as s:
        kit = s.exec(select(Kit).where(Kit.name == "KIT-ORG-1")).one()
        ok, reasons = readiness.kit_ready(s, kit.id)
        assert not ok and "INS-MP-01: checked out to Crew C" in reasons
        with pytest.raises(UserError, match="INS-MP-01 of kit KIT-ORG-1 is out on its own"):
            check_out(s, "KIT-ORG-1", crew="Crew A", actor="tester", override="need it")
    with session_scope(demo_engine) as s:
        check_in(s, "INS-MP-01", actor="tester", condition="degraded", notes="cable cut")
        eq = s.exec(select(Equipment).where(Equipment.asset_tag == "INS-MP-01")).one()
        assert eq.condition == "degraded"


def test_unknown_target_and_crew_name_the_fix(demo_engine):
    with session_scope(demo_engine) as s:
        with pytest.raises(UserError) as exc:
            check_out(s, "KIT-NOPE", crew="Crew A", actor="tester")
        assert "KIT-NOPE" in exc.value.problem
        with pytest.raises(UserError) as exc:
            check_out(s, "KIT-HM-1", crew="Crew Q", actor="tester")
        assert "'Crew A'" in exc.value.fix
