"""Types: mypy runs over the whole tree, strict on models/. The number of errors and of
``type: ignore`` comments may only fall (the goal is 0 errors and at most 20 ignores)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: mypy errors today (models/ strict, the rest default); lower it as they are fixed, never raise it.
MYPY_ERRORS = 76
#: ``type: ignore`` comments today; each must say why. Lower it as they go.
TYPE_IGNORES = 78


def test_mypy_errors_only_go_down():
    mypy = Path(sys.executable).with_name("mypy")
    if not mypy.exists():
        pytest.skip("mypy is not installed (it is in the test extra)")
    out = subprocess.run([str(mypy)], cwd=ROOT, capture_output=True, text=True).stdout
    found = re.search(r"Found (\d+) errors?", out)
    errors = int(found.group(1)) if found else 0
    assert "Success" in out or found, out[-2000:]
    assert errors <= MYPY_ERRORS, out[-4000:]


def test_type_ignores_only_go_down_and_say_why():
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True).stdout
    ignores = []
    for name in files.split():
        for n, line in enumerate((ROOT / name).read_text().splitlines(), 1):
            if re.search(r"type:\s*ignore", line):
                ignores.append(f"{name}:{n}")
    assert len(ignores) <= TYPE_IGNORES
