"""Where a ledger lives, behind one interface: ``LedgerStore``.

The domain operations (``book.Ledger``: record a batch, recover, void, decisions, the people
of periods, stats, the export frame) are written against this interface only, so SQLite
(``sqlite.SQLiteStore``, a file) and PostgreSQL (``postgresql.PostgresStore``, a
``postgresql://`` URL) share every rule above it. A store gives:

- its lifecycle: ``check`` (a foreign, damaged or empty store is refused before anything is
  locked or written), ``lock`` (exclusive, never waits: held elsewhere → ``LockHeld``,
  exit 3; a run names its decree, which a shared store locks alone), ``open`` (to write:
  migrated; to read: a private view that never waits for a writer and never changes the
  store), ``create`` (a new store is made on purpose only: ``jamsos ledger init`` or
  ``--new-ledger``, and then when the first thing is recorded), ``close``;
- its identity, ``ledger_id`` (a UUID given when it is made, carried by every batch folder's
  manifest, so an output folder is never mixed between two ledgers);
- ONE transaction primitive, ``with store.transaction(): ...`` (like sqlite-utils'
  ``Database.atomic()``): every change is made inside one, all or nothing;
- the queries the domain needs, returning Polars frames or plain rows; among them the
  report's aggregates (``jamsos report``): counts grouped in the store, never one row per
  person, so a national ledger's report reads a few thousand rows.

``SqlStore`` implements the queries in SQL that SQLite and PostgreSQL both speak, over a
DB-API connection; what differs is isolated in what a dialect overrides, listed in one
place (``SqlStore``'s docstring), and the schema in ``schema.py``. The upsert of decisions
(``INSERT ... ON CONFLICT ... DO UPDATE ... WHERE``) is the same in both.
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from jamsos_cli.errors import JamsosError
from jamsos_cli.exitcodes import ExitCode
from jamsos_cli.ledger.location import Location
from jamsos_cli.ledger.period import Period

STATUS_COMMITTING, STATUS_DONE, STATUS_VOIDED = "committing", "done", "voided"
STATUSES = (STATUS_COMMITTING, STATUS_DONE, STATUS_VOIDED)

# What happens to a person after their batch was written (``person_events.kind``): BPJS
# confirms (``active``: KPJ, coverage start) or refuses them (``refused``: the reason), a
# clerk withdraws one recorded by mistake (``withdrawn``) — each for one batch (a period);
# coverage ends from a month (``ended``: a reason of ``END_REASONS``) or a refusal or an end
# is taken back (``reopened``) — for the person, whatever the batch.
EVENT_ACTIVE, EVENT_REFUSED, EVENT_WITHDRAWN = "active", "refused", "withdrawn"
EVENT_ENDED, EVENT_REOPENED = "ended", "reopened"
EVENT_KINDS = (EVENT_ACTIVE, EVENT_REFUSED, EVENT_WITHDRAWN, EVENT_ENDED, EVENT_REOPENED)
END_REASONS = (
    "meninggal",
    "pindah",
    "peserta_pu",
    "jabatan_berakhir",
    "mengundurkan_diri",
    "lainnya",
)
# The population registry's matching results (``dukcapil.result``), as stored.
DUKCAPIL_RESULTS = ("padan", "tidak_padan", "tidak_ditemukan", "ganda", "meninggal", "beda_nama")

# The people of batches, as the checks and the exports read them: the person's own columns
# (people table) and the fields of the batch the person is in.
PEOPLE_SCHEMA: dict[str, pl.DataType] = {
    "nik": pl.Utf8,
    "name": pl.Utf8,
    "birth_date": pl.Utf8,
    "sex": pl.Utf8,
    "phone": pl.Utf8,
    "kelurahan": pl.Utf8,
    "kelurahan_code": pl.Utf8,
    "source": pl.Utf8,
    "role": pl.Utf8,
    "batch_id": pl.Int64,
    "folder": pl.Utf8,
    "decree": pl.Utf8,
    "start_month": pl.Int64,
    "end_month": pl.Int64,
    "status": pl.Utf8,
}
PERSON_COLUMNS = ("nik", "name", "birth_date", "sex", "phone", "kelurahan", "kelurahan_code")
PERSON_COLUMNS += ("source", "role")
BATCH_FIELDS = {  # people column -> batches column
    "batch_id": "id",
    "folder": "folder",
    "decree": "decree",
    "start_month": "start_month",
    "end_month": "end_month",
    "status": "status",
}
DECISION_SCHEMA: dict[str, pl.DataType] = {"nik_a": pl.Utf8, "nik_b": pl.Utf8, "decision": pl.Utf8}

# The report's aggregates (``office_report.aggregate`` reads them; no NIK in any of them).
BATCH_DETAIL_SCHEMA: dict[str, pl.DataType] = {  # a batch as the report shows it
    "batch_id": pl.Int64,
    "decree": pl.Utf8,
    "start_month": pl.Int64,
    "end_month": pl.Int64,
    "seq": pl.Int64,
    "folder": pl.Utf8,
    "participants": pl.Int64,
    "premium_per_person_month": pl.Int64,
    "total_premium": pl.Int64,
    "status": pl.Utf8,
    "manifest_sha256": pl.Utf8,
    "created_at": pl.Utf8,
}
AREA_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64,
    "kelurahan_code": pl.Utf8,
    "people": pl.Int64,
}
KELURAHAN_SCHEMA: dict[str, pl.DataType] = {"kelurahan_code": pl.Utf8, "kelurahan": pl.Utf8}
# People of the chosen batches something happened to (a reply, an end...): the report's
# statuses start from everyone submitted and move these few.
EVENTFUL_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64,
    "nik": pl.Utf8,
    "kelurahan_code": pl.Utf8,
}
INPUT_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64,
    "position": pl.Int64,
    "name": pl.Utf8,
    "rows": pl.Int64,
}
PAIR_SIDE_SCHEMA: dict[str, pl.DataType] = {
    "pair": pl.Int64,
    "decision": pl.Utf8,
    "decided_at": pl.Utf8,
    "side": pl.Utf8,  # "a" or "b"
    "name": pl.Utf8,
    "batch_id": pl.Int64,  # null: that side's person is in no batch
}
# What one person-month of a batch costs per program, as the decree said when the batch was
# written (``batch_premiums``): the bill reads these, so a later decree never rewrites it.
PREMIUM_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64,
    "program": pl.Utf8,
    "per_person_month": pl.Int64,
}
PROGRAMS = ("JKK", "JKM", "JHT")
_NIK_IN_TEXT = re.compile(r"(?<!\d)\d{16}(?!\d)")  # a NIK inside a command line
_FETCH_ROWS = 100_000  # people per fetch: bounds the Python tuples alive at once


def now() -> str:
    """When something is recorded, as the ledger stores it (UTC, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class LedgerError(JamsosError):
    """The ledger cannot be used (foreign, corrupt, newer, unwritable, unreachable): exit 2,
    untouched."""


class RecordedMeanwhile(LedgerError):
    """Another run (another office, on a shared ledger) recorded some of the same people for
    overlapping months after this run read the ledger: nothing of this batch was recorded.
    Checked again, they are ``ALREADY_ENROLLED``/``ALREADY_SUBMITTED`` (``build`` does)."""

    exit_code = ExitCode.LOCKED


@dataclass
class BatchRecord:
    """What the ledger keeps about one batch (its people and inputs come separately)."""

    id: int
    decree: str
    period: Period
    seq: int
    folder: Path
    participants: int
    premium_per_person_month: int
    total_premium: int
    manifest_sha256: str
    tool_version: str
    # rupiah per person-month for each program (JKK, JKM, JHT), as the decree says now
    premiums: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One change to the ledger, as ``jamsos ledger log`` lists it: what command made it, who
    (the OS user), from which input (its name and sha256), and its counts (no personal
    data)."""

    command: str
    user: str
    at: str
    input_name: str | None = None
    input_sha256: str | None = None
    summary: str | None = None  # a JSON object of counts


EVENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64,
    "change_id": pl.Int64,
    "nik": pl.Utf8,
    "batch_id": pl.Int64,  # null: the person's, not one batch's (ended, reopened)
    "kind": pl.Utf8,
    "reason": pl.Utf8,
    "kpj": pl.Utf8,
    "coverage_start": pl.Utf8,  # ISO date
    "from_month": pl.Int64,  # ended: the first month not covered
}
EVENT_COLUMNS = ("nik", "batch_id", "kind", "reason", "kpj", "coverage_start", "from_month")
DUKCAPIL_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64,
    "change_id": pl.Int64,
    "nik": pl.Utf8,
    "result": pl.Utf8,
    "result_date": pl.Utf8,  # ISO date
}
# Per build-batch run and input: the counts of findings by code (who sends what rejects).
RUN_SCHEMA: dict[str, pl.DataType] = {
    "change_id": pl.Int64,
    "input": pl.Utf8,
    "code": pl.Utf8,
    "count": pl.Int64,  # findings with this code
    "first": pl.Int64,  # rejected rows whose first reason it is (these add up to the rejects)
}
RUN_INPUT_SCHEMA: dict[str, pl.DataType] = {
    "change_id": pl.Int64,
    "position": pl.Int64,
    "name": pl.Utf8,
    "sha256": pl.Utf8,
    "rows": pl.Int64,
    "accepted": pl.Int64,
    "rejected": pl.Int64,
}
CHANGE_COLUMNS = ("id", "at", "user", "command", "input_name", "input_sha256", "summary")


@dataclass(frozen=True)
class Chosen:
    """Which batches a query reads: these statuses, overlapping ``period``, of ``decree``."""

    statuses: tuple[str, ...] = (STATUS_DONE,)
    period: Period | None = None
    decree: str | None = None


class LedgerStore(ABC):
    """One ledger's storage. ``location`` is what the user reads (a path, or a URL with its
    password masked: ``location.LedgerURL``)."""

    location: Location
    exists: bool  # there is a stored ledger (else ``create`` makes it on the first change)

    @abstractmethod
    def ledger_id(self) -> str:
        """The ledger's identity (a UUID), given when it was made (a missing store that is
        going to be made has its id already: the manifests written before the first record
        carry it)."""

    # -- lifecycle -------------------------------------------------------------------

    @abstractmethod
    def check(self) -> None:
        """Refuse a foreign, damaged or newer store before anything is locked or written."""

    @abstractmethod
    def lock(
        self, mode: int = 0o600, decree: str | None = None
    ) -> contextlib.AbstractContextManager[LedgerStore]:
        """Hold the ledger's exclusive lock (never waits: ``LockHeld``, exit 3); yields this
        store, to ``open`` under it. ``decree``: the run changes that decree's batches only,
        so a store many offices share (PostgreSQL) locks that decree alone, and runs on
        other decrees go on; ``None``: the whole ledger. A file (SQLite) is locked whole."""

    @abstractmethod
    def open(self, *, write: bool, mode: int = 0o600) -> None:
        """Connect: to write (call under ``lock``; the schema is migrated), or to read: a
        private view that never waits for a writer and whose changes are never stored."""

    @abstractmethod
    def create(self) -> None:
        """Make the store, empty and migrated (a writer, on its first change)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def backup(self, target: Path, mode: int = 0o600) -> None:
        """Write a consistent copy of the ledger to ``target`` (a new file, through the one
        write path) while other runs read it; a writer is waited for, never interrupted."""

    # -- the one transaction primitive -------------------------------------------------

    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """``with store.transaction(): ...``: every change inside commits together, or none
        does (an exception rolls it back and goes on)."""

    # -- reading -----------------------------------------------------------------------

    @abstractmethod
    def batches(self, chosen: Chosen) -> pl.DataFrame:
        """The chosen batches' ``BATCH_FIELDS`` (as ``PEOPLE_SCHEMA`` names them)."""

    @abstractmethod
    def people(self, chosen: Chosen, columns: Sequence[str]) -> pl.DataFrame:
        """``batch_id`` + ``columns`` (of ``PERSON_COLUMNS``) of the chosen batches' people,
        in storage order (a batch's people in roster order)."""

    @abstractmethod
    def pending(self) -> list[tuple[int, str, str]]:
        """(id, folder, manifest sha256) of the batches left ``committing`` by runs that are
        gone (in a writer: the runs whose lock it holds or could take; in a view: all)."""

    @abstractmethod
    def batch_rows(self) -> list[tuple]:
        """Every batch, oldest first: id, folder, decree, start_month, end_month,
        participants, total_premium, status, created_at, uploaded_at, manifest_sha256."""

    @abstractmethod
    def events(self, kinds: Sequence[str] | None = None) -> pl.DataFrame:
        """What happened to people of batches (``EVENT_SCHEMA``), oldest first."""

    @abstractmethod
    def dukcapil(self) -> pl.DataFrame:
        """The registry's matching results (``DUKCAPIL_SCHEMA``), oldest first."""

    @abstractmethod
    def run_findings(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """What build-batch runs recorded: the counts by input and code (``RUN_SCHEMA``) and
        their inputs (``RUN_INPUT_SCHEMA``)."""

    @abstractmethod
    def changes(self) -> list[tuple]:
        """Every change (``CHANGE_COLUMNS``), oldest first."""

    @abstractmethod
    def stats_rows(self) -> list[tuple]:
        """Per decree and period, live batches only: decree, start_month, end_month,
        batches, people, total premium."""

    @abstractmethod
    def decisions(self) -> pl.DataFrame:
        """Reviewed pairs (``DECISION_SCHEMA``), ``nik_a`` < ``nik_b``."""

    @abstractmethod
    def new_batch_id(self) -> int:
        """The id for the next batch recorded (a view: the id it would get)."""

    # -- the report's aggregates ---------------------------------------------------------

    @abstractmethod
    def batch_details(self, chosen: Chosen) -> pl.DataFrame:
        """The chosen batches (``BATCH_DETAIL_SCHEMA``), oldest first."""

    @abstractmethod
    def people_by_area(self, chosen: Chosen) -> pl.DataFrame:
        """People per batch and kelurahan code of the chosen batches (``AREA_SCHEMA``):
        grouped in the store, the one report query whose cost grows with the ledger."""

    @abstractmethod
    def eventful_people(self, chosen: Chosen) -> pl.DataFrame:
        """People of the chosen batches whose NIK has a ``person_events`` row
        (``EVENTFUL_SCHEMA``): few, found by the store."""

    @abstractmethod
    def kelurahan_names(self, codes: Sequence[str]) -> pl.DataFrame:
        """The kelurahan name recorded for each of ``codes`` (``KELURAHAN_SCHEMA``), for codes
        the region reference no longer knows."""

    @abstractmethod
    def inputs(self) -> pl.DataFrame:
        """The roster files each batch was built from, with the rows read from each
        (``INPUT_SCHEMA``), by batch and position."""

    @abstractmethod
    def decision_sides(self) -> pl.DataFrame:
        """Each reviewed pair (numbered in NIK order), one row per side and per batch that
        side's person is in (``PAIR_SIDE_SCHEMA``): the name and the batch, no NIK."""

    @abstractmethod
    def max_seq(self, decree: str, period: Period) -> int: ...

    @abstractmethod
    def premiums(self, chosen: Chosen) -> pl.DataFrame:
        """The chosen batches' premium per person-month by program (``PREMIUM_SCHEMA``);
        a batch recorded before the ledger kept them has no rows."""

    # -- changing (inside ``transaction``) -----------------------------------------------

    @abstractmethod
    def insert_batch(self, batch: BatchRecord, status: str, created_at: str) -> None: ...

    @abstractmethod
    def insert_inputs(self, batch_id: int, inputs: list[dict[str, Any]]) -> None: ...

    @abstractmethod
    def insert_people(self, batch_id: int, people: pl.DataFrame) -> None:
        """Append a batch's people (``PERSON_COLUMNS``) in their order."""

    @abstractmethod
    def insert_change(self, change: Change) -> int:
        """Record a change; returns its id (the events it made refer to it)."""

    @abstractmethod
    def insert_events(self, change_id: int, events: pl.DataFrame) -> None:
        """Append events (``EVENT_COLUMNS``; missing ones null) of one change."""

    @abstractmethod
    def insert_dukcapil(self, change_id: int, results: pl.DataFrame) -> None:
        """Append matching results (``nik``, ``result``, ``result_date``) of one change."""

    @abstractmethod
    def insert_run(
        self, change_id: int, inputs: list[dict[str, Any]], counts: pl.DataFrame
    ) -> None:
        """Record a build-batch run's inputs (``RUN_INPUT_SCHEMA`` without ``change_id``) and
        its counts of findings by input and code (``input``, ``code``, ``count``, ``first``)."""

    @abstractmethod
    def set_uploaded(self, batch_id: int, at: str) -> None:
        """Record that a batch went to BPJS."""

    @abstractmethod
    def set_ledger_id(self, ledger_id: str) -> None:
        """Give the ledger this id (``ledger copy``: a ledger moved keeps its identity)."""

    @abstractmethod
    def set_manifest(self, batch_id: int, sha256: str) -> None:
        """The batch folder's manifest was rewritten (``void`` marks it): its new sha256."""

    @abstractmethod
    def set_status(
        self, batch_id: int, status: str, *, only_from: str | None = None, at: str | None = None
    ) -> None:
        """A batch's new status (only when it is ``only_from``); ``at``: when it was voided."""

    @abstractmethod
    def delete_batch(self, batch_id: int) -> None: ...

    @abstractmethod
    def forget_people(self, aliases: pl.DataFrame) -> int:
        """Remove the personal data of people (``nik`` → ``alias``, a token that is no NIK):
        in every batch their NIK becomes the alias and their name, birth date and phone are
        emptied; the change log's person events follow the alias; their reviewed pairs go.
        Batch counts and money are untouched. Returns the people rows changed."""

    @abstractmethod
    def upsert_decisions(
        self, rows: list[tuple[str, str, str]], source: str | None, at: str
    ) -> int:
        """Record (nik_a, nik_b, decision) pairs; a pair decided before takes the new
        decision. Returns how many were new or changed."""

    # -- whole tables (``ledger copy``) ------------------------------------------------------

    @abstractmethod
    def table(self, name: str) -> pl.DataFrame:
        """Every row of one of ``schema.TABLES``, every column this store keeps (people in
        storage order)."""

    @abstractmethod
    def append(self, name: str, rows: pl.DataFrame) -> None:
        """Add ``rows`` to a table (inside ``transaction``): the columns it has; a column
        only this store keeps is derived (PostgreSQL's ``people.pos``: the rows' order in
        their batch)."""


class SqlStore(LedgerStore):
    """The queries in SQL both SQLite and PostgreSQL speak, over a DB-API connection.

    What a dialect provides (the one list of differences; the schema's are ``schema.py``'s):

    ==================  ==========================  =====================================
    override            SQLite                      PostgreSQL
    ==================  ==========================  =====================================
    ``PARAM``           ``?``                       ``%s``
    ``STORAGE_ORDER``   ``rowid``                   ``batch_id, pos``
    ``_begin``          ``BEGIN IMMEDIATE``         ``BEGIN`` (READ COMMITTED); a view:
                                                    a savepoint
    ``_commit`` /       ``COMMIT`` / ``ROLLBACK``   a view: release / roll back to the
    ``_rollback``                                   savepoint (the view is never committed)
    ``new_batch_id``,   the highest + 1 (under the  sequences: ``batch_ids``, the
    ``_new_change_id``  file's lock)                ``changes`` identity (many writers)
    ``insert_people``,  ``executemany``             ``COPY FROM STDIN`` (CSV from Polars)
    ``_insert_frame``
    (``append`` too)
    ``_frame``          ``fetchmany`` chunks        ``COPY TO STDOUT`` (CSV into Polars)
    (``table`` too)
    ``lock``            ``flock`` beside the file   advisory locks: the decree's, or all
    ``pending``         every ``committing`` batch  those whose decree lock it can take
    ``_errors``         ``sqlite3.Error``           ``psycopg.Error`` (URL masked)
    ``_columns``        ``PRAGMA table_info``       ``pg_attribute``
    ``append``          as above                    derives ``people.pos``; sequences
                                                    move past the ids copied
    lifecycle           a file, in-memory views     a database, transaction views
    ==================  ==========================  =====================================
    """

    PARAM = "?"  # the driver's placeholder
    STORAGE_ORDER = "rowid"  # the order a batch's people were appended in
    conn: Any

    # -- what a dialect provides -------------------------------------------------------

    @abstractmethod
    def _begin(self) -> None:
        """Start a write transaction that holds the write lock from its first statement."""

    def _commit(self) -> None:
        self._run("COMMIT")

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """The driver's errors as one clear ``LedgerError`` (exit 2), never a traceback."""
        yield

    # -- plumbing ----------------------------------------------------------------------

    def _sql(self, text: str) -> str:
        return text if self.PARAM == "?" else text.replace("?", self.PARAM)

    def _run(self, text: str, params: Sequence[object] = ()) -> Any:
        cur = self.conn.cursor()
        if params:
            cur.execute(self._sql(text), tuple(params))
        else:  # no parameters: the text goes as written (a % in it is no placeholder)
            cur.execute(text)
        return cur

    def _run_many(self, text: str, rows: Any) -> int:
        cur = self.conn.cursor()
        cur.executemany(self._sql(text), rows)
        return cur.rowcount

    def _frame(
        self, text: str, schema: dict[str, pl.DataType], params: Sequence[object] = ()
    ) -> pl.DataFrame:
        """A query's rows as a frame, fetched in chunks so a million rows never exist as
        Python tuples at once."""
        chunks = [pl.DataFrame(schema=schema)]
        with self._errors():
            cur = self._run(text, params)
            while rows := cur.fetchmany(_FETCH_ROWS):
                chunks.append(pl.DataFrame(rows, schema=schema, orient="row"))
        return pl.concat(chunks, rechunk=True)

    def _insert_frame(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
        """Append ``frame``'s ``columns`` to ``table`` (in the frame's order)."""
        self._run_many(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            frame.select(columns).iter_rows(),
        )

    def _rollback(self) -> None:
        """Undo the open transaction after an error. The database may already have undone it
        itself (SQLite does on a full disk or an I/O error, and then ``ROLLBACK`` fails with
        "no transaction is active"): the error the user must read is the original one, so a
        failing rollback is not raised over it."""
        with contextlib.suppress(Exception):
            self._run("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._errors():
            self._begin()
            try:
                yield
                self._commit()
            except BaseException:
                self._rollback()
                raise

    # -- reading -----------------------------------------------------------------------

    @staticmethod
    def _where(chosen: Chosen) -> tuple[str, list[object]]:
        where = [f"status IN ({', '.join('?' * len(chosen.statuses))})"]
        params: list[object] = list(chosen.statuses)
        if chosen.period is not None:
            where.append("start_month <= ? AND end_month >= ?")
            params += [chosen.period.end, chosen.period.start]
        if chosen.decree is not None:
            where.append("decree = ?")
            params.append(chosen.decree)
        return " AND ".join(where), params

    def batches(self, chosen: Chosen) -> pl.DataFrame:
        where, params = self._where(chosen)
        with self._errors():
            rows = self._run(
                f"SELECT {', '.join(BATCH_FIELDS.values())} FROM batches WHERE {where}", params
            ).fetchall()
        schema = {c: PEOPLE_SCHEMA[c] for c in BATCH_FIELDS}
        return pl.DataFrame(rows, schema=schema, orient="row")

    def people(self, chosen: Chosen, columns: Sequence[str]) -> pl.DataFrame:
        """Fetched in chunks so a million people never exist as Python tuples at once."""
        where, params = self._where(chosen)
        schema = {"batch_id": pl.Int64} | {c: PEOPLE_SCHEMA[c] for c in columns}
        return self._frame(
            f"SELECT {', '.join(schema)} FROM people"
            f" WHERE batch_id IN (SELECT id FROM batches WHERE {where})"
            f" ORDER BY {self.STORAGE_ORDER}",
            schema,
            params,
        )

    def pending(self) -> list[tuple[int, str, str]]:
        with self._errors():
            return self._run(
                "SELECT id, folder, manifest_sha256 FROM batches WHERE status = ? ORDER BY id",
                (STATUS_COMMITTING,),
            ).fetchall()

    def batch_rows(self) -> list[tuple]:
        with self._errors():
            return self._run(
                "SELECT id, folder, decree, start_month, end_month, participants,"
                " total_premium, status, created_at, uploaded_at, manifest_sha256"
                " FROM batches ORDER BY id"
            ).fetchall()

    def ledger_id(self) -> str:
        with self._errors():
            row = self._run("SELECT value FROM meta WHERE key = ?", ("ledger_id",)).fetchone()
        return row[0]

    def events(self, kinds: Sequence[str] | None = None) -> pl.DataFrame:
        where, params = "", list(kinds or ())
        if kinds is not None:
            where = f" WHERE kind IN ({', '.join('?' * len(params))})"
        return self._frame(
            f"SELECT {', '.join(EVENT_SCHEMA)} FROM person_events{where} ORDER BY id",
            EVENT_SCHEMA,
            params,
        )

    def dukcapil(self) -> pl.DataFrame:
        return self._frame(
            f"SELECT {', '.join(DUKCAPIL_SCHEMA)} FROM dukcapil ORDER BY id", DUKCAPIL_SCHEMA
        )

    def run_findings(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        counts = self._frame(
            "SELECT change_id, input_name, code, n, n_first FROM run_findings"
            " ORDER BY change_id, input_name, code",
            RUN_SCHEMA,
        )
        inputs = self._frame(
            f"SELECT {', '.join(RUN_INPUT_SCHEMA)} FROM run_inputs ORDER BY change_id, position",
            RUN_INPUT_SCHEMA,
        )
        return counts, inputs

    def changes(self) -> list[tuple]:
        with self._errors():
            return self._run(
                "SELECT id, at, os_user, command, input_name, input_sha256, summary"
                " FROM changes ORDER BY id"
            ).fetchall()

    def stats_rows(self) -> list[tuple]:
        with self._errors():
            return self._run(
                "SELECT decree, start_month, end_month, COUNT(*), SUM(participants),"
                " SUM(total_premium) FROM batches WHERE status = ?"
                " GROUP BY decree, start_month, end_month ORDER BY decree, start_month, end_month",
                (STATUS_DONE,),
            ).fetchall()

    def decisions(self) -> pl.DataFrame:
        with self._errors():
            rows = self._run(
                "SELECT nik_a, nik_b, decision FROM decisions ORDER BY nik_a, nik_b"
            ).fetchall()
        return pl.DataFrame(rows, schema=DECISION_SCHEMA, orient="row")

    def new_batch_id(self) -> int:
        """One more than the highest: a file has one writer at a time (its lock)."""
        with self._errors():
            return int(self._run("SELECT COALESCE(MAX(id), 0) + 1 FROM batches").fetchone()[0])

    def max_seq(self, decree: str, period: Period) -> int:
        with self._errors():
            (seq,) = self._run(
                "SELECT COALESCE(MAX(seq), 0) FROM batches"
                " WHERE decree = ? AND start_month = ? AND end_month = ?",
                (decree, period.start, period.end),
            ).fetchone()
        return int(seq)

    # -- the report's aggregates ---------------------------------------------------------

    def premiums(self, chosen: Chosen) -> pl.DataFrame:
        where, params = self._where(chosen)
        return self._frame(
            "SELECT batch_id, program, per_person_month FROM batch_premiums"
            f" WHERE batch_id IN (SELECT id FROM batches WHERE {where})"
            " ORDER BY batch_id, program",
            PREMIUM_SCHEMA,
            params,
        )

    def batch_details(self, chosen: Chosen) -> pl.DataFrame:
        where, params = self._where(chosen)
        columns = ", ".join(["id", *list(BATCH_DETAIL_SCHEMA)[1:]])
        return self._frame(
            f"SELECT {columns} FROM batches WHERE {where} ORDER BY id", BATCH_DETAIL_SCHEMA, params
        )

    def eventful_people(self, chosen: Chosen) -> pl.DataFrame:
        where, params = self._where(chosen)
        return self._frame(
            "SELECT batch_id, nik, kelurahan_code FROM people"
            f" WHERE batch_id IN (SELECT id FROM batches WHERE {where})"
            " AND nik IN (SELECT nik FROM person_events)",
            EVENTFUL_SCHEMA,
            params,
        )

    def people_by_area(self, chosen: Chosen) -> pl.DataFrame:
        where, params = self._where(chosen)
        return self._frame(
            "SELECT batch_id, kelurahan_code, COUNT(*) FROM people"
            f" WHERE batch_id IN (SELECT id FROM batches WHERE {where})"
            " GROUP BY batch_id, kelurahan_code",
            AREA_SCHEMA,
            params,
        )

    def kelurahan_names(self, codes: Sequence[str]) -> pl.DataFrame:
        if not codes:
            return pl.DataFrame(schema=KELURAHAN_SCHEMA)
        return self._frame(
            "SELECT kelurahan_code, MIN(kelurahan) FROM people"
            f" WHERE kelurahan_code IN ({', '.join('?' * len(codes))}) GROUP BY kelurahan_code",
            KELURAHAN_SCHEMA,
            list(codes),
        )

    def inputs(self) -> pl.DataFrame:
        return self._frame(
            "SELECT batch_id, position, name, rows FROM batch_inputs ORDER BY batch_id, position",
            INPUT_SCHEMA,
        )

    def decision_sides(self) -> pl.DataFrame:
        with self._errors():
            if self._run("SELECT 1 FROM decisions LIMIT 1").fetchone() is None:
                return pl.DataFrame(schema=PAIR_SIDE_SCHEMA)  # spare a pass over the people
        return self._frame(
            "WITH d AS (SELECT ROW_NUMBER() OVER (ORDER BY nik_a, nik_b) AS pair, nik_a, nik_b,"
            " decision, decided_at FROM decisions),"
            " sides AS (SELECT pair, decision, decided_at, 'a' AS side, nik_a AS nik FROM d"
            " UNION ALL SELECT pair, decision, decided_at, 'b' AS side, nik_b AS nik FROM d)"
            " SELECT s.pair, s.decision, s.decided_at, s.side, p.name, p.batch_id FROM sides s"
            " LEFT JOIN (SELECT nik, name, batch_id FROM people"
            " WHERE nik IN (SELECT nik_a FROM decisions UNION SELECT nik_b FROM decisions)) p"
            " ON p.nik = s.nik ORDER BY s.pair, s.side, p.batch_id",
            PAIR_SIDE_SCHEMA,
        )

    # -- changing ----------------------------------------------------------------------

    def insert_batch(self, batch: BatchRecord, status: str, created_at: str) -> None:
        self._run(
            "INSERT INTO batches (id, decree, start_month, end_month, seq, folder,"
            " participants, premium_per_person_month, total_premium, status,"
            " manifest_sha256, tool_version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                batch.id,
                batch.decree,
                batch.period.start,
                batch.period.end,
                batch.seq,
                str(batch.folder),
                batch.participants,
                batch.premium_per_person_month,
                batch.total_premium,
                status,
                batch.manifest_sha256,
                batch.tool_version,
                created_at,
            ),
        )
        self._run_many(
            "INSERT INTO batch_premiums (batch_id, program, per_person_month) VALUES (?, ?, ?)",
            [(batch.id, program, amount) for program, amount in batch.premiums.items()],
        )

    def insert_inputs(self, batch_id: int, inputs: list[dict[str, Any]]) -> None:
        self._run_many(
            "INSERT INTO batch_inputs (batch_id, position, name, rows, sha256)"
            " VALUES (?, ?, ?, ?, ?)",
            [(batch_id, i, x["name"], x["rows"], x["sha256"]) for i, x in enumerate(inputs)],
        )

    def insert_people(self, batch_id: int, people: pl.DataFrame) -> None:
        """Rows straight from Polars (batch id included), appended in roster order."""
        frame = people.select(pl.lit(batch_id, pl.Int64).alias("batch_id"), *PERSON_COLUMNS)
        self._insert_frame("people", frame.columns, frame)

    def _new_change_id(self) -> int:
        """The next change's id: the highest + 1 (the file's writer holds its lock)."""
        return int(self._run("SELECT COALESCE(MAX(id), 0) + 1 FROM changes").fetchone()[0])

    def insert_change(self, change: Change) -> int:
        change_id = self._new_change_id()
        self._run(
            "INSERT INTO changes (id, at, os_user, command, input_name, input_sha256, summary)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                change_id,
                change.at,
                change.user,
                change.command,
                change.input_name,
                change.input_sha256,
                change.summary,
            ),
        )
        return int(change_id)

    def insert_events(self, change_id: int, events: pl.DataFrame) -> None:
        present = [
            pl.col(c).cast(EVENT_SCHEMA[c])
            if c in events.columns
            else pl.lit(None, EVENT_SCHEMA[c]).alias(c)
            for c in EVENT_COLUMNS
        ]
        frame = events.select(pl.lit(change_id, pl.Int64).alias("change_id"), *present)
        self._insert_frame("person_events", ("change_id", *EVENT_COLUMNS), frame)

    def insert_dukcapil(self, change_id: int, results: pl.DataFrame) -> None:
        frame = results.select(
            pl.lit(change_id, pl.Int64).alias("change_id"), "nik", "result", "result_date"
        )
        self._insert_frame("dukcapil", ("change_id", "nik", "result", "result_date"), frame)

    def insert_run(
        self, change_id: int, inputs: list[dict[str, Any]], counts: pl.DataFrame
    ) -> None:
        columns = [c for c in RUN_INPUT_SCHEMA if c != "change_id"]
        rows = pl.DataFrame(
            [{c: x[c] for c in columns} for x in inputs],
            schema={c: RUN_INPUT_SCHEMA[c] for c in columns},
        )
        self._insert_frame(
            "run_inputs", ("change_id", *columns), rows.with_columns(change_id=pl.lit(change_id))
        )
        frame = counts.select(
            pl.lit(change_id, pl.Int64).alias("change_id"),
            pl.col("input").alias("input_name"),
            "code",
            pl.col("count").alias("n"),
            pl.col("first").alias("n_first"),
        )
        columns = ("change_id", "input_name", "code", "n", "n_first")
        self._insert_frame("run_findings", columns, frame)

    def set_uploaded(self, batch_id: int, at: str) -> None:
        self._run("UPDATE batches SET uploaded_at = ? WHERE id = ?", (at, batch_id))

    def set_ledger_id(self, ledger_id: str) -> None:
        self._run("UPDATE meta SET value = ? WHERE key = ?", (ledger_id, "ledger_id"))

    def set_manifest(self, batch_id: int, sha256: str) -> None:
        self._run("UPDATE batches SET manifest_sha256 = ? WHERE id = ?", (sha256, batch_id))

    def set_status(
        self, batch_id: int, status: str, *, only_from: str | None = None, at: str | None = None
    ) -> None:
        sets, params = ["status = ?"], [status]
        if at is not None:
            sets.append("voided_at = ?")
            params.append(at)
        where, extra = "id = ?", [batch_id]
        if only_from is not None:
            where += " AND status = ?"
            extra.append(only_from)
        self._run(f"UPDATE batches SET {', '.join(sets)} WHERE {where}", [*params, *extra])

    def delete_batch(self, batch_id: int) -> None:
        tables = ("person_events", "people", "batch_inputs", "batch_premiums")
        for table, key in (*((t, "batch_id") for t in tables), ("batches", "id")):
            self._run(f"DELETE FROM {table} WHERE {key} = ?", (batch_id,))

    def forget_people(self, aliases: pl.DataFrame) -> int:
        """One pass over each table through a temporary list of the people (a million NIKs
        one ``UPDATE`` each would be a million scans: the people table has no NIK index)."""
        self._run("CREATE TEMPORARY TABLE forget (nik TEXT PRIMARY KEY, alias TEXT NOT NULL)")
        try:
            self._run_many(
                "INSERT INTO forget (nik, alias) VALUES (?, ?)",
                aliases.select("nik", "alias").iter_rows(),
            )
            changed = self._run(
                "UPDATE people SET name = NULL, birth_date = NULL, phone = NULL,"
                " nik = (SELECT alias FROM forget WHERE forget.nik = people.nik)"
                " WHERE nik IN (SELECT nik FROM forget)"
            ).rowcount
            for table in ("person_events", "dukcapil"):  # the registry's result kept, aliased
                self._run(
                    f"UPDATE {table}"
                    f" SET nik = (SELECT alias FROM forget WHERE forget.nik = {table}.nik)"
                    " WHERE nik IN (SELECT nik FROM forget)"
                )
            self._run(
                "DELETE FROM decisions WHERE nik_a IN (SELECT nik FROM forget)"
                " OR nik_b IN (SELECT nik FROM forget)"
            )
            # a NIK typed on a command line (ledger end 2171...) is in the change log's text:
            # the log is small (a row per command), its texts are rewritten here
            alias = dict(aliases.select("nik", "alias").iter_rows())
            rewritten = []
            for change_id, command in self._run("SELECT id, command FROM changes").fetchall():
                new = _NIK_IN_TEXT.sub(lambda m: alias.get(m.group(0), m.group(0)), command)
                if new != command:
                    rewritten.append((new, change_id))
            self._run_many("UPDATE changes SET command = ? WHERE id = ?", rewritten)
        finally:
            self._run("DROP TABLE forget")
        return int(changed)

    @abstractmethod
    def _columns(self, name: str) -> dict[str, pl.DataType]:
        """A table's columns, as Polars holds them: integers (``Int64``), else text."""

    def table(self, name: str) -> pl.DataFrame:
        """Through ``_frame``, the dialect's bulk read."""
        schema = self._columns(name)
        order = f" ORDER BY {self.STORAGE_ORDER}" if name == "people" else ""
        return self._frame(f"SELECT {', '.join(schema)} FROM {name}{order}", schema)

    def append(self, name: str, rows: pl.DataFrame) -> None:
        """Through ``_insert_frame``, the dialect's bulk write."""
        columns = [c for c in self._columns(name) if c in rows.columns]
        self._insert_frame(name, columns, rows)

    def upsert_decisions(
        self, rows: list[tuple[str, str, str]], source: str | None, at: str
    ) -> int:
        return self._run_many(
            "INSERT INTO decisions (nik_a, nik_b, decision, source, decided_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (nik_a, nik_b) DO UPDATE SET"
            " decision = excluded.decision, source = excluded.source,"
            " decided_at = excluded.decided_at"
            " WHERE decisions.decision != excluded.decision",
            [(lo, hi, d, source, at) for lo, hi, d in rows],
        )
