"""The ledger: created only when something is recorded (a file owner-only), refused when it is
not ours, migrated, recovered after a killed run, and read the way the checks need it — in
each store (the ``target`` fixture: an SQLite file and a PostgreSQL database)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger import (
    MIGRATIONS,
    SCHEMA_VERSION,
    BatchRecord,
    Ledger,
    LedgerError,
    Period,
    change,
    check_file,
    default_ledger_path,
    export_frame,
    month_index,
    opened,
)
from jamsos_cli.ledger.sqlite import APPLICATION_ID
from jamsos_cli.render.ledger import write_export
from jamsos_cli.texts import resolve
from jamsos_cli.writing import sha256_file
from tests.helpers import downgrade, ledger_rows, refused
from tests.ledgers import Target
from tests.rosters import nik, roster
from tests.test_build_batch import build

NIK_A = "2171101205800001"
NIK_B = "2171114506850002"


def people(*niks: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "nik": list(niks),
            "name": [f"Orang {i}" for i in range(len(niks))],
            "birth_date": ["1980-05-12"] * len(niks),
            "sex": ["L"] * len(niks),
            "phone": ["081234567890"] * len(niks),
            "kelurahan": ["Sungai Panas"] * len(niks),
            "kelurahan_code": ["21.71.10.1001"] * len(niks),
            "source": [f"rt.csv:{i + 2}" for i in range(len(niks))],
        }
    )


def record(
    ledger: Ledger,
    folder: Path,
    niks: tuple[str, ...],
    *,
    decree: str = "perwako-batam-49-2025",
    period: Period | None = None,
    publish: bool = True,
) -> int:
    """Record a batch the way build-batch does: manifest first, rows, then the folder."""
    period = period or Period.parse("2025-06", None)
    staged = folder.parent / f".{folder.name}.tmp-1"
    staged.mkdir(parents=True)
    (staged / "manifest.json").write_text(f'{{"decree": "{decree}"}}\n')
    batch_id = ledger.record_batch(
        BatchRecord(
            id=ledger.next_id(),
            decree=decree,
            period=period,
            seq=ledger.next_seq(decree, period),
            folder=folder,
            participants=len(niks),
            premium_per_person_month=16_800,
            total_premium=len(niks) * period.months * 16_800,
            manifest_sha256=sha256_file(staged / "manifest.json"),
            tool_version="test",
        ),
        people(*niks),
        [{"name": "rt.csv", "rows": len(niks), "sha256": "0" * 64}],
        change("test record"),
    )
    if publish:
        staged.rename(folder)
        ledger.mark_done(batch_id)
    return batch_id


def test_periods_default_to_december_and_refuse_end_before_start() -> None:
    p = Period.parse("2025-06", None)
    assert (p.start_label, p.end_label, p.months) == ("2025-06", "2025-12", 7)
    assert p.first_day.isoformat() == "2025-06-01" and p.last_day.isoformat() == "2025-12-31"
    assert Period.parse("2025-11", "2026-02").months == 4
    assert Period.parse("2024-02", "2024-02").last_day.isoformat() == "2024-02-29"
    with refused(UsageError, "before"):
        Period.parse("2025-06", "2025-05")
    for bad in ("2025-13", "2025-6", "June 2025", "2025-06-01"):
        with refused(UsageError, "YYYY-MM"):
            month_index(bad)


def test_missing_ledger_is_created_only_when_a_batch_is_recorded(
    tmp_path: Path, target: Target
) -> None:
    if target.sqlite:  # in a folder not made yet
        target.path = tmp_path / "data" / "ledger.sqlite"
        target.location = str(target.path)
    ledger = Ledger.open(target.location)
    assert ledger.people().height == 0 and ledger.batches() == [] and not target.exists()
    record(ledger, tmp_path / "out" / "b_001", (NIK_A,))
    ledger.close()
    assert target.exists()
    assert target.rows("SELECT MAX(version) FROM schema_version") == [(SCHEMA_VERSION,)]
    assert target.rows("SELECT status FROM batches") == [("done",)]
    if target.sqlite:
        path = target.path
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
        assert target.rows("PRAGMA application_id") == [(APPLICATION_ID,)]
        assert target.rows("PRAGMA user_version") == [(SCHEMA_VERSION,)]
    else:
        mark = "SELECT obj_description('schema_version'::regclass, 'pg_class')"
        assert target.rows(mark) == [("jamsos ledger",)]


def test_group_readable_ledger(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "ledger.sqlite"
    with Ledger.open(path, mode=0o640) as ledger:
        record(ledger, tmp_path / "out" / "b_001", (NIK_A,))
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o750"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"NIK;NAMA\n2171101205800001;Budi\n", "not a jamsos ledger"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "cannot be read"),
    ],
    ids=["text-file", "corrupt-sqlite"],
)
def test_corrupt_file_is_refused_and_left_untouched(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(content)
    before = path.stat().st_mtime_ns
    with refused(LedgerError, message) as err:
        Ledger.open(path)
    assert err.value.exit_code == 2
    with pytest.raises(LedgerError):
        Ledger.snapshot(path)
    assert path.read_bytes() == content and path.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite"]


def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    conn.execute("INSERT INTO customers VALUES (1, 'x')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with refused(LedgerError, "not a jamsos ledger"):
        check_file(path)
    with refused(LedgerError, "not a jamsos ledger"):
        Ledger.open(path)
    assert path.read_bytes() == before


def test_newer_schema_is_refused(tmp_path: Path, target: Target) -> None:
    with Ledger.open(target.location) as ledger:
        record(ledger, tmp_path / "out" / "b_001", (NIK_A,))
    if target.sqlite:
        target.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    else:
        target.execute(
            "INSERT INTO schema_version VALUES (?, '2030-01-01', 'later')", (SCHEMA_VERSION + 1,)
        )
    before = target.content()
    for use in (Ledger.open, Ledger.snapshot, check_file):
        with refused(LedgerError, "newer"):
            use(target.location)
    assert target.content() == before


def test_an_empty_file_is_not_a_ledger(tmp_path: Path) -> None:
    """A 0-byte file (a ledger emptied, or made by `touch`) is refused, never initialised:
    a ledger is created on purpose only (issue 11)."""
    path = tmp_path / "ledger.sqlite"
    path.touch()
    for opening in (check_file, Ledger.open, Ledger.snapshot):
        with refused(LedgerError, "0-byte file is not a ledger", key="error.ledger.empty"):
            opening(path)
    assert path.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == [
        "ledger.sqlite"
    ]


def test_overlap_queries_and_sequences(tmp_path: Path, target: Target) -> None:
    with Ledger.open(target.location) as ledger:
        h1, h2 = Period.parse("2025-01", "2025-06"), Period.parse("2025-07", None)
        record(ledger, tmp_path / "o" / "a_001", (NIK_A,), period=h1)
        record(ledger, tmp_path / "o" / "a_002", (NIK_B,), period=h1)
        record(
            ledger, tmp_path / "o" / "c_001", (NIK_B,), decree="perwako-batam-30-2025", period=h2
        )
        assert ledger.next_seq("perwako-batam-49-2025", h1) == 3
        assert ledger.next_seq("perwako-batam-49-2025", h2) == 1
        # May to August overlaps both halves; June only the first; July on only the second
        summer = ledger.people(Period.parse("2025-05", "2025-08"))
        assert summer.select("nik", "batch_id").rows() == [(NIK_A, 1), (NIK_B, 2), (NIK_B, 3)]
        june = ledger.people(Period.parse("2025-06", "2025-06"))
        assert june.get_column("nik").to_list() == [NIK_A, NIK_B]
        later = ledger.people(Period.parse("2025-07", None))
        assert later.select("nik", "decree").rows() == [(NIK_B, "perwako-batam-30-2025")]
        known = ledger.known()
        assert known.schema["birth_date"] == pl.Date
        assert known.get_column("ref").to_list()[0] == "ledger: a_001"


def test_void_releases_people_and_keeps_the_folder_name_unused(
    tmp_path: Path, target: Target
) -> None:
    path = target.location
    period = Period.parse("2025-06", None)
    with Ledger.open(path) as ledger:
        first = record(ledger, tmp_path / "o" / "x_001", (NIK_A,))
    with opened(path) as snapshot, pytest.raises(RuntimeError):
        snapshot.void("x_001", change("test void"))  # reading commands get a read-only snapshot
    with opened(path, write=True) as ledger:
        voided = ledger.void("x_001", change("test void"))
        assert voided["id"] == first and voided["status"] == "voided"
        assert ledger.people(period).height == 0
        assert ledger.next_seq("perwako-batam-49-2025", period) == 2  # never reuse x_001
        with refused(UsageError, "voided"):
            ledger.void(str(first), change("test void"))
        with refused(UsageError, "no batch"):
            ledger.void("999", change("test void"))
        assert [b["status"] for b in ledger.batches()] == ["voided"]
        assert ledger.stats() == []
        # a voided batch's people may be submitted again for the same months
        record(ledger, tmp_path / "o" / "x_002", (NIK_A,))
        assert ledger.people(period).select("batch_id", "nik").rows() == [(2, NIK_A)]


def test_recover_completes_a_published_batch_and_rolls_back_an_unpublished_one(
    tmp_path: Path, target: Target
) -> None:
    path = target.location
    with Ledger.open(path) as ledger:
        published = record(ledger, tmp_path / "o" / "p_001", (NIK_A,), publish=False)
        # the rename happened, then the process died before "done"
        (tmp_path / "o" / ".p_001.tmp-1").rename(tmp_path / "o" / "p_001")
        lost = record(ledger, tmp_path / "o" / "q_001", (NIK_B,), publish=False)
        # ...and this one died before the rename: only the hidden staging folder exists
    with Ledger.snapshot(path) as copy:
        notes = copy.recover()  # a dry run settles its private copy only
        assert len(notes) == 2
    assert target.rows("SELECT status FROM batches ORDER BY id") == [
        ("committing",),
        ("committing",),
    ]
    with Ledger.open(path) as ledger:
        notes = ledger.recover()
        notes = [resolve(note, "en") for note in notes]
        assert notes[0].startswith(f"completed interrupted batch {published}")
        assert notes[1].startswith(f"rolled back interrupted batch {lost}")
        assert [(b["id"], b["status"]) for b in ledger.batches()] == [(published, "done")]
        assert ledger.people().get_column("nik").to_list() == [NIK_A]
        assert ledger.recover() == []


def test_recover_does_not_adopt_someone_elses_folder(tmp_path: Path, target: Target) -> None:
    """A folder with the final name but another manifest is not this batch's."""
    with Ledger.open(target.location) as ledger:
        record(ledger, tmp_path / "o" / "r_001", (NIK_A,), publish=False)
        other = tmp_path / "o" / "r_001"
        other.mkdir()
        (other / "manifest.json").write_text('{"decree": "from another ledger"}\n')
        assert resolve(ledger.recover()[0], "en").startswith("rolled back")
        assert ledger.batches() == []


