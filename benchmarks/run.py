"""The jamsos benchmark suite: whole-process timings next to the floor and a per-row baseline.

    python benchmarks/run.py                       # everything (the 10M run last), ~30 min
    python benchmarks/run.py --sets csv-100k,startup --repeat 1     # a quick look
    python benchmarks/run.py --sets csv-10m        # add the 10M figure to earlier results
    python benchmarks/run.py --report              # only rewrite docs/benchmarks.md

Data: deterministic synthetic rosters of transport workers (``tests/synthetic.py``: valid
NIKs consistent with birth date and sex, ~15% issued outside Batam, every date / phone / NIK
spelling senders use, ~2% planted defects of every SPEC §4 kind, ~1% people typed twice),
written once to ``benchmarks/data/`` (gitignored) and reused while the generator's parameters
are unchanged. The 10M roster is generated in 1M-row chunks (one chunk needs ~2 GiB), so its
people typed twice are within a chunk, and NIK serials are re-drawn so chunks share no NIK.

Every command runs in its own process, timed from outside: wall time, and peak RSS from
``/usr/bin/time -v`` (else ``os.wait4``'s rusage of that child). Per set and run, in turn:

- ``floor``: ``floor_read.py`` — a bare ``polars.read_csv`` of the file (all text), or
  python-calamine reading the first sheet with cell types (xlsx);
- ``validate``: ``jamsos validate FILE --decree perwako-batam-30-2025 --as-of 2025-06-01``
  (text report to a file; near-duplicates included, as a user gets them);
- ``build-batch``: ``jamsos build-batch FILE --decree ... --start 2025-06 --batch-format csv``
  into a fresh output folder with a fresh ledger (default ``--max-rows`` 1000 per file);
- ``pydantic``: ``baseline_pydantic.py`` — the same core checks with a pydantic v2 model per
  row (CSV sets; above ``--baseline-max-rows`` it runs on a prefix and is extrapolated).

The medians, the load average (1 min) at each run and the machine go to
``benchmarks/out/results.json`` (sets run later are merged in) and ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
OUT = HERE / "out"
RESULTS = OUT / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
ANALYSIS = HERE / "analysis.md"  # appended to DOC as it is
BIN = Path(sys.executable).parent
TIME = Path("/usr/bin/time")

DECREE = "perwako-batam-30-2025"  # no quota: every eligible row goes into the batch
GROUP = "transport"
AS_OF = "2025-06-01"
START = "2025-06"
SEED = 2025
CHUNK = 1_000_000  # rows generated at a time for the biggest rosters
TIMEOUT_S = 15 * 60  # a command still running after this is stopped and reported
MAX_RSS_GIB = 16  # ... or one holding more memory than this (the machine has 24 GiB, shared)


@dataclass(frozen=True)
class Bench:
    """One benchmark set: a roster and the commands timed on it."""

    name: str
    rows: int  # people before duplicates are added
    fmt: str  # csv | xlsx
    repeat: int | None = None  # None: the --repeat option
    build: bool = True
    baseline: bool = True

    @property
    def path(self) -> Path:
        return DATA / f"roster_{_short(self.rows)}.{self.fmt}"


SETS = {
    "csv-100k": Bench("csv-100k", 100_000, "csv"),
    "csv-1m": Bench("csv-1m", 1_000_000, "csv"),
    "xlsx-100k": Bench("xlsx-100k", 100_000, "xlsx", baseline=False),
    "csv-10m": Bench("csv-10m", 10_000_000, "csv", repeat=1, build=False, baseline=False),
}
ORDER = ["csv-100k", "csv-1m", "xlsx-100k", "startup", "csv-10m"]


def _short(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


# ------------------------------------------------------------------------------- data


def _generator_stamp(bench: Bench) -> str:
    """What the roster depends on: size, seed, format, and the generator's code and data."""
    h = hashlib.sha256()
    for p in (ROOT / "tests/synthetic.py", ROOT / "tests/synthetic.toml"):
        h.update(p.read_bytes())
    h.update(f"{bench.rows}:{bench.fmt}:{SEED}:{GROUP}:{CHUNK}:fresh-serials".encode())
    return h.hexdigest()[:16]


