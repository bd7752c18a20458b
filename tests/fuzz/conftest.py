"""Hypothesis profiles for the fuzz tests.

- ``ci`` (default): 200 examples per target, derandomized (the same inputs every run);
- ``long``: 10,000 examples per target: ``HYPOTHESIS_PROFILE=long pytest tests/fuzz``;
- ``dev``: 30 examples, for a quick look while editing.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_common = dict(
    deadline=None,  # a 2-core CI box under load must not turn slowness into failures
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
    print_blob=True,
)
# ci: the same examples every run (a red CI means a change broke something, not a lucky draw);
# long and dev: fresh random examples each run, to find new bugs.
settings.register_profile("ci", max_examples=200, derandomize=True, **_common)
LONG_RUN_EXAMPLES = 10_000  # every parser, the slow ones too (a target's examples_factor is for CI only)
settings.register_profile("long", max_examples=LONG_RUN_EXAMPLES, **_common)
settings.register_profile("dev", max_examples=30, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
