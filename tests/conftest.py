"""Test-wide settings: hypothesis profiles, and the ledger under test in each store.

``ci`` (the default) keeps every property test bounded so the suite fits CI's time;
``HYPOTHESIS_PROFILE=long pytest tests/test_fuzz.py`` runs many more examples by hand (the
kill-at-random-moments trials of ``test_crash_random.py`` follow the same switch).
Tests that set their own ``@settings(max_examples=...)`` keep them.

``target``: the ledger a test uses, once as an SQLite file and once as a fresh PostgreSQL
database (``tests/ledgers.py``; the server is ``tests/postgres.py``'s, started on first use);
``pg``: a PostgreSQL ledger alone, for what only PostgreSQL does.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.ledgers import KINDS, Target
from tests.postgres import server_or_skip

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


# --- the ledger under test, in each store ---------------------------------------------------

_SERVER: dict = {}  # the session's PostgreSQL server, started when a test first needs it


@pytest.fixture(scope="session")
def pg_server():
    """The throwaway PostgreSQL server (tests/postgres.py); skipped, with the reason, where
    none can be had. Stopped and deleted at the end of the session."""
    server = server_or_skip(_SERVER)
    yield server
    server.remove()


def pg_target(server) -> Target:
    name = server.new_database()
    return Target("postgresql", server.url(name), server=server, database=name)


@pytest.fixture(params=KINDS)
def target(request, tmp_path):
    """The ledger a test uses: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.sqlite"
        yield Target("sqlite", str(path), path=path)
        return
    found = pg_target(request.getfixturevalue("pg_server"))
    yield found
    found.server.drop_database(found.database)


@pytest.fixture
def pg(pg_server):
    """A fresh PostgreSQL ledger database (the tests of what only PostgreSQL does)."""
    found = pg_target(pg_server)
    yield found
    pg_server.drop_database(found.database)
