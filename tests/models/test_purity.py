import subprocess
import sys


def test_models_import_only_numpy_scipy_and_stdlib():
    code = (
        "import sys, models.network, models.grid, models.transport, models.analytic, models.hydraulics, "
        "models.jobson, models.metrics, models.examples\n"
        "bad = [m for m in ('incident', 'textual', 'sqlmodel', 'sqlalchemy', 'geopy', 'alembic') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=".")
    assert out.stdout.strip() == ""
