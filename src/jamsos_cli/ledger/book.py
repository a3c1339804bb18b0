"""The ledger's rules: every batch jamsos wrote, and who is in it, so nobody is paid twice.

Written against ``store.LedgerStore`` only (SQLite now, PostgreSQL later): every change is
one ``store.transaction()``.

A batch goes through ``committing`` → ``done`` (→ ``voided`` by ``jamsos ledger void``).
``committing`` lives only between the transaction that records a batch and the rename that
publishes its folder; ``recover`` (run under the ledger lock, so its writer is dead) settles
it: folder there with the recorded manifest → ``done``, otherwise the rows go. See
``build.py`` for the whole commit sequence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger.period import Period, month_label, month_label_expr
from jamsos_cli.ledger.sqlite import SQLiteStore, now
from jamsos_cli.ledger.store import (
    PEOPLE_SCHEMA,
    PERSON_COLUMNS,
    STATUS_COMMITTING,
    STATUS_DONE,
    STATUS_VOIDED,
    BatchRecord,
    Chosen,
    LedgerError,
    LedgerStore,
)
from jamsos_cli.texts import ref
from jamsos_cli.writing import crash_point, sha256_file

BATCH_COLUMNS = ("id", "folder", "decree", "start", "end", "participants", "total_premium")
BATCH_COLUMNS += ("status", "created")


def store_for(location: Path | str) -> LedgerStore:
    """The store a ``--ledger`` value names (a file path: SQLite)."""
    return SQLiteStore(Path(location))


def folder_basename(expr: pl.Expr) -> pl.Expr:
    """The batch folder's own name (the ledger stores its full path)."""
    return expr.str.extract(r"([^/\\]+)[/\\]*$", 1)


