"""The registry of fuzzed parsers and input fields.

Adding a parser is a few lines: a strategy for its input and a call that
feeds it. ``test_fuzz.py`` runs every target; the contract is the same for
all: the call returns, or raises ``UserError`` with a message naming where and
what. Anything else (a traceback) fails the test with the falsifying input.

    @target("playbook TOML", toml_documents(read_demo_toml("playbooks/river_chemical_spill.toml")))
    def _(text: str, ctx: FuzzContext) -> None:
        load_playbook_text(text)           # or: ctx.write(text, "pb.toml") for loaders taking a path

``ctx`` offers ``ctx.write(text, name)`` (a file in a temporary folder) and
``ctx.session()`` (a session on a database holding the demo, rolled back
after each example).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlmodel import Session

from incident.core.errors import UserError
from incident.demo.seed import DEMO_INVENTORY, DEMO_RIVER, DEMO_ROSTER
from tests.fuzz.cli_lines import DRILL, FileArg, Ref, cli_parser, command_lines, weighted
from tests.fuzz.strategies import (
    csv_bytes,
    csv_documents,
    json_documents,
    nasty_floats,
    nasty_ints,
    nasty_text,
    text_documents,
    to_toml,
    toml_documents,
    typed_numbers,
)


@dataclass
class FuzzContext:
    tmp: Path
    engine: Any  # a database holding the demo
    db_url: str
    empty_engine: Any = None  # a migrated database with no rows
    inventory_engine: Any = None  # the demo inventory only (what a roster refers to)
    reached: int = 0  # examples that got past the target's front door (see Target.reach)
    cache: dict[str, Any] = dataclasses.field(default_factory=dict)  # a target's set-up, made once per run

    def write(self, text: str | bytes, name: str) -> Path:
        path = self.tmp / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        return path

    @contextlib.contextmanager
    def session(self, db: str = "demo") -> Iterator[Session]:
        """A session rolled back after the example, on the ``demo``, ``empty`` or ``inventory`` database."""
        engine = {"demo": self.engine, "empty": self.empty_engine, "inventory": self.inventory_engine}[db]
        with Session(engine) as s:
            try:
                yield s
            finally:
                s.rollback()


@dataclass
class Target:
    name: str
    strategy: st.SearchStrategy
    call: Callable[[Any, FuzzContext], Any]
    examples_factor: float = 1.0  # for slow targets: a share of the CI profile's max_examples
    examples: tuple = ()  # inputs always tried (regressions found by long runs)
    located: bool = True  # every refusal names where (UserError.where, or each problem's)
    seeds: Callable[[], list] | None = None  # valid inputs the call accepts (the mutations start from them)
    reach: str = ""  # what ctx.reached counts, when the call counts it (printed in the [fuzz] line)


TARGETS: list[Target] = []
DEMO: dict[str, Any] = {}  # filled by the test's fixture: demo incident code, sample codes, inventory CSV


def target(
    name: str,
    strategy: st.SearchStrategy,
    *,
    examples_factor: float = 1.0,
    examples: tuple = (),
    located: bool = True,
    seeds: Callable[[], list] | None = None,
    reach: str = "",
):
    def register(fn: Callable[[Any, FuzzContext], Any]):
        TARGETS.append(Target(name, strategy, fn, examples_factor, examples, located, seeds, reach))
        return fn

    return register


def read_demo_toml(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


# ---------------------------------------------------------------- river GeoJSON


@target("river GeoJSON (parse_river)", json_documents(json.loads(DEMO_RIVER.read_text(encoding="utf-8"))))
def _river(text: str, ctx: FuzzContext) -> None:
    from incident.core.rivers import parse_river

    net = parse_river(text, source="fuzz.geojson")
    lon, lat = net.reaches[0].coords[0]  # whatever it accepts must be usable
    net.snap(lat, lon)


@target("river file bytes (load_river_file)", st.binary(max_size=300))
def _river_bytes(data: bytes, ctx: FuzzContext) -> None:
    from incident.core.rivers import load_river_file

    load_river_file(ctx.write(data, "river.geojson"))


# ---------------------------------------------------------------- roster and inventory files


_ROSTER_DUP = read_demo_toml(DEMO_ROSTER)
_ROSTER_DUP["crew"][0]["members"] = ["r01", "r01"]
_INVENTORY_FAR = read_demo_toml(DEMO_INVENTORY)
_INVENTORY_FAR["equipment"][0]["calibration"][0].update(last_done="9999-12-01", interval_days=90)


@target(
    "roster TOML (load_roster)",
    toml_documents(read_demo_toml(DEMO_ROSTER)),
    examples=(to_toml(_ROSTER_DUP),),  # found by the long run: a member twice
)
def _roster(text: str, ctx: FuzzContext) -> None:
    from incident.sampling.roster import load_roster

    path = ctx.write(text, "roster.toml")
    with ctx.session("inventory") as s:  # crews refer to vehicles and kits
        load_roster(s, path, actor="fuzz")


@target(
    "inventory TOML (load_inventory)",
    toml_documents(read_demo_toml(DEMO_INVENTORY)),
    examples=(to_toml(_INVENTORY_FAR),),  # found by the long run: next due date past 9999
)
def _inventory(text: str, ctx: FuzzContext) -> None:
    from incident.readiness.inventory import load_inventory

    path = ctx.write(text, "inventory.toml")
    with ctx.session("empty") as s:
        load_inventory(s, path, actor="fuzz")


# ---------------------------------------------------------------- incident creation fields


@st.composite
def incident_specs(draw):
    from incident.core.incidents import MEDIA, POLLUTANT_CLASSES, NewIncident

    maybe = lambda strat: st.one_of(st.none(), strat)  # noqa: E731
    return NewIncident(
        title=draw(nasty_text),
        alert_at=draw(st.datetimes(timezones=st.just(UTC))),
        medium=draw(st.one_of(st.sampled_from(MEDIA), nasty_text)),
        source_lat=draw(maybe(st.one_of(nasty_floats, st.floats(24.5, 24.9)))),
        source_lon=draw(maybe(st.one_of(nasty_floats, st.floats(109.1, 109.5)))),
        substance=draw(maybe(nasty_text)),
        pollutant_class=draw(maybe(st.one_of(st.sampled_from(POLLUTANT_CLASSES), nasty_text))),
        mass_kg=draw(maybe(nasty_floats)),
        release_duration_h=draw(maybe(nasty_floats)),
        decay_per_day=draw(maybe(nasty_floats)),
        description=draw(nasty_text),
    )


def _spec(**kw):
    from incident.core.incidents import NewIncident

    return NewIncident(title="t", alert_at=datetime(2026, 7, 1, tzinfo=UTC), **kw)


@target(
    "incident fields (create_incident)",
    incident_specs(),
    examples=(  # found by the long run: geopy and math.cos raised on these
        _spec(source_lat=math.inf, source_lon=0.0),
        _spec(source_lat=91.0, source_lon=0.0),
        _spec(source_lat=0.0, source_lon=math.inf),
        _spec(mass_kg=math.nan),
    ),
)
def _incident(spec, ctx: FuzzContext) -> None:
    from sqlmodel import select

    from incident.core.incidents import create_incident
    from incident.core.store.tables import RiverNetwork

    with ctx.session() as s:
        spec.river_network_id = s.exec(select(RiverNetwork.id)).first()
        create_incident(s, spec, actor="fuzz")


# ---------------------------------------------------------------- times


@target(
    "local time (clock.parse_local)",
    st.one_of(nasty_text, st.datetimes().map(str), st.dates().map(str)),
    # found by the long run: year 1 before 08:00 local, or 9999-12-31 in UTC, raised OverflowError
    examples=("0001-01-01 03:00", "9999-12-31T23:00+00:00"),
)
def _parse_local(text: str, ctx: FuzzContext) -> None:
    from incident.core.clock import parse_local

    parsed = parse_local(text)
    assert parsed.tzinfo is not None and parsed.utcoffset().total_seconds() == 0
    assert isinstance(parsed, datetime)


# ---------------------------------------------------------------- backup files


@target(
    "backup file (incident backup import)",
    st.one_of(
        st.binary(max_size=300),
        json_documents(
            {
                "format": "incident-backup",
                "version": 1,
                "code": "INC-2026-0001",
                "chain_head": {"chain": "incident:INC-2026-0001", "seq": 1, "hash": "0" * 64},
            }
        ),
    ),
)
def _backup(data, ctx: FuzzContext) -> None:
    from incident.evidence.backup import import_backup

    path = ctx.write(data, "backup.jsonl")
    with ctx.session() as s:
        import_backup(s, path, actor="fuzz")


# ---------------------------------------------------------------- command-line arguments

CLI_WORDS = [
    "list", "show", "new", "log", "verify", "backup", "export", "import", "db", "upgrade", "current",
    "river", "check", "snap", "demo", "--json", "--alert", "--lat", "--lon", "--mass-kg", "--duration-h",
    "--substance", "--class", "--medium", "--head", "-o", "--force", "--exercises", "--lang", "--user",
    "INC-2026-0001", "1", "-1", "nan", "inf", "1e999", "2026-07-01 10:00", "water", "organic", "zh",
    "missing.geojson", "out.jsonl", "1:" + "a" * 64,
]  # fmt: skip
# never: tui (opens the UI), serve (opens a port), --help/--version or their abbreviations (exit 0
# by design)


def _asks_help_or_version(word: str) -> bool:
    """Words argparse answers with a page and exit 0, by design, wherever they stand: ``-h…``, and
    ``--help`` or ``--version`` or any abbreviation of them (``--v``)."""
    return word.startswith("-h") or (
        len(word) > 2 and ("--help".startswith(word) or "--version".startswith(word))
    )


def _cli_store(ctx: FuzzContext) -> str:
    """The CLI target's own copy of the demo store (its commands write: terminate, add results…;
    the other targets, which share the demo store, must not see those rows), with a running drill
    and a result, so that the commands on them get past "no such …" (reports: the drawn lines'
    own `report draft` makes them)."""
    if "cli_db_url" not in ctx.cache:
        import re
        import sqlite3

        from incident.cli import main

        dst_path = ctx.tmp / "cli-demo.sqlite"
        with (
            contextlib.closing(sqlite3.connect(ctx.db_url.removeprefix("sqlite:///"))) as src,
            contextlib.closing(sqlite3.connect(dst_path)) as dst,
        ):
            src.backup(dst)
        db = ["--db", f"sqlite:///{dst_path}"]
        (ctx.tmp / "home").mkdir(exist_ok=True)
        sample = DEMO["samples"][0]
        result = ["--param", "nitrobenzene", "--value", "0.012", "--dl", "0.0005", "--method", "hj648_gc"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), _incident_home(ctx.tmp / "home"):
            assert main([*db, "drill", "start", str(DRILLS_DIR / "jade_cadmium_night.toml")]) == 0
            assert main([*db, "result", "add", sample, *result]) == 0
        found = re.search(r"EX-\d{4}-\d{4}", out.getvalue())
        assert found, out.getvalue()
        ctx.cache.update(cli_db_url=db[1], drill=found.group())
    return ctx.cache["cli_db_url"]


@contextlib.contextmanager
def _incident_home(folder: Path) -> Iterator[None]:
    """$INCIDENT_HOME in the example's folder (logout, whoami: never the user's data folder)."""
    import os

    before = os.environ.get("INCIDENT_HOME")
    os.environ["INCIDENT_HOME"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            del os.environ["INCIDENT_HOME"]
        else:
            os.environ["INCIDENT_HOME"] = before


@target(
    "CLI arguments (incident ...)",
    # mostly lines built from the parser (they reach the handlers), a fifth free words (argparse's errors)
    weighted(
        (4, st.deferred(command_lines)),
        (1, st.lists(st.one_of(st.sampled_from(CLI_WORDS), nasty_text), max_size=7)),
    ),
    located=False,  # refusals arrive as printed text; the services' own targets check `where`
    # found by the long run: an abbreviated --version (argparse prints the version, exit 0) was taken
    # for a refusal without a message; such words are now left out like --help
    examples=(
        ["--v"],
        ["list", "--vers"],
        ["show", "INC-2026-0001", "-h"],
        # found by the grammar lines: a latitude past the pole raised ValueError in the geodesic;
        ["river", "snap", str(DEMO_RIVER), "100", "0"],
        ["river", "snap", str(DEMO_RIVER), "24.7", "-1e9"],
        ["trace", ".", "--river", str(DEMO_RIVER)],  # a folder for the CSV raised IsADirectoryError
        # a typed horizon or plume time of 100,000 h, and intermediate sections 1e-9 km apart, ran for
        # minutes (forecasts cover 30 days; sections are at least 0.5 km apart)
        ["export", "geojson", "INC-2026-0001", "--at", "100000", "-o", "x.geojson"],
        ["plan", "propose", "INC-2026-0001", "--spacing-km", "1e-9"],
        ["due", "--on", "9999-12-31"],  # a horizon past the calendar's end raised OverflowError
        ["due", "--weeks", "999999999"],
        ["backup", "export", DRILL, "-o", ".", "--force"],  # an exercise's export to a folder: ValueError
        ["drill", "aar", DRILL, "-o", ""],
        # --out a folder or in a missing folder raised IsADirectoryError / FileNotFoundError
        [
            "dispersion",
            "--csv",
            str(DEMO_RIVER.parents[1] / "dispersion" / "us_rivers_tracer.csv"),
            "--out",
            ".",
        ],
        # numbers far outside any river printed "Kx nan" (an overflow), not a refusal
        [
            "dispersion",
            "--width",
            "1e-300",
            "--depth",
            "1e-300",
            "--velocity",
            "1e12",
            "--shear-velocity",
            "1e-300",
        ],
        ["seal", "--output", "."],  # ValueError: PosixPath('.') has an empty name
        ["drill", "start", FileArg("bad.toml", b"\xff\xfe\x00\x81")],  # read_toml: UnicodeDecodeError
        ["new", "caf\udce9 spill"],  # a word from a GBK terminal raised UnicodeEncodeError in SQLite
        ["stock", "strips", "--delta", "1", "--reason", "\udcff"],
    ),
    reach="reached a command's handler",
)
def _cli(line: list, ctx: FuzzContext) -> None:
    from incident.cli import _not_utf8, main

    parser = cli_parser()
    db_url = _cli_store(ctx)
    argv = [
        str(ctx.write(w.content, w.name)) if isinstance(w, FileArg) and w.content is not None
        else str(ctx.tmp / w.name) if isinstance(w, FileArg)
        else ctx.cache[w.key] if isinstance(w, Ref)
        else w
        for w in line
    ]  # fmt: skip
    argv = [a for a in argv if not _asks_help_or_version(a)]
    if not argv or argv[0] in ("tui", "serve"):
        argv = ["list", *argv[1:]] if argv else ["list"]
    if any(a in ("tui", "serve") for a in argv):
        return
    err = io.StringIO()
    try:
        with (
            contextlib.redirect_stderr(err),
            contextlib.redirect_stdout(io.StringIO()),
            _incident_home(ctx.tmp / "home"),
        ):
            # argparse may dispatch to `tui` when no command is given: check first
            try:
                ns = parser.parse_args(["--db", db_url, *argv])
            except UserError:
                ns = None  # a number flag refused while parsing: main says so, exit 2
            if ns is not None and getattr(ns, "handler", None) is None:
                return
            if ns is not None and _not_utf8(argv) is None:
                ctx.reached += 1  # argparse accepted the line: main runs the command's handler
            code = main(["--db", db_url, *argv], parser=parser)
    except SystemExit as exc:  # argparse refusing: exit 2 with a usage message
        assert exc.code == 2 and "error:" in err.getvalue(), err.getvalue()
        return
    assert code in (0, 1, 2), code
    if code == 2:
        message = err.getvalue().strip()
        assert message.startswith("incident: "), message
        raise UserError(message.removeprefix("incident: "))  # counted as a refusal


# ---------------------------------------------------------------- playbook files

PLAYBOOK_FILES = sorted((Path(__file__).resolve().parents[2] / "playbooks").glob("*.toml"))


def _edited_toml(path: Path, edit: Callable[[dict], Any], prepare=read_demo_toml) -> str:
    """A shipped file's data with one edit, as TOML (for regression examples)."""
    data = prepare(path)
    edit(data)
    return to_toml(data)


