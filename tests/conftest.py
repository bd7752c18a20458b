"""Shared fixtures: a fresh store per test, the demo loaded, app settings."""

from __future__ import annotations

import os
import sqlite3
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from incident.core.config import Settings
from incident.core.i18n import set_language

_TEMPLATE: dict[str, str] = {}

#: The tests that take far longer than the rest, with their seconds in a full run on 2 workers
#: (``pytest --durations=60`` on the 2-core box, 2026-12, and those shortened since at the same
#: scale); a renamed test just loses its place, the weights only decide who starts where.
#: Parametrized tests are matched by name without their parameters.
LONG_S = {
    "tests/core/test_bench.py::test_quick_bench_completes_and_prints_every_figure": 120,  # 299 before quick cut to 24 switches
    "tests/tui/test_screen_stack.py::test_switching_screens_keeps_the_stack_bounded_and_frees_what_it_closed": 85,
    "tests/evidence/test_fault_signals.py::test_ctrl_c_at_random_moments_of_a_real_import_tells_the_truth": 48,
    "tests/tui/test_end_to_end.py::test_the_whole_incident_by_keys": 39,
    "tests/evidence/test_faults.py::test_kill_9_anywhere_in_any_writing_command_leaves_it_whole_or_absent": 31,
    "tests/evidence/test_faults.py::test_every_writing_command_into_a_closed_pipe_exits_0_with_its_write_saved": 30,
    "tests/evidence/test_fault_signals.py::test_ctrl_c_in_the_middle_rolls_back_and_says_so": 15,
    "tests/plume/test_forecast_service.py::test_continuous_release_given_as_concentration_reaches_that_concentration": 23,
    "tests/evidence/test_fault_signals.py::test_ctrl_c_during_the_commit_waits_for_it_and_says_it_was_saved": 12,
    "tests/evidence/test_fault_store.py::test_a_real_small_disk_filling_up_during_an_import": 20,
    "tests/evidence/test_fault_store.py::test_full_disk_during_an_import_refuses_it_keeps_everything_and_resumes": 19,
    "tests/tui/test_incident_workflow.py::test_new_incident_by_reach_and_km_then_amend_the_mass": 13,
    "tests/integration/test_guided_response.py::test_river_chemical_spill_from_alert_to_termination_proposal": 16,
    "tests/tui/test_fieldwork_screens.py::test_fill_in_the_field_survey_refusal_under_its_field": 15,
    "tests/tui/test_results_keys.py::test_round_and_class_keys_show_what_a_fresh_screen_shows": 11,
    "tests/evidence/test_crash.py::test_sigkill_during_result_burst_loses_nothing": 12,
    "tests/evidence/test_faults.py::test_every_writing_command_that_cannot_write_exits_non_zero_even_into_a_closed_pipe": 10,
}
#: what building the session's ``scenario`` fixture (tests/evidence/conftest.py) costs a worker
SCENARIO_S = 60


