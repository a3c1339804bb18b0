"""Batch files: the layout as data, the BPJS columns, Text cells, splitting, same bytes."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from jamsos_cli.batch import (
    BatchContext,
    LayoutError,
    batch_frame,
    folder_name,
    load_layout,
    publish,
    remove_stale_staging,
    staging_path,
    write_batch_files,
)
from jamsos_cli.decrees import load_decree
from jamsos_cli.ledger import Period
from jamsos_cli.writing import WriteRefused, new_private_dir
from tests.helpers import refused
from tests.rosters import make_nik


@pytest.fixture(scope="module")
def ctx() -> BatchContext:
    return BatchContext(
        decree=load_decree("perwako-batam-49-2025"),
        period=Period.parse("2025-06", None),
        city="Kota Batam",
        province="Kepulauan Riau",
        date_format="%d-%m-%Y",
    )


def records(n: int) -> pl.DataFrame:
    """Accepted records as normalise.py gives them (only the columns the layout reads)."""
    return pl.DataFrame(
        {
            "nik": [make_nik("217110", 1 + i % 28, 5, 1980, False, i + 1) for i in range(n)],
            "name": [f"Orang Ke {i}" for i in range(n)],
            "birth_place": ["Batam"] * n,
            "birth_date": [date(1980, 5, 1 + i % 28) for i in range(n)],
            "sex": ["L"] * n,
            "address": ["=1+1 Jl. Sudirman"] + ["Jl. Sudirman"] * (n - 1),
            "rt": ["1"] * n,
            "rw": ["12"] * n,
            "kelurahan": ["Sungai Panas"] * n,
            "kecamatan": ["Batam Kota"] * n,
            "phone": ["081234567890"] * n,
            "mother_name": [None] * n,
            "role": ["KETUA RT 003"] * n,
            "occupation": [None] * n,
            "work_location": [None] * n,
        },
        schema_overrides={"mother_name": pl.Utf8, "occupation": pl.Utf8, "work_location": pl.Utf8},
    )


def test_default_layout_has_the_bpjs_columns_in_indonesian() -> None:
    layout = load_layout()
    headers = [c.header for c in layout.columns]
    assert headers[:5] == ["NIK", "NAMA LENGKAP", "TEMPAT LAHIR", "TANGGAL LAHIR", "JENIS KELAMIN"]
    for wanted in (
        "ALAMAT",
        "RT/RW",
        "KELURAHAN",
        "KECAMATAN",
        "KABUPATEN/KOTA",
        "PROVINSI",
        "NO HP",
        "NAMA IBU KANDUNG",
        "PEKERJAAN",
        "LOKASI KERJA",
        "PENGHASILAN",
        "PROGRAM",
        "IURAN PER BULAN",
    ):
        assert wanted in headers
    assert {"NIK", "NO HP"} <= layout.text_headers


def test_batch_frame_values(ctx: BatchContext) -> None:
    frame = batch_frame(records(2), load_layout(), ctx)
    row = frame.row(0, named=True)
    assert row["TANGGAL LAHIR"] == "01-05-1980"  # dd-mm-yyyy
    assert row["RT/RW"] == "001/012"
    assert row["KABUPATEN/KOTA"] == "Kota Batam" and row["PROVINSI"] == "Kepulauan Riau"
    assert row["PEKERJAAN"] == "Ketua RT"  # the decree's name for the typed role
    assert row["PENGHASILAN"] == "1000000" and row["PROGRAM"] == "JKK, JKM"
    assert row["IURAN PER BULAN"] == "16800"
    assert row["TANGGAL AWAL KEPESERTAAN"] == "01-06-2025"
    assert row["TANGGAL AKHIR KEPESERTAAN"] == "31-12-2025"
    assert row["NAMA IBU KANDUNG"] is None
    assert frame.get_column("NIK").to_list() == records(2).get_column("nik").to_list()


def test_xlsx_parts_split_in_input_order_with_text_cells(tmp_path: Path, ctx) -> None:
    layout = load_layout()
    frame = batch_frame(records(5), layout, ctx)
    stem = folder_name("perwako-batam-49-2025", ctx.period, 1)
    parts = write_batch_files(
        frame, tmp_path, stem, fmt="xlsx", max_rows=2, layout=layout, mode=0o600
    )
    assert [p["name"] for p in parts] == [
        f"perwako-batam-49-2025_2025-06_2025-12_001_part00{i}.xlsx" for i in (1, 2, 3)
    ]
    assert [p["rows"] for p in parts] == [2, 2, 1]
    niks = []
    for part in parts:
        path = tmp_path / part["name"]
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert part["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        ws = load_workbook(path).active
        assert ws.title == "DATA PESERTA"
        assert ws["A1"].value == "NIK"
        for r in range(2, ws.max_row + 1):
            cell = ws.cell(r, 1)
            assert cell.data_type == "s" and cell.number_format == "@"
            niks.append(cell.value)
        assert ws["D2"].value.count("-") == 2 and ws["D2"].data_type == "s"
        assert ws["L2"].value == "081234567890" and ws["L2"].number_format == "@"
    assert niks == records(5).get_column("nik").to_list()
    ws = load_workbook(tmp_path / parts[0]["name"]).active
    assert ws["F2"].value == "'=1+1 Jl. Sudirman"  # never a formula


def test_same_data_same_bytes(tmp_path: Path, ctx) -> None:
    layout = load_layout()
    frame = batch_frame(records(3), layout, ctx)
    digests = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        for fmt in ("xlsx", "csv"):
            parts = write_batch_files(
                frame, folder, "x_001", fmt=fmt, max_rows=1000, layout=layout, mode=0o600
            )
            digests.append((fmt, parts[0]["sha256"]))
    assert digests[:2] == digests[2:]


def test_csv_is_utf8_with_the_layout_headers(tmp_path: Path, ctx) -> None:
    layout = load_layout()
    people = records(1).with_columns(pl.lit("Réné Saputra").alias("name"))
    (part,) = write_batch_files(
        batch_frame(people, layout, ctx),
        tmp_path,
        "x_001",
        fmt="csv",
        max_rows=10,
        layout=layout,
        mode=0o600,
    )
    back = pl.read_csv(tmp_path / part["name"], infer_schema=False)
    assert back.columns == [c.header for c in layout.columns]
    assert back.get_column("NAMA LENGKAP").to_list() == ["Réné Saputra"]
    assert back.get_column("NIK").to_list() == people.get_column("nik").to_list()


def test_custom_layout_file(tmp_path: Path, ctx) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'id = "mine"\nsheet = "Peserta"\ndate_format = "%d/%m/%Y"\n'
        '[[columns]]\nheader = "NO KTP"\nsource = "nik"\ntext = true\n'
        '[[columns]]\nheader = "TGL LAHIR"\nsource = "birth_date"\n'
        '[[columns]]\nheader = "TOTAL IURAN"\nsource = "total_premium"\n',
        encoding="utf-8",
    )
    layout = load_layout(path)
    frame = batch_frame(
        records(1), layout, BatchContext(**{**ctx.__dict__, "date_format": layout.date_format})
    )
    assert frame.columns == ["NO KTP", "TGL LAHIR", "TOTAL IURAN"]
    assert frame.row(0) == (records(1)["nik"][0], "01/05/1980", str(16_800 * 7))


@pytest.mark.parametrize(
    "text, message",
    [
        ('id = "x"\n[[columns]]\nheader = "A"\nsource = "salary"\n', "unknown source 'salary'"),
        ('id = "x"\ncolumns = []\n', "columns"),
        (
            'id = "x"\n[[columns]]\nheader = "A"\nsource = "nik"\n[[columns]]\nheader = "A"\n'
            'source = "name"\n',
            "appears twice",
        ),
        ('id = "x"\ncolour = 1\n[[columns]]\nheader = "A"\nsource = "nik"\n', "colour"),
        ("id = ", "not valid TOML"),
    ],
)
def test_bad_layout_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with refused(LayoutError, message) as err:
        load_layout(path)
    assert str(path) in str(err.value) and err.value.exit_code == 2


def test_missing_layout_file(tmp_path: Path) -> None:
    with refused(LayoutError, "not found"):
        load_layout(tmp_path / "nope.toml")


def test_staging_is_private_published_once_and_cleaned_when_stale(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    name = folder_name("perwako-batam-49-2025", Period.parse("2025-06", None), 1)
    staged = new_private_dir(staging_path(out, name), 0o600)
    assert staged.name.startswith(f".{name}.tmp-")
    assert oct(staged.stat().st_mode & 0o777) == "0o700"
    (staged / "a.csv").write_text("x")
    publish(staged, out / name)
    assert (out / name / "a.csv").exists() and not staged.exists()
    again = new_private_dir(staging_path(out, name), 0o600)
    with refused(WriteRefused, "not made by this run"):
        publish(again, out / name)
    # a killed run's staging folder goes; everything else stays
    (out / "notes.txt").write_text("keep")
    (out / ".hidden").mkdir()
    (out / ".photos.tmp-12").mkdir()  # not jamsos's
    assert remove_stale_staging(out) == [again]
    left = {p.name for p in out.iterdir()}
    assert left == {".hidden", ".photos.tmp-12", name, "notes.txt"}


@pytest.mark.parametrize("address", ["Jl. Sudirman", 'Blok "C"\nNo. 5', "Blok C\rNo. 5"])
def test_csv_parts_split_every_max_rows_whatever_the_cells(tmp_path: Path, ctx, address) -> None:
    """Each CSV part is the layout header and its own rows, the last one shorter, and a
    cell with a line break (quoted over two lines) or a lone carriage return (quoted, on
    one line) stays inside its row's part."""
    layout = load_layout()
    people = records(7).with_columns(pl.lit(address).alias("address"))
    frame = batch_frame(people, layout, ctx)
    parts = write_batch_files(
        frame, tmp_path, "x_001", fmt="csv", max_rows=3, layout=layout, mode=0o600
    )

    assert [(p["name"], p["rows"]) for p in parts] == [
        ("x_001_part001.csv", 3),
        ("x_001_part002.csv", 3),
        ("x_001_part003.csv", 1),
    ]
    for i, part in enumerate(parts):
        data = (tmp_path / part["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == part["sha256"]
        assert data.endswith(b"\n") and not data.endswith(b"\n\n")
        back = pl.read_csv(data, infer_schema=False)
        assert back.equals(frame.slice(i * 3, 3))
        assert back.get_column("NIK").to_list() == people.get_column("nik")[i * 3 :][:3].to_list()
