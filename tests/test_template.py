"""``jamsos template``: an empty roster senders fill in and jamsos reads back without guessing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.schema import aliases
from tests.helpers import DECREE_FIGURES
from tests.rosters import make_nik

runner = CliRunner()


def make(tmp_path: Path, decree: str, *extra: str, name: str = "template.xlsx") -> Path:
    target = tmp_path / name
    result = runner.invoke(app, ["template", "--decree", decree, str(target), *extra])
    assert result.exit_code == 0, result.output
    assert str(target) in result.stdout
    return target


def columns(ws) -> dict[str, int]:
    return {cell.value: cell.column for cell in ws[1] if cell.value}


def validation_sources(ws) -> dict[str, str]:
    """Header of the validated column → the list's source formula."""
    heads = {col: name for name, col in columns(ws).items()}
    out = {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split(":")[0]
        col = openpyxl.utils.cell.column_index_from_string("".join(c for c in first if c.isalpha()))
        out[heads[col]] = dv.formula1
        assert dv.type == "list"
    return out


def list_values(wb, formula: str) -> list[str]:
    sheet, ref = formula.lstrip("=").split("!")
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[ref.replace("$", "")] for c in row]


def test_fishermen_template_headers_text_cells_and_lists(tmp_path: Path) -> None:
    path = make(tmp_path, "perwako-batam-3-2023")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "DATA"  # the sheet jamsos reads first
    ws = wb["DATA"]
    cols = columns(ws)
    # headers are the schema's own names, so the reader maps every one
    known = {a for names in aliases().values() for a in names}
    assert set(cols) <= known
    assert {
        "NIK",
        "NAMA",
        "TANGGAL LAHIR",
        "JK",
        "KELURAHAN",
        "KECAMATAN",
        "JABATAN",
        "NO HP",
        "NO KUSUKA",
    } <= set(cols)
    assert list(cols).index("NO KUSUKA") == list(cols).index("JABATAN") + 1
    # NIK, phone and KUSUKA cells are Text, so Excel keeps all 16 digits and leading zeros
    for header in ("NIK", "NO HP", "NO KUSUKA", "TANGGAL LAHIR"):
        for row in (2, 50, 2001):
            assert ws.cell(row=row, column=cols[header]).number_format == "@", (header, row)
    assert ws.cell(row=2, column=cols["NAMA"]).number_format == "General"

    sources = validation_sources(ws)
    assert set(sources) == {"JK", "JABATAN", "KELURAHAN", "KECAMATAN"}
    assert list_values(wb, sources["JABATAN"]) == ["Nelayan kecil"]
    assert list_values(wb, sources["JK"]) == ["L", "P"]
    kelurahan = list_values(wb, sources["KELURAHAN"])
    assert len(kelurahan) == 64 and "Sadai" in kelurahan and "Sungai Panas" in kelurahan
    assert len(list_values(wb, sources["KECAMATAN"])) == 12
    lists_sheet = sources["JABATAN"].lstrip("=").split("!")[0].strip("'")
    assert wb[lists_sheet].sheet_state == "hidden"

    guide = "\n".join(str(r[0].value or "") for r in wb["PETUNJUK"].iter_rows())
    assert "Perwako Batam No. 3/2023" in guide
    assert "NIK: 16 angka" in guide and "NO KUSUKA" in guide
    assert "18 sampai 64 tahun" in guide
    assert "PNS/ASN/PPPK" in guide


def test_role_list_follows_the_decree(tmp_path: Path) -> None:
    path = make(tmp_path, "perwako-batam-49-2025")
    wb = openpyxl.load_workbook(path)
    ws = wb["DATA"]
    assert "NO KUSUKA" not in columns(ws)
    roles = list_values(wb, validation_sources(ws)["JABATAN"])
    assert roles == ["Ketua RT", "Ketua RW", "Kader Posyandu", "Kader Siaga Kelurahan", "Ketua LPM"]


def test_user_decree_template_lists_its_own_city(tmp_path: Path) -> None:
    folder = tmp_path / "aturan"
    folder.mkdir()
    (folder / "tpi.toml").write_text(
        'id = "tpi-marbot"\ntitle = "Perwako Tanjungpinang No. 12/2025"\ncity_code = "21.72"\n'
        f'{DECREE_FIGURES}\n[[roles]]\nname = "Marbot masjid"\n',
        encoding="utf-8",
    )
    path = make(tmp_path, "tpi-marbot", "--decrees", str(folder))
    wb = openpyxl.load_workbook(path)
    sources = validation_sources(wb["DATA"])
    assert "Kemboja" in list_values(wb, sources["KELURAHAN"])
    assert "Sadai" not in list_values(wb, sources["KELURAHAN"])
    assert list_values(wb, sources["JABATAN"]) == ["Marbot masjid"]


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "isian.xlsx"
    target.write_bytes(b"a filled-in roster")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jamsos_cli",
            "template",
            "--decree",
            "perwako-batam-49-2025",
            str(target),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "berkas sudah ada; pakai --force" in done.stderr and "Traceback" not in done.stderr
    assert target.read_bytes() == b"a filled-in roster"
    make(tmp_path, "perwako-batam-49-2025", "--force", name="isian.xlsx")
    assert openpyxl.load_workbook(target).sheetnames[0] == "DATA"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic


@pytest.mark.parametrize("name", ["template.csv", "template.xls", "template"])
def test_only_xlsx(tmp_path: Path, name: str) -> None:
    result = runner.invoke(
        app, ["template", "--decree", "perwako-batam-49-2025", str(tmp_path / name)]
    )
    assert result.exit_code == 2
    assert ".xlsx" in result.output and "Traceback" not in result.output
    assert not (tmp_path / name).exists()


def test_unknown_decree(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "--decree", "nope", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 2
    assert "perwako-batam-49-2025" in result.output  # lists the known decrees
    assert not (tmp_path / "t.xlsx").exists()


def test_json_names_the_fields(tmp_path: Path) -> None:
    target = tmp_path / "t.xlsx"
    result = runner.invoke(
        app, ["template", "--decree", "perwako-batam-3-2023", str(target), "--format", "json"]
    )
    doc = json.loads(result.stdout)
    assert doc["decree"] == "perwako-batam-3-2023" and doc["template"] == str(target)
    assert "kusuka_number" in doc["fields"] and "nik" in doc["fields"]


def test_filled_template_reads_back_clean(tmp_path: Path) -> None:
    path = make(tmp_path, "perwako-batam-3-2023")
    wb = openpyxl.load_workbook(path)
    ws = wb["DATA"]
    cols = columns(ws)
    person = {
        "NO": "1",
        "NIK": make_nik("217109", 3, 4, 1977, False, 1),
        "NAMA": "Ahmad Nelayan",
        "TANGGAL LAHIR": "03-04-1977",
        "JK": "L",
        "KELURAHAN": "Sadai",
        "KECAMATAN": "Bengkong",
        "NO HP": "081234567890",
        "JABATAN": "Nelayan kecil",
        "NO KUSUKA": "0217109000001",
    }
    for header, value in person.items():
        ws.cell(row=2, column=cols[header], value=value)
    wb.save(path)
    result = runner.invoke(
        app,
        [
            "validate",
            str(path),
            "--decree",
            "perwako-batam-3-2023",
            "--as-of",
            "2025-06-01",
            "--format",
            "json",
        ],
    )
    doc = json.loads(result.stdout)
    errors = [i for i in doc["issues"] if i["severity"] == "error"]
    assert result.exit_code == 0, errors
    assert doc["summary"]["rows"] == 1 and doc["summary"]["accepted"] == 1
