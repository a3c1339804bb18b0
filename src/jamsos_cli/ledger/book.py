"""The ledger's rules: every batch jamsos wrote, and who is in it, so nobody is paid twice.

Written against ``store.LedgerStore`` only (SQLite or PostgreSQL, ``store_for`` picks by the
location): every change is one ``store.transaction()``.

A batch goes through ``committing`` → ``done`` (→ ``voided`` by ``jamsos ledger void``,
unless it was marked uploaded). ``committing`` lives only between the transaction that
records a batch and the rename that publishes its folder; ``recover`` (run under the ledger
lock, so its writer is dead) settles it (see ``Ledger.recover`` for why rows are only ever
deleted while the staging folder is still there). See ``build.py`` for the whole commit
sequence.

People of a batch can be withdrawn one by one (``withdraw``: recorded by mistake); every
change is logged with when, the OS user, the command and its input (``Change``, ``jamsos
ledger log``).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger.location import LedgerURL, Location, locate
from jamsos_cli.ledger.period import Period, month_label, month_label_expr
from jamsos_cli.ledger.sqlite import SQLiteStore
from jamsos_cli.ledger.status import ends, fold, latest_matching
from jamsos_cli.ledger.store import (
    CHANGE_COLUMNS,
    END_REASONS,
    EVENT_ENDED,
    EVENT_REFUSED,
    EVENT_REOPENED,
    EVENT_WITHDRAWN,
    PEOPLE_SCHEMA,
    PERSON_COLUMNS,
    STATUS_COMMITTING,
    STATUS_DONE,
    STATUS_VOIDED,
    BatchRecord,
    Change,
    Chosen,
    LedgerError,
    LedgerStore,
    now,
)
from jamsos_cli.texts import ref
from jamsos_cli.writing import crash_point, sha256_file

BATCH_COLUMNS = ("id", "folder", "decree", "start", "end", "participants", "total_premium")
BATCH_COLUMNS += ("status", "created", "uploaded", "manifest_sha256")


def os_user() -> str:
    """Who runs the command, as the change log records it (the OS account, not a name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's numeric user)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "?"


def change(
    command: str,
    *,
    input_path: Path | None = None,
    input_name: str | None = None,
    summary: dict | None = None,
) -> Change:
    """A ``Change`` made now by this OS user; ``input_path``: the file it came from (its name
    as given and its sha256). ``summary``: counts only, never personal data."""
    return Change(
        command=command,
        user=os_user(),
        at=now(),
        input_name=input_name or (str(input_path) if input_path is not None else None),
        input_sha256=sha256_file(input_path) if input_path is not None else None,
        summary=json.dumps(summary, sort_keys=True) if summary is not None else None,
    )


@dataclass
class RunRecord:
    """What a build-batch run records besides its batch: each input's rows (``name``,
    ``sha256``, ``rows``, ``accepted``, ``rejected``, in order) and the counts of findings by
    input and code (``input``, ``code``, ``count``, ``first``: rejected rows whose first
    reason it is)."""

    inputs: list[dict]
    counts: pl.DataFrame


@dataclass
class LedgerView:
    """The ledger as the checks of a run read it: ``people`` of live batches (the columns
    asked for, and each person's status per period: ``status.STATUS_SCHEMA``), each
    person's standing end (``ends``: ``nik``, ``ended_from``, ``end_reason``), and the
    registry's latest ``matching`` per NIK (``result``, ``result_date``, ``file``)."""

    people: pl.DataFrame
    ends: pl.DataFrame
    matching: pl.DataFrame


def store_for(location: Location | str) -> LedgerStore:
    """The store a ``--ledger`` value names: a ``postgresql://`` URL (PostgreSQL) or a file
    path (SQLite)."""
    where = locate(location)
    if isinstance(where, LedgerURL):
        from jamsos_cli.ledger.postgresql import PostgresStore

        return PostgresStore(where)
    return SQLiteStore(where)


def _store(where: Location | str | LedgerStore) -> LedgerStore:
    return where if isinstance(where, LedgerStore) else store_for(where)


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
    def open(cls, where: Location | str | LedgerStore, *, mode: int = 0o600) -> Ledger:
        """An existing ledger is checked and migrated now; a missing one is created when the
        first thing is recorded (so a run that writes nothing leaves nothing behind).
        ``where``: a location, or the store ``lock`` yielded (so it knows what it holds)."""
        store = _store(where)
        store.open(write=True, mode=mode)
        return cls(store, writable=True)

    @classmethod
    def snapshot(cls, where: Location | str | LedgerStore) -> Ledger:
        """A private view: reading and recovering it never changes the ledger."""
        store = _store(where)
        store.open(write=False)
        return cls(store, writable=False)

    @property
    def path(self) -> Location:
        """Where the ledger is, as the user reads it (a URL's password masked)."""
        return self.store.location

    @property
    def exists(self) -> bool:
        """There was a ledger when it was opened (else it is created on the first change)."""
        return self.store.exists

    @property
    def id(self) -> str:
        """The ledger's identity, carried by every batch manifest (``ledger_id``)."""
        return self.store.ledger_id()

    def create(self, command: Change) -> None:
        """Make the ledger now (``jamsos ledger init``), its making the first change logged."""
        self._require_writable()
        self.store.create()
        with self.store.transaction():
            self.store.insert_change(command)

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
        """Settle batches a killed run left ``committing``. Call under the ledger lock.
        Returns what was done (texts to render later, ``texts.ref``).

        The rows of a batch are deleted only on proof that its folder was never published:
        its hidden staging folder (``.<folder>.tmp-<pid>``) is still there, and the rename
        that publishes it removes that name in the same step. Otherwise the batch is
        ``done``: its folder is there with the manifest the ledger recorded, or it is not
        where it was published — moved to an archive before anyone ran jamsos again (its
        people may be uploaded from there), so it is kept and the clerk is told; deleting
        the rows would submit those people a second time. ``ledger void`` releases such a
        batch if its folder truly never existed."""
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
                elif _staged(Path(folder)):
                    self.store.delete_batch(batch_id)
                    notes.append(ref("ledger.recovered_gone", id=batch_id, folder=folder))
                else:
                    self.store.set_status(batch_id, STATUS_DONE)
                    notes.append(ref("ledger.recovered_moved", id=batch_id, folder=folder))
        return notes

    # -- reading -----------------------------------------------------------------------

    def people(
        self,
        period: Period | None = None,
        *,
        decree: str | None = None,
        statuses: tuple[str, ...] = (STATUS_DONE,),
        columns: Sequence[str] | None = None,
        withdrawn: bool = False,
    ) -> pl.DataFrame:
        """People of the batches with these statuses (live ones by default), optionally only
        batches overlapping ``period`` and of ``decree``; in ledger order (batch, then roster).
        People withdrawn from a batch are left out (freed) unless ``withdrawn``.

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
        own = [c for c in PERSON_COLUMNS if c in wanted or (c == "nik" and not withdrawn)]
        people = self.store.people(chosen, own)
        if not withdrawn:
            gone = self.withdrawn()
            if gone.height:
                people = people.join(
                    gone, on=["batch_id", "nik"], how="anti", maintain_order="left"
                )
        # storage order is batch order (a batch is appended after the last); the stable sort
        # makes "batch, then roster order" hold whatever the store did (cheap when sorted)
        people = people.join(batches, on="batch_id", how="inner", maintain_order="left")
        return people.sort("batch_id", maintain_order=True).select(wanted)

    def statuses(
        self,
        period: Period | None = None,
        *,
        decree: str | None = None,
        columns: Sequence[str] = (),
        statuses: tuple[str, ...] = (STATUS_DONE,),
    ) -> pl.DataFrame:
        """Each person of the chosen batches with their status in that batch (``status.fold``):
        ``batch_id``, ``nik``, ``folder``, ``decree``, ``start_month``, ``end_month``,
        ``status`` (the batch's), ``columns`` (more of ``PEOPLE_SCHEMA``), then
        ``status.STATUS_SCHEMA``; withdrawn people included (as ``withdrawn``)."""
        base = ("batch_id", "nik", "folder", "decree", "start_month", "end_month", "status")
        wanted = list(dict.fromkeys([*base, *columns]))
        people = self.people(
            period, decree=decree, statuses=statuses, columns=wanted, withdrawn=True
        )
        return fold(people, self.store.events())

    def view(
        self, columns: Sequence[str], statuses: tuple[str, ...] = (STATUS_DONE,)
    ) -> LedgerView:
        """What the checks of a run read (``LedgerView``), in one pass over the people of
        the batches with these ``statuses``."""
        events = self.store.events()
        base = ("batch_id", "nik", "folder", "decree", "start_month", "end_month", "status")
        wanted = list(dict.fromkeys([*base, *columns]))
        people = fold(self.people(statuses=statuses, columns=wanted, withdrawn=True), events)
        matching = latest_matching(self.store.dukcapil())
        files = {c["id"]: c["input_name"] for c in self.changes()} if matching.height else {}
        matching = matching.with_columns(
            pl.col("change_id")
            .replace_strict(files, default=None, return_dtype=pl.Utf8)
            .alias("file")
        ).drop("change_id")
        return LedgerView(people=people, ends=ends(events), matching=matching)

    def person(self, nik: str) -> dict:
        """Everything the ledger holds about one NIK: its periods (every batch, voided ones
        too, with the status in each), what happened (events, with the change that made
        each), and the registry's results (with the file they came from)."""
        periods = self.statuses(
            columns=("name", "birth_date", "sex", "phone", "kelurahan", "source"),
            statuses=(STATUS_DONE, STATUS_VOIDED),
        ).filter(pl.col("nik") == nik)
        changes = {c["id"]: c for c in self.changes()}
        events = self.store.events().filter(pl.col("nik") == nik).to_dicts()
        results = self.store.dukcapil().filter(pl.col("nik") == nik).to_dicts()
        for row in (*events, *results):
            made = changes.get(row["change_id"], {})
            row.update(
                at=made.get("at"), user=made.get("user"), command=made.get("command"),
                file=made.get("input_name"),
            )  # fmt: skip
        return {"nik": nik, "periods": periods, "events": events, "matching": results}

    def withdrawn(self) -> pl.DataFrame:
        """(batch_id, nik, reason) of every person withdrawn from a batch."""
        events = self.store.events((EVENT_WITHDRAWN,))
        return events.select("batch_id", "nik", "reason").unique(
            ["batch_id", "nik"], keep="first", maintain_order=True
        )

    def known(self, people: pl.DataFrame | None = None) -> pl.DataFrame:
        """Everyone in a live batch, as near-duplicate detection compares them (``ref`` names
        the batch folder). ``people``: ``self.people()`` already read with at least these
        columns (nik, name, birth_date, sex, phone, kelurahan, folder)."""
        if people is None:
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
        """The id the next batch gets (taken under the lock, so it is the one inserted; a
        shared store hands each run its own)."""
        return self.store.new_batch_id()

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
                    (i, f, d, month_label(s), month_label(e), n, t, st, c, u, m),
                    strict=True,
                )
            )
            for i, f, d, s, e, n, t, st, c, u, m in self.store.batch_rows()
        ]

    def changes(self) -> list[dict]:
        """Every change to the ledger, oldest first (``jamsos ledger log``)."""
        rows = [dict(zip(CHANGE_COLUMNS, row, strict=True)) for row in self.store.changes()]
        for row in rows:
            row["summary"] = json.loads(row["summary"]) if row["summary"] else None
        return rows

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

    def record_batch(
        self,
        batch: BatchRecord,
        people: pl.DataFrame,
        inputs: list[dict],
        command: Change,
        run: RunRecord | None = None,
    ) -> int:
        """Record a batch as ``committing`` with its inputs and people, and the change that
        made it (with the run's counts of findings by input, ``run``), in one transaction.

        ``people`` has the ledger's identity columns (nik, name, birth_date as ISO text, sex,
        phone, kelurahan, kelurahan_code, source)."""
        self._require_writable()
        if people.get_column("nik").n_unique() < people.height:  # the people table has no key
            raise ValueError("a batch lists a NIK twice")  # (NIK_DUPLICATE prevents this)
        absent = [c for c in PERSON_COLUMNS if c not in people.columns]  # e.g. no role known
        people = people.with_columns(pl.lit(None, pl.Utf8).alias(c) for c in absent)
        self.store.create()
        crash_point("ledger-created")
        with self.store.transaction():
            self.store.insert_batch(batch, STATUS_COMMITTING, now())
            self.store.insert_inputs(batch.id, inputs)
            self.store.insert_people(batch.id, people)
            change_id = self.store.insert_change(command)
            if run is not None:
                self.store.insert_run(change_id, run.inputs, run.counts)
            crash_point("ledger-insert")
        return batch.id

    def record_run(self, command: Change, run: RunRecord) -> None:
        """A build-batch run that submitted nobody: its counts of findings by input still go
        in the ledger (who sends what rejects), as a change of its own."""
        self._require_writable()
        self.store.create()
        with self.store.transaction():
            self.store.insert_run(self.store.insert_change(command), run.inputs, run.counts)

    def record(
        self,
        command: Change,
        events: pl.DataFrame | None = None,
        matching: pl.DataFrame | None = None,
    ) -> int:
        """Record one change and what it did to people (``events``: ``store.EVENT_COLUMNS``;
        ``matching``: the registry's results), all or nothing. Returns the change's id."""
        self._require_writable()
        with self.store.transaction():
            change_id = self.store.insert_change(command)
            if events is not None and events.height:
                self.store.insert_events(change_id, events)
            if matching is not None and matching.height:
                self.store.insert_dukcapil(change_id, matching)
            crash_point("import-insert")
        return change_id

    def end(
        self, niks: Sequence[str], from_month: int, reason: str, command: Change
    ) -> pl.DataFrame:
        """End the coverage of people from a month (``reason`` of ``END_REASONS``): not
        covered from then on, the quota freed. Every NIK must be in a live batch (else
        nothing changes, exit 2). Returns ``nik``, ``ended`` (false: already ended so)."""
        self._require_writable()
        if reason not in END_REASONS:
            raise UsageError("error.ledger.end_reason", reason=reason, known=", ".join(END_REASONS))
        wanted = self._known_niks(niks)
        standing = ends(self.store.events())
        again = (pl.col("ended_from") == from_month) & (pl.col("end_reason") == reason)
        result = wanted.join(standing, on="nik", how="left", maintain_order="left").select(
            "nik", (~again.fill_null(False)).alias("ended")
        )
        fresh = result.filter("ended").select(
            "nik",
            pl.lit(EVENT_ENDED).alias("kind"),
            pl.lit(reason).alias("reason"),
            pl.lit(from_month, pl.Int64).alias("from_month"),
        )
        if fresh.height:
            self.record(command, events=fresh)
        return result

    def reopen(self, niks: Sequence[str], reason: str, command: Change) -> pl.DataFrame:
        """Take back a refusal (a data error since fixed) or an end (recorded by mistake):
        the person may be submitted again. A NIK with neither is refused (exit 2, nothing
        changed). Returns ``nik`` and what was taken back (``was``: refused / ended)."""
        self._require_writable()
        wanted = self._known_niks(niks)
        standing = ends(self.store.events()).select("nik", pl.lit(EVENT_ENDED).alias("was"))
        refused = (
            self.statuses()
            .filter(pl.col("person_status") == EVENT_REFUSED, ~pl.col("reopened"))
            .select("nik", pl.lit(EVENT_REFUSED).alias("was"))
        )
        held = pl.concat([standing, refused]).unique("nik", keep="first", maintain_order=True)
        result = wanted.join(held, on="nik", how="left", maintain_order="left")
        if missing := result.filter(pl.col("was").is_null()).get_column("nik").to_list():
            from jamsos_cli.render.mask import mask_nik  # an error line is read on screen

            raise UsageError(
                "error.ledger.reopen_nothing", niks=", ".join(str(mask_nik(n)) for n in missing)
            )
        self.record(
            command,
            events=result.select(
                "nik", pl.lit(EVENT_REOPENED).alias("kind"), pl.lit(reason).alias("reason")
            ),
        )
        return result

    def _known_niks(self, niks: Sequence[str]) -> pl.DataFrame:
        """``niks`` once each, in order; every one must be in a live batch of the ledger."""
        wanted = _wanted(niks)
        self._refuse_unknown(wanted, self.people(columns=("nik",), withdrawn=True))
        return wanted

    def _refuse_unknown(self, wanted: pl.DataFrame, found: pl.DataFrame) -> None:
        """Exit 2 naming (masked) the NIKs of ``wanted`` that ``found`` lacks: nothing
        changes for anyone when one NIK is wrong."""
        missing = wanted.join(found, on="nik", how="anti").get_column("nik").to_list()
        if missing:
            from jamsos_cli.render.mask import mask_nik  # an error line is read on screen

            raise UsageError(
                "error.ledger.withdraw_unknown",
                niks=", ".join(str(mask_nik(n)) for n in missing),
                path=self.path,
            )

    def record_decisions(
        self, frame: pl.DataFrame, command: Change, source: str | None = None
    ) -> int:
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
            changed = self.store.upsert_decisions(rows, source, now())
            self.store.insert_change(command)
        return changed

    def rollback(self, batch_id: int) -> None:
        """Take back a batch whose folder could not be published."""
        self._require_writable()
        with self.store.transaction():
            self.store.delete_batch(batch_id)

    def mark_done(self, batch_id: int) -> None:
        self._require_writable()
        with self.store.transaction():
            self.store.set_status(batch_id, STATUS_DONE, only_from=STATUS_COMMITTING)

    def done_batch(self, which: str, refusal: str) -> dict:
        """The batch ``which`` names, if it is live (``done``); else the error ``refusal``
        (exit 2) naming its status in the user's language."""
        batch = self.find_batch(which)
        if batch["status"] != STATUS_DONE:
            raise UsageError(
                refusal, id=batch["id"], status=ref(f"ledger.status.{batch['status']}")
            )
        return batch

    def voidable(self, which: str) -> dict:
        """The batch ``which`` names, if it may be voided: done and never uploaded."""
        batch = self.done_batch(which, "error.ledger.void_status")
        if batch["uploaded"]:
            raise UsageError("error.ledger.void_uploaded", id=batch["id"], at=batch["uploaded"])
        return batch

    def void(self, which: str, command: Change, manifest_sha256: str | None = None) -> dict:
        """Withdraw a batch that was never uploaded: its people can be submitted again.
        ``manifest_sha256``: its folder's manifest as rewritten to say so (``batch.mark_void``)."""
        self._require_writable()
        batch = self.voidable(which)
        with self.store.transaction():
            self.store.set_status(batch["id"], STATUS_VOIDED, at=now())
            if manifest_sha256 is not None:
                self.store.set_manifest(batch["id"], manifest_sha256)
            self.store.insert_change(command)
        return {**batch, "status": STATUS_VOIDED}

    def mark_uploaded(self, which: str, command: Change) -> dict:
        """Record that a live batch went to BPJS: from now on it cannot be voided."""
        self._require_writable()
        batch = self.done_batch(which, "error.ledger.upload_status")
        if batch["uploaded"]:
            return batch  # recorded before: nothing changes
        at = now()
        with self.store.transaction():
            self.store.set_uploaded(batch["id"], at)
            self.store.insert_change(command)
        return {**batch, "uploaded": at}

    def withdraw(
        self, niks: Sequence[str], reason: str, command: Change, *, batch: str | None = None
    ) -> pl.DataFrame:
        """Withdraw people recorded by mistake from the live batches that hold them (only
        ``batch`` if given): they are freed (not covered, not counted, may be submitted
        again) and listed for BPJS. A NIK in no live batch is refused, nothing changed.
        Returns the people withdrawn now (``batch_id``, ``folder``, ``nik``, ``name``)."""
        self._require_writable()
        wanted = _wanted(niks)
        live = self.people(columns=("batch_id", "folder", "nik", "name"))
        if batch is not None:
            live = live.filter(pl.col("batch_id") == self.find_batch(batch)["id"])
        hits = live.join(wanted, on="nik", how="semi", maintain_order="left")
        self._refuse_unknown(wanted, hits)
        self.record(
            command,
            events=hits.select(
                "nik",
                "batch_id",
                pl.lit(EVENT_WITHDRAWN).alias("kind"),
                pl.lit(reason).alias("reason"),
            ),
        )
        return hits


