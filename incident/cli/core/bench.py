"""`incident bench [--quick]`: the issue-19 figures (results store, CLI, TUI, solver) beside their goals.

Runs ``bench/bench_scale.py`` from the source tree (the bench builds large
temporary stores and is not part of an installed package); see docs/performance.md.
"""

from __future__ import annotations

from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_scale.py"


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="measure speed at scale: each figure beside its goal and a same-run baseline",
        description="Enters results into stores of 0 to 100,000 results, imports a lab CSV, reads a point's "
        "series and a round table from a 1M-result store, times `incident --help` and a forecast, the TUI's "
        "start, keypresses, screen switches and memory, and the solver. Prints every figure beside its goal; "
        "never fails on time.",
    )
    p.add_argument("--quick", action="store_true", help="smaller inputs, finishes in under a minute (CI)")
    p.add_argument(
        "--only",
        metavar="SECTIONS",
        default="results,cli,tui,solver",
        help="comma-separated: results, cli, tui, solver (default: all)",
    )
    p.set_defaults(handler=cmd_bench)


def cmd_bench(args) -> int:
    import runpy

    from incident.core.errors import UserError

    if not BENCH.is_file():
        raise UserError(
            "errors.cli.bench_needs_checkout",
            where=str(BENCH),
        )
    main = runpy.run_path(str(BENCH))["main"]
    return main((["--quick"] if args.quick else []) + ["--only", args.only])
