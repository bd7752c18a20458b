"""Layout at 80×24 and 120×40: the dashboard never hides a drinking-water intake; clock times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident.core.clock import fmt_when, frozen
from incident.core.config import Settings
from incident.tui.app import make_app
from tests.tui.screen_text import screen_text
from tests.tui.test_incident_workflow import settle

INTAKES = {
    "en": ["Xishan Waterworks intake", "Chengnan Waterworks intake", "Dongjiang Town intake"],
    "zh": ["西山水厂取水口", "城南水厂取水口", "东江镇取水口"],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size, all_shown", [((80, 24), False), ((120, 40), True)])
async def test_dashboard_shows_every_intake(demo_engine, demo_code, lang, size, all_shown):
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang=lang, user="t"),
        incident_code=demo_code,
    )
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        text = screen_text(app)
        for name in INTAKES[lang]:
            assert name.replace(" ", "") in text.replace(" ", "")
        station = "Estuary automatic station" if lang == "en" else "入江口水质自动站"
        assert (station.replace(" ", "") in text.replace(" ", "")) == all_shown


def test_fmt_when_wall_clock_with_date_when_not_today_and_relative():
    now = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # 10:00 local (UTC+8)
    with frozen(now):
        assert fmt_when(now + timedelta(hours=3, minutes=20)) == "13:20 (in 3h20)"
        assert fmt_when(now - timedelta(minutes=45)) == "09:15 (45m ago)"
        assert fmt_when(now + timedelta(hours=16)) == "07-02 02:00 (in 16h00)"
        assert fmt_when(now + timedelta(days=3)) == "07-04 10:00 (in 3d 0h)"
        assert fmt_when(now - timedelta(days=400)).startswith("2025-05-27 10:00")
        assert fmt_when(now, relative=False) == "10:00"
