"""Keeping the ledger: a consistent backup (``jamsos ledger backup``), and removing the
personal data of people whose coverage ended long ago (``jamsos ledger purge``), keeping
the counts and the money.

Written against ``store.LedgerStore`` (the copy itself is the store's: SQLite's online backup
API for the embedded ledger).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger.book import Ledger, check_file, store_for
from jamsos_cli.ledger.location import locate
from jamsos_cli.ledger.store import STATUS_DONE, STATUS_VOIDED, Change
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
    where = locate(location)  # a file, or a URL (its store refuses a backup, naming why)
    if isinstance(where, Path) and target.resolve() == where.resolve():
        raise UsageError("error.backup.same", path=target)
    store_for(location).backup(target, mode)
    return {"backup": str(target), "bytes": target.stat().st_size, "sha256": sha256_file(target)}


def ended_before(ledger: Ledger, month: int) -> pl.DataFrame:
    """The NIKs (``nik``) whose coverage ended before ``month``: their last covered month
    (the end of the last batch holding them, live or voided, or the month before the end
    the ledger records for them, ``status.ends``) is before it. People already purged
    (their NIK an alias) are not among them."""
    from jamsos_cli.ledger.status import ends

    people = ledger.people(
        statuses=(STATUS_DONE, STATUS_VOIDED), columns=("nik", "end_month"), withdrawn=True
    )
    last = people.group_by("nik", maintain_order=True).agg(pl.col("end_month").max())
    stopped = ends(ledger.store.events()).select("nik", (pl.col("ended_from") - 1).alias("_last"))
    last = last.join(stopped, on="nik", how="left", maintain_order="left")
    until = pl.min_horizontal("end_month", "_last")
    return last.filter(until < month, pl.col("nik").str.contains(r"^\d{16}$")).select("nik")


def purge(ledger: Ledger, month: int, command: Change) -> int:
    """Remove the personal data of the people whose coverage ended before ``month``
    (``ended_before``), in one transaction with its change log entry; each becomes an alias
    (``~<change>.<n>``, no NIK), so batch counts, money and the bills of past months stay
    as they were. Returns how many people."""
    niks = ended_before(ledger, month)
    if niks.height == 0:
        return 0
    with ledger.store.transaction():
        change_id = ledger.store.insert_change(command)
        aliases = niks.with_row_index("n", offset=1).select(
            "nik", pl.format("~{}.{}", pl.lit(change_id), pl.col("n")).alias("alias")
        )
        ledger.store.forget_people(aliases)
    return niks.height
