"""The results screen after [ ] (round) and c (water class), issue 19: it shows what the results
room says for that round and class, the same rows, values and marks as a results screen opened
afresh on that round and class (equivalence of the fast update with the full build, not timing)."""

from __future__ import annotations

import gc

from rich.text import Text
from textual.widgets import DataTable, Static

import incident.results as results
from incident.core.store.engine import session_scope
from incident.tui.screens.results import ResultsScreen, parameter_label
from tests.tui.screen_text import screen_text
from tests.tui.test_incident_workflow import app_on, open_results, settle, until
from tests.tui.test_zh_screens import flagged_demo  # noqa: F401 - fixture

# (point, round, parameter, value, rapid): lead 0.03 is over class I–II only (0.01; 0.05 from III),
# cadmium 0.007 over I–IV (0.001, 0.005), not V (0.01); a rapid cadmium 0.003 stays suspected (over in I)
RESULTS = [
    ("S1", 1, "lead", "0.03", False),
    ("S1", 1, "cadmium", "0.0005", False),
    ("S2", 1, "lead", "0.004", False),
    ("S2", 1, "cadmium", "0.007", False),
    ("S1", 2, "lead", "0.06", False),
    ("S2", 2, "cadmium", "0.002", False),
    ("S3", 2, "cadmium", "0.003", True),
    ("S3", 2, "nitrobenzene", "0.4", False),
    ("S2", 3, "lead", "0.02", False),  # round 3 has other columns: the table is built anew
]


def _add_results(engine, code) -> None:
    from tests.results.test_results import lab, sample

    with session_scope(engine) as s:
        samples: dict[tuple[str, int], str] = {}
        for point, rnd, param, value, rapid in RESULTS:
            if (point, rnd) not in samples:
                samples[(point, rnd)] = sample(s, code, point=point, rnd=rnd).code
            extra = (
                dict(method="asv_portable", instrument="INS-HM-01") if rapid else dict(method="hj700_icpms")
            )
            results.add_result(
                s,
                code,
                lab(samples[(point, rnd)], value, param=param, detection_limit="0.0001", **extra),
                actor="t",
            )


def _content(screen: ResultsScreen) -> tuple:
    """What the table and the panels around it show: column labels, rows, each cell's text and
    style, the head line and the flag box."""
    table = screen.query_one(DataTable)
    columns = [(str(c.key.value), str(c.label)) for c in table.ordered_columns]
    rows = []
    for row in table.ordered_rows:
        cells = []
        for cell in table.get_row(row.key):
            text = cell if isinstance(cell, Text) else Text.from_markup(cell)
            cells.append((text.plain, str(text.style)))
        rows.append((str(row.key.value), cells))
    head = str(screen.query_one("#results-head", Static).content)
    flag = screen.query_one("#results-flag", Static)
    return columns, rows, head, (str(flag.content), flag.display)


def _expected_rows(engine, code: str, rnd: int, water_class: str) -> tuple[list, list]:
    """The table the results room's round table makes, marked as the screen marks it."""
    with session_scope(engine) as s:
        rt = results.round_table(s, code, rnd, water_class=water_class)
    columns = [("point", "Point")] + [(p, parameter_label(p)) for p in rt.parameters]
    rows = []
    for pt in rt.points:
        cells = [(pt, "")]
        for p in rt.parameters:
            c = rt.cells.get((pt, p))
            if c is None:
                cells.append(("—", "dim"))
                continue
            held = any(r.held for r in c.records)
            style = (
                "bold red"
                if c.exceeds
                else ("black on yellow" if held else ("yellow" if c.suspected else ""))
            )
            cells.append((c.text, style))
        rows.append((pt, cells))
    return columns, rows


async def _fresh(pilot, code: str, rnd: int, water_class: str) -> tuple[tuple, str]:
    """The content and the terminal text of a results screen opened on this round and class."""
    app = pilot.app
    app.push_screen(ResultsScreen(code, round_number=rnd, water_class=water_class))
    await until(pilot, lambda: isinstance(app.screen, ResultsScreen) and app.screen.table_data is not None)
    await settle(pilot)
    out = _content(app.screen), screen_text(app)
    app.pop_screen()
    await settle(pilot)
    return out


