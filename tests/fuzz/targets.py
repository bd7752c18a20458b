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
import io
import json
import math
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlmodel import Session

from incident.errors import UserError
from incident.services.demo import DEMO_INVENTORY, DEMO_RIVER, DEMO_ROSTER
from tests.fuzz.strategies import json_documents, nasty_floats, nasty_text, to_toml, toml_documents


@dataclass
class FuzzContext:
    tmp: Path
    engine: Any  # a database holding the demo
    db_url: str
    empty_engine: Any = None  # a migrated database with no rows
    inventory_engine: Any = None  # the demo inventory only (what a roster refers to)

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
    examples_factor: float = 1.0  # for slow targets: a share of the profile's max_examples
    examples: tuple = ()  # inputs always tried (regressions found by long runs)


TARGETS: list[Target] = []


def target(name: str, strategy: st.SearchStrategy, *, examples_factor: float = 1.0, examples: tuple = ()):
    def register(fn: Callable[[Any, FuzzContext], Any]):
        TARGETS.append(Target(name, strategy, fn, examples_factor, examples))
        return fn

    return register


def read_demo_toml(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


# ---------------------------------------------------------------- river GeoJSON


@target("river GeoJSON (parse_river)", json_documents(json.loads(DEMO_RIVER.read_text(encoding="utf-8"))))
def _river(text: str, ctx: FuzzContext) -> None:
    from incident.services.rivers import parse_river

    net = parse_river(text, source="fuzz.geojson")
    lon, lat = net.reaches[0].coords[0]  # whatever it accepts must be usable
    net.snap(lat, lon)


@target("river file bytes (load_river_file)", st.binary(max_size=300))
def _river_bytes(data: bytes, ctx: FuzzContext) -> None:
    from incident.services.rivers import load_river_file

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
    from incident.services.roster import load_roster

    path = ctx.write(text, "roster.toml")
    with ctx.session("inventory") as s:  # crews refer to vehicles and kits
        load_roster(s, path, actor="fuzz")


@target(
    "inventory TOML (load_inventory)",
    toml_documents(read_demo_toml(DEMO_INVENTORY)),
    examples=(to_toml(_INVENTORY_FAR),),  # found by the long run: next due date past 9999
)
def _inventory(text: str, ctx: FuzzContext) -> None:
    from incident.services.inventory import load_inventory

    path = ctx.write(text, "inventory.toml")
    with ctx.session("empty") as s:
        load_inventory(s, path, actor="fuzz")


# ---------------------------------------------------------------- incident creation fields


@st.composite
def incident_specs(draw):
    from incident.services.incidents import MEDIA, POLLUTANT_CLASSES, NewIncident

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
    from incident.services.incidents import NewIncident

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

    from incident.services.incidents import create_incident
    from incident.store.tables import RiverNetwork

    with ctx.session() as s:
        spec.river_network_id = s.exec(select(RiverNetwork.id)).first()
        create_incident(s, spec, actor="fuzz")


# ---------------------------------------------------------------- times


@target("local time (clock.parse_local)", st.one_of(nasty_text, st.datetimes().map(str), st.dates().map(str)))
def _parse_local(text: str, ctx: FuzzContext) -> None:
    from incident.services.clock import parse_local

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
    from incident.services.backup import import_backup

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
# never: tui (opens the UI), serve (opens a port), --help/--version (exit 0 by design)


@target(
    "CLI arguments (incident ...)",
    st.lists(st.one_of(st.sampled_from(CLI_WORDS), nasty_text), max_size=7),
)
def _cli(argv: list[str], ctx: FuzzContext) -> None:
    from incident.cli import build_parser, main

    if (
        not argv
        or argv[0] in ("tui", "serve")
        or any(a.startswith("-h") or a.startswith("--h") for a in argv)
    ):
        argv = ["list", *argv[1:]] if argv else ["list"]
    if any(a in ("tui", "serve") for a in argv):
        return
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            # argparse may dispatch to `tui` when no command is given: check first
            try:
                ns = build_parser().parse_args(["--db", ctx.db_url, *argv])
            except SystemExit:
                ns = None
            if ns is not None and getattr(ns, "handler", None) is None:
                return
            code = main(["--db", ctx.db_url, *argv])
    except SystemExit as exc:  # argparse refusing: exit 2 with a usage message
        assert exc.code == 2 and "error:" in err.getvalue(), err.getvalue()
        return
    assert code in (0, 1, 2), code
    if code == 2:
        message = err.getvalue().strip()
        assert message.startswith("incident: "), message
        raise UserError(message.removeprefix("incident: "))  # counted as a refusal
