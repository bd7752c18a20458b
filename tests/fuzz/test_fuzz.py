"""Every parser and input field: no unhandled exception, every refusal a UserError with a message
that names where (file, line, column or field).

Targets live in tests/fuzz/targets.py (add new parsers there). The number of
examples comes from the Hypothesis profile (tests/fuzz/conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import example, given, settings

from incident.core.errors import UserError, ValidationErrors
from tests.fuzz.conftest import LONG_RUN_EXAMPLES
from tests.fuzz.targets import DEMO, TARGETS, FuzzContext, Target

EXAMPLES: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory):
    from incident.core.clock import utcnow
    from incident.core.incidents import get_incident
    from incident.core.store.engine import open_store, session_scope
    from incident.demo.seed import DEMO_INVENTORY, ensure_demo
    from incident.readiness.inventory import load_inventory
    from incident.readiness.inventory_csv import export_csv
    from incident.results.entry import NewSample, create_sample
    from tests.results.conftest import backdate, make_plan

    folder = tmp_path_factory.mktemp("fuzz")
    engine = open_store(f"sqlite:///{folder / 'demo.sqlite'}")
    code = ensure_demo(engine, actor="fuzz")
    # a plan (points S1–S4, rounds 1–3) and three samples of round 1, as the results tests set up
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        backdate(s, inc)
        make_plan(s, inc.id)
        samples = [
            create_sample(
                s,
                code,
                NewSample(point=p, round=1, sampled_at=utcnow() - timedelta(hours=3), sampler="Li Wei"),
                actor="fuzz",
            ).code
            for p in ("S1", "S2", "S3")
        ]
    with session_scope(engine) as s:
        export_csv(s, folder / "inventory.csv")
    DEMO.update(
        code=code,
        samples=samples,
        inventory_csv=(folder / "inventory.csv").read_text(encoding="utf-8-sig"),
    )
    empty = open_store(f"sqlite:///{folder / 'empty.sqlite'}")
    inventory = open_store(f"sqlite:///{folder / 'inventory.sqlite'}")
    with session_scope(inventory) as s:
        load_inventory(s, DEMO_INVENTORY, actor="fuzz")
    yield engine, f"sqlite:///{folder / 'demo.sqlite'}", empty, inventory
    for e in (engine, empty, inventory):
        e.dispose()


def fuzz_examples(fuzz_target: Target) -> int:
    """Examples for a target: a slow target runs a share of the profile's count in CI, but the
    full count in the long run (bench/bench_evidence.py promises 10,000 cases for every parser)."""
    full = settings.default.max_examples
    if full >= LONG_RUN_EXAMPLES:
        return full
    return max(10, int(full * fuzz_target.examples_factor))


def unlocated(exc: UserError) -> list[str]:
    """Refusals in ``exc`` that do not say where (file, line, column or field): none is allowed."""
    if isinstance(exc, ValidationErrors):
        if not exc.problems:
            return [f"{exc.render()!r} lists no problem"]
        return [m for p in exc.problems for m in unlocated(p)]
    if not (exc.where or exc.field or "").strip():  # a file/line, or the input field
        return [exc.render()]
    return []


@pytest.mark.parametrize("fuzz_target", TARGETS, ids=[t.name for t in TARGETS])
def test_refuses_only_with_clear_user_errors(fuzz_target: Target, fuzz_engine, tmp_path, monkeypatch, capsys):
    engine, db_url, empty, inventory = fuzz_engine
    monkeypatch.chdir(tmp_path)  # a fuzzed relative path lands here, not in the repository
    ctx = FuzzContext(
        tmp=tmp_path, engine=engine, db_url=db_url, empty_engine=empty, inventory_engine=inventory
    )
    examples = fuzz_examples(fuzz_target)
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
            if fuzz_target.located:
                assert not unlocated(exc), f"refusal without a location: {unlocated(exc)}"

    for value in fuzz_target.examples:
        run = example(value)(run)
    run()
    EXAMPLES[fuzz_target.name] = seen["n"]
    reached = f", {ctx.reached} {fuzz_target.reach}" if fuzz_target.reach else ""
    with capsys.disabled():
        print(
            f"\n[fuzz] {fuzz_target.name}: {seen['n']} examples, {seen['refused']} refused with a UserError"
            f"{reached}"
        )


@pytest.mark.parametrize(
    "fuzz_target", [t for t in TARGETS if t.seeds], ids=[t.name for t in TARGETS if t.seeds]
)
def test_seeds_are_accepted(fuzz_target: Target, fuzz_engine, tmp_path, monkeypatch):
    """The valid inputs the mutations start from are accepted: otherwise every example would be
    refused at the first check and the deep validation code never reached."""
    engine, db_url, empty, inventory = fuzz_engine
    monkeypatch.chdir(tmp_path)
    ctx = FuzzContext(
        tmp=tmp_path, engine=engine, db_url=db_url, empty_engine=empty, inventory_engine=inventory
    )
    for value in fuzz_target.seeds():
        fuzz_target.call(value, ctx)
