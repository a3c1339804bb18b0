"""Fuzzing the readers and the whole ``validate`` / ``build-batch`` path (hypothesis).

Whatever arrives — random bytes under a roster's name, text in any encoding and delimiter,
rosters with mangled headers, ragged rows, NULs, cut-off files, odd workbook cells — every run
ends with exit 0, 1 or 2 and a message, never a traceback; and build-batch loses nobody: every
person read is either in the batch or in the rejects file sent back, never both, never neither.

Profiles (``tests/conftest.py``): ``ci`` by default, ``HYPOTHESIS_PROFILE=long`` by hand.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter
from hypothesis import event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.read import EXTRA, read_roster
from jamsos_cli.tables import RosterReadError
from tests.conftest import examples
from tests.helpers import ledger_batches
from tests.rosters import HEADERS, RT, person

runner = CliRunner()
SECONDS_PER_RUN = 30  # one in-process run over a small hostile file; ~0.2 s normally


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    exception: BaseException | None


def invoke(args: list[str], env: dict[str, str] | None = None) -> Run:
    """``jamsos ARGS`` in-process, as a user would type it."""
    started = time.monotonic()
    result = runner.invoke(app, [str(a) for a in args], env=env)
    crashed = result.exception if not isinstance(result.exception, SystemExit) else None
    return Run(result.exit_code, result.stdout, result.stderr, time.monotonic() - started, crashed)


def assert_clean(run: Run, *, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    """Finished with a documented exit code and a message, not a traceback, in bounded time."""
    assert run.exception is None, f"crashed: {run.exception!r}\n{run.stderr}"
    assert run.code in allowed, (run.code, run.stdout[-2000:], run.stderr[-2000:])
    assert "Traceback" not in run.stdout and "Traceback" not in run.stderr
    assert run.seconds < SECONDS_PER_RUN, f"took {run.seconds:.1f} s"
    if run.code == 2 and not run.stdout.strip():
        assert run.stderr.startswith("jamsos: "), run.stderr  # the one-line usage message


def json_doc(run: Run) -> dict:
    """``--format json``: one JSON document on stdout and nothing else."""
    doc = json.loads(run.stdout)
    summary = doc["summary"]
    assert summary["rows"] == summary["accepted"] + summary["rejected"]
    for issue in doc["issues"]:
        assert issue["severity"] in ("error", "warning", "info")
        assert issue["row"] is None or isinstance(issue["row"], int)
        assert issue["code"] and issue["message"]
    return doc


# --- what hostile files are made of --------------------------------------------------------

ODD_CELLS = [
    "",
    " ",
    "-",
    '"',
    '""',
    "'",
    "=1+1",
    "+62 812-3456-7890",
    "@SUM(A1)",
    '=HYPERLINK("http://x","klik")',
    "JUMLAH",
    "TOTAL",
    "Mengetahui,",
    "(1)",
    "NIK",
    "NAMA",
    "2.17101E+15",
    "2171101205800001.0",
    "21.7110.120580.0001",
    "0",
    "99999999999999999999999",
    "12-05-1980",
    "31/02/1980",
    "12 Mei 1980",
    "L",
    "P",
    "Ketua RT",
    "Sungai Panas",
    "Batam Kota",
    "\u200b",
    "\ufeff",
    "\u00a0",
    "a\nb",
    "x" * 300,
]
cell = st.one_of(
    st.sampled_from(ODD_CELLS),
    st.text(max_size=20),
    st.from_regex(r"[0-9]{1,18}", fullmatch=True),
)
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]
DELIMITERS = [";", ",", "\t", "|"]
EOLS = ["\r\n", "\n", "\r"]


@st.composite
def header_rows(draw) -> list[str]:
    """The full roster header, mangled: cells dropped, repeated, blanked or replaced."""
    header = list(HEADERS)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 4]))):
        i = draw(st.integers(0, len(header) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "blank", "replace"]))
        if action == "drop" and len(header) > 1:
            header.pop(i)
        elif action == "duplicate":
            header.insert(i, header[i])
        elif action == "blank":
            header[i] = ""
        else:
            header[i] = draw(cell)
    return header


@st.composite
def roster_tables(draw) -> tuple[list[str], list[list[str]]]:
    """A header and rows: real people (some changed), junk rows, ragged rows."""
    header = draw(header_rows())
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["person"] * 3 + ["changed"] * 3 + ["junk", "ragged"]))
        if kind in ("person", "changed"):
            row = person(draw(st.integers(0, 40)))
            if kind == "changed":
                row[draw(st.integers(0, len(row) - 1))] = draw(cell)
        elif kind == "junk":
            row = draw(st.lists(cell, min_size=len(header), max_size=len(header)))
        else:
            row = draw(st.lists(cell, max_size=len(header) + 6))
        rows.append(row)
    return header, rows


def csv_line(cells: list[str], delimiter: str) -> str:
    """One CSV record, quoted where a cell needs it (as Excel writes), or sometimes not."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


