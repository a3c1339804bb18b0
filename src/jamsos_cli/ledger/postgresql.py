"""A ledger in PostgreSQL: one record many offices' cron jobs share (``--ledger postgresql://…``).

The same rules as the file ledger (``book.py`` over ``store.SqlStore``); what is PostgreSQL's:

- **The driver** is psycopg 3. The URL comes from ``--ledger`` or the config; its password
  never reaches text (``location.LedgerURL``): every message names the masked URL, and a
  driver's message is scrubbed of it. A server that cannot be reached, a wrong password, a
  missing database, a server that goes away mid-run: one line, exit 2; what was not
  committed is not there.
- **The schema** is ``schema.STEPS``' PostgreSQL statements, in the first schema of the
  connection's ``search_path`` (``?options=-csearch_path%3Djamsos`` puts a ledger in its own
  schema). A database whose schema holds no table is an empty ledger, made on the first
  change in one transaction; one holding other tables is refused untouched. The ledger's mark
  is the comment on its ``schema_version`` table (``MARK``); its version, that table's.
- **Locks** are advisory locks held by a session of their own, which the server releases
  when the session ends — ``kill -9`` of the run included. A run names its decree: it holds
  that decree's lock and the ledger's lock shared, so two runs on one decree exclude each
  other (the second exits 3) while offices with other decrees go on; a run that names none
  (``ledger void``) holds the ledger's lock exclusively. A batch a dead run left
  ``committing`` is settled by whoever can take its decree's lock.
- **Nobody paid twice** across offices: two runs on different decrees read the ledger at the
  same time, and each may decide a person is new. The database refuses the second batch
  (``schema.NO_DOUBLE_COVERAGE``: one NIK, overlapping months, live batches) and
  ``RecordedMeanwhile`` sends that run back to check again: the person is then
  ``ALREADY_ENROLLED``.
- **Transactions**: a write is one READ COMMITTED transaction (a batch, its inputs, its
  people); a reader's view is one REPEATABLE READ transaction that is never committed (and
  is ``READ ONLY`` for the ledger's tables): interrupted batches are settled in a private
  temporary copy of ``batches``, so a view never takes a lock a writer waits for.
- **Bulk**: a batch's people go in with ``COPY FROM STDIN`` (CSV written by Polars); people
  come back with ``COPY TO STDOUT`` (CSV read by Polars): no Python tuple per person.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from jamsos_cli.errors import LockHeld
from jamsos_cli.ledger.location import LedgerURL
from jamsos_cli.ledger.schema import NUMBERED, POSTGRESQL, SCHEMA_VERSION, gives_id, migrations
from jamsos_cli.ledger.store import (
    PERSON_COLUMNS,
    STATUS_COMMITTING,
    BatchRecord,
    LedgerError,
    RecordedMeanwhile,
    SqlStore,
    now,
)
from jamsos_cli.texts import ref

MIGRATIONS: list[list[str]] = migrations(POSTGRESQL)
MARK = "jamsos ledger"  # the comment on schema_version that says the schema is a ledger
APP = 0x4A4D534F  # "JMSO": the first key of every jamsos advisory lock
LEDGER_KEY = (APP, 0)  # the whole ledger: shared by decree runs, exclusive for the others
MIGRATE_KEY = (APP, 1)  # a transaction lock: one process makes or migrates the schema
DECREE_CLASS = APP + 1  # (DECREE_CLASS, hash of the decree id): one decree's runs
# what another run recorded first: the same people for overlapping months, or a batch id or
# folder name it took meanwhile (the run checks again)
MEANWHILE = ("no_double_coverage", "batches_pkey", "batches_decree_start_month_end_month_seq_key")
CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
COPY_ROWS = 100_000  # people per COPY chunk, both ways: bounds the text alive at once
COPY_BYTES = 32 << 20


def decree_key(decree: str) -> tuple[int, int]:
    """The advisory lock of one decree: a stable 32-bit hash of its id."""
    digest = hashlib.sha256(decree.encode("utf-8")).digest()
    return DECREE_CLASS, int.from_bytes(digest[:4], "big", signed=True)


class PostgresStore(SqlStore):
    """A ledger in a PostgreSQL database. Until ``open``, only ``check``, ``exists`` and
    ``lock`` work (each connects when first needed)."""

    PARAM = "%s"
    STORAGE_ORDER = "batch_id, pos"

    def __init__(self, url: LedgerURL) -> None:
        self.url = url
        self.location = url
        self.conn: Any = None
        self._lock_conn: Any = None
        self._view = False
        self._whole = False  # this store holds the whole ledger's lock
        self._decree: str | None = None  # ... or this decree's
        self._shape: tuple[bool, int] | None = None  # (exists, version), once inspected
        self._new_id: str | None = None  # the id a ledger made by ``create`` will have

    # -- connecting ------------------------------------------------------------------

    def _connect(self) -> Any:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        with self._errors():
            try:
                given = conninfo_to_dict(self.url.conninfo())
            except psycopg.ProgrammingError as exc:
                raise LedgerError(
                    "error.ledger.url", path=self.url, reason=self._reason(exc)
                ) from None
            options: dict[str, Any] = {"application_name": "jamsos"}
            if "connect_timeout" not in given:
                options["connect_timeout"] = CONNECT_TIMEOUT
            return psycopg.connect(self.url.conninfo(), autocommit=True, **options)

    def _conn(self) -> Any:
        if self.conn is None:
            self.conn = self._connect()
        return self.conn

    def _reason(self, exc: BaseException) -> str:
        """A driver's message as one line, URL and password scrubbed."""
        text = " ".join(str(exc).split()) or type(exc).__name__
        return self.url.scrub(text)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except (psycopg.errors.ExclusionViolation, psycopg.errors.UniqueViolation) as exc:
            if exc.diag.constraint_name not in MEANWHILE:
                raise LedgerError(
                    "error.ledger.unusable", path=self.url, reason=self._reason(exc)
                ) from None
            raise RecordedMeanwhile("error.ledger.recorded_meanwhile", path=self.url) from None
        except psycopg.OperationalError as exc:
            key = "error.ledger.connect" if self.conn is None else "error.ledger.lost"
            raise LedgerError(key, path=self.url, reason=self._reason(exc)) from None
        except psycopg.Error as exc:
            raise LedgerError(
                "error.ledger.unusable", path=self.url, reason=self._reason(exc)
            ) from None

    # -- lifecycle -------------------------------------------------------------------

    def _inspect(self) -> tuple[bool, int]:
        """(a ledger is there, its version); a schema holding other tables is refused."""
        if self._shape is not None:
            return self._shape
        with self._errors():
            schema, tables, version = _look(self._conn())
        if schema is None:
            raise LedgerError("error.ledger.pg_schema", path=self.url)
        if version is None and tables:
            raise LedgerError("error.ledger.pg_foreign", path=self.url, schema=schema)
        self._shape = (version is not None, version or 0)
        if self._shape[1] > SCHEMA_VERSION:
            raise LedgerError(
                "error.ledger.newer", path=self.url, version=self._shape[1], known=SCHEMA_VERSION
            )
        return self._shape

    @property
    def exists(self) -> bool:  # type: ignore[override]
        return self._inspect()[0]

    def check(self) -> None:
        self._inspect()

    @contextlib.contextmanager
    def lock(self, mode: int = 0o600, decree: str | None = None) -> Iterator[PostgresStore]:
        conn = self._connect()
        try:
            with self._errors():
                if decree is None:
                    held = _try_lock(conn, LEDGER_KEY)
                else:
                    held = _try_lock(conn, LEDGER_KEY, shared=True)
                    held = held and _try_lock(conn, decree_key(decree))
            if not held:
                key = LEDGER_KEY if decree is None else decree_key(decree)
                what = (
                    ref("lock.ledger", path=self.url)
                    if decree is None
                    else ref("lock.ledger_decree", path=self.url, decree=decree)
                )
                raise LockHeld("error.lock.held", what=what, lock=ref("lock.advisory", key=key))
            self._lock_conn, self._whole, self._decree = conn, decree is None, decree
            yield self
        finally:
            self._lock_conn, self._whole, self._decree = None, False, None
            conn.close()  # the session's advisory locks go with it

    def open(self, *, write: bool, mode: int = 0o600) -> None:
        exists, version = self._inspect()
        conn = self._conn()
        with self._errors():
            if not exists:
                self._empty_schema()
            elif write and version < SCHEMA_VERSION:
                self._migrate()
            if not write:
                self._view = True
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                if exists and version < SCHEMA_VERSION:
                    self._apply(range(version, SCHEMA_VERSION))  # never committed
                if exists:  # a private copy to settle interrupted batches in
                    conn.execute(
                        "CREATE TEMP TABLE batches ON COMMIT DROP AS SELECT * FROM batches"
                    )
                conn.execute("SET TRANSACTION READ ONLY")

    def create(self) -> None:
        """Make the schema (one transaction: all of it or none), unless another office did
        meanwhile."""
        if self.exists:
            return
        with self._errors():
            self.conn.execute("DISCARD TEMP")  # the empty view's tables
            self._migrate()
        self._shape = (True, SCHEMA_VERSION)

    def backup(self, target: Path, mode: int = 0o600) -> None:
        """The database's own tools back it up (``pg_dump``, the server's base backups);
        ``jamsos ledger copy URL FILE`` makes a verified file ledger of it. Refused, named."""
        raise LedgerError("error.ledger.pg_backup", path=self.url, target=target)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # a view ends here, never committed
                self.conn.close()
            self.conn = None

    # -- the schema --------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema to ``SCHEMA_VERSION`` in one transaction; a transaction lock
        makes a second process wait, then find the work done."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", MIGRATE_KEY)
            self._shape = None
            _, _, found = _look(conn)
            exists, version = found is not None, found or 0
            if version < SCHEMA_VERSION:
                self._apply(range(version, SCHEMA_VERSION))
                if not exists:
                    conn.execute(f"COMMENT ON TABLE schema_version IS '{MARK}'")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        self._shape = (True, SCHEMA_VERSION)

    def _apply(self, versions: range) -> None:
        from jamsos_cli import __version__

        for version in versions:
            for statement in MIGRATIONS[version]:
                self.conn.execute(statement)
            if gives_id(MIGRATIONS[version]):
                self._give_id()
            if MIGRATIONS[version]:
                self.conn.execute(
                    "INSERT INTO schema_version (version, applied_at, tool_version)"
                    " VALUES (%s, %s, %s)",
                    (version + 1, now(), __version__),
                )

    def _give_id(self) -> None:
        """The ledger's id, in the ``meta`` table just made: the one a ledger about to be
        made was shown with (its first manifests carry it), else a new UUID."""
        self._new_id = self._new_id or str(uuid.uuid4())
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('ledger_id', %s)", (self._new_id,))

    def _empty_schema(self) -> None:
        """The view of a ledger not made yet: its tables, empty, in this session's temporary
        schema (what only enforces rules — functions, triggers — is left out)."""
        conn = self.conn
        (path,) = conn.execute("SHOW search_path").fetchone()
        conn.execute("SET search_path = pg_temp")
        try:
            for steps in MIGRATIONS:
                for statement in steps:
                    if statement.split()[1].upper() not in ("FUNCTION", "TRIGGER", "OR"):
                        conn.execute(statement)
                if gives_id(steps):
                    self._give_id()
        finally:
            conn.execute("SELECT set_config('search_path', %s, false)", (path,))

    # -- the dialect -----------------------------------------------------------------

    def _begin(self) -> None:
        self._run("SAVEPOINT jamsos_view" if self._view else "BEGIN")

    def _commit(self) -> None:
        self._run("RELEASE SAVEPOINT jamsos_view" if self._view else "COMMIT")

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # a connection already gone rolled it back
            self._run("ROLLBACK TO SAVEPOINT jamsos_view" if self._view else "ROLLBACK")

    def pending(self) -> list[tuple[int, str, str]]:
        with self._errors():
            rows = self._run(
                "SELECT id, folder, manifest_sha256, decree FROM batches WHERE status = ?"
                " ORDER BY id",
                (STATUS_COMMITTING,),
            ).fetchall()
            if self._view or self._whole:
                return [r[:3] for r in rows]
            locks = self._lock_conn or self.conn  # a writer opened without ``lock``: its own
            gone = {d for d in {r[3] for r in rows} if d == self._decree}
            gone |= {
                d for d in {r[3] for r in rows} - gone if _try_lock(locks, decree_key(d))
            }  # a live run holds its decree's lock: its batch is its own to settle
        return [r[:3] for r in rows if r[3] in gone]

    def new_batch_id(self) -> int:
        """From the ``batch_ids`` sequence, so runs on other decrees never take the same id
        (a view, which changes nothing, says the id a batch would get)."""
        if self._view:
            return super().new_batch_id()
        with self._errors():
            return int(self._run("SELECT nextval('batch_ids')").fetchone()[0])

    def insert_batch(self, batch: BatchRecord, status: str, created_at: str) -> None:
        super().insert_batch(batch, status, created_at)
        self._sequence_past(batch.id)

    def _new_change_id(self) -> int:
        """From the ``changes`` identity: offices record changes at the same time."""
        return int(self._run("SELECT nextval(?)", (self._sequence("changes"),)).fetchone()[0])

    def _sequence(self, table: str) -> str:
        """The sequence that numbers ``table``'s ids."""
        if table == "batches":
            return "batch_ids"
        return self._run("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchone()[0]

    def _sequence_past(self, batch_id: int, table: str = "batches") -> None:
        """An id not taken from the sequence (the first batch's, taken before the ledger was
        made; a copied ledger's): the sequence moves past it."""
        sequence = self._sequence(table)
        self._run(
            f"SELECT setval(?, ?) FROM {sequence} WHERE last_value < ? OR NOT is_called",
            (sequence, batch_id, batch_id),
        )

    def delete_batch(self, batch_id: int) -> None:
        if self._view:  # the view's batches are its private copy; people are read via them
            self._run("DELETE FROM batches WHERE id = ?", (batch_id,))
        else:
            super().delete_batch(batch_id)

    def insert_people(self, batch_id: int, people: pl.DataFrame) -> None:
        """``COPY FROM STDIN``, each person with their place in the batch."""
        self._copy_in(
            "people",
            people.select(
                pl.lit(batch_id, pl.Int64).alias("batch_id"),
                pl.int_range(pl.len(), dtype=pl.Int32).alias("pos"),
                *PERSON_COLUMNS,
            ),
        )

    def _insert_frame(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
        """``COPY FROM STDIN`` (a reply of 100,000 people is one statement, not 100,000)."""
        self._copy_in(table, frame.select(columns))

    def _frame(
        self, text: str, schema: dict[str, pl.DataType], params: Sequence[object] = ()
    ) -> pl.DataFrame:
        """``COPY (query) TO STDOUT``: a million people come back as CSV Polars reads, no
        Python tuple per person."""
        return self._copy_out(text, params, schema)

    def append(self, name: str, rows: pl.DataFrame) -> None:
        """People get their place in their batch (``pos``); a numbered table's sequence
        moves past the ids appended."""
        if name == "people" and "pos" not in rows.columns:
            rows = rows.with_columns(pos=pl.int_range(pl.len(), dtype=pl.Int32).over("batch_id"))
        super().append(name, rows)
        if name in NUMBERED and rows.height:
            self._sequence_past(int(rows.get_column("id").max()), name)

    # -- COPY, both ways ---------------------------------------------------------------

    def _columns(self, name: str) -> dict[str, pl.DataType]:
        """A table's columns as Polars reads them: integers, else text."""
        with self._errors():
            rows = self._run(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped"
                " ORDER BY attnum",
                (name,),
            ).fetchall()
        return {c: pl.Int64 if t in ("bigint", "integer") else pl.Utf8 for c, t in rows}

    def _copy_in(self, name: str, rows: pl.DataFrame) -> None:
        """``COPY FROM STDIN`` in CSV that Polars writes (an empty string quoted, a null
        not: PostgreSQL's CSV reads them back as such), ``COPY_ROWS`` rows at a time."""
        query = f"COPY {name} ({', '.join(rows.columns)}) FROM STDIN (FORMAT csv)"
        with self.conn.cursor().copy(query) as copy:
            for chunk in rows.iter_slices(COPY_ROWS):
                copy.write(chunk.write_csv(include_header=False))

    def _copy_out(
        self, select: str, params: Sequence[object], schema: dict[str, pl.DataType]
    ) -> pl.DataFrame:
        """``COPY (select) TO STDOUT`` as CSV, parsed by Polars every ``COPY_BYTES``."""
        chunks = [pl.DataFrame(schema=schema)]
        query = self._sql(f"COPY ({select}) TO STDOUT (FORMAT csv)")
        with self._errors(), self.conn.cursor().copy(query, params or None) as copy:
            pieces: list[bytes] = []
            size = 0
            for data in copy:
                pieces.append(data)
                size += len(data)
                if size >= COPY_BYTES:
                    chunks.append(_read_csv(pieces, schema))
                    pieces, size = [], 0
            if pieces:
                chunks.append(_read_csv(pieces, schema))
        return pl.concat(chunks, rechunk=True)


def _read_csv(pieces: list[bytes], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.read_csv(
        io.BytesIO(b"".join(pieces)), has_header=False, schema=schema, infer_schema=False
    )


def _try_lock(conn: Any, key: tuple[int, int], *, shared: bool = False) -> bool:
    """Take a session advisory lock without waiting."""
    function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    return bool(conn.execute(f"SELECT {function}(%s, %s)", key).fetchone()[0])


def _look(conn: Any) -> tuple[str | None, int, int | None]:
    """(the schema the ledger would be in, how many tables it holds, the ledger's version or
    None when ``schema_version`` there does not carry ``MARK``)."""
    schema, tables, mark = conn.execute(
        "SELECT current_schema(), count(*) FILTER (WHERE c.relkind IN ('r', 'p', 'v', 'm')),"
        " max(obj_description(c.oid, 'pg_class')) FILTER (WHERE c.relname = 'schema_version')"
        " FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid"
        " WHERE n.nspname = current_schema()"
    ).fetchone()
    if mark != MARK:
        return schema, tables or 0, None
    (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return schema, tables, int(version or 0)
