"""The ledger's schema for every store: one list of steps, version i → i + 1.

Each step is written once in SQL both SQLite and PostgreSQL speak (``both``), or once per
dialect where they differ (``Step(sqlite=..., postgresql=...)``), so the two stores always
share the version numbers: a ledger copied from one to the other keeps its version, and a
new step is added here, once, for both. Words that mean the same in both: ``TEXT``,
``BIGINT`` (SQLite stores any integer; money and counts outgrow PostgreSQL's 4-byte
``INTEGER``), ``CHECK``, ``REFERENCES ... ON DELETE CASCADE``, ``CREATE INDEX``. What differs
(the dialect's own lines):

- SQLite's ``INTEGER PRIMARY KEY`` is its rowid; PostgreSQL says ``BIGINT PRIMARY KEY``.
- Storage order: SQLite appends people in rowid order; PostgreSQL keeps each person's place
  in its batch explicitly (``people.pos``) and orders by ``(batch_id, pos)``.
- Batch ids: SQLite's writer takes the highest + 1 under its lock; PostgreSQL's runs (one
  per decree at a time) take theirs from the ``batch_ids`` sequence.
- NIKs compare byte by byte: SQLite always does; PostgreSQL's NIK columns are ``COLLATE "C"``
  (the ``nik_a < nik_b`` check and the NIK index then agree with Polars' order).
- The rule "one NIK is never covered twice in the same month" is the database's own only in
  PostgreSQL (``NO_DOUBLE_COVERAGE``), where many offices write at once; an SQLite ledger has
  one writer at a time (its lock) and the checks in Polars before it.

SQLite's first three steps are its history (ledgers in the field were made by them);
PostgreSQL ledgers began at version 3, so its first two steps are empty and its third makes
the whole version-3 schema.
"""

from __future__ import annotations

from dataclasses import dataclass

SQLITE, POSTGRESQL = "sqlite", "postgresql"
DIALECTS = (SQLITE, POSTGRESQL)


@dataclass(frozen=True)
class Step:
    """One schema version's statements, per dialect."""

    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return getattr(self, dialect)


def both(*statements: str) -> Step:
    """A step whose SQL is the same in every dialect."""
    return Step(sqlite=statements, postgresql=statements)


_DECISIONS = """CREATE TABLE decisions (
            nik_a TEXT{nik} NOT NULL,
            nik_b TEXT{nik} NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('same', 'different')),
            source TEXT,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (nik_a, nik_b),
            CHECK (nik_a < nik_b))"""

_SCHEMA_VERSION = """CREATE TABLE schema_version (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL,
            tool_version TEXT NOT NULL)"""


def _batch_tables(key: str) -> tuple[str, str]:
    """``batches`` and ``batch_inputs``; ``key``: the type of ids, money and counts
    (SQLite's INTEGER is 8 bytes; PostgreSQL's, 4: it says BIGINT)."""
    return (
        f"""CREATE TABLE batches (
            id {key} PRIMARY KEY,
            decree TEXT NOT NULL,
            start_month INTEGER NOT NULL,
            end_month INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            folder TEXT NOT NULL,
            participants {key} NOT NULL,
            premium_per_person_month {key} NOT NULL,
            total_premium {key} NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('committing', 'done', 'voided')),
            manifest_sha256 TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            voided_at TEXT,
            UNIQUE (decree, start_month, end_month, seq))""",
        f"""CREATE TABLE batch_inputs (
            batch_id {key} NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            rows {key} NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (batch_id, position))""",
    )


_CHANGES = """CREATE TABLE changes (
            id {id},
            at TEXT NOT NULL,
            os_user TEXT NOT NULL,
            command TEXT NOT NULL,
            input_name TEXT,
            input_sha256 TEXT,
            summary TEXT)"""
_PERSON_EVENTS = """CREATE TABLE person_events (
            id {id},
            change_id {key} NOT NULL REFERENCES changes (id),
            nik TEXT{nik} NOT NULL,
            batch_id {key} REFERENCES batches (id),
            kind TEXT NOT NULL CHECK (kind IN ('withdrawn')),
            reason TEXT)"""


