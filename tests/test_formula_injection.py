"""Spreadsheet formula injection: a value a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or CR) is written with a leading ``'`` in every csv and xlsx
file jamsos writes — batch files, rejects, the near-duplicate review file, the ledger
export — headers included, and stripping that one ``'`` gives the original value back.
No xlsx cell jamsos writes is a formula.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from jamsos_cli.writing import FORMULA_PREFIXES, neutralise, neutralise_expr, write_csv, write_xlsx
from tests.conftest import examples
from tests.helpers import init_ledger
from tests.rosters import HEADERS, RT, person
from tests.rosters import write_csv as roster_csv
from tests.test_fuzz import assert_clean, decode_written, invoke

formula_like = st.builds(lambda p, rest: p + rest, st.sampled_from(FORMULA_PREFIXES), st.text())


def recover(written: str) -> str:
    """What a clerk does to get the value back: drop the one neutralising ``'``."""
    if written[:1] == "'" and written[1:2] in FORMULA_PREFIXES and written[1:2] != "":
        return written[1:]
    return written


def starts_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_PREFIXES)


@given(value=st.one_of(formula_like, st.text()))
def test_neutralise_adds_one_quote_to_formulas_only(value: str) -> None:
    out = neutralise(value)
    assert not starts_like_formula(out)
    if starts_like_formula(value):
        assert out == "'" + value and recover(out) == value
    else:
        assert out == value
    # the vectorised form used for whole frames agrees with the scalar one
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.Utf8})
    assert frame.select(neutralise_expr(pl.col("v"))).item() == out


def xml_text(value: str) -> bool:
    return all(ch.isprintable() or ch in "\t\r\n" for ch in value)


def csv_cells(path: Path, delimiter: str | None = None) -> list[list[str]]:
    """The cells of a CSV jamsos wrote: ``,`` or, as Indonesian Excel saves them, ``;``."""
    text = decode_written(path.read_bytes())
    if delimiter is None:
        first = next(csv.reader(io.StringIO(text.splitlines()[0])))[0]
        delimiter = ";" if ";" in first else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def xlsx_cells(path: Path) -> list[list[str]]:
    """Every cell of every sheet as Excel reads it (calamine: ``_x000D_`` is a CR, as in
    Excel); none of them a formula (openpyxl shows a formula cell as type 'f')."""
    from python_calamine import CalamineWorkbook

    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{path.name}!{c.coordinate} is a formula: {c.value}"
    book = CalamineWorkbook.from_path(str(path))
    return [
        ["" if v is None else str(v) for v in row]
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    ]


def cells(path: Path) -> list[list[str]]:
    return csv_cells(path) if path.suffix == ".csv" else xlsx_cells(path)


@settings(max_examples=examples(40))
@given(
    values=st.lists(st.one_of(formula_like, st.text()), min_size=1, max_size=4),
    header=formula_like,
    suffix=st.sampled_from([".csv", ".xlsx"]),
)
def test_written_files_neutralise_and_keep_every_value(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[str],
    header: str,
    suffix: str,
) -> None:
    """``writing.write_csv`` / ``write_xlsx`` (every jamsos csv/xlsx goes through them): header
    and values neutralised, each value recovered exactly, one record per row."""
    if suffix == ".xlsx":  # xml holds no other control characters: not a value a roster has
        assume(all(map(xml_text, [*values, header])))
    frame = pl.DataFrame({"NIK": ["2171101205800001"] * len(values), header: values})
    target = tmp_path_factory.mktemp("w") / f"out{suffix}"
    if suffix == ".csv":
        write_csv(frame, target)
        assert target.read_bytes().startswith(b"\xef\xbb\xbfNIK;")  # ; + BOM, always
    else:
        write_xlsx(frame, target)
    got = csv_cells(target, ";") if suffix == ".csv" else xlsx_cells(target)
    assert got[0] == ["NIK", neutralise(header)]
    assert len(got) == 1 + len(values)
    for (nik, written), value in zip(got[1:], values, strict=True):
        assert nik == "2171101205800001"
        assert not starts_like_formula(written)
        assert recover(written) == value
    assert recover(got[0][1]) == header


# --- every file a run writes ----------------------------------------------------------------

EXTRA = "KETERANGAN"  # a column jamsos ignores, sent back untouched in rejects
HOSTILE_HEADER = "=SUM(1+1)"  # a header the sender typed: comes back in the rejects file


