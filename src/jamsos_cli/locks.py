"""Locks that keep two runs (two cron jobs, a cron job and a clerk) off the same ledger or
output folder.

An exclusive ``flock`` on a small lock file, taken without waiting: a second run exits 3 at
once (``errors.LockHeld``). The kernel drops the lock when the holding process dies, however
it dies (``kill -9`` included), so a stale lock never blocks the next run; the lock file
itself is left in place (deleting it would let two runs lock two different files).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from jamsos_cli.errors import LockHeld
from jamsos_cli.texts import ref

FOLDER_LOCK_NAME = ".jamsos.lock"


def ledger_lock_path(ledger: Path) -> Path:
    """The lock of a ledger sits beside it: ``ledger.sqlite.lock``."""
    return ledger.with_name(ledger.name + ".lock")


def folder_lock_path(folder: Path) -> Path:
    return folder / FOLDER_LOCK_NAME


def ledger_what(ledger: Path) -> str:
    return ref("lock.ledger", path=ledger)


def folder_what(folder: Path) -> str:
    return ref("lock.folder", path=folder)


if sys.platform == "win32":  # pragma: no cover - the tool is run from Linux cron
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import errno
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return False
            raise
        return True


@contextlib.contextmanager
def exclusive(lock_file: Path, what: str, *, mode: int = 0o600) -> Iterator[Path]:
    """Hold an exclusive lock on ``lock_file`` (created if missing) for the ``with`` body.

    ``what`` names the thing protected (``ledger_what``, ``folder_what``: texts to render in
    the user's language), for the message a second run prints.
    """
    from jamsos_cli.writing import open_private

    # no link followed; a full disk or a refusal is one line (``writing.write_error``)
    fd = open_private(lock_file, os.O_RDWR | os.O_CREAT, mode)
    try:
        if not _try_lock(fd):
            raise LockHeld("error.lock.held", what=what, lock=lock_file)
        yield lock_file
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def folder_lock(folder: Path, *, mode: int = 0o600) -> contextlib.AbstractContextManager[Path]:
    """The lock of an output folder (the ledger's own is the ledger store's: ``ledger.lock``,
    which for an SQLite ledger is ``exclusive`` on ``ledger_lock_path``)."""
    return exclusive(folder_lock_path(folder), folder_what(folder), mode=mode)
