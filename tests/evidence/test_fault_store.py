"""A full disk, a read-only store, a locked store, a lost server: refused by name, nothing lost."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from incident.cli import main
from incident.cli.shell import context
from tests.evidence import faultkit as fk

ROOT = Path(__file__).resolve().parents[2]


def _step(steps, name):
    return next(s for s in steps if s.name == name)


def _cli(capsys, db: Path, *argv: str) -> tuple[int, str, str]:
    rc = main(["--db", f"sqlite:///{db}", "--user", "tester", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _limit_pages(db: Path, extra_pages: int):
    """The CLI's engine for ``db``, every connection capped at its size now + ``extra_pages``
    (SQLite's max_page_count: the store behaves as on a full disk)."""
    fk._forget_engines()
    engine = context._engine(f"sqlite:///{db}", None)
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]

    def cap(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + extra_pages}")

    event.listen(engine, "connect", cap)
    engine.dispose()
    return engine, cap


def test_full_disk_during_an_import_refuses_it_keeps_everything_and_resumes(scenario, capsys):
    work, code, steps = scenario
    step = _step(steps, "import results")
    db = work / "full.sqlite"
    fk.snapshot(step.before, db)
    results_before = fk.results_digests(db)
    engine, cap = _limit_pages(db, extra_pages=20)
    try:
        rc, out, err = _cli(capsys, db, *step.argv)
    finally:
        event.remove(engine, "connect", cap)
        engine.dispose()
        fk._forget_engines()
    assert rc == 2 and out == ""
    assert str(db) in err and "is full" in err and "needs at least" in err and "free at least" in err
    assert "Nothing was saved; everything saved before is intact" in err and "Traceback" not in err
    assert fk.signature(db) == step.before_sig
    assert fk.results_digests(db) == results_before
    # space freed (no cap): the same command now goes through, all 1,000 rows
    rc, out, err = _cli(capsys, db, *step.argv)
    assert rc == 0, err
    assert "imported 1000 results" in out
    assert fk.signature(db) == step.after_sig
    fk._forget_engines()


def _mount_tmpfs(path: Path, size: str) -> bool:
    import os

    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]).returncode == 0


