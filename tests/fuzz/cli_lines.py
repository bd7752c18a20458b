"""Command lines drawn from the CLI's own parser, so that most of them reach a command's handler.

Random words rarely get past argparse (43 of 10,000 did): the fuzz tested argparse's usage
errors, not the commands. Here a line is built like a person would type it: a command (every one,
nested ones such as ``db upgrade`` too, but none that opens a port or the UI or waits for input),
its required positionals, and a random subset of its options, each value drawn for its argparse
action:

- ``choices``: one of them, or sometimes any text;
- ``type=number()`` / ``type=whole()``: valid values, boundaries and hostile ones (nan, inf, -0,
  1e999, huge);
- incident codes, sample codes, crew names, asset tags, points…: the demo's own, or nasty text;
- input files: a valid copy of a shipped file (written into the example's folder), a broken one,
  a folder, or a file that does not exist; output files: names inside the example's folder only.

A file is a :class:`FileArg` in the drawn line: the target writes it under ``ctx.tmp`` and passes
its path. Words never hold NUL: an operating system's command line cannot carry one.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import Any, NamedTuple

from hypothesis import settings
from hypothesis import strategies as st

from tests.fuzz.conftest import LONG_RUN_EXAMPLES
from tests.fuzz.strategies import nasty_text

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "incident" / "data"

#: Commands never run: they open the UI, a port or a browser, wait for a passphrase, use the OS
#: keyring, or run for minutes (the bench; a preplan build runs a forecast per source and intake).
EXCLUDED = {
    "tui",
    "serve",
    "stations listen",
    "login",
    "account keygen",
    "account rotate",
    "bench",
    "preplan build",
}


#: Commands that run a forecast or a search (0.2–1 s each; a derandomized CI run draws a command
#: it likes five times over): drawn in the long run only (HYPOTHESIS_PROFILE=long), so that the CI
#: run keeps its time. The CI run tries them through the target's examples.
HEAVY = {
    "forecast",
    "plan propose",
    "plan refresh",
    "plan insert",
    "export geojson",
    "assign",
    "recalibrate",
    "trace",
    "backup export",
}


class FileArg(NamedTuple):
    """An input file the target writes into the example's folder (``content`` None: left missing)."""

    name: str
    content: bytes | None

    def __repr__(self) -> str:  # a falsifying example names the file, not its kilobytes
        size = "missing" if self.content is None else f"{len(self.content)} bytes {self.content[:40]!r}"
        return f"FileArg({self.name!r}, {size})"


class Ref(NamedTuple):
    """A value the target made when it set up its store (``drill``: the code of a running drill)."""

    key: str


DRILL = Ref("drill")


class Command(NamedTuple):
    words: tuple[str, ...]
    positionals: tuple[argparse.Action, ...]
    options: tuple[argparse.Action, ...]  # required ones first