async def test_round_and_class_keys_show_what_a_fresh_screen_shows(demo_engine, demo_code, flagged_demo):  # noqa: F811
    _add_results(demo_engine, demo_code)
    app = app_on(demo_engine, demo_code)
    seen: set[tuple[int, str]] = set()
    flags_seen = 0
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        assert isinstance(screen, ResultsScreen) and screen.table_data is not None
        assert screen.table_data.rounds == [1, 2, 3] and screen.table_data.round == 3
        # every class and every round, and the selected row's flags (S4 holds a flagged result in round 1):
        # twice round the keys is four class changes, III to II, so every class is seen (and 8 views were
        # updated in place, 4 built anew)
        back, ahead = ["left_square_bracket"] * 2, ["right_square_bracket"] * 2
        table = screen.query_one(DataTable)
        in_place = rebuilt = 0
        for key in [*back, "down", "down", "down", "c", *ahead, "c"] * 2:
            before = (screen.table_data.round, screen.table_data.water_class)
            columns_before = list(table.columns.values())
            await pilot.press(key)
            await settle(pilot)
            rt = screen.table_data
            assert rt is not None
            if key != "down":
                assert (rt.round, rt.water_class) != before
                now = list(table.columns.values())  # the same column objects: updated in place
                kept = len(now) == len(columns_before) and all(
                    a is b for a, b in zip(now, columns_before, strict=True)
                )
                in_place, rebuilt = in_place + kept, rebuilt + (not kept)
            assert rt.round is not None
            seen.add((rt.round, rt.water_class))
            got = _content(screen)
            columns, rows = _expected_rows(demo_engine, demo_code, rt.round, rt.water_class)
            assert got[0] == columns and got[1] == rows
            assert f"Round {rt.round} · Class {rt.water_class}" in got[2]
            if key != "down":  # a new round or class starts on the first row, as a fresh screen does
                text = screen_text(app)
                assert await _fresh(pilot, demo_code, rt.round, rt.water_class) == (got, text)
            if screen.selected_point() == "S4" and rt.round == 1:
                assert "! result #" in got[3][0] and got[3][1]
                flags_seen += 1
            elif key != "down":
                assert got[3] == ("", False)  # the first row, S1, holds no flagged result
        assert flags_seen == 2
        assert gc.isenabled()  # paused for each key's answer only
        assert in_place >= 6 and rebuilt >= 3  # both ways of showing a round are checked
        assert {c for _, c in seen} == {"I", "II", "III", "IV", "V"} and {r for r, _ in seen} == {1, 2, 3}
        # the marks differ between classes: lead 0.03 at S1 in round 1 is over in class I, not III
        assert any("bold red" in s for _, s in _cell_styles(demo_engine, demo_code, 1, "I", "S1", "lead"))
        assert not any(
            "bold red" in s for _, s in _cell_styles(demo_engine, demo_code, 1, "III", "S1", "lead")
        )
        assert _cell_styles(demo_engine, demo_code, 2, "III", "S3", "cadmium")[0][1] == "yellow"  # suspected


def _cell_styles(engine, code, rnd, water_class, point, param) -> list[tuple[str, str]]:
    columns, rows = _expected_rows(engine, code, rnd, water_class)
    index = [k for k, _ in columns].index(param)
    return [cells[index] for pt, cells in rows if pt == point]


async def test_a_view_read_ahead_is_read_again_when_shown(demo_engine, demo_code, flagged_demo):  # noqa: F811
    """[ shows round 1 as read ahead at once, then reads it again: a result logged in between
    (by another user) is on screen once the key's reads are done."""
    from tests.results.test_results import lab, sample

    _add_results(demo_engine, demo_code)
    app = app_on(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        assert isinstance(screen, ResultsScreen)
        await pilot.press("left_square_bracket")  # round 2, read ahead
        await settle(pilot)
        assert (1, "III") in screen._read_ahead  # round 1 is read ahead
        with session_scope(demo_engine) as s:
            results.add_result(
                s,
                demo_code,
                lab(sample(s, demo_code, point="S5", rnd=1).code, "0.0321", param="lead"),
                actor="t",
            )
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.table_data is not None and screen.table_data.round == 1
        table = screen.query_one(DataTable)
        assert table.get_cell("S5", "lead").plain.startswith("0.0321 mg/L")
        assert _content(screen)[:2] == _expected_rows(demo_engine, demo_code, 1, "III")