def test_export_is_owner_only_and_formula_safe(tmp_path: Path, target: Target) -> None:
    with Ledger.open(target.location) as ledger:
        record(ledger, tmp_path / "o" / "e_001", (NIK_A, NIK_B))
    target.execute("UPDATE people SET name = '=HYPERLINK(\"x\")' WHERE nik = ?", (NIK_B,))
    with opened(target.location) as ledger:
        frame = export_frame(ledger)
    target = write_export(frame, tmp_path / "export.csv", mode=0o600, lang="en")
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert target.read_bytes().startswith("\ufeffbatch_id;".encode())  # ';' UTF-8 + BOM
    back = pl.read_csv(target, separator=";", infer_schema=False)
    assert back.get_column("nik").to_list() == [NIK_A, NIK_B]
    assert back.get_column("name").to_list()[1].startswith("'=")
    assert (
        back.row(0, named=True)["start"] == "2025-06"
        and back.row(0, named=True)["end"] == "2025-12"
    )
    xlsx = write_export(frame, tmp_path / "export.xlsx", mode=0o600, lang="id")
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    assert ws["G2"].value == NIK_A and ws["G2"].number_format == "@"
    # Indonesian by default: the headers and the status words a clerk reads
    assert [c.value for c in ws[1]][:7] == [
        "ID_BATCH", "FOLDER", "KEPUTUSAN", "MULAI", "SELESAI", "STATUS", "NIK"
    ]  # fmt: skip
    assert ws["F2"].value == "selesai"
    with pytest.raises(UsageError):
        write_export(frame, tmp_path / "export.txt", mode=0o600, lang="id")