def ensure_data(bench: Bench, log) -> dict:
    """The roster of ``bench`` (generated in a child process when missing or stale)."""
    meta_path = bench.path.with_name(bench.path.name + ".meta.json")
    stamp = _generator_stamp(bench)
    if bench.path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("stamp") == stamp:
            return meta
    DATA.mkdir(parents=True, exist_ok=True)
    log(f"generating {bench.path.name} ({bench.rows:,} people) ...")
    t0 = time.perf_counter()
    cmd = [sys.executable, str(Path(__file__)), "_generate", str(bench.rows), bench.fmt]
    cmd += [str(bench.path)]
    subprocess.run(cmd, check=True)
    meta = json.loads(meta_path.read_text())
    meta["stamp"] = stamp
    meta_path.write_text(json.dumps(meta, indent=2))
    took = time.perf_counter() - t0
    log(f"  {meta['rows']:,} rows, {meta['bytes'] / 2**20:,.0f} MiB in {took:.0f} s")
    return meta


def _generate(rows: int, fmt: str, path: Path) -> None:
    """Child process: write the roster and its ``.meta.json`` (rows, bytes, planted codes)."""
    import polars as pl

    sys.path.insert(0, str(ROOT))  # the generator is a test tool: tests/synthetic.py
    from tests import synthetic as syn

    planted: dict[str, int] = {}

    def count(messy: pl.DataFrame) -> None:
        for code, n in messy.get_column("_truth_code").drop_nulls().value_counts().iter_rows():
            planted[code] = planted.get(code, 0) + n

    used = pl.Series("nik", [], pl.Int64)  # NIKs of the chunks written so far

    def chunk(k: int, n: int) -> pl.DataFrame:
        nonlocal used
        people = syn.generate_people(n, seed=SEED + 2 * k, group=GROUP)
        if k:  # chunks are drawn independently: re-draw the serials another chunk took
            people = people.with_columns(nik=_fresh_serials(people.get_column("nik"), used))
        used = pl.concat([used, people.get_column("nik").cast(pl.Int64)])
        return syn.mess_up(people, seed=SEED + 2 * k + 1, spreadsheet=fmt == "xlsx")

    total = 0
    if fmt == "xlsx":
        messy = chunk(0, rows)
        count(messy)
        syn.write_xlsx(messy, path, sheet_name="DATA")
        total = messy.height
    else:
        # Chunks appended to one file: the sender's "NO" column keeps counting.
        with open(path, "wb") as fh:
            for k, start in enumerate(range(0, rows, CHUNK)):
                messy = chunk(k, min(CHUNK, rows - start))
                count(messy)
                headers = syn.default_headers(messy)
                body = messy.with_columns(
                    (pl.col("row_number").cast(pl.Int64) + total).cast(pl.Utf8)
                ).select([pl.col(f).alias(h) for f, h in headers.items()])
                body.write_csv(fh, include_header=k == 0, line_terminator="\r\n")
                total += messy.height
                del messy, body
    meta = {"rows": total, "bytes": path.stat().st_size, "planted": dict(sorted(planted.items()))}
    path.with_name(path.name + ".meta.json").write_text(json.dumps(meta, indent=2))


