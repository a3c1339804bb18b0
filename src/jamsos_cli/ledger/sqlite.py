"""The embedded ledger: one SQLite file (default ``<user data dir>/jamsos/ledger.sqlite``).

Created and migrated by the tool: ``PRAGMA application_id`` marks it as ours (a foreign or
corrupt file is refused, untouched), ``PRAGMA user_version`` and the ``schema_version``
table record its schema; ``MIGRATIONS`` is its history, one step per version. The lock is
an ``flock`` on ``<ledger>.lock`` beside it (``locks.py``). A reader works on a private
in-memory copy (``open(write=False)``): it never waits for a cron run and never needs write
access. A writer's transaction is ``BEGIN IMMEDIATE`` (the write lock from the start) on a
rollback journal with ``synchronous = FULL``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path
from urllib.parse import quote

import polars as pl

from jamsos_cli.ledger.schema import SQLITE, gives_id, migrations
from jamsos_cli.ledger.store import LedgerError, SqlStore, now

APPLICATION_ID = 0x4A4D534F  # "JMSO": marks an SQLite file as a jamsos ledger

# MIGRATIONS[i] takes a ledger from schema version i to i + 1 (``schema.STEPS``).
MIGRATIONS: list[list[str]] = migrations(SQLITE)
SCHEMA_VERSION = len(MIGRATIONS)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_VARIABLES = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
_BUSY_SECONDS = 60  # a backup waits this long for a writer's commit to finish
INSERT_ROWS = 100  # rows per INSERT statement (``_insert_frame``)


def default_ledger_path() -> Path:
    """The platform's user data folder (``~/.local/share/jamsos/ledger.sqlite`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("jamsos", appauthor=False)) / "ledger.sqlite"


class SQLiteStore(SqlStore):
    """A ledger in one SQLite file. Until ``open``, only ``check`` and ``lock`` work."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.conn: sqlite3.Connection | None = None
        self.exists = self.path.exists()
        self.mode = 0o600
        self._new_id: str | None = None  # the id a ledger made by ``create`` will have

    # -- lifecycle -------------------------------------------------------------------

    def check(self) -> None:
        if self.path.exists():
            _open_checked(self.path, writable=False).close()

    @contextlib.contextmanager
    def lock(self, mode: int = 0o600, decree: str | None = None) -> Iterator[SQLiteStore]:
        """An ``flock`` on ``<ledger>.lock`` beside the file, whatever the decree (one file,
        one writer); a missing folder is made private first."""
        from jamsos_cli.locks import exclusive, ledger_lock_path, ledger_what
        from jamsos_cli.writing import private_folder

        private_folder(self.path.parent, mode)
        with exclusive(ledger_lock_path(self.path), ledger_what(self.path), mode=mode):
            yield self

    def open(self, *, write: bool, mode: int = 0o600) -> None:
        self.mode = mode
        self.exists = self.path.exists()
        if not self.exists:
            self.conn = _memory_with_schema()  # nothing stored until the first change
            self._new_id = self.ledger_id()
        elif write:
            self.conn = _open_checked(self.path, writable=True)
            with self._errors():
                _migrate(self.conn)
            self._remove_half_built()
        else:  # a private copy: reading and recovering it never touches the file
            src = _open_checked(self.path, writable=False)
            self.conn = sqlite3.connect(":memory:", isolation_level=None)
            with self._errors():
                src.backup(self.conn)
            src.close()
            with self._errors():
                _migrate(self.conn)

    def create(self) -> None:
        """Build the file through the one write path (``writing.atomic_path``): in a private
        temporary folder, renamed into place, so a killed run never leaves a half-made
        ledger."""
        if self.exists:
            return
        from jamsos_cli.writing import atomic_path

        try:
            with atomic_path(self.path, self.mode) as tmp:
                conn = sqlite3.connect(tmp, isolation_level=None)
                conn.execute("PRAGMA journal_mode = DELETE")
                _migrate(conn, ledger_id=self._new_id)
                conn.close()
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError("error.ledger.create", path=self.path, reason=exc) from None
        if self.conn is not None:
            self.conn.close()
        self.conn = _open_checked(self.path, writable=True)
        self.exists = True

    def backup(self, target: Path, mode: int = 0o600) -> None:
        """SQLite's online backup API in one step: the pages are copied inside one read
        transaction, so the copy is the ledger as of one commit, while readers go on; a
        writer's commit in progress is waited for (up to ``_BUSY_SECONDS``), never seen
        half-done. The copy is checked (``quick_check``) before it replaces ``target``."""
        from jamsos_cli.writing import atomic_path

        src = _open_checked(self.path, writable=False, timeout=_BUSY_SECONDS)
        try:
            with atomic_path(target, mode) as tmp:
                dst = sqlite3.connect(tmp, isolation_level=None)
                try:
                    src.backup(dst)
                    (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
                finally:
                    dst.close()
                if verdict != "ok":
                    raise LedgerError("error.ledger.damaged", path=self.path, reason=verdict)
        except sqlite3.Error as exc:
            raise LedgerError("error.backup.failed", path=self.path, reason=exc) from None
        finally:
            src.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _remove_half_built(self) -> None:
        """A killed first run's half-made ledger (``create``'s temporary folder): removed by
        the next writer, which holds the lock."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)

    # -- the dialect -----------------------------------------------------------------

    def _begin(self) -> None:
        self._run("BEGIN IMMEDIATE")

    def _insert_frame(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
        """Append ``frame``'s ``columns`` to ``table`` in its order, ``INSERT_ROWS`` rows per
        statement (``VALUES (...), (...)``), the values bound as parameters: SQLite's cost
        per statement run was a fifth of recording a million people one row at a time."""
        per = max(1, min(INSERT_ROWS, self.conn.getlimit(_VARIABLES) // max(len(columns), 1)))
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        row = f"({', '.join('?' * len(columns))})"
        full = head + ", ".join([row] * per)
        for part in frame.select(columns).iter_slices(per):
            text = full if part.height == per else head + ", ".join([row] * part.height)
            self.conn.execute(text, list(chain.from_iterable(part.rows())))

    def _columns(self, name: str) -> dict[str, pl.DataType]:
        with self._errors():
            rows = self._run(f"PRAGMA table_info({name})").fetchall()
        return {r[1]: pl.Int64 if "INT" in r[2].upper() else pl.Utf8 for r in rows}

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            full = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            key = "error.ledger.disk_full" if full else "error.ledger.unusable"
            raise LedgerError(key, path=self.path, reason=exc) from None


# --- opening and migrating ------------------------------------------------------------


def _memory_with_schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _migrate(conn)
    return conn


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path.resolve()))}?mode={mode}"


