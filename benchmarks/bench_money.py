"""Renewal and the monthly bill on a million-person ledger (issue 16).

    python benchmarks/bench_money.py              # make the ledger once (~1 min), then time
    python benchmarks/bench_money.py --repeat 1

The ledger: a million synthetic transport workers (``tests.synthetic.generate_people``: valid
NIKs, birth dates, kelurahan, roles) in ten batches of 100,000 covering June–December 2025,
recorded through the ledger's own interface (``Ledger.record_batch``, with the premium split
build-batch records); a few thousand of them withdrawn, refused or ended through the ledger's
events, so the bill reads real statuses. Kept in ``benchmarks/data/money/`` (gitignored).

Timed, each in its own process (``run.timed``: wall and CPU seconds, peak RSS):

- ``floor``: ``jamsos ledger stats`` (start-up and the snapshot every reading command takes);
- ``bill``: ``jamsos ledger bill --month 2025-12`` (every decree; people and money, JKK and
  JKM apart);
- ``renew``: ``jamsos build-batch --renew --start 2026-01`` on a copy of the ledger: the
  million carried through every check, a new batch written (CSV parts of 100,000);
- ``build``: ``jamsos build-batch`` of the same million people as a roster file (the
  renewal's own roster, kept from its run) into an empty ledger: what a renewal is compared
  with ("the same order of time as a 1M-row build").

The machine is shared and its speed drifts: compare within one run (``bill`` with
``floor``, ``renew`` with ``build``). Results go to ``benchmarks/out/money.json`` and stdout.
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

DATA = HERE / "data" / "money"
OUT = HERE / "out"
DECREE = "perwako-batam-30-2025"
BATCHES = 10
PEOPLE = 1_000_000
SEED = 1616
JUNE_2025 = 2025 * 12 + 5


def make_ledger(log) -> tuple[Path, Path]:
    """The million-person ledger and the same people as a roster file."""
    import polars as pl

    sys.path.insert(0, str(suite.ROOT))  # the generator is a test tool: tests/synthetic.py
    from jamsos_cli import renewal
    from jamsos_cli.ledger import Ledger, Period, change
    from jamsos_cli.ledger.store import EVENT_ENDED, EVENT_REFUSED, EVENT_WITHDRAWN
    from tests import synthetic as syn

    ledger, roster = DATA / "ledger.sqlite", DATA / "roster_1m.csv"
    if (DATA / "ledger.done").exists():
        return ledger, roster
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    people = syn.generate_people(PEOPLE, seed=SEED, group="transport").with_columns(
        pl.col("birth_date").dt.strftime("%Y-%m-%d"),
        pl.format("sender.csv:{}", pl.int_range(pl.len()) + 2).alias("source"),
    )
    renewal.write_roster(people, roster, 0o600)  # the roster the build is timed on
    per = PEOPLE // BATCHES
    period = Period(JUNE_2025, JUNE_2025 + 6)
    with Ledger.open(ledger) as book:
        book.create(change("benchmark: ledger init"))
        for b in range(BATCHES):
            batch = people.slice(b * per, per)
            suite.record_batch(
                book, b + 1, batch, period, folder_root=DATA / "batches", seq=b + 1,
                premiums={"JKK": 10_000, "JKM": 6_800},
            )  # fmt: skip
            log(f"  batch {b + 1} recorded")
        # statuses the bill must read: 1,000 withdrawn, 2,000 refused, 3,000 ended from 2025-10
        statuses = ((0, 1_000, EVENT_WITHDRAWN), (per, 2_000, EVENT_REFUSED))
        statuses += ((2 * per, 3_000, EVENT_ENDED),)
        events = pl.concat(
            [
                people.slice(first, n).select(
                    "nik", batch_id=pl.lit(first // per + 1), kind=pl.lit(kind)
                )
                for first, n, kind in statuses
            ]
        ).with_columns(
            pl.col("batch_id").cast(pl.Int64),
            reason=pl.lit("benchmark"),
            kpj=pl.lit(None, pl.Utf8),
            coverage_start=pl.lit(None, pl.Utf8),
            from_month=pl.when(pl.col("kind") == EVENT_ENDED).then(JUNE_2025 + 4),
        )  # fmt: skip
        with book.store.transaction():
            change_id = book.store.insert_change(change("benchmark: statuses"))
            book.store.insert_events(change_id, events)
    (DATA / "ledger.done").write_text("ok\n")
    return ledger, roster


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of floor and bill")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log("ledger ...")
    ledger, roster = make_ledger(log)
    work = OUT / "money"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    jamsos = str(suite.BIN / "jamsos")
    results: dict = {"machine": suite.machine(), "ledger_bytes": ledger.stat().st_size}
    runs: dict[str, list[dict]] = {"floor": [], "bill": [], "renew": [], "build": []}

    def step(name: str, cmd: list[str], ok=(0,)) -> dict:
        done = suite.timed(cmd, work / f"{name}-{len(runs[name])}.out")
        if done["code"] not in ok:
            raise SystemExit(f"{name} failed: {done}\n{(work / f'{name}-0.err').read_text()}")
        runs[name].append(done)
        log(f"  {name}: {done}")
        return done

    base = ["--ledger", str(ledger), "--format", "json"]
    for _ in range(args.repeat):
        step("floor", [jamsos, "ledger", "stats", *base])
        step("bill", [jamsos, "ledger", "bill", "--month", "2025-12", *base])
    bill = json.loads((work / "bill-0.out").read_text())
    results["bill_people"] = bill["people"]
    results["bill_premium"] = bill["premium"]
    # renewal on a copy of the ledger; the build of the same people into an empty one
    copy = work / "renew" / "ledger.sqlite"
    copy.parent.mkdir()
    shutil.copy(ledger, copy)
    batch = ["--decree", DECREE, "--start", "2026-01", "--batch-format", "csv",
             "--max-rows", "100000", "--format", "json"]  # fmt: skip
    step("renew", [jamsos, "build-batch", "--renew", *batch, "--out", str(work / "renew" / "out"),
                   "--ledger", str(copy)], ok=(0, 1))  # fmt: skip
    renewal = json.loads((work / "renew-0.out").read_text())["summary"]["renewal"]
    results["renewal"] = renewal
    shutil.rmtree(work / "renew")
    fresh = ["--out", str(work / "build" / "out"), "--ledger", str(work / "build" / "l.sqlite")]
    step("build", [jamsos, "build-batch", str(roster), *batch, *fresh, "--new-ledger"], ok=(0, 1))
    shutil.rmtree(work / "build")
    for name, done in runs.items():
        results[name] = {
            "wall": statistics.median(d["wall"] for d in done),
            "cpu": statistics.median(d["cpu"] for d in done),
            "rss_mib": max(d["rss_mib"] or 0 for d in done),
            "load": [d["load"] for d in done],
            "runs": len(done),
        }
    OUT.mkdir(exist_ok=True)
    (OUT / "money.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
