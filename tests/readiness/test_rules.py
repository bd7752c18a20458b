"""Table-driven tests of the readiness rules on a one-crew centre (see builders.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from incident.core.clock import utcnow
from incident.core.store.engine import session_scope
from incident.core.store.tables import CalibrationRecord, Checkout, Consumable, Crew
from incident.readiness import rules as readiness
from tests.readiness.builders import CONFIG, DAY, build_centre, days


def _set(obj_name: str, **values) -> Callable:
    def mutate(session: Session, c) -> None:
        obj = getattr(c, obj_name)
        for k, v in values.items():
            setattr(obj, k, v)
        session.add(obj)

    return mutate


def _qual(which: str, **values) -> Callable:
    def mutate(session: Session, c) -> None:
        q = c.quals[which]
        for k, v in values.items():
            setattr(q, k, v)
        session.add(q)

    return mutate


def _delete(obj_name: str) -> Callable:
    def mutate(session: Session, c) -> None:
        session.delete(getattr(c, obj_name))

    return mutate


def _failed_calibration(session: Session, c) -> None:
    session.add(CalibrationRecord(schedule_id=c.curve.id, done_on=days(-2), by="lab", passed=False))


def _checked_out_alone(session: Session, c) -> None:
    other = Crew(name="Crew Z", base_lat=0, base_lon=0)
    session.add(other)
    session.flush()
    session.add(Checkout(crew_id=other.id, equipment_id=c.analyser.id, out_at=utcnow(), out_by="x"))


def _second_expired_lot(session: Session, c) -> None:
    session.add(
        Consumable(item="cadmium test strips", lot="L0", quantity=500, unit="strips", expires_on=days(-10))
    )


# (case, mutation, kit state, team state, text expected among the kit's or team's reasons)
CASES = [
    ("all in order", None, "ready", "ready", None),
    ("expired reagent", _set("lot", expires_on=days(-1)), "not_ready", "not_ready", "expired on 2026-05-31"),
    (
        "reagent expires on the day (still valid)",
        _set("lot", expires_on=DAY),
        "due_soon",
        "due_soon",
        "in 0 d",
    ),
    (
        "calibration due tomorrow",
        _set("curve", next_due=days(1)),
        "due_soon",
        "due_soon",
        "due 2026-06-02 (in 1 d)",
    ),
    ("calibration due today", _set("curve", next_due=DAY), "due_soon", "due_soon", "in 0 d"),
    (
        "calibration overdue",
        _set("curve", next_due=days(-1)),
        "not_ready",
        "not_ready",
        "overdue since 2026-05-31",
    ),
    (
        "never calibrated",
        _set("curve", next_due=None, last_done=None),
        "not_ready",
        "not_ready",
        "never calibrated",
    ),
    ("failed calibration", _failed_calibration, "not_ready", "not_ready", "failed calibration on 2026-05-30"),
    ("missing item", _delete("kit_analyser"), "not_ready", "not_ready", "analyser: missing (0 of 1"),
    ("kit short of strips", _set("kit_strips", quantity=10), "not_ready", "not_ready", "10 of 20 strips"),
    ("lot used up below kit quantity", _set("lot", quantity=5), "not_ready", "not_ready", "5 of 20 strips"),
    (
        "item out of service",
        _set("analyser", in_service=False),
        "not_ready",
        "not_ready",
        "INS-1: out of service",
    ),
    ("item broken", _set("analyser", condition="broken"), "not_ready", "not_ready", "INS-1: broken"),
    ("item lost", _set("analyser", condition="lost"), "not_ready", "not_ready", "INS-1: lost"),
    ("item degraded", _set("analyser", condition="degraded"), "due_soon", "due_soon", "INS-1: degraded"),
    ("item checked out on its own", _checked_out_alone, "not_ready", "not_ready", "checked out to Crew Z"),
    (
        "crew out of service",
        _set("crew", status="out_of_service"),
        "ready",
        "not_ready",
        "Crew A: Out of service",
    ),
    ("crew already assigned", _set("crew", status="assigned"), "ready", "not_ready", "Crew A: Assigned"),
    ("broken vehicle", _set("vehicle", condition="broken"), "ready", "not_ready", "VEH-1: broken"),
    (
        "vehicle out of service",
        _set("vehicle", in_service=False),
        "ready",
        "not_ready",
        "VEH-1: out of service",
    ),
    (
        "vehicle inspection overdue",
        _set("inspection", next_due=days(-3)),
        "ready",
        "not_ready",
        "VEH-1 inspection: overdue",
    ),
    ("no vehicle", _set("crew", vehicle_id=None), "ready", "not_ready", "no vehicle"),
    (
        "expired qualification",
        _qual("hazmat_ppe", expires_on=days(-1)),
        "ready",
        "not_ready",
        "Leader: hazmat PPE certificate expired on 2026-05-31",
    ),
    (
        "qualification expiring in 5 days",
        _qual("hazmat_ppe", expires_on=days(5)),
        "ready",
        "due_soon",
        "in 5 d",
    ),
    (
        "kit-specific qualification missing",
        _qual("heavy_metal_field_test", kind="boat_operation"),
        "ready",
        "not_ready",
        "Leader: no heavy-metal field test certificate",
    ),
    (
        "nobody can drive",
        _qual("driving", expires_on=days(-100)),
        "ready",
        "not_ready",
        "Driver: driving certificate expired",
    ),
    ("no leader", _set("crew", leader_id=None), "ready", "not_ready", "Crew A: no leader"),
    ("calibration due beyond the horizon", _set("curve", next_due=days(31)), "ready", "ready", None),
]


@pytest.mark.parametrize("case,mutate,kit_state,team_state,reason", CASES, ids=[c[0] for c in CASES])
def test_readiness_rule(engine, case, mutate, kit_state, team_state, reason):
    with session_scope(engine) as s:
        c = build_centre(s)
        if mutate:
            mutate(s, c)
            s.flush()
        r = readiness.rollup(s, on=DAY, config=CONFIG)
    kit = next(k for k in r.kits if k.name == "KIT-1")
    team = next(x for x in r.teams if x.crew == "Crew A")
    assert (kit.state, team.state) == (kit_state, team_state), (kit, team)
    assert r.can_field == (team_state != "not_ready")
    if reason is None:
        assert not kit.blocking and not kit.warnings and not team.blocking and not team.warnings
    else:
        texts = kit.blocking + kit.warnings + team.blocking + team.warnings
        assert any(reason in text for text in texts), texts
    if kit_state == "not_ready":
        # the team shows the kit's reasons, named after the kit
        assert any(x.startswith("kit KIT-1: ") for x in team.blocking)


def test_kit_ready_contract(engine):
    """The function the sampling planner calls: (ready, blocking reasons), judged on the given day."""
    with session_scope(engine) as s:
        c = build_centre(s)
        c.curve.next_due = days(10)
        s.add(c.curve)
        s.flush()
        assert readiness.kit_ready(s, c.kit.id, on=DAY) == (True, [])
        ok, reasons = readiness.kit_ready(s, c.kit.id, on=days(11))
        assert ok is False
        assert reasons == ["INS-1 curve: overdue since 2026-06-11 (1 d)"]


def test_stock_below_minimum_alerts_across_unexpired_lots(engine):
    with session_scope(engine) as s:
        c = build_centre(s)
        c.lot.quantity, c.lot.min_stock = 25, 30
        _second_expired_lot(s, c)  # 500 expired strips do not count
        s.flush()
        r = readiness.rollup(s, on=DAY, config=CONFIG)
    [line] = r.restock
    assert (line.item, line.usable, line.minimum) == ("cadmium test strips", 25, 30)
    assert [(item, lot.lot) for item, lot in r.expired_lots] == [("cadmium test strips", "L0")]
    # the kit itself still holds 20 good strips
    assert next(k for k in r.kits if k.name == "KIT-1").state == "ready"


def test_stock_at_minimum_is_no_alert(engine):
    with session_scope(engine) as s:
        c = build_centre(s)
        c.lot.quantity, c.lot.min_stock = 30, 30
        s.flush()
        assert readiness.rollup(s, on=DAY, config=CONFIG).restock == []


def test_short_kit_suggests_earliest_expiring_free_lot(engine):
    with session_scope(engine) as s:
        c = build_centre(s)
        c.kit_strips.quantity = 5
        s.add_all(
            [
                Consumable(
                    item="cadmium test strips", lot="LATE", quantity=100, unit="strips", expires_on=days(900)
                ),
                Consumable(
                    item="cadmium test strips", lot="SOON", quantity=100, unit="strips", expires_on=days(90)
                ),
                Consumable(
                    item="cadmium test strips", lot="GONE", quantity=100, unit="strips", expires_on=days(-1)
                ),
            ]
        )
        s.flush()
        ok, reasons = readiness.kit_ready(s, c.kit.id, on=DAY)
    assert not ok
    assert "top up from lot SOON" in reasons[0]


def test_spare_broken_item_is_a_warning_when_enough_good_ones(engine):
    from incident.core.store.tables import Equipment, KitItem

    with session_scope(engine) as s:
        c = build_centre(s)
        spare = Equipment(asset_tag="INS-2", category="instrument", type="analyser", condition="broken")
        s.add(spare)
        s.flush()
        s.add(KitItem(kit_id=c.kit.id, equipment_id=spare.id))
        s.flush()
        kit = readiness.kit_status(s, c.kit.id, on=DAY, config=CONFIG)
    assert kit.state == "due_soon"
    assert kit.warnings == ["INS-2: broken"]


def test_two_crews_sharing_one_kit_count_once(engine):
    from incident.core.store.tables import CrewMember

    with session_scope(engine) as s:
        c = build_centre(s)
        twin = Crew(
            name="Crew B",
            leader_id=c.leader.id,
            base_lat=0,
            base_lon=0,
            vehicle_id=c.vehicle.id,
            kit_id=c.kit.id,
        )
        s.add(twin)
        s.flush()
        s.add(CrewMember(crew_id=twin.id, responder_id=c.driver.id))
        s.flush()
        one = readiness.rollup(s, on=DAY, config=CONFIG, teams=1)
        two = readiness.rollup(s, on=DAY, config=CONFIG, teams=2)
    assert one.can_field and one.teams_ready == 1
    assert not two.can_field
    crew_b = next(x for x in two.teams if x.crew == "Crew B")
    assert crew_b.state == "not_ready"
    assert "kit KIT-1 already fields Crew A" in crew_b.blocking


def test_config_file_is_checked(tmp_path):
    bad = tmp_path / "readiness.toml"
    bad.write_text("teams_required = 0\nwarning_days = [30, 7]\n")
    with pytest.raises(Exception) as exc:
        readiness.load_config(bad)
    assert "teams_required" in str(exc.value)
    bad.write_text('[[qualification]]\ntemplate = "*"\nkind = "x"\nholder = "boss"\n')
    with pytest.raises(Exception) as exc:
        readiness.load_config(bad)
    assert "qualification #1" in str(exc.value) and "leader or crew" in str(exc.value)


def test_centre_file_overrides_the_shipped_one(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("INCIDENT_HOME", str(home))
    assert readiness.load_config().teams_required == 2
    (home / "readiness.toml").write_text("teams_required = 3\nwarning_days = [14]\n")
    cfg = readiness.load_config()
    assert (cfg.teams_required, cfg.warning_days, cfg.requirements) == (3, (14,), ())


def test_config_refusals_name_the_line_and_field_in_both_languages(tmp_path):
    from incident.core.errors import UserError, ValidationErrors

    bad = tmp_path / "readiness.toml"
    bad.write_text(
        'teams_required = 2\nwarning_days = [30, 1e3]\n\n[[qualification]]\ntemplate = "*"\nkind = "x"\n'
        '\n[[qualification]]\ntemplate = "*"\nkind = ""\nholder = [\'leader\']\nowner = "me"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationErrors) as info:
        readiness.load_config(bad)
    found = {(p.where, p.field): p for p in info.value.problems}
    assert set(found) == {
        (f"{bad}, line 2", "warning_days #2"),
        (f"{bad}, line 10", "qualification #2 kind"),
        (f"{bad}, line 11", "qualification #2 holder"),
        (f"{bad}, line 12", "qualification #2 owner"),
    }
    holder = found[(f"{bad}, line 11", "qualification #2 holder")]
    assert "leader or crew" in holder.render("en") and "leader（组长）" in holder.render("zh")
    for p in info.value.problems:
        assert isinstance(p, UserError) and p.fix_text("en") and p.fix_text("zh")