def _open_checked(path: Path, *, writable: bool, timeout: float = 5.0) -> sqlite3.Connection:
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
    if not magic:  # emptied (or made by `touch`): a ledger is created on purpose only
        raise LedgerError("error.ledger.empty", path=path)
    if magic != _SQLITE_MAGIC:
        raise LedgerError("error.ledger.not_sqlite", path=path)
    mode = "rw" if writable or os.access(path, os.W_OK) else "ro"
    try:
        conn = sqlite3.connect(_uri(path, mode), uri=True, isolation_level=None, timeout=timeout)
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
    if app_id != APPLICATION_ID or n_objects == 0:
        conn.close()
        raise LedgerError("error.ledger.foreign", path=path)
    if version > SCHEMA_VERSION:
        conn.close()
        raise LedgerError("error.ledger.newer", path=path, version=version, known=SCHEMA_VERSION)
    conn.execute("PRAGMA foreign_keys = ON")
    if writable:
        conn.execute("PRAGMA synchronous = FULL")
        # a purge's removed NIKs, names and phones are overwritten with zeros in the file, not
        # left in free space: an explicit ON, as SQLite builds differ in their default
        conn.execute("PRAGMA secure_delete = ON")
    return conn


def _migrate(conn: sqlite3.Connection, ledger_id: str | None = None) -> None:
    """Bring the schema to ``SCHEMA_VERSION``, one version per transaction; the step that
    makes the ``meta`` table also gives the ledger its id (``ledger_id``, else a new UUID)."""
    from jamsos_cli import __version__

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            if gives_id(MIGRATIONS[version]):
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('ledger_id', ?)",
                    (ledger_id or str(uuid.uuid4()),),
                )
            version += 1
            conn.execute(
                "INSERT INTO schema_version (version, applied_at, tool_version) VALUES (?, ?, ?)",
                (version, now(), __version__),
            )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back itself
                conn.execute("ROLLBACK")
            raise
