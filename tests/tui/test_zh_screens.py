"""With zh chosen, no English reaches a screen: every screen of the workflow, at 80×24, is scanned
for Latin words outside an allow-list of codes, units, standards and data typed by people
(crew and user names, sample codes)."""

from __future__ import annotations

import re

import pytest

from incident.core.config import Settings
from incident.tui.app import make_app
from tests.tui.screen_text import screen_text
from tests.tui.test_incident_workflow import screen_name, settle, until

ALLOWED = {
    # codes, units, standards, formats
    "INC",
    "EX",
    "ICS",
    "HJ",
    "GB",
    "RPD",
    "WGS",
    "GPS",
    "YYYY",
    "MM",
    "DD",
    "HH",
    "GeoJSON",
    "QGIS",
    "zh",
    "en",
    "km",
    "kg",
    "mg",
    "ENDEX",
    "incident",
    "Esc",
    "Enter",
    "Tab",
    "Ctrl",
    "ctrl",
    "esc",
    "DL",
    "DLL",
    # data typed by people: the demo roster's crew and user names, the test user
    "Crew",
    "tester",
    "responder",
    "Li",
    "Wei",
    "Zhou",
    "Lan",
    "Mo",
    "Jun",
    "Pan",
    "Yu",
}
WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str) -> set[str]:
    words = set()
    for word in WORD.findall(text):
        if word in ALLOWED or re.fullmatch(r"[A-Z]{1,3}", word):  # reach/point/receptor ids: M03, S4, W1
            continue
        words.add(word)
    return words


async def visit(pilot, keys: list[str], expect: str) -> str:
    await pilot.press(*keys)
    await until(pilot, lambda: screen_name(pilot) == expect)
    await settle(pilot)
    await pilot.pause(0.1)
    return screen_text(pilot.app)


@pytest.mark.parametrize(
    "keys, expect",
    [
        ([], "DashboardScreen"),
        (["i"], "IncidentListScreen"),
        (["i", "n"], "NewIncidentForm"),
        (["a"], "FormDialog"),  # spill: amend
        (["v"], "ResultsScreen"),
        (["v", "s"], "FormDialog"),  # register a sample
        (["v", "Q"], "InfoDialog"),  # QC
        (["v", "o"], "RoundsDialog"),
        (["b"], "ReportsScreen"),
        (["b", "f"], "ConfirmDialog"),
        (["b", "f", "y"], "ReportsScreen"),  # a drafted flash report, previewed in Chinese
        (["m"], "SamplingPlanScreen"),
        (["c"], "CrewBoardScreen"),
        (["p"], "PlaybookScreen"),
        (["f1"], "HelpScreen"),
    ],
)
async def test_no_english_on_zh_screens(demo_engine, demo_code, keys, expect):
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="zh", user="tester"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = await visit(pilot, keys, expect)
        assert english_words(text) == set(), text


def test_the_scan_catches_english():
    assert english_words("事件 INC-2026-0001 · Step done: Take the alert") == {
        "Step",
        "done",
        "Take",
        "the",
        "alert",
    }
    assert english_words("西山 W1 · M03 km 45.0 · 8,000 kg · Crew A") == set()


@pytest.fixture
def flagged_demo(demo_engine, demo_code):
    """The demo incident with a forecast and a plan made by playbook actions, and a result at the
    Xishan intake (S4) logged before the plume can be there: flagged, with its reason."""
    from incident.core.store.engine import session_scope
    from incident.playbook.actions import run_action
    from incident.results import add_result, held_results
    from tests.results.test_results import lab, sample

    with session_scope(demo_engine) as s:
        outcomes = [run_action(s, demo_code, name, {}, "tester") for name in ("forecast.run", "plan.propose")]
        add_result(s, demo_code, lab(sample(s, demo_code, point="S4", rnd=1).code, "120"), actor="tester")
        assert held_results(s, demo_code)
    return outcomes


async def test_flags_action_outcomes_and_generated_point_names_are_chinese(
    demo_engine, demo_code, flagged_demo
):
    # the outcomes are kept language-neutral: English for the log's archive text, Chinese on screen
    for outcome in flagged_demo:
        assert english_words(outcome.summary)  # the archive text is English …
        assert english_words(outcome.text("zh")) == set(), outcome.text("zh")  # … the screen's is not
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="zh", user="tester"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # the plan lists the points the planner named itself (upstream control, attenuation …)
        text = await visit(pilot, ["m"], "SamplingPlanScreen")
        assert "上游对照断面" in text
        assert english_words(text) == set(), text
        await pilot.press("escape")
        await settle(pilot)
        # the results screen marks the flagged result at S4 with its reason
        text = await visit(pilot, ["v"], "ResultsScreen")
        while app.screen.selected_point() != "S4":
            await pilot.press("down")
        await settle(pilot)
        text = screen_text(app)
        assert "! 结果 #" in text and "污染团最早" in text
        assert english_words(text) == set(), text
        # the confirmation form shows the flag too
        text = await visit(pilot, ["k"], "FormDialog")
        assert "早于污染团到达" in text
        assert english_words(text) == set(), text
