"""What a responder sees at 80×24, in English and Chinese: footers that fit, help that
matches the real keys, no misleading empty states. Found by looking at every screen in tmux."""

from __future__ import annotations

import pytest
from textual.widgets import Footer, Static

from incident.core.config import Settings
from incident.tui.app import make_app


def _app(engine, code, lang="en"):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"), incident_code=code
    )


async def _settled(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _plain(widget: Static) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(widget.content)
    return console.export_text()


def _footer_overflow(app) -> list[str]:
    """Footer keys that do not fit left of the command-palette key (they would be cut off)."""
    footer = app.screen.query_one(Footer)
    keys = [k for k in footer.query("FooterKey") if not k.has_class("-command-palette")]
    palette = footer.query_one(".-command-palette")
    limit = palette.region.x if palette.region.width else app.size.width
    return [f"{k.key_display} {k.description}" for k in keys if k.region.right > limit or not k.region.width]


# (key that opens the screen, expected screen class): every main screen that needs no model run
SCREENS = [
    ("", "DashboardScreen"),
    ("p", "PlaybookScreen"),
    ("c", "CrewBoardScreen"),
    ("v", "ResultsScreen"),
    ("b", "ReportsScreen"),
    ("R", "ReadinessScreen"),
    ("i", "IncidentListScreen"),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_footer_fits_in_80_columns(demo_engine, demo_code, lang):
    app = _app(demo_engine, demo_code, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        for key, screen in SCREENS:
            if key:
                await pilot.press(key)
                await _settled(pilot)
            assert type(app.screen).__name__ == screen
            assert _footer_overflow(app) == [], f"{screen} ({lang}): footer cut off"
            if key not in ("", "i"):
                await pilot.press("escape")
                await _settled(pilot)


@pytest.mark.parametrize("lang, done, term", [("en", "Done", "Termination"), ("zh", "完成", "终止判断")])
async def test_help_lists_the_keys_of_the_screen_it_was_opened_from(demo_engine, demo_code, lang, done, term):
    app = _app(demo_engine, demo_code, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("p")
        await _settled(pilot)
        await pilot.press("f1")
        await pilot.pause()
        keys = _plain(app.screen.query_one("#help-screen-keys", Static))
        assert f"c         {done}" in keys
        assert "Focus Next" not in keys  # Textual's own untranslated keys are left out
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.press("v")  # results: t (termination) is off the footer, so help must list it
        await _settled(pilot)
        await pilot.press("f1")
        await pilot.pause()
        keys = _plain(app.screen.query_one("#help-screen-keys", Static))
        assert f"t         {term}" in keys
        await pilot.press("escape")
        assert type(app.screen).__name__ == "ResultsScreen"


async def test_help_text_fits_the_dialog_without_wrapping(demo_engine, demo_code):
    """Every line of the help body fits the help dialog at 80 columns (66 cells inside)."""
    from rich.cells import cell_len

    from incident.core.i18n import t

    for lang in ("en", "zh"):
        for line in t("help.body", lang=lang).splitlines():
            assert cell_len(line) <= 66, f"{lang}: {line!r}"


async def test_results_without_a_round_are_not_called_no_results(demo_engine, demo_code):
    from incident.core.clock import utcnow
    from incident.core.incidents import get_incident
    from incident.core.store.engine import session_scope
    from incident.results.entry import NewSample, ResultInput, add_result, create_sample
    from tests.results.conftest import make_plan

    with session_scope(demo_engine) as s:
        make_plan(s, get_incident(s, demo_code).id)
    with session_scope(demo_engine) as s:
        info = create_sample(
            s,
            demo_code,
            NewSample(point="S4", sampled_at=utcnow(), sampler="Wang", parameters=["nitrobenzene"]),
            actor="tester",
        )
    with session_scope(demo_engine) as s:
        add_result(
            s,
            demo_code,
            ResultInput(
                sample=info.code,
                parameter="nitrobenzene",
                value="0.5",
                unit="mg/L",
                detection_limit="0.01",
                method="GC",
                principle="gc_ms",
            ),
            actor="tester",
        )
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("v")
        await _settled(pilot)
        head = _plain(app.screen.query_one("#results-head", Static))
        assert "No results" not in head
        assert "without a round" in head
