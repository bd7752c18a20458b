"""Issue 19, "fast at scale": every figure beside its goal, with a baseline measured in the same run.

    python bench/bench_scale.py [--quick] [--only results,cli,tui,solver]
    incident bench [--quick]                      (the same, from the command line)

Each line gives a figure, its goal, a baseline timed in this run on this machine
(a raw sqlite3 insert with the store's pragmas, ``python -c pass``, a bare Textual
app ...) and the ratio figure / baseline, so a slow or busy machine shows as a
slow baseline rather than as a regression. Nothing is asserted: a figure over its
goal is marked ``over`` and the bench still exits 0 (CI runs ``--quick`` and only
checks that every figure is printed: tests/core/test_bench.py).

``--quick`` (under a minute) measures the same things on smaller inputs and says
so on the line (e.g. "at 10,000"); the full run builds the million-result store.

Processes started for the CLI and TUI figures write their bytecode to a temporary
PYTHONPYCACHEPREFIX (warmed by a first run), as an installed package would have it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: every figure the bench prints, in order (tests/core/test_bench.py checks each appears)
FIGURES = (
    "results: enter one result, 0 in the incident",
    "results: enter one result, 1,000 in the incident",
    "results: enter one result, 10,000 in the incident",
    "results: enter one result, 100,000 in the incident",
    "results: import 10,000 results (CSV)",
    "results: a point's series, 1M-result store",
    "results: a round table, 1M-result store",
    "cli: incident --help (wall)",
    "cli: incident forecast demo scenario (wall)",
    "tui: interactive after start, demo database",
    "tui: keypress to render p95, 1,000 results 50 points",
    "tui: screen stack depth after switching screens",
    "tui: memory growth over 1,000 screen switches",
    "solver: demo 72 h forecast",
    "solver: OTIS yardstick, 200 km, 150 h",
)


@dataclass
class Figure:
    name: str
    value: float
    unit: str  # ms | s | MB | screens
    goal: float
    baseline_name: str = ""
    baseline: float | None = None
    note: str = ""

    def line(self) -> str:
        ok = "ok" if self.value <= self.goal else "over"
        ratio = "      — "
        if self.baseline:
            r = self.value / self.baseline
            ratio = f"{r:7.1f}×" if r >= 0.1 else f"{r:7.3f}×"  # faster than its baseline: 0.031×
        base = f"{self.baseline_name} {self.baseline:.2f} {self.unit}" if self.baseline is not None else ""
        return (
            f"{self.name:<56} {self.value:9.2f} {self.unit:<7} goal ≤ {self.goal:<7g} {ok:<4} "
            f"{ratio}  {base}{'  (' + self.note + ')' if self.note else ''}"
        )


def out(fig: Figure) -> Figure:
    print(fig.line(), flush=True)
    return fig


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


# ---------------------------------------------------------------- results store


def raw_insert_ms(path: str, runs: int = 30) -> float:
    """One row inserted and committed with the store's pragmas (WAL, synchronous=FULL): the disk's floor."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, a TEXT, b REAL)")

    def one() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_raw (a, b) VALUES (?, ?)", ("x", 1.0))
        conn.execute("COMMIT")

    try:
        return median_ms(one, runs)
    finally:
        conn.close()