def _life_tables(*, key: str, ids: str, nik: str) -> tuple[str, ...]:
    """Schema version 5's new tables; ``key``, ``ids``, ``nik``: the dialect's words."""
    return (
        # the population registry's matching: the NIK, the result and its date only (the
        # file's name and sha256 are its change's); never the personal data the file returns
        f"""CREATE TABLE dukcapil (
            id {ids},
            change_id {key} NOT NULL REFERENCES changes (id),
            nik TEXT{nik} NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('padan', 'tidak_padan',
                'tidak_ditemukan', 'ganda', 'meninggal', 'beda_nama')),
            result_date TEXT NOT NULL)""",
        # per build-batch run (a change) and input file: its rows and its findings by code,
        # runs that submit nobody included (who sends the rosters with the most rejects)
        f"""CREATE TABLE run_inputs (
            change_id {key} NOT NULL REFERENCES changes (id),
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            rows {key} NOT NULL,
            accepted {key} NOT NULL,
            rejected {key} NOT NULL,
            PRIMARY KEY (change_id, position))""",
        f"""CREATE TABLE run_findings (
            change_id {key} NOT NULL REFERENCES changes (id),
            input_name TEXT NOT NULL,
            code TEXT NOT NULL,
            n {key} NOT NULL,
            n_first {key} NOT NULL,
            PRIMARY KEY (change_id, input_name, code))""",
    )


def _batch_premiums(key: str) -> str:
    return f"""CREATE TABLE batch_premiums (
            batch_id {key} NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
            program TEXT NOT NULL CHECK (program IN ('JKK', 'JKM', 'JHT')),
            per_person_month {key} NOT NULL CHECK (per_person_month >= 0),
            PRIMARY KEY (batch_id, program))"""


# PostgreSQL's advisory lock that serialises the overlap check of concurrent writers (two
# ints: JMSO, 2). The ledger's other advisory locks are postgresql.py's.
OVERLAP_LOCK = (0x4A4D534F, 2)


# The people of live batches (committing or done) never hold one NIK twice in overlapping
# months, whatever the decree: ALREADY_ENROLLED (another decree) and ALREADY_SUBMITTED (the
# same) keep it so before a batch is recorded; in PostgreSQL the database refuses it too.
# A statement-level trigger checks the rows a statement added (its transition table) against
# the NIK index, after taking a transaction advisory lock, so two writers' checks never run
# at once and each sees what the other committed (READ COMMITTED: a new snapshot per
# statement). Measured alternatives: an exclusion constraint (GiST over NIK and an int4range
# of months, btree_gist) costs 4-6x the NIK index per million people and grows with the
# ledger; a unique key over (nik, month) rows writes 7-12 index entries per person.
def _no_double_coverage(*, version: int) -> str:
    """The trigger function as of schema ``version``: from 4, a person withdrawn from a batch
    (``person_events``) is not covered by it; from 5, nor one BPJS refused in it, nor one
    whose coverage ended by the first month of the other batch. (Never stricter than the
    checks, ``status.covering``: a refusal or an end taken back is not looked at.)"""
    kinds = "'withdrawn', 'refused'" if version >= 5 else "'withdrawn'"
    # ended from a month: covered before it only, so two batches clash only in months of
    # their overlap before it
    ended = (
        " OR (e.kind = 'ended' AND e.from_month <= GREATEST(nb.start_month, pb.start_month))"
        if version >= 5
        else ""
    )
    freed = (
        "\n                    AND NOT EXISTS (SELECT 1 FROM person_events e"
        " WHERE e.nik = {who}.nik"
        f" AND ((e.kind IN ({kinds}) AND e.batch_id = {{who}}.batch_id){ended}))"
        if version >= 4
        else ""
    )
    not_p, not_n = freed.format(who="p"), freed.format(who="n")
    return f"""CREATE FUNCTION jamsos_no_double_coverage() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            clash record;
        BEGIN
            IF TG_TABLE_NAME = 'batches' THEN
                IF NOT EXISTS (
                    SELECT 1 FROM added nb JOIN removed ob ON ob.id = nb.id
                    WHERE nb.status <> 'voided' AND (ob.status = 'voided'
                        OR ob.start_month <> nb.start_month OR ob.end_month <> nb.end_month)
                ) THEN
                    RETURN NULL;  -- no batch became live or changed its months
                END IF;
            END IF;
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'jamsos ledger: people are recorded in READ COMMITTED'
                    ' transactions only (the double-coverage check needs their snapshots)';
            END IF;
            PERFORM pg_advisory_xact_lock({OVERLAP_LOCK[0]}, {OVERLAP_LOCK[1]});
            IF TG_TABLE_NAME = 'people' THEN
                SELECT n.batch_id AS batch, p.batch_id AS other INTO clash
                FROM added n
                JOIN batches nb ON nb.id = n.batch_id AND nb.status <> 'voided'
                JOIN people p ON p.nik = n.nik
                    AND NOT (p.batch_id = n.batch_id AND p.pos = n.pos)
                JOIN batches pb ON pb.id = p.batch_id AND pb.status <> 'voided'
                    AND pb.start_month <= nb.end_month AND pb.end_month >= nb.start_month{not_p}
                LIMIT 1;
            ELSE
                SELECT n.batch_id AS batch, p.batch_id AS other INTO clash
                FROM added nb
                JOIN removed ob ON ob.id = nb.id
                JOIN people n ON n.batch_id = nb.id
                JOIN people p ON p.nik = n.nik AND p.batch_id <> n.batch_id
                JOIN batches pb ON pb.id = p.batch_id AND pb.status <> 'voided'
                    AND pb.start_month <= nb.end_month AND pb.end_month >= nb.start_month
                    {not_n}{not_p}
                WHERE nb.status <> 'voided' AND (ob.status = 'voided'
                    OR ob.start_month <> nb.start_month OR ob.end_month <> nb.end_month)
                LIMIT 1;
            END IF;
            IF FOUND THEN  -- batch ids only: a NIK must not reach the server's log
                RAISE EXCEPTION USING
                    ERRCODE = 'exclusion_violation',
                    CONSTRAINT = 'no_double_coverage',
                    MESSAGE = format('jamsos ledger: batch %s covers a person batch %s'
                        ' already covers in overlapping months', clash.batch, clash.other);
            END IF;
            RETURN NULL;
        END $$"""


