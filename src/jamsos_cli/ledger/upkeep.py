"""Keeping the ledger: a consistent backup (``jamsos ledger backup``).

Written against ``store.LedgerStore`` (the copy itself is the store's: SQLite's online backup
API for the embedded ledger).
"""

from __future__ import annotations

import os
from pathlib import Path

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger.book import check_file, store_for
from jamsos_cli.writing import sha256_file


def backup(location: Path | str, target: Path, mode: int = 0o600) -> dict:
    """Copy the ledger at ``location`` to ``target`` (a new file, owner-only), consistent
    while other runs read it and without its lock: a build in progress is not waited for
    (only its commit, a moment), and the copy holds the ledger as of its last commit.
    Returns what was written (``backup``, ``bytes``, ``sha256``)."""
    check_file(location)
    target = Path(target)
    if os.path.lexists(target):  # a backup never overwrites anything (an older backup...)
        raise UsageError("error.backup.exists", path=target)
    if target.resolve() == Path(location).resolve():
        raise UsageError("error.backup.same", path=target)
    store_for(location).backup(target, mode)
    return {"backup": str(target), "bytes": target.stat().st_size, "sha256": sha256_file(target)}
