"""Pilot tests of the stations screen at 80×24: latest values, sparklines and status per series; an
alert written by another writer (as `incident stations listen` would) appears live as a
notification and in the list; acknowledge, dismiss with a reason, open an incident."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable

from incident.core.config import Settings
from incident.core.store.engine import open_store, session_scope
from incident.tui.app import make_app


def _register(engine) -> None:
    from sqlmodel import select

    from incident.core.store.tables import RiverNetwork
    from incident.stations import add_station
    from tests.stations.conftest import PARAMETERS, STATIONS

    with session_scope(engine) as s:
        network = s.exec(select(RiverNetwork)).first().id
        for mn, (reach, km) in STATIONS.items():
            add_station(
                s,
                f"ST{mn}",
                actor="test",
                river_network_id=network,
                reach_id=reach,
                km=km,
                parameters=list(PARAMETERS),
            )


def _split_feed(tmp_path):
    """The spill replay in two files: before the spill (quiet) and from it on."""
    from incident.stations import parse_packet
    from tests.stations.conftest import replay_lines

    lines, truth = replay_lines(spill=True)
    cut = next(i for i, line in enumerate(lines) if parse_packet(line).data_time >= truth["spill_at"])
    before, after = tmp_path / "before.hj212", tmp_path / "after.hj212"
    before.write_text("".join(lines[:cut]), encoding="ascii")
    after.write_text("".join(lines[cut:]), encoding="ascii")
    return before, after


async def _until(pilot, check, seconds: float = 90.0) -> None:
    for _ in range(int(seconds / 0.1)):
        await pilot.pause(0.1)
        if check():
            return
    raise AssertionError("timed out waiting for the screen")


async def test_stations_screen_live_alert_ack_and_open(demo_engine, demo_code, tmp_path, monkeypatch):
    import incident.tui.screens.stations as screen_mod
    from incident.stations import alerts, ingest

    monkeypatch.setattr(screen_mod, "POLL_S", 0.3)
    _register(demo_engine)
    before, after = _split_feed(tmp_path)
    _, codes = ingest(demo_engine, before, actor="test")
    assert codes == []
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="en", user="officer"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("w")
        await _until(pilot, lambda: app.screen.query_one("#stations-table", DataTable).row_count == 6)
        table = app.screen.query_one("#stations-table", DataTable)
        row = [str(c) for c in table.get_row("STA|ammonia_nitrogen")]
        assert row[0] == "STA" and row[1] == "ammonia_nitrogen" and row[2].endswith("mg/L")
        assert len(row[3]) == 24 and set(row[3]) <= set("▁▂▃▄▅▆▇█ ")
        assert row[4] == "late"  # the replayed feed ended days ago
        assert app.screen.query_one("#alerts-table", DataTable).row_count == 0
        # another writer (its own engine, as a separate listener process) stores the spill
        other = open_store(str(demo_engine.url))
        _, codes = await asyncio.to_thread(ingest, other, after, actor="listener")
        other.dispose()
        (code,) = codes
        await _until(pilot, lambda: any(n.title == code for n in app._notifications))
        await _until(pilot, lambda: app.screen.query_one("#alerts-table", DataTable).row_count == 1)
        assert str(table.get_row("STA|ammonia_nitrogen")[4]) == "ALERT"
        alert_row = [str(c) for c in app.screen.query_one("#alerts-table", DataTable).get_row(code)]
        assert alert_row[1] == "open" and alert_row[4].startswith("M03 km")
        # the whole screen fits 80×24: every column of both tables is on screen
        assert app.screen.query_one("#alerts-table", DataTable).region.width <= 80
        await pilot.press("a")
        await _until(
            pilot,
            lambda: "acknowledged" in str(app.screen.query_one("#alerts-table", DataTable).get_row(code)[1]),
        )
        await pilot.press("o")
        await _until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")
        assert app.incident_code != demo_code
    with session_scope(demo_engine) as s:
        (row,) = alerts(s)
    assert row["status"] == "promoted" and row["incident"] == app.incident_code


async def test_dismiss_from_the_screen_asks_a_reason(demo_engine, demo_code, tmp_path):
    from incident.stations import alerts, ingest
    from tests.stations.conftest import replay_lines

    _register(demo_engine)
    lines, _ = replay_lines(spill=True)
    feed = tmp_path / "feed.hj212"
    feed.write_text("".join(lines), encoding="ascii")
    _, (code,) = ingest(demo_engine, feed, actor="test")
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="zh", user="officer"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _until(pilot, lambda: any("按 w" in str(n.message) for n in app._notifications))
        await app.run_action("alert_dismiss")  # the palette's "alert: dismiss"
        await _until(pilot, lambda: type(app.focused).__name__ == "Input")  # the reason field
        await pilot.press(*"drill", "enter")
        await _until(
            pilot,
            lambda: (
                type(app.screen).__name__ == "StationsScreen"
                and "已排除" in str(app.screen.query_one("#alerts-table", DataTable).get_row(code)[1])
            ),
        )
    with session_scope(demo_engine) as s:
        (row,) = alerts(s)
    assert row["status"] == "dismissed" and row["dismissed_reason"] == "drill"


async def test_palette_opens_the_stations_screen_with_no_data_yet(demo_engine, demo_code):
    from incident.core.i18n import t
    from incident.tui.commands import ENTRIES

    labels = {t(label) for label, _help, _action in ENTRIES}
    assert {"stations: show", "alert: acknowledge", "alert: dismiss", "alert: open incident"} <= labels
    _register(demo_engine)
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="en", user="officer"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"stations: show")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await _until(pilot, lambda: type(app.screen).__name__ == "StationsScreen")
        await _until(pilot, lambda: app.screen.query_one("#stations-table", DataTable).row_count == 6)
        table = app.screen.query_one("#stations-table", DataTable)
        assert {str(table.get_row_at(i)[4]) for i in range(6)} == {"no data"}
        await pilot.press("o")  # nothing to act on: a warning, no crash
        await pilot.pause()
        assert any("No alert selected" in str(n.message) for n in app._notifications)
        # the footer keeps to the screen's few keys
        footer_keys = [key for key, b in app.screen.active_bindings.items() if b.binding.show]
        assert set(footer_keys) >= {"a", "x", "o"} and len(footer_keys) <= 7