def _walk(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> list[Command]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subs:
        return [c for a in subs for name, sub in a.choices.items() for c in _walk(sub, (*words, name))]
    if " ".join(words) in EXCLUDED or parser.get_default("handler") is None:
        return []
    skip = (argparse._HelpAction, argparse._VersionAction)
    acts = [a for a in parser._actions if not isinstance(a, skip)]
    positionals = tuple(a for a in acts if not a.option_strings)
    options = sorted((a for a in acts if a.option_strings), key=lambda a: not a.required)
    return [Command(words, positionals, tuple(options))]


@functools.cache
def cli_parser() -> argparse.ArgumentParser:
    """The CLI's parser, built once per process (building it takes ~0.1 s; ``main`` builds one per
    command line, and parsing does not change it)."""
    from incident.cli import build_parser

    return build_parser()


@functools.cache
def commands() -> tuple[Command, ...]:
    """Every command the fuzz runs, from the real parser."""
    return tuple(_walk(cli_parser(), ()))


# ---------------------------------------------------------------- values


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each drawn ``weight`` times in ``sum(weights)`` (``st.one_of`` gives
    every distinct strategy the same share, and one listed twice counts once)."""
    total = sum(w for w, _ in choices)

    def pick(i: int) -> st.SearchStrategy:
        for w, strategy in choices:
            if i < w:
                return strategy
            i -= w
        raise AssertionError(i)

    return st.integers(0, total - 1).flatmap(pick)


#: An OS command line cannot hold NUL: such a word never reaches ``main``. It can hold bytes that are
#: not UTF-8 (a GBK terminal): Python passes them as lone surrogates.
NOT_UTF8 = ["caf\udce9", "\udcd6\udcd0\udcce\udcc4", "\udcff"]
words_text = st.one_of(nasty_text.map(lambda t: t.replace("\x00", "")), st.sampled_from(NOT_UTF8))

NUMBERS_VALID = ["0", "1", "2", "3", "0.5", "10", "24", "100", "2.5", "8000", "24.7", "109.3"]
NUMBERS_HOSTILE = [
    "-1",
    "-0",
    "0.0",
    "1e12",
    "1e13",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "5e-324",
    "1e-300",
    "9" * 30,
]
WHOLE_VALID = ["1", "2", "3", "0", "4", "10"]
WHOLE_HOSTILE = ["-1", "-0", "2.5", "1e3", "9223372036854775808", "1000000000000", "nan", "inf"]


#: Numbers that set how much work a command does (forecast hours, ensemble members, grid spacing):
#: typical values, and hostile ones that must be refused. A valid but huge one (50,000 members, a
#: 1 mm grid) runs for minutes by design, which no fuzz run can wait for; a forecast past 30 days and
#: sections closer than 0.5 km are refused since session 6 (regression examples in targets.py).
WORK_NUMBERS = {
    "at": ["1", "6", "24", "48"],
    "horizon": ["6", "24", "48"],
    "hours": ["6", "24", "48"],
    "profile_at": ["1", "6", "24"],
    "duration": ["0", "1", "6"],
    "duration_h": ["0.5", "1", "6"],
    "max_gap_h": ["1", "6", "24"],
    "ensemble": ["2", "10", "50"],
    "top": ["1", "3", "10"],
    "search_seconds": ["0.5", "1"],
    "spacing": ["1000", "2000", "5000"],
    "spacing_km": ["1", "2", "5"],
    "upstream_m": ["1000", "5000", "20000"],
    "downstream_m": ["1000", "5000", "20000"],
    "attenuation_m": ["1000", "5000", "20000"],
    "speed": ["10", "30", "60"],
    "sampled": ["1", "2", "3"],
}
REFUSED_NUMBERS = ["-1", "-0", "0", "nan", "inf", "-inf", "1e999", "1e13", "9" * 30, "x"]


def _number(whole: bool, dest: str) -> st.SearchStrategy[str]:
    if dest in WORK_NUMBERS:
        return weighted((8, st.sampled_from(WORK_NUMBERS[dest])), (2, st.sampled_from(REFUSED_NUMBERS)))
    valid, hostile = (WHOLE_VALID, WHOLE_HOSTILE) if whole else (NUMBERS_VALID, NUMBERS_HOSTILE)
    return weighted(
        (6, st.sampled_from(valid)),
        (2, st.sampled_from(hostile)),
        (1, st.integers(-(10**6), 10**6).map(str)),
        (1, words_text),
    )


def _demo(key: str) -> list[str]:
    from tests.fuzz.targets import DEMO

    return list(DEMO[key]) if key == "samples" else [DEMO[key]]


TIMES = [
    "2026-07-01 10:00",
    "2026-07-01",
    "today",
    "1999-01-01 00:00",
    "9999-12-31 23:59",
    "2026-13-40 25:61",
]
#: Demo names by the dest of the option they fill.
NAMES: dict[str, list[str]] = {
    "point": ["S1", "S2", "S3", "S4", "s2", "S99"],
    "after": ["S1", "S3"],
    "number": ["S1", "S4", "S99"],
    "points": ["S1,S2", "S4", "S9,S1"],
    "param": ["nitrobenzene", "硝基苯", "cadmium", "Cd", "pH"],
    "substance": ["nitrobenzene", "cadmium", "benzene"],
    "parameters": ["ammonia_nitrogen,cod", "cadmium", "ph,dissolved_oxygen"],
    "unit": ["mg/L", "µg/L", "ug/l", "ng/L", "ppm"],
    "method": ["hj648_gc", "hj700_icpms", "asv_portable", "free text method"],
    "principle": ["gc", "icp_ms", "photometry"],
    "instrument": ["INS-HM-01", "INS-PHO-01"],
    "tag": ["INS-HM-01", "INS-GC-01", "SMP-01", "PPE-02", "NOPE-1"],
    "target": ["INS-HM-01", "SMP-02"],
    "crew": ["Crew A", "Crew B", "A", "Crew Z"],
    "copy": ["Crew A", "Crew A,Crew B", "all"],
    "item": ["cadmium test strips", "nitrile gloves"],
    "lot": ["CD-2406", "CD-2311"],
    "schedule": ["multi-point standard curve", "metrological verification", "annual"],
    "playbook": ["river_chemical_spill", "oil_on_river", "heavy_metal_intake", "nope"],
    "step": ["alert_received", "mobilise", "initial_forecast", "field_survey"],
    "answers": ['location="Qiaotou bridge"', "x=1", "=", "a"],
    "form": ['location="Qiaotou bridge"', "x=1"],
    "check": ["ppe", "1"],
    "detected": ["yes", "no", "是"],
    "value": ["0.012", "<0.001", "0.001L", "ND", "1e999", "O.5"],
    "value_high": ["0.1", "0.01"],
    "dl": ["0.0005", "0", "-1"],
    "condition": ["intact", "seal_broken", "leaking"],
    "class": ["III", "II", "V", "VI"],
    "role": ["responder", "team_lead", "reviewer"],
    "roles": ["responder", "team_lead"],
    "rating": ["P", "S", "M", "U"],
    "capability": ["Mobilisation", "Arrival on site", "First sample"],
    "limit": ["benzene=0.01", "nitrobenzene=x", "=1"],
    "col": ["value=检测结果", "x", "sample="],
    "encoding": ["utf-8", "gbk", "nope"],
    "flow": ["low", "median", "high"],
    "intake": ["W1", "W2", "W9"],
    "id": ["ALR-2026-0001", "ALR-0"],
    "mn": ["450100A0001", "X"],
    "reach": ["M03", "M05", "Z9"],
    "lead": ["Li Wei", "Huang Min"],
    "head": ["1:" + "a" * 64, "0:", "x"],
    "name": ["Li Wei", "Xinhe bridge"],
    "by": ["Li Wei", "Zhou Lan"],
    "sampler": ["Li Wei", "王芳"],
}
CODES = {"incident", "code", "export_incident", "incident_code"}
TIME_DESTS = {"alert", "time", "at", "taken_at", "arrival_time", "incident_time"}
DATE_DESTS = {"on", "expires", "due"}
DATES = ["2026-07-01", "today", "today+30", "1999-01-01", "9999-12-31", "0001-01-01", "2026-02-30"]
OUTPUTS = {"output", "out", "profile_csv", "csv"}  # forecast --csv writes; dispersion --csv reads


@functools.cache
def _input_files() -> dict[str, list[FileArg]]:
    """Valid files by the kind of input, copied from the shipped data (rivers with absolute paths)."""
    from incident.demo.seed import DEMO_INTAKES, DEMO_INVENTORY, DEMO_RISK_SOURCES, DEMO_RIVER, DEMO_ROSTER

    def copy(path: Path, name: str | None = None) -> FileArg:
        return FileArg(name or path.name, path.read_bytes())

    def absolute_river(path: Path, river: str) -> FileArg:
        text = path.read_text(encoding="utf-8")
        absolute = (path.parent / river).resolve().as_posix()
        return FileArg(path.name, text.replace(f'"{river}"', f'"{absolute}"').encode())

    river = copy(DEMO_RIVER)
    scenario = absolute_river(DATA / "examples" / "jade_river_spill.toml", "jade_river.geojson")
    if b"jade_river.geojson" not in scenario.content:  # pragma: no cover - the example moved its river
        scenario = copy(DATA / "examples" / "jade_river_spill.toml")
    drill = copy(DATA / "drills" / "jade_cadmium_night.toml")
    return {
        "river": [river, copy(DATA / "examples" / "uvas_creek.geojson")],
        "geojson": [copy(DEMO_RISK_SOURCES), copy(DEMO_INTAKES), river],
        "scenario": [scenario, drill],
        "playbook": [copy(p) for p in sorted((ROOT / "playbooks").glob("*.toml"))[:2]],
        "toml": [copy(DEMO_ROSTER), copy(DEMO_INVENTORY), drill],
        "image": [  # the first bytes name the kind; the rest is not read
            FileArg("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(64))),
            FileArg("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)),
            FileArg("short.jpg", b"\xff\xd8"),
        ],
        "csv": [
            copy(DATA / "dispersion" / "us_rivers_tracer.csv"),
            copy(DATA / "examples" / "uvas_creek_reference.csv"),
            FileArg("lab.csv", b"sample,parameter,value,unit\r\nX,nitrobenzene,0.5,mg/L\r\n"),
        ],
    }


BROKEN_FILES = [
    FileArg("empty.txt", b""),
    FileArg("garbage.bin", b"\xff\xfe\x00\x81garbage"),
    FileArg("brace.json", b"{"),
    FileArg("table.toml", b"[a]\nb = 1\n"),
    FileArg("missing.file", None),
]
#: The kind of input file each file-taking dest reads.
FILE_KINDS = {
    "file": "any",
    "files": "playbook",
    "river": "river",
    "roads": "river",
    "sources": "geojson",
    "intakes": "geojson",
    "mapping": "toml",
    "scenario": "scenario",
    "sealed": "any",
    "public_key": "any",
}
COMMAND_FILE_KINDS = {  # the file of each command, where its dest alone does not say
    ("river", "check"): "river",
    ("river", "snap"): "river",
    ("trace",): "csv",
    ("import", "results"): "csv",
    ("inventory", "import"): "csv",
    ("stations", "ingest"): "any",
    ("backup", "import"): "any",
    ("photo", "add"): "image",
    ("dispersion",): "csv",
    ("drill", "roster"): "toml",
}


def _input_file(kind: str) -> st.SearchStrategy:
    files = _input_files()
    good = [f for fs in files.values() for f in fs] if kind == "any" else files[kind]
    everything = [f for fs in files.values() for f in fs]
    return weighted(
        (6, st.sampled_from(good)),
        (2, st.sampled_from(everything + BROKEN_FILES)),
        (1, st.just(".")),  # a folder
        (1, words_text),
    )


_SAFE = str.maketrans({"/": "_", "\\": "_", "\x00": ""})
output_paths = weighted(
    (6, st.sampled_from(["out.txt", "out.csv", "out.md", "out.jsonl", "no/such/dir/out.txt", ".", ""])),
    (1, st.just(FileArg("exists.txt", b"already here\n"))),
    (1, nasty_text.map(lambda t: "o_" + t.translate(_SAFE))),  # inside the example's folder only
)


def _text_for(command: tuple[str, ...], action: argparse.Action) -> st.SearchStrategy:
    dest = action.dest
    if dest in CODES or (dest == "target" and command == ("forecast",)):
        if command == ("forecast",):
            return st.one_of(st.deferred(lambda: st.sampled_from(_demo("code"))), _input_file("scenario"))
        drill, real = (6, 2) if command[0] == "drill" else (2, 6)
        return weighted(
            (real, st.deferred(lambda: st.sampled_from(_demo("code")))),
            (drill, st.just(DRILL)),
            (1, st.sampled_from(["INC-2026-9999", "inc-2026-0001", "INC"])),
            (1, words_text),
        )
    if dest == "sample":
        return weighted((8, st.deferred(lambda: st.sampled_from(_demo("samples")))), (2, words_text))
    if dest in OUTPUTS and (command, dest) != (("dispersion",), "csv"):
        return output_paths
    if command in (("inventory", "export"),) or (command == ("seal",) and dest == "file"):
        return output_paths
    kind = COMMAND_FILE_KINDS.get(command) if dest == "file" or dest == "csv" else None
    if kind or dest in FILE_KINDS:
        return _input_file(kind or FILE_KINDS[dest])
    if dest == "playbook":
        return st.one_of(st.sampled_from(NAMES["playbook"]), _input_file("playbook"))
    if dest in DATE_DESTS:
        return weighted((4, st.sampled_from(DATES)), (1, st.sampled_from(TIMES)), (1, words_text))
    if dest in TIME_DESTS:
        return weighted((4, st.sampled_from(TIMES)), (1, st.sampled_from(DATES)), (1, words_text))
    if dest in NAMES:
        return weighted((4, st.sampled_from(NAMES[dest])), (1, words_text))
    if dest in ("conclusions", "recommendations", "lessons", "next_steps", "notes", "termination"):
        return weighted((4, words_text), (1, st.sampled_from(["@missing.md", "@.", "@", "@exists.txt"])))
    return words_text


def value_for(command: tuple[str, ...], action: argparse.Action) -> st.SearchStrategy:
    """A strategy for one value of ``action``."""
    typ = action.type
    if action.choices:
        return weighted((9, st.sampled_from(sorted(action.choices))), (1, words_text))
    if typ is not None and getattr(typ, "whole", None) is not None:
        return _number(typ.whole, action.dest)
    return _text_for(command, action)


def _values(command: tuple[str, ...], action: argparse.Action) -> st.SearchStrategy[list]:
    one = value_for(command, action)
    if action.nargs in ("*", "+"):
        return st.lists(one, min_size=1 if action.nargs == "+" else 0, max_size=2)
    if action.nargs == "?":
        return st.one_of(st.just([]), one.map(lambda v: [v]))
    return one.map(lambda v: [v])


@st.composite
def command_lines(draw) -> list[Any]:
    """A command line as words (str), input files (:class:`FileArg`) and :class:`Ref`, after ``--db``."""
    light = [c for c in commands() if " ".join(c.words) not in HEAVY]
    heavy = [c for c in commands() if " ".join(c.words) in HEAVY]
    if settings.default.max_examples < LONG_RUN_EXAMPLES:  # CI: the heavy ones through their examples only
        command = draw(st.sampled_from(light))
    else:
        command = draw(weighted((len(light), st.sampled_from(light)), (len(heavy), st.sampled_from(heavy))))
    line: list[Any] = []
    if draw(st.integers(0, 9)) == 0:  # a global option now and then
        line += draw(
            st.sampled_from(
                [["--lang", "zh"], ["--lang", "en"], ["--user", "Li Wei"], ["--lock-timeout", "5"]]
            )
        )
    line += command.words
    for action in command.positionals:
        line += draw(_values(command.words, action))
    optional = [a for a in command.options if not a.required]
    chosen = [a for a in command.options if a.required] + draw(
        st.lists(st.sampled_from(optional), max_size=4, unique_by=id) if optional else st.just([])
    )
    for action in chosen:
        flag = action.option_strings[-1]
        if action.nargs == 0:  # store_true
            line.append(flag)
        else:
            repeat = 2 if isinstance(action, argparse._AppendAction) and draw(st.booleans()) else 1
            for _ in range(repeat):
                line += [flag, *draw(_values(command.words, action))]
    return line
