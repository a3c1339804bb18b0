"""``jamsos report`` on a million-person ledger: time, memory and page size.

    python benchmarks/bench_report.py               # build the ledger once (~3 min), time 3 runs
    python benchmarks/bench_report.py --repeat 1

The ledger is made the way an office makes one, by real ``jamsos build-batch`` runs: ten
senders' synthetic rosters of transport workers (``tests/synthetic.py``, 105,000 rows each,
~2% planted defects, ~1% people typed twice; NIK serials re-drawn so no two senders share a
NIK) submitted as ten delta batches starting one month apart (2025-01 … 2025-10), so the
trend, the months, the rejects files and the manifests are all there. It is kept in
``benchmarks/data/report-1m/`` (gitignored) and reused.

Timed, each in its own process (``run.timed``: wall and CPU seconds from outside, peak RSS):

- ``floor``: ``jamsos ledger stats`` on the same ledger: start-up plus the private snapshot of
  the ledger that every reading command takes, and a query on the batches table; the part of
  a report run no report code can save;
- ``report``: ``jamsos report --out report.html``;
- ``report-all``: the same with ``--xlsx`` and ``--berita-acara … --batch 1``.

The machine is shared and its speed drifts: compare ``report`` with ``floor`` of the same run.

Wall and CPU seconds (user + system: less stretched by other work on a shared machine) are
medians of the runs. Plus, in this process, the time of each phase (ledger snapshot,
aggregation, charts and page, recap), and the page's size. Results go to
``benchmarks/out/report.json`` and stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as suite  # noqa: E402  (the benchmark suite: timing, machine, NIK serials)

DATA = HERE / "data" / "report-1m"
OUT = HERE / "out"
DECREE = "perwako-batam-30-2025"
SENDERS = 10
ROWS = 105_000
SEED = 1700
MONTH = "2025-12"


def build_ledger(log) -> Path:
    """The million-person ledger (built once; ``ledger.done`` marks it complete)."""
    import polars as pl

    sys.path.insert(0, str(suite.ROOT))  # the generator is a test tool: tests/synthetic.py
    from tests import synthetic as syn

    ledger = DATA / "ledger.sqlite"
    if (DATA / "ledger.done").exists():
        return ledger
    shutil.rmtree(DATA, ignore_errors=True)
    (DATA / "rosters").mkdir(parents=True)
    used = pl.Series("nik", [], pl.Int64)
    for k in range(SENDERS):
        people = syn.generate_people(ROWS, seed=SEED + 2 * k, group="transport")
        if k:
            people = people.with_columns(nik=suite._fresh_serials(people.get_column("nik"), used))
        used = pl.concat([used, people.get_column("nik").cast(pl.Int64)])
        messy = syn.mess_up(people, seed=SEED + 2 * k + 1)
        roster = DATA / "rosters" / f"sender_{k + 1:02d}.csv"
        headers = syn.default_headers(messy)
        messy.select([pl.col(f).alias(h) for f, h in headers.items()]).write_csv(roster)
        t0 = time.perf_counter()
        result = suite.timed(
            [str(suite.BIN / "jamsos"), "build-batch", str(roster), "--decree", DECREE,
             "--start", f"2025-{k + 1:02d}", "--out", str(DATA / "batches"), "--ledger",
             str(ledger), "--batch-format", "csv", "--max-rows", "100000", "--quiet"],
            DATA / f"build-{k + 1:02d}.out",
        )  # fmt: skip
        if result["code"] not in (0, 1):
            raise SystemExit(f"build-batch {roster.name} failed: {result}")
        log(f"  batch {k + 1}: {time.perf_counter() - t0:.1f} s")
    (DATA / "ledger.done").write_text("ok\n")
    return ledger


def phases(ledger: Path, work: Path) -> dict:
    """Seconds per phase in this process, and what the report holds."""
    from jamsos_cli import decrees
    from jamsos_cli import ledger as ldg
    from jamsos_cli.office_report import aggregate, html, xlsx

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    with ldg.opened(ledger) as book:
        t["snapshot"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        data = aggregate.collect(book, ledger_path=str(ledger), decrees=decrees.all_decrees(),
                                 month=MONTH)  # fmt: skip
        t["aggregate"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    page = html.render(data, "id")
    t["page"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    xlsx.write(data, work / "phase.xlsx", lang="id")
    t["xlsx"] = time.perf_counter() - t3
    people = int(data.participants.get_column("people").sum())
    return {"seconds": {k: round(v, 3) for k, v in t.items()}, "people_in_month": people,
            "page_bytes": len(page.encode())}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log("ledger ...")
    ledger = build_ledger(log)
    work = OUT / "report"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    jamsos = str(suite.BIN / "jamsos")
    base = [jamsos, "report", "--ledger", str(ledger), "--month", MONTH]
    commands = {
        "floor": [jamsos, "ledger", "stats", "--ledger", str(ledger), "--format", "json"],
        "report": [*base, "--out", str(work / "report.html")],
        "report-all": [*base, "--out", str(work / "all.html"), "--xlsx", str(work / "recap.xlsx"),
                       "--berita-acara", str(work / "ba.html"), "--batch", "1"],
    }  # fmt: skip
    results: dict = {"machine": suite.machine(), "ledger_bytes": ledger.stat().st_size}
    import sqlite3

    with sqlite3.connect(ledger) as conn:
        results["people"] = conn.execute("SELECT COUNT(*) FROM people").fetchone()[0]
        results["batches"] = conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    for name, cmd in commands.items():
        runs = [suite.timed(cmd, work / f"{name}-{r}.out") for r in range(args.repeat)]
        if any(r["code"] != 0 for r in runs):
            raise SystemExit(f"{name} failed: {runs}\n{(work / f'{name}-0.err').read_text()}")
        results[name] = {
            "wall": statistics.median(r["wall"] for r in runs),
            "cpu": statistics.median(r["cpu"] for r in runs),
            "rss_mib": max(r["rss_mib"] or 0 for r in runs),
            "load": [r["load"] for r in runs],
            "runs": len(runs),
        }
        log(f"{name}: {results[name]}")
    results["page_bytes"] = (work / "report.html").stat().st_size
    results["recap_bytes"] = (work / "recap.xlsx").stat().st_size
    results["berita_acara_bytes"] = (work / "ba.html").stat().st_size
    results["phases"] = phases(ledger, work)
    (OUT / "report.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