@st.composite
def csv_files(draw) -> bytes:
    """A roster as some office's software might have saved it, or half of one."""
    header, rows = draw(roster_tables())
    delimiter = draw(st.sampled_from(DELIMITERS))
    eol = draw(st.sampled_from(EOLS))
    titles = draw(st.lists(st.sampled_from(["DAFTAR KETUA RT", "", "TAHUN 2025"]), max_size=2))
    lines = titles + [csv_line(header, delimiter)] + [csv_line(r, delimiter) for r in rows]
    data = (eol.join(lines) + draw(st.sampled_from([eol, ""]))).encode(
        draw(st.sampled_from(ENCODINGS)), errors="replace"
    )
    damage = draw(st.sampled_from(["none"] * 5 + ["truncate", "nul", "bytes"]))
    if damage == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "nul":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" + data[at:]
    elif damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=16)) + data[at:]
    return data


# --- the tests ------------------------------------------------------------------------------


@settings(max_examples=examples(30))
@given(
    data=st.binary(max_size=4096),
    suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".ods"]),
    zipped=st.booleans(),
)
def test_random_bytes_under_any_roster_name(data: bytes, suffix: str, zipped: bool) -> None:
    """Garbage (or a zip of garbage) named like a roster: a clear message, never a crash."""
    if zipped:  # start like a workbook (a zip) so the workbook reader digs deeper
        data = b"PK\x03\x04" + data
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"kiriman{suffix}"
        path.write_bytes(data)
        for fmt in ("text", "json"):
            run = invoke(["validate", path, "--format", fmt])
            assert_clean(run)
            if fmt == "json" and run.stdout.strip():
                json_doc(run)
            if run.code == 2:
                assert "kiriman" in run.stdout + run.stderr  # names the file


@settings(max_examples=examples(150))
@given(data=st.one_of(csv_files(), st.binary(max_size=2048)))
def test_csv_reader_returns_the_contract_or_one_clear_error(data: bytes) -> None:
    """``read_roster`` itself (fast, so many examples): a table as ``tables.RosterTable``
    promises, or a ``RosterReadError`` naming the file — no other exception."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.csv"
        path.write_bytes(data)
        try:
            table = read_roster(path, "rt.csv")
        except RosterReadError as err:
            assert err.file == "rt.csv" and err.message and "\n" not in str(err)
            return
    width = len(table.headers)
    assert table.frame.columns == [f"c{i}" for i in range(width)] + list(EXTRA)
    assert all(t == pl.Utf8 for t in table.frame.select(pl.col("^c[0-9]+$")).dtypes)
    assert set(table.fields.values()) <= set(range(width))
    rows = table.frame.get_column("_row").to_list()
    assert rows == sorted(set(rows)) and all(r > table.header_row >= 1 for r in rows)
    assert table.encoding and table.delimiter in DELIMITERS


@settings(max_examples=examples(40))
@given(data=csv_files(), decree=st.booleans())
def test_validate_survives_any_csv(data: bytes, decree: bool) -> None:
    """Random encodings, delimiters, mangled headers, ragged rows, NULs, cut-off files."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.csv"
        path.write_bytes(data)
        args = ["validate", path, "--format", "json", "--as-of", "2025-06-01"]
        run = invoke(args + (["--decree", RT] if decree else []))
        assert_clean(run)
        if run.stdout.strip():
            doc = json_doc(run)
            assert {i["file"] for i in doc["issues"]} <= {str(path)}
        text = invoke(["validate", path, "--lang", "en"])
        assert_clean(text)
        if not decree:
            assert text.code == run.code  # text and json agree on the outcome


def decode_written(data: bytes) -> str:
    """A CSV jamsos wrote in the input's encoding (utf-16 and BOMs included)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def csv_records(path: Path, first_header: str) -> list[list[str]]:
    """The records of a CSV jamsos wrote (its delimiter follows the first header)."""
    text = decode_written(path.read_bytes())
    assert text.startswith(first_header), text[:80]
    delimiter = text[len(first_header)]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def rejects_rows(path: Path) -> dict[int, int]:
    """A rejects workbook's data rows: the row in the file (1-based) → its BARIS, the row
    of the file it was sent back from (a sub-header row under a two-row header has none)."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "BARIS" and rows[0][-1] == "ALASAN PENOLAKAN", rows[0]
    return {r: int(row[0]) for r, row in enumerate(rows, start=1) if r > 1 and row[0] != ""}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@settings(max_examples=examples(40))
