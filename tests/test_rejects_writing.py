"""Rejects of a roster sent under the wrong decree (most rows rejected, some for two
reasons): the sender gets exactly their rejected rows, every reason in order, in an xlsx
by default or, when asked, a ``;`` UTF-8 CSV with a BOM."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from jamsos_cli.cli import app
from tests.rosters import make_nik, write_csv

runner = CliRunner()
HEADERS = ["NO", "NIK", "NAMA", "TGL LAHIR", "JK", "KELURAHAN", "KECAMATAN", "JABATAN"]
TRANSPORT = "perwako-batam-30-2025"


def person(i: int, role: str, year: int = 1985) -> list[str]:
    nik = make_nik("217110", 10 + i, 3, year, female=False, serial=100 + i)
    born = f"{10 + i:02d}-03-{year}"
    return [str(i), nik, f"Réné Saputra {i}", born, "L", "Sungai Panas", "Batam Kota", role]


# under the transport decree: RT heads are not eligible, a 70-year-old is out of range
ROWS = [
    person(1, "Ojek Online"),
    person(2, "Ketua RT"),
    person(3, "Ketua RT", year=1954),  # two reasons
    person(4, '=HYPERLINK("x")'),  # a formula: neutralised in the file, not run
    person(5, "Ojek Online", year=1954),
    person(6, "Kader Posyandu"),
    person(7, "Ojek Online"),
]
REJECTED = ["3", "4", "5", "6", "7"]  # file lines (header on line 1) of persons 2 to 6


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_rejects_of_a_mostly_rejected_roster(tmp_path: Path, encoding: str) -> None:
    """A .csv --rejects path: ``;``-separated UTF-8 with one BOM whatever the roster's
    encoding (accents intact); the default .xlsx holds the same rows and reasons."""
    roster = write_csv(tmp_path / "salah_perwako.csv", HEADERS, ROWS, encoding=encoding)
    args = ["validate", str(roster), "--decree", TRANSPORT, "--as-of", "2025-06-01"]
    as_csv, as_xlsx = tmp_path / "back.csv", tmp_path / "back.xlsx"
    assert runner.invoke(app, [*args, "--rejects", str(as_csv)]).exit_code == 1
    assert runner.invoke(app, [*args, "--rejects", str(as_xlsx)]).exit_code == 1
    raw = as_csv.read_bytes()
    assert raw.count(b"\xef\xbb\xbf") == 1 and raw.startswith(b"\xef\xbb\xbfBARIS;")
    back = pl.read_csv(raw[3:], separator=";", infer_schema=False)
    assert back.columns == ["BARIS", *HEADERS, "ALASAN PENOLAKAN"]
    assert back.get_column("BARIS").to_list() == REJECTED
    assert back.get_column("NAMA").to_list() == [f"Réné Saputra {i}" for i in range(2, 7)]
    assert back.row(2)[HEADERS.index("JABATAN") + 1] == '\'=HYPERLINK("x")'
    sheet = CalamineWorkbook.from_path(str(as_xlsx)).get_sheet_by_index(0).to_python()
    assert [str(c) for c in sheet[0]] == back.columns
    assert [[str(int(r[0])), *r[1:]] for r in sheet[1:]] == [list(r) for r in back.iter_rows()]

    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    reasons = dict(zip(back["BARIS"], back["ALASAN PENOLAKAN"], strict=True))
    for line in REJECTED:  # every error of the row, in the report's order, "; " between
        errors = [i for i in doc["issues"] if i["row"] == int(line) and i["severity"] == "error"]
        assert reasons[line] == "; ".join(f"{i['code']}: {i['message']}" for i in errors)
    codes_of_3 = [i["code"] for i in doc["issues"] if i["row"] == 4 and i["severity"] == "error"]
    assert sorted(codes_of_3) == ["AGE_OUT_OF_RANGE", "ROLE_NOT_ELIGIBLE"]


def test_more_rejected_rows_than_a_sheet_holds_go_to_a_csv(tmp_path: Path, monkeypatch) -> None:
    """A sheet holds 1,048,576 rows: beyond that the rejects are a CSV beside the name asked
    for, said on screen, every row kept."""
    from jamsos_cli.render import rejects

    monkeypatch.setattr(rejects, "SHEET_ROWS", 4)  # header + 3 rows fit; 5 rejected do not
    roster = write_csv(tmp_path / "salah_perwako.csv", HEADERS, ROWS, encoding="cp1252")
    args = ["validate", str(roster), "--decree", TRANSPORT, "--as-of", "2025-06-01"]
    result = runner.invoke(app, [*args, "--rejects", str(tmp_path / "back.xlsx")])
    assert result.exit_code == 1 and "back.csv" in result.stdout
    assert not (tmp_path / "back.xlsx").exists()
    back = pl.read_csv((tmp_path / "back.csv").read_bytes()[3:], separator=";", infer_schema=False)
    assert back.get_column("BARIS").to_list() == REJECTED


def test_rejects_xlsx_gives_back_markup_and_control_characters(tmp_path: Path) -> None:
    """Cells holding ``& < >``, text that looks escaped (``&lt``) or a control character
    pasted from another program come back in the rejects sheet as the roster held them:
    escaped in the sheet's XML once, never dropped, doubled or left raw (a raw ``<`` or
    control character would make the file one Excel refuses to open)."""
    names = ["Budi & Sons <CV>", "Siti\x01Aminah", "Tab\tTerbawa", "Toko &lt Warung >"]
    rows = [
        [*person(i, "Ketua RT")[:2], name, *person(i, "Ketua RT")[3:]]
        for i, name in enumerate(names, 1)
    ]
    roster = write_csv(tmp_path / "tempel.csv", HEADERS, rows, encoding="utf-8-sig")
    target = tmp_path / "back.xlsx"
    args = ["validate", str(roster), "--decree", TRANSPORT, "--as-of", "2025-06-01"]
    assert runner.invoke(app, [*args, "--rejects", str(target)]).exit_code == 1
    sheet = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert [r[HEADERS.index("NAMA") + 1] for r in sheet[1:]] == names
    assert [r[HEADERS.index("NIK") + 1] for r in sheet[1:]] == [r[1] for r in rows]
