"""Strict input (issue 18): far-future times refused; user text shown literally, never as markup.

The number refusals (superscripts, full-width digits, non-finite values, absurd
magnitudes) are in tests/results/test_units.py and test_results.py; the river
geometry refusals in tests/core/test_rivers.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.text import Text
from sqlmodel import select

from incident.core.clock import FUTURE_TOLERANCE, utcnow
from incident.core.errors import UserError, ValidationErrors
from incident.core.incidents import NewIncident, create_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import Crew, Incident


def test_an_alert_a_year_ahead_is_refused(engine):
    with session_scope(engine) as s, pytest.raises(UserError) as err:
        create_incident(s, NewIncident(title="typo year", alert_at=utcnow() + timedelta(days=365)), actor="t")
    assert err.value.where == "alert_at"
    assert "365 days in the future" in err.value.problem
    with session_scope(engine) as s:
        assert s.exec(select(Incident)).first() is None


def test_an_alert_within_the_clock_skew_is_accepted(engine):
    with session_scope(engine) as s:
        inc = create_incident(
            s, NewIncident(title="fast clock", alert_at=utcnow() + FUTURE_TOLERANCE / 2), actor="t"
        )
        assert inc.code


def test_a_measurement_a_year_ahead_is_refused(demo_engine, demo_code):
    from incident.results import ResultInput, add_result, create_sample
    from incident.results.entry import NewSample
    from tests.results.conftest import backdate, make_plan

    with session_scope(demo_engine) as s:
        from incident.core.incidents import get_incident

        inc = get_incident(s, demo_code)
        backdate(s, inc)
        make_plan(s, inc.id)
        smp = create_sample(
            s, demo_code, NewSample(point="S2", round=1, sampled_at=utcnow(), sampler="Li Wei"), actor="t"
        )
        raw = ResultInput(
            sample=smp.code,
            parameter="nitrobenzene",
            value="0.01",
            unit="mg/L",
            detection_limit="0.0005",
            method="hj648_gc",
            measured_at=utcnow() + timedelta(days=365),
        )
        with pytest.raises(ValidationErrors) as err:
            add_result(s, demo_code, raw, actor="t")
    assert [p.where for p in err.value.problems] == ["measured at"]
    assert "in the future" in err.value.problems[0].problem


NASTY = "Team [/b] [red]Alpha[/red] [link=http://x]y"


async def test_crew_names_with_markup_show_literally_on_the_crew_board(demo_engine, demo_code, settings):
    from incident.tui.app import make_app
    from incident.tui.screens.sampling import CrewBoardScreen

    with session_scope(demo_engine) as s:
        crew = s.exec(select(Crew)).first()
        crew.name = NASTY
        s.add(crew)
    app = make_app(engine=demo_engine, settings=settings, incident_code=demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(CrewBoardScreen(demo_code))
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(app.screen, CrewBoardScreen) and app.screen.query_one("#crew-table").row_count:
                break
        table = app.screen.query_one("#crew-table")
        from textual.widgets._data_table import default_cell_formatter  # what the table renders with

        shown = [default_cell_formatter(table.get_cell_at((r, 0))) for r in range(table.row_count)]
        assert any(isinstance(t, Text) and t.plain == NASTY and not t.spans for t in shown), shown
        app.notify(f"saved {NASTY}")
        await pilot.pause()
        assert any(n.message == f"saved {NASTY}" and not n.markup for n in app._notifications)


def test_plain_widgets_keep_text_literal():
    from textual.widgets._data_table import default_cell_formatter

    from incident.tui.widgets.plain import Plain, _plain, markup

    assert Plain(NASTY)._render_markup is False
    assert markup("[red]x[/red]") == "\\[red]x\\[/red]"
    for text in (NASTY, "ends in a backslash \\", "[/]", "plain M03"):
        assert default_cell_formatter(_plain(text)).plain == text


def test_no_screen_builds_a_markup_table_or_panel():
    """Every DataTable/Static of the app is the plain kind (a new screen cannot forget it)."""
    import re
    from pathlib import Path

    import incident.tui

    root = Path(incident.tui.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "plain.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"(?<![\w.])DataTable\(", text):
            offenders.append(f"{path.name}: DataTable(")
    assert offenders == []
