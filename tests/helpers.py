"""Helpers the test files share, one place each: the installed command (``JAMSOS``), the
build-batch command line, the ledger as its file holds it, another process holding a lock,
what a user's error says, a user decree's figures."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ledgers import Target
from tests.rosters import RT

# The installed entry point, as cron runs it.
JAMSOS = str(Path(sys.executable).with_name("jamsos"))


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
DECREE_PREMIUM = """
[premium]
programs = ["JKK", "JKM"]
declared_income = 1_000_000
jkk_rate_bp = 100
jkm_flat = 6_800
rounding = "half_up"
"""
DECREE_FIGURES = "\n[age]\nmin = 18\nmax = 64\n" + DECREE_PREMIUM


def build_args(
    tmp_path: Path,
    *rosters: Path,
    decree: str = RT,
    start: str = "2025-06",
    ledger: Path | str | None = None,
    out: Path | None = None,
    extra: tuple[str, ...] = (),
    new_ledger: bool = True,
) -> list[str]:
    """The build-batch command line (batches in ``tmp_path/out``, ledger beside it; the
    ledger made when missing unless ``new_ledger`` is false)."""
    return [
        "build-batch",
        *map(str, rosters),
        "--decree",
        decree,
        "--start",
        start,
        "--out",
        str(out or tmp_path / "out"),
        "--ledger",
        str(ledger or tmp_path / "ledger.sqlite"),
        *(["--new-ledger"] if new_ledger else []),
        *extra,
    ]


def _target(where: Path | Target) -> Target:
    return where if isinstance(where, Target) else Target("sqlite", str(where), path=where)


def ledger_batches(where: Path | Target, *, check: bool = False) -> list[tuple]:
    """(id, status, people) per batch as stored (an SQLite file's, or a target's), read raw
    (no jamsos recovery); ``check``: after an SQLite file's integrity check."""
    target = _target(where)
    if check and target.sqlite and target.exists():
        assert target.rows("PRAGMA integrity_check") == [("ok",)]
    return target.batches()


def ledger_rows(where: Path | Target) -> list[tuple]:
    """(batch id, status, NIK) per person, in ledger order, as stored."""
    return _target(where).people()


# What each ledger schema version added, as SQL that takes it away again: tests of ledgers
# written by older releases (``downgrade``). Version 3 rebuilt the people table (see
# tests/test_ledger.py's downgrade_to_schema_2).
UNDO = {
    5: "DROP TABLE run_findings; DROP TABLE run_inputs; DROP TABLE dukcapil;"
    " ALTER TABLE person_events DROP COLUMN kpj; ALTER TABLE person_events DROP COLUMN"
    " coverage_start; ALTER TABLE person_events DROP COLUMN from_month;",
    6: "DROP TABLE batch_premiums; ALTER TABLE people DROP COLUMN role;",
    4: "DROP TABLE person_events; DROP TABLE changes; DROP TABLE meta;"
    " ALTER TABLE batches DROP COLUMN uploaded_at;",
    2: "DROP TABLE decisions;",
}


def init_ledger(path: Path) -> Path:
    """A new, empty ledger at ``path`` (as ``jamsos ledger init`` makes it)."""
    from jamsos_cli.ledger import Ledger, change

    with Ledger.open(path) as ledger:
        ledger.create(change("jamsos ledger init"))
    return path


def downgrade(path: Path, version: int) -> None:
    """Give a ledger the tables of schema ``version`` (what later versions added dropped)."""
    from jamsos_cli.ledger import SCHEMA_VERSION

    conn = sqlite3.connect(path)
    for v in range(SCHEMA_VERSION, version, -1):
        conn.executescript(UNDO.get(v, ""))
    conn.executescript(
        f"DELETE FROM schema_version WHERE version > {version}; PRAGMA user_version = {version};"
    )
    conn.close()


HOLDER = (
    "import sys, time; from pathlib import Path; from jamsos_cli.locks import exclusive\n"
    "with exclusive(Path(sys.argv[1]), 'x'):\n print('locked', flush=True); time.sleep(60)"
)


def hold(lock: Path) -> subprocess.Popen:
    """Another process (a cron run) holding ``lock``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder
