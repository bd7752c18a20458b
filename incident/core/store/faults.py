"""What the store did when something went wrong, told to the user as it is.

- :data:`LEDGER` counts, for this process, the transactions with writes that
  committed and those rolled back (the engine factory feeds it from the
  dialect's commit and rollback). A front end reads it after a failure or a
  Ctrl-C to say whether the change was saved or the store is as before.
- :func:`defer_sigint` holds Ctrl-C back while a COMMIT runs, so an interrupt
  lands before the commit (rolled back) or after it (saved and counted), never
  in a state the ledger cannot name.
- :func:`store_error` turns the database's own words ("database or disk is
  full", "attempt to write a readonly database", "database is locked", a lost
  server connection) into a :class:`StoreError` a responder can act on.

No SQLAlchemy at import time: the CLI parser imports this module lazily but it
must stay light.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from incident.core.errors import UserError
from incident.core.files import free_bytes, human_bytes

WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})

#: Called once when a writer starts waiting for another process's write lock:
#: ``notice(store, timeout_s)``. The CLI prints a line on stderr; None: silent.
lock_wait_notice: Callable[[str, float], None] | None = None


@dataclass
class Ledger:
    """Writes of this process: committed, rolled back, and the one in flight."""

    saved: int = 0  # transactions with writes that committed
    discarded: int = 0  # transactions with writes that were rolled back
    in_flight: bool = False  # a write was sent and is neither committed nor rolled back
    attempted: bool = False  # any write statement was sent since reset()
    committing: bool = False  # a COMMIT was sent and has not returned

    def reset(self) -> None:
        self.saved = self.discarded = 0
        self.in_flight = self.attempted = self.committing = False

    def wrote(self, statement: str) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb in WRITE_VERBS:
            self.in_flight = self.attempted = True

    def committed(self) -> None:
        if self.in_flight:
            self.saved += 1
        self.in_flight = False

    def rolled_back(self) -> None:
        if self.in_flight:
            self.discarded += 1
        self.in_flight = False

    def outcome(self) -> str | None:
        """One sentence on the store's state after a failure, or None when nothing was written."""
        lost = self.discarded or self.in_flight
        if self.saved and lost:
            return (
                f"{self.saved} earlier step(s) of this command were saved; the last one was not "
                "(it was rolled back)"
            )
        if self.saved:
            return "the change WAS saved before this happened: do not repeat the command"
        if lost:
            return "nothing was saved: the store is as it was before this command"
        return None


LEDGER = Ledger()


