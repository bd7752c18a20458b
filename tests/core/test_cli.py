"""The CLI: help lists everything, tables or JSON, errors on stderr with non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from incident.cli import COMMAND_MODULES, COMMAND_ROOMS, build_parser, command_word, main
from incident.demo.seed import DEMO_RIVER

ROOT = Path(__file__).resolve().parents[2]


def run(*args, env_db=None):
    return subprocess.run([sys.executable, "-m", "incident", *args], cwd=ROOT, capture_output=True, text=True)


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert len(COMMAND_MODULES) >= 2
    for name in sub.choices:
        assert name in out


def _choices(parser) -> dict:
    return next(a for a in parser._actions if a.dest == "command").choices


def test_each_command_builds_only_its_own_rooms_parsers():
    """One command line builds one room's parsers (issue 19: the whole parser costs ~20 ms a run). The
    command→room table must name every command, in the room that registers it."""
    import importlib

    from incident.cli.shell.typed import Parser

    registered = {}
    for room in COMMAND_MODULES:
        sub = Parser(prog="t").add_subparsers(dest="command")
        importlib.import_module(room).register(sub)
        registered.update(dict.fromkeys(sub.choices, room))
    assert COMMAND_ROOMS == registered
    for command, room in COMMAND_ROOMS.items():
        assert set(_choices(build_parser(command))) == {c for c, r in COMMAND_ROOMS.items() if r == room}
    assert set(_choices(build_parser("no-such-command"))) == set(COMMAND_ROOMS)  # unknown: the whole parser


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["forecast", "x.toml"], "forecast"),
        (["--db", "sqlite:///forecast.sqlite", "--lang", "zh", "result", "add"], "result"),
        (["--lock-timeout", "5", "--user", "plan", "verify", "INC"], "verify"),
        (["--db=sqlite:///a", "show"], "show"),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_command_word_skips_global_options_and_their_values(argv, word):
    assert command_word(argv) == word


def test_a_one_room_parser_reads_a_line_as_the_whole_parser_does():
    whole = build_parser()
    for argv in (
        ["--db", "sqlite:///x", "forecast", "s.toml", "--horizon", "48", "--ensemble", "100"],
        ["result", "add", "SMP-1", "--param", "cod", "--value", "12.5", "--lab"],
        ["--lang", "zh", "drill", "start", "river_chemical_spill"],
    ):
        one, every = build_parser(command_word(argv)).parse_args(argv), whole.parse_args(argv)
        assert {k: v for k, v in vars(one).items() if k != "handler"} == {
            k: v for k, v in vars(every).items() if k != "handler"
        }
        assert one.handler is every.handler


def test_river_check_prints_reaches_length_and_receptors(capsys):
    assert main(["river", "check", str(DEMO_RIVER)]) == 0
    out = capsys.readouterr().out
    assert "OK — 14 reaches" in out and "main stem 242.0 km" in out
    assert "Chengnan Waterworks intake" in out and "141.95" in out


def test_river_check_json(capsys):
    assert main(["river", "check", str(DEMO_RIVER), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["reaches"]) == 14
    w2 = next(r for r in data["receptors"] if r["id"] == "W2")
    assert w2["reach"] == "M08" and 140 < w2["km"] < 144


def test_bad_river_file_exits_2_with_message_on_stderr(tmp_path):
    bad = tmp_path / "bad.geojson"
    doc = json.loads(DEMO_RIVER.read_text())
    doc["features"][3]["properties"]["discharge_m3s"] = -370
    bad.write_text(json.dumps(doc))
    result = run("river", "check", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        "feature 3 (id M04)" in result.stderr and "discharge_m3s" in result.stderr and "fix:" in result.stderr
    )


def test_new_list_show_and_log(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert (
        main(
            [
                "--db",
                db,
                "--user",
                "duty officer",
                "new",
                "Oil sheen at Shiban",
                "--lat",
                "24.84",
                "--lon",
                "109.27",
                "--substance",
                "petroleum",
                "--class",
                "oil",
                "--mass-kg",
                "500",
                "--json",
            ]
        )
        == 0
    )
    created = json.loads(capsys.readouterr().out)
    assert created["code"].startswith("INC-") and created["source_reach"] in {"M02", "M03"}
    assert main(["--db", db, "list", "--json"]) == 0
    assert [i["code"] for i in json.loads(capsys.readouterr().out)] == [created["code"]]
    assert main(["--db", db, "log", created["code"]]) == 0
    out = capsys.readouterr().out
    assert "duty officer" in out and "incident.created" in out


def test_negative_mass_and_off_river_source_are_refused(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--db", db, "new", "x", "--mass-kg", "-5"]) == 2
    assert "negative" in capsys.readouterr().err
    assert main(["--db", db, "new", "x", "--lat", "30.0", "--lon", "100.0"]) == 2
    err = capsys.readouterr().err
    assert "from the river" in err and "WGS84" in err
    assert main(["--db", db, "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_exercises_are_not_in_the_real_list(tmp_path, capsys):
    from incident.core.clock import utcnow
    from incident.core.incidents import NewIncident, create_incident, list_incidents
    from incident.core.store.engine import open_store, session_scope

    engine = open_store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with session_scope(engine) as s:
        create_incident(s, NewIncident(title="real", alert_at=utcnow()), actor="t")
        create_incident(s, NewIncident(title="drill", alert_at=utcnow(), is_exercise=True), actor="t")
    with session_scope(engine) as s:
        assert [i.title for i in list_incidents(s)] == ["real"]
        assert [i.title for i in list_incidents(s, exercises=True)] == ["drill"]
        assert list_incidents(s, exercises=True)[0].code.startswith("EX-")


def test_new_by_reach_and_km(tmp_path, capsys):
    """`incident new --reach M03 --km 45` puts the source on that reach at that km, and its
    latitude/longitude on the river line (the demo's bridge at km 45 is 24.68539, 109.32543)."""
    from incident.core.rivers import geodesic_m

    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    args = ["--db", db, "new", "Tanker at Qiaotou", "--reach", "M03", "--km", "45", "--json"]
    assert main(args) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["source_reach"] == "M03" and created["source_km"] == 45.0
    assert main(["--db", db, "show", created["code"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert geodesic_m(shown["source_lat"], shown["source_lon"], 24.68539, 109.32543) < 300


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--reach", "M03", "--km", "99"], "is not on reach M03"),
        (["--reach", "X9", "--km", "45"], "unknown reach 'X9'"),
        (["--reach", "M03"], "only one of reach and km"),
        (["--reach", "M03", "--km", "45", "--lat", "24.68", "--lon", "109.32"], "both a reach"),
    ],
)
def test_new_by_reach_refusals(tmp_path, capsys, extra, says):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--db", db, "new", "x", *extra]) == 2
    assert says in capsys.readouterr().err
    assert main(["--db", db, "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
