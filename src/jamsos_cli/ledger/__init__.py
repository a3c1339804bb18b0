"""The ledger: every batch jamsos wrote, and who is in it, so nobody is paid for twice.

- ``period``: coverage periods (``Period``, month numbers), apart from storage;
- ``location``: where a ledger is — a file path or a ``postgresql://`` URL shown masked
  (``LedgerURL``, ``locate``);
- ``store``: the storage interface (``LedgerStore``, one ``transaction()``) and the SQL both
  SQLite and PostgreSQL speak (``SqlStore``, whose docstring lists what a dialect overrides);
- ``schema``: the tables, one list of versioned steps for both dialects;
- ``sqlite``: the embedded store (``SQLiteStore``, its ``MIGRATIONS``);
- ``postgresql``: the shared store (``PostgresStore``), imported only for a URL;
- ``book``: the rules, written against the interface (``Ledger``: record, recover, void,
  mark uploaded, withdraw, end, reopen, the record of replies and registry results,
  statuses per period (``status``: the fold of person events), decisions, people of
  periods, stats, the change log; ``opened``, ``export_frame``; ``change`` makes the log
  entry of a command).

Rendering (``jamsos ledger list`` / ``stats`` / ``export``) is ``render.ledger``'s.
"""

from jamsos_cli.ledger.book import (
    Ledger,
    LedgerView,
    RunRecord,
    change,
    check_file,
    exists,
    export_frame,
    folder_basename,
    lock,
    opened,
    os_user,
    store_for,
)
from jamsos_cli.ledger.location import LedgerURL, Location, is_url, locate
from jamsos_cli.ledger.period import Period, month_index, month_label, month_label_expr
from jamsos_cli.ledger.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore, default_ledger_path
from jamsos_cli.ledger.status import PERSON_STATUSES
from jamsos_cli.ledger.store import (
    END_REASONS,
    PEOPLE_SCHEMA,
    STATUS_COMMITTING,
    STATUS_DONE,
    STATUS_VOIDED,
    STATUSES,
    BatchRecord,
    Change,
    LedgerError,
    LedgerStore,
    RecordedMeanwhile,
)

__all__ = [
    "END_REASONS",
    "MIGRATIONS",
    "PERSON_STATUSES",
    "PEOPLE_SCHEMA",
    "SCHEMA_VERSION",
    "STATUSES",
    "STATUS_COMMITTING",
    "STATUS_DONE",
    "STATUS_VOIDED",
    "BatchRecord",
    "Change",
    "Ledger",
    "LedgerView",
    "RunRecord",
    "LedgerError",
    "LedgerStore",
    "LedgerURL",
    "Location",
    "Period",
    "RecordedMeanwhile",
    "SQLiteStore",
    "change",
    "check_file",
    "default_ledger_path",
    "exists",
    "export_frame",
    "folder_basename",
    "is_url",
    "locate",
    "lock",
    "month_index",
    "month_label",
    "month_label_expr",
    "opened",
    "os_user",
    "store_for",
]
