"""Drill fixtures: a controllable wall clock and a drill started on the demo store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident.core import clock

SCENARIO = Path(__file__).resolve().parents[2] / "incident" / "data" / "drills" / "jade_cadmium_night.toml"


class WallClock:
    """The wall clock the services read (clock.utcnow), moved by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        self.at += timedelta(minutes=minutes, seconds=seconds)


@pytest.fixture
def wall(monkeypatch) -> WallClock:
    w = WallClock(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))  # 01:30 local: a night drill
    monkeypatch.setattr(clock, "_now_provider", w)
    return w


@pytest.fixture
def drill(demo_engine, wall) -> str:
    """A drill of the shipped scenario at ×10, started at ``wall``."""
    from incident.core.store.engine import session_scope
    from incident.drills.control import start_drill

    with session_scope(demo_engine) as s:
        return start_drill(s, SCENARIO, actor="controller", speed=10).code


def propose(engine, code: str) -> list:
    """The players' first forecast (logged) and the monitoring plan proposed from it."""
    from incident.core.store.engine import session_scope
    from incident.plume import forecast_incident, store_forecast
    from incident.sampling.plans import propose_plan

    with session_scope(engine) as s:
        fc = forecast_incident(s, code)
        store_forecast(s, code, fc, actor="plan lead")
        view, _ = propose_plan(s, code, fc, actor="plan lead")
        return view.active_points
