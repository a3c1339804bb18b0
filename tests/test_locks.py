"""Locks: a second run gets LockHeld (exit 3) at once; a killed holder does not block."""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path

import pytest

from jamsos_cli.errors import LockHeld
from jamsos_cli.ledger import lock as ledger_lock
from jamsos_cli.locks import exclusive, folder_lock, folder_lock_path, ledger_lock_path
from tests.helpers import hold, refused


def test_second_holder_fails_at_once_with_exit_code_3(tmp_path: Path) -> None:
    lock = tmp_path / "ledger.sqlite.lock"
    proc = hold(lock)
    try:
        started = time.monotonic()
        with refused(LockHeld, "another jamsos run") as err, exclusive(lock, "x"):
            pass
        assert err.value.exit_code == 3
        assert time.monotonic() - started < 1  # no waiting
    finally:
        proc.kill()
        proc.wait()


def test_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    lock = tmp_path / "out" / ".jamsos.lock"
    lock.parent.mkdir()
    proc = hold(lock)
    proc.send_signal(signal.SIGKILL)  # kill -9: no cleanup code runs
    proc.wait()
    assert lock.exists()  # the file stays, but the kernel dropped the lock
    with exclusive(lock, "the output folder"):
        pass


@contextlib.contextmanager
def run_locks(ledger: Path, out: Path):
    """The locks of one build-batch run, in its order: the ledger's, then the folder's."""
    with ledger_lock(ledger), folder_lock(out):
        yield


def test_run_locks_cover_ledger_and_output_folder(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    out = tmp_path / "out"
    out.mkdir()
    assert ledger_lock_path(ledger) == tmp_path / "ledger.sqlite.lock"
    proc = hold(folder_lock_path(out))
    try:
        with refused(LockHeld, "output folder"), run_locks(ledger, out):
            pass
        # the ledger lock taken first was released on the way out
        with exclusive(ledger_lock_path(ledger), "ledger"):
            pass
    finally:
        proc.kill()
        proc.wait()
    with run_locks(ledger, out):
        assert oct(folder_lock_path(out).stat().st_mode & 0o777) == "0o600"


def test_same_process_cannot_lock_twice(tmp_path: Path) -> None:
    """flock is per open file: a nested run in one process is refused too."""
    lock = tmp_path / "x.lock"
    with exclusive(lock, "x"), pytest.raises(LockHeld), exclusive(lock, "x"):
        pass