@contextmanager
def defer_sigint() -> Iterator[None]:
    """Hold Ctrl-C back for the duration of the block, then deliver it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or getattr(previous, "_incident_deferring", False):
        yield  # SIG_IGN/SIG_DFL, or already deferring
        return
    pending: list[tuple[int, FrameType | None]] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append((signum, frame))

    hold._incident_deferring = True  # type: ignore[attr-defined]  # a mark on the handler function, read above
    try:
        signal.signal(signal.SIGINT, hold)
    except ValueError:  # pragma: no cover - not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            previous(*pending[0])


def instrument(engine: Any) -> None:  # an Engine whose dialect methods are wrapped
    """Feed :data:`LEDGER` from ``engine``: write statements, commits, rollbacks."""
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(  # pragma: no cover
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        LEDGER.wrote(statement)

    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def commit(dbapi_connection: Any) -> None:
        with defer_sigint():
            LEDGER.committing = True
            do_commit(dbapi_connection)
            LEDGER.committing = False
            LEDGER.committed()

    def rollback(dbapi_connection: Any) -> None:
        LEDGER.committing = False
        do_rollback(dbapi_connection)
        LEDGER.rolled_back()

    dialect.do_commit = commit
    dialect.do_rollback = rollback


# ---------------------------------------------------------------- refusals


class StoreError(UserError):
    """The store refused or lost a write: ``kind`` is full, readonly, locked, io, disconnect or open."""

    def __init__(self, kind: str, problem: str, *, where: str | None, fix: str | None) -> None:
        self.kind = kind
        super().__init__(problem, where=where, fix=fix)


def sqlite_path(url_or_engine: Any) -> Path | None:  # an Engine, URL or URL text
    """The file of an SQLite store (None for PostgreSQL or an in-memory database)."""
    url = getattr(url_or_engine, "url", url_or_engine)
    from sqlalchemy.engine import make_url

    url = make_url(str(url)) if not hasattr(url, "drivername") else url
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _where(engine: Any) -> str:
    path = sqlite_path(engine)
    if path is not None:
        return str(path)
    url = getattr(engine, "url", engine)
    return url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)


def read_only_reason(path: Path) -> str | None:
    """Why the SQLite file at ``path`` cannot be written, or None if it can."""
    try:
        if hasattr(os, "statvfs") and os.statvfs(path).f_flag & getattr(os, "ST_RDONLY", 1):
            return "it is on a read-only disk (write-protected USB stick or read-only mount)"
    except OSError:
        return None
    if not os.access(path, os.W_OK):
        return "the file is read-only for this user (no write permission)"
    return None


def can_create_in(folder: Path) -> bool:
    """Whether new files can be made in ``folder`` (not read-only, writable)."""
    try:
        if hasattr(os, "statvfs") and os.statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1):
            return False
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def full_disk_error(engine: Any) -> StoreError:
    path = sqlite_path(engine)
    where = _where(engine)
    if path is None:
        return StoreError(
            "full",
            "the database server ran out of disk space; nothing was saved",
            where=where,
            fix="free space on the server's disk, then run the command again",
        )
    wal = Path(str(path) + "-wal")
    written = wal.stat().st_size if wal.exists() else 0
    needed = max(written, 4 * 1024 * 1024)
    free = free_bytes(path.parent)
    free_txt = f"{human_bytes(free)} free" if free is not None else "free space unknown"
    return StoreError(
        "full",
        f"the disk holding the store is full ({free_txt} on it); this change needs at least "
        f"{human_bytes(needed)} more. Nothing was saved; everything saved before is intact",
        where=where,
        fix=f"free at least {human_bytes(needed)} on the disk of {path.parent} (or move the store "
        "to a bigger disk and use --db), then run the command again",
    )


def read_only_error(engine: Any) -> StoreError:
    path = sqlite_path(engine)
    reason = read_only_reason(path) if path is not None else None
    return StoreError(
        "readonly",
        f"the store cannot be written: {reason or 'it is read-only'}. Nothing was saved; "
        "reading commands still work",
        where=_where(engine),
        fix="copy the store to a writable folder and use --db sqlite:///COPY, or remove the write protection",
    )


def locked_error(engine: Any, waited_s: float) -> StoreError:
    return StoreError(
        "locked",
        f"the store is locked by another program that is writing to it; gave up after {waited_s:.0f} s. "
        "Nothing was saved",
        where=_where(engine),
        fix="wait until the other program (a second terminal, laptop or `incident serve`) finishes, "
        "then run the command again; --lock-timeout SECONDS (or INCIDENT_LOCK_TIMEOUT) waits longer",
    )


def store_error(exc: BaseException, engine: Any) -> StoreError | None:
    """A :class:`StoreError` for a database failure a user can act on, else None.

    Looks down the exception's chain too: SQLite may roll a whole transaction
    back on a full disk, and the "no such savepoint" that follows hides the cause.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _store_error(current, engine)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _store_error(exc: BaseException, engine: Any) -> StoreError | None:
    from sqlalchemy.exc import DBAPIError

    orig = getattr(exc, "orig", exc)
    message = str(orig).lower()
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        if LEDGER.committing:
            problem = (
                "lost the connection to the database server while saving: the change may or may not "
                "have been saved"
            )
            fix = "check the incident's log (`incident log CODE`) before you repeat the command"
        elif LEDGER.attempted:
            problem = "lost the connection to the database server during a write: nothing was saved"
            fix = "check the network and the server, then run the command again"
        else:
            problem = "lost the connection to the database server"
            fix = "check the network and the server, then run the command again"
        return StoreError("disconnect", problem, where=_where(engine), fix=fix)
    sqlstate = getattr(orig, "sqlstate", None)
    if "database or disk is full" in message or sqlstate == "53100":
        return full_disk_error(engine)
    if "readonly database" in message or "read-only" in message and "database" in message:
        return read_only_error(engine)
    if "database is locked" in message:
        return locked_error(engine, 0)
    if "disk i/o error" in message:
        return StoreError(
            "io",
            "the disk holding the store failed to write (I/O error); the change was not saved",
            where=_where(engine),
            fix="check the disk or USB stick is still attached and has space, then run the command again",
        )
    if "unable to open database file" in message:
        return StoreError(
            "open",
            "cannot open the store file",
            where=_where(engine),
            fix="check the folder exists and you may read and write there",
        )
    return None