def pytest_collection_modifyitems(config, items) -> None:
    """Under xdist, deal the long tests out to the front of the workers' shares.

    ``--dist worksteal`` (pyproject) gives each worker a contiguous share of the collection, in
    order, and an idle worker steals from the *end* of the others' queues. A long test collected
    late starts late and leaves the other core idle while it runs; two long ones in one share run
    one after the other. So: the long tests (LONG_S), biggest first, each to the front of the share
    with the least long work so far; the tests that use ``scenario`` go together as one unit (one
    worker builds it, once: a split group builds it twice); everything else keeps its order. Only
    the order changes (every test still runs); ``-n 0`` keeps the collection order.
    """
    workers = int(getattr(config, "workerinput", {}).get("workercount", 0))
    if workers < 2 or len(items) < 2 * workers:
        return

    def weight(item) -> float:
        return float(LONG_S.get(item.nodeid.split("[")[0], 0))

    scenario = [
        it
        for it in items
        if it.nodeid.startswith("tests/evidence/") and "scenario" in getattr(it, "fixturenames", ())
    ]
    grouped = {id(it) for it in scenario}
    units = [([it], weight(it)) for it in items if weight(it) and id(it) not in grouped]
    if scenario:
        units.append((scenario, SCENARIO_S + sum(weight(it) for it in scenario)))
    placed = {id(it) for unit, _ in units for it in unit}
    rest = [it for it in items if id(it) not in placed]
    sizes, left = [], len(items)  # worksteal's first split: len(pending) // nodes remaining
    for i in range(workers):
        sizes.append(left // (workers - i))
        left -= sizes[-1]
    shares: list[list] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for unit, w in sorted(units, key=lambda u: -u[1]):
        room = [k for k in range(workers) if len(shares[k]) + len(unit) <= sizes[k]] or list(range(workers))
        k = min(room, key=lambda j: loads[j])
        shares[k] += unit
        loads[k] += w
    for k in range(workers):
        take = max(0, sizes[k] - len(shares[k]))
        shares[k] += rest[:take]
        rest = rest[take:]
    shares[-1] += rest
    items[:] = [it for share in shares for it in share]


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    """No test touches the user's real data folder; language starts as English."""
    monkeypatch.setenv("INCIDENT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INCIDENT_DB", raising=False)
    monkeypatch.setenv("INCIDENT_USER", "tester")
    monkeypatch.setenv("INCIDENT_KEYRING", "0")
    monkeypatch.delenv("INCIDENT_PASSPHRASE", raising=False)
    set_language("en")
    from incident.cli.shell import context
    from incident.core import signing

    signing.login(None)
    context._acting_installed.clear()
    yield
    signing.login(None)
    set_language("en")


@pytest.fixture
def short_dir():
    """A folder with a short absolute name (/tmp/t…) for paths a TUI test types key by key: an
    absolute path as tmp_path's, about 25 characters rather than 90 (each key is a repaint)."""
    import shutil
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="t"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def engine(db_url):
    from incident.core.store.engine import open_store

    eng = open_store(db_url)
    yield eng
    eng.dispose()


def _demo_template(tmp_path_factory) -> str:
    """Build the demo database once per session and copy it for each test (fast)."""
    if "path" not in _TEMPLATE:
        from incident.core.store.engine import open_store
        from incident.demo.seed import ensure_demo

        path = tmp_path_factory.mktemp("template") / "demo.sqlite"
        eng = open_store(f"sqlite:///{path}")
        ensure_demo(eng, actor="tester")
        eng.dispose()
        _TEMPLATE["path"] = str(path)
    return _TEMPLATE["path"]


@pytest.fixture
def demo_engine(tmp_path, tmp_path_factory):
    """A store holding the demo river, roster, inventory and incident INC-YYYY-0001."""
    from incident.core.store.engine import open_store

    target = tmp_path / "demo.sqlite"
    with sqlite3.connect(_demo_template(tmp_path_factory)) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    eng = open_store(f"sqlite:///{target}")
    yield eng
    eng.dispose()


@pytest.fixture
def demo_code(demo_engine) -> str:
    from incident.core.incidents import list_incidents
    from incident.core.store.engine import session_scope

    with session_scope(demo_engine) as s:
        return list_incidents(s)[0].code


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(db_url=db_url, lang="en", user="tester")


@pytest.fixture
def pg_url():
    """A PostgreSQL URL (INCIDENT_TEST_PG_URL); required in CI, skipped locally when unset."""
    url = os.environ.get("INCIDENT_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("INCIDENT_TEST_PG_URL is not set in CI: .ci/run must start PostgreSQL")
        pytest.skip("INCIDENT_TEST_PG_URL not set (start PostgreSQL as .ci/run does)")
    return url


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def pg_fresh_url(pg_url):
    """A new, empty PostgreSQL database on the INCIDENT_TEST_PG_URL server."""
    import psycopg

    name = f"incident_t_{uuid.uuid4().hex[:12]}"
    admin_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_db(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def people(engine):
    """The cast of tests/identities.py registered in ``engine`` (signing on): name -> Person."""
    from tests.identities import register

    return register(engine)


@pytest.fixture
def demo_people(demo_engine):
    """The same cast registered in the demo store."""
    from tests.identities import register

    return register(demo_engine)