def _step_phase_list(data: dict) -> None:
    data["step"][0]["phase"] = []


@target(
    "playbook TOML (incident playbook validate)",
    st.one_of(
        *(text_documents(p.read_text(encoding="utf-8"), read_demo_toml(p)) for p in PLAYBOOK_FILES),
        st.binary(max_size=200),
    ),
    examples=(  # found by the CI run: an empty file raised IndexError while locating the problems;
        "",  # a step's phase written as a list raised TypeError (unhashable)
        _edited_toml(PLAYBOOK_FILES[0], _step_phase_list),
    ),
    seeds=lambda: [p.read_text(encoding="utf-8") for p in PLAYBOOK_FILES],
)
def _playbook(text: str | bytes, ctx: FuzzContext) -> None:
    from incident.playbook.formats import load_playbook_file

    load_playbook_file(ctx.write(text, "playbook.toml"))  # what `incident playbook validate` calls


# ---------------------------------------------------------------- plume scenario files

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "incident" / "data" / "examples"
SCENARIO_HORIZON_H = 6.0  # each example runs at most 6 h of plume: fast, and every code path is reached


def _absolute_river(path: Path) -> tuple[str, dict]:
    """A shipped scenario's text and data with its relative river path made absolute."""
    text, data = path.read_text(encoding="utf-8"), read_demo_toml(path)
    river = data["scenario"]["river"]
    absolute = (path.parent / river).resolve().as_posix()
    data["scenario"]["river"] = absolute
    return text.replace(f'"{river}"', f'"{absolute}"'), data