NO_DOUBLE_COVERAGE = (
    _no_double_coverage(version=3),
    """CREATE TRIGGER people_no_double_coverage AFTER INSERT ON people
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION jamsos_no_double_coverage()""",
    """CREATE TRIGGER batches_no_double_coverage AFTER UPDATE ON batches
        REFERENCING OLD TABLE AS removed NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION jamsos_no_double_coverage()""",
)

STEPS: list[Step] = [
    Step(
        sqlite=(
            _SCHEMA_VERSION,
            *_batch_tables("INTEGER"),
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
        ),
        postgresql=(),
    ),
    # near-duplicate pairs a clerk reviewed (jamsos dedupe --decisions), keyed by the NIK pair
    # in sorted order: they hold for every later run on this ledger
    Step(sqlite=(_DECISIONS.format(nik=""),), postgresql=()),
    Step(
        # people without the (batch_id, nik) key and the NIK index: no query looks a person
        # up (the checks read whole batches and join in Polars), and keeping two B-trees on
        # NIK text in roster order made recording a million people cost ~10 s of random
        # page writes; appended in roster order the rows cost a third of that. A batch's NIKs
        # are unique before it is recorded (``record_batch`` refuses otherwise). Rows are
        # copied in their order (rowid): readers order a batch's people by rowid.
        sqlite=(
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
        ),
        # the version-3 schema at once; people keep their place in the batch (pos) and an
        # index on NIK, which the double-coverage check reads
        postgresql=(
            _SCHEMA_VERSION,
            *_batch_tables("BIGINT"),
            """CREATE TABLE people (
            batch_id BIGINT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
            pos INTEGER NOT NULL,
            nik TEXT COLLATE "C" NOT NULL,
            name TEXT,
            birth_date TEXT,
            sex TEXT,
            phone TEXT,
            kelurahan TEXT,
            kelurahan_code TEXT,
            source TEXT,
            PRIMARY KEY (batch_id, pos))""",
            "CREATE INDEX people_nik ON people (nik)",
            "CREATE INDEX batches_period ON batches (status, start_month, end_month)",
            # batch ids for runs of several decrees at once (each takes its own)
            "CREATE SEQUENCE batch_ids OWNED BY batches.id",
            _DECISIONS.format(nik=' COLLATE "C"'),
            *NO_DOUBLE_COVERAGE,
        ),
    ),
    Step(
        sqlite=(
            # the ledger's identity (``ledger_id``, a UUID given by the store's migration,
            # ``gives_id``): every batch manifest carries it, so an output folder is never
            # shared by two ledgers
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            # a batch sent to BPJS (``jamsos ledger mark-uploaded``) can no longer be voided
            "ALTER TABLE batches ADD COLUMN uploaded_at TEXT",
            # every change (``jamsos ledger log``): when, the OS user, the command, its input
            _CHANGES.format(id="INTEGER PRIMARY KEY"),
            # what happened to a person of a batch after it was written (withdrawn...)
            _PERSON_EVENTS.format(id="INTEGER PRIMARY KEY", key="INTEGER", nik=""),
            "CREATE INDEX person_events_nik ON person_events (nik)",
        ),
        # ids from identity sequences (offices write at once); a withdrawn person no longer
        # counts in the double-coverage rule
        postgresql=(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "ALTER TABLE batches ADD COLUMN uploaded_at TEXT",
            _CHANGES.format(id="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
            _PERSON_EVENTS.format(
                id="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                key="BIGINT",
                nik=' COLLATE "C"',
            ),
            "CREATE INDEX person_events_nik ON person_events (nik)",
            _no_double_coverage(version=4).replace("CREATE", "CREATE OR REPLACE", 1),
        ),
    ),
    Step(
        # issue 13: the programme's life after the batch (SPEC §10). What happened to a
        # person after their batch was written (store.EVENT_KINDS): BPJS's answer, an end, a
        # reopening; the status of each person per period is the fold of these (status.py),
        # never an update in place. SQLite cannot widen a CHECK: the table is rebuilt, its
        # rows (withdrawals) copied in order.
        sqlite=(
            """CREATE TABLE person_events_v5 (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes (id),
            nik TEXT NOT NULL,
            batch_id INTEGER REFERENCES batches (id),
            kind TEXT NOT NULL
                CHECK (kind IN ('active', 'refused', 'withdrawn', 'ended', 'reopened')),
            reason TEXT,
            kpj TEXT,
            coverage_start TEXT,
            from_month INTEGER)""",
            """INSERT INTO person_events_v5 (id, change_id, nik, batch_id, kind, reason)
            SELECT id, change_id, nik, batch_id, kind, reason FROM person_events ORDER BY id""",
            "DROP TABLE person_events",
            "ALTER TABLE person_events_v5 RENAME TO person_events",
            "CREATE INDEX person_events_nik ON person_events (nik)",
            *_life_tables(key="INTEGER", ids="INTEGER PRIMARY KEY", nik=""),
        ),
        # the CHECK widened in place; a person BPJS refused, or whose coverage ended, no
        # longer counts in the double-coverage rule
        postgresql=(
            "ALTER TABLE person_events DROP CONSTRAINT person_events_kind_check",
            """ALTER TABLE person_events ADD CONSTRAINT person_events_kind_check
                CHECK (kind IN ('active', 'refused', 'withdrawn', 'ended', 'reopened'))""",
            "ALTER TABLE person_events ADD COLUMN kpj TEXT",
            "ALTER TABLE person_events ADD COLUMN coverage_start TEXT",
            "ALTER TABLE person_events ADD COLUMN from_month INTEGER",
            *_life_tables(
                key="BIGINT",
                ids="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                nik=' COLLATE "C"',
            ),
            _no_double_coverage(version=5).replace("CREATE", "CREATE OR REPLACE", 1),
        ),
    ),
    # what one person-month of a batch costs per program (JKK, JKM, JHT) as its decree said
    # when the batch was written: the monthly bill (``jamsos ledger bill``) splits JKK and
    # JKM from these, and a decree changed later never rewrites an old bill. Batches
    # recorded before have no rows (the bill says so: their split is unknown). And the role
    # each person was submitted for, as the roster typed it (or --role): a renewal
    # (build-batch --renew) re-checks it and writes it in the new batch.
    Step(
        sqlite=(_batch_premiums("INTEGER"), "ALTER TABLE people ADD COLUMN role TEXT"),
        postgresql=(_batch_premiums("BIGINT"), "ALTER TABLE people ADD COLUMN role TEXT"),
    ),
]
SCHEMA_VERSION = len(STEPS)

# The tables a ledger's records live in, each after the ones it refers to (``ledger copy``
# moves them in this order; a new table goes here too), and the column of each that holds a
# batch id (renumbered when a ledger joins another in one database).
TABLES = ("batches", "batch_inputs", "people", "decisions", "changes", "person_events")
TABLES += ("dukcapil", "run_inputs", "run_findings", "batch_premiums")
# The ids a ledger's rows are numbered by, per table: each column holding one, and the table
# whose ``id`` it is. When a ledger joins another in one database they are renumbered after
# the target's own; ``OWN_KEY`` is the column that tells the rows copied from the target's.
ID_KEYS = {
    "batches": {"id": "batches"},
    "batch_inputs": {"batch_id": "batches"},
    "people": {"batch_id": "batches"},
    "changes": {"id": "changes"},
    "person_events": {"id": "person_events", "change_id": "changes", "batch_id": "batches"},
    "dukcapil": {"id": "dukcapil", "change_id": "changes"},
    "run_inputs": {"change_id": "changes"},
    "run_findings": {"change_id": "changes"},
    "batch_premiums": {"batch_id": "batches"},
}
OWN_KEY = {name: next(iter(keys)) for name, keys in ID_KEYS.items()}
# the tables whose ``id`` is a number of their own
NUMBERED = ("batches", "changes", "person_events", "dukcapil")


def gives_id(statements: list[str] | tuple[str, ...]) -> bool:
    """This step makes the ``meta`` table: the store's migration then records the ledger's
    id in it (a new UUID, or the one a ledger about to be made was shown with)."""
    return any(st.startswith("CREATE TABLE meta") for st in statements)


def migrations(dialect: str) -> list[list[str]]:
    """``migrations(d)[i]``: the statements that take a ``d`` ledger from version i to i + 1."""
    return [list(step.statements(dialect)) for step in STEPS]
