"""The ledger: every batch jamsos wrote, and who is in it, so nobody is paid for twice.

An SQLite file (default ``<user data dir>/jamsos/ledger.sqlite``) created and migrated by the
tool: ``PRAGMA application_id`` marks it as ours (a foreign or corrupt file is refused,
untouched), ``PRAGMA user_version`` and the ``schema_version`` table record its schema.

A batch goes through ``committing`` → ``done`` (→ ``voided`` by ``jamsos ledger void``).
``committing`` lives only between the transaction that records a batch and the rename that
publishes its folder; ``recover`` (run under the ledger lock, so its writer is dead) settles
it: folder there with the recorded manifest → ``done``, otherwise the rows go. See
``build.py`` for the whole commit sequence.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import polars as pl

from jamsos_cli.errors import JamsosError, UsageError
from jamsos_cli.texts import Lang, ref, say

APPLICATION_ID = 0x4A4D534F  # "JMSO": marks an SQLite file as a jamsos ledger

# MIGRATIONS[i] takes a ledger from schema version i to i + 1.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE schema_version (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL,
            tool_version TEXT NOT NULL)""",
        """CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            decree TEXT NOT NULL,
            start_month INTEGER NOT NULL,
            end_month INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            folder TEXT NOT NULL,
            participants INTEGER NOT NULL,
            premium_per_person_month INTEGER NOT NULL,
            total_premium INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('committing', 'done', 'voided')),
            manifest_sha256 TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            voided_at TEXT,
            UNIQUE (decree, start_month, end_month, seq))""",
        """CREATE TABLE batch_inputs (
            batch_id INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            rows INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (batch_id, position))""",
        """CREATE TABLE people (
            batch_id INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
            nik TEXT NOT NULL,
            name TEXT,
            birth_date TEXT,
            sex TEXT,
            phone TEXT,
            kelurahan TEXT,
            kelurahan_code TEXT,
            source TEXT,
            PRIMARY KEY (batch_id, nik))""",
        "CREATE INDEX people_nik ON people (nik)",
        "CREATE INDEX batches_period ON batches (status, start_month, end_month)",
    ],
    [
        # near-duplicate pairs a clerk reviewed (jamsos dedupe --decisions), keyed by the NIK
        # pair in sorted order: they hold for every later run on this ledger
        """CREATE TABLE decisions (
            nik_a TEXT NOT NULL,
            nik_b TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('same', 'different')),
            source TEXT,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (nik_a, nik_b),
            CHECK (nik_a < nik_b))""",
    ],
    [
        # people without the (batch_id, nik) key and the NIK index: no query looks a person
        # up (the checks read whole batches and join in Polars), and keeping two B-trees on
        # NIK text in roster order made recording a million people cost ~10 s of random
        # page writes; appended in roster order the rows cost a third of that. A batch's NIKs
        # are unique before it is recorded (``record_batch`` refuses otherwise). Rows are
        # copied in their order (rowid): readers order a batch's people by rowid.
        """CREATE TABLE people_v3 (
            batch_id INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
            nik TEXT NOT NULL,
            name TEXT,
            birth_date TEXT,
            sex TEXT,
            phone TEXT,
            kelurahan TEXT,
            kelurahan_code TEXT,
            source TEXT)""",
        """INSERT INTO people_v3 (batch_id, nik, name, birth_date, sex, phone, kelurahan,
            kelurahan_code, source)
            SELECT batch_id, nik, name, birth_date, sex, phone, kelurahan, kelurahan_code,
            source FROM people ORDER BY rowid""",
        "DROP TABLE people",
        "ALTER TABLE people_v3 RENAME TO people",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)