def _set(*path_and_value):
    """An edit that sets data[path...] = value."""
    *path, value = path_and_value

    def edit(data: dict) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


_JADE = EXAMPLES_DIR / "jade_river_spill.toml"
_abs_data = lambda p: _absolute_river(p)[1]  # noqa: E731


@target(
    "plume scenario (load_scenario + run_forecast)",
    st.one_of(*(text_documents(*_absolute_river(p)) for p in sorted(EXAMPLES_DIR.glob("*.toml")))),
    examples_factor=0.5,  # a forecast per example: 100 in CI (~0.1 s each); 10,000 in the long run
    examples=(  # found by the CI run: AttributeError/TypeError on tables of the wrong type
        _edited_toml(_JADE, _set("scenario", False), _abs_data),
        _edited_toml(_JADE, _set("point", [[]]), _abs_data),
        _edited_toml(_JADE, _set("point", 0, "reach", []), _abs_data),
        _edited_toml(_JADE, _set("spill", 0, "lat", math.nan), _abs_data),  # NaN position (see README)
    ),
    seeds=lambda: [_absolute_river(p)[0] for p in sorted(EXAMPLES_DIR.glob("*.toml"))],
)
def _scenario(text: str, ctx: FuzzContext) -> None:
    from incident.plume.forecast import load_scenario, run_forecast

    req = load_scenario(ctx.write(text, "scenario.toml"))
    if req.horizon_h is None or (math.isfinite(req.horizon_h) and req.horizon_h > SCENARIO_HORIZON_H):
        req.horizon_h = SCENARIO_HORIZON_H
    fc = run_forecast(req)
    assert len(fc.points) == len(req.points)


