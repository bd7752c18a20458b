"""Start-up: time from launch to the first interactive frame of the dashboard.

Each figure is the median wall time of a fresh process that starts the app
headless, waits until the dashboard has shown its data, and exits. The
baseline, measured in the same run, is a bare Textual app with one Static
widget: the ratio says what incident adds on top of Python + Textual.

    python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
async def ready(pilot):
    await pilot.pause()
    pilot.app.exit()
Bare().run(headless=True, size=(80, 24), auto_pilot=ready)
"""

INCIDENT = """
import sys
from incident.cli.shell.context import engine_from, settings_from
from incident.demo.seed import ensure_demo
from incident.tui.app import make_app
class Args: db = sys.argv[1]; lang = "en"; user = "bench"
settings = settings_from(Args)
engine = engine_from(Args)
code = ensure_demo(engine, actor="bench")
import time
async def ready(pilot):
    print(f"FIRST {time.time():.6f}", flush=True)  # the first frame is up and takes keys
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert type(pilot.app.screen).__name__ == "DashboardScreen"
    pilot.app.exit()
make_app(engine=engine, settings=settings, incident_code=code).run(headless=True, size=(80, 24), auto_pilot=ready)
"""


def timed(code: str, *args: str) -> float:
    return timed_phases(code, *args)[1]


def timed_phases(code: str, *args: str) -> tuple[float | None, float]:
    """(seconds to the first interactive frame if the child reports it, seconds to exit)."""
    wall0 = time.time()
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    ).stdout
    total = time.perf_counter() - start
    first = next(
        (float(line.split()[1]) - wall0 for line in out.splitlines() if line.startswith("FIRST ")), None
    )
    return first, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.sqlite"
        first = timed(INCIDENT, db)  # creates the schema and loads the demo
        runs = [timed_phases(INCIDENT, db) for _ in range(args.runs)]
        frame = statistics.median(r[0] for r in runs)
        warm = statistics.median(r[1] for r in runs)
        bare = statistics.median(timed(BARE) for _ in range(args.runs))
    print(f"baseline: bare Textual app to first frame   {bare * 1000:7.0f} ms")
    print(
        f"incident: first launch (creates demo)       {first * 1000:7.0f} ms   {first / bare:5.2f} × baseline"
    )
    print(
        f"incident: launch to first interactive frame {frame * 1000:7.0f} ms   {frame / bare:5.2f} × baseline"
        "   (goal ≤ 1000 ms on 2 cores)"
    )
    print(
        f"incident: launch to dashboard data shown    {warm * 1000:7.0f} ms   {warm / bare:5.2f} × baseline"
    )


if __name__ == "__main__":
    main()
