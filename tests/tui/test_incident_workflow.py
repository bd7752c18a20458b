"""Open an incident by reach and km, then amend its spill, at 80×24 by keys only (en and zh)."""

from __future__ import annotations

import time

import pytest

from incident.core.config import Settings
from incident.core.incidents import get_incident, list_incidents
from incident.core.store.engine import session_scope
from incident.tui.app import make_app
from tests.tui.screen_text import screen_text


async def settle(pilot) -> None:
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot, predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            from tests.tui.screen_text import screen_text

            notes = [n.message for n in pilot.app._notifications]
            raise AssertionError(f"timed out on {screen_name(pilot)}; {notes}\n{screen_text(pilot.app)}")
        await settle(pilot)
        await pilot.pause(0.05)


def screen_name(pilot) -> str:
    return type(pilot.app.screen).__name__


def app_on(engine, code: str, user: str = "tester"):
    """The app on incident `code` of `engine`, in English, acting as `user`."""
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang="en", user=user), incident_code=code
    )


async def open_results(pilot):
    """From the dashboard: v, then wait until the results screen is up and has read its round."""
    await settle(pilot)
    await pilot.press("v")
    await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
    await settle(pilot)
    return pilot.app.screen


async def pick(pilot, steps_down: int) -> None:
    """On a focused drop-down: open it, move down, choose."""
    await pilot.press("enter", *(["down"] * steps_down), "enter")


async def open_incident_by_reach_and_km(
    pilot, title: str = "Tanker at Qiaotou", start: str | None = None
) -> None:
    """From the incident list: n, then the form by keys (reach M03 is the 4th choice, after
    "by latitude/longitude", M01 and M02; nitrobenzene the 2nd pollutant, after "not known")."""
    await until(pilot, lambda: screen_name(pilot) == "IncidentListScreen")
    await pilot.press("n")
    await until(pilot, lambda: screen_name(pilot) == "NewIncidentForm")
    await settle(pilot)
    await pilot.press(*title, "tab", "tab")  # title; river (the only one); reach
    await pick(pilot, 3)
    await pilot.press("tab", *"45", "tab", "tab", "tab")  # km; latitude and longitude stay empty
    await pick(pilot, 1)
    await pilot.press("tab", *"8000", "tab")  # mass
    if start is not None:  # the start field holds "now": replace it
        await pilot.press("end", "ctrl+u", *start)
    await pilot.press("tab", *"0.5", "enter")  # duration
    await until(pilot, lambda: screen_name(pilot) == "DashboardScreen")


async def amend_mass(pilot, new_mass: str, reason: str) -> None:
    await pilot.press("a")  # on the dashboard: amend the spill
    await until(pilot, lambda: screen_name(pilot) == "FormDialog")
    await settle(pilot)
    await pilot.press(*["backspace"] * 4, *new_mass, "tab", "tab", "tab", *reason, "enter")
    await until(pilot, lambda: screen_name(pilot) == "SpillChangeDialog")


def _app(engine, lang):
    return make_app(engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"))


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_new_incident_by_reach_and_km_then_amend_the_mass(engine, lang):
    app = _app(engine, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_incident_by_reach_and_km(pilot)
        with session_scope(engine) as s:
            (inc,) = list_incidents(s)
            code = inc.code
            assert (inc.source_reach, inc.source_km) == ("M03", 45.0)
            assert (inc.substance, inc.pollutant_class, inc.mass_kg) == ("nitrobenzene", "organic", 8000)
            assert inc.release_duration_h == 0.5 and inc.source_lat is not None
        assert app.incident_code == code

        await amend_mass(pilot, "16000", "weighbridge ticket")
        text = screen_text(app)
        intake = "W1 Xishan" if lang == "en" else "W1 西山"
        assert intake in text
        assert "8,000 kg" in text and "16,000 kg" in text
        await pilot.press("enter")
        await settle(pilot)
        assert screen_name(pilot) == "DashboardScreen"
        with session_scope(engine) as s:
            assert get_incident(s, code).mass_kg == 16000


async def test_km_off_the_reach_is_refused_inline(engine):
    from textual.widgets import Static

    app = _app(engine, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen_name(pilot) == "IncidentListScreen")
        await pilot.press("n")
        await until(pilot, lambda: screen_name(pilot) == "NewIncidentForm")
        await settle(pilot)
        await pilot.press(*"x", "tab", "tab")
        await pick(pilot, 3)  # M03: km 38–57
        await pilot.press("tab", *"99")
        for _ in range(7):
            await pilot.press("tab")
        await pilot.press("enter")  # OK
        await settle(pilot)
        form = app.screen
        assert screen_name(pilot) == "NewIncidentForm"
        assert "km 99 is not on reach M03" in str(form.query_one("#error-source_km", Static).render())
        with session_scope(engine) as s:
            assert list_incidents(s) == []
