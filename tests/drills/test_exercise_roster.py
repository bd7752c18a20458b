"""An exercise has its own roster, leaves real crews and readiness alone, is read-only after ENDEX, and
every export of it carries EXERCISE in its file name and its first line or heading."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import Checkout, Crew
from incident.drills.control import end_drill
from incident.readiness import rollup
from incident.sampling import copy_crews_to_exercise, list_crews, load_roster
from incident.sampling.assignment import dispatch, ics204_csv, ics204_markdown, plan_assignment
from incident.sampling.crews import check_in, set_status
from incident.sampling.plans import remove_point
from tests.drills.conftest import propose

FICTIONAL = """
[[responder]]
key = "p1"
name = "Player One"
role = "team_lead"
qualifications = [{ kind = "water_sampling", expires_on = "today+100" }]

[[crew]]
name = "Red Team"
leader = "p1"
members = ["p1"]
base_name = "Exercise base"
base_lat = 24.60
base_lon = 109.35
"""


def test_own_roster_copied_or_fictional_and_real_crews_untouched(demo_engine, drill, tmp_path):
    with session_scope(demo_engine) as s:
        from incident.core.incidents import get_incident

        # a drill starts with its players copied from the real roster
        started = {c.name for c in list_crews(s, roster=get_incident(s, drill).id)}
        assert started == {f"Crew {x} ({drill})" for x in "ABCD"}
        with pytest.raises(UserError):  # already there: never two copies of one crew
            copy_crews_to_exercise(s, drill, ["Crew A"], actor="controller")
    with session_scope(demo_engine) as s:
        path = tmp_path / "players.toml"
        path.write_text(FICTIONAL, encoding="utf-8")
        load_roster(s, path, actor="controller", exercise=drill)
    with session_scope(demo_engine) as s:
        from incident.core.incidents import get_incident

        inc = get_incident(s, drill)
        own = {c.name for c in list_crews(s, roster=inc.id)}
        assert own == {f"Crew {x} ({drill})" for x in "ABCD"} | {f"Red Team ({drill})"}
        assert {c.name for c in list_crews(s)} == {"Crew A", "Crew B", "Crew C", "Crew D"}  # real ones only
        before = rollup(s)
    propose(demo_engine, drill)
    with session_scope(demo_engine) as s:
        check_in(s, drill, "A", actor="player")  # "A" is the exercise's Crew A
        set_status(s, "Red Team", "out_of_service", actor="player", code=drill, note="injected breakdown")
        real_c = s.exec(select(Crew).where(Crew.name == "Crew C")).one()
        with pytest.raises(UserError, match="Crew C is not in exercise"):  # a real crew, by its id
            set_status(s, real_c.id, "assigned", actor="player", code=drill)
        plan = plan_assignment(
            s, drill, kit_check=lambda *_a, **_k: (True, []), crew_check=lambda *_a, **_k: []
        )
        assert plan.routes and set(plan.routes) <= own
        dispatch(s, plan, actor="player", crew_check=lambda *_a, **_k: [])
    with session_scope(demo_engine) as s:
        real = {c.name: c.status for c in s.exec(select(Crew).where(Crew.exercise_id.is_(None)))}
        assert set(real.values()) == {"available"}  # nothing in the exercise changed a real crew
        assert s.exec(select(Checkout)).all() == []  # no real kit went out
        after = rollup(s)
        assert (after.teams_ready, after.teams_deployed, after.kits_out) == (before.teams_ready, 0, 0)
        assert len(after.teams) == 4  # the exercise's crews never count


def test_after_endex_the_exercise_is_read_only(demo_engine, drill):
    propose(demo_engine, drill)
    with session_scope(demo_engine) as s:
        plan = plan_assignment(
            s, drill, kit_check=lambda *_a, **_k: (True, []), crew_check=lambda *_a, **_k: []
        )
        end_drill(s, drill, actor="controller")
    for action in (
        lambda s: dispatch(s, plan, actor="player", crew_check=lambda *_a, **_k: []),
        lambda s: check_in(s, drill, "A", actor="player"),
        lambda s: set_status(s, "A", "available", actor="player", code=drill),
        lambda s: copy_crews_to_exercise(s, drill, ["Crew B"], actor="controller"),
        lambda s: remove_point(s, drill, "S2", reason="access closed", actor="player"),
    ):
        with (
            pytest.raises(UserError, match=r"has ended \(ENDEX\): it is read-only"),
            session_scope(demo_engine) as s,
        ):
            action(s)
    from incident.results.entry import NewSample, create_sample

    with pytest.raises(UserError, match="read-only"), session_scope(demo_engine) as s:
        create_sample(
            s, drill, NewSample(point="S2", round=1, sampled_at=plan.computed_at, sampler="x"), actor="p"
        )


def test_every_export_of_an_exercise_says_exercise(demo_engine, drill, tmp_path):
    from incident.reports import export_ics214
    from incident.results import check_termination

    propose(demo_engine, drill)
    with session_scope(demo_engine) as s:
        plan = plan_assignment(
            s, drill, kit_check=lambda *_a, **_k: (True, []), crew_check=lambda *_a, **_k: []
        )
        # ICS 204, CSV and Markdown (stdout: the first line)
        assert ics204_csv(plan).splitlines()[0].startswith("EXERCISE")
        assert list(csv.reader(io.StringIO(ics204_csv(plan))))[1][0] == "crew"
        assert ics204_markdown(plan).startswith("**EXERCISE")
        # ICS 214 in every format: the file name and the first line
        for name in ("log.csv", "log.md", "log.html"):
            form = export_ics214(s, drill, str(tmp_path / name), actor="controller")
            written = tmp_path / f"EXERCISE-{name}"
            assert form.written_to == str(written) and written.exists() and not (tmp_path / name).exists()
            text = written.read_text(encoding="utf-8").lstrip("\ufeff").lstrip()
            if name.endswith(".html"):  # its title and the first thing in its body
                assert "<title>EXERCISE" in text
                body = text.split("<body", 1)[1].split(">", 1)[1].lstrip()
                assert body.startswith('<div class="exercise-banner') and "EXERCISE" in body.splitlines()[0]
            else:
                assert "EXERCISE" in text.splitlines()[0], (name, text[:80])
        # the termination check
        check = check_termination(s, drill, actor="controller")
        assert check.markdown.splitlines()[0].startswith("EXERCISE")