# ---------------------------------------------------------------- drill scenario files

DRILLS_DIR = Path(__file__).resolve().parents[2] / "incident" / "data" / "drills"


def _absolute_drill_river(path: Path) -> tuple[str, dict]:
    text, data = path.read_text(encoding="utf-8"), read_demo_toml(path)
    river = data["drill"]["river"]
    absolute = (path.parent / river).resolve().as_posix()
    data["drill"]["river"] = absolute
    return text.replace(f'"{river}"', f'"{absolute}"'), data


_NIGHT = DRILLS_DIR / "jade_cadmium_night.toml"
_drill_data = lambda p: _absolute_drill_river(p)[1]  # noqa: E731


@target(
    "drill scenario (load_drill_scenario)",
    st.one_of(*(text_documents(*_absolute_drill_river(p)) for p in sorted(DRILLS_DIR.glob("*.toml")))),
    examples=(  # found by the CI run: [[inject]] entries that are not tables raised TypeError;
        # a negative seed was accepted and crashed the synthetic results (numpy's generator)
        _edited_toml(_NIGHT, _set("inject", [True]), _drill_data),
        _edited_toml(_NIGHT, _set("drill", "seed", -1), _drill_data),
    ),
    seeds=lambda: [_absolute_drill_river(_NIGHT)[0]],
)
def _drill(text: str, ctx: FuzzContext) -> None:
    from incident.drills.exercise import _rng
    from incident.drills.scenario import load_drill_scenario, scenario_summary

    sc = load_drill_scenario(ctx.write(text, "drill.toml"))
    scenario_summary(sc)
    _rng(sc, 1, sc.methods[0].key).random()  # whatever it accepts must be usable: the synthetic results


