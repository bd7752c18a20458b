"""ICS 204, 211 and 214 carry every field of the FEMA forms, filled from the incident (one field test each)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from incident.core.clock import fmt_local
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import Responder
from incident.reports.ics214 import FORM_COLUMNS, build_ics214, to_csv, to_markdown
from incident.sampling.assignment import dispatch, ics204_csv, ics204_markdown, ics204_sign, plan_assignment
from incident.sampling.crews import check_in
from incident.sampling.ics211 import COLUMNS, build_ics211, ics211_csv, ics211_markdown
from incident.sampling.plans import propose_plan


def ready(_session, _kit_id, *, on=None):
    return True, []


@pytest.fixture
def dispatched(demo_engine, demo_code, demo_forecast):
    """The demo incident planned, crews A and B checked in, routes dispatched by a person on the roster."""
    with session_scope(demo_engine) as s:
        propose_plan(s, demo_code, demo_forecast, actor="tester")
        lead = s.exec(select(Responder).where(Responder.role == "team_lead")).first()
        for crew in ("Crew A", "Crew B"):
            check_in(s, demo_code, crew, actor=lead.name, lat=24.6, lon=109.3)
        plan = plan_assignment(s, demo_code, kit_check=ready, now=demo_forecast.release_start)
        ics204_sign(s, plan, prepared_by=lead.name, approved_by="Director Wang")
        dispatch(s, plan, actor=lead.name, crew_check=lambda *_a, **_k: [])
        return demo_engine, demo_code, plan, lead.name


def test_ics204_has_every_fema_block_filled_from_the_incident(dispatched):
    engine, code, plan, lead = dispatched
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        person = s.exec(select(Responder).where(Responder.name == lead)).one()
        title, substance = inc.title, inc.substance
    f = plan.form
    assert f.incident_name == f"{code} · {title}"  # 1
    assert f.period_from == plan.computed_at and (f.period_to - f.period_from).total_seconds() == plan.settings.period_h * 3600  # 2  # fmt: skip
    assert f.branch and f.division and f.group  # 3-5
    assert f.operations_chief == lead and len(f.supervisors) == len(plan.routes)  # 6
    assert f.safety_message.startswith(f"{substance}: ") and "life jackets" in f.safety_message
    assert [c[0] for c in f.communications][1:] == [f"{c} leader: {r[0].leader}" for c, r in plan.routes.items()]  # 10  # fmt: skip
    assert all(c[1] and c[2] == "mobile phone" for c in f.communications)
    assert (
        f.prepared_by == lead and f.prepared_position == person.role.replace("_", " ") and f.prepared_at
    )  # 11
    assert f.approved_by == "Director Wang"  # 12
    md = ics204_markdown(plan)
    for block in (
        "1. **Incident name:**",
        "2. **Operational period:** from",
        " to ",
        "3. **Branch:**",
        "4. **Division:**",
        "5. **Group:**",
        "6. **Operations personnel:**",
        "## 7. Resources assigned and 8. work assignments",
        "## 9. Special instructions",
        "### Safety message",
        "## 10. Communications",
        "11. **Prepared by:** " + lead,
        "signature ________________",
        "12. **Approved by:** Director Wang",
    ):
        assert block in md, block
    assert fmt_local(f.period_to) in md and title in md
    rows = list(csv.DictReader(io.StringIO(ics204_csv(plan))))
    line = rows[0]
    # resources (leader, persons, contact), work assignment, communications method and the form blocks on each row
    assert (
        line["leader"]
        and int(line["headcount"]) > 0
        and line["phone"]
        and line["point"]
        and line["instructions"]
    )
    assert line["comms_method"] == "mobile phone"
    assert line["incident_name"] == f.incident_name and line["period_to_local"] == fmt_local(f.period_to)
    for col in ("branch", "division", "group", "operations_chief", "safety_message", "prepared_by", "prepared_at_local", "approved_by"):  # fmt: skip
        assert line[col], col


def test_ics211_has_every_fema_column_and_the_assignment_from_the_route(dispatched):
    engine, code, plan, lead = dispatched
    with session_scope(engine) as s:
        form = build_ics211(s, code, prepared_by=lead)
        title = get_incident(s, code).title
    assert form.incident_name == f"{code} · {title}"
    assert form.location == "incident command post (24.60000, 109.30000)" and form.start_at is not None
    assert {r.resource.split(" / ")[0] for r in form.rows} == {"Crew A", "Crew B"}
    for r in form.rows:
        name = r.resource.split(" / ")[0]
        route = plan.routes.get(name)
        for col, value in zip(COLUMNS, ics211_csv_cells(r), strict=True):
            assert value, f"{name}: {col} is empty"
        assert r.state == "Assigned" if route else r.state == "Available"
        if route:  # the assignment column is the dispatched route, stop by stop
            assert r.assignment.startswith("route: " + " → ".join(x.point for x in route) + " (first ETA ")
        assert r.order_request.startswith(f"{code}-CI")
        assert r.restat_initials == "".join(p[0] for p in lead.split())
        assert r.total_persons > 0 and r.leader and r.contact == r.contact.strip() != ""
    assert any(plan.routes.get(r.resource.split(" / ")[0]) for r in form.rows)
    rows = list(csv.DictReader(io.StringIO(ics211_csv(form).lstrip("\ufeff"))))
    assert len(rows) == 2 and all(row["incident_assignment"] for row in rows)
    assert rows[0]["prepared_by"] == lead and rows[0]["checkin_location"] == form.location
    md = ics211_markdown(form)
    assert (
        "1. **Incident name:**" in md
        and "2. **Check-in location:**" in md
        and "11. **Prepared by:** " + lead in md
    )


def ics211_csv_cells(r):
    from incident.sampling.ics211 import _cells

    return _cells(r)


def test_ics214_names_the_person_with_position_and_agency_from_the_roster(dispatched):
    engine, code, _plan, lead = dispatched
    with session_scope(engine) as s:
        person = s.exec(select(Responder).where(Responder.name == lead)).one()
        form = build_ics214(s, code, prepared_by=lead)
        title = get_incident(s, code).title
    shown = f"{person.name} ({person.name_zh})" if person.name_zh else person.name
    assert form.prepared_by == shown  # 3: the person, not a login
    assert form.position == person.role.replace("_", " ") and form.home_agency == person.home_unit  # 4, 5
    assert form.incident_name == title and form.period_from < form.period_to  # 1, 2
    assert form.resources and all(n and p and a for n, p, a in form.resources)  # 6
    assert form.rows and any(r.actor == lead and r.kind == "crew.checked_in" for r in form.rows)  # 7
    md = to_markdown(form)
    for text in (shown, person.role.replace("_", " "), person.home_unit, "________________"):
        assert text in md
    rows = list(csv.DictReader(io.StringIO(to_csv(form).lstrip("\ufeff"))))
    assert set(FORM_COLUMNS) <= set(rows[0])
    assert all(rows[0][c] for c in FORM_COLUMNS)
    assert rows[0]["name"] == shown and rows[0]["ics_position"] == person.role.replace("_", " ")


def test_exercise_ics211_is_marked_in_the_file_name_and_first_line(demo_engine, tmp_path):
    from incident.drills import start_drill
    from incident.sampling import export_ics211
    from tests.drills.conftest import SCENARIO

    with session_scope(demo_engine) as s:
        code = start_drill(s, SCENARIO, actor="controller", speed=10).code
    with session_scope(demo_engine) as s:
        check_in(s, code, "A", actor="player")
        form, written = export_ics211(s, code, str(tmp_path / "checkin.csv"), actor="player")
    assert "EXERCISE" in written.rsplit("/", 1)[-1]
    text = open(written, encoding="utf-8").read().lstrip("\ufeff")
    assert text.splitlines()[0].startswith("EXERCISE")
    assert ics211_markdown(form).startswith("**EXERCISE")


def test_ics214_export_names_the_user_given_and_notes_a_login_not_on_the_roster(dispatched, tmp_path, capsys):
    from incident.cli import main

    engine, code, _plan, lead = dispatched
    db = f"sqlite:///{engine.url.database}"
    out = tmp_path / "log.csv"
    assert main(["--db", db, "--user", lead, "log", "export", code, "--format", "csv", "-o", str(out)]) == 0
    assert "not on the roster" not in capsys.readouterr().err
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert row["name"].startswith(lead) and row["ics_position"] == "team lead"
    assert (
        main(["--db", db, "--user", "monitor", "log", "export", code, "--format", "csv", "-o", str(out)]) == 0
    )
    assert "block 3 names 'monitor', who is not on the roster" in capsys.readouterr().err