STATUS_COMMITTING, STATUS_DONE, STATUS_VOIDED = "committing", "done", "voided"
STATUSES = (STATUS_COMMITTING, STATUS_DONE, STATUS_VOIDED)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# The people of live batches, as the checks and the exports read them.
PEOPLE_SCHEMA: dict[str, pl.DataType] = {
    "nik": pl.Utf8,
    "name": pl.Utf8,
    "birth_date": pl.Utf8,
    "sex": pl.Utf8,
    "phone": pl.Utf8,
    "kelurahan": pl.Utf8,
    "kelurahan_code": pl.Utf8,
    "source": pl.Utf8,
    "batch_id": pl.Int64,
    "folder": pl.Utf8,
    "decree": pl.Utf8,
    "start_month": pl.Int64,
    "end_month": pl.Int64,
    "status": pl.Utf8,
}
# where each people column comes from: the people table, or the batch the person is in
PERSON_COLUMNS = (
    "nik",
    "name",
    "birth_date",
    "sex",
    "phone",
    "kelurahan",
    "kelurahan_code",
    "source",
)
BATCH_FIELDS = {
    "batch_id": "id",
    "folder": "folder",
    "decree": "decree",
    "start_month": "start_month",
    "end_month": "end_month",
    "status": "status",
}
_FETCH_ROWS = 100_000  # people per fetch: bounds the Python tuples alive at once
DECISION_SCHEMA: dict[str, pl.DataType] = {
    "nik_a": pl.Utf8,
    "nik_b": pl.Utf8,
    "decision": pl.Utf8,
}
BATCH_COLUMNS = (
    "id",
    "folder",
    "decree",
    "start",
    "end",
    "participants",
    "total_premium",
    "status",
    "created",
)


class LedgerError(JamsosError):
    """The ledger cannot be used (foreign, corrupt, newer, unwritable): exit 2, file untouched."""


def default_ledger_path() -> Path:
    """The platform's user data folder (``~/.local/share/jamsos/ledger.sqlite`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("jamsos", appauthor=False)) / "ledger.sqlite"


# --- coverage periods -------------------------------------------------------------------


def month_index(label: str, option: str = "--start") -> int:
    """``2025-06`` → a month number (year * 12 + month - 1), so overlaps are integer tests."""
    m = _MONTH.match(label.strip()) if isinstance(label, str) else None
    if not m:
        raise UsageError("error.option.month", option=option, value=label)
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_label_expr(index: pl.Expr) -> pl.Expr:
    """``month_label`` over a column."""
    month = (index % 12 + 1).cast(pl.Utf8).str.zfill(2)
    return (index // 12).cast(pl.Utf8).str.zfill(4) + pl.lit("-") + month


@dataclass(frozen=True)
class Period:
    """Coverage months, both ends included."""

    start: int
    end: int

    @classmethod
    def parse(cls, start: str, end: str | None) -> Period:
        """``--end`` defaults to December of the start year (the budget year)."""
        first = month_index(start, "--start")
        last = month_index(end, "--end") if end else (first // 12) * 12 + 11
        if last < first:
            raise UsageError("error.option.end_before_start", end=end, start=start)
        return cls(first, last)

    @property
    def months(self) -> int:
        return self.end - self.start + 1

    @property
    def start_label(self) -> str:
        return month_label(self.start)

    @property
    def end_label(self) -> str:
        return month_label(self.end)

    @property
    def first_day(self) -> date:
        return date(self.start // 12, self.start % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        nxt = self.end + 1
        return date.fromordinal(date(nxt // 12, nxt % 12 + 1, 1).toordinal() - 1)


# --- the ledger file --------------------------------------------------------------------


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


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path.resolve()))}?mode={mode}"


def crash_point(name: str) -> None:
    """Test-only hook: ``JAMSOS_TEST_CRASH_AT=<name>`` kills the process right here with
    SIGKILL, to prove a run killed at any step leaves the ledger and folder consistent."""
    if os.environ.get("JAMSOS_TEST_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    """A damaged ledger is one clear line (exit 2), not a traceback."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise LedgerError("error.ledger.unusable", path=path, reason=exc) from None