def _wanted(niks: Sequence[str]) -> pl.DataFrame:
    """The NIKs a clerk gave, once each, in their order."""
    return pl.DataFrame({"nik": list(dict.fromkeys(niks))}, schema={"nik": pl.Utf8})


def _staged(folder: Path) -> bool:
    """The batch folder's hidden staging folder is there: it was never published."""
    return any(p.is_dir() for p in folder.parent.glob(f".{folder.name}.tmp-*"))


def check_file(location: Location | str, *, new: bool = False) -> None:
    """Refuse a foreign, corrupt or empty ledger before anything is locked or written, and a
    missing one unless a new one was asked for (``new``: ``--new-ledger``)."""
    _check(store_for(location), new=new)


def _check(store: LedgerStore, *, new: bool = False) -> None:
    if not store.exists and not new:
        raise LedgerError("error.ledger.missing", path=store.location)
    store.check()


def exists(location: Location | str) -> bool:
    """There is a ledger at ``location`` (a foreign or damaged one is refused)."""
    return store_for(location).exists


def lock(
    location: Location | str, mode: int = 0o600, decree: str | None = None
) -> contextlib.AbstractContextManager[LedgerStore]:
    """The ledger's exclusive lock (held by another run → ``LockHeld``, exit 3), for a run
    on ``decree`` (None: the whole ledger); yields the store to ``Ledger.open`` under it."""
    return store_for(location).lock(mode, decree)


