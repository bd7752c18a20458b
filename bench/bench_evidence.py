"""Long-run evidence figures (not a CI test): kill -9 trials, concurrent writers, fuzzing.

    python bench/bench_evidence.py                  # the full run (20-40 min on 2 cores)
    python bench/bench_evidence.py --quick          # 10 trials, 4 x 5 s, 200 cases: a smoke run

It runs the project's own long-run tests with their long settings, each in a
fresh pytest process, and prints one table of the figures they report:

- tests/evidence/test_crash.py with INCIDENT_CRASH_TRIALS=100: a writer SIGKILLed
  in the middle of a burst of results, 100 times; rows reported committed and lost;
- tests/evidence/test_concurrency.py with 4 writers x 60 s on SQLite and on
  PostgreSQL (started with .ci/pg-start when INCIDENT_TEST_PG_URL is not set);
  commits, errors a user saw, rows lost, the longest wait for a save;
- tests/fuzz with HYPOTHESIS_PROFILE=long: 10,000 generated inputs per parser,
  how many were refused with a UserError (any other exception fails the run).

Goals beside each figure: 0 rows lost, 0 errors, 0 unhandled exceptions.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 trials, 4 x 5 s, 200 cases")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL writers")
    args = parser.parse_args()
    trials, seconds, profile = ("10", "5", "ci") if args.quick else ("100", "60", "long")
    rows: list[tuple[str, str, str]] = []
    failed = False

    code, out, _ = run("kill -9 trials", ["tests/evidence/test_crash.py"], {"INCIDENT_CRASH_TRIALS": trials})
    failed |= code != 0
    for line in re.findall(r"\[crash\] (.*)", out):
        rows.append(show("kill -9 mid-burst (SQLite)", line, "rows lost 0, verify intact"))

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

    code, out, elapsed = run(
        "fuzz",
        ["tests/fuzz/test_fuzz.py", "-k", "test_refuses_only_with_clear_user_errors"],
        {"HYPOTHESIS_PROFILE": profile},
    )
    failed |= code != 0
    for line in re.findall(r"\[fuzz\] (.*)", out):
        name, _, figures = line.partition(": ")
        rows.append(show(f"fuzz: {name}", figures, "0 unhandled exceptions"))

    print(f"overall: {'FAILED (see stderr)' if failed else 'every run passed its checks'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