@given(data=csv_files())
def test_build_batch_loses_nobody(data: bytes) -> None:
    """The whole build-batch path on a hostile roster: exit 2 writes nothing; otherwise every
    person read is in the batch or sent back in the rejects file, exactly once."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src, out, ledger = tmp / "rt.csv", tmp / "out", tmp / "ledger.sqlite"
        src.write_bytes(data)
        run = invoke(
            [
                "build-batch",
                src,
                "--decree",
                RT,
                "--start",
                "2025-06",
                "--out",
                out,
                "--ledger",
                ledger,
                "--new-ledger",  # made when missing (without it every run here was exit 2)
                "--batch-format",
                "csv",
                "--max-rows",
                "3",
                "--format",
                "json",
            ]
        )
        assert_clean(run)
        assert src.read_bytes() == data  # the input is never touched
        event(f"build-batch exit {run.code}")
        if run.code == 2:  # nothing written: no batch folder, no ledger
            assert not ledger.exists()
            assert not out.exists() or [p.name for p in out.iterdir()] in ([], [".jamsos.lock"])
            return
        doc = json_doc(run)
        summary = doc["summary"]
        batch = doc["batch"]
        if summary["accepted"] == 0:
            # nobody submitted: no batch (the ledger --new-ledger made holds none)
            assert batch is None and ledger_batches(ledger) == []
            return
        event("batch written")
        folder = Path(batch["folder"])
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["participants"] == summary["accepted"] == summary["submitted"]
        assert manifest["participants"] + manifest["rejected"] == manifest["rows"]
        parts = [o for o in manifest["outputs"] if ".rejects." not in o["name"]]
        rejects = [o for o in manifest["outputs"] if ".rejects." in o["name"]]
        batched = 0
        for o in parts:
            records = csv_records(folder / o["name"], "NIK")
            assert len(records) - 1 == o["rows"] <= 3
            batched += o["rows"]
        assert batched == summary["accepted"]
        rejected_rows = sorted(
            {i["row"] for i in doc["issues"] if i["severity"] == "error" and i["row"] is not None}
        )
        sent_back: list[int] = []
        for o in rejects:
            assert o["sha256"] == sha256(folder / o["name"])
            numbers = list(rejects_rows(folder / o["name"]).values())
            assert len(numbers) == o["rows"]
            sent_back += numbers
        assert sorted(sent_back) == rejected_rows  # each rejected row once, with its number
        assert len(sent_back) == summary["rejected"]


def _cell_value(draw, kind: str):
    if kind == "text":
        return draw(cell)
    if kind == "int":
        return draw(st.integers(-(10**17), 10**17))
    if kind == "float":
        return draw(st.floats(allow_nan=True, allow_infinity=True))
    if kind == "bool":
        return draw(st.booleans())
    return draw(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 1, 1)))


@st.composite
def workbooks(draw) -> list[tuple[str, list[list], bool]]:
    """Sheets (name, rows of typed cells, hidden) for xlsxwriter."""
    sheets = []
    for s in range(draw(st.integers(1, 3))):
        header, rows = draw(roster_tables())
        typed = []
        for row in rows:
            typed.append(
                [
                    _cell_value(
                        draw,
                        draw(st.sampled_from(["text", "text", "int", "float", "bool", "date"])),
                    )
                    if draw(st.integers(0, 9)) == 0
                    else value
                    for value in row
                ]
            )
        sheets.append((f"S{s}", [header, *typed], draw(st.booleans()) and s > 0))
    return sheets


def write_workbook(path: Path, sheets: list[tuple[str, list[list], bool]], formulas: bool) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "nan_inf_to_errors": True})
    date = wb.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows, hidden in sheets:
        ws = wb.add_worksheet(name)
        if hidden:
            ws.hide()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    ws.write_datetime(r, c, value, date)
                elif isinstance(value, str):
                    if formulas and r and c == 1 and value.isdigit():
                        ws.write_formula(r, c, f'="{value}"', None, value)  # cached result
                    else:
                        ws.write_string(r, c, value)
                else:
                    ws.write(r, c, value)
    wb.close()


@settings(max_examples=examples(30))
@given(sheets=workbooks(), formulas=st.booleans(), decree=st.booleans())
def test_validate_survives_any_workbook(sheets, formulas: bool, decree: bool) -> None:
    """Workbooks with typed cells (numbers, dates, booleans, NaN/inf, formulas with cached
    values), several sheets, hidden ones: read, checked, reported, never a crash."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.xlsx"
        write_workbook(path, sheets, formulas)
        args = ["validate", path, "--format", "json", "--as-of", "2025-06-01"]
        run = invoke(args + (["--decree", RT] if decree else []))
        assert_clean(run)
        if run.stdout.strip():
            json_doc(run)


