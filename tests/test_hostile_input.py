"""Hostile inputs, one by one: each ends with a clear message and exit 0, 1 or 2 within a
bounded time and memory, never a traceback — in-process (``validate`` text and json,
``build-batch``) and, for the heavy ones, through the installed ``jamsos`` under a memory
limit, as a user or cron runs it.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from tests.helpers import JAMSOS
from tests.rosters import HEADERS, RT, nik, person
from tests.test_fuzz import assert_clean, invoke, json_doc

MEMORY_LIMIT = 3 * 2**30  # address space for one jamsos run (a small roster needs < 1 GB)
TIMEOUT = 60  # seconds for one jamsos run over one hostile file
MB = 1_000_000


def csv_bytes(rows: list[list[str]], header: list[str] = HEADERS, sep: str = ";") -> bytes:
    return ("\r\n".join(sep.join(r) for r in [header, *rows]) + "\r\n").encode("utf-8")


def people(n: int = 3) -> list[list[str]]:
    return [person(i) for i in range(1, n + 1)]  # person 0's NIK ends in 0: keep it simple


def with_cell(column: str, value: str) -> bytes:
    """Three valid people, the second one's ``column`` holding ``value``."""
    rows = people()
    rows[1][HEADERS.index(column)] = value
    return csv_bytes(rows)


def minimal_xlsx_without_sheets() -> bytes:
    """A well-formed workbook package whose workbook lists no sheet at all."""
    import io

    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{ns}/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/'
            f'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" '
            f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets/></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}/package/2006/relationships"/>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, xml in parts.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml)
    return buf.getvalue()


def real_xlsx(path: Path) -> bytes:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, HEADERS)
    for r, row in enumerate(people(), start=1):
        ws.write_row(r, 0, row)
    wb.close()
    return path.read_bytes()


def garbage_zip() -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", random.Random(1).randbytes(2000))
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


