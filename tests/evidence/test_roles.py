"""Roles and separation of duties (issue 18): identities, not typed names, and the table of who may do what.

Each cell of ``accounts.PERMISSIONS`` × roles (docs/roles.md) is tried through
the real use case, acting as a person who holds only that role.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from incident.core import accounts, clock, signing
from incident.core.clock import utcnow
from incident.core.errors import UserError
from incident.core.incidents import NewIncident, create_incident
from incident.core.store.engine import open_store, session_scope
from incident.evidence import read_seal_file, seals_dir, verify
from incident.reports import lifecycle as reports
from tests.identities import acting_as, new_person, register
from tests.reports.demo_records import build_incident

DRILL_SCENARIO = (
    Path(__file__).resolve().parents[2] / "incident" / "data" / "drills" / "jade_cadmium_night.toml"
)
ROLE_PEOPLE = {role: f"Only {role.replace('_', ' ').title()}" for role in signing.ROLES}
_WORLD: dict = {}


def _world(tmp_path_factory):
    """A demo store with the report-test incident, the cast and one person per role,
    a drafted report (#draft) and a reviewed one (#reviewed). Built once, copied per test."""
    if not _WORLD:
        from incident.demo.seed import ensure_demo

        path = tmp_path_factory.mktemp("roles") / "world.sqlite"
        engine = open_store(f"sqlite:///{path}")
        ensure_demo(engine, actor="tester")
        demo = build_incident(engine)  # written before signing was enabled: legacy entries
        cast = {"Lena Lead": ["team_lead"], "Ann Author": ["responder"], "Rita Reviewer": ["reviewer"],
                "Rob Reviewer": ["reviewer"]} | {name: [role] for role, name in ROLE_PEOPLE.items()}  # fmt: skip
        people = register(engine, cast)
        with acting_as(people["Ann Author"]), session_scope(engine) as s:
            draft = reports.draft_report(s, demo.code, "flash", actor="")
            reviewed = reports.draft_report(s, demo.code, "monitoring", actor="")
        with acting_as(people["Rita Reviewer"]), session_scope(engine) as s:
            reports.review_report(s, demo.code, reviewed.id, reviewer=None)
        with acting_as(people[ROLE_PEOPLE["exercise_controller"]]), session_scope(engine) as s:
            from incident.drills import start_drill

            drill = start_drill(s, DRILL_SCENARIO, actor="").code
        inventory_csv = path.parent / "inventory.csv"
        with session_scope(engine) as s:
            from sqlmodel import select

            from incident.core.store.tables import CalibrationSchedule, Consumable, Equipment
            from incident.readiness import export_csv

            export_csv(s, inventory_csv)
            sched = s.exec(select(CalibrationSchedule)).first()
            assert sched is not None
            tag = s.get(Equipment, sched.equipment_id).asset_tag
            lot = next(
                c
                for c in s.exec(select(Consumable))
                if c.quantity >= 1 and (c.expires_on or date.max) > date.today()
            )
            calibration, stock = (tag, sched.name), (lot.item, lot.lot)
        engine.dispose()
        _WORLD.update(path=path, people=people, code=demo.code, draft=draft.id, reviewed=reviewed.id,
                      drill=drill, inventory_csv=inventory_csv, calibration=calibration, stock=stock)  # fmt: skip
    return _WORLD


@pytest.fixture
def world(tmp_path, tmp_path_factory):
    w = _world(tmp_path_factory)
    target = tmp_path / "world.sqlite"
    shutil.copy(w["path"], target)
    engine = open_store(f"sqlite:///{target}")
    yield engine, w
    engine.dispose()


# ---------------------------------------------------------------- separation of duties


def test_release_by_the_reports_author_is_refused(world):
    engine, w = world
    ann = w["people"]["Ann Author"]
    with session_scope(engine) as s:  # give the author the reviewer role too: still refused
        with acting_as(w["people"]["Lena Lead"]):
            accounts.set_roles(s, "Ann Author", ["responder", "reviewer"])
    with acting_as(ann), session_scope(engine) as s, pytest.raises(UserError) as err:
        reports.release_report(s, w["code"], w["reviewed"], by=None)
    assert "wrote report" in err.value.problem and "cannot also release" in err.value.problem


def test_release_by_someone_who_is_not_a_reviewer_is_refused(world):
    engine, w = world
    with acting_as(w["people"]["Lena Lead"]), session_scope(engine) as s, pytest.raises(UserError) as err:
        reports.release_report(s, w["code"], w["reviewed"], by=None)
    assert "may not release a report: that needs the role reviewer" in err.value.problem


def test_release_by_the_reviewer_is_refused(world):
    engine, w = world
    with acting_as(w["people"]["Rita Reviewer"]), session_scope(engine) as s, pytest.raises(UserError) as err:
        reports.release_report(s, w["code"], w["reviewed"], by=None)
    assert "reviewed report" in err.value.problem and "cannot also release" in err.value.problem


def test_the_double_space_name_trick_fails_against_identities(world):
    engine, w = world
    rob = w["people"]["Rob Reviewer"]
    for typed in ("Ann  Author", "ann author", "Rita  Reviewer"):
        with acting_as(rob), session_scope(engine) as s, pytest.raises(UserError) as err:
            reports.release_report(s, w["code"], w["reviewed"], by=typed)
        assert "you are logged in as Rob Reviewer" in err.value.problem
    # a person cannot be registered twice under a spacing or case variant of their name
    with acting_as(w["people"]["Lena Lead"]), session_scope(engine) as s, pytest.raises(UserError):
        accounts.register_account(s, "Rita  REVIEWER", ["reviewer"], new_person("x").public_hex)


def test_author_reviewer_releaser_three_people_release_and_seal(world):
    engine, w = world
    with acting_as(w["people"]["Rob Reviewer"]), session_scope(engine) as s:
        info = reports.release_report(s, w["code"], w["reviewed"], by="Rob  Reviewer")
        content = reports.get_report(s, w["code"], info.id)
    assert (info.created_by, info.reviewed_by, info.released_by) == (
        "Ann Author",
        "Rita Reviewer",
        "Rob Reviewer",
    )
    # the sealed chain head is in the footer and in an export file, signed by the releaser
    (path,) = sorted(seals_dir().glob(f"{w['code']}-report-{info.id}-*.json"))
    (seal,) = read_seal_file(path)
    assert seal.signer == "Rob Reviewer" and seal.hash in content.markdown and seal.hash in content.html
    with session_scope(engine) as s:
        report = verify(s, sealed=[seal])
    # (the report fixture writes two check-in rows without logging them: "uncommitted")
    assert {p.kind for p in report.problems} <= {"uncommitted"}, [p.render() for p in report.problems]
    assert report.seals_checked == 1 and report.legacy_unsigned > 0 and report.signed > 0


def test_review_by_an_editor_of_the_report_is_refused(world):
    engine, w = world
    rita = w["people"]["Rita Reviewer"]
    with session_scope(engine) as s:
        with acting_as(w["people"]["Lena Lead"]):
            accounts.set_roles(s, "Rita Reviewer", ["reviewer", "responder"])
    with acting_as(rita), session_scope(engine) as s:
        reports.edit_report(s, w["code"], w["draft"], actor="", inputs={"notes": "my words"})
    with acting_as(rita), session_scope(engine) as s, pytest.raises(UserError) as err:
        reports.review_report(s, w["code"], w["draft"], reviewer=None)
    assert "Rita Reviewer wrote report" in err.value.problem


def test_legacy_typed_names_compare_as_identities_too(records_legacy):
    engine, code, rid = records_legacy
    with session_scope(engine) as s, pytest.raises(UserError, match="cannot also review"):
        reports.review_report(s, code, rid, reviewer="Li  WEI")


@pytest.fixture
def records_legacy(demo_engine):
    demo = build_incident(demo_engine)
    with session_scope(demo_engine) as s:
        rid = reports.draft_report(s, demo.code, "flash", actor="Li Wei").id
    return demo_engine, demo.code, rid


# ---------------------------------------------------------------- the table, cell by cell


class NotPerformed(Exception):
    """The use case ran without a refusal but did not do the action (a player's tick: no inject)."""


def _start_drill(s, w) -> None:
    from incident.drills import start_drill

    start_drill(s, DRILL_SCENARIO, actor="")


def _due_injects(s, code: str) -> int:
    from incident.drills import injects

    return sum(1 for i in injects(s, code, include_pending=True) if not i.delivered)


def _deliver_injects(s, w) -> None:
    from incident.drills import tick

    before = _due_injects(s, w["drill"])
    res = tick(s, w["drill"], actor="")
    if not res.injects:
        assert _due_injects(s, w["drill"]) == before > 0  # still pending, for the controller
        raise NotPerformed("no inject delivered")


def _calibrate(s, w) -> None:
    from incident.readiness import record_calibration

    tag, schedule = w["calibration"]
    record_calibration(s, tag, schedule=schedule, done_on=date.today(), by="Cal Lab", actor="")


def _import_inventory(s, w) -> None:
    from incident.readiness import import_csv

    import_csv(s, w["inventory_csv"], actor="")


def _move_stock(s, w) -> None:
    from incident.readiness import move_stock

    item, lot = w["stock"]
    move_stock(s, item, delta=-1, reason="used in a test", lot=lot, actor="")


def _maintain(s, w) -> None:
    from incident.readiness import record_maintenance

    record_maintenance(s, w["calibration"][0], done_on=date.today(), by="Workshop", actor="")


NEW_EQUIPMENT = """[[equipment]]
asset_tag = "INS-PH-09"
category = "instrument"
type = "pH meter"
location = "Store room 1"
"""


def _load_inventory(s, w) -> None:
    from incident.readiness import load_inventory

    path = w["path"].parent / "new_equipment.toml"
    path.write_text(NEW_EQUIPMENT, encoding="utf-8")
    load_inventory(s, path, actor="")


def _set_speed(s, w) -> None:
    from incident.drills import set_speed

    set_speed(s, w["drill"], 2.0, actor="")


def _endex(s, w) -> None:
    from incident.drills import end_drill

    end_drill(s, w["drill"], actor="")


def _register(s, w) -> None:
    accounts.register_account(s, "New Person", ["responder"], new_person("New Person").public_hex)


def _open_incident(s, w) -> None:
    create_incident(s, NewIncident(title="t", alert_at=utcnow() - timedelta(minutes=1)), actor="")


def _record_result(s, w) -> None:
    from incident.results.entry import ResultInput, add_result

    add_result(s, w["code"], ResultInput(sample="NOPE", parameter="x", value="1", unit="mg/L"), actor="")


def _seal(s, w) -> None:
    from incident.evidence import seal_heads

    seal_heads(s, w["code"])


#: Each action of accounts.PERMISSIONS -> the use cases that check it, tried one by one (each on a
#: fresh copy of the world). A missing action fails test_every_action_is_tried.
ATTEMPTS: dict[str, list] = {
    "account.manage": [_register],
    "incident.open": [_open_incident],
    "result.record": [_record_result],
    "report.draft": [lambda s, w: reports.draft_report(s, w["code"], "flash", actor="")],
    "report.review": [lambda s, w: reports.review_report(s, w["code"], w["draft"], reviewer=None)],
    "report.release": [lambda s, w: reports.release_report(s, w["code"], w["reviewed"], by=None)],
    "chain.seal": [_seal],
    "equipment.update": [_load_inventory, _import_inventory, _move_stock, _maintain],
    "equipment.calibrate": [_calibrate],
    "drill.control": [_start_drill, _set_speed, _endex],
    "drill.inject": [_deliver_injects],
}
#: Allowed, these use cases stop at a later check of their own (the input is not a real sample).
STOPS_LATER = {_record_result}


def test_every_action_is_tried():
    assert set(ATTEMPTS) == set(accounts.PERMISSIONS)


def test_the_docs_hold_the_table_the_code_uses():
    """docs/roles.md holds accounts.permissions_table() verbatim: the docs cannot drift from the code."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "roles.md").read_text(encoding="utf-8")
    assert accounts.permissions_table() in docs, "regenerate the table: print(accounts.permissions_table())"


CELLS = [(action, role, i) for action in accounts.PERMISSIONS for role in signing.ROLES
         for i in range(len(ATTEMPTS.get(action, [None])))]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "role", "attempt"),
    CELLS,
    ids=[
        f"{a}-{r}" + (f"-{getattr(ATTEMPTS[a][i], '__name__', i)}" if len(ATTEMPTS.get(a, [])) > 1 else "")
        for a, r, i in CELLS
    ],  # fmt: skip
)
def test_each_cell_of_the_roles_table(world, action, role, attempt, monkeypatch):
    engine, w = world
    person = w["people"][ROLE_PEOPLE[role]]
    allowed = role in accounts.PERMISSIONS[action]
    attempt_fn = ATTEMPTS[action][attempt]
    if action == "drill.inject":  # the exercise clock three hours on: injects are due
        later = utcnow() + timedelta(hours=3)
        monkeypatch.setattr(clock, "_now_provider", lambda: later)
    refused: Exception | None = None
    with acting_as(person):
        try:
            with session_scope(engine) as s:
                attempt_fn(s, w)
        except (UserError, NotPerformed) as exc:
            refused = exc
    role_refusal = isinstance(refused, UserError) and refused.key == "errors.accounts.may_not"
    if allowed:
        if attempt_fn in STOPS_LATER:
            assert not role_refusal, refused
        else:
            assert refused is None, refused.render() if isinstance(refused, UserError) else refused
    elif action == "drill.inject":
        assert isinstance(refused, NotPerformed), refused
    else:
        assert role_refusal, (action, role, refused)
        assert isinstance(refused, UserError) and ROLE_PEOPLE[role] in refused.render()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_role_refusal_reads_in_en_and_zh(world, lang):
    from incident.core.i18n import get_language, set_language

    engine, w = world
    before = get_language()
    set_language(lang)
    try:
        with (
            acting_as(w["people"]["Ann Author"]),
            session_scope(engine) as s,
            pytest.raises(UserError) as err,
        ):
            _calibrate(s, w)
        text = err.value.render()
    finally:
        set_language(before)
    assert "Ann Author" in text
    # the role and the action are named in the reader's language too, not only the sentence
    assert ("equipment manager" in text) == (lang == "en") and ("装备管理员" in text) == (lang == "zh")
    assert ("record a calibration" in text) == (lang == "en") and ("记录校准" in text) == (lang == "zh")
    assert ("不能执行" in text) == (lang == "zh") and ("may not" in text) == (lang == "en")


def test_every_role_and_action_has_a_label_in_both_languages():
    from incident.core.i18n import catalog

    for lang in ("en", "zh"):
        keys = catalog(lang)
        assert {f"accounts.role.{r}" for r in signing.ROLES} <= set(keys), lang
        assert {f"accounts.action.{a.replace('.', '_')}" for a in accounts.PERMISSIONS} <= set(keys), lang


def test_the_demo_loads_for_a_team_lead_without_the_kit(engine, people):
    """A signed store's first start (the TUI loads the demo): a team lead may open the demo incident
    but not keep the inventory, so the demo comes without its kit rather than not at all."""
    from sqlmodel import func, select

    from incident.core.store.tables import Equipment, Incident
    from incident.demo.seed import ensure_demo

    with acting_as(people["Lena Lead"]):
        code = ensure_demo(engine, actor="")
    with session_scope(engine) as s:
        assert s.exec(select(Incident).where(Incident.code == code)).one()
        assert s.exec(select(func.count()).select_from(Equipment)).one() == 0