@contextlib.contextmanager
def opened(location: Location | str, *, mode: int = 0o600, write: bool = False) -> Iterator[Ledger]:
    """An existing ledger for the ``jamsos ledger`` commands, interrupted batches settled.

    To change it (``void``): under its lock (held by a run → exit 3), recovered for real.
    To read it (``list``, ``stats``, ``export``): a private view, recovered in it only, so
    reading never waits for a cron run and never needs write access to the ledger.
    """
    store = store_for(location)
    _check(store)
    with contextlib.ExitStack() as stack:
        if write:
            locked = stack.enter_context(store.lock(mode))
            ledger = stack.enter_context(Ledger.open(locked, mode=mode))
        else:
            ledger = stack.enter_context(Ledger.snapshot(store))
        ledger.recover()
        yield ledger


def export_frame(ledger: Ledger, *, include_voided: bool = False) -> pl.DataFrame:
    """One row per person per batch, with the batch's decree, period and status (a person
    withdrawn from a live batch: ``withdrawn``)."""
    statuses = (STATUS_DONE, STATUS_VOIDED) if include_voided else (STATUS_DONE,)
    people = ledger.people(statuses=statuses, withdrawn=True)
    gone = ledger.withdrawn().select("batch_id", "nik", pl.lit(True).alias("_withdrawn"))
    people = people.join(gone, on=["batch_id", "nik"], how="left", maintain_order="left")
    people = people.with_columns(
        pl.when(pl.col("_withdrawn") & (pl.col("status") == STATUS_DONE))
        .then(pl.lit(EVENT_WITHDRAWN))
        .otherwise(pl.col("status"))
        .alias("status")
    )
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