# ---------------------------------------------------------------- lab result CSV import


def _lab_rows() -> list[list[str]]:
    s1, s2, s3 = DEMO["samples"]
    return [
        ["sample", "parameter", "value", "unit", "detection_limit", "method"],
        [s1, "nitrobenzene", "<0.0005", "mg/L", "", "hj648_gc"],
        [s2, "nitrobenzene", "595", "µg/L", "0.5", "hj648_gc"],
        [s3, "硝基苯", "0.0120", "mg/L", "0.0005", "hj648_gc"],
        [s3, "Cd", "0.001L", "mg/L", "", "hj700_icpms"],
    ]


# a station series: no sample IDs, rows make their samples from point + time (+ round)
STATION_ROWS = [
    ["检测项目", "检测结果", "单位", "检出限", "分析方法", "点位", "采样时间", "轮次", "样品类型", "采样人"],
    ["硝基苯", "0.012", "mg/L", "0.0005", "hj648_gc", "S2", "@T", "1", "normal", "王芳"],
    ["nitrobenzene", "ND", "mg/L", "0.0005", "hj648_gc", "S3", "@T", "2", "field_blank", "王芳"],
]


def _station_rows() -> list[list[str]]:
    from incident.core.clock import fmt_local, utcnow

    when = fmt_local(utcnow() - timedelta(hours=2)).replace("-", "/")  # slash dates, as Excel writes them
    return [[when if c == "@T" else c for c in row] for row in STATION_ROWS]


