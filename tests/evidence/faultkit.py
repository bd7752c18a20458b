"""Fault injection for every writing command: kill -9 at random points, then check the store.

A *scenario* runs the writing commands one after another through the real CLI
(``incident.cli.main``) on the demo store, and keeps for each command a copy of
the store just before it (its *before* state), the store's signature after it,
the number of SQL statements it sends and how long it takes.

A *trial* copies a command's before state, forks a child (cheap: this process
has already imported everything) that runs the command and SIGKILLs itself:

- ``stmt``: just before its N-th SQL statement (N drawn from 1..all of them),
- ``commit``: just after its N-th commit returned,
- ``time``: after a random time from a timer thread (this can land inside a
  COMMIT's fsync, which the two above cannot).

Then the store must pass ``PRAGMA integrity_check`` and ``incident verify``,
every result of the before state must be there unchanged, and its signature
(row counts of every table plus the state columns) must be the before one or
the after one: the command happened entirely or not at all. An output file
(report, backup) that exists must be complete.
"""

from __future__ import annotations

import gc
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

#: columns whose values are part of the signature (a command that only updates rows shows here)
STATE_COLUMNS = {
    "status",
    "state",
    "current_step",
    "exercise_speed",
    "quantity",
    "next_due",
    "last_done",
    "holder",
    "condition",
}
#: columns of which only "set or not" is part of the signature
SET_COLUMNS = {"delivered_at", "released_at", "reviewed_at"}
SKIP_TABLES = {"sqlite_sequence", "alembic_version"}

SCENARIO_FILE = Path(__file__).resolve().parents[2] / "incident/data/drills/jade_cadmium_night.toml"


@dataclass
class Step:
    name: str
    argv: list[str]
    ok_codes: tuple[int, ...] = (0,)
    output: str | None = None  # a file the command writes (checked complete if present)
    fresh_store: bool = False  # runs on an empty store (backup import)
    pause_after_s: float = 0.0
    changes_store: bool = True  # False: only writes a file (backup export)
    # filled by the reference run
    before: Path | None = None
    before_sig: dict = field(default_factory=dict)
    before_results: dict = field(default_factory=dict)  # results_digests(before), computed once
    before_digest: str = ""  # content_digest(before), set once `incident verify` passed on it
    after_sig: dict = field(default_factory=dict)
    statements: int = 0
    commits: int = 0
    seconds: float = 0.0


def signature(db_path: str | Path, *, immutable: bool = False) -> dict:
    """Row counts of every table and the values of its state columns."""
    if immutable:  # on a read-only disk
        conn = sqlite3.connect(f"file:{db_path}?immutable=1", uri=True)
    else:
        conn = sqlite3.connect(str(db_path))
    try:
        sig: dict = {}
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
            if r[0] not in SKIP_TABLES
        ]
        for t in tables:
            sig[t] = conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
            for c in cols:
                if c in STATE_COLUMNS:
                    vals = conn.execute(f'SELECT "{c}" FROM "{t}" ORDER BY id').fetchall()
                    sig[f"{t}.{c}"] = [str(v[0]) for v in vals]
                elif c in SET_COLUMNS:
                    sig[f"{t}.{c}"] = conn.execute(f'SELECT count("{c}") FROM "{t}"').fetchone()[0]
        return sig
    finally:
        conn.close()


def diff(a: dict, b: dict) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def results_digests(db_path: str | Path) -> dict[int, str]:
    """Every result row, by id, as a digest of all its columns."""
    import hashlib

    conn = sqlite3.connect(str(db_path))
    try:
        rows = conn.execute("SELECT * FROM result ORDER BY id").fetchall()
    finally:
        conn.close()
    return {r[0]: hashlib.sha256(repr(r).encode()).hexdigest() for r in rows}


def content_digest(db_path: str | Path) -> str:
    """A digest of everything in the store: the schema (tables, indexes, triggers) and every row
    of every table. Two stores with the same digest are the same to `incident verify`."""
    import hashlib

    h = hashlib.sha256()
    conn = sqlite3.connect(str(db_path))
    try:
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        h.update(repr(schema).encode())
        for kind, name, *_ in schema:
            if kind == "table":
                for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                    h.update(repr(row).encode())
    finally:
        conn.close()
    return h.hexdigest()


def verify_problem(db_path: str | Path) -> str | None:
    """Open the store as the next start would, run `incident verify`; its first problem, if any."""
    from incident.core.store.engine import open_store, session_scope
    from incident.evidence import integrity

    engine = open_store(f"sqlite:///{db_path}")
    try:
        with session_scope(engine) as s:
            report = integrity.verify(s)
        return None if report.ok else f"verify: {report.first_problem.render()}"
    finally:
        engine.dispose()


