"""Likely-duplicate search measured as the record-linkage field does: precision and recall per
error class, side by side with the previous scoring and with splink (run by hand, not a test).

    python benchmarks/bench_linkage.py                      # 100k and 1M rows, every engine
    python benchmarks/bench_linkage.py --rows 100000 --engines fs,points

The rosters come from ``linkage_roster.py`` (error classes and hard negatives documented
there). Each engine runs in a fresh process on the same roster (a Parquet file), timed from
the call that finds the pairs to its result, with the peak RSS of that process:

- ``fs``: this tree's ``neardup.find_near_duplicates`` (the Fellegi-Sunter model of
  ``linkage.py``), default threshold;
- ``points``: the hand-tuned points it replaced (``--points-ref``, default the commit before
  the model; its ``neardup.py`` and data files are read from git), default threshold 70;
- ``splink``: splink 5 with its DuckDB backend (``splink_linkage.py``, in a separate venv made
  from ``requirements-linkage.txt``: ``--splink-python``), blocking on the same keys as jamsos
  (each NIK digit left out, each neighbouring pair put in order, the NIK without its date part
  plus the birth date, birth date + phone, birth date + name), the same normalised names,
  u from random sampling, m by EM, threshold 0.7 (the same as jamsos' 70 of 100).

A pair counts as found when both records of a planted second record are paired (either
order); a reported pair of two different people is a false positive, named by what they are
(twins, parent and child, namesakes, or strangers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import polars as pl

from jamsos_cli.neardup import IDENTITY

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DATA = HERE / "data"
POINTS_REF = "1e255a4"
RECORD_COLUMNS = ["_rid", "_file", "_sheet", "_row", *IDENTITY]


# --------------------------------------------------------------------------- engines (child)


def _points_engine(ref: str, folder: Path) -> types.ModuleType:
    """The points engine of commit ``ref``, loaded from git with its own data files (written
    to ``folder``, read when it first runs)."""
    root = HERE.parent

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), "show", f"{ref}:{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    for name in ("neardup.toml", "names.toml"):
        (folder / name).write_text(show(f"schemas/{name}"))
    source = show("src/jamsos_cli/neardup.py").replace(
        "from jamsos_cli.resources import schema_file",
        f"schema_file = lambda name: __import__('pathlib').Path({str(folder)!r}) / name",
    )
    module = types.ModuleType("neardup_points")
    sys.modules["neardup_points"] = module  # pydantic resolves the models' annotations there
    exec(compile(source, "neardup_points.py", "exec"), module.__dict__)
    return module


def _child(engine: str, data: str, out: str, ref: str) -> None:
    """Run one engine on the records at ``data``; write the pairs, print time and memory."""
    folder = Path(tempfile.mkdtemp(prefix="points-", dir=DATA))
    try:
        _run_child(engine, data, out, ref, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_child(engine: str, data: str, out: str, ref: str, folder: Path) -> None:
    if engine == "points":
        find = _points_engine(ref, folder).find_near_duplicates
    else:
        from jamsos_cli.neardup import find_near_duplicates as find
    records = pl.read_parquet(data)
    t0, c0 = time.perf_counter(), time.process_time()
    found = find(records)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    found.filter(pl.col("b_rid").is_not_null()).select("a_rid", "b_rid", "score").write_parquet(out)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak_mib()}))


def peak_mib() -> float:
    """Peak resident memory of this process. VmHWM, not ``ru_maxrss``: Linux carries
    ``ru_maxrss`` over from the parent through fork and exec, so a child started by a
    parent holding a big roster would report the parent's peak."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- splink input


def splink_input(records: pl.DataFrame) -> pl.DataFrame:
    """The columns splink compares, prepared with jamsos' own normalisation (names without
    titles and with spellings unified, addresses and kelurahan upper-cased and stripped), so
    the comparison is between the models, not the cleaning."""
    from jamsos_cli.names import normalise_name

    def squash(col: str) -> pl.Expr:
        return (
            pl.col(col)
            .str.to_uppercase()
            .str.replace_all(r"[^A-Z0-9]+", " ")
            .str.strip_chars()
            .replace("", None)
        )

    return records.select(
        unique_id="_rid",
        nik="nik",
        name=normalise_name(pl.col("name")),
        birth_date=pl.col("birth_date").dt.strftime("%Y-%m-%d"),
        sex="sex",
        phone="phone",
        address=squash("address"),
        kelurahan=squash("kelurahan"),
    )


# --------------------------------------------------------------------------- measuring


def _run(engine: str, rows: int, data: Path, splink_data: Path, args) -> dict:
    out = DATA / f"pairs_{engine}_{rows}.parquet"
    if engine == "splink":
        cmd = [args.splink_python, str(HERE / "splink_linkage.py"), str(splink_data), str(out)]
    else:
        cmd = [sys.executable, __file__, "--child", engine, str(data), str(out), args.points_ref]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    pairs = pl.read_parquet(out)
    out.unlink()
    return {"pairs": pairs, **figures}


