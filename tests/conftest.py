"""Test-wide settings: hypothesis profiles.

``ci`` (the default) keeps every property test bounded so the suite fits CI's time;
``HYPOTHESIS_PROFILE=long pytest tests/test_fuzz.py`` runs many more examples by hand (the
kill-at-random-moments trials of ``test_crash_random.py`` follow the same switch).
Tests that set their own ``@settings(max_examples=...)`` keep them.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
LONG = PROFILE == "long"

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,  # a run of the whole CLI takes ~0.1-0.5 s, more on a loaded CI machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(PROFILE)


def examples(ci: int) -> int:
    """``ci`` examples in CI (a whole CLI run each), the profile's many under ``long``."""
    return settings.default.max_examples if LONG else ci
