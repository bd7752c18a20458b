"""The layers hold: models/ is pure science, rooms never pull in textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(import_stmt: str) -> set[str]:
    code = f"import sys\n{import_stmt}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {m.split(".")[0] for m in out.split()}


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


ROOMS = sorted(
    p.parent.name for p in (ROOT / "incident").glob("*/__init__.py") if p.parent.name not in ("tui", "cli")
)


def test_rooms_do_not_load_textual():
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for room in ROOMS
        for p in (ROOT / "incident" / room).rglob("*.py")
        if "migrations" not in p.parts and p.stem != "__init__"
    )
    stmt = "\n".join(f"import {name}" for name in modules)
    loaded = _loaded_after(stmt + "\nimport incident.core.store.engine\nimport incident.cli")
    assert "textual" not in loaded
    assert "incident" in loaded


def test_models_load_only_numpy_and_scipy():
    models = sorted(p.stem for p in (ROOT / "models").glob("*.py") if p.stem != "__init__")
    stmt = "\n".join(f"import models.{name}" for name in models) or "import models"
    loaded = _loaded_after(stmt)
    for forbidden in ("incident", "textual", "sqlmodel", "sqlalchemy", "geopy"):
        assert forbidden not in loaded


def test_building_the_cli_parser_stays_light():
    """`incident --help` and every command start fast: command modules import their
    heavy dependencies (numpy, scipy, SQLAlchemy, Textual) inside the handlers."""
    loaded = _loaded_after("from incident.cli import build_parser\nbuild_parser()")
    for heavy in ("numpy", "scipy", "sqlalchemy", "sqlmodel", "textual", "geopy"):
        assert heavy not in loaded, f"{heavy} is imported at CLI start-up"


def test_the_tui_starts_without_the_science_stack():
    """numpy/scipy/geopy load on first use (a forecast, a map), not when the dashboard opens."""
    loaded = _loaded_after(
        "import incident.tui.app\nimport incident.overview.dashboard\nimport incident.demo.seed"
    )
    for heavy in ("numpy", "scipy", "geopy", "textual_plotext", "models"):
        assert heavy not in loaded, f"{heavy} is imported when the TUI starts"
