"""Running one command so that its exit code and its words tell the truth about the store.

Commit, then speak: a command's standard output is held in memory while it
runs and written only once the handler has returned, that is after every one
of its transactions has committed. Then:

- a failure (a refusal, a full disk, a lock timeout, a bug) exits non-zero,
  prints nothing of the held output, and says whether anything was saved;
- Ctrl-C exits 130 and says whether the store is as before or as after;
- a closed pipe or a terminal gone away while the output is written
  (``incident plan propose CODE | head -1``) exits with the command's own code,
  quietly: the write is committed, and a script must not run it again;
- on PostgreSQL, a connection lost during a command that only read is retried
  once; a command that wrote is never retried silently.

Commands that own the terminal (the TUI, serve) set ``stream_output`` and run
unbuffered.
"""

from __future__ import annotations

import errno
import io
import os
import sys

from incident.core.errors import UserError

#: errno values that mean "nobody is reading any more": a closed pipe, a terminal hung up.
GONE_READER = {errno.EPIPE, errno.EIO, getattr(errno, "ENXIO", errno.EIO)}


def _ledger():
    from incident.core.store.faults import LEDGER

    return LEDGER


def _say(text: str) -> None:
    """A line on stderr, if stderr is still there."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush cannot fail too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _lock_wait_notice(store: str, timeout_s: float) -> None:
    _say(
        f"incident: waiting for the store {store}: another program is writing to it "
        f"(giving up after {timeout_s:g} s; --lock-timeout to change)"
    )


def _is_disconnect(exc: BaseException) -> bool:
    return getattr(exc, "kind", None) == "disconnect"


def _render(exc: UserError, args) -> str:
    """The refusal, its input field named by this command's flag (``--mass-kg``)."""
    flag_of = getattr(args, "field_flag", None)
    return exc.render(field_label=flag_of(exc.field) if flag_of else None)


def _outcome_note() -> str:
    note = _ledger().outcome()
    return f"\n  {note}" if note else ""


def _run_handler(handler, args, out: io.StringIO) -> int:
    """The handler, with one retry of a read that lost its server connection."""
    ledger = _ledger()
    try:
        return handler(args) or 0
    except UserError as exc:
        if not _is_disconnect(exc) or ledger.attempted or ledger.saved:
            raise
    _say("incident: lost the connection to the database server; trying this read once more")
    out.seek(0)
    out.truncate()
    return handler(args) or 0


def run(handler, args) -> int:
    """Run ``handler(args)`` with its output held until it has committed."""
    from incident.core.store import faults

    ledger = _ledger()
    ledger.reset()
    faults.lock_wait_notice = _lock_wait_notice
    real_stdout = sys.stdout
    out = io.StringIO()
    sys.stdout = out
    try:
        rc = _run_handler(handler, args, out)
    except UserError as exc:
        sys.stdout = real_stdout
        _say(f"incident: {_render(exc, args)}{_outcome_note()}")
        return 2
    except KeyboardInterrupt:
        sys.stdout = real_stdout
        if ledger.saved and not (ledger.discarded or ledger.in_flight):
            _say("incident: interrupted after the change was saved: the store holds it")
        elif ledger.saved:
            _say(f"incident: interrupted: {ledger.outcome()}")
        else:  # nothing of this command committed
            _say("incident: interrupted before the change was saved: the store is as it was before")
        return 130
    except BrokenPipeError:  # the handler itself wrote to a closed pipe (stderr)
        sys.stdout = real_stdout
        return 1 if not ledger.saved else 0
    except BaseException:
        sys.stdout = real_stdout
        note = ledger.outcome()
        if note:
            _say(f"incident: the command failed: {note}")
        raise
    finally:
        sys.stdout = real_stdout
    # Everything is committed: now speak.
    try:
        real_stdout.write(out.getvalue())
        real_stdout.flush()
    except OSError as exc:
        if exc.errno not in GONE_READER:
            raise
        _silence_stdout()
    except ValueError:  # stdout closed before we started
        pass
    return rc


def run_streaming(handler, args) -> int:
    """Commands that own the terminal (TUI, serve): unbuffered."""
    try:
        return handler(args) or 0
    except UserError as exc:
        _say(f"incident: {_render(exc, args)}")
        return 2
    except KeyboardInterrupt:
        _say("incident: interrupted")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
