"""Scenario files (clear refusals), the AAR/IP export with the exercise marker, the CLI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from incident.cli import main
from incident.core.errors import UserError, ValidationErrors
from incident.core.store.engine import session_scope
from incident.drills.aar import export_aar
from incident.drills.scenario import load_drill_scenario
from incident.reports.render import EXERCISE_MARK

from .conftest import SCENARIO, propose


def test_shipped_scenario_loads():
    sc = load_drill_scenario(SCENARIO)
    assert sc.playbook == "heavy_metal_intake" and sc.speed == 10
    assert [i.at_min for i in sc.injects] == [5, 25, 40, 70]
    assert sc.truth.mass_kg == 900 and sc.reported.mass_kg == 300
    assert {t.metric for t in sc.targets} >= {
        "depart",
        "on_site",
        "first_flash_report",
        "forecast_arrival_error:W1",
    }


def _write(tmp_path: Path, text: str) -> Path:
    src = SCENARIO.read_text()
    path = tmp_path / "bad.toml"
    path.write_text(text(src) if callable(text) else text)
    # the river path is relative to the scenario file
    path.write_text(
        path.read_text().replace(
            '"../demo/jade_river.geojson"', f'"{SCENARIO.parent.parent / "demo" / "jade_river.geojson"}"'
        )
    )
    return path


def test_refusals_name_the_file_table_and_field(tmp_path):
    path = _write(
        tmp_path,
        lambda s: (
            s.replace("mass_kg = 900", 'mass_kg = "9OO"')
            .replace('reach = "M03"', 'reach = "M99"')
            .replace('metric = "on_site"', 'metric = "on_sight"')
            .replace("at_min = 25", "at_min = -5")
        ),
    )
    with pytest.raises(ValidationErrors) as err:
        load_drill_scenario(path)
    text = str(err.value)
    assert "4 problem(s), the drill was not started" in text
    lines = path.read_text().splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, start=1) if fragment in line)

    mass_line = line_of('mass_kg = "9OO"')
    assert f"{path}, line {mass_line}, truth.mass_kg: '9OO' is not a number" in text
    assert f"line {line_of('M99')}, truth.reach: unknown reach 'M99'" in text and "use one of M01" in text
    assert f"line {line_of('on_sight')}, target[2].metric: unknown metric 'on_sight'" in text
    assert f"line {line_of('at_min = -5')}, inject[2].at_min: is -5; it must be at least 0" in text


def test_a_rapid_method_needs_its_instrument(tmp_path):
    path = _write(tmp_path, lambda s: s.replace('instrument = "INS-HM-01"\n', ""))
    with pytest.raises(
        UserError, match=r", line \d+, lab.method\[1\].instrument: asv_portable is a rapid method"
    ):
        load_drill_scenario(path)


def _sections(html: str) -> list[ET.Element]:
    root = ET.fromstring(html.split("\n", 1)[1])  # well-formed XHTML after the doctype
    ns = "{http://www.w3.org/1999/xhtml}"
    return [el for el in root.iter(ns + "section")]


def test_aar_carries_the_exercise_marker_everywhere_and_reveals_the_truth(demo_engine, drill, wall, tmp_path):
    propose(demo_engine, drill)
    wall.advance(minutes=5)
    with session_scope(demo_engine) as s:
        from incident.drills.metrics import add_corrective_action, rate

        rate(s, drill, "Mobilisation", "S", evaluator="Wang", strengths="Fast call-out")
        add_corrective_action(
            s,
            drill,
            "Mobilisation",
            "Pre-pack the heavy-metal kit",
            owner="Store",
            due="2027-01-15",
            actor="Wang",
        )
        html = export_aar(s, drill, tmp_path / "aar.html", actor="Wang").read_text()
        md = export_aar(s, drill, tmp_path / "aar.md", actor="Wang").read_text()
        zh = export_aar(s, drill, tmp_path / "aar-zh.html", actor="Wang", lang="zh").read_text()
        with pytest.raises(UserError, match="cannot tell the format"):
            export_aar(s, drill, tmp_path / "aar.pdf", actor="Wang")
    sections = _sections(html)
    assert len(sections) >= 8  # 7 parts + signatures
    ns = "{http://www.w3.org/1999/xhtml}"
    for sec in sections:
        marks = [p for p in sec.iter(ns + "p") if p.get("class") == "exercise-mark"]
        assert marks and marks[0].text == EXERCISE_MARK, sec.get("id")
    # the fixed banner repeats on every printed page, top and bottom
    assert html.count('class="exercise-banner exercise-top"') == 1
    assert html.count('class="exercise-banner exercise-bottom"') == 1
    assert re.search(r"\.exercise-banner \{ position: fixed;", html)
    assert "900 kg" in html and "300 kg" in html and "M03 km 50" in html  # truth revealed after the drill
    assert "Pre-pack the heavy-metal kit" in html and "2027-01-15" in html and "Fast call-out" in html
    # Markdown: first line, under every heading, and at the end
    assert md.splitlines()[0].startswith(f"**{EXERCISE_MARK}**")
    parts = md.split("\n## ")[1:]
    assert parts and all(f"**\\[{EXERCISE_MARK}\\]**" in part for part in parts)
    assert md.rstrip().endswith(f"**{EXERCISE_MARK}**")
    assert "演练总结报告/改进计划" in zh and all(
        any(p.get("class") == "exercise-mark" for p in sec.iter(ns + "p")) for sec in _sections(zh)
    )


def test_cli_drill_round_trip(demo_engine, wall, tmp_path, capsys):
    url = str(demo_engine.url)
    assert main(["--db", url, "drill", "start", str(SCENARIO), "--speed", "20", "--json"]) == 0
    code = json.loads(capsys.readouterr().out)["code"]
    assert code.startswith("EX-")
    assert main(["--db", url, "drill", "start", str(SCENARIO), "--speed", "9999"]) == 2
    assert "--speed: speed ×9999 is not playable" in capsys.readouterr().err
    propose(demo_engine, code)
    wall.advance(minutes=2)  # T+40 at ×20
    assert main(["--db", url, "drill", "tick", code]) == 0
    out = capsys.readouterr().out
    assert "INJECT T+00:05" in out and "INJECT T+00:40" in out and "T+01:10" not in out
    assert main(["--db", url, "drill", "sample", code, "--point", "S4", "--sampler", "Li"]) == 0
    assert "result due at" in capsys.readouterr().out
    assert main(["--db", url, "drill", "sample", code, "--point", "S99"]) == 2
    assert "no point 'S99'" in capsys.readouterr().err
    wall.advance(minutes=1)
    assert main(["--db", url, "drill", "tick", code]) == 0
    assert "RESULT" in capsys.readouterr().out
    assert main(["--db", url, "drill", "mark", code, "depart"]) == 0
    assert main(["--db", url, "drill", "rate", code, "Mobilisation", "P", "--evaluator", "Wang"]) == 0
    assert (
        main(
            [
                "--db",
                url,
                "drill",
                "action",
                code,
                "First data",
                "Faster courier",
                "--owner",
                "Lab",
                "--due",
                "2027-02-01",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["--db", url, "drill", "status", code, "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert {m["name"] for m in st["timeline"] if m["value"] is not None} >= {
        "alert",
        "depart",
        "on_site",
        "first_sample",
        "first_data",
    }
    assert main(["--db", url, "drill", "aar", code, "-o", str(tmp_path / "aar.md")]) == 0
    text = (tmp_path / "EXERCISE-aar.md").read_text()  # an exercise's export says so in its file name
    assert EXERCISE_MARK in text.splitlines()[0] or EXERCISE_MARK in text
    assert main(["--db", url, "drill", "end", code]) == 0
    assert main(["--db", url, "drill", "compare", "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert code in out and "P/S/M/U" in out
    assert main(["--db", url, "drill", "tick", "INC-2026-0001"]) == 2
    assert "is not a drill" in capsys.readouterr().err