def _run(db: Path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "incident", "--db", f"sqlite:///{db}", "--user", "tester", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_real_small_disk_filling_up_during_an_import(scenario):
    """The store on a tmpfs of its own, nearly full: the import is refused, then goes through once
    a filler file is deleted (root only: elsewhere the max_page_count test above stands in)."""
    work, _, steps = scenario
    step = _step(steps, "import results")
    disk = work / "stick"
    if not _mount_tmpfs(disk, "8m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        db = disk / "store.sqlite"
        fk.snapshot(step.before, db)
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(0, free - 150_000))
        done = _run(db, *step.argv)
        assert done.returncode == 2, done.stderr
        assert str(db) in done.stderr and "is full" in done.stderr and "free at least" in done.stderr
        assert fk.signature(db) == step.before_sig
        (disk / "filler").unlink()
        again = _run(db, *step.argv)
        assert again.returncode == 0, again.stderr
        assert fk.signature(db) == step.after_sig
    finally:
        fk._forget_engines()
        subprocess.run(["umount", "-l", str(disk)])


@pytest.fixture
def read_only_store(scenario, tmp_path):
    """A copy of the store before `result add`, on a read-only disk (root) or a read-only file."""
    import os

    work, _, steps = scenario
    step = _step(steps, "result add")
    if os.geteuid() == 0:
        disk = tmp_path / "ro"
        if not _mount_tmpfs(disk, "16m"):
            pytest.skip("root, and cannot mount a tmpfs to make read-only")
        db = disk / "store.sqlite"
        fk.snapshot(step.before, db)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        yield step, db, "read-only disk"
        fk._forget_engines()
        subprocess.run(["umount", "-l", str(disk)])
    else:
        db = tmp_path / "store.sqlite"
        fk.snapshot(step.before, db)
        db.chmod(0o444)
        yield step, db, "read-only for this user"
        fk._forget_engines()
        db.chmod(0o644)


def test_a_read_only_store_reads_and_refuses_writes_by_name(read_only_store, capsys):
    step, db, why = read_only_store
    code = step.argv[2].rsplit("-S", 1)[0]
    rc, out, err = _cli(capsys, db, "results", code, "--all")
    assert rc == 0 and err == "", err
    rc, out, err = _cli(capsys, db, "sample", "list", code)
    assert rc == 0 and code in out
    rc, out, err = _cli(capsys, db, "verify")
    assert rc == 0, err
    rc, out, err = _cli(capsys, db, *step.argv)
    assert rc == 2 and out == ""
    assert str(db) in err and "cannot be written" in err and why in err and "Nothing was saved" in err
    assert "Traceback" not in err
    assert fk.signature(db, immutable=why == "read-only disk") == step.before_sig


def _hold_lock(db: Path) -> subprocess.Popen:
    """Another program holding the store's write lock (BEGIN IMMEDIATE) until it is killed."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(120)\n",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_writer_waits_for_a_lock_says_so_and_gives_up_cleanly(scenario):
    work, _, steps = scenario
    step = _step(steps, "result add")
    db = work / "locked.sqlite"
    fk.snapshot(step.before, db)
    holder = _hold_lock(db)
    try:
        started = time.monotonic()
        done = _run(db, "--lock-timeout", "2", *step.argv)
        waited = time.monotonic() - started
        assert holder.poll() is None  # the lock was held all along
    finally:
        holder.kill()  # the lock holder dies: SQLite frees its lock
        holder.wait(timeout=30)
    assert done.returncode == 2, done.stderr
    assert "waiting for the store" in done.stderr and "giving up after 2 s" in done.stderr
    # one wait of --lock-timeout in all: opening the store must not wait a first time on its own
    assert done.stderr.count("waiting for the store") == 1
    assert "locked by another program" in done.stderr and "--lock-timeout" in done.stderr
    assert "Traceback" not in done.stderr and "database is locked" not in done.stderr
    assert waited < 15
    assert fk.signature(db) == step.before_sig
    # once the lock is gone the write goes through
    again = _run(db, *step.argv)
    assert again.returncode == 0 and "result #" in again.stdout
    assert fk.signature(db) == step.after_sig


def test_a_writer_that_gets_the_lock_within_the_timeout_goes_through(scenario):
    work, _, steps = scenario
    step = _step(steps, "result add")
    db = work / "locked2.sqlite"
    fk.snapshot(step.before, db)
    holder = _hold_lock(db)
    try:
        writer = subprocess.Popen(
            [sys.executable, "-m", "incident", "--db", f"sqlite:///{db}", "--user", "tester"]
            + ["--lock-timeout", "60", *step.argv],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        said = writer.stderr.readline()  # the writer says it waits...
        assert "waiting for the store" in said
    finally:
        holder.kill()  # ...and the other program goes away
        holder.wait(timeout=30)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "result #" in out
    assert fk.signature(db) == step.after_sig


def test_a_read_that_lost_its_server_is_retried_once_a_write_never(monkeypatch, capsys):
    """The dispatcher's rule, with a handler that loses its connection (as PostgreSQL would)."""
    from incident.cli.shell import dispatch
    from incident.core.store import faults

    calls = []

    def lost(kind_of_command):
        def handler(args):
            calls.append(kind_of_command)
            if kind_of_command == "write":
                faults.LEDGER.wrote("INSERT INTO result VALUES (1)")
            if len(calls) == 1:
                raise faults.StoreError("disconnect", "lost the connection", where="db", fix="retry")
            print("second try")
            return 0

        return handler

    assert dispatch.run(lost("read"), None) == 0
    out = capsys.readouterr()
    assert calls == ["read", "read"] and out.out == "second try\n" and "trying this read once more" in out.err
    calls.clear()
    assert dispatch.run(lost("write"), None) == 2
    out = capsys.readouterr()
    assert calls == ["write"] and out.out == "" and "lost the connection" in out.err


def test_the_lock_timeout_is_30_s_by_default_and_set_by_the_environment(scenario):
    """No flag: the writer says it will wait 30 s (and goes through when the lock is freed);
    INCIDENT_LOCK_TIMEOUT=1.5: it gives up after 1.5 s, cleanly."""
    import os

    work, _, steps = scenario
    step = _step(steps, "result add")
    db = work / "locked3.sqlite"
    fk.snapshot(step.before, db)
    env = {k: v for k, v in os.environ.items() if k != "INCIDENT_LOCK_TIMEOUT"}
    holder = _hold_lock(db)
    try:
        short = subprocess.run(
            [sys.executable, "-m", "incident", "--db", f"sqlite:///{db}", "--user", "tester", *step.argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=env | {"INCIDENT_LOCK_TIMEOUT": "1.5"},
        )
        assert short.returncode == 2, short.stderr
        assert "giving up after 1.5 s" in short.stderr and "locked by another program" in short.stderr
        assert "Traceback" not in short.stderr and "database is locked" not in short.stderr
        assert fk.signature(db) == step.before_sig
        writer = subprocess.Popen(
            [sys.executable, "-m", "incident", "--db", f"sqlite:///{db}", "--user", "tester", *step.argv],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        said = writer.stderr.readline() if writer.stderr else ""
        assert "waiting for the store" in said and "giving up after 30 s" in said, said
    finally:
        holder.kill()
        holder.wait(timeout=30)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert fk.signature(db) == step.after_sig