def test_default_path_is_in_the_user_data_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_ledger_path() == tmp_path / "xdg" / "jamsos" / "ledger.sqlite"


def test_dry_run_snapshot_never_creates_a_ledger(tmp_path: Path, target: Target) -> None:
    if target.sqlite:
        target.path = tmp_path / "nothing" / "ledger.sqlite"
        target.location = str(target.path)
    with Ledger.snapshot(target.location) as ledger:
        assert ledger.people().height == 0 and ledger.decisions().height == 0
        assert ledger.recover() == [] and ledger.next_id() == 1
        with pytest.raises(RuntimeError):
            ledger.mark_done(1)
    assert not target.exists()
    assert not os.listdir(tmp_path)


def downgrade_to_schema_2(path: Path) -> None:
    """Give a ledger the people table schema 2 had (keyed by batch and NIK, plus a NIK
    index: ``MIGRATIONS[0]`` creates it), its rows kept in their order, and none of the
    tables and columns later versions added."""
    old_people = next(s for s in MIGRATIONS[0] if s.startswith("CREATE TABLE people"))
    downgrade(path, 3)
    conn = sqlite3.connect(path)
    conn.executescript(
        "ALTER TABLE people RENAME TO people_now;"
        f"{old_people}; CREATE INDEX people_nik ON people (nik);"
        "INSERT INTO people SELECT * FROM people_now ORDER BY rowid; DROP TABLE people_now;"
        "DELETE FROM schema_version WHERE version > 2; PRAGMA user_version = 2;"
    )
    conn.close()


