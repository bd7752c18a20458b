"""Long-run evidence figures (not a CI test): kill -9 trials, concurrent writers, fuzzing.

    nice -n 10 python bench/bench_evidence.py --jobs 4   # the full run (1-2 h on 2 shared cores)
    python bench/bench_evidence.py --quick               # 10 trials, 4 x 5 s, 200 cases: a smoke run
    python bench/bench_evidence.py --only fuzz --parsers "HJ 212" "trace CSV"   # some parsers only

It runs the project's own long-run tests with their long settings, each in a
fresh pytest process, and prints one table of the figures they report:

- tests/evidence/test_crash.py with INCIDENT_CRASH_TRIALS=100: a writer SIGKILLed
  in the middle of a burst of results, 100 times; rows reported committed and lost;
- tests/evidence/test_concurrency.py with 4 writers x 60 s on SQLite and on
  PostgreSQL (started with .ci/pg-start when INCIDENT_TEST_PG_URL is not set);
  commits, errors a user saw, rows lost, the longest wait for a save;
- tests/fuzz with HYPOTHESIS_PROFILE=long: 10,000 generated inputs per parser (every
  parser, the slow ones too), how many were refused with a UserError (any other
  exception fails the run). Each parser runs in its own pytest process, ``--jobs`` of
  them at once, and its figure is printed as soon as it is known; a parser that ran
  fewer than 10,000 cases fails the run.

Goals beside each figure: 0 rows lost, 0 errors, 0 unhandled exceptions.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def show(what: str, figure: str, goal: str) -> tuple[str, str, str]:
    """Print a figure as soon as it is known (a long run may be cut short), and keep it."""
    print(f"{what}: {figure}  [goal: {goal}]", flush=True)
    return what, figure, goal


def run(label: str, args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-q", "-s", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=os.environ | env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    print(f"# {label}: exit {proc.returncode} in {elapsed:.0f} s", file=sys.stderr)
    if proc.returncode:
        print(proc.stdout[-3000:], file=sys.stderr)
    return proc.returncode, proc.stdout, elapsed


def start_postgres() -> str | None:
    if os.environ.get("INCIDENT_TEST_PG_URL"):
        return os.environ["INCIDENT_TEST_PG_URL"]
    proc = subprocess.run([str(ROOT / ".ci" / "pg-start")], capture_output=True, text=True)
    if proc.returncode:
        print(f"# PostgreSQL not started: {proc.stderr[-500:]}", file=sys.stderr)
        return None
    for line in proc.stdout.splitlines():
        m = re.match(r"export (\w+)=['\"]?([^'\"]*)['\"]?", line.strip())
        if m:
            os.environ[m.group(1)] = m.group(2)
    return os.environ.get("INCIDENT_TEST_PG_URL")


FUZZ_TEST = "tests/fuzz/test_fuzz.py::test_refuses_only_with_clear_user_errors"


def fuzz_parsers() -> list[str]:
    """The parser names of tests/fuzz/targets.py, in their order (the one registry the tests use)."""
    sys.path.insert(0, str(ROOT))
    from tests.fuzz.targets import TARGETS

    return [t.name for t in TARGETS]


def fuzz_one(name: str, profile: str, cases: int) -> tuple[str, str, bool]:
    """One parser in its own pytest process: its figure, and whether it met the goal."""
    code, out, elapsed = run(f"fuzz {name}", [f"{FUZZ_TEST}[{name}]"], {"HYPOTHESIS_PROFILE": profile})
    found = re.findall(r"\[fuzz\] .*?: (\d+) examples, (.*)", out)
    if not found:
        return name, f"no figure (pytest exit {code}, {elapsed:.0f} s)", False
    n, rest = int(found[-1][0]), found[-1][1]
    ok = code == 0 and n >= cases
    # the test fails at the first exception that is not a UserError (or a refusal naming nowhere)
    unhandled = "0 unhandled" if code == 0 else f"unhandled exception (pytest exit {code})"
    return name, f"{n} cases, {rest}, {unhandled}, {elapsed:.0f} s" + ("" if ok else "  FAILED"), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 trials, 4 x 5 s, 200 cases")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL writers")
    parser.add_argument("--only", choices=["kill", "writers", "fuzz"], nargs="+", help="run these parts only")
    parser.add_argument(
        "--parsers", nargs="+", metavar="TEXT", help="fuzz only parsers whose name holds TEXT"
    )
    parser.add_argument("--jobs", type=int, default=1, help="parsers fuzzed at once (one process each)")
    args = parser.parse_args()
    trials, seconds, profile, cases = ("10", "5", "ci", 10) if args.quick else ("100", "60", "long", 10_000)
    parts = set(args.only or ["kill", "writers", "fuzz"])
    rows: list[tuple[str, str, str]] = []
    failed = False

    if "kill" in parts:
        code, out, _ = run(
            "kill -9 trials", ["tests/evidence/test_crash.py"], {"INCIDENT_CRASH_TRIALS": trials}
        )
        failed |= code != 0
        for line in re.findall(r"\[crash\] (.*)", out):
            rows.append(show("kill -9 mid-burst (SQLite)", line, "rows lost 0, verify intact"))

    if "writers" in parts:
        started_pg = not args.no_postgres and not os.environ.get("INCIDENT_TEST_PG_URL")
        pg = None if args.no_postgres else start_postgres()
        env = {"INCIDENT_WRITERS": "4", "INCIDENT_WRITE_SECONDS": seconds}
        tests = ["tests/evidence/test_concurrency.py::test_concurrent_writers_sqlite"]
        if pg:
            env["INCIDENT_TEST_PG_URL"] = pg
            tests.append("tests/evidence/test_concurrency.py::test_concurrent_writers_postgres")
        code, out, _ = run("concurrent writers", tests, env)
        failed |= code != 0
        for backend, line in re.findall(r"\[concurrency:(\w+)\] (.*)", out):
            rows.append(show(f"writers ({backend})", line, "errors 0, rows lost 0"))
        if not pg:
            rows.append(show("writers (postgresql)", "not run: no PostgreSQL server", "—"))
        elif started_pg:
            subprocess.run([str(ROOT / ".ci" / "pg-stop")], capture_output=True, env=os.environ.copy())

    if "fuzz" in parts:
        names = [n for n in fuzz_parsers() if not args.parsers or any(p in n for p in args.parsers)]
        width = max((len(n) for n in names), default=0)
        goal = f"{cases} cases, 0 unhandled exceptions"
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(fuzz_one, n, profile, cases) for n in names]
            for future in as_completed(futures):  # each figure as soon as its parser is done
                name, figure, ok = future.result()
                failed |= not ok
                rows.append(show(f"fuzz: {name:{width}}", figure, goal))

    print(f"overall: {'FAILED (see stderr)' if failed else 'every run passed its checks'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
