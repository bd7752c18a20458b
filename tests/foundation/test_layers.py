"""The layers hold: models/ is pure science, services never pull in textual."""

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


def test_services_do_not_load_textual():
    services = sorted(p.stem for p in (ROOT / "incident" / "services").glob("*.py") if p.stem != "__init__")
    stmt = "\n".join(f"import incident.services.{name}" for name in services)
    loaded = _loaded_after(stmt + "\nimport incident.store.engine\nimport incident.cli")
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
        "import incident.tui.app\nimport incident.services.dashboard\nimport incident.services.demo"
    )
    for heavy in ("numpy", "scipy", "geopy", "textual_plotext", "models"):
        assert heavy not in loaded, f"{heavy} is imported when the TUI starts"
