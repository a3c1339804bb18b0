"""``jamsos ledger import-reply`` of a 100,000-row BPJS reply into a million-person ledger.

    python benchmarks/bench_import_reply.py            # make the ledger once (~1 min), 3 runs
    python benchmarks/bench_import_reply.py --repeat 1

The ledger: ten batches of 100,000 synthetic people each, recorded through the ledger's own
interface (``Ledger.record_batch``, what build-batch calls after its checks; building them
with build-batch would add minutes and nothing the import reads). The reply: an xlsx as a
BPJS branch sends it (two title rows, NO, NIK, NAMA PESERTA, NO KPJ as number cells, HASIL
VERIFIKASI, KETERANGAN, TMT, PROGRAM) for 100,000 people of the last batches: nine in ten
BERHASIL with their KPJ, one in ten DITOLAK with a reason. Both are kept in
``benchmarks/data/import-reply/`` (gitignored) and reused; each run works on a fresh copy
of the ledger.

Timed, each in its own process (``run.timed``: wall and CPU seconds, peak RSS):

- ``floor``: ``jamsos ledger stats`` on the same ledger (start-up, the snapshot every
  reading command takes); the part no import code can save;
- ``import``: the first import (100,000 events recorded);
- ``again``: the same file once more (nothing changes: every row ``unchanged``).

The machine is shared and its speed drifts: compare ``import`` with ``floor`` of the same
run. Results go to ``benchmarks/out/import_reply.json`` and stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as suite  # noqa: E402  (the benchmark suite: timing, machine)

DATA = HERE / "data" / "import-reply"
OUT = HERE / "out"
DECREE = "perwako-batam-30-2025"
BATCHES = 10
PER_BATCH = 100_000
REPLY_ROWS = 100_000


def people(batch: int):
    """One batch's synthetic people (distinct NIKs across batches), as the ledger holds them."""
    import polars as pl

    first = batch * PER_BATCH
    i = pl.int_range(first, first + PER_BATCH, eager=True).alias("i")
    return (
        pl.DataFrame(i)
        .select(
            pl.format("217110{}", pl.col("i").cast(pl.Utf8).str.zfill(10)).alias("nik"),
            pl.format("ORANG NOMOR {}", pl.col("i")).alias("name"),
            pl.lit("1980-01-01").alias("birth_date"),
            pl.lit("L").alias("sex"),
            pl.lit(None, pl.Utf8).alias("phone"),
            pl.lit("Sungai Panas").alias("kelurahan"),
            pl.lit("21.71.01.1001").alias("kelurahan_code"),
            pl.format("sender.csv:{}", pl.col("i") - first + 2).alias("source"),
        )
        .select(pl.all().cast(pl.Utf8))
    )


def make_ledger(log) -> Path:
    from jamsos_cli.ledger import Ledger, Period, change

    ledger = DATA / "ledger.sqlite"
    if (DATA / "ledger.done").exists():
        return ledger
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    with Ledger.open(ledger) as book:
        book.create(change("benchmark: ledger init"))
        for b in range(BATCHES):
            period = Period(2025 * 12 + b, 2025 * 12 + 11)
            suite.record_batch(book, b + 1, people(b), period, folder_root=DATA / "batches", seq=1)
            log(f"  batch {b + 1} recorded")
    (DATA / "ledger.done").write_text("ok\n")
    return ledger


def make_reply(log) -> Path:
    """The reply xlsx (xlsxwriter in constant-memory mode, as a branch's export would be)."""
    import xlsxwriter

    path = DATA / "hasil_verifikasi.xlsx"
    if path.exists():
        return path
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Hasil")
    ws.write_string(0, 0, "DAFTAR HASIL VERIFIKASI PESERTA BPU")
    ws.write_string(1, 0, "KANTOR CABANG BATAM")
    headers = ["NO", "NIK", "NAMA PESERTA", "NO KPJ", "HASIL VERIFIKASI", "KETERANGAN", "TMT"]
    for j, h in enumerate([*headers, "PROGRAM"]):
        ws.write_string(3, j, h)
    first = BATCHES * PER_BATCH - REPLY_ROWS
    for r in range(REPLY_ROWS):
        i = first + r
        row = 4 + r
        ws.write_number(row, 0, r + 1)
        ws.write_string(row, 1, f"217110{i:010d}")
        ws.write_string(row, 2, f"ORANG NOMOR {i}")
        if r % 10:
            ws.write_number(row, 3, 10_000_000_000 + i)
            ws.write_string(row, 4, "BERHASIL")
        else:
            ws.write_string(row, 4, "DITOLAK")
            ws.write_string(row, 5, "SUDAH TERDAFTAR SEBAGAI PESERTA PU")
        ws.write_string(row, 6, "01-07-2025")
        ws.write_string(row, 7, "JKK JKM")
    wb.close()
    log(f"  reply {path.stat().st_size // 1024} KB")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log("ledger and reply ...")
    ledger, reply = make_ledger(log), make_reply(log)
    work = OUT / "import-reply"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    jamsos = str(suite.BIN / "jamsos")
    results: dict = {"machine": suite.machine(), "ledger_bytes": ledger.stat().st_size}
    runs: dict[str, list[dict]] = {"floor": [], "import": [], "again": []}
    for r in range(args.repeat):
        copy = work / "ledger.sqlite"
        shutil.copy(ledger, copy)
        base = ["--ledger", str(copy), "--format", "json"]
        steps = {
            "floor": [jamsos, "ledger", "stats", *base],
            "import": [jamsos, "ledger", "import-reply", str(reply), *base],
            "again": [jamsos, "ledger", "import-reply", str(reply), *base],
        }
        for name, cmd in steps.items():
            done = suite.timed(cmd, work / f"{name}-{r}.out")
            if done["code"] != 0:
                raise SystemExit(f"{name} failed: {done}\n{(work / f'{name}-{r}.err').read_text()}")
            runs[name].append(done)
        summary = json.loads((work / f"import-{r}.out").read_text())["summary"]
        again = json.loads((work / f"again-{r}.out").read_text())["summary"]
        assert (summary["active"], summary["refused"]) == (90_000, 10_000), summary
        assert again["unchanged"] == REPLY_ROWS, again
        copy.unlink()
    for name, done in runs.items():
        results[name] = {
            "wall": statistics.median(d["wall"] for d in done),
            "cpu": statistics.median(d["cpu"] for d in done),
            "rss_mib": max(d["rss_mib"] or 0 for d in done),
            "load": [d["load"] for d in done],
            "runs": len(done),
        }
        log(f"{name}: {results[name]}")
    OUT.mkdir(exist_ok=True)
    (OUT / "import_reply.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