def evaluate(truth: pl.DataFrame, pairs: pl.DataFrame) -> dict:
    """Precision, recall per error class and overall, and false positives by kind."""
    who = truth.select("_rid", "person", "family", "negative_of", "negative_kind")
    p = pairs.select(
        lo=pl.min_horizontal("a_rid", "b_rid"), hi=pl.max_horizontal("a_rid", "b_rid")
    ).unique()
    p = p.join(who.select(pl.all().name.prefix("a_")), left_on="lo", right_on="a__rid").join(
        who.select(pl.all().name.prefix("b_")), left_on="hi", right_on="b__rid"
    )
    same = pl.col("a_person") == pl.col("b_person")
    negative = (pl.col("a_negative_of") == pl.col("hi")) | (pl.col("b_negative_of") == pl.col("lo"))
    kind = (
        pl.when(same)
        .then(pl.lit("match"))
        .when(negative)
        .then(pl.coalesce("a_negative_kind", "b_negative_kind"))
        .when(pl.col("a_family") == pl.col("b_family"))
        .then(pl.lit("family"))
        .otherwise(pl.lit("strangers"))
    )
    p = p.with_columns(kind=kind)
    from linkage_roster import STRESS_CLASSES

    planted = truth.filter(pl.col("dup_of").is_not_null()).select(
        lo=pl.min_horizontal("_rid", "dup_of"),
        hi=pl.max_horizontal("_rid", "dup_of"),
        error_class="error_class",
    )
    found = planted.join(p.filter(pl.col("kind") == "match"), on=["lo", "hi"], how="left")
    by_class = (
        found.group_by("error_class")
        .agg(planted=pl.len(), found=pl.col("kind").is_not_null().sum())
        .with_columns(recall=pl.col("found") / pl.col("planted"))
        .sort("error_class")
    )
    negatives = truth.filter(pl.col("negative_kind").is_not_null()).group_by("negative_kind").len()
    false_pos = p.filter(pl.col("kind") != "match").group_by("kind").len()
    tp = p.filter(pl.col("kind") == "match").height
    return {
        "reported": p.height,
        "true_pos": tp,
        "precision": tp / max(p.height, 1),
        "recall": found.filter(~pl.col("error_class").is_in(STRESS_CLASSES))
        .select(pl.col("kind").is_not_null().mean())
        .item(),
        "by_class": {r["error_class"]: r for r in by_class.iter_rows(named=True)},
        "negatives": dict(negatives.iter_rows()),
        "false_pos": dict(false_pos.iter_rows()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="100000,1000000")
    ap.add_argument("--engines", default="fs,points,splink")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--points-ref", default=POINTS_REF)
    ap.add_argument("--splink-python", default=str(HERE.parent / ".venv-linkage/bin/python"))
    ap.add_argument("--json", help="write the figures here too")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    from linkage_roster import generate

    DATA.mkdir(exist_ok=True)
    results = {}
    for rows in [int(r) for r in args.rows.split(",")]:
        roster = generate(rows, seed=args.seed)
        data = DATA / f"linkage_{rows}.parquet"
        splink_data = DATA / f"linkage_{rows}_splink.parquet"
        roster.select(RECORD_COLUMNS).write_parquet(data)
        if "splink" in args.engines:
            splink_input(roster).write_parquet(splink_data)
        for engine in args.engines.split(","):
            run = _run(engine, rows, data, splink_data, args)
            figures = evaluate(roster, run.pop("pairs"))
            results[f"{engine}@{rows}"] = {**run, **figures}
            _print(engine, rows, results[f"{engine}@{rows}"])
        data.unlink()
        splink_data.unlink(missing_ok=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    print()
    print(table(results))


def _print(engine: str, rows: int, r: dict) -> None:
    print(
        f"{engine:<7} {rows:>9,} rows: precision {r['precision']:.4f} recall {r['recall']:.4f} "
        f"({r['true_pos']:,} of {r['reported']:,} reported) {r['seconds']:.1f} s "
        f"({r['cpu_seconds']:.1f} s CPU) "
        f"{r['peak_mib']:,.0f} MiB; false positives {r['false_pos'] or 'none'}",
        flush=True,
    )
    weak = {k: f"{v['found']}/{v['planted']}" for k, v in r["by_class"].items() if v["recall"] < 1}
    print(f"        below 1.0: {weak or 'none'}", flush=True)


def table(results: dict) -> str:
    """The side-by-side table (Markdown): one column per engine and size."""
    keys = list(results)
    head = "| | " + " | ".join(k.replace("@", " @ ") for k in keys) + " |"
    lines = [head, "|---" * (len(keys) + 1) + "|"]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("precision", [f"{results[k]['precision']:.3f}" for k in keys])
    row("recall", [f"{results[k]['recall']:.3f}" for k in keys])
    row("seconds (wall)", [f"{results[k]['seconds']:.1f}" for k in keys])
    row("CPU seconds", [f"{results[k]['cpu_seconds']:.1f}" for k in keys])
    row("peak MiB", [f"{results[k]['peak_mib']:,.0f}" for k in keys])
    for kind in ("twins", "parent_child", "namesakes", "family", "strangers"):
        row(f"false pos.: {kind}", [str(results[k]["false_pos"].get(kind, 0)) for k in keys])
    classes = sorted({c for k in keys for c in results[k]["by_class"]})
    for c in classes:
        row(
            f"recall {c}",
            [f"{results[k]['by_class'].get(c, {}).get('recall', float('nan')):.3f}" for k in keys],
        )
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", str(os.cpu_count() or 2))
    main()
