"""Every parser and input field: no unhandled exception, every refusal a UserError with a message.

Targets live in tests/fuzz/targets.py (add new parsers there). The number of
examples comes from the Hypothesis profile (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings

from incident.errors import UserError
from tests.fuzz.targets import TARGETS, FuzzContext, Target

EXAMPLES: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory):
    from incident.services.demo import ensure_demo
    from incident.store.engine import open_store

    folder = tmp_path_factory.mktemp("fuzz")
    engine = open_store(f"sqlite:///{folder / 'demo.sqlite'}")
    ensure_demo(engine, actor="fuzz")
    empty = open_store(f"sqlite:///{folder / 'empty.sqlite'}")
    inventory = open_store(f"sqlite:///{folder / 'inventory.sqlite'}")
    from incident.services.demo import DEMO_INVENTORY
    from incident.services.inventory import load_inventory
    from incident.store.engine import session_scope

    with session_scope(inventory) as s:
        load_inventory(s, DEMO_INVENTORY, actor="fuzz")
    yield engine, f"sqlite:///{folder / 'demo.sqlite'}", empty, inventory
    for e in (engine, empty, inventory):
        e.dispose()


@pytest.mark.parametrize("fuzz_target", TARGETS, ids=[t.name for t in TARGETS])
def test_refuses_only_with_clear_user_errors(fuzz_target: Target, fuzz_engine, tmp_path, monkeypatch, capsys):
    engine, db_url, empty, inventory = fuzz_engine
    monkeypatch.chdir(tmp_path)  # a fuzzed relative path lands here, not in the repository
    ctx = FuzzContext(
        tmp=tmp_path, engine=engine, db_url=db_url, empty_engine=empty, inventory_engine=inventory
    )
    examples = max(10, int(settings.default.max_examples * fuzz_target.examples_factor))
    seen = {"n": 0, "refused": 0}

    @settings(max_examples=examples)
    @given(fuzz_target.strategy)
    def run(value):
        seen["n"] += 1
        try:
            fuzz_target.call(value, ctx)
        except UserError as exc:
            seen["refused"] += 1
            message = exc.render()
            assert message.strip() and "Traceback" not in message

    for value in fuzz_target.examples:
        run = example(value)(run)
    run()
    EXAMPLES[fuzz_target.name] = seen["n"]
    with capsys.disabled():
        print(
            f"\n[fuzz] {fuzz_target.name}: {seen['n']} examples, {seen['refused']} refused with a UserError"
        )
