"""Faults: kill -9 at random points of every writing command, and a store locked for 30 s.

For each writing command (tests/evidence/faultkit.py builds the scenario on the
demo store) it runs TRIALS kills: before a random SQL statement, after a random
commit, or at a random time (which can land inside a COMMIT's fsync). After each
kill the store must pass PRAGMA integrity_check and `incident verify`, and the
command must be entirely present or entirely absent. Prints, per command:
trials, store found as before / as after, operations half-done (goal 0) and
results lost (goal 0). Then a writer against a store locked by another program
for 30 s: how long until it says it waits, and that it gives up cleanly.

    python bench/bench_faults.py [--trials 50] [--jobs 2] [--only "import results"] [--lock-seconds 30]

A trial costs about 1-4 s on an idle machine (fork, the command, then integrity_check and
`incident verify` of the copy, skipped when the copy is row for row the before state, which was
verified once); one of the 1,000-row import, half a minute. Each command's row is printed as soon
as its trials end (quickest commands first), then the table in scenario order. --jobs runs trials side by side, each worker
with its own copy of the store.
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
    ap.add_argument("--jobs", type=int, default=1, help="trials run at once, each in a worker of its own")
    ap.add_argument("--lock-seconds", type=float, default=30.0, help="how long the store stays locked")
    args = ap.parse_args()

    from tests.evidence import faultkit as fk

    print(f"bench_faults: {' '.join(sys.argv[1:]) or '(defaults)'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.monotonic()
        _, steps = fk.prepare(work)
        print(
            f"scenario: {len(steps)} writing commands prepared in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        rng = random.Random(args.seed)
        chosen = [i for i, s in enumerate(steps) if not args.only or s.name in args.only]
        tasks = [(i, *t) for i in chosen for t in fk.plan_trials(steps[i], args.trials, rng)]
        # the quickest commands first: on a busy machine most commands have their figures early
        tasks.sort(key=lambda t: steps[t[0]].seconds)
        tally = {i: {"trials": 0, "before": 0, "after": 0, "half": 0, "lost": 0, "s": 0.0} for i in chosen}
        problems: dict[int, list[str]] = {i: [] for i in chosen}
        header = f"{'command':<24} {'trials':>6} {'before':>6} {'after':>6} {'half-done':>9} {'lost':>5} {'s/trial':>7}"

        def row(name: str, t: dict) -> str:
            return (
                f"{name:<24} {t['trials']:>6} {t['before']:>6} {t['after']:>6} "
                f"{t['half']:>9} {t['lost']:>5} {t['s'] / max(1, t['trials']):>7.1f}"
            )

        print("each command as its trials end:\n" + header, flush=True)
        t0 = time.monotonic()
        for i, mode, n, delay, out, seconds in fk.run_trials(steps, tasks, work, args.jobs):
            t = tally[i]
            t["trials"] += 1
            t["half" if out.state == "HALF" else out.state] += 1
            t["lost"] += out.lost
            t["s"] += seconds
            problems[i] += [f"{steps[i].name} [{mode} {n or round(delay, 3)}]: {p}" for p in out.problems]
            if t["trials"] == args.trials:
                print(f"{row(steps[i].name, t)}  (at {time.monotonic() - t0:.0f} s)", flush=True)
        wall = time.monotonic() - t0
        print("\nin scenario order:\n" + header + "\n" + "-" * len(header))
        totals = {"trials": 0, "before": 0, "after": 0, "half": 0, "lost": 0, "s": 0.0}
        for i in chosen:
            for k in totals:
                totals[k] += tally[i][k]
            print(row(steps[i].name, tally[i]))
        print(row("all", totals))
        every = [p for i in chosen for p in problems[i]]
        print(
            f"operations half-done: {totals['half']} (goal 0); results lost: {totals['lost']} (goal 0); "
            f"other problems: {len(every)}; {totals['trials']} trials in {wall:.0f} s with --jobs {args.jobs}"
        )
        for p in every[:20]:
            print(f"  {p}")
        if args.lock_seconds > 5:
            print(locked_writer(work, next(s for s in steps if s.name == "result add"), args.lock_seconds))
        fk._forget_engines()
    return 0 if totals["half"] == 0 and totals["lost"] == 0 and not every else 1


if __name__ == "__main__":
    sys.exit(main())