WIDE = ["X"] * 10_000
# name -> (file name, content builder, exit codes allowed, a fragment of what the user reads,
# in Indonesian: the default language)
CASES = {
    "zero-byte csv": ("rt.csv", lambda p: b"", {2}, "kosong"),
    "zero-byte xlsx": ("rt.xlsx", lambda p: b"", {2}, "kosong"),
    "only a BOM": ("rt.csv", lambda p: b"\xef\xbb\xbf", {2}, "kosong"),
    "random bytes csv": ("rt.csv", lambda p: random.Random(6).randbytes(4096), {2}, "rt.csv"),
    "random bytes xlsx": ("rt.xlsx", lambda p: random.Random(7).randbytes(4096), {2}, "rt.xlsx"),
    "NUL bytes": ("rt.csv", lambda p: csv_bytes(people()).replace(b";", b"\x00", 3), {2}, "NUL"),
    "truncated csv inside a quote": (
        "rt.csv",
        lambda p: csv_bytes(people()) + b'4;"2171',
        {1},
        "NIK_FORMAT",
    ),
    "truncated xlsx": ("rt.xlsx", lambda p: real_xlsx(p)[:1500], {2}, "rt.xlsx"),
    "xlsx that is really a CSV": ("rt.xlsx", lambda p: csv_bytes(people()), {2}, ".csv"),
    "zip of garbage named xlsx": (
        "rt.xlsx",
        lambda p: garbage_zip(),
        {2},
        "bukan buku kerja yang sah",
    ),
    "workbook with no sheets": (
        "rt.xlsx",
        lambda p: minimal_xlsx_without_sheets(),
        {2},
        "tidak punya lembar",
    ),
    "10,000 columns": (
        "rt.csv",
        lambda p: csv_bytes(
            [r + WIDE for r in people()], HEADERS + [f"X{i}" for i in range(10_000)]
        ),
        {0},
        "COLUMN_IGNORED",
    ),
    "1 MB address": ("rt.csv", lambda p: with_cell("ALAMAT", "Jl. " + "x" * MB), {0}, ""),
    "1 MB NIK": ("rt.csv", lambda p: with_cell("NIK", "2" * MB), {1}, "NIK_FORMAT"),
    "1 MB birth date": ("rt.csv", lambda p: with_cell("TGL LAHIR", "1" * MB), {1}, "DOB_FORMAT"),
    "1 MB name": ("rt.csv", lambda p: with_cell("NAMA LENGKAP", "Budi " * (MB // 5)), {0, 1}, ""),
    "ragged rows": (
        "rt.csv",
        lambda p: csv_bytes([people()[0][:3], people()[1] + ["a", "b", "c"], people()[2]]),
        {1},
        "",
    ),
    "duplicate headers": (
        "rt.csv",
        lambda p: csv_bytes([r + [r[1], "x"] for r in people()], HEADERS + ["NIK", "NAMA"]),
        {0},
        "COLUMN_IGNORED",
    ),
    "empty headers": (
        "rt.csv",
        lambda p: csv_bytes([r + ["x", "y"] for r in people()], HEADERS + ["", ""]),
        {0},
        "",
    ),
    "short NIK typos": (
        "rt.csv",
        lambda p: csv_bytes(
            [
                [*r[:1], typo, *r[2:]]
                for r, typo in zip(people(4), ["1", "-", "12", "belum ada"], strict=True)
            ]
            + [people(5)[4]]
        ),
        {1},
        "NIK_FORMAT",
    ),
}


def write_case(tmp_path: Path, case: str) -> Path:
    name, build, _, _ = CASES[case]
    path = tmp_path / name
    path.write_bytes(build(tmp_path / f"_{name}"))
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_in_process(tmp_path: Path, case: str) -> None:
    _, _, codes, fragment = CASES[case]
    src = write_case(tmp_path, case)
    before = src.read_bytes()

    text = invoke(["validate", src, "--as-of", "2025-06-01"], env={"COLUMNS": "200"})
    assert_clean(text, allowed=tuple(codes))
    assert fragment in text.stdout + text.stderr
    assert len(text.stdout) < 400_000  # a 1 MB cell is quoted short, not pasted whole

    run = invoke(["validate", src, "--decree", RT, "--as-of", "2025-06-01", "--format", "json"])
    assert_clean(run, allowed=tuple(codes))
    doc = json_doc(run)
    assert fragment in json.dumps(doc, ensure_ascii=False)
    if 2 in codes:  # unusable: one file-level finding naming the file
        (issue,) = [i for i in doc["issues"] if i["row"] is None and i["severity"] == "error"]
        assert issue["file"] == str(src)

    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    args = ["build-batch", src, "--decree", RT, "--start", "2025-06", "--out", out]
    args += ["--ledger", ledger, "--new-ledger"]
    build = invoke([*args, "--batch-format", "csv", "--format", "json"])
    assert_clean(build, allowed=tuple(codes))
    written = (
        sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    )
    if build.code == 2:
        assert written == [] and not ledger.exists()
    else:
        assert written == [f"{RT}_2025-06_2025-12_001"]
    assert src.read_bytes() == before


def formula_workbook(path: Path) -> Path:
    """NIK cells holding formulas, with the results Excel cached (what a reader sees)."""
    rows = [person(i) for i in range(5)]
    niks = [r[1] for r in rows]
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, HEADERS)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, row)
    col = HEADERS.index("NIK")
    ws.write_formula(1, col, f"={niks[0]}+0", None, int(niks[0]))  # a number ending in 0
    ws.write_formula(2, col, f"={niks[1]}+0", None, int(niks[1]))  # a number
    ws.write_formula(3, col, f'="{niks[2]}"', None, niks[2])  # text: fine
    ws.write_formula(4, col, "=1/0", None, "#DIV/0!")  # an error value
    ws.write_formula(5, col, "=B2", None, "")  # no cached result
    wb.close()
    return path


def test_formulas_in_nik_cells(tmp_path: Path) -> None:
    """Read by their cached values and judged like any cell of that type; the rows whose
    formula gives no NIK are rejected, the text one passes."""
    assert nik(0).endswith("0") and not nik(1).endswith("0")
    src = formula_workbook(tmp_path / "rumus.xlsx")
    run = invoke(["validate", src, "--decree", RT, "--as-of", "2025-06-01", "--format", "json"])
    assert_clean(run, allowed=(1,))
    doc = json_doc(run)
    found = sorted((i["row"], i["code"]) for i in doc["issues"] if i["column"] == "NIK")
    assert found == [
        (2, "NIK_PRECISION_LOST"),
        (3, "NIK_NUMERIC_CELL"),
        (5, "NIK_MISSING"),
        (6, "NIK_MISSING"),
    ]
    assert doc["summary"]["rejected"] == 3 and doc["summary"]["accepted"] == 2


# --- through the installed command, memory-bounded ------------------------------------------


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_installed(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """``jamsos ARGS`` as cron runs it, with an address-space limit and a timeout."""
    env = {
        **os.environ,
        "POLARS_MAX_THREADS": "2",  # thread stacks count against the address space
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("JAMSOS_TEST_CRASH_AT", None)
    return subprocess.run(
        [JAMSOS, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limit_memory,
    )


@pytest.mark.parametrize(
    "case", ["random bytes csv", "workbook with no sheets", "short NIK typos", "1 MB NIK"]
)
def test_hostile_input_installed_validate(tmp_path: Path, case: str) -> None:
    _, _, codes, fragment = CASES[case]
    src = write_case(tmp_path, case)
    started = time.monotonic()
    result = run_installed("validate", src.name, "--format", "json", cwd=tmp_path)
    assert time.monotonic() - started < TIMEOUT
    assert result.returncode in codes, result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert fragment in result.stdout
    json.loads(result.stdout)


def test_hostile_input_installed_build_batch(tmp_path: Path) -> None:
    """The widest and the fattest file in one run: batched within the memory limit."""
    wide = write_case(tmp_path, "10,000 columns")
    fat = wide.with_name("fat.csv")
    fat.write_bytes(CASES["1 MB address"][1](tmp_path))
    result = run_installed(
        "build-batch",
        wide.name,
        fat.name,
        "--decree",
        RT,
        "--start",
        "2025-06",
        "--out",
        "out",
        "--ledger",
        "ledger.sqlite",
        "--new-ledger",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert "Traceback" not in result.stdout + result.stderr
    # the same three people in both files: the second file's are duplicates (exit 1)
    assert result.returncode == 1, result.stderr[-3000:]
    doc = json.loads(result.stdout)
    assert doc["summary"]["submitted"] == 3
    assert doc["summary"]["by_code"]["NIK_DUPLICATE"] == 3
    assert Path(doc["batch"]["folder"]).is_dir()