class Ledger:
    """One open ledger. ``Ledger.open`` for a run that writes, ``Ledger.snapshot`` for one
    that must not (dry run, listing): a throwaway in-memory copy."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, exists: bool, writable: bool):
        self.path = path
        self.conn = conn
        self.exists = exists  # the file existed when opened (else it is created on first write)
        self.writable = writable
        self.mode = 0o600

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, mode: int = 0o600) -> Ledger:
        """An existing ledger is checked and migrated now; a missing one is created when the
        first batch is recorded (so a run that writes nothing leaves no file behind)."""
        path = Path(path)
        if not path.exists():
            ledger = cls(path, _memory_with_schema(), exists=False, writable=True)
        else:
            conn = _open_checked(path, writable=True)
            with _sqlite_errors(path):
                _migrate(conn)
            ledger = cls(path, conn, exists=True, writable=True)
        ledger.mode = mode
        return ledger

    @classmethod
    def snapshot(cls, path: Path) -> Ledger:
        """A private in-memory copy: reading and recovering it never touches the file."""
        path = Path(path)
        if not path.exists():
            return cls(path, _memory_with_schema(), exists=False, writable=False)
        src = _open_checked(path, writable=False)
        mem = sqlite3.connect(":memory:", isolation_level=None)
        with _sqlite_errors(path):
            src.backup(mem)
        src.close()
        with _sqlite_errors(path):
            _migrate(mem)
        return cls(path, mem, exists=True, writable=False)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _materialise(self) -> None:
        """Create the ledger file through the one write path: built under a temporary name in
        a private folder, then renamed into place, so a killed run never leaves a
        half-initialised ledger."""
        if self.exists:
            return
        from jamsos_cli.writing import atomic_path

        try:
            with atomic_path(self.path, self.mode) as tmp:
                conn = sqlite3.connect(tmp, isolation_level=None)
                conn.execute("PRAGMA journal_mode = DELETE")
                _migrate(conn)
                conn.close()
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError("error.ledger.create", path=self.path, reason=exc) from None
        self.conn.close()
        self.conn = _open_checked(self.path, writable=True)
        self.exists = True

    def _require_writable(self) -> None:
        if not self.writable:
            raise RuntimeError("this ledger was opened read-only (dry run)")

    # -- recovery ----------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Settle batches a killed run left ``committing``: published folder → done, no
        folder → rows deleted. Call under the ledger lock. Returns what was done."""
        notes: list[str] = []
        with _sqlite_errors(self.path):
            pending = self.conn.execute(
                "SELECT id, folder, manifest_sha256 FROM batches WHERE status = ?",
                (STATUS_COMMITTING,),
            ).fetchall()
            if not pending:
                return notes
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for batch_id, folder, digest in pending:
                    manifest = Path(folder) / "manifest.json"
                    if manifest.is_file() and sha256_file(manifest) == digest:
                        self.conn.execute(
                            "UPDATE batches SET status = ? WHERE id = ?", (STATUS_DONE, batch_id)
                        )
                        notes.append(ref("ledger.recovered_done", id=batch_id, folder=folder))
                    else:
                        self._delete_batch(batch_id)
                        notes.append(ref("ledger.recovered_gone", id=batch_id, folder=folder))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        if self.writable:  # a killed run's half-built ledger (writing.atomic_path's folder)
            for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                shutil.rmtree(leftover, ignore_errors=True)
        return notes

    def _delete_batch(self, batch_id: int) -> None:
        self.conn.execute("DELETE FROM people WHERE batch_id = ?", (batch_id,))
        self.conn.execute("DELETE FROM batch_inputs WHERE batch_id = ?", (batch_id,))
        self.conn.execute("DELETE FROM batches WHERE id = ?", (batch_id,))

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
        people. The batches are chosen in SQL on the small ``batches`` table; their people are
        streamed in storage order (no sort in SQLite) and get their batch's fields in Polars.
        """
        wanted = list(PEOPLE_SCHEMA) if columns is None else list(columns)
        if unknown := set(wanted) - set(PEOPLE_SCHEMA):
            raise ValueError(f"not a ledger people column: {sorted(unknown)}")
        where = [f"status IN ({','.join('?' * len(statuses))})"]
        params: list[object] = list(statuses)
        if period is not None:
            where.append("start_month <= ? AND end_month >= ?")
            params += [period.end, period.start]
        if decree is not None:
            where.append("decree = ?")
            params.append(decree)
        chosen = f"FROM batches WHERE {' AND '.join(where)}"
        own = [c for c in PERSON_COLUMNS if c in wanted]
        with _sqlite_errors(self.path):
            batches = pl.DataFrame(
                self.conn.execute(
                    f"SELECT {', '.join(BATCH_FIELDS.values())} {chosen}", params
                ).fetchall(),
                schema={c: PEOPLE_SCHEMA[c] for c in BATCH_FIELDS},
                orient="row",
            )
            if batches.height == 0:
                return pl.DataFrame(schema={c: PEOPLE_SCHEMA[c] for c in wanted})
            people = self._read_people(own, f"WHERE batch_id IN (SELECT id {chosen})", params)
        # rowid order is batch order (a batch is appended after the last); the stable sort
        # makes "batch, then roster order" hold whatever the rowids (cheap when sorted)
        people = people.join(batches, on="batch_id", how="inner", maintain_order="left")
        return people.sort("batch_id", maintain_order=True).select(wanted)

    def _read_people(self, columns: list[str], where: str, params: list[object]) -> pl.DataFrame:
        """``batch_id`` + ``columns`` of the people table, in storage (rowid) order, fetched in
        chunks so a million people never exist as Python tuples all at once."""
        schema = {"batch_id": pl.Int64} | {c: PEOPLE_SCHEMA[c] for c in columns}
        cur = self.conn.execute(
            f"SELECT {', '.join(schema)} FROM people {where} ORDER BY rowid", params
        )
        chunks = [pl.DataFrame(schema=schema)]
        while rows := cur.fetchmany(_FETCH_ROWS):
            chunks.append(pl.DataFrame(rows, schema=schema, orient="row"))
        return pl.concat(chunks, rechunk=True)

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
        with _sqlite_errors(self.path):
            rows = self.conn.execute(
                "SELECT nik_a, nik_b, decision FROM decisions ORDER BY nik_a, nik_b"
            ).fetchall()
        return pl.DataFrame(rows, schema=DECISION_SCHEMA, orient="row")

    def next_id(self) -> int:
        """The id the next batch gets (read under the lock, so it is the one inserted)."""
        with _sqlite_errors(self.path):
            (next_id,) = self.conn.execute(
                "SELECT COALESCE(MAX(id), 0) + 1 FROM batches"
            ).fetchone()
        return int(next_id)

    def next_seq(self, decree: str, period: Period) -> int:
        """1 + the highest sequence used for this decree and period (voided ones included,
        so a folder name is never reused)."""
        with _sqlite_errors(self.path):
            (seq,) = self.conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM batches"
                " WHERE decree = ? AND start_month = ? AND end_month = ?",
                (decree, period.start, period.end),
            ).fetchone()
        return int(seq)

    def batches(self) -> list[dict]:
        """Every batch, oldest first."""
        with _sqlite_errors(self.path):
            rows = self.conn.execute(
                "SELECT id, folder, decree, start_month, end_month, participants,"
                " total_premium, status, created_at FROM batches ORDER BY id"
            ).fetchall()
        return [
            dict(
                zip(
                    BATCH_COLUMNS,
                    (i, f, d, month_label(s), month_label(e), n, t, st, c),
                    strict=True,
                )
            )
            for i, f, d, s, e, n, t, st, c in rows
        ]

    def stats(self) -> list[dict]:
        """People and premium per decree and coverage period, live batches only."""
        with _sqlite_errors(self.path):
            rows = self.conn.execute(
                "SELECT decree, start_month, end_month, COUNT(*), SUM(participants),"
                " SUM(total_premium) FROM batches WHERE status = ?"
                " GROUP BY decree, start_month, end_month ORDER BY decree, start_month, end_month",
                (STATUS_DONE,),
            ).fetchall()
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
            for d, s, e, n, p, t in rows
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
        self._materialise()
        crash_point("ledger-created")
        cols = ["nik", "name", "birth_date", "sex", "phone", "kelurahan", "kelurahan_code"]
        cols.append("source")
        with _sqlite_errors(self.path):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self.conn.execute(
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
                        STATUS_COMMITTING,
                        batch.manifest_sha256,
                        batch.tool_version,
                        _now(),
                    ),
                )
                batch_id = int(cur.lastrowid)
                self.conn.executemany(
                    "INSERT INTO batch_inputs (batch_id, position, name, rows, sha256)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (batch_id, i, x["name"], x["rows"], x["sha256"])
                        for i, x in enumerate(inputs)
                    ],
                )
                # rows straight from Polars (batch id included), appended in roster order
                self.conn.executemany(
                    f"INSERT INTO people (batch_id, {', '.join(cols)})"
                    f" VALUES ({', '.join('?' * (len(cols) + 1))})",
                    people.select(pl.lit(batch_id, pl.Int64), *cols).iter_rows(),
                )
                crash_point("ledger-insert")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return batch_id

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
        self._materialise()
        now = _now()
        with _sqlite_errors(self.path):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                before = self.conn.total_changes
                self.conn.executemany(
                    "INSERT INTO decisions (nik_a, nik_b, decision, source, decided_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (nik_a, nik_b) DO UPDATE SET"
                    " decision = excluded.decision, source = excluded.source,"
                    " decided_at = excluded.decided_at"
                    " WHERE decisions.decision != excluded.decision",
                    [(lo, hi, d, source, now) for lo, hi, d in rows],
                )
                changed = self.conn.total_changes - before
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return changed

    def rollback(self, batch_id: int) -> None:
        """Take back a batch whose folder could not be published."""
        self._require_writable()
        with _sqlite_errors(self.path):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self._delete_batch(batch_id)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def mark_done(self, batch_id: int) -> None:
        self._require_writable()
        with _sqlite_errors(self.path):
            self.conn.execute(
                "UPDATE batches SET status = ? WHERE id = ? AND status = ?",
                (STATUS_DONE, batch_id, STATUS_COMMITTING),
            )

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
        with _sqlite_errors(self.path):
            self.conn.execute(
                "UPDATE batches SET status = ?, voided_at = ? WHERE id = ?",
                (STATUS_VOIDED, _now(), batch["id"]),
            )
        return {**batch, "status": STATUS_VOIDED}


def folder_basename(expr: pl.Expr) -> pl.Expr:
    """The batch folder's own name (the ledger stores its full path)."""
    return expr.str.extract(r"([^/\\]+)[/\\]*$", 1)