def hostile_rows() -> tuple[list[list[str]], list[str]]:
    """Synthetic people with formula-like cells: two accepted, one rejected, and one the
    near-duplicate of another (same person, NIK typed differently). Returns the rows and the
    formula-like values that must come back neutralised."""
    a, b, c, d = person(1), person(2), person(3), person(1)
    a[HEADERS.index("NAMA LENGKAP")] = '=HYPERLINK("http://contoh.test","Budi")'
    a[HEADERS.index("ALAMAT")] = "+1+cmd|' /C calc'!A0"
    b[HEADERS.index("NAMA LENGKAP")] = "@Siti Aminah"
    b[HEADERS.index("ALAMAT")] = "-Blok A No. 1"
    c[HEADERS.index("NIK")] = "12345"  # rejected: NIK_FORMAT
    c[HEADERS.index("ALAMAT")] = "=1+2"
    d[HEADERS.index("NO")] = "4"
    d[HEADERS.index("NAMA LENGKAP")] = a[HEADERS.index("NAMA LENGKAP")]
    d[HEADERS.index("ALAMAT")] = a[HEADERS.index("ALAMAT")]
    d[HEADERS.index("NIK")] = d[HEADERS.index("NIK")][:-1] + "9"  # one digit off
    rows = [r + [x] for r, x in zip([a, b, c, d], ["@SUM(A1)", "-2+3", "+62 812", ""], strict=True)]
    hostile = [
        '=HYPERLINK("http://contoh.test","Budi")',
        "+1+cmd|' /C calc'!A0",
        "@Siti Aminah",
        "-Blok A No. 1",
        "=1+2",
        "@SUM(A1)",
        "-2+3",
        "+62 812",
        HOSTILE_HEADER,
    ]
    return rows, hostile


def text_workbook(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    """A roster typed into Excel as text ('=...' typed as text, not run as a formula)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    for r, row in enumerate([headers, *rows]):
        for c, value in enumerate(row):
            ws.write_string(r, c, value)
    wb.close()
    return path


def assert_safe(path: Path, expected: list[str] = ()) -> None:
    """No cell of ``path`` starts like a formula; each ``expected`` value is there, recoverable."""
    found = [c for row in cells(path) for c in row]
    bad = [c for c in found if starts_like_formula(c)]
    assert not bad, f"{path.name}: formula-like cells written as-is: {bad}"
    recovered = {recover(c) for c in found}
    missing = [v for v in expected if v not in recovered or v in found]
    assert not missing, f"{path.name}: not found neutralised: {missing}"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_every_output_of_a_run_is_neutralised(tmp_path: Path, kind: str) -> None:
    rows, hostile = hostile_rows()
    headers = [*HEADERS, EXTRA] if kind == "xlsx" else [*HEADERS, HOSTILE_HEADER]
    if kind == "csv":
        src = roster_csv(tmp_path / "rt.csv", headers, rows)
    else:
        src = text_workbook(tmp_path / "rt.xlsx", headers, rows)
        hostile.remove(HOSTILE_HEADER)
    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    fmt = "csv" if kind == "xlsx" else "xlsx"  # batch in the other format than the input

    run = invoke(["build-batch", src, "--decree", RT, "--start", "2025-06", "--out", out,
                  "--ledger", ledger, "--new-ledger", "--batch-format", fmt,
                  "--format", "json"])  # fmt: skip
    assert_clean(run, allowed=(1,))
    folder = Path(json.loads(run.stdout)["batch"]["folder"])
    parts = sorted(folder.glob(f"*_part*.{fmt}"))
    (rejects,) = folder.glob("*.rejects.xlsx")  # xlsx whatever the input
    assert parts
    accepted = [v for v in hostile[:4]]  # people 1 and 2 are in the batch
    for part in parts:
        assert_safe(part, accepted if part == parts[0] else ())
    assert_safe(rejects, ["=1+2", "+62 812"] + ([HOSTILE_HEADER] if kind == "csv" else []))

    for ext in ("csv", "xlsx"):
        own = tmp_path / f"validate_rejects.{ext}"
        check = invoke(["validate", src, "--decree", RT, "--as-of", "2025-06-01",
                        "--rejects", own])  # fmt: skip
        assert_clean(check, allowed=(1,))
        assert_safe(own, ["=1+2", "+62 812"])

        export = tmp_path / f"export.{ext}"
        done = invoke(["ledger", "export", export, "--ledger", ledger])
        assert_clean(done, allowed=(0,))
        assert_safe(export, accepted[:1] + accepted[2:3])  # the names of people 1 and 2

        review = tmp_path / f"review.{ext}"
        empty = init_ledger(tmp_path / f"empty-{ext}.sqlite")  # only the roster's own pairs
        pairs = invoke(["dedupe", src, "--ledger", empty, "--review", review])
        assert_clean(pairs, allowed=(1,))
        assert_safe(review, hostile[:2])  # person 1 and its near-duplicate, side by side
