"""The ledger in PostgreSQL against the ledger in SQLite: build-batch of a million people.

    python benchmarks/bench_ledger.py                     # csv-1m, one run of each
    python benchmarks/bench_ledger.py --sets csv-100k --repeat 3
    python benchmarks/bench_ledger.py --postgresql postgresql://user@host/empty_db

The roster is ``run.py``'s (generated into ``benchmarks/data/`` when missing). Without
``--postgresql`` the server is a throwaway one of this machine (``tests/postgres.py``) with
production durability (``fsync``, ``synchronous_commit`` on; the default 128 MB of shared
buffers): the SQLite ledger is written with ``synchronous = FULL``, so both wait for the
disk at commit. Every command is its own process, timed from outside: wall seconds, the
client's CPU seconds and peak RSS (``os.wait4``), and the server's CPU seconds (its
processes' own and their reaped children's, from ``/proc``; a server of our own only).

Per store, on a fresh ledger:

- ``build-batch``: the roster into an empty ledger: every eligible person recorded (SQLite:
  ``executemany``; PostgreSQL: ``COPY`` plus the NIK index and the double-coverage check);
- ``build-batch again``: the same roster: everyone ``ALREADY_SUBMITTED``, nothing written
  (reads the million people back: the checks' side of the ledger);
- ``ledger stats``: start-up and a small query;
- ``ledger copy`` (PostgreSQL only): the SQLite ledger just built into a fresh database,
  read back and compared before commit.

Results: ``benchmarks/out/ledger.json`` and a Markdown table on stdout (the README's
"One ledger for a province" figures come from it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from run import BIN, DECREE, OUT, SETS, START, ensure_data, machine  # noqa: E402

RESULTS = OUT / "ledger.json"


def server_cpu(data_dir: Path | None) -> float | None:
    """CPU seconds of a server of our own: the postmaster's and its children's, live and
    reaped (a backend's time moves to the postmaster when it exits)."""
    if data_dir is None:
        return None
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def fields(p: int) -> list[str]:
        return Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(pid)
    total = sum(int(own[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pid:
            try:
                f = fields(int(entry))
            except OSError:
                continue
            if int(f[1]) == pid:  # a live child
                total += int(f[11]) + int(f[12])
    return total / tick


def run(cmd: list[str], log_to: Path, data_dir: Path | None) -> dict:
    """One command in its own process: wall, client CPU, peak RSS, server CPU, exit code."""
    import subprocess

    before = server_cpu(data_dir)
    load = round(os.getloadavg()[0], 2)
    with open(log_to, "wb") as out, open(log_to.with_suffix(".err"), "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    after = server_cpu(data_dir)
    return {
        "wall": round(wall, 2),
        "cpu": round(usage.ru_utime + usage.ru_stime, 2),
        "rss_mib": round(usage.ru_maxrss / 1024),
        "server_cpu": None if before is None else round(after - before, 2),
        "code": os.waitstatus_to_exitcode(status),
        "load": load,
    }


def median_run(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda r: r["wall"])
    return {**ordered[len(ordered) // 2], "runs": len(runs)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="csv-1m")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgresql", help="an empty database's URL (else a server of ours)")
    args = parser.parse_args(argv)
    from tests.postgres import Server

    server = None if args.postgresql else Server(durable=True)
    data_dir = None if server is None else server.data
    jamsos = str(BIN / "jamsos")
    results: dict = {"machine": machine(), "sets": {}}
    try:
        for name in args.sets.split(","):
            bench = SETS[name]
            rows = ensure_data(bench, print)["rows"]
            runs: dict[str, list[dict]] = {}
            for r in range(args.repeat):
                base = OUT / "runs" / f"ledger-{name}-{r}"
                shutil.rmtree(base, ignore_errors=True)
                base.mkdir(parents=True)
                sqlite = str(base / "ledger.sqlite")
                if server is not None:
                    url = server.url(server.new_database())
                    copy_url = server.url(server.new_database())
                else:
                    url = copy_url = args.postgresql
                for store, ledger in (("sqlite", sqlite), ("postgresql", url)):
                    build = [jamsos, "build-batch", str(bench.path), "--decree", DECREE]
                    build += ["--start", START, "--batch-format", "csv", "--ledger", ledger]
                    steps = {
                        "build-batch": [*build, "--out", str(base / f"out-{store}")],
                        "build-batch again": [*build, "--out", str(base / f"again-{store}")],
                        "ledger stats": [jamsos, "ledger", "stats", "--ledger", ledger],
                    }
                    if store == "postgresql" and server is not None:
                        steps["ledger copy"] = [jamsos, "ledger", "copy", sqlite, copy_url]
                    for step, cmd in steps.items():
                        where = data_dir if store == "postgresql" else None
                        done = run(cmd, base / f"{store}-{step.replace(' ', '_')}.out", where)
                        print(f"{name} {store} {step}: {done}", flush=True)
                        runs.setdefault(f"{store}|{step}", []).append(done)
                    shutil.rmtree(base / f"out-{store}", ignore_errors=True)  # a million rows
                    shutil.rmtree(base / f"again-{store}", ignore_errors=True)
                Path(sqlite).unlink(missing_ok=True)
            results["sets"][name] = {
                "rows": rows,
                "commands": {k: median_run(v) for k, v in runs.items()},
            }
    finally:
        if server is not None:
            server.remove()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(table(results))


def table(results: dict) -> str:
    lines = [
        "| set | store | command | wall s | client CPU s | server CPU s | peak MiB | load |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for name, found in results["sets"].items():
        for key, r in found["commands"].items():
            store, step = key.split("|")
            server = "" if r["server_cpu"] is None else f"{r['server_cpu']:.1f}"
            lines.append(
                f"| {name} | {store} | {step} | {r['wall']:.1f} | {r['cpu']:.1f} | {server} |"
                f" {r['rss_mib']:,} | {r['load']} |"
                + ("" if r["code"] in (0, 1) else f" exit {r['code']}")
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
