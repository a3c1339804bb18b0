"""Rejects of a roster sent under the wrong decree (most rows rejected, some for two
reasons), written back in the sender's encoding a slice of rows at a time: the sender gets
exactly their rejected rows, every reason in order, one BOM at most, and the same bytes
whatever the slice size."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from jamsos_cli import writing
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
def test_rejects_of_a_mostly_rejected_roster(tmp_path: Path, monkeypatch, encoding: str) -> None:
    roster = write_csv(tmp_path / "salah_perwako.csv", HEADERS, ROWS, encoding=encoding)
    args = ["validate", str(roster), "--decree", TRANSPORT, "--as-of", "2025-06-01"]
    whole, sliced = tmp_path / "whole.csv", tmp_path / "sliced.csv"
    assert runner.invoke(app, [*args, "--rejects", str(whole)]).exit_code == 1
    monkeypatch.setattr(writing, "CSV_ROWS_PER_ENCODE", 2)  # header, then slices of 2 rows
    assert runner.invoke(app, [*args, "--rejects", str(sliced)]).exit_code == 1
    raw = sliced.read_bytes()
    assert raw == whole.read_bytes()
    assert raw.count(b"\xef\xbb\xbf") == (1 if encoding == "utf-8-sig" else 0)
    assert raw.startswith(b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b"BARIS;")
    back = pl.read_csv(raw.decode(encoding).encode(), separator=";", infer_schema=False)
    assert back.get_column("BARIS").to_list() == REJECTED
    assert back.get_column("NAMA").to_list() == [f"Réné Saputra {i}" for i in range(2, 7)]
    assert back.row(2)[HEADERS.index("JABATAN") + 1] == '\'=HYPERLINK("x")'

    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    reasons = dict(zip(back["BARIS"], back["ALASAN PENOLAKAN"], strict=True))
    for line in REJECTED:  # every error of the row, in the report's order, "; " between
        errors = [i for i in doc["issues"] if i["row"] == int(line) and i["severity"] == "error"]
        assert reasons[line] == "; ".join(f"{i['code']}: {i['message']}" for i in errors)
    codes_of_3 = [i["code"] for i in doc["issues"] if i["row"] == 4 and i["severity"] == "error"]
    assert sorted(codes_of_3) == ["AGE_OUT_OF_RANGE", "ROLE_NOT_ELIGIBLE"]
