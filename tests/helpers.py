"""Helpers the test files share (one place each): what a user's error says."""

from __future__ import annotations

import contextlib
import re

import pytest


@contextlib.contextmanager
def refused(error: type[Exception], english: str | None = None, *, key: str | None = None):
    """The block raises ``error`` (a ``JamsosError``): its catalogue ``key``, and its English
    line matching the regex ``english`` (the Indonesian one is the default the user reads:
    tests/test_texts.py keeps both languages complete)."""
    with pytest.raises(error) as caught:
        yield caught
    if key is not None:
        assert caught.value.key == key
    if english is not None:
        line = caught.value.message("en")
        assert re.search(english, line), f"{english!r} not in {line!r}"


# A user's decree states its age range and premium figures (nothing is Batam's by default):
# the tables a test's own rule file adds after its top-level keys.
DECREE_FIGURES = """
[age]
min = 18
max = 64

[premium]
programs = ["JKK", "JKM"]
declared_income = 1_000_000
jkk_rate_bp = 100
jkm_flat = 6_800
rounding = "half_up"
"""
