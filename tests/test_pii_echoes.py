"""Personal data in echoes (issue 20): NIKs and phones are masked by their shape in
everything jamsos prints or logs, not only in the NIK and phone columns — a roster file
named by a NIK, a NIK in a header cell, NIKs typed with spaces, dots or dashes, a phone in an
odd cell — and control characters in a file name never reach a terminal or a log raw. The
files meant to be used (the batch, the rejects) keep the real values.

Each run is the installed command, as cron runs it; stdout, stderr, the log file and the JSON
document are searched for every form the values could take."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jamsos_cli.render.mask import PII_PATTERNS, escape_controls, mask_pii_expr, mask_text
from tests.helpers import JAMSOS
from tests.rosters import HEADERS, RT, person, write_csv

NAMED_NIK = "2171031203900001"  # the NIK a sender named the file by
HEADER_NIK = "2171034507850002"  # pasted into a header cell
SPACED = "2171 0312 0390 0003"
DOTTED = "21.71.03.120390.0004"
DASHED = "2171-0312-0390-0005"
ODD_PHONE = "0813-7766-5544"  # in the birth-date cell
ANSI_NAME = "kel \x1b[31mmerah\x1b[0m\nbaru.csv"


def clear_forms() -> list[str]:
    """Every value as it could show up in clear: as typed, and its bare digits."""
    typed = [NAMED_NIK, HEADER_NIK, SPACED, DOTTED, DASHED, ODD_PHONE]
    return typed + [re.sub(r"\D", "", t) for t in typed]


def hostile_rosters(folder: Path) -> list[Path]:
    """A roster named by a NIK (its header holds another NIK, its rows NIKs typed with
    separators and a phone where the birth date goes), and one whose name holds an ANSI
    escape and a line break."""
    folder.mkdir()
    headers = [*HEADERS, f"KET {HEADER_NIK}"]
    rows = [[*person(i), ""] for i in range(5)]
    nik, born = HEADERS.index("NIK"), HEADERS.index("TGL LAHIR")
    rows[1][born] = SPACED  # a NIK where the birth date goes: quoted by the finding
    rows[2][born] = DOTTED
    rows[3][nik] = DASHED
    rows[4][born] = ODD_PHONE
    named = write_csv(folder / f"{NAMED_NIK}.csv", headers, rows)
    ansi = write_csv(folder / ANSI_NAME, HEADERS, [person(7)])
    return [Path(folder.name) / named.name, Path(folder.name) / ansi.name]  # as typed in it


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [JAMSOS, *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=300
    )


def assert_no_pii(where: str, text: str) -> None:
    found = [form for form in clear_forms() if form in text]
    assert not found, f"{where}: {found} in clear"
    assert "\x1b" not in text, f"{where}: a raw ANSI escape"
    assert "merah\x1b" not in text and "m\nbaru" not in text, f"{where}: a raw file name"


@pytest.mark.parametrize("command", ["validate", "build-batch"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_pii_and_no_control_character_in_any_echo(
    tmp_path: Path, command: str, fmt: str
) -> None:
    inputs = hostile_rosters(tmp_path / "in")
    log = tmp_path / "run.log"
    args = [command, *map(str, inputs), "--format", fmt, "--log-file", str(log)]
    if command == "build-batch":
        args += ["--decree", RT, "--start", "2025-06", "--out", str(tmp_path / "out")]
        args += ["--ledger", str(tmp_path / "ledger.sqlite"), "--new-ledger"]
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # rows rejected, run finished
    assert_no_pii("stdout", done.stdout)
    assert_no_pii("stderr", done.stderr)
    assert_no_pii("log", log.read_text(encoding="utf-8"))
    shown = done.stdout + done.stderr
    assert "2171********0001" in shown  # the file's name is there, masked
    if fmt == "json":
        doc = json.loads(done.stdout)  # still a valid document
        files = {issue["file"] for issue in doc["issues"]}
        assert any(name.endswith("2171********0001.csv") for name in files)
        columns = {issue["column"] for issue in doc["issues"]}
        values = {issue["value"] for issue in doc["issues"]}
        assert "2171******** 0003" in values and "21.71********.0004" in values
        assert "0813*****544" in values  # the phone in the birth-date cell
        assert f"KET {HEADER_NIK}" not in columns
    else:
        assert "kel \\x1b[31mmerah\\x1b[0m\\nbaru.csv" in shown  # the name, escaped
        assert "21.71********.0004" in shown


def test_the_files_meant_to_be_used_keep_the_real_values(tmp_path: Path) -> None:
    inputs = hostile_rosters(tmp_path / "in")
    out = tmp_path / "out"
    args = ["--decree", RT, "--start", "2025-06", "--out", str(out), "--new-ledger"]
    done = run(
        "build-batch",
        *map(str, inputs),
        *args,
        "--ledger",
        str(tmp_path / "l.sqlite"),
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    (batch,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    (rejected,) = batch.glob(f"{NAMED_NIK}.rejects.*")  # named after the roster, in clear
    if rejected.suffix == ".xlsx":
        sheet = load_workbook(rejected, read_only=True).active
        text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
    else:
        text = rejected.read_bytes().decode("utf-8-sig")
    assert all(value in text for value in (SPACED, DOTTED, DASHED, ODD_PHONE, HEADER_NIK))
    batch_cells = set()
    for part in batch.glob("*_part*.xlsx"):
        sheet = load_workbook(part, read_only=True).active
        batch_cells |= {str(c) for row in sheet.iter_rows(values_only=True) for c in row}
    assert person(0)[1] in batch_cells  # NIKs in the batch file, in clear


def test_show_pii_shows_them(tmp_path: Path) -> None:
    """With --show-pii the values are there: the mask above is not an empty output."""
    inputs = hostile_rosters(tmp_path / "in")
    done = run("validate", *map(str, inputs), "--show-pii", "--format", "json", cwd=tmp_path)
    assert NAMED_NIK in done.stdout and DOTTED in done.stdout


@pytest.mark.parametrize(
    "text, shown",
    [
        ("NIK 2171031203900001.", "NIK 2171********0001."),
        ("2171 0312 0390 0001", "2171******** 0001"),
        ("21.71.03.120390.0001", "21.71********.0001"),
        ("2171-0312-0390-0001", "2171********-0001"),
        ("12345678901234567890", "1234********7890"),  # longer runs too
        ("hp 081234567890", "hp 0812*****890"),
        ("+62 812-3456-7890", "+62 812*****890"),
        ("6281234567890", "6281*****890"),
        ("telp 0778-123456", "telp 0778*****456"),
        # not personal data: kept as they are
        ("total Rp 8.400.000.000", "total Rp 8.400.000.000"),
        ("62400000000", "62400000000"),
        ("2025-06-01 2025-12-31", "2025-06-01 2025-12-31"),
        ("01-06-2025 31-12-2025", "01-06-2025 31-12-2025"),
        ("sha256 9f2171031203900001ab", "sha256 9f2171031203900001ab"),
        (f"{RT}_2025-06_2025-12_001", f"{RT}_2025-06_2025-12_001"),
        ("row 1234567", "row 1234567"),
    ],
)
def test_the_shapes_masked_and_left_alone(text: str, shown: str) -> None:
    """One pattern text, two engines: Python's re at the output boundary and Polars over the
    findings agree."""
    import polars as pl

    assert mask_text(text) == shown
    assert pl.select(mask_pii_expr(pl.lit(text))).item() == shown
    assert len(PII_PATTERNS) == 2


def test_control_characters_are_escaped_visibly() -> None:
    assert escape_controls("a\x1b[31mb\nc\td\x9b") == "a\\x1b[31mb\\nc\\td\\x9b"


def test_a_sheet_named_by_a_nik_is_masked(tmp_path: Path) -> None:
    """A workbook whose sheet a sender named by a NIK: the findings name the sheet, masked."""
    import xlsxwriter

    sheet_nik = "2171036608920007"
    path = tmp_path / "kel.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(sheet_nik)
    rows = [HEADERS, person(0), person(1)]
    rows[2][HEADERS.index("JK")] = "L" if rows[2][HEADERS.index("JK")] == "P" else "P"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    for fmt in ("text", "json"):
        done = run("validate", path.name, "--format", fmt, "--sheet", sheet_nik, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert sheet_nik not in done.stdout + done.stderr
        assert "2171********0007" in done.stdout
    doc = json.loads(done.stdout)
    assert {issue["sheet"] for issue in doc["issues"]} == {"2171********0007"}