def test_schema_2_ledger_keeps_its_people_and_still_refuses_them(tmp_path: Path) -> None:
    """A ledger written before the people key went is migrated on first use: nobody in it is
    submitted again, a new person is, and every batch keeps its people in roster order."""
    path = tmp_path / "ledger.sqlite"
    june, july = roster(tmp_path / "rt.csv", range(3)), roster(tmp_path / "rt_juli.csv", range(4))
    assert build(tmp_path, june)[0] == 0
    downgrade_to_schema_2(path)
    raw = sqlite3.connect(path)
    indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'people'"
    assert len(raw.execute(indexes).fetchall()) == 2  # the key and people_nik
    raw.close()

    code, doc = build(tmp_path, july)
    assert code == 0
    assert doc["summary"]["already_submitted"] == 3 and doc["batch"]["participants"] == 1
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute(indexes).fetchall() == []
    raw.close()
    assert ledger_rows(path) == [(1, "done", nik(i)) for i in range(3)] + [(2, "done", nik(3))]
    with opened(path) as ledger:  # identity fields kept with each person
        assert ledger.people().select("nik", "source").rows() == [
            (nik(0), f"{june}:4"),
            (nik(1), f"{june}:5"),
            (nik(2), f"{june}:6"),
            (nik(3), f"{july}:7"),
        ]


def test_people_come_back_in_batch_then_roster_order_with_the_columns_asked(
    tmp_path: Path, target: Target
) -> None:
    """Readers get each batch's people in roster order, batches in order, a voided batch
    included when asked, even when the rows are not stored in batch order."""
    path = target.location
    nik_c, nik_d, nik_e = "2171101205800003", "2171101205800004", "2171101205800005"
    with Ledger.open(path) as ledger:
        record(ledger, tmp_path / "o" / "x_001", (NIK_B, NIK_A))
    with opened(path, write=True) as ledger:
        ledger.void("x_001", change("test void"))
        record(ledger, tmp_path / "o" / "x_002", (NIK_A, nik_c, NIK_B))
        record(ledger, tmp_path / "o" / "y_001", (nik_e, nik_d), decree="perwako-batam-30-2025")
    # batch 3's rows stored before everyone else's
    if target.sqlite:
        target.execute("UPDATE people SET rowid = rowid - 100 WHERE batch_id = 3")
    else:
        target.execute(
            "CREATE TEMP TABLE moved AS SELECT * FROM people ORDER BY batch_id DESC, pos DESC;"
            " DELETE FROM people; INSERT INTO people SELECT * FROM moved"
        )
        stored = target.rows("SELECT batch_id, nik FROM people")  # as the table scan finds them
        assert stored[:2] == [(3, nik_d), (3, nik_e)]
    with opened(path) as ledger:
        live = ledger.people()
        assert live.select("batch_id", "nik").rows() == [
            (2, NIK_A),
            (2, nik_c),
            (2, NIK_B),
            (3, nik_e),
            (3, nik_d),
        ]
        assert live.get_column("source").to_list() == [f"rt.csv:{i}" for i in (2, 3, 4, 2, 3)]
        few = ledger.people(Period.parse("2025-06", "2025-06"), columns=("nik", "decree"))
        assert few.schema == pl.Schema({"nik": pl.Utf8, "decree": pl.Utf8})
        assert few.equals(live.select("nik", "decree"))
        everyone = export_frame(ledger, include_voided=True)
        assert everyone.select("folder", "status", "nik").rows()[:3] == [
            ("x_001", "voided", NIK_B),
            ("x_001", "voided", NIK_A),
            ("x_002", "done", NIK_A),
        ]
        assert ledger.known().get_column("ref").to_list()[-1] == "ledger: y_001"
        assert ledger.people(Period.parse("2024-01", "2024-12"), columns=("nik",)).height == 0
        with pytest.raises(ValueError, match="kecamatan"):
            ledger.people(columns=("nik", "kecamatan"))
