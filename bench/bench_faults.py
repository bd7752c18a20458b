"""Faults: kill -9 at random points of every writing command, and a store locked for 30 s.

For each writing command (tests/evidence/faultkit.py builds the scenario on the
demo store) it runs TRIALS kills: before a random SQL statement, after a random
commit, or at a random time (which can land inside a COMMIT's fsync). After each
kill the store must pass PRAGMA integrity_check and `incident verify`, and the
command must be entirely present or entirely absent. Prints, per command:
trials, store found as before / as after, operations half-done (goal 0) and
results lost (goal 0). Then a writer against a store locked by another program
for 30 s: how long until it says it waits, and that it gives up cleanly.

    python bench/bench_faults.py [--trials 50] [--only "import results"] [--lock-seconds 30]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def locked_writer(work: Path, step, hold_s: float) -> str:
    from tests.evidence import faultkit as fk

    db = work / "locked.sqlite"
    fk.snapshot(step.before, db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "incident", "--db", f"sqlite:///{db}", "--user", "bench"]
        + ["--lock-timeout", str(hold_s - 5), *step.argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stderr.readline()
    noticed = time.monotonic() - started
    rest = proc.communicate(timeout=hold_s + 60)[1]
    gave_up = time.monotonic() - started
    holder.execute("ROLLBACK")
    holder.close()
    clean = proc.returncode == 2 and "Traceback" not in rest and "database is locked" not in rest
    same = fk.signature(db) == step.before_sig
    return (
        f"locked store ({hold_s:g} s, --lock-timeout {hold_s - 5:g}): waiting notice after {noticed:.1f} s "
        f"(incl. start-up; {'shown' if 'waiting for the store' in first else 'MISSING'}), gave up after "
        f"{gave_up:.1f} s, exit {proc.returncode}, {'clean message' if clean else 'NOT CLEAN'}, "
        f"store {'unchanged' if same else 'CHANGED'}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=50, help="kill trials per command (default 50)")
    ap.add_argument("--only", action="append", help="only this command (repeat); default: all")
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--lock-seconds", type=float, default=30.0, help="how long the store stays locked")
    args = ap.parse_args()

    from tests.evidence import faultkit as fk

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.monotonic()
        _, steps = fk.prepare(work)
        print(f"scenario: {len(steps)} writing commands prepared in {time.monotonic() - started:.0f} s")
        rng = random.Random(args.seed)
        header = f"{'command':<24} {'trials':>6} {'before':>6} {'after':>6} {'half-done':>9} {'lost':>5}  s"
        print(header + "\n" + "-" * len(header))
        totals = {"trials": 0, "before": 0, "after": 0, "half": 0, "lost": 0}
        problems: list[str] = []
        for step in steps:
            if args.only and step.name not in args.only:
                continue
            t0 = time.monotonic()
            tally = fk.run_step(step, args.trials, work, rng)
            for k in totals:
                totals[k] += tally[k]
            problems += tally["problems"]
            print(
                f"{step.name:<24} {tally['trials']:>6} {tally['before']:>6} {tally['after']:>6} "
                f"{tally['half']:>9} {tally['lost']:>5}  {time.monotonic() - t0:.0f}",
                flush=True,
            )
        print(
            f"{'all':<24} {totals['trials']:>6} {totals['before']:>6} {totals['after']:>6} "
            f"{totals['half']:>9} {totals['lost']:>5}"
        )
        print(
            f"operations half-done: {totals['half']} (goal 0); results lost: {totals['lost']} (goal 0); "
            f"other problems: {len(problems)}"
        )
        for p in problems[:20]:
            print(f"  {p}")
        if args.lock_seconds > 5:
            print(locked_writer(work, next(s for s in steps if s.name == "result add"), args.lock_seconds))
        fk._forget_engines()
    return 0 if totals["half"] == 0 and totals["lost"] == 0 and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