# --- everyone read is paid or sent back, exactly once, by identity --------------------------


def synthetic_roster(path: Path, seed: int, n: int, rate: float, workbook: bool):
    """A kelurahan's roster of ``n + 1`` generated people (tests/synthetic.py) with planted
    defects (no duplicates: one row per person), a JUMLAH footer under the first ``n`` and
    the last person typed below it. Returns the NIK typed for each person (its digits: a
    planted defect may have changed it) and the row (as the sender sees it) → person."""
    from tests import synthetic

    people = synthetic.generate_people(n + 1, seed=seed, group="rt_rw")
    messy = synthetic.mess_up(
        people, seed=seed, defect_rate=rate, dup_rate=0.0, spreadsheet=workbook
    )
    truth = synthetic.truth(messy)
    below = truth.filter(pl.col("person") == n).get_column("index").item()
    body = messy.filter(pl.int_range(pl.len()) != below)
    headers = synthetic.default_headers(messy)
    footer = [["JUMLAH", f"{n} orang"], [messy.row(below, named=True)[f] for f in headers]]
    if workbook:
        first = synthetic.write_xlsx(body, path, footer_rows=footer, headers=headers)
    else:
        first = synthetic.write_csv(
            body, path, encoding="cp1252", delimiter=";", footer_rows=footer, headers=headers
        )
    persons = truth.filter(pl.col("index") != below).get_column("person").to_list()
    rows = {first + i: p for i, p in enumerate(persons)} | {first + n + 1: n}
    typed = messy.select(pl.col("nik").str.replace_all(r"[^0-9]", ""), "_truth_person")
    return dict(typed.iter_rows()), rows


def rejected_by_person(doc: dict, person_of_row: dict[int, int]) -> dict[int, list[str]]:
    """person → the codes of the errors that sent their row back (JSON issues, by row)."""
    out: dict[int, set[str]] = {}
    for issue in doc["issues"]:
        if issue["severity"] == "error" and issue["row"] is not None:
            out.setdefault(person_of_row[issue["row"]], set()).add(issue["code"])
    return {p: sorted(c) for p, c in out.items()}


@settings(max_examples=examples(8))
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 20),
    rate=st.sampled_from([0.0, 0.3, 0.8]),
    workbook=st.booleans(),
)
def test_everyone_read_is_paid_or_sent_back_exactly_once(
    tmp_path_factory, seed: int, n: int, rate: float, workbook: bool
) -> None:
    """By identity, not by counts: the set of the generator's people (their true NIKs) is
    the batch plus the rejects file, each person exactly once, the one typed below the
    JUMLAH footer too; the rejects file sent back unchanged sends back the same people for
    the same reasons and pays nobody."""
    tmp = tmp_path_factory.mktemp("everyone")
    src = tmp / ("rt.xlsx" if workbook else "rt.csv")
    niks, person_of_row = synthetic_roster(src, seed, n, rate, workbook)
    out, ledger = tmp / "out", tmp / "ledger.sqlite"
    args = ["--decree", RT, "--start", "2025-06", "--out", out, "--ledger", ledger, "--new-ledger"]
    args += ["--batch-format", "csv", "--format", "json"]
    run = invoke(["build-batch", src, *args])
    assert_clean(run, allowed=(0, 1))
    doc = json_doc(run)
    rejected = rejected_by_person(doc, person_of_row)
    paid: list[int] = []
    if doc["batch"] is not None:
        folder = Path(doc["batch"]["folder"])
        for part in sorted(folder.glob("*_part*.csv")):
            paid += [niks[r[0]] for r in csv_records(part, "NIK")[1:]]
        (rejects,) = folder.glob("*.rejects.xlsx")
        back = rejects_rows(rejects)
        assert sorted(person_of_row[b] for b in back.values()) == sorted(rejected)
    assert sorted(paid + list(rejected)) == list(range(n + 1))  # everyone, exactly once
    event(f"paid {bool(paid)}, sent back {bool(rejected)}")
    if doc["batch"] is None or not rejected:
        return

    again = invoke(["build-batch", rejects, *args])  # the rejects file sent back unchanged
    assert_clean(again, allowed=(1,))
    redo = json_doc(again)
    assert redo["batch"] is None and redo["summary"]["submitted"] == 0
    through = {row: person_of_row[b] for row, b in back.items()}  # its rows → people
    assert rejected_by_person(redo, through) == rejected
    assert "COLUMN_IGNORED" not in {i["code"] for i in redo["issues"]}
