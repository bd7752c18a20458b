"""Exercise data never appears in real-incident lists, statistics or readiness history unless asked."""

from __future__ import annotations

from sqlmodel import select

from incident.cli import main
from incident.core.incidents import list_incidents
from incident.core.store.engine import session_scope
from incident.core.store.tables import Incident
from incident.demo.seed import ensure_demo
from incident.drills.metrics import compare
from incident.readiness.checkout import check_in, check_out, open_checkouts
from incident.readiness.upkeep import equipment_detail
from incident.reports.stats import incident_statistics
from incident.results.entry import NewSample, create_sample

from .conftest import propose


def test_lists_and_statistics_keep_exercises_apart(demo_engine, drill, demo_code, wall, capsys):
    points = propose(demo_engine, drill)
    wall.advance(minutes=3)
    with session_scope(demo_engine) as s:
        create_sample(
            s, drill, NewSample(point=points[0].number, sampled_at=wall.at, sampler="Li"), actor="Li"
        )
        real = list_incidents(s)
        exercises = list_incidents(s, exercises=True)
        assert [i.code for i in real] == [demo_code]
        assert [i.code for i in exercises] == [drill]
        stats = incident_statistics(s)
        assert stats.incidents == 1 and stats.samples == 0 and "cadmium" not in stats.by_substance
        ex = incident_statistics(s, exercises=True)
        assert ex.incidents == 1 and ex.samples == 1 and ex.by_substance == {"cadmium": 1}
        assert [r["code"] for r in compare(s)] == [drill]  # the drill table holds drills only
        # the demo loader still opens the newest *real* incident
        assert s.exec(select(Incident).where(Incident.code == drill)).one().is_exercise
    assert ensure_demo(demo_engine) == demo_code
    url = str(demo_engine.url)
    assert main(["--db", url, "list"]) == 0
    out = capsys.readouterr().out
    assert demo_code in out and drill not in out
    assert main(["--db", url, "list", "--exercises"]) == 0
    out = capsys.readouterr().out
    assert drill in out and demo_code not in out
    assert main(["--db", url, "stats", "--json"]) == 0
    assert '"incidents": 1' in capsys.readouterr().out


def test_readiness_history_leaves_drill_checkouts_out_unless_asked(demo_engine, drill, demo_code, wall):
    with session_scope(demo_engine) as s:
        check_out(s, "INS-HM-01", crew="Crew A", actor="store", incident=drill, override="drill")
        rows = open_checkouts(s)
        assert [(r["target"], r["incident"], r["exercise"]) for r in rows] == [("INS-HM-01", drill, True)]
        check_in(s, "INS-HM-01", actor="store")
        check_out(s, "INS-HM-01", crew="Crew B", actor="store", incident=demo_code, override="real")
        check_in(s, "INS-HM-01", actor="store")
        history = equipment_detail(s, "INS-HM-01").checkouts
        assert [h["incident"] for h in history] == [demo_code]
        everything = equipment_detail(s, "INS-HM-01", include_exercises=True).checkouts
        assert sorted(h["incident"] for h in everything) == sorted([demo_code, drill])
        assert [h["exercise"] for h in everything if h["incident"] == drill] == [True]