@target(
    "result CSV (import_results, dry run)",
    st.one_of(
        st.deferred(lambda: csv_documents(_lab_rows(), typed_numbers)),
        st.deferred(lambda: csv_documents(_station_rows(), typed_numbers)),
    ),
    examples_factor=0.5,  # a savepoint and up to a dozen checked rows per example
    # found by the long run: a byte-order mark followed by bytes its encoding cannot read
    examples=(b"\xef\xbb\xbf\x800.5\r\n", b"\xff\xfeA"),
    seeds=lambda: [csv_bytes(_lab_rows()), csv_bytes(_station_rows(), "gbk")],
)
def _results_csv(data: bytes, ctx: FuzzContext) -> None:
    from incident.results.importer import import_results

    path = ctx.write(data, "lab.csv")
    with ctx.session() as s:
        import_results(s, DEMO["code"], path, actor="fuzz", dry_run=True)


# ---------------------------------------------------------------- typed numbers and units

UNIT_TEXTS = [
    "mg/L",
    "µg/L",
    "ug/l",
    "μg/L",
    "ng/L",
    "mg/kg",
    "mg/m3",
    "mg/m³",
    "ppm",
    "ppb",
    "g/L",
    "毫克/升",
]


@target(
    "typed values and units (units.parse_*, unit_factor)",
    st.tuples(
        typed_numbers,
        st.one_of(st.sampled_from(UNIT_TEXTS), nasty_text),
        st.sampled_from(["water", "air", "soil", "other", "plasma"]),
    ),
    seeds=lambda: [("0.5", "µg/L", "water")],
)
def _units(args: tuple[str, str, str], ctx: FuzzContext) -> None:
    from incident.results.units import parse_number, parse_result_value, unit_factor

    text, unit, medium = args
    parsed = parse_result_value(text, "value")
    if parsed.value is not None:
        assert math.isfinite(parsed.value) and parsed.value >= 0 and parsed.detected
    if parsed.detection_limit is not None:
        assert math.isfinite(parsed.detection_limit) and parsed.detection_limit > 0
    value = parse_number(text, "detection limit", allow_zero=False)
    assert math.isfinite(value) and value > 0
    factor = unit_factor(unit, medium=medium, where="unit")
    assert math.isfinite(factor) and factor > 0


# ---------------------------------------------------------------- result entry form

METHOD_TEXTS = [
    "hj648_gc",
    "hj700_icpms",
    "asv_portable",
    "photometer_portable",
    "GC-MS in house",
    "HJ648_GC",
]
PARAMETER_TEXTS = ["nitrobenzene", "硝基苯", "Cd", "镉", "cadmium", "Cr(VI)", "NH3-N", "pH"]