def bench_results(quick: bool, tmp: Path, cache: Path | None = None) -> None:
    from scale_store import PARAMETERS, fill, new_store

    from incident.core.store.engine import open_store, session_scope
    from incident.results import ResultInput, add_result, import_results, point_series, round_table

    st = new_store(str(tmp / "entry.sqlite"))
    engine = open_store(st.url)
    base = raw_insert_ms(str(tmp / "raw.sqlite"))
    extra = ("selenium", "iron", "manganese", "fluoride", "cyanide", "sulfide")
    counter = [0]

    def enter() -> None:
        counter[0] += 1
        i = counter[0]
        codes = st.sample_codes
        sample = codes[-1 - (i % min(45, len(codes)))] if codes else None
        with session_scope(engine) as s:
            if sample is None:
                from incident.core.clock import utcnow
                from incident.results import NewSample, create_sample

                sample = create_sample(
                    s, st.code, NewSample(point="S1", sampled_at=utcnow(), sampler="bench"), actor="bench"
                ).code
                st.sample_codes.append(sample)
            add_result(
                s,
                st.code,
                ResultInput(
                    sample=sample,
                    parameter=extra[i % len(extra)],
                    value=f"{0.001 * (1 + i % 9):.3f}",
                    detection_limit="0.0005",
                    method="hj700_icpms",
                ),
                actor="bench",
            )

    sizes = [(0, 0), (1_000, 1_000), (10_000, 10_000), (100_000, 10_000 if quick else 100_000)]
    for (label, size), name in zip(sizes, FIGURES[:4], strict=True):
        if size > st.n_results:
            fill(st, size - st.n_results)
        enter()  # warm (first query plans, caches)
        runs = 10 if quick else 30
        cpu0 = time.process_time()
        value = median_ms(enter, runs)
        cpu = (time.process_time() - cpu0) / runs * 1000
        note = f"quick: at {size:,}; " if size != label else ""
        note += f"CPU {cpu:.1f} ms of it, the rest is the commit's fsync and waiting"
        out(Figure(name, value, "ms", 5.0, "raw sqlite insert+commit", base, note))
    engine.dispose()

    # import: a lab CSV of n results on existing samples, into a store that already holds some
    n_import = 1_000 if quick else 10_000
    st2 = new_store(str(tmp / "import.sqlite"))
    params = ("selenium", "iron", "manganese", "fluoride", "cyanide", "sulfide", "benzene", "toluene")
    # enough samples for n_import rows of these parameters (the store's own rows are 10 per sample)
    fill(st2, max(5_000, (n_import // len(params) + 100) * 10))
    csv_path = tmp / "lab.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sample", "parameter", "value", "unit", "detection_limit", "method"])
        rows = 0
        for code in st2.sample_codes:
            for p in params:
                if rows >= n_import:
                    break
                w.writerow([code, p, f"{0.001 * (1 + rows % 13):.4f}", "mg/L", "0.0005", "hj700_icpms"])
                rows += 1
    engine2 = open_store(st2.url)
    t = time.perf_counter()
    cpu0 = time.process_time()
    with session_scope(engine2) as s:
        report = import_results(s, st2.code, csv_path, actor="bench")
    took = time.perf_counter() - t
    import_cpu = time.process_time() - cpu0
    assert report.results == n_import
    engine2.dispose()
    raw = _raw_executemany_s(str(tmp / "raw.sqlite"), n_import)
    scale = 10_000 / n_import
    out(
        Figure(
            FIGURES[4],
            took * scale,
            "s",
            2.0,
            "raw sqlite executemany",
            raw * scale,
            (f"quick: {n_import:,} rows, ×{scale:g}; " if scale != 1 else "")
            + f"CPU {import_cpu * scale:.2f} s; every row signed and logged, QC on each",
        )
    )

    # reads from a big store
    n_big = 100_000 if quick else 1_000_000
    st3, built = big_store(n_big, tmp, cache)
    engine3 = open_store(st3.url)
    point = st3.points[len(st3.points) // 2]
    # a full round (the last one may be cut short by the result count): every point, every parameter
    full_round = max(st3.round_ids) - 1
    with session_scope(engine3) as s:
        series = point_series(s, st3.code, point, "cadmium")
        rt = round_table(s, st3.code, full_round)
    assert series.values_mg_l and len(rt.cells) == len(st3.points) * len(PARAMETERS), len(rt.cells)

    def read_series() -> None:
        with session_scope(engine3) as s:
            point_series(s, st3.code, point, "cadmium")

    def read_round() -> None:
        with session_scope(engine3) as s:
            round_table(s, st3.code, full_round)

    raw_series, raw_round = _raw_reads_ms(st3, point, full_round)
    note = (
        f"quick: {n_big:,} results"
        if quick
        else f"{n_big:,} results, "
        + (f"built in {built:.1f} s" if built is not None else "store reused from the cache")
    )
    out(
        Figure(
            FIGURES[5],
            median_ms(read_series, 5),
            "ms",
            50.0,
            "raw sqlite select",
            raw_series,
            note + f", {len(series.times)} values",
        )
    )
    rapid = sum(r.status != "final" for cell in rt.cells.values() for r in cell.records)
    round_note = f"{note}, round {full_round}: {len(rt.cells)} cells, {rapid} rapid positives to confirm"
    out(Figure(FIGURES[6], median_ms(read_round, 5), "ms", 100.0, "raw sqlite select", raw_round, round_note))
    engine3.dispose()


def big_store(n: int, tmp: Path, cache: Path | None):
    """The read figures' store of ``n`` results and the seconds its build took (None when reused).

    With a cache folder the store is built once and kept there, named after its size, the
    builder's source and the schema head (a changed builder or a new migration builds a new one:
    a store left at a revision the code no longer knows could not be opened). Only read here."""
    import hashlib
    import pickle
    import shutil

    from scale_store import fill, new_store

    if cache is None:
        st = new_store(str(tmp / "big.sqlite"))
        t = time.perf_counter()
        fill(st, n)
        return st, time.perf_counter() - t
    from incident.core.store.engine import SCHEMA_HEAD

    source = Path(__file__).with_name("scale_store.py").read_bytes() + SCHEMA_HEAD.encode()
    digest = hashlib.sha256(source).hexdigest()[:12]
    stem = cache / f"scale-{n}-{digest}"
    db, meta = stem.with_suffix(".sqlite"), stem.with_suffix(".pickle")
    if db.exists() and meta.exists():
        with open(meta, "rb") as fh:
            st = pickle.load(fh)
        st.path, st.url = str(db), f"sqlite:///{db}"
        return st, None
    cache.mkdir(parents=True, exist_ok=True)
    building = tmp / "big.sqlite"
    st = new_store(str(building))
    t = time.perf_counter()
    fill(st, n)
    built = time.perf_counter() - t
    shutil.move(str(building), str(db))  # fill() checkpointed: the WAL is empty
    for extra in ("-wal", "-shm"):
        Path(str(building) + extra).unlink(missing_ok=True)
    st.path, st.url = str(db), f"sqlite:///{db}"
    with open(meta, "wb") as fh:
        pickle.dump(st, fh)
    return st, built


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "incident" / "bench"


def _raw_executemany_s(path: str, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_many (id INTEGER PRIMARY KEY, s INTEGER, p TEXT, v REAL, u TEXT)"
    )
    rows = [(i, "cadmium", 0.001 * i, "mg/L") for i in range(n)]
    t = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO bench_many (s, p, v, u) VALUES (?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    took = time.perf_counter() - t
    conn.close()
    return took


def _raw_reads_ms(st, point: str, round_number: int) -> tuple[float, float]:
    """The same rows fetched with hand-written SQL on a bare sqlite3 connection."""
    conn = sqlite3.connect(st.path)
    pid = st.point_ids[point]
    last_round = st.round_ids[round_number]

    def series() -> None:
        conn.execute(
            "SELECT s.sampled_at, r.value_mg_l FROM sample s JOIN result r ON r.sample_id = s.id "
            "WHERE s.point_id = ? AND r.parameter = 'cadmium' ORDER BY s.sampled_at",
            (pid,),
        ).fetchall()

    def rnd() -> None:
        conn.execute(
            "SELECT s.point_id, r.parameter, r.value_mg_l FROM sample s JOIN result r ON r.sample_id = s.id "
            "WHERE s.round_id = ?",
            (last_round,),
        ).fetchall()

    try:
        return median_ms(series, 5), median_ms(rnd, 5)
    finally:
        conn.close()


# ---------------------------------------------------------------- command line


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["INCIDENT_HOME"] = str(tmp / "home")
    env["PYTHONPATH"] = str(ROOT)
    return env


def wall_s(args: list[str], env: dict[str, str], runs: int) -> float:
    subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True)  # warm bytecode and caches
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


FLOOR = """import numpy, pydantic
class Probe(pydantic.BaseModel):
    x: float
Probe(x=1.0)
"""


def bench_cli(quick: bool, tmp: Path) -> None:
    env = _env(tmp)
    runs = 3 if quick else 7
    py = sys.executable
    bare = wall_s([py, "-c", "pass"], env, runs)
    cli = [py, "-m", "incident"]
    help_s = wall_s(cli + ["--help"], env, runs)
    out(Figure(FIGURES[7], help_s, "s", 0.3, "python -c pass", bare))
    scenario = str(ROOT / "incident" / "data" / "examples" / "jade_river_spill.toml")
    fc = wall_s(cli + ["forecast", scenario], env, runs)
    # the floor no code of ours can go under: starting Python, importing numpy and building one
    # pydantic model (which loads pydantic's schema machinery); and what scipy's packages would add
    # (the command loads only two of scipy's extension modules: models/compiled.py)
    floor = wall_s([py, "-c", FLOOR], env, runs)
    packages = wall_s([py, "-c", FLOOR + "import scipy.linalg, scipy.special\n"], env, runs)
    note = (
        f"process start included; numpy + one pydantic model alone: {floor:.2f} s; "
        f"importing scipy.linalg and scipy.special too would take {packages:.2f} s"
    )
    out(Figure(FIGURES[8], fc, "s", 0.5, "python -c pass", bare, note))


# ---------------------------------------------------------------- terminal UI

BARE_APP = """
import time
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
async def ready(pilot):
    print(f"FIRST {time.time():.6f}", flush=True)
    pilot.app.exit()
Bare().run(headless=True, size=(80, 24), auto_pilot=ready)
"""

INCIDENT_APP = """
import sys, time
from incident.cli.shell.context import engine_from, settings_from
from incident.demo.seed import ensure_demo
from incident.tui.app import make_app
class Args: db = sys.argv[1]; lang = "en"; user = "bench"
settings = settings_from(Args)
engine = engine_from(Args)
code = ensure_demo(engine, actor="bench")
async def ready(pilot):
    print(f"FIRST {time.time():.6f}", flush=True)  # the first frame is up and takes keys
    pilot.app.exit()
make_app(engine=engine, settings=settings, incident_code=code).run(headless=True, size=(80, 24), auto_pilot=ready)
"""


def _first_frame_s(code: str, env: dict[str, str], *args: str) -> float:
    wall0 = time.time()
    res = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    first = [float(x.split()[1]) for x in res.stdout.splitlines() if x.startswith("FIRST ")]
    return first[0] - wall0


def bench_tui(quick: bool, tmp: Path) -> None:
    env = _env(tmp)
    db = f"sqlite:///{tmp / 'demo.sqlite'}"
    runs = 2 if quick else 5
    _first_frame_s(INCIDENT_APP, env, db)  # creates the demo, warms bytecode
    _first_frame_s(BARE_APP, env)
    incident = statistics.median(_first_frame_s(INCIDENT_APP, env, db) for _ in range(runs))
    bare = statistics.median(_first_frame_s(BARE_APP, env) for _ in range(runs))
    out(Figure(FIGURES[9], incident, "s", 1.0, "bare Textual app", bare))
    keys, depth, growth, bare_key, (cold_keys, hits, n_keys) = asyncio.run(_tui_in_process(quick, tmp))
    out(
        Figure(
            FIGURES[10],
            keys,
            "ms",
            50.0,
            "bare app key p95",
            bare_key,
            "results screen: [ ] round, c class; key sent to its last paint, terminal output included;"
            f" {hits} of {n_keys} views read ahead, read again after;"
            f" with each key reading its round first: p95 {cold_keys:.0f} ms",
        )
    )
    out(Figure(FIGURES[11], depth, "screens", 3, note="deepest stack seen (default + home + one)"))
    n = _switches(quick)
    out(
        Figure(
            FIGURES[12],
            growth,
            "MB",
            2.0,
            note=f"tracemalloc after warm-up, closed screens gone{', quick: ' + str(n) + ' switches' if quick else ''}",
        )
    )


async def _settled(pilot) -> None:
    from textual.worker import WorkerCancelled

    app = pilot.app
    await pilot.pause()
    for _ in range(10):
        try:
            await app.workers.wait_for_complete()
            break
        except WorkerCancelled:  # an exclusive worker replaced by the next key's: done all the same
            continue
    await pilot.pause()


def _switches(quick: bool) -> int:
    """Screen switches for the memory figure. Quick (CI): enough to open and close every screen of
    the cycle four times; the figure is the full run's, and tests/tui/test_screen_stack.py holds the
    behaviour."""
    return 24 if quick else 1000


async def _tui_in_process(quick: bool, tmp: Path) -> tuple[float, int, float, float, tuple[float, int, int]]:
    import gc
    import tracemalloc

    from scale_store import fill, new_store
    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import Static

    from incident.core.config import Settings
    from incident.core.store.engine import open_store
    from incident.tui.app import make_app

    st = new_store(str(tmp / "tui.sqlite"))
    fill(st, 1_000)  # 2 rounds × 50 points × 10 parameters
    engine = open_store(st.url)
    settings = Settings(db_url=st.url, lang="en", user="bench")
    app = make_app(engine=engine, settings=settings, incident_code=st.code)
    times: list[float] = []
    cold: list[float] = []  # the same keys, each reading its round first (no read-ahead)
    read_ahead_hits = 0  # keys whose view was read ahead
    depth = 0
    growth_mb = 0.0
    async with app.run_test(size=(100, 30)) as pilot:
        await _settled(pilot)
        await pilot.press("v")
        await _settled(pilot)
        # on the results screen: previous/next round and the water class; the screen reads ahead
        # the views one key away, shows one at once and reads it again (a second frame if it
        # changed); then the same keys with no read-ahead: each key reads its round first
        paints = _Paints(app)
        for ahead, timed in ((True, times), (False, cold)):
            app.screen.read_ahead = ahead
            app.screen._read_ahead.clear()
            for key in ["left_square_bracket", "right_square_bracket", "c"] * (7 if quick else 20):
                shown, ready = _shown(app), set(app.screen._read_ahead)
                timed.append(await _key_to_paint_ms(pilot, paints, key))
                if _shown(app) == shown:
                    raise RuntimeError(f"{key!r} did not change the round or class shown: {shown}")
                read_ahead_hits += ahead and _shown(app) in ready
                depth = max(depth, len(app.screen_stack))
        del app.screen.read_ahead
        switches = _switches(quick)
        cycle = "vdmdbd"

        async def switch(n: int) -> None:
            nonlocal depth
            for i in range(n):
                await pilot.press(cycle[i % len(cycle)])
                if i % 3 == 0:
                    await _settled(pilot)
                depth = max(depth, len(app.screen_stack))
            await _settled(pilot)

        async def closed_screens_gone() -> None:
            # what a closed screen's cancelled worker thread still reads keeps it until the thread
            # returns: work in flight, not kept memory (tests/tui/test_screen_stack.py waits alike)
            for _ in range(400):
                await _settled(pilot)
                gc.collect()
                if not any(isinstance(o, Screen) and o not in app.screen_stack for o in gc.get_objects()):
                    return
                await pilot.pause(0.05)

        await switch(12 if quick else 30)  # warm-up: caches, compiled CSS, first workers
        await closed_screens_gone()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        await switch(switches)
        await closed_screens_gone()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        growth_mb = (after - before) / 1e6
    engine.dispose()

    class Bare(App):
        BINDINGS = [("x", "bump", "bump")]
        n = 0

        def compose(self):
            yield Static("0", id="n")

        def action_bump(self) -> None:
            self.n += 1
            self.query_one("#n", Static).update(str(self.n))

    bare_times = []
    bare = Bare()
    async with bare.run_test(size=(100, 30)) as pilot:
        await _settled(pilot)
        paints = _Paints(bare)
        for _ in range(30):
            bare_times.append(await _key_to_paint_ms(pilot, paints, "x"))
    return _p95(times), depth, growth_mb, _p95(bare_times), (_p95(cold), read_ahead_hits, len(times))


class _Paints:
    """When the app paints: each compositor update it hands its driver, turned into the bytes a
    terminal would get (a headless driver skips that step; a user's terminal does not)."""

    def __init__(self, app) -> None:
        from textual._compositor import CompositorUpdate

        self.times: list[float] = []
        display = app._display

        def paint(screen, renderable) -> None:
            if renderable is not None and not app._batch_count:
                if isinstance(renderable, CompositorUpdate):
                    renderable.render_segments(app.console)
                self.times.append(time.perf_counter())
            display(screen, renderable)

        app._display = paint


async def _key_to_paint_ms(pilot, paints: _Paints, key: str) -> float:
    """From the key sent to the app to its last paint in answer (the screen the user then sees).

    Pilot's own waits (``press`` and :func:`_idle` sleep 20 ms at a time until the process is
    idle) only tell when the answer is over; they are not counted, and they force no paint. The app does not paint when
    idle, so the last paint after the key is the one that shows the key's answer: the new data
    laid out, rendered and turned into terminal output.
    """
    n = len(paints.times)
    t0 = time.perf_counter()
    await pilot.press(key)
    await _idle(pilot)
    if len(paints.times) == n:
        raise RuntimeError(f"no paint after {key!r}")
    return (paints.times[-1] - t0) * 1000


async def _idle(pilot) -> None:
    """As :func:`_settled`, without ``Pilot.pause``'s forced screen update: the app paints on its
    own timer, as it does for a user (a forced update could paint a tick early)."""
    from textual._wait import wait_for_idle
    from textual.worker import WorkerCancelled

    for _ in range(2):
        await pilot._wait_for_screen()
        await wait_for_idle(0)
        for _ in range(10):
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                continue
    await pilot._wait_for_screen()
    await wait_for_idle(0)


def _shown(app) -> tuple[object, object]:
    """The round and water class the results screen shows."""
    rt = getattr(app.screen, "table_data", None)
    return (rt.round, rt.water_class) if rt is not None else (None, None)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


# ---------------------------------------------------------------- the solver (measured; issue 15 changes it)


def bench_solver(quick: bool, tmp: Path) -> None:
    import numpy as np

    from incident.core.rivers import load_river_file
    from incident.demo.seed import DEMO_RIVER
    from incident.plume.forecast import build_reach_specs, reach_hydraulics
    from models.analytic import slug
    from models.transport import OutputPoint, Release, simulate

    runs = 3 if quick else 7
    net = load_river_file(DEMO_RIVER)
    hydraulics, _ = reach_hydraulics(net)
    specs = build_reach_specs(net, hydraulics)
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    snap = net.snap(24.68539, 109.32543)
    releases = [Release(index[snap.reach_id], snap.offset_m, duration_s=1800.0, mass_kg=8000.0)]
    outputs = [OutputPoint(index[rc.reach_id], rc.offset_m, rc.receptor_id) for rc in net.receptors]
    kw = {"horizon_s": 72 * 3600.0, "dx_m": 100.0, "output_every_s": 600.0, "decay_per_s": 0.05 / 86400}
    result = simulate(specs, releases, outputs=outputs, **kw)
    demo = median_ms(lambda: simulate(specs, releases, outputs=outputs, **kw), runs)
    x = (np.arange(result.grid.n_cells) + 0.5) * 100.0
    analytic = median_ms(lambda: slug(x[:, None], result.times_s[None, :], 8000.0, 450.0, 0.7, 300.0), runs)
    g = result.grid
    steps = f"Δt {g.dt_s:g} s, {g.n_steps} steps, Cr {g.max_courant:.2f}, r {g.max_diffusion_number:.2f}"
    out(Figure(FIGURES[13], demo, "ms", 50.0, "analytic slug, same cells", analytic, steps))

    # OTIS yardstick (issue 19): 200 km, U 0.5 m/s, D 100 m²/s, a 1 h pulse, 150 h, 100 m cells.
    # The problem, the exact (flux-inlet) answer and the error measures are bench_yardstick's, one copy;
    # timed here on its fast grid (Δt 900 s), against OTIS's Fortran, with its peak error beside it.
    import bench_yardstick as yardstick

    fast = yardstick.solve(yardstick.FAST_DT_S)
    errors = yardstick.errors(fast)
    otis = median_ms(lambda: yardstick.solve(yardstick.FAST_DT_S, outputs=False), runs)
    auto = median_ms(lambda: yardstick.solve(None, outputs=False), runs)
    out(
        Figure(
            FIGURES[14],
            otis,
            "ms",
            50.0,
            "OTIS Fortran (issue 19, not run here)",
            yardstick.OTIS_S * 1e3,
            f"peak error {max(errors['peak_pct']):.3f} % (goal ≤ 0.08 %); Δt {fast.grid.dt_s:g} s; "
            f"the automatic Δt (Courant ≤ 1) {auto:.1f} ms",
        )
    )


SECTIONS = {"results": bench_results, "cli": bench_cli, "tui": bench_tui, "solver": bench_solver}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, under a minute (CI)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--store-cache",
        default=None,
        help="folder that keeps the full run's million-result store between runs "
        f"(default {_default_cache()}; 'none' builds it anew in a temporary folder)",
    )
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    print(
        f"issue 19 bench{' (quick)' if args.quick else ''}: {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(f"{'figure':<56} {'value':>9} {'unit':<7} goal")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="incident-bench-") as tmp:
        for name in wanted:
            if name == "results":
                cache = (
                    None
                    if args.quick or args.store_cache == "none"
                    else Path(args.store_cache or _default_cache())
                )
                bench_results(args.quick, Path(tmp), cache)
            else:
                SECTIONS[name](args.quick, Path(tmp))
    print(f"bench done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