def snapshot(src: str | Path, dst: str | Path) -> None:
    """A consistent copy of an SQLite store (online backup, WAL included)."""
    Path(dst).unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    with sqlite3.connect(str(src)) as s, sqlite3.connect(str(dst)) as d:
        s.backup(d)
    s.close()
    d.close()


def _write_inputs(work: Path, code_points: list[str]) -> dict[str, Path]:
    from incident.core.clock import fmt_local, utcnow

    start = utcnow() - timedelta(hours=20)
    rng = random.Random(23)
    results_csv = work / "station.csv"
    lines = ["point,sampled_at,parameter,value,unit,detection_limit,method,principle,method_kind"]
    points = code_points[:10]
    for i in range(1000):
        point = points[i % len(points)]
        when = fmt_local(start + timedelta(minutes=10 * (i // len(points))))
        lines.append(
            f"{point},{when},nitrobenzene,{rng.uniform(0.001, 0.2):.4f},mg/L,0.0005,online GC,gc,online"
        )
    results_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inv_csv = work / "inventory.csv"
    cols = (
        "record,asset_tag,category,type,model,serial,location,holder,condition,in_service,schedule,"
        "interval_days,last_done,next_due,item,lot,quantity,unit,expires_on,min_stock,notes"
    )
    rows = [cols]
    for i in range(200):
        rows.append(
            f"consumable,,,,,,,,,,,,,,reagent {i // 10},LOT-{i:04d},{10 + i % 7},bottles,2031-01-01,2,faults"
        )
    inv_csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {"results_csv": results_csv, "inventory_csv": inv_csv}


def build_steps(work: Path, code: str, points: list[str], tag: str, schedule: str, item: str) -> list[Step]:
    files = _write_inputs(work, points)
    sample = f"{code}-S2-R1-01"
    report = work / "report.html"
    backup = work / "backup.jsonl"
    today = time.strftime("%Y-%m-%d")
    return [
        Step("new", ["new", "Faults test spill", "--substance", "cadmium", "--mass-kg", "100"]),
        Step("plan propose", ["plan", "propose", code]),
        Step("rounds", ["rounds", code]),
        Step("crew checkin", ["crew", "checkin", code, "A"]),
        Step("assign --dispatch", ["assign", code, "--dispatch"], ok_codes=(0, 1)),
        Step(
            "report draft",
            ["report", "draft", code, "--kind", "flash", "-o", str(report)],
            output=str(report),
        ),
        Step("report review", ["report", "review", code, "1", "--by", "Wang Fang"]),
        Step("report release", ["report", "release", code, "1", "--by", "Chen Jie", "--yes"]),
        Step(
            "sample new", ["sample", "new", code, "--point", "S2", "--round", "1", "--param", "nitrobenzene"]
        ),
        Step(
            "result add",
            ["result", "add", sample, "--param", "nitrobenzene", "--value", "0.05", "--dl", "0.0005"]
            + ["--method", "hj648_gc"],
        ),
        Step("result correct", ["result", "correct", "1", "--value", "0.06", "--reason", "typo"]),
        Step("custody", ["custody", sample, "--from", "tester", "--to", "Lab"]),
        Step("import results", ["import", "results", code, str(files["results_csv"])]),
        Step("inventory import", ["inventory", "import", str(files["inventory_csv"])]),
        Step("calibrate", ["calibrate", tag, "--schedule", schedule, "--on", today, "--by", "Metrology lab"]),
        Step("stock", ["stock", item, "--delta", "-1", "--reason", "used in the field"]),
        Step("maintain", ["maintain", tag, "--on", today, "--by", "Workshop"]),
        Step("checkin (kit)", ["checkin", "KIT-HM-1"]),  # the demo has it out with a crew
        Step("checkout (kit)", ["checkout", "KIT-HM-1", "--crew", "Crew B", "--incident", code]),
        Step(
            "backup export",
            ["backup", "export", code, "-o", str(backup)],
            output=str(backup),
            changes_store=False,
        ),
        Step("backup import", ["backup", "import", str(backup)], fresh_store=True),
        Step("drill start", ["drill", "start", str(SCENARIO_FILE), "--speed", "600"], pause_after_s=1.5),
        Step("drill speed", ["drill", "speed", "EX-{year}-0001", "0"]),
        Step("drill tick (injects)", ["drill", "tick", "EX-{year}-0001"]),
        Step("drill end (ENDEX)", ["drill", "end", "EX-{year}-0001"]),
    ]


def cli(db_path: Path, argv: list[str]) -> int:
    """Run the CLI in this process, output discarded; returns the exit code."""
    import contextlib
    import io

    from incident.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        rc = main(["--db", f"sqlite:///{db_path}", "--user", "tester", *argv])
    if rc not in (0, 1):
        raise AssertionError(f"{argv}: exit {rc}: {err.getvalue()}")
    return rc


def _fill(argv: list[str]) -> list[str]:
    year = time.strftime("%Y")
    return [a.replace("{year}", year) for a in argv]


class Counter:
    """Counts SQL statements and commits of this process (the reference run)."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0

    def install(self) -> Callable[[], None]:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        from incident.core.store import faults

        def on_stmt(*_a) -> None:
            self.statements += 1

        original = faults.Ledger.committed

        def committed(ledger) -> None:
            original(ledger)
            self.commits += 1

        event.listen(Engine, "before_cursor_execute", on_stmt)
        faults.Ledger.committed = committed

        def remove() -> None:
            event.remove(Engine, "before_cursor_execute", on_stmt)
            faults.Ledger.committed = original

        return remove


def _forget_engines() -> None:
    """Drop the CLI's cached engines (and so their connections) before a fork or a copy."""
    from incident.cli.shell import context

    context._engine.cache_clear()
    gc.collect()


def prepare(work: Path) -> tuple[str, list[Step]]:
    """Run the scenario once for real, recording each command's before state and after signature."""
    from sqlmodel import select

    from incident.core.incidents import list_incidents
    from incident.core.store.engine import open_store, session_scope
    from incident.core.store.tables import CalibrationSchedule, Consumable, Equipment
    from incident.demo.seed import ensure_demo

    work.mkdir(parents=True, exist_ok=True)
    # what the run built before the scenario stays as long as the run: kept out of later
    # collections, so that _forget_engines (twice a step below) sweeps only what the scenario makes
    # (a sweep of a test worker's whole heap took 0.15 s, 50 of them 7 s of the scenario)
    _forget_engines()
    gc.freeze()
    db = work / "store.sqlite"
    empty = work / "empty.sqlite"
    engine = open_store(f"sqlite:///{db}")
    code = ensure_demo(engine, actor="tester")
    with session_scope(engine) as s:
        sched = s.exec(select(CalibrationSchedule)).first()
        tag = s.get(Equipment, sched.equipment_id).asset_tag
        schedule = sched.name
        item = s.exec(select(Consumable).order_by(Consumable.id)).first().item
        code = list_incidents(s)[0].code
    engine.dispose()
    open_store(f"sqlite:///{empty}").dispose()
    points = [f"S{i}" for i in range(1, 13)]
    steps = build_steps(work, code, points, tag, schedule, item)
    for i, step in enumerate(steps):
        step.argv = _fill(step.argv)
        target = empty if step.fresh_store else db
        step.before = work / f"before-{i:02d}.sqlite"
        _forget_engines()
        snapshot(target, step.before)
        step.before_sig = signature(step.before)
        step.before_results = results_digests(step.before)
        if verify_problem(step.before) is None:
            step.before_digest = content_digest(step.before)
        counter = Counter()
        remove = counter.install()
        started = time.monotonic()
        try:
            rc = cli(target, step.argv)
        finally:
            remove()
        step.seconds = time.monotonic() - started
        assert rc in step.ok_codes, (step.name, rc)
        step.statements, step.commits = counter.statements, counter.commits
        _forget_engines()
        step.after_sig = signature(target)
        assert (step.after_sig != step.before_sig) == step.changes_store, f"{step.name}: store changed?"
        if step.pause_after_s:
            time.sleep(step.pause_after_s)
    _forget_engines()
    # everything built so far lives as long as the run: kept out of later collections, so that
    # _forget_engines before each trial costs milliseconds, not a sweep of the whole heap
    gc.freeze()
    return code, steps


# ---------------------------------------------------------------- one trial


def _child(  # pragma: no cover - runs in the child
    db: Path,
    argv: list[str],
    mode: str,
    n: int,
    delay: float,
    stdout_fd: int | None = None,
    stderr_fd: int | None = None,
) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from incident.core.store import faults

    _forget_engines()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull if stdout_fd is None else stdout_fd, 1)
    os.dup2(devnull if stderr_fd is None else stderr_fd, 2)
    # the real file descriptors, not a test runner's capture objects
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    me = os.getpid()
    seen = {"stmt": 0, "commit": 0}
    # Ctrl-C as a terminal delivers it, even when the test runner was started in the background
    # (a non-interactive shell starts `cmd &` with SIGINT ignored, and a fork inherits that)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def die() -> None:
        os.kill(me, signal.SIGKILL)

    def interrupt() -> None:
        os.kill(me, signal.SIGINT)  # as Ctrl-C: KeyboardInterrupt at the next bytecode

    if mode == "sigint-stmt":

        def on_stmt_int(*_a) -> None:
            seen["stmt"] += 1
            if seen["stmt"] == n:
                interrupt()

        event.listen(Engine, "before_cursor_execute", on_stmt_int)
    elif mode == "sigint-commit":  # Ctrl-C while the N-th COMMIT is running
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        real_commit = SQLiteDialect_pysqlite.do_commit

        def do_commit(self, dbapi_connection) -> None:
            seen["commit"] += 1
            if seen["commit"] == n:
                interrupt()
            real_commit(self, dbapi_connection)

        SQLiteDialect_pysqlite.do_commit = do_commit
    if mode == "stmt":

        def on_stmt(*_a) -> None:
            seen["stmt"] += 1
            if seen["stmt"] >= n:
                die()

        event.listen(Engine, "before_cursor_execute", on_stmt)
    elif mode == "commit":
        original = faults.Ledger.committed

        def committed(ledger) -> None:
            original(ledger)
            seen["commit"] += 1
            if seen["commit"] >= n:
                die()

        faults.Ledger.committed = committed
    elif mode == "time":
        threading.Timer(delay, die).start()
    from incident.cli import main

    rc = main(["--db", f"sqlite:///{db}", "--user", "tester", *argv])
    try:
        sys.stdout.flush()
    except OSError:
        os._exit(98)  # output the CLI should have dealt with
    os._exit(rc)


def run_child(
    db: Path,
    argv: list[str],
    mode: str = "none",
    n: int = 0,
    delay: float = 0.0,
    *,
    closed_pipe: bool = False,
    stderr_to: Path | None = None,
):
    """Fork a child running the CLI; returns (killed by SIGKILL, exit code or None)."""
    _forget_engines()
    read_fd = write_fd = err_fd = None
    if closed_pipe:
        read_fd, write_fd = os.pipe()
        os.close(read_fd)  # nobody will ever read: every write gets EPIPE
    if stderr_to is not None:
        err_fd = os.open(stderr_to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            _child(db, argv, mode, n, delay, write_fd, err_fd)
        finally:
            os._exit(99)
    for fd in (write_fd, err_fd):
        if fd is not None:
            os.close(fd)
    _, status = os.waitpid(pid, 0)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    return killed, rc


@dataclass
class Outcome:
    state: str  # before | after | HALF
    killed: bool
    rc: int | None
    lost: int
    problems: list[str]


def trial(step: Step, trial_db: Path, mode: str, n: int = 0, delay: float = 0.0) -> Outcome:
    """Run ``step`` on a copy of its before state, killed as ``mode`` says; check the store."""
    snapshot(step.before, trial_db)
    argv, output = step.argv, None
    if step.output:  # the trial writes beside its store, not over the reference file later steps read
        output = trial_db.parent / ("trial-" + Path(step.output).name)
        output.unlink(missing_ok=True)
        argv = [str(output) if a == step.output else a for a in argv]
    killed, rc = run_child(trial_db, argv, mode, n, delay)
    return check(step, trial_db, killed, rc, output)


def check(step: Step, trial_db: Path, killed: bool, rc: int | None, output: Path | None) -> Outcome:
    problems: list[str] = []
    conn = sqlite3.connect(str(trial_db))
    ic = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    if ic != "ok":
        problems.append(f"integrity_check: {ic}")
    sig = signature(trial_db)
    if sig == step.before_sig:
        state = "before"
    elif sig == step.after_sig:
        state = "after"
    else:
        state = "HALF"
        problems.append(
            f"half-done: differs from before in {diff(sig, step.before_sig)}, "
            f"from after in {diff(sig, step.after_sig)}"
        )
    if not killed and rc not in step.ok_codes:
        problems.append(f"exit {rc} without a kill")
    if not killed and state != "after":
        problems.append(f"exit {rc} but the store is {state}")
    before = step.before_results or results_digests(step.before)
    now = results_digests(trial_db)
    lost = sum(1 for rid, digest in before.items() if now.get(rid) != digest)
    # a store identical, row for row, to the before state (a kill before anything was written)
    # needs no second `incident verify`: prepare() verified that very content
    if not step.before_digest or content_digest(trial_db) != step.before_digest:
        if (problem := verify_problem(trial_db)) is not None:
            problems.append(problem)
    if output is not None:
        if output.exists():
            problems += _file_problems(output)
        elif not killed:
            problems.append(f"exit {rc} but {output.name} was not written")
        leftovers = [p.name for p in output.parent.glob(".*.part")]
        if leftovers and not killed:
            problems.append(f"temporary files left: {leftovers}")
        for p in output.parent.glob(".*.part"):
            p.unlink()
    return Outcome(state, killed, rc, lost, problems)


def _file_problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        from incident.evidence.backup import read_backup

        try:
            read_backup(path)
        except Exception as exc:  # noqa: BLE001 - reported as a problem
            return [f"{path.name} exists but is incomplete: {exc}"]
        return []
    if path.suffix == ".html" and not text.rstrip().endswith("</html>"):
        return [f"{path.name} exists but is cut short"]
    return []


def plan_trials(step: Step, count: int, rng: random.Random) -> list[tuple[str, int, float]]:
    """``count`` kill points for a step: half before a random statement, a quarter after a
    random commit, a quarter at a random time."""
    out: list[tuple[str, int, float]] = []
    kinds = ("stmt", "commit", "time", "stmt") if count >= 3 else ("stmt", rng.choice(["commit", "time"]))
    for i in range(count):
        kind = kinds[i % len(kinds)]
        if kind == "stmt":
            out.append(("stmt", rng.randint(1, max(1, step.statements)), 0.0))
        elif kind == "commit":
            out.append(("commit", rng.randint(1, max(1, step.commits)), 0.0))
        else:
            out.append(("time", 0, rng.uniform(0.0, step.seconds * 1.1)))
    return out


def run_step(step: Step, count: int, work: Path, rng: random.Random) -> dict:
    """``count`` trials of one step; a summary with the problems found."""
    tally = {"trials": 0, "before": 0, "after": 0, "half": 0, "lost": 0, "problems": []}
    trial_db = work / "trial.sqlite"
    for mode, n, delay in plan_trials(step, count, rng):
        out = trial(step, trial_db, mode, n, delay)
        tally["trials"] += 1
        tally["half" if out.state == "HALF" else out.state] += 1
        tally["lost"] += out.lost
        tally["problems"] += [f"{step.name} [{mode} {n or round(delay, 3)}]: {p}" for p in out.problems]
    for suffix in ("", "-wal", "-shm"):
        Path(str(trial_db) + suffix).unlink(missing_ok=True)
    return tally


# ---------------------------------------------------------------- many trials, several at once

_POOL_STEPS: list[Step] = []  # the steps a pool's workers inherit when forked
_POOL_WORK: Path | None = None


def _pool_trial(task: tuple[int, str, int, float]) -> tuple[int, str, int, float, Outcome, float]:
    """One trial in a pool worker, in a folder of its own (its store copy and output files)."""
    i, mode, n, delay = task
    assert _POOL_WORK is not None
    mine = _POOL_WORK / f"worker-{os.getpid()}"
    mine.mkdir(exist_ok=True)
    started = time.monotonic()
    out = trial(_POOL_STEPS[i], mine / "trial.sqlite", mode, n, delay)
    return i, mode, n, delay, out, time.monotonic() - started


def run_trials(steps: list[Step], tasks: list[tuple[int, str, int, float]], work: Path, jobs: int = 1):
    """Run ``tasks`` (step index, mode, n, delay), ``jobs`` at a time in forked workers; yields
    (step index, mode, n, delay, Outcome, seconds) as each trial ends (in any order when jobs > 1)."""
    global _POOL_WORK
    _POOL_STEPS[:] = steps
    _POOL_WORK = work
    try:
        if jobs <= 1:
            yield from map(_pool_trial, tasks)
            return
        import multiprocessing

        _forget_engines()
        with multiprocessing.get_context("fork").Pool(jobs, maxtasksperchild=None) as pool:
            yield from pool.imap_unordered(_pool_trial, tasks)
    finally:
        _POOL_STEPS.clear()
        for d in work.glob("worker-*"):
            shutil.rmtree(d, ignore_errors=True)


def dump(steps: list[Step]) -> str:  # pragma: no cover - debugging aid
    return json.dumps(
        [{"name": s.name, "statements": s.statements, "commits": s.commits, "s": s.seconds} for s in steps],
        indent=1,
    )


def cleanup(work: Path) -> None:  # pragma: no cover - used by the bench
    shutil.rmtree(work, ignore_errors=True)
