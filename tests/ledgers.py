"""The ledger under test, in either store: the ``ledger`` fixture (conftest.py) gives a
``Target`` — an SQLite file or a fresh PostgreSQL database — and the ledger tests run
against both.

A ``Target`` is read and changed *raw* (``rows``, ``execute``: sqlite3 or psycopg, no jamsos
in between), so a test sees the ledger as stored, not as jamsos settles it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

KINDS = ("sqlite", "postgresql")


@dataclass
class Target:
    kind: str
    location: str  # what --ledger gets: a path, or a postgresql:// URL with its password
    path: Path | None = None  # the SQLite file
    server: object | None = None  # tests.postgres.Server
    database: str | None = None

    @property
    def sqlite(self) -> bool:
        return self.kind == "sqlite"

    @property
    def order(self) -> str:
        """A batch's people in the order they were recorded, as raw SQL says it."""
        return "p.rowid" if self.sqlite else "p.pos"

    def _connect(self):
        if self.sqlite:
            return sqlite3.connect(self.path)
        import psycopg

        return psycopg.connect(self.location, autocommit=True)

    def _execute(self, conn, sql: str, params: tuple):
        if self.sqlite:
            return conn.executescript(sql) if ";" in sql else conn.execute(sql, params)
        return conn.execute(sql.replace("?", "%s"), params or None)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """A raw query (``?`` placeholders in both); [] when there is no ledger yet."""
        if not self.exists():
            return []
        conn = self._connect()
        try:
            return [tuple(r) for r in self._execute(conn, sql, params).fetchall()]
        finally:
            conn.close()

    def execute(self, sql: str, params: tuple = ()) -> None:
        """A raw change, committed."""
        conn = self._connect()
        try:
            self._execute(conn, sql, params)
            if self.sqlite:
                conn.commit()
        finally:
            conn.close()

    def exists(self) -> bool:
        """A ledger is stored there (a file; a database holding the ledger's tables)."""
        if self.sqlite:
            return self.path.exists()
        import psycopg

        with psycopg.connect(self.location, autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass('schema_version')").fetchone()[0]
        return found is not None

    def content(self) -> object:
        """Everything stored, to compare before and after (a file's bytes; every table's
        rows, and the schema, of a database)."""
        if self.sqlite:
            return self.path.read_bytes() if self.path.exists() else None
        if not self.exists():
            return None
        tables = [r[0] for r in self.rows("SELECT tablename FROM pg_tables"
                                          " WHERE schemaname = current_schema()"
                                          " ORDER BY tablename")]  # fmt: skip
        return {t: sorted(map(repr, self.rows(f"SELECT * FROM {t}"))) for t in tables}

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the server has ended the sessions of jamsos processes that were
        killed (their transactions rolled back, their locks released): a file needs none."""
        if self.sqlite:
            return
        import time

        import psycopg

        deadline = time.monotonic() + timeout
        with psycopg.connect(self.location, autocommit=True) as conn:
            while conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'jamsos' AND datname = current_database()"
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "a killed run's session is still there"
                time.sleep(0.02)

    def batches(self) -> list[tuple]:
        """(id, status, people) per batch, as stored."""
        return self.rows(
            "SELECT b.id, b.status, COUNT(p.nik) FROM batches b"
            " LEFT JOIN people p ON p.batch_id = b.id GROUP BY b.id, b.status ORDER BY b.id"
        )

    def people(self) -> list[tuple]:
        """(batch id, status, NIK) of everyone, in batch then recorded order, as stored."""
        return self.rows(
            "SELECT b.id, b.status, p.nik FROM batches b JOIN people p ON p.batch_id = b.id"
            f" ORDER BY b.id, {self.order}"
        )