def _fresh_serials(niks, used):
    """NIKs (text) whose serial (last 4 digits, 0001-4999) is re-drawn, deterministically,
    where the NIK is in ``used`` or repeats an earlier one: region, birth date and sex stay."""
    import polars as pl

    nik = niks.cast(pl.Int64)
    taken = nik.is_in(used.implode())
    for attempt in range(1, 100):
        if not taken.any():
            break
        serial = (nik % 10_000 + 7_919 * attempt) % 4_999 + 1
        nik = pl.select(pl.when(taken).then(nik // 10_000 * 10_000 + serial).otherwise(nik))
        nik = nik.to_series()
        taken = nik.is_in(used.implode()) | ~nik.is_first_distinct()
    return nik.cast(pl.Utf8)


# ------------------------------------------------------------------------------- timing


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def timed(cmd: list[str], stdout: Path, timeout: float = TIMEOUT_S) -> dict:
    """Run ``cmd`` in its own process group: wall seconds, peak RSS (MiB), exit code, load.

    Stopped (and reported so) after ``timeout`` seconds, or when the group's resident memory
    passes ``MAX_RSS_GIB`` (the machine is shared: better a missing figure than a swap storm).
    """
    load = _load()
    use_time = TIME.exists()
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tfile:
        full = [str(TIME), "-v", "-o", tfile.name, *cmd] if use_time else cmd
        with open(stdout, "wb") as out, open(stdout.with_suffix(".err"), "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(full, stdout=out, stderr=err, start_new_session=True)
            code, usage_kb, stopped = _watch(proc, t0, timeout)
            wall = time.perf_counter() - t0
        if stopped:
            return {"wall": None, "rss_mib": None, "code": None, "load": load, "stopped": stopped}
        rss_kb = usage_kb
        if use_time:
            text = Path(tfile.name).read_text()
            found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            rss_kb = int(found.group(1)) if found else None
    rss = round(rss_kb / 1024, 1) if rss_kb is not None else None
    return {"wall": round(wall, 3), "rss_mib": rss, "code": code, "load": load}


def _watch(proc: subprocess.Popen, t0: float, timeout: float) -> tuple[int | None, int, str]:
    """Wait for ``proc`` (``os.wait4``: its own rusage, ru_maxrss in KiB), watching the time
    and the memory of its process group; (exit code, ru_maxrss, why it was stopped or "")."""
    limit_kb = MAX_RSS_GIB * 2**20
    next_look = 0.0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss, ""
        now = time.perf_counter()
        why = ""
        if now - t0 > timeout:
            why = f"stopped after {timeout / 60:.0f} min"
        elif now >= next_look:
            next_look = now + 0.5
            if _group_rss_kb(proc.pid) > limit_kb:
                why = f"stopped above {MAX_RSS_GIB} GiB RSS"
        if why:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None, 0, why
        time.sleep(0.02)


def _group_rss_kb(pgid: int) -> int:
    """Resident KiB of every process in group ``pgid`` (Linux /proc; 0 elsewhere)."""
    total = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


def _commands(bench: Bench, run_dir: Path, baseline_rows: int | None) -> dict[str, list[str]]:
    py, jamsos, f = sys.executable, str(BIN / "jamsos"), str(bench.path)
    cmds = {
        "floor": [py, str(HERE / "floor_read.py"), bench.fmt, f],
        "validate": [jamsos, "validate", f, "--decree", DECREE, "--as-of", AS_OF],
    }
    if bench.build:
        cmds["build-batch"] = [
            jamsos, "build-batch", f, "--decree", DECREE, "--start", START,
            "--out", str(run_dir / "out"), "--ledger", str(run_dir / "ledger.sqlite"),
            "--batch-format", "csv",
        ]  # fmt: skip
    if bench.baseline:
        cmds["pydantic"] = [py, str(HERE / "baseline_pydantic.py"), f, "--decree", DECREE]
        cmds["pydantic"] += ["--as-of", AS_OF]
        if baseline_rows is not None:
            cmds["pydantic"] += ["--limit", str(baseline_rows)]
    return cmds


def run_set(bench: Bench, repeat: int, baseline_max: int, log) -> dict:
    meta = ensure_data(bench, log)
    rows = meta["rows"]
    prefix = baseline_max if bench.baseline and rows > baseline_max else None
    runs: dict[str, list[dict]] = {}
    for r in range(repeat):
        run_dir = OUT / "runs" / f"{bench.name}-{r}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        for what, cmd in _commands(bench, run_dir, prefix).items():
            result = timed(cmd, run_dir / f"{what}.out")
            result["stdout_tail"] = _tail(run_dir / f"{what}.out")
            if result.get("stopped") or result["code"] not in (0, 1):
                result["stderr_tail"] = _tail(run_dir / f"{what}.err")
            runs.setdefault(what, []).append(result)
            log(f"  {bench.name} {what} run {r + 1}/{repeat}: {_fmt_run(result)}")
        # the batch files and the ledger are as big as the input: keep only the reports
        shutil.rmtree(run_dir / "out", ignore_errors=True)
        for db in run_dir.glob("ledger.sqlite*"):
            db.unlink()
    out = {"rows": rows, "bytes": meta["bytes"], "planted": meta.get("planted", {}), "cmds": {}}
    for what, results in runs.items():
        out["cmds"][what] = _summary(results, rows if what != "pydantic" or prefix is None
                                     else prefix)  # fmt: skip
        if what == "pydantic" and prefix is not None:
            out["cmds"][what]["extrapolated_from"] = prefix
    out["date"] = date.today().isoformat()
    return out


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _fmt_run(r: dict) -> str:
    if r.get("stopped"):
        return f"{r['stopped'].upper()} (load {r['load']})"
    return f"{r['wall']:.2f} s, {r['rss_mib']:,.0f} MiB, exit {r['code']}, load {r['load']}"


def _summary(results: list[dict], rows: int) -> dict:
    ok = [r for r in results if not r.get("stopped") and r["code"] in (0, 1)]
    if not ok:
        return {"failed": True, "runs": results}
    walls = [r["wall"] for r in ok]
    return {
        "median_s": round(statistics.median(walls), 3),
        "min_s": min(walls),
        "max_s": max(walls),
        "peak_mib": max(r["rss_mib"] for r in ok if r["rss_mib"] is not None),
        "timed_rows": rows,
        "loads": [r["load"] for r in ok],
        "exit": sorted({r["code"] for r in ok}),
        "runs": len(ok),
        "stdout_tail": ok[-1].get("stdout_tail", ""),
    }


def run_startup(repeat: int, log) -> dict:
    """``jamsos --help`` and ``jamsos decrees``: what a user waits for before any work."""
    out = {}
    run_dir = OUT / "runs" / "startup"
    run_dir.mkdir(parents=True, exist_ok=True)
    for what, cmd in {
        "--help": [str(BIN / "jamsos"), "--help"],
        "decrees": [str(BIN / "jamsos"), "decrees"],
        "python -c pass": [sys.executable, "-c", "pass"],
        "import polars": [sys.executable, "-c", "import polars"],
    }.items():
        results = [timed(cmd, run_dir / "startup.out") for _ in range(max(5, repeat))]
        out[what] = _summary(results, 0)
        log(f"  startup {what}: median {out[what]['median_s']:.3f} s")
    out["date"] = date.today().isoformat()
    return out


# ------------------------------------------------------------------------------- report


def machine() -> dict:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "polars": metadata.version("polars"),
        "pydantic": metadata.version("pydantic"),
        "python-calamine": metadata.version("python-calamine"),
        "platform": platform.platform(),
        "time_source": "/usr/bin/time -v" if TIME.exists() else "os.wait4 rusage",
    }


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}"


def _cmd_row(name: str, what: str, res: dict, cmd: dict, floor: dict | None) -> str:
    if cmd.get("failed"):
        run = cmd["runs"][-1]
        why = run.get("stopped") or f"failed (exit {run['code']})"
        return f"| {name} | {what} | {res['rows']:,} | {why} | | | | | {run['load']} |"
    secs = cmd["median_s"]
    rows = res["rows"]
    note = ""
    if "extrapolated_from" in cmd:
        secs = secs * rows / cmd["extrapolated_from"]
        note = f" (×{rows / cmd['extrapolated_from']:g} of a {cmd['extrapolated_from']:,}-row run)"
    ratio = f"{secs / floor['median_s']:.2f}×" if floor and not floor.get("failed") else ""
    loads = "–".join(f"{x:.1f}" for x in (min(cmd["loads"]), max(cmd["loads"])))
    peak = f"{cmd['peak_mib']:,.0f}" + (" (prefix)" if note else "")
    return (
        f"| {name} | {what}{note} | {rows:,} | {secs:.2f} | {_rate(rows, secs)} | {peak} | "
        f"{ratio} | {cmd['runs']} | {loads} |"
    )


def _secs(res: dict | None, what: str) -> float | None:
    if not res:
        return None
    cmd = res["cmds"].get(what)
    if not cmd or cmd.get("failed"):
        return None
    secs = cmd["median_s"]
    if "extrapolated_from" in cmd:
        secs = secs * res["rows"] / cmd["extrapolated_from"]
    return secs


def _peak(res: dict | None, what: str) -> float | None:
    cmd = (res or {}).get("cmds", {}).get(what)
    return None if not cmd or cmd.get("failed") else cmd["peak_mib"]


def targets(results: dict) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of issue 7."""
    out = []

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("**holds**" if ok else "**missed**")

    m1 = results.get("csv-1m")
    v, f, p, b = (_secs(m1, w) for w in ("validate", "floor", "pydantic", "build-batch"))
    out.append(
        ("validate 1M ≤ 2× bare read floor",
         f"{v / f:.2f}× ({v:.2f} s vs {f:.2f} s)" if v and f else "–",
         verdict(v / f <= 2 if v and f else None))
    )  # fmt: skip
    out.append(
        ("validate 1M ≥ 10× faster than pydantic per row",
         f"{p / v:.1f}× faster ({v:.2f} s vs {p:.2f} s)" if v and p else "–",
         verdict(p / v >= 10 if v and p else None))
    )  # fmt: skip
    peak = _peak(m1, "validate")
    out.append(
        ("validate 1M peak RSS < 2 GiB",
         f"{peak:,.0f} MiB" if peak else "–",
         verdict(peak < 2048 if peak else None))
    )  # fmt: skip
    out.append(
        ("build-batch 1M (csv, fresh ledger) < 3× validate",
         f"{b / v:.2f}× ({b:.2f} s)" if b and v else "–",
         verdict(b / v < 3 if b and v else None))
    )  # fmt: skip
    m10 = results.get("csv-10m")
    v10, peak10 = _secs(m10, "validate"), _peak(m10, "validate")
    stopped = bool(m10) and m10["cmds"].get("validate", {}).get("failed")
    out.append(
        ("validate 10M completes, peak RSS < 8 GiB",
         "stopped/failed" if stopped else (f"{v10:.1f} s, {peak10:,.0f} MiB" if v10 else "–"),
         verdict(False if stopped else (peak10 < 8192 if v10 else None)))
    )  # fmt: skip
    x = results.get("xlsx-100k")
    vx, fx = _secs(x, "validate"), _secs(x, "floor")
    out.append(
        ("validate XLSX 100k ≤ 3× calamine read with cell types",
         f"{vx / fx:.2f}× ({vx:.2f} s vs {fx:.2f} s)" if vx and fx else "–",
         verdict(vx / fx <= 3 if vx and fx else None))
    )  # fmt: skip
    st = results.get("startup", {})
    for what in ("--help", "decrees"):
        s = st.get(what, {}).get("median_s")
        out.append(
            (f"`jamsos {what}` < 0.5 s", f"{s:.3f} s" if s else "–",
             verdict(s < 0.5 if s else None))
        )  # fmt: skip
    return out


def render(results: dict) -> str:
    mach = results.get("machine", machine())
    dates = sorted({r["date"] for k, r in results.items() if isinstance(r, dict) and "date" in r})
    lines = [
        "# Benchmarks",
        "",
        f"Measured {', '.join(dates) or date.today().isoformat()} on {mach['cores']} cores, "
        f"{mach['memory_gib']:g} GiB RAM, Python {mach['python']}, polars {mach['polars']}, "
        f"pydantic {mach['pydantic']}, python-calamine {mach['python-calamine']} "
        f"({mach['platform']}), a virtual machine whose speed drifts by up to ±20% between "
        "runs of the same command, so compare ratios within one set. The load column is the "
        "1-minute load average at the start of the runs (2 cores: above ~1 the figures are "
        "slowed by other work).",
        "",
        "Reproduce with `python benchmarks/run.py` (see `benchmarks/README.md`). Every "
        "command is a whole process (start-up, imports, reading, output), timed from outside: "
        f"wall seconds (median of the runs) and peak RSS ({mach['time_source']}).",
        "",
        f"Rosters: synthetic transport workers of Kota Batam (`tests/synthetic.py`, seed "
        f"{SEED}), ~2% planted defects of every SPEC §4 kind, ~1% people typed twice, ~15% NIKs "
        f"issued outside the city (a `NIK_OUTSIDE_CITY` warning each). `validate` and "
        f"`build-batch` run under `--decree {DECREE}` (no quota) with `--as-of {AS_OF}` / "
        f"`--start {START}`; build-batch writes CSV batch files of 1,000 rows into a fresh "
        "folder with a fresh ledger. The floor is a bare `polars.read_csv` of the same file "
        "(all columns as text) or, for XLSX, python-calamine reading the sheet with cell types, "
        "each in its own process. `pydantic` is `benchmarks/baseline_pydantic.py`: the same "
        "core checks with a pydantic v2 model per row (no near-duplicate search). The 10M "
        "roster is generated in 1M-row chunks (people typed twice within a chunk; NIK serials "
        "re-drawn so that chunks share no NIK).",
        "",
        "| set | command | rows | seconds | rows/s | peak MiB | × floor | runs | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in ORDER:
        res = results.get(name)
        if not res or name == "startup":
            continue
        floor = res["cmds"].get("floor")
        for what in ("floor", "validate", "build-batch", "pydantic"):
            if what in res["cmds"]:
                lines.append(_cmd_row(name, what, res, res["cmds"][what], floor))
    st = results.get("startup")
    if st:
        lines += ["", "Start-up (median of 5 runs):", "", "| command | seconds | peak MiB |"]
        lines.append("|---|---:|---:|")
        for what in ("--help", "decrees", "python -c pass", "import polars"):
            c = st.get(what)
            if c and not c.get("failed"):
                cmd = what if what.startswith(("python", "import")) else f"jamsos {what}"
                if what == "import polars":
                    cmd = "python -c 'import polars'"
                lines.append(f"| `{cmd}` | {c['median_s']:.3f} | {c['peak_mib']:,.0f} |")
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(results)]
    if ANALYSIS.exists():  # the profiles behind the misses, written by hand after a run
        lines += ["", ANALYSIS.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_generate":
        _generate(int(argv[1]), argv[2], Path(argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(ORDER), help=f"comma list of {', '.join(ORDER)}")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command (median)")
    ap.add_argument(
        "--baseline-max-rows",
        type=int,
        default=1_500_000,
        help="pydantic baseline: above this many rows, time a prefix and extrapolate",
    )
    ap.add_argument("--report", action="store_true", help="only rewrite docs/benchmarks.md")
    ap.add_argument("--fresh", action="store_true", help="forget earlier results")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    results = {} if args.fresh or not RESULTS.exists() else json.loads(RESULTS.read_text())
    if not args.report:
        wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
        unknown = set(wanted) - set(ORDER)
        if unknown:
            ap.error(f"unknown sets {sorted(unknown)}; known: {', '.join(ORDER)}")
        results["machine"] = machine()
        for name in sorted(wanted, key=ORDER.index):
            log(f"{name} (load {_load()})")
            if name == "startup":
                results[name] = run_startup(args.repeat, log)
            else:
                bench = SETS[name]
                repeat = bench.repeat or args.repeat
                results[name] = run_set(bench, repeat, args.baseline_max_rows, log)
            RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(results), encoding="utf-8")
    log(f"wrote {DOC.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