def _result_fields() -> dict[str, st.SearchStrategy]:
    maybe = lambda strat: st.one_of(st.none(), st.just(""), strat)  # noqa: E731
    return {
        "sample": st.one_of(st.sampled_from(DEMO["samples"]), nasty_text),
        "parameter": st.one_of(st.sampled_from(PARAMETER_TEXTS), nasty_text),
        "value": maybe(typed_numbers),
        "value_high": st.one_of(st.none(), typed_numbers),
        "unit": st.one_of(st.none(), st.sampled_from(UNIT_TEXTS), nasty_text),
        "detection_limit": maybe(typed_numbers),
        "detected": st.one_of(st.none(), st.sampled_from(["yes", "no", "是", "阴性"]), nasty_text),
        "method": st.one_of(st.sampled_from(METHOD_TEXTS), nasty_text),
        "principle": st.one_of(st.just(""), st.sampled_from(["gc", "icp_ms", "photometry"]), nasty_text),
        "rapid": st.booleans(),
        "online": st.booleans(),
        "instrument": st.one_of(st.just(""), st.sampled_from(["INS-HM-01", "INS-PHO-01"]), nasty_text),
        "measured_at": st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    }


@st.composite
def edited_form(draw, good: Callable[[], Any], fields: Callable[[], dict[str, st.SearchStrategy]]):
    """A form filled in correctly, then 1..4 of its fields typed differently (or all of them)."""
    strategies = fields()
    names = sorted(strategies)
    if draw(st.integers(0, 4)) == 0:
        chosen = names
    else:
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    return dataclasses.replace(good(), **{n: draw(strategies[n]) for n in chosen})


def _good_result():
    from incident.results.entry import ResultInput

    return ResultInput(
        sample=DEMO["samples"][0],
        parameter="硝基苯",
        value="0.012",
        detection_limit="0.0005",
        method="hj648_gc",
    )


@target(
    "result entry fields (add_result)",
    st.deferred(lambda: edited_form(_good_result, _result_fields)),
    seeds=lambda: [_good_result()],
)
def _result_entry(raw, ctx: FuzzContext) -> None:
    from incident.results.entry import add_result

    with ctx.session() as s:
        add_result(s, DEMO["code"], raw, actor="fuzz")


# ---------------------------------------------------------------- sample registration form

from incident.results.entry import NewSample as _NewSample  # noqa: E402


def _sample_fields() -> dict[str, st.SearchStrategy]:
    from incident.results.entry import SAMPLE_TYPES

    return {
        "point": st.one_of(st.sampled_from(["S1", "s2", " S3 ", "S4", "S9", ""]), nasty_text),
        # the form reads the time with parse_local: what it can hand over is any aware UTC time
        "sampled_at": st.one_of(
            st.datetimes(timezones=st.just(UTC)),
            st.sampled_from([-3, -30, 1, -24 * 400]).map(lambda h: datetime.now(UTC) + timedelta(hours=h)),
        ),
        "sampler": st.one_of(st.sampled_from(["Li Wei", "王芳"]), nasty_text),
        "round": st.one_of(st.none(), st.integers(1, 3), nasty_ints),
        "checker": st.one_of(st.just(""), st.sampled_from(["Li Wei", "Zhao Min"]), nasty_text),
        "sample_type": st.one_of(st.sampled_from(SAMPLE_TYPES), nasty_text),
        "parallel_of": st.one_of(st.none(), st.sampled_from(DEMO["samples"]), nasty_text),
        "parameters": st.lists(st.one_of(st.sampled_from(PARAMETER_TEXTS), nasty_text), max_size=3),
    }


def _good_sample():
    return _NewSample(point="s4", sampled_at=datetime.now(UTC) - timedelta(hours=1), sampler="王芳", round=2)


@target(
    "sample registration fields (create_sample)",
    st.deferred(lambda: edited_form(_good_sample, _sample_fields)),
    examples=(  # found by the CI run: a round beyond SQLite's integers raised OverflowError
        _NewSample(point="S1", sampled_at=datetime(2000, 1, 1, tzinfo=UTC), sampler="Li Wei", round=2**63),
    ),
    seeds=lambda: [_good_sample()],
)
def _sample(spec, ctx: FuzzContext) -> None:
    from incident.results.entry import create_sample

    with ctx.session() as s:
        create_sample(s, DEMO["code"], spec, actor="fuzz")