class Ledger:
    """One open ledger. ``Ledger.open`` for a run that writes (call under the ledger's
    lock), ``Ledger.snapshot`` for one that must not (dry run, listing): a private view."""

    def __init__(self, store: LedgerStore, *, writable: bool) -> None:
        self.store = store
        self.writable = writable

    @classmethod
    def open(cls, location: Path | str, *, mode: int = 0o600) -> Ledger:
        """An existing ledger is checked and migrated now; a missing one is created when the
        first thing is recorded (so a run that writes nothing leaves nothing behind)."""
        store = store_for(location)
        store.open(write=True, mode=mode)
        return cls(store, writable=True)

    @classmethod
    def snapshot(cls, location: Path | str) -> Ledger:
        """A private view: reading and recovering it never changes the ledger."""
        store = store_for(location)
        store.open(write=False)
        return cls(store, writable=False)

    @property
    def path(self) -> str:
        return self.store.location

    @property
    def exists(self) -> bool:
        """There was a ledger when it was opened (else it is created on the first change)."""
        return self.store.exists

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_writable(self) -> None:
        if not self.writable:
            raise RuntimeError("this ledger was opened read-only (dry run)")

    # -- recovery ----------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Settle batches a killed run left ``committing``: published folder → done, no
        folder → rows deleted. Call under the ledger lock. Returns what was done (texts to
        render later, ``texts.ref``)."""
        pending = self.store.pending()
        notes: list[str] = []
        if not pending:
            return notes
        with self.store.transaction():
            for batch_id, folder, digest in pending:
                manifest = Path(folder) / "manifest.json"
                if manifest.is_file() and sha256_file(manifest) == digest:
                    self.store.set_status(batch_id, STATUS_DONE)
                    notes.append(ref("ledger.recovered_done", id=batch_id, folder=folder))
                else:
                    self.store.delete_batch(batch_id)
                    notes.append(ref("ledger.recovered_gone", id=batch_id, folder=folder))
        return notes

    # -- reading -----------------------------------------------------------------------

    def people(
        self,
        period: Period | None = None,
        *,
        decree: str | None = None,
        statuses: tuple[str, ...] = (STATUS_DONE,),
        columns: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """People of the batches with these statuses (live ones by default), optionally only
        batches overlapping ``period`` and of ``decree``; in ledger order (batch, then roster).

        ``columns``: only these of ``PEOPLE_SCHEMA``, in this order, for a caller that needs
        a few: on a national ledger every text column read costs about a second per million
        people. The batches are chosen on the small ``batches`` table; their people are
        streamed in storage order (no sort in the store) and get their batch's fields here.
        """
        wanted = list(PEOPLE_SCHEMA) if columns is None else list(columns)
        if unknown := set(wanted) - set(PEOPLE_SCHEMA):
            raise ValueError(f"not a ledger people column: {sorted(unknown)}")
        chosen = Chosen(statuses=statuses, period=period, decree=decree)
        batches = self.store.batches(chosen)
        if batches.height == 0:
            return pl.DataFrame(schema={c: PEOPLE_SCHEMA[c] for c in wanted})
        people = self.store.people(chosen, [c for c in PERSON_COLUMNS if c in wanted])
        # storage order is batch order (a batch is appended after the last); the stable sort
        # makes "batch, then roster order" hold whatever the store did (cheap when sorted)
        people = people.join(batches, on="batch_id", how="inner", maintain_order="left")
        return people.sort("batch_id", maintain_order=True).select(wanted)

    def known(self) -> pl.DataFrame:
        """Everyone in a live batch, as near-duplicate detection compares them (``ref`` names
        the batch folder)."""
        people = self.people(
            columns=("nik", "name", "birth_date", "sex", "phone", "kelurahan", "folder")
        )
        return people.select(
            "nik",
            "name",
            pl.col("birth_date").str.to_date("%Y-%m-%d", strict=False),
            "sex",
            "phone",
            "kelurahan",
            (pl.lit("ledger: ") + folder_basename(pl.col("folder"))).alias("ref"),
        )

    def decisions(self) -> pl.DataFrame:
        """Reviewed pairs as ``review.read_decisions`` gives them: ``nik_a`` < ``nik_b``,
        ``decision`` "same"/"different" (feed ``RunOptions.decisions``)."""
        return self.store.decisions()

    def next_id(self) -> int:
        """The id the next batch gets (read under the lock, so it is the one inserted)."""
        return self.store.max_batch_id() + 1

    def next_seq(self, decree: str, period: Period) -> int:
        """1 + the highest sequence used for this decree and period (voided ones included,
        so a folder name is never reused)."""
        return self.store.max_seq(decree, period) + 1

    def batches(self) -> list[dict]:
        """Every batch, oldest first."""
        return [
            dict(
                zip(
                    BATCH_COLUMNS,
                    (i, f, d, month_label(s), month_label(e), n, t, st, c),
                    strict=True,
                )
            )
            for i, f, d, s, e, n, t, st, c in self.store.batch_rows()
        ]

    def stats(self) -> list[dict]:
        """People and premium per decree and coverage period, live batches only."""
        return [
            {
                "decree": d,
                "start": month_label(s),
                "end": month_label(e),
                "months": e - s + 1,
                "batches": n,
                "people": int(p),
                "total_premium": int(t),
            }
            for d, s, e, n, p, t in self.store.stats_rows()
        ]

    def find_batch(self, which: str) -> dict:
        """A batch by id (``3``) or folder name (``perwako-..._2025-06_2025-12_001``)."""
        key = which.strip().rstrip("/")
        for batch in self.batches():
            if str(batch["id"]) == key or Path(batch["folder"]).name == Path(key).name:
                return batch
        raise UsageError("error.ledger.no_batch", batch=which, path=self.path)

    # -- writing -----------------------------------------------------------------------

    def record_batch(self, batch: BatchRecord, people: pl.DataFrame, inputs: list[dict]) -> int:
        """Record a batch as ``committing`` with its inputs and people, in one transaction.

        ``people`` has the ledger's identity columns (nik, name, birth_date as ISO text, sex,
        phone, kelurahan, kelurahan_code, source)."""
        self._require_writable()
        if people.get_column("nik").n_unique() < people.height:  # the people table has no key
            raise ValueError("a batch lists a NIK twice")  # (NIK_DUPLICATE prevents this)
        self.store.create()
        crash_point("ledger-created")
        with self.store.transaction():
            self.store.insert_batch(batch, STATUS_COMMITTING, now())
            self.store.insert_inputs(batch.id, inputs)
            self.store.insert_people(batch.id, people)
            crash_point("ledger-insert")
        return batch.id

    def record_decisions(self, frame: pl.DataFrame, source: str | None = None) -> int:
        """Record reviewed pairs (``nik_a``, ``nik_b``, ``decision``), in one transaction; a
        pair decided before takes the new decision (a clerk may correct one). Returns how
        many pairs were new or changed."""
        self._require_writable()
        rows = (
            frame.select(
                lo=pl.min_horizontal("nik_a", "nik_b").cast(pl.Utf8),
                hi=pl.max_horizontal("nik_a", "nik_b").cast(pl.Utf8),
                decision=pl.col("decision").cast(pl.Utf8),
            )
            .filter(pl.col("lo") != pl.col("hi"))  # one NIK twice is no pair to decide
            .unique(subset=["lo", "hi"], keep="last", maintain_order=True)
            .rows()
        )
        if not rows:
            return 0
        self.store.create()
        with self.store.transaction():
            return self.store.upsert_decisions(rows, source, now())

    def rollback(self, batch_id: int) -> None:
        """Take back a batch whose folder could not be published."""
        self._require_writable()
        with self.store.transaction():
            self.store.delete_batch(batch_id)

    def mark_done(self, batch_id: int) -> None:
        self._require_writable()
        with self.store.transaction():
            self.store.set_status(batch_id, STATUS_DONE, only_from=STATUS_COMMITTING)

    def void(self, which: str) -> dict:
        """Withdraw a batch that was never uploaded: its people can be submitted again."""
        self._require_writable()
        batch = self.find_batch(which)
        if batch["status"] != STATUS_DONE:
            raise UsageError(
                "error.ledger.void_status",
                id=batch["id"],
                status=ref(f"ledger.status.{batch['status']}"),
            )
        with self.store.transaction():
            self.store.set_status(batch["id"], STATUS_VOIDED, at=now())
        return {**batch, "status": STATUS_VOIDED}


def check_file(location: Path | str) -> None:
    """Refuse a foreign or corrupt ledger before anything is locked or written."""
    store_for(location).check()


def lock(location: Path | str, mode: int = 0o600) -> contextlib.AbstractContextManager[None]:
    """The ledger's exclusive lock (held by another run → ``LockHeld``, exit 3)."""
    return store_for(location).lock(mode)


