"""Files are complete or absent: temporary file, fsync, rename; a full disk is refused by name."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time

import pytest

from incident.core import files
from incident.core.errors import UserError


def test_atomic_write_writes_and_replaces_whole_files(tmp_path):
    target = tmp_path / "sub" / "report.html"
    files.atomic_write(target, "first")
    assert target.read_text() == "first"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    target.chmod(0o640)
    files.atomic_write(target, "second, longer")
    assert target.read_text() == "second, longer"
    assert target.stat().st_mode & 0o777 == 0o640  # the replaced file's mode is kept
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "backup.jsonl"
    target.write_text("old and complete\n")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", no_space)
    with pytest.raises(UserError) as err:
        files.atomic_write(target, "x" * 5000, what="backup")
    assert target.read_text() == "old and complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["backup.jsonl"]
    text = err.value.render()
    assert str(target) in text and "not enough space" in text and "needs 4.9 KB" in text and "free" in text
    assert "nothing was written" in text


def test_an_error_inside_the_block_leaves_nothing(tmp_path):
    target = tmp_path / "inventory.csv"
    with pytest.raises(RuntimeError), files.atomic_writer(target) as fh:
        fh.write("half a row,")
        raise RuntimeError("the export failed")
    assert not target.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "read-only disk"), (errno.EACCES, "no permission"), (errno.EIO, "Input/output")],
)
def test_other_write_errors_name_the_path_and_the_cause(tmp_path, code, words):
    err = files.file_error(tmp_path / "a.md", OSError(code, os.strerror(code)), what="report")
    assert words in err.render() and str(tmp_path / "a.md") in err.render()


def test_kill_9_while_writing_leaves_the_old_file_or_the_new_one(tmp_path):
    """A child writes 8 MB in small pieces again and again; SIGKILL at random moments."""
    target = tmp_path / "big.txt"
    old = "A" * 8_000_000
    target.write_text(old)
    code = (
        "import sys\nfrom incident.core.files import atomic_writer\n"
        "while True:\n"
        "    with atomic_writer(sys.argv[1]) as fh:\n"
        "        for _ in range(1000):\n"
        "            fh.write('B' * 8000)\n"
    )
    mid_write = 0
    for delay in (0.4, 0.55, 0.7, 0.9, 1.2):
        proc = subprocess.Popen([_python(), "-c", code, str(target)])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        text = target.read_text()
        assert text in (old, "B" * 8_000_000), (delay, len(text), text[:1], text[-1:])
        parts = list(tmp_path.glob(".big.txt.*.part"))  # what a kill leaves: a temporary, never the target
        mid_write += bool(parts)
        for part in parts:
            part.unlink()
    assert mid_write >= 1  # some kills did land in the middle of a write


def _python() -> str:
    import sys

    return sys.executable


def _mount_tmpfs(path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]).returncode == 0


def test_a_real_full_disk_is_refused_with_the_space_needed(tmp_path):
    disk = tmp_path / "stick"
    if not _mount_tmpfs(disk, "256k"):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        (disk / "old.md").write_text("kept")
        with pytest.raises(UserError) as err:
            files.atomic_write(disk / "report.html", "x" * 1_000_000)
        assert "not enough space" in err.value.problem and "needs 976.6 KB" in err.value.problem
        assert sorted(p.name for p in disk.iterdir()) == ["old.md"]
        files.atomic_write(disk / "report.html", "x" * 10_000)  # fits: written
        assert (disk / "report.html").stat().st_size == 10_000
    finally:
        subprocess.run(["umount", str(disk)])
