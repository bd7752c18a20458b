"""Tasks that had only a CLI, now by keyboard at 80×24 with a palette entry each: result
correction, QC, custody hand-off, rounds, the plan's GeoJSON export, ENDEX."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core.clock import utcnow
from incident.core.config import Settings
from incident.core.i18n import t
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import Result
from incident.results import entry as results
from incident.results.entry import NewSample, ResultInput
from incident.tui.app import IncidentApp, make_app
from incident.tui.commands import ENTRIES
from tests.drills.conftest import wall  # noqa: F401, F811 - the drill wall clock fixture
from tests.results.conftest import make_plan
from tests.tui.screen_text import screen_text
from tests.tui.test_incident_workflow import screen_name, settle, until


def test_every_palette_entry_runs_an_app_action():
    for label, help_key, action in ENTRIES:
        name = action.split("(")[0]
        assert hasattr(IncidentApp, f"action_{name}"), (label, action)
        assert t(label) != label and t(help_key) != help_key
        assert t(label, lang="zh") != t(label, lang="en") or "ENDEX" in t(label)
    labels = {t(label) for label, _h, _a in ENTRIES}
    assert {
        "incident: new",
        "spill: amend",
        "result: correct",
        "qc: show",
        "custody: hand off",
        "rounds: show",
        "round: mark sampled",
        "rounds: regenerate",
        "plan: export GeoJSON",
        "drill: end (ENDEX)",
        "crew: assign",
        "report: release",
        "termination: check",
    } <= labels


@pytest.fixture
def with_results(demo_engine, demo_code):
    """Plan S1–S4 with rounds, a sample at S2 with a parallel, a field blank, and results."""
    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        make_plan(s, inc.id)
        at = utcnow() - timedelta(hours=1)
        a = results.create_sample(
            s, demo_code, NewSample(point="S2", round=1, sampled_at=at, sampler="Li Wei"), actor="t"
        )
        b = results.create_sample(
            s,
            demo_code,
            NewSample(
                point="S2",
                round=1,
                sampled_at=at,
                sampler="Li Wei",
                sample_type="parallel",
                parallel_of=a.code,
            ),
            actor="t",
        )
        blank = results.create_sample(
            s,
            demo_code,
            NewSample(point="S1", round=1, sampled_at=at, sampler="Li Wei", sample_type="field_blank"),
            actor="t",
        )
        for smp, value in ((a, "0.040"), (b, "0.050"), (blank, "<0.0005")):
            results.add_result(
                s,
                demo_code,
                ResultInput(
                    sample=smp.code,
                    parameter="nitrobenzene",
                    value=value,
                    detection_limit="0.0005",
                    method="hj648_gc",
                ),
                actor="t",
            )
    return demo_engine, demo_code, a.code


def _app(engine, code, lang="en"):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"), incident_code=code
    )


async def _results_on_s2(pilot):
    await settle(pilot)
    await pilot.press("v")
    await until(
        pilot, lambda: screen_name(pilot) == "ResultsScreen" and pilot.app.screen.table_data is not None
    )
    table = pilot.app.screen.query_one("DataTable")
    while str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value) != "S2":
        await pilot.press("down")


async def test_correct_a_result_by_keys(with_results):
    engine, code, sample = with_results
    app = _app(engine, code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _results_on_s2(pilot)
        await pilot.press("e")
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        await settle(pilot)
        form = app.screen
        # prefilled from the selected cell's latest result (the parallel, 0.050)
        assert form.query_one("#field-value").value == "0.05"
        old_id = int(form.query_one("#field-result_id").value)
        await pilot.press("tab", *["backspace"] * 4, *"0.005")  # value
        for _ in range(4):
            await pilot.press("tab")  # unit, DL, method, reason
        await pilot.press(*"transcription error", "enter")
        await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
        await settle(pilot)
    with session_scope(engine) as s:
        rows = s.exec(select(Result).where(Result.corrects_id == old_id)).all()
        assert len(rows) == 1 and rows[0].value == pytest.approx(0.005)
        assert rows[0].correction_reason == "transcription error"


async def test_qc_shows_the_parallel_pair_and_the_blank(with_results):
    engine, code, sample = with_results
    app = _app(engine, code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _results_on_s2(pilot)
        await pilot.press("Q")
        await until(pilot, lambda: screen_name(pilot) == "InfoDialog")
        await settle(pilot)
        text = screen_text(app)
        assert "Parallel samples" in text and "Field blanks" in text
        assert "22.2" in text  # RPD of 0.040 and 0.050: |a−b| / mean × 100 = 0.01 / 0.045 × 100
        await pilot.press("escape")
        await settle(pilot)
        assert screen_name(pilot) == "ResultsScreen"


async def test_custody_hand_off_by_keys(with_results):
    import incident.results as res

    engine, code, sample = with_results
    app = _app(engine, code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _results_on_s2(pilot)
        await pilot.press("h")
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        await settle(pilot)
        form = app.screen
        assert form.query_one("#field-from_person").value == "Li Wei"  # the sampler holds it
        sample_code = form.query_one("#field-sample").value
        assert sample_code
        await pilot.press(
            "tab", "tab", *"Zhao Lab", "enter"
        )  # to; Enter on the last text field before the choice
        await until(pilot, lambda: screen_name(pilot) != "FormDialog" or app.focused.id == "field-condition")
        if screen_name(pilot) == "FormDialog":
            while app.focused.id != "form-ok":
                await pilot.press("tab")
            await pilot.press("enter")
        await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
        await settle(pilot)
        with session_scope(engine) as s:
            steps = res.chain(s, res.get_sample(s, sample_code))
        assert [(st.from_person, st.to_person) for st in steps] == [("Li Wei", "Zhao Lab")]


async def test_rounds_show_and_mark_sampled(with_results):
    from incident.sampling import list_rounds

    engine, code, _sample = with_results
    app = _app(engine, code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _results_on_s2(pilot)
        await pilot.press("o")
        await until(pilot, lambda: screen_name(pilot) == "RoundsDialog")
        await settle(pilot)
        assert "planned" in screen_text(app)
        await pilot.press("k")
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        await settle(pilot)
        await pilot.press("2", "enter")
        await until(pilot, lambda: screen_name(pilot) == "RoundsDialog")
        await settle(pilot)
    with session_scope(engine) as s:
        assert [r.status for r in list_rounds(s, code)] == ["planned", "sampled", "planned"]


async def test_plan_export_geojson_from_the_palette(with_results, short_dir):
    engine, code, _sample = with_results
    app = _app(engine, code)
    target = short_dir / "plan.geojson"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.run_action("plan_export")
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        await settle(pilot)
        path = app.screen.query_one("#field-path")
        path.value = ""
        await pilot.press(*str(target), "tab", "enter")
        await until(pilot, lambda: target.exists(), timeout_s=90)
    doc = json.loads(target.read_text(encoding="utf-8"))
    numbers = {f["properties"].get("number") for f in doc["features"]}
    assert {"S1", "S2", "S3", "S4"} <= numbers


async def test_endex_asks_then_ends_the_drill(demo_engine, wall):  # noqa: F811
    from incident.drills.control import start_drill
    from tests.drills.conftest import SCENARIO

    with session_scope(demo_engine) as s:
        code = start_drill(s, SCENARIO, actor="controller", speed=10).code
    app = _app(demo_engine, code)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.run_action("drill_end")
        await until(pilot, lambda: screen_name(pilot) == "ConfirmDialog")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        with session_scope(demo_engine) as s:
            assert get_incident(s, code).status != "closed"
        await app.run_action("drill_end")
        await until(pilot, lambda: screen_name(pilot) == "ConfirmDialog")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await until(pilot, lambda: any("ENDEX" in n.message for n in app._notifications))
    with session_scope(demo_engine) as s:
        assert get_incident(s, code).status == "closed"
