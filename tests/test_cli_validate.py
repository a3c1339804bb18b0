"""``jamsos validate`` end to end: real files in, the report a clerk or a cron job reads out."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from jamsos_cli.cli import app
from tests.rosters import make_nik, write_csv, write_xlsx

runner = CliRunner()

HEADERS = [
    "NO",
    "NIK",
    "NAMA LENGKAP",
    "TEMPAT LAHIR",
    "TGL LAHIR",
    "JK",
    "ALAMAT",
    "KELURAHAN",
    "KECAMATAN",
    "NO HP",
]
BUDI = make_nik("217110", 12, 5, 1980, female=False, serial=1)
SITI = make_nik("217111", 5, 6, 1985, female=True, serial=2)
ANDI = make_nik("217112", 1, 1, 1990, female=False, serial=3)
SHORT = "217110120580"
ROWS = [
    [
        "1",
        BUDI,
        "Budi Santoso",
        "Batam",
        "12-05-1980",
        "L",
        "Jl. Sudirman 1",
        "Sungai Panas",
        "Batam Kota",
        "0812-3456-7890",
    ],
    [
        "2",
        SITI,
        "Siti Aminah",
        "Tanjungpinang",
        "05/06/1985",
        "P",
        "Perum Griya",
        "Sei Lekop",
        "Sagulung",
        "+62 813 1111 2222",
    ],
    [
        "3",
        SHORT,
        "Réné Saputra",
        "Batam",
        "01.01.1990",
        "L",
        "Blok C",
        "Tembesi",
        "Sagulung",
        "081300001111",
    ],
    [
        "4",
        ANDI,
        "Andi Wijaya",
        "Medan",
        "02 Januari 1990",
        "L",
        "Blok D",
        "Buliang",
        "Batuaji",
        "12345",
    ],
    [
        "5",
        BUDI,
        "BUDI  SANTOSO",
        "Batam",
        "1980-05-12",
        "L",
        "Jl. Sudirman 1",
        "Sungai Panas",
        "Batam Kota",
        "081234567890",
    ],
]
TITLE = ["DAFTAR NAMA KETUA RT KELURAHAN SUNGAI PANAS;;;;;;;;;", ";;;;;;;;;"]
FOOTER = [["", "", "JUMLAH", "", "", "", "", "", "", "5 orang"]]


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "daftar_rt.csv", HEADERS, ROWS, title_rows=TITLE, footer_rows=FOOTER
    )


def run_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["validate", *args, "--format", "json"])
    assert result.stdout.strip().startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def issues_of(doc: dict, code: str) -> list[dict]:
    return [i for i in doc["issues"] if i["code"] == code]


def test_json_contract_counts_and_row_numbers(roster: Path) -> None:
    code, doc = run_json(str(roster))
    assert code == 1  # rows were rejected
    s = doc["summary"]
    assert s["rows"] == 5  # title, blank and JUMLAH footer rows are not people
    # rejected: row 3 (NIK too short) and row 4 (birth date differs from NIK), row 5 (dup)
    assert (s["accepted"], s["rejected"]) == (2, 3)
    assert s["by_code"]["NIK_FORMAT"] == 1
    assert s["by_code"]["NIK_DOB_MISMATCH"] == 1
    assert s["by_code"]["NIK_DUPLICATE"] == 1
    assert s["warnings"] >= 1  # the phone 12345
    for issue in doc["issues"]:
        assert set(issue) >= {
            "file",
            "sheet",
            "row",
            "column",
            "code",
            "severity",
            "message",
            "value",
        }
        assert issue["file"] == str(roster)
    # two title rows, header on line 3: the person numbered 3 is on line 6
    (fmt,) = issues_of(doc, "NIK_FORMAT")
    assert fmt["row"] == 6 and fmt["column"] == "NIK" and fmt["severity"] == "error"
    (dup,) = issues_of(doc, "NIK_DUPLICATE")
    assert dup["row"] == 8
    assert f"{roster}:4" in dup["message"]  # names the kept occurrence
    (phone,) = issues_of(doc, "PHONE_FORMAT")
    assert phone["severity"] == "warning" and phone["column"] == "NO HP"


def test_nik_and_phone_masked_unless_show_pii(roster: Path) -> None:
    result = runner.invoke(app, ["validate", str(roster), "--format", "json"])
    assert SHORT not in result.stdout and BUDI not in result.stdout
    assert "2171****0580" in result.stdout  # the short NIK, masked
    text = runner.invoke(app, ["validate", str(roster)])
    assert SHORT not in text.stdout and BUDI not in text.stdout
    shown = runner.invoke(app, ["validate", str(roster), "--format", "json", "--show-pii"])
    assert SHORT in shown.stdout


def test_messages_in_indonesian_by_default_and_english_on_request(roster: Path) -> None:
    _, doc = run_json(str(roster))
    (fmt,) = issues_of(doc, "NIK_FORMAT")
    assert "harus tepat 16 angka" in fmt["message"]
    _, doc = run_json(str(roster), "--lang", "en")
    (fmt,) = issues_of(doc, "NIK_FORMAT")
    assert "exactly 16 digits" in fmt["message"]


def test_rejects_file_gives_sender_their_rows_back(roster: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(roster.read_bytes()).hexdigest()
    out = tmp_path / "back" / "daftar_rt.rejects.csv"
    result = runner.invoke(app, ["validate", str(roster), "--rejects", str(out)])
    assert result.exit_code == 1
    assert hashlib.sha256(roster.read_bytes()).hexdigest() == before  # input untouched
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfBARIS;")  # a cp1252 roster: ; UTF-8 with a BOM back
    assert "Réné".encode() in raw  # the accents survive a spreadsheet opening it
    back = pl.read_csv(raw[3:], separator=";", infer_schema=False)
    assert back.columns[0] == "BARIS" and back.columns[-1] == "ALASAN PENOLAKAN"
    assert back.columns[1:-1] == HEADERS
    assert back.get_column("BARIS").to_list() == ["6", "7", "8"]
    assert back.row(0)[2] == SHORT  # real value, untouched, in a file meant to be used
    assert "NIK_FORMAT" in back.row(0)[-1]


def test_clean_roster_exits_zero(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ok.csv", HEADERS, ROWS[:2], encoding="utf-8", delimiter=",")
    code, doc = run_json(str(path))
    assert code == 0, doc["issues"]
    assert doc["summary"]["rejected"] == 0


def test_missing_required_column_is_exit_2_naming_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "nodob.csv", ["NIK", "NAMA"], [[BUDI, "Budi"]])
    good = write_csv(tmp_path / "ok.csv", HEADERS, ROWS[:1])
    code, doc = run_json(str(path), str(good))
    assert code == 2
    (missing,) = issues_of(doc, "HEADER_MISSING_COLUMN")
    assert missing["file"] == str(path) and missing["row"] is None or missing["row"] == 1
    assert "TANGGAL LAHIR" in missing["message"]
    # validate still reports every file
    assert {f["file"] for f in doc["summary"]["files"]} == {str(path), str(good)}


@pytest.mark.parametrize(
    "name, content",
    [("empty.csv", b""), ("binary.csv", b"\x00\x01\x02PK\x00"), ("fake.xlsx", b"NIK;NAMA\n1;2\n")],
)
def test_unusable_input_is_one_clear_line_exit_2(tmp_path: Path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert name in result.output


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "nope.csv" in result.output and "Traceback" not in result.output


def test_xlsx_numeric_nik_cells(tmp_path: Path) -> None:
    """Excel keeps 15 digits: a numeric NIK ending in 0 lost its 16th digit."""
    lost = make_nik("217110", 3, 3, 1973, female=False, serial=10)  # ends in 0
    rows = [
        [
            "1",
            BUDI,
            "Budi Santoso",
            "Batam",
            "12-05-1980",
            "L",
            "Jl. A",
            "Sungai Panas",
            "Batam Kota",
            "81234567890",
        ],
        [
            "2",
            lost,
            "Joko",
            "Batam",
            "03-03-1973",
            "L",
            "Jl. B",
            "Sungai Panas",
            "Batam Kota",
            "081299998888",
        ],
    ]
    path = write_xlsx(
        tmp_path / "rt.xlsx",
        HEADERS,
        rows,
        title_rows=["DAFTAR KETUA RT"],
        numeric_columns={"NIK", "NO HP"},
    )
    code, doc = run_json(str(path))
    assert code == 1
    (numeric,) = issues_of(doc, "NIK_NUMERIC_CELL")
    assert numeric["row"] == 4 and numeric["severity"] == "warning"  # title, blank, header
    (lost_issue,) = issues_of(doc, "NIK_PRECISION_LOST")
    assert lost_issue["row"] == 5
    assert not issues_of(doc, "PHONE_FORMAT")  # leading 0 given back to the numeric phone


def test_rejects_folder_keeps_same_named_inputs_apart(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    bad = [ROWS[2]]
    one = write_csv(tmp_path / "a" / "rt.csv", HEADERS, bad)
    two = write_csv(tmp_path / "b" / "rt.csv", HEADERS, bad)
    out = tmp_path / "rejects"
    result = runner.invoke(app, ["validate", str(one), str(two), "--rejects", str(out)])
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["02_rt.rejects.xlsx", "rt.rejects.xlsx"]


def test_validate_with_decree_applies_the_quota_in_input_order(tmp_path: Path) -> None:
    """Quota 2 from the config: the third eligible person is QUOTA_EXCEEDED, not the first."""
    config = tmp_path / "jamsos.toml"
    config.write_text('[quotas]\n"perwako-batam-49-2025" = 2\n', encoding="utf-8")
    headers = [*HEADERS, "JABATAN"]
    people = [
        [*ROWS[0], "Ketua RT"],
        [*ROWS[1], "Kader Posyandu"],
        [
            "3",
            make_nik("217112", 7, 7, 1977, female=False, serial=9),
            "Agus",
            "Batam",
            "07-07-1977",
            "L",
            "Blok E",
            "Buliang",
            "Batu Aji",
            "081377778888",
            "Ketua RW",
        ],
    ]
    path = write_csv(tmp_path / "rt.csv", headers, people)
    code, doc = run_json(
        str(path),
        "--decree",
        "perwako-batam-49-2025",
        "--as-of",
        "2025-06-01",
        "--config",
        str(config),
    )
    assert code == 1
    assert [(i["code"], i["row"]) for i in doc["issues"] if i["severity"] == "error"] == [
        ("QUOTA_EXCEEDED", 4)
    ]


def test_a_missing_file_does_not_hide_the_others(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "ok.csv", HEADERS, ROWS[:1])
    code, doc = run_json(str(tmp_path / "nope.csv"), str(good))
    assert code == 2
    (gone,) = issues_of(doc, "FILE_UNREADABLE")
    assert gone["file"].endswith("nope.csv") and gone["row"] is None
    assert [f["rows"] for f in doc["summary"]["files"]] == [0, 1]


def test_unknown_sheet_names_the_sheets_there(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "rt.xlsx", HEADERS, [ROWS[0]])
    code, doc = run_json(str(path), "--sheet", "Lembar9")
    assert code == 2
    (issue,) = issues_of(doc, "SHEET_NOT_FOUND")
    assert "Data" in issue["message"]


def test_unknown_city_in_config_is_exit_2_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "jamsos.toml"
    config.write_text('city = "99.99"\n', encoding="utf-8")
    path = write_csv(tmp_path / "ok.csv", HEADERS, ROWS[:1])
    result = runner.invoke(app, ["validate", str(path), "--config", str(config)])
    assert result.exit_code == 2
    assert "99.99" in result.output and "Traceback" not in result.output


def test_each_run_logs_only_to_its_own_log_file(roster: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    runner.invoke(app, ["validate", str(roster), "--log-file", str(first)])
    size = first.stat().st_size
    runner.invoke(app, ["validate", str(roster), "--log-file", str(second)])
    assert size > 0 and first.stat().st_size == size  # the second run did not write here
    assert "findings total" in second.read_text(encoding="utf-8")
    assert oct(second.stat().st_mode & 0o777) == "0o600"


def test_batches_do_not_change_the_report(roster: Path, tmp_path: Path, monkeypatch) -> None:
    """The row checks run in batches of BATCH_ROWS rows; duplicates, near-duplicates and
    the quota still see the whole run, so the report is the same with tiny batches."""
    from jamsos_cli import pipeline

    twice = write_csv(tmp_path / "again.csv", HEADERS, ROWS[:2] + ROWS[4:])
    args = [str(roster), str(twice), "--decree", "perwako-batam-49-2025", "--role", "Ketua RT"]
    args += ["--as-of", "2025-06-01"]
    code, whole = run_json(*args, "--show-pii", "--rejects", str(tmp_path / "r1"))
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    batched_code, batched = run_json(*args, "--show-pii", "--rejects", str(tmp_path / "r2"))

    assert batched_code == code == 1
    for doc in (whole, batched):
        doc["summary"].pop("rejects")  # the two folders
    assert batched == whole
    assert issues_of(whole, "NIK_DUPLICATE")  # found across files, so across batches
    written = sorted(p.name for p in (tmp_path / "r1").iterdir())
    assert len(written) == 2
    for name in written:
        assert (tmp_path / "r2" / name).read_bytes() == (tmp_path / "r1" / name).read_bytes()


def test_a_rejects_name_that_is_not_csv_or_xlsx_is_refused_before_the_run(
    roster: Path, tmp_path: Path, monkeypatch
) -> None:
    from jamsos_cli import pipeline

    def no_run(*args, **kwargs):
        raise AssertionError("the rosters were checked before the usage error")

    target = tmp_path / "kembali"  # no suffix, not a folder, one input
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "run_checks", no_run)
        result = runner.invoke(app, ["validate", str(roster), "--rejects", str(target)])

    assert result.exit_code == 2, result.output
    assert "beri nama berkas .csv atau .xlsx" in result.output
    assert not target.exists()
    # two inputs: the same name is a folder to create, one rejects file per input
    ok = runner.invoke(app, ["validate", str(roster), str(roster), "--rejects", str(target)])
    assert ok.exit_code == 1, ok.output
    assert target.is_dir()


def test_rejects_are_read_back_from_the_file_and_refused_if_it_changed(
    roster: Path, tmp_path: Path, monkeypatch
) -> None:
    """validate releases the rows as read while it checks (memory) and reads each file
    again to write its rejects: the same rows come back, unless the file changed."""
    from jamsos_cli import pipeline

    kept = tmp_path / "kept.csv"
    released = tmp_path / "released.csv"
    real_run = pipeline.run_checks

    def keeping_rows(rosters, options):
        options.keep_rows = True
        return real_run(rosters, options)

    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "run_checks", keeping_rows)
        assert runner.invoke(app, ["validate", str(roster), "--rejects", str(kept)]).exit_code == 1
    assert runner.invoke(app, ["validate", str(roster), "--rejects", str(released)]).exit_code == 1
    assert released.read_bytes() == kept.read_bytes()
    assert released.read_bytes().count(b"\n") > 2  # rejected rows were written

    def editing_during_the_run(rosters, options):
        result = real_run(rosters, options)
        with roster.open("ab") as fh:  # a clerk saves a correction meanwhile
            fh.write(b"6;3171010101900001;Baru;Batam;01-01-1990;L;x;y;z;0812\r\n")
        return result

    target = tmp_path / "after_edit.csv"
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "run_checks", editing_during_the_run)
        result = runner.invoke(app, ["validate", str(roster), "--rejects", str(target)])
    assert result.exit_code == 2, result.output
    assert "berkas berubah selama jamsos memeriksanya" in result.output
    assert not target.exists()
