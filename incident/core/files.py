"""Files the app writes (reports, exports, backups, seals) are complete or absent.

Every file is written to a temporary file in the same folder, flushed and
fsynced, then renamed over the target (``os.replace`` is atomic on POSIX and
Windows), and the folder is fsynced so the rename itself survives a power cut.
A crash at any moment leaves either the old file or the new one, never a file
cut short; a leftover ``.NAME.*.part`` is the only trace of an interrupted write.

Failures become a :class:`~incident.core.errors.UserError` that names the path
and, for a full disk, the space needed and the space free.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from incident.core.errors import UserError

PART_SUFFIX = ".part"
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


def file_path(path: str | Path, *, where: str | None = None) -> Path:
    """``path`` as a file to write, refused if it names no file (".", "/", "": a folder). ``where``
    names the input in the refusal (a flag); by default the path itself."""
    p = Path(path)
    if not p.name:
        raise UserError(
            "errors.core.output_is_folder", where=where or str(path) or "''", path=repr(str(path))
        )
    return p


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover - unreachable


def free_bytes(path: str | Path) -> int | None:
    """Free space on the file system holding ``path`` (or its nearest existing parent)."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:  # pragma: no cover - depends on the platform
        return None


def file_error(path: str | Path, exc: OSError, *, needed: int | None = None, what: str = "file") -> UserError:
    """A refusal for an OSError while writing ``path``: why, and what to do."""
    path = Path(path)
    code = exc.errno
    from incident.core.i18n import t

    if code in _NO_SPACE:
        free = free_bytes(path.parent)
        need = t("errors.faults.needs", size=human_bytes(needed)) if needed else t("errors.faults.needs_more")
        have = t("errors.faults.free", size=human_bytes(free)) if free is not None else ""
        return UserError("errors.faults.no_space", where=str(path), what=what, need=need, have=have)
    if code == errno.EROFS:
        return UserError("errors.faults.read_only_folder", where=str(path), what=what)
    if code in (errno.EACCES, errno.EPERM):
        return UserError("errors.faults.no_permission", where=str(path), what=what)
    return UserError(
        "errors.faults.cannot_write", where=str(path), what=what, reason=exc.strerror or str(exc)
    )


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows cannot open a folder
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _new_file_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777  # keep the mode of the file being replaced
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_writer(
    path: str | Path,
    *,
    binary: bool = False,
    encoding: str = "utf-8",
    newline: str | None = None,
    what: str = "file",
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``.

    If the block raises (or the process dies), ``path`` is untouched and the
    temporary file is removed (or left as ``.NAME.*.part`` after a kill).
    """
    path = Path(path)
    written = 0
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PART_SUFFIX)
        mode = "wb" if binary else "w"
        with os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None if binary else newline
        ) as fh:
            yield fh
            fh.flush()
            written = fh.tell()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise file_error(path, exc, needed=written or None, what=what) from exc
    finally:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)


def atomic_write(path: str | Path, data: str | bytes, *, encoding: str = "utf-8", what: str = "file") -> Path:
    """Write ``data`` to ``path`` all at once: the file is complete or it is not there."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    path = Path(path)
    try:
        with atomic_writer(path, binary=True, what=what) as fh:
            fh.write(payload)
    except UserError as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError) and cause.errno in _NO_SPACE:
            raise file_error(path, cause, needed=len(payload), what=what) from cause
        raise
    return path
