"""Peak memory and time of ``jamsos validate`` on the worst file of each hostile kind.

    python benchmarks/hostile.py                 # every kind, files in benchmarks/data/hostile
    python benchmarks/hostile.py --kinds far-xfd,line-200mb
    python benchmarks/hostile.py --src OTHER/src # the same files read by another checkout

Each file is built small where it can be (a sheet XML with one far cell; zips of streamed
compressed whitespace or cells) and read by one ``jamsos validate --format json`` process
under an address-space cap (``--cap-gib``, default 6) and a timeout, timed from outside
(wall seconds, peak RSS from ``/usr/bin/time -v``). The kinds past a limit are refused
before the work; the ``*-under`` kinds are the largest files the shipped limits still read.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data" / "hostile"
sys.path.insert(0, str(ROOT))

from tests.test_reading_limits import (  # noqa: E402  (the builders the tests use)
    far_cell,
    people_rows,
    sheet_xml,
    whitespace_bomb,
    workbook,
)

MB = 2**20


def dense_cells(path: Path, inflated: int, cols: int = 100) -> Path:
    """Five people, then rows of ``cols`` numeric cells without references (the reader
    counts their positions) up to ``inflated`` bytes: a dense sheet that compresses well."""
    head, tail = sheet_xml(people_rows()).split("</sheetData>")
    row = ("<row>" + "<c><v>1</v></c>" * cols + "</row>").encode()
    block = row * max(1, 2**20 // len(row))

    def chunks():
        yield head.encode()
        for _ in range(inflated // len(block)):
            yield block
        yield ("</sheetData>" + tail).encode()

    return workbook(path, chunks=chunks())


def one_line(path: Path, size: int, fields: bool) -> Path:
    """A CSV that is one line of ``size`` bytes, or a roster followed by one (of fields)."""
    with path.open("wb") as fh:
        if fields:
            fh.write(b"NO;NIK;NAMA;TGL LAHIR\r\n1;2171101205800001;Budi;12-05-1980\r\n")
            fh.write(b";" * size + b"\r\n")
        else:
            fh.write(b"NIK;NAMA;TGL LAHIR;" + b"x" * size + b"\r\n")
    return path


KINDS = {
    # name: (file name, builder)
    "far-xfd": ("far_xfd.xlsx", lambda p: far_cell(p, "XFD1048576")),
    "far-az": ("far_az.xlsx", lambda p: far_cell(p, "AZ1048576")),
    "whitespace-3gb": ("ws_3gb.xlsx", lambda p: whitespace_bomb(p, 3 * 1024 * MB)),
    "dense-3gb": ("dense_3gb.xlsx", lambda p: dense_cells(p, 3 * 1024 * MB)),
    "line-200mb": ("line_200mb.csv", lambda p: one_line(p, 200 * MB, fields=False)),
    "fields-200mb": ("fields_200mb.csv", lambda p: one_line(p, 200 * MB, fields=True)),
    # the largest the shipped limits still read
    "whitespace-under": ("ws_2000mb.xlsx", lambda p: whitespace_bomb(p, 2000 * MB)),
    "dense-under": ("dense_2000mb.xlsx", lambda p: dense_cells(p, 2000 * MB)),
    "line-under": ("line_16mb.csv", lambda p: one_line(p, 16 * MB - 64, fields=False)),
    # a full-height sheet of 20 columns (21 million cells): the largest usual workbook
    "full-sheet": ("full_1m_x20.xlsx", lambda p: dense_cells(p, 1_048_570 * 311, cols=20)),
}


def build(kind: str) -> Path:
    name, builder = KINDS[kind]
    path = DATA / name
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        builder(path)
        print(
            f"  built {name}: {path.stat().st_size:,} bytes in {time.monotonic() - started:.0f} s"
        )
    return path


def run(path: Path, src: Path | None, cap_gib: float, timeout: int) -> dict:
    cap = int(cap_gib * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "POLARS_MAX_THREADS": "2"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", "from jamsos_cli.cli import main; main()"]
    cmd += ["validate", str(path), "--format", "json"]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=limit
        )
    except subprocess.TimeoutExpired:
        return {"exit": "timeout", "seconds": timeout, "peak_mib": None, "what": ""}
    seconds = time.monotonic() - started
    peak = next(
        (int(line.split(":")[1]) // 1024 for line in proc.stderr.splitlines()
         if "Maximum resident set size" in line),
        None,
    )  # fmt: skip
    status = next((ln for ln in proc.stderr.splitlines() if "Exit status" in ln), "")
    signal = next((ln for ln in proc.stderr.splitlines() if "terminated by signal" in ln), "")
    code = signal.strip() or status.split(":")[-1].strip()
    what = ""
    if proc.stdout.strip().startswith("{"):
        import json

        doc = json.loads(proc.stdout)
        what = ", ".join(sorted({i["code"] for i in doc["issues"]})) or "read"
    else:
        lines = [ln for ln in proc.stderr.splitlines() if ln and not ln.startswith("\t")]
        what = (lines[-1] if lines else "")[:80]
    return {"exit": code, "seconds": seconds, "peak_mib": peak, "what": what}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--src", type=Path, help="read with this checkout's src/ instead")
    parser.add_argument("--cap-gib", type=float, default=6.0)
    parser.add_argument("--timeout", type=int, default=300)
    args = parser.parse_args(argv)
    print("| kind | file | exit | seconds | peak MiB | result |")
    print("|---|---:|---|---:|---:|---|")
    for kind in args.kinds.split(","):
        path = build(kind)
        r = run(path, args.src, args.cap_gib, args.timeout)
        size = f"{path.stat().st_size / MB:,.1f} MB"
        peak = f"{r['peak_mib']:,}" if r["peak_mib"] is not None else "–"
        print(f"| {kind} | {size} | {r['exit']} | {r['seconds']:.1f} | {peak} | {r['what']} |")


if __name__ == "__main__":
    main()