def check_file(path: Path) -> None:
    """Refuse a foreign or corrupt ledger before anything is locked or written."""
    if Path(path).exists():
        _open_checked(Path(path), writable=False).close()


@contextlib.contextmanager
def opened(path: Path, *, mode: int = 0o600, write: bool = False) -> Iterator[Ledger]:
    """An existing ledger for the ``jamsos ledger`` commands, interrupted batches settled.

    To change it (``void``): under its lock (held by a run → exit 3), recovered for real.
    To read it (``list``, ``stats``, ``export``): a private snapshot, recovered in memory, so
    reading never waits for a cron run and never needs write access to the ledger.
    """
    from jamsos_cli.locks import exclusive, ledger_lock_path, ledger_what

    path = Path(path)
    if not path.exists():
        raise LedgerError("error.ledger.missing", path=path)
    check_file(path)
    with contextlib.ExitStack() as stack:
        if write:
            stack.enter_context(exclusive(ledger_lock_path(path), ledger_what(path), mode=mode))
            ledger = stack.enter_context(Ledger.open(path, mode=mode))
        else:
            ledger = stack.enter_context(Ledger.snapshot(path))
        ledger.recover()
        yield ledger


# --- schema and checks ------------------------------------------------------------------


def _memory_with_schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _migrate(conn)
    return conn


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _open_checked(path: Path, *, writable: bool) -> sqlite3.Connection:
    """Open an existing file and make sure it is a jamsos ledger (before anything is written).

    A reader opens it read-write too when it may, with ``query_only`` set: SQLite must roll
    back the journal a killed writer left (restoring the last committed state) before anyone
    can read, and that needs write access; the reader itself cannot change anything.
    """
    if path.is_dir():
        raise LedgerError("error.ledger.folder", path=path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise LedgerError("error.ledger.read", path=path, reason=exc.strerror) from None
    if magic and magic != _SQLITE_MAGIC:
        raise LedgerError("error.ledger.not_sqlite", path=path)
    mode = "rw" if writable or os.access(path, os.W_OK) else "ro"
    try:
        conn = sqlite3.connect(_uri(path, mode), uri=True, isolation_level=None)
        if not writable:
            conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        raise LedgerError("error.ledger.open", path=path, reason=exc) from None
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        n_objects = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise LedgerError("error.ledger.damaged", path=path, reason=exc) from None
    if app_id == 0 and n_objects == 0:
        return conn  # an empty database (e.g. a 0-byte file): initialised by _migrate
    if app_id != APPLICATION_ID:
        conn.close()
        raise LedgerError("error.ledger.foreign", path=path)
    if version > SCHEMA_VERSION:
        conn.close()
        raise LedgerError("error.ledger.newer", path=path, version=version, known=SCHEMA_VERSION)
    conn.execute("PRAGMA foreign_keys = ON")
    if writable:
        conn.execute("PRAGMA synchronous = FULL")
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to ``SCHEMA_VERSION``, one version per transaction."""
    from jamsos_cli import __version__

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            version += 1
            conn.execute(
                "INSERT INTO schema_version (version, applied_at, tool_version) VALUES (?, ?, ?)",
                (version, _now(), __version__),
            )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


# --- export and rendering (jamsos ledger ...) ---------------------------------------------

EXPORT_TEXT_COLUMNS = {"nik", "phone"}


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


def write_export(frame: pl.DataFrame, target: Path, *, mode: int, lang: Lang) -> Path:
    """csv or xlsx by the file's extension, headers and status words in ``lang``;
    owner-only and formula-neutralised (writing.py)."""
    from jamsos_cli.writing import write_csv, write_xlsx

    frame = frame.with_columns(
        pl.col("status").replace({s: say(f"ledger.status.{s}", lang) for s in STATUSES})
    ).rename({c: say(f"export.column.{c}", lang) for c in frame.columns})
    text = {say(f"export.column.{c}", lang) for c in EXPORT_TEXT_COLUMNS}
    suffix = Path(target).suffix.lower()
    if suffix == ".csv":
        return write_csv(frame, target, mode=mode)
    if suffix == ".xlsx":
        return write_xlsx(
            frame, target, mode=mode, sheet=say("export.sheet", lang), text_columns=text
        )
    raise UsageError("error.file.table_name", path=target)


def render_batches(console, path: Path, batches: list[dict], lang: str) -> None:
    """``jamsos ledger list``: one line per batch. The folder name already says the decree and
    the period (``<decree>_<start>_<end>_<seq>``); ``--format json`` has them as fields."""
    from rich.table import Table

    console.print(say("ledger.path", lang, path=path), highlight=False)
    if not batches:
        console.print(say("ledger.none", lang))
        return
    table = Table(box=None, pad_edge=False, collapse_padding=True)
    table.add_column(say("ledger.column.id", lang), justify="right")
    table.add_column(say("ledger.column.folder", lang), no_wrap=True)
    table.add_column(say("ledger.column.participants", lang), justify="right")
    table.add_column(say("ledger.column.status", lang), no_wrap=True)
    table.add_column(say("ledger.column.created", lang), no_wrap=True)
    for b in batches:
        table.add_row(
            str(b["id"]),
            Path(b["folder"]).name,
            str(b["participants"]),
            say(f"ledger.status.{b['status']}", lang),
            b["created"][:16].replace("T", " "),
        )
    console.print(table)


def render_stats(console, path: Path, stats: list[dict], lang: str) -> None:
    """``jamsos ledger stats``: people and premium per decree and period (live batches)."""
    from rich.table import Table

    from jamsos_cli.money import format_number, format_rupiah

    console.print(say("ledger.path", lang, path=path), highlight=False)
    if not stats:
        console.print(say("ledger.none", lang))
        return
    table = Table(box=None, pad_edge=False)
    for key in ("decree", "period", "months", "batches", "people", "premium"):
        justify = "left" if key in ("decree", "period") else "right"
        table.add_column(say(f"ledger.column.{key}", lang), justify=justify)
    for s in stats:
        table.add_row(
            s["decree"],
            f"{s['start']}..{s['end']}",
            str(s["months"]),
            str(s["batches"]),
            format_number(s["people"], lang),
            format_rupiah(s["total_premium"], lang),
        )
    console.print(table)
