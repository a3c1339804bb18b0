"""The ledger: every batch jamsos wrote, and who is in it, so nobody is paid for twice.

- ``period``: coverage periods (``Period``, month numbers), apart from storage;
- ``store``: the storage interface (``LedgerStore``, one ``transaction()``) and the SQL both
  SQLite and PostgreSQL speak (``SqlStore``);
- ``sqlite``: the embedded store (``SQLiteStore``, its ``MIGRATIONS``);
- ``book``: the rules, written against the interface (``Ledger``: record, recover, void,
  decisions, people of periods, stats; ``opened``, ``export_frame``).

Rendering (``jamsos ledger list`` / ``stats`` / ``export``) is ``render.ledger``'s.
"""

from jamsos_cli.ledger.book import (
    Ledger,
    check_file,
    export_frame,
    folder_basename,
    lock,
    opened,
    store_for,
)
from jamsos_cli.ledger.period import Period, month_index, month_label, month_label_expr
from jamsos_cli.ledger.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore, default_ledger_path
from jamsos_cli.ledger.store import (
    PEOPLE_SCHEMA,
    STATUS_COMMITTING,
    STATUS_DONE,
    STATUS_VOIDED,
    STATUSES,
    BatchRecord,
    LedgerError,
    LedgerStore,
)

__all__ = [
    "MIGRATIONS",
    "PEOPLE_SCHEMA",
    "SCHEMA_VERSION",
    "STATUSES",
    "STATUS_COMMITTING",
    "STATUS_DONE",
    "STATUS_VOIDED",
    "BatchRecord",
    "Ledger",
    "LedgerError",
    "LedgerStore",
    "Period",
    "SQLiteStore",
    "check_file",
    "default_ledger_path",
    "export_frame",
    "folder_basename",
    "lock",
    "month_index",
    "month_label",
    "month_label_expr",
    "opened",
    "store_for",
]