# ---------------------------------------------------------------- readiness (inventory) CSV


def _inventory_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(DEMO["inventory_csv"])))[:12]


@target(
    "inventory CSV (import_csv, dry run)",
    st.deferred(lambda: csv_documents(_inventory_rows(), typed_numbers)),
    seeds=lambda: [csv_bytes(_inventory_rows())],
)
def _inventory_csv(data: bytes, ctx: FuzzContext) -> None:
    from incident.readiness.inventory_csv import import_csv

    path = ctx.write(data, "inventory.csv")
    with ctx.session() as s:
        import_csv(s, path, actor="fuzz", dry_run=True)


# ---------------------------------------------------------------- source tracing CSV

TRACE_ROWS = [
    ["station", "reach", "km", "time", "value_mg_l", "detection_limit_mg_l"],
    ["W1", "", "", "2026-05-01 12:00", "ND", "0.0005"],
    ["W1", "", "", "2026-05-01 18:00", "0.0950", "0.0005"],
    ["W1", "", "", "2026-05-02 00:00", "0.0210", "0.0005"],
    ["AS2", "", "", "2026-05-01 14:00", "0.3100", "0.0005"],
    ["AS2", "", "", "2026-05-01 20:00", "0.0040", "0.0005"],
    ["X9", "M05", "85.000", "2026-05-02 06:00", "0.0120", "0.0005"],
]


@target(
    "trace CSV (uncertainty.trace_file)",
    csv_documents(TRACE_ROWS, typed_numbers),
    examples_factor=0.5,  # a source search per accepted file
    seeds=lambda: [csv_bytes(TRACE_ROWS)],
)
def _trace(data: bytes, ctx: FuzzContext) -> None:
    from incident.plume.uncertainty import trace_file

    rep = trace_file(ctx.write(data, "trace.csv"), DEMO_RIVER, spacing_m=2000.0, top=3)
    assert all(math.isfinite(c.mass_kg) for c in rep.candidates)


# ---------------------------------------------------------------- HJ 212-2017 station packets


def _hj212_good() -> str:
    from incident.stations import build_data_segment, frame

    at = datetime(2026, 5, 1, 8, 5, tzinfo=UTC)
    return frame(
        build_data_segment(
            mn="ST0001",
            cn="2051",
            data_time=at,
            values={"w21003": 0.35, "w01001": 7.1, "w01018": None},
            flags={"w01001": "M"},
        )
    )


def _frame_if_ascii(segment: str) -> str:
    """A framed packet (length and CRC right) when the segment can be one; else the text as is."""
    from incident.stations import frame

    return frame(segment) if segment.isascii() else segment


def _hj212_packets() -> st.SearchStrategy:
    """Raw bytes and text, framed random segments, and a good packet with bytes changed, cut or
    inserted, or with its data segment mangled and re-framed (so the CRC passes and the segment
    parser is reached)."""
    from incident.stations import frame

    good = _hj212_good()
    segment = good[6:-6]
    return st.one_of(
        st.binary(max_size=300),
        nasty_text,
        st.builds(_frame_if_ascii, st.text(max_size=200)),
        st.builds(
            lambda i, b, cut: good.encode()[:i] + bytes([b]) + good.encode()[i + cut :],
            st.integers(0, len(good)),
            st.integers(0, 255),
            st.integers(0, 3),
        ),
        st.builds(
            lambda i, s, cut: frame(segment[:i] + s + segment[i + cut :]),
            st.integers(0, len(segment)),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
            st.integers(0, 12),
        ),
        st.builds(
            lambda key, value: _frame_if_ascii(segment.replace("w21003-Avg=0.35", f"{key}={value}")),
            st.sampled_from(["w21003-Avg", "w21003-Flag", "DataTime", "w01001-Rtd", "X", ""]),
            st.one_of(nasty_text, st.floats(allow_nan=True).map(str)),
        ),
    )


@target("HJ 212 packet (stations.parse_packet)", _hj212_packets(), seeds=lambda: [_hj212_good()])
def _hj212(data: str | bytes, ctx: FuzzContext) -> None:
    from incident.stations import parse_packet

    packet = parse_packet(data)
    assert packet.mn and packet.cn  # whatever it accepts names its station and command
    for reading in packet.readings:
        assert reading.value is None or math.isfinite(reading.value)
