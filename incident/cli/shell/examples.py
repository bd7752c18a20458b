"""Examples shown under `incident X --help` (the argparse epilog), and the help formatter.

One place for them, keyed by the command path; tests/core/test_readme.py parses every
example with the real parser, so an example cannot drift from the flags it uses.
"""

from __future__ import annotations

import argparse

EXAMPLES: dict[str, list[str]] = {
    "new": [
        'incident new "Tanker crash at Qiaotou" --lat 24.685 --lon 109.325 --substance nitrobenzene '
        '--class organic --mass-kg 8000 --duration-h 0.5 --alert "2026-11-23 03:10"',
    ],
    "log": [
        "incident log INC-2026-0001",
        "incident log export INC-2026-0001 --format ics214-html -o activity-log.html",
    ],
    "bench": ["incident bench --quick", "incident bench --only results,cli"],
    "river check": ["incident river check incident/data/demo/jade_river.geojson"],
    "river snap": ["incident river snap incident/data/demo/jade_river.geojson 24.685 109.325"],
    "forecast": [
        "incident forecast incident/data/examples/jade_river_spill.toml --csv curves.csv",
        "incident forecast INC-2026-0001 --horizon 48 --log",
        "incident forecast INC-2026-0001 --ensemble 1000 --seed 0",
    ],
    "recalibrate": [
        "incident recalibrate INC-2026-0001",
        'incident recalibrate INC-2026-0001 --accept 1 --reason "fits the S4 series"',
    ],
    "trace": ["incident trace stations.csv --river incident/data/demo/jade_river.geojson --top 5"],
    "playbook start": ["incident playbook start INC-2026-0001 river_chemical_spill"],
    "step done": ['incident step done INC-2026-0001 field_survey --form surveyor="Li Wei" --check sketch'],
    "step skip": ['incident step skip INC-2026-0001 mobilise --reason "crew already on site"'],
    "step form": ['incident step form INC-2026-0001 field_survey location="Qiaotou bridge"'],
    "plan insert": [
        'incident plan insert INC-2026-0001 --km 52 --after S3 --reason "bridge access" '
        "--requires boat_operation"
    ],
    "plan remove": ['incident plan remove INC-2026-0001 S4 --reason "intake closed by the waterworks"'],
    "crew checkin": ['incident crew checkin INC-2026-0001 "Crew A" --from "HQ gate" --headcount 3'],
    "crew status": ['incident crew status "Crew C" out_of_service --note "vehicle breakdown"'],
    "assign": ["incident assign INC-2026-0001 --csv --points S4,S8 > ics204.csv"],
    "export geojson": ["incident export geojson INC-2026-0001 --at 24 -o plan.geojson"],
    "sample new": [
        'incident sample new INC-2026-0001 --point S2 --round 1 --sampler "Li Wei" --checker "Zhou Lan" '
        "--param nitrobenzene"
    ],
    "result add": [
        "incident result add INC-2026-0001-S2-R1-01 --param nitrobenzene --value 595 --unit ug/L "
        "--dl 0.5 --method hj648_gc",
        "incident result add INC-2026-0001-S2-R1-01 --param Cd --value 0.001L --method asv_portable "
        "--instrument INS-HM-01",
    ],
    "result correct": ['incident result correct 1 --value 59.5 --reason "dilution factor applied twice"'],
    "results": ["incident results INC-2026-0001 --point S4 --param nitrobenzene"],
    "custody": ['incident custody INC-2026-0001-S2-R1-01 --from "Li Wei" --to "Lab reception"'],
    "import results": [
        "incident import results INC-2026-0001 lab.csv --dry-run",
        "incident import results INC-2026-0001 station.csv --mapping station.toml --encoding gb18030",
    ],
    "terminate check": ["incident terminate check INC-2026-0001 --out proposal.md"],
    "report draft": [
        "incident report draft INC-2026-0001 --kind flash --lang zh -o flash.html",
        "incident report draft INC-2026-0001 --kind monitoring --conclusions @conclusions.md",
    ],
    "report release": ['incident report release INC-2026-0001 2 --by "Director Chen"'],
    "readiness": ["incident readiness --teams 2 --on 2026-12-01"],
    "calibrate": [
        'incident calibrate INS-HM-01 --schedule "multi-point standard curve" --on 2026-05-02 '
        '--by "Metrology lab"'
    ],
    "stock": [
        'incident stock "cadmium test strips" --delta -5 --reason "used at INC-2026-0001"',
        'incident stock "cadmium test strips" --lot CD-2507 --delta 50 --expires 2027-07-01 --reason delivery',
    ],
    "checkout": ['incident checkout KIT-HM-1 --crew "Crew B" --incident INC-2026-0001'],
    "verify": ["incident verify", "incident verify INC-2026-0001 --head SEQ:HASH"],
    "backup export": ["incident backup export INC-2026-0001 -o inc-2026-0001.jsonl"],
    "drill start": ["incident drill start incident/data/drills/jade_cadmium_night.toml --speed 10"],
    "drill sample": [
        'incident drill sample EX-2026-0001 --point S4 --method asv_portable --sampler "Zhang Wei"'
    ],
    "drill rate": [
        'incident drill rate EX-2026-0001 Mobilisation S --evaluator "Wang Fang" '
        '--improvements "kit list not at hand"'
    ],
    "drill aar": ["incident drill aar EX-2026-0001 -o ex-2026-0001-aar.html --report-lang zh"],
}


class HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual but keeps indented lines (the examples) as they are."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            if line.startswith(" "):
                lines.append(indent + line)
            elif line.strip():
                lines.append(super()._fill_text(line, width, indent))
            else:
                lines.append("")
        return "\n".join(lines)


def subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def decorate(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> None:
    """Give every parser the formatter, and the ones with examples their epilog."""
    parser.formatter_class = HelpFormatter
    examples = EXAMPLES.get(" ".join(path))
    if examples:
        parser.epilog = (
            "example"
            + ("s" if len(examples) > 1 else "")
            + ":\n"
            + "\n".join(f"  {line}" for line in examples)
        )
    for name, child in subparsers(parser):
        decorate(child, (*path, name))
