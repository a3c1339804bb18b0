"""A small file must not take the machine down, and nobody may be lost (issue 20, the
reader), and a wide CSV is read in linear work (issue 12).

Each limit is decided before the work and said as one FILE_TOO_LARGE finding naming the
limit as the config spells it; the config's [limits] raises it for a real giant. The hostile
workbooks are built small (a sheet XML with one far cell is a few hundred bytes; a zip whose
XML inflates to gigabytes is written by streaming compressed whitespace); the big ones run
under the ``slow`` marker, through the installed command under a memory limit.
"""

from __future__ import annotations

import json
import struct
import subprocess
import zipfile
from pathlib import Path

import polars as pl
import pytest

from tests.rosters import write_csv
from tests.test_build_batch import HEADERS, RT, person
from tests.test_fuzz import assert_clean, invoke, json_doc
from tests.test_hostile_input import run_installed  # under a 3 GB address-space limit

NS = "http://schemas.openxmlformats.org"
AS_OF = ["--as-of", "2025-06-01"]


# ---------------------------------------------------------------------------- builders


def _package_parts(sheet_name: str = "Data") -> dict[str, str]:
    return {
        "[Content_Types].xml": (
            f'<Types xmlns="{NS}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{NS}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{NS}/spreadsheetml/2006/main" '
            f'xmlns:r="{NS}/officeDocument/2006/relationships"><sheets>'
            f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{NS}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
    }


def _cell(ref: str | None, text: str) -> str:
    r = f' r="{ref}"' if ref else ""
    return f'<c{r} t="inlineStr"><is><t>{text}</t></is></c>'


def people_rows(n: int = 5, refs: bool = True) -> str:
    """The header and ``n`` people (columns A-D) as sheet XML rows."""
    cols = "ABCD"
    heads = ["NO", "NIK", "NAMA LENGKAP", "TGL LAHIR"]
    out = ['<row r="1">' if refs else "<row>"]
    out += [_cell(f"{c}1" if refs else None, h) for c, h in zip(cols, heads, strict=True)]
    out.append("</row>")
    for i in range(1, n + 1):
        p = person(i)
        values = [str(i), p[1], p[2], p[4]]
        out.append(f'<row r="{i + 1}">' if refs else "<row>")
        out += [
            _cell(f"{c}{i + 1}" if refs else None, v) for c, v in zip(cols, values, strict=True)
        ]
        out.append("</row>")
    return "".join(out)


def sheet_xml(rows: str, dimension: str | None = None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = f"{dim}<sheetData>{rows}</sheetData>"
    return f'<worksheet xmlns="{NS}/spreadsheetml/2006/main">{body}</worksheet>'


def workbook(path: Path, sheet: str | None = None, chunks=None) -> Path:
    """An xlsx package around ``sheet`` (XML text) or streamed ``chunks`` (bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, xml in _package_parts().items():
            z.writestr(name, xml)
        if chunks is None:
            z.writestr("xl/worksheets/sheet1.xml", sheet)
        else:
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                for chunk in chunks:
                    fh.write(chunk)
    return path


def far_cell(path: Path, ref: str, dimension: str | None = None) -> Path:
    """Five people and one cell far away (the dimension, when given, may lie)."""
    row = "".join(ch for ch in ref if ch.isdigit())
    rows = people_rows() + f'<row r="{row}">{_cell(ref, "x")}</row>'
    return workbook(path, sheet_xml(rows, dimension))


def whitespace_bomb(path: Path, inflated: int) -> Path:
    """Five people in a sheet whose XML inflates to ``inflated`` bytes of whitespace."""
    head = sheet_xml(people_rows()).split("</sheetData>")[0].encode()
    block = b" " * 2**20

    def chunks():
        yield head
        for _ in range(inflated // len(block)):
            yield block
        yield b"</sheetData></worksheet>"

    return workbook(path, chunks=chunks())


def lying_sizes(path: Path, inflated: int) -> Path:
    """The whitespace bomb whose zip directory says its sheet XML is 1 KB."""
    whitespace_bomb(path, inflated)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = data.find(sig)
        while at >= 0:
            name_len = struct.unpack_from("<H", data, at + (26 if sig == b"PK\x03\x04" else 28))[0]
            if data[at + name_at : at + name_at + name_len] == name:
                struct.pack_into("<I", data, at + size_at, 1024)
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))
    return path


def limits_config(path: Path, **limits: int) -> Path:
    lines = ["[limits]"] + [f"{k} = {v}" for k, v in limits.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def refused(result: subprocess.CompletedProcess, limit: str) -> dict:
    """Exit 2, one FILE_TOO_LARGE finding naming ``limit``, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stdout + result.stderr
    doc = json.loads(result.stdout)
    (issue,) = [i for i in doc["issues"] if i["severity"] == "error"]
    assert issue["code"] == "FILE_TOO_LARGE" and issue["row"] is None
    assert limit in issue["message"] and "[limits]" in issue["message"]
    return issue


# ---------------------------------------------------------------------------- workbooks


@pytest.mark.parametrize(
    ("ref", "dimension", "found"),
    [
        ("XFD1048576", None, "17_179_869_184 (A1:XFD1048576)"),  # aborted the process before
        ("XFD1048576", "A1:D6", "17_179_869_184 (A1:XFD1048576)"),  # a dimension that lies
        ("AZ1048576", "A1:AZ1048576", "54_525_952 (A1:AZ1048576)"),  # 3.1 GiB before
    ],
)
def test_one_far_cell_is_refused_before_the_workbook_reader(
    tmp_path: Path, ref: str, dimension: str | None, found: str
) -> None:
    src = far_cell(tmp_path / "jauh.xlsx", ref, dimension)
    assert src.stat().st_size < 4096
    result = run_installed("validate", src.name, "--format", "json", "--lang", "en", cwd=tmp_path)
    issue = refused(result, "max_workbook_cells = 50_000_000")
    assert found in issue["message"]


def test_a_far_row_and_a_far_column_apart_are_both_counted(tmp_path: Path) -> None:
    """Neither far enough alone, megabytes apart, no dimension to go by: the used range is
    their product, whatever order the cells come in."""

    def pad(first: int, last: int) -> str:
        return "".join(f'<row r="{i}">{_cell(f"A{i}", "y" * 40)}</row>' for i in range(first, last))

    rows = people_rows() + pad(7, 60_000) + f'<row r="900000">{_cell("A900000", "x")}</row>'
    rows += pad(60_000, 120_000) + f'<row r="120001">{_cell("CA120001", "z")}</row>'
    src = workbook(tmp_path / "dua.xlsx", sheet_xml(rows))
    result = run_installed("validate", src.name, "--format", "json", "--lang", "en", cwd=tmp_path)
    issue = refused(result, "max_workbook_cells = 50_000_000")
    assert "71_100_000 (A1:CA900000)" in issue["message"]  # 900,000 rows x 79 columns


def test_cells_without_references_are_counted_where_the_reader_puts_them(tmp_path: Path):
    """No ``r`` on the cells: the reader counts positions, and so does the limit."""
    far = "<row>" + "<c><v>1</v></c>" * 20_000 + "</row>"
    src = workbook(tmp_path / "tanpa_ref.xlsx", sheet_xml(people_rows(refs=False) + far))
    result = run_installed("validate", src.name, "--format", "json", cwd=tmp_path)
    refused(result, "max_columns = 16_384")


def test_the_used_range_limit_is_raised_in_the_config(tmp_path: Path) -> None:
    src = far_cell(tmp_path / "lebar.xlsx", "Z300")
    small = limits_config(tmp_path / "kecil.toml", max_workbook_cells=5_000)
    result = run_installed(
        "validate", src.name, "--config", small, "--format", "json", cwd=tmp_path
    )
    refused(result, "max_workbook_cells = 5_000")
    raised = limits_config(tmp_path / "besar.toml", max_workbook_cells=10_000)
    result = run_installed(
        "validate", src.name, "--config", raised, "--format", "json", *AS_OF, cwd=tmp_path
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert json.loads(result.stdout)["summary"]["rows"] == 5


def test_inflated_sheet_xml_is_refused_from_its_size(tmp_path: Path) -> None:
    src = whitespace_bomb(tmp_path / "bom.xlsx", 40 * 2**20)
    assert src.stat().st_size < 200_000
    config = limits_config(tmp_path / "jamsos.toml", max_workbook_xml_mb=16)
    result = run_installed(
        "validate", src.name, "--config", config, "--format", "json", cwd=tmp_path
    )
    issue = refused(result, "max_workbook_xml_mb = 16")
    assert "41 MB (xl/worksheets/sheet1.xml)" in issue["message"]


def test_a_zip_directory_that_lies_about_sizes_is_refused_as_damaged(tmp_path: Path) -> None:
    src = lying_sizes(tmp_path / "bohong.xlsx", 40 * 2**20)
    config = limits_config(tmp_path / "jamsos.toml", max_workbook_xml_mb=16)
    result = run_installed(
        "validate", src.name, "--config", config, "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr[-2000:]
    doc = json.loads(result.stdout)
    (issue,) = doc["issues"]
    assert issue["code"] == "FILE_UNREADABLE" and "sheet1.xml" in issue["message"]


@pytest.mark.slow
def test_a_sheet_inflating_to_gigabytes_is_refused_with_the_shipped_limit(tmp_path: Path):
    """8 KB-15 MB files inflating to 3-8 GB took 8.4 GiB and 100 s before."""
    src = whitespace_bomb(tmp_path / "bom.xlsx", 3 * 2**30)
    assert src.stat().st_size < 16 * 2**20
    result = run_installed("validate", src.name, "--format", "json", cwd=tmp_path)
    refused(result, "max_workbook_xml_mb = 2_048")


# ---------------------------------------------------------------------------- CSV


def test_a_line_past_the_limit_is_refused_a_long_address_is_not(tmp_path: Path) -> None:
    rows = [person(i) for i in range(1, 4)]
    rows[1][HEADERS.index("ALAMAT")] = "Jl. " + "x" * 2**20  # a 1 MB cell: read
    write_csv(tmp_path / "panjang.csv", HEADERS, rows)
    result = run_installed("validate", "panjang.csv", "--format", "json", *AS_OF, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    config = limits_config(tmp_path / "jamsos.toml", max_line_kb=512)
    result = run_installed(
        "validate", "panjang.csv", "--config", config.name, "--format", "json", cwd=tmp_path
    )
    issue = refused(result, "max_line_kb = 512 KB")
    assert "1_024 KB" in issue["message"]


def test_a_roster_followed_by_a_line_of_millions_of_fields(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "ekor.csv", HEADERS, [person(i) for i in range(1, 4)])
    with src.open("ab") as fh:
        fh.write(b";" * (20 * 2**20) + b"\r\n")  # 20 million empty fields on one line
    result = run_installed("validate", src.name, "--format", "json", cwd=tmp_path)
    refused(result, "max_line_kb = 16_384 KB")


def test_columns_and_cells_of_a_csv_are_bounded(tmp_path: Path) -> None:
    wide = HEADERS + [f"X{i}" for i in range(17_000)]
    rows = [person(i) + ["v"] * 17_000 for i in range(1, 3)]
    write_csv(tmp_path / "lebar.csv", wide, rows)
    result = run_installed("validate", "lebar.csv", "--format", "json", cwd=tmp_path)
    refused(result, "max_columns = 16_384")
    write_csv(tmp_path / "banyak.csv", HEADERS, [person(i % 50) for i in range(200)])
    config = limits_config(tmp_path / "jamsos.toml", max_csv_cells=2_000)
    result = run_installed(
        "validate", "banyak.csv", "--config", config.name, "--format", "json", cwd=tmp_path
    )
    issue = refused(result, "max_csv_cells = 2_000")
    assert "201 x 13" in issue["message"]


@pytest.mark.slow
def test_one_200_mb_line_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    """5.3 GiB before (a CSV that is one 200 MB line)."""
    src = tmp_path / "satu.csv"
    with src.open("wb") as fh:
        fh.write(b"NIK;NAMA;TGL LAHIR;" + b"x" * (200 * 2**20) + b"\r\n")
    result = run_installed("validate", src.name, "--format", "json", cwd=tmp_path)
    refused(result, "max_line_kb = 16_384 KB")


# ---------------------------------------------------------------------------- nobody lost


def test_mixed_line_ends_lose_nobody_and_keep_the_rows_a_person_sees(tmp_path: Path) -> None:
    people = [person(i) for i in range(1, 13)]
    people[7][1] = "12345"  # the person on line 9 has a bad NIK
    ends = ["\r\n", "\n", "\r"]
    text = ";".join(HEADERS) + "\r\n"
    for i, row in enumerate(people):
        text += ";".join(row) + ends[i % 3]
    src = tmp_path / "campur.csv"
    src.write_bytes(text.encode("cp1252"))
    code_run = invoke(["validate", src, "--decree", RT, *AS_OF, "--format", "json"])
    assert_clean(code_run, allowed=(1,))
    doc = json_doc(code_run)
    assert doc["summary"]["rows"] == 12  # before: 9 read, 3 nowhere
    assert [(i["row"], i["code"]) for i in doc["issues"]] == [(9, "NIK_FORMAT")]
    # every person is somewhere: in the batch or in the rejects
    out = tmp_path / "out"
    build = invoke(
        [
            "build-batch", src, "--decree", RT, "--start", "2025-06", "--out", out,
            "--ledger", tmp_path / "l.sqlite", "--new-ledger",
            "--batch-format", "csv", "--format", "json",
        ]
    )  # fmt: skip
    assert_clean(build, allowed=(1,))
    assert json_doc(build)["summary"]["submitted"] == 11
    assert src.read_bytes() == text.encode("cp1252")  # the input is never changed


# ---------------------------------------------------------------------------- wide CSV


def test_a_wide_csv_is_read_by_position(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns looked up by name cost the number of columns each (10,000 columns: 8.4 s
    for three rows). Counted, not timed: the lookups by name while reading must not grow
    with the width of the file."""
    lookups = {"n": 0}
    for method in ("get_column", "get_column_index", "drop_in_place", "replace_column"):
        original = getattr(pl.DataFrame, method)

        def counted(self, *args, _original=original, **kwargs):
            lookups["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(pl.DataFrame, method, counted)

    def lookups_for(width: int) -> int:
        headers = HEADERS + [f"X{i}" for i in range(width)]
        rows = [person(i) + ["v"] * width for i in range(1, 4)]
        src = write_csv(tmp_path / f"lebar{width}.csv", headers, rows)
        lookups["n"] = 0
        run = invoke(["validate", src, "--decree", RT, *AS_OF, "--format", "json"])
        assert_clean(run, allowed=(0,))
        assert json_doc(run)["summary"]["accepted"] == 3
        return lookups["n"]

    assert lookups_for(1_000) == lookups_for(4_000)