@contextlib.contextmanager
def opened(location: Path | str, *, mode: int = 0o600, write: bool = False) -> Iterator[Ledger]:
    """An existing ledger for the ``jamsos ledger`` commands, interrupted batches settled.

    To change it (``void``): under its lock (held by a run → exit 3), recovered for real.
    To read it (``list``, ``stats``, ``export``): a private view, recovered in it only, so
    reading never waits for a cron run and never needs write access to the ledger.
    """
    store = store_for(location)
    if not store.exists:
        raise LedgerError("error.ledger.missing", path=store.location)
    store.check()
    with contextlib.ExitStack() as stack:
        if write:
            stack.enter_context(store.lock(mode))
            ledger = stack.enter_context(Ledger.open(location, mode=mode))
        else:
            ledger = stack.enter_context(Ledger.snapshot(location))
        ledger.recover()
        yield ledger


def export_frame(ledger: Ledger, *, include_voided: bool = False) -> pl.DataFrame:
    """One row per person per batch, with the batch's decree, period and status."""
    statuses = (STATUS_DONE, STATUS_VOIDED) if include_voided else (STATUS_DONE,)
    people = ledger.people(statuses=statuses)
    return people.select(
        "batch_id",
        folder_basename(pl.col("folder")).alias("folder"),
        "decree",
        month_label_expr(pl.col("start_month")).alias("start"),
        month_label_expr(pl.col("end_month")).alias("end"),
        "status",
        "nik",
        "name",
        "birth_date",
        "sex",
        "phone",
        "kelurahan",
        "kelurahan_code",
        "source",
    )
