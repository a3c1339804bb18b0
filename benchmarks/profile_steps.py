"""Where validate's time goes, step by step, in one process (run by hand, not by the tests).

    python benchmarks/profile_steps.py benchmarks/data/roster_1m.csv [--decree ID] [--repeat 3]

Times each step of ``pipeline.run_checks`` and of the report the way the pipeline runs them
(read, every per-distinct column of normalise on its own, the per-row NIK / person / phone /
identity stages, the region pairs, row checks, eligibility, duplicates, the near-duplicate
search's blocking and scoring, finding context, masking, messages, JSON encoding). Prints
wall and CPU seconds per step (best of ``--repeat``) and the near-duplicate candidates.
The steps call jamsos' internals; nothing is changed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from jamsos_cli import normalise as nm
from jamsos_cli import regions as reg

HERE = Path(__file__).resolve().parent
STEPS: dict[str, float] = {}


def timed(label: str, fn: Callable, repeat: int):
    """Run ``fn`` ``repeat`` times: best wall seconds and best CPU seconds (every thread of
    the process: the figure other work on a shared machine moves least)."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    STEPS[label] = cpu
    print(f"{label:<56} {best:7.3f} s  CPU {cpu:7.3f} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roster")
    ap.add_argument("--decree", default=None)
    ap.add_argument("--as-of", default="2025-06-01")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.repeat

    from jamsos_cli import findings as fnd
    from jamsos_cli.checks import row_checks
    from jamsos_cli.decrees import load_decree
    from jamsos_cli.duplicates import duplicate_checks
    from jamsos_cli.eligibility import eligibility_checks
    from jamsos_cli.neardup import (
        IDENTITY,
        _blocking,
        find_near_duplicates,
        near_duplicate_checks,
    )
    from jamsos_cli.pipeline import RUN_WIDE_COLUMNS, attach_context, error_rids
    from jamsos_cli.read import read_roster
    from jamsos_cli.render import documents
    from jamsos_cli.render.findings import issues_for_output, with_messages
    from jamsos_cli.render.mask import masked_findings

    decree = load_decree(args.decree) if args.decree else None
    as_of = date.fromisoformat(args.as_of)
    regions = reg.load()
    city_code = decree.city_code if decree else "21.71"
    city = regions.city(city_code)

    floor = timed("floor: polars.read_csv (all text)", lambda: pl.read_csv(args.roster,
                  infer_schema=False), n)  # fmt: skip
    del floor
    table = timed("read: read_roster (parse, strip, footers)",
                  lambda: read_roster(Path(args.roster), args.roster), n)  # fmt: skip
    raw = nm._raw([table], None).collect()
    raw = raw.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_rid"))
    print(f"rows {raw.height:,}")
    places = timed(
        "normalise: region pairs (per distinct pair)",
        lambda: nm._places(raw.select("raw_kecamatan", "raw_kelurahan"), city),
        n,
    )
    specs = nm._text_values()
    for column, spec in specs.items():
        distinct = raw.get_column(column).n_unique()
        timed(f"normalise: {column} ({distinct:,} distinct)",
              lambda c=column, s=spec: nm.per_distinct(raw, {c: s}), n)  # fmt: skip
    texts = timed("normalise: all per-distinct columns together",
                  lambda: nm.per_distinct(raw, specs), n)  # fmt: skip
    wide = raw.hstack(places).hstack(texts)

    def nik_stage() -> pl.DataFrame:
        niks = nm._cleaned_niks(wide.get_column("raw_nik"))
        return nm._nik_stage(wide.hstack(niks).lazy()).collect()

    staged = timed("normalise: NIK stage (per row)", nik_stage, n)
    timed("normalise: person stage (TTL, RT/RW)",
          lambda: nm._person_stage(staged.lazy()).collect(), n)  # fmt: skip
    person = nm._person_stage(staged.lazy()).collect()
    timed("normalise: phone stage (per row, libphonenumber's data)",
          lambda: nm._phone_stage(person.lazy()).collect(), n)  # fmt: skip
    frame = nm._phone_stage(person.lazy()).collect()
    timed("normalise: identity stage (dates)",
          lambda: nm._identity_stage(frame.lazy(), None).collect(), n)  # fmt: skip
    records = timed(
        "normalise: whole (normalise_batches, 500k rows a batch)",
        lambda: pl.concat(list(nm.normalise_batches([table], regions=regions,
                                                    city_code=city_code, rows=500_000))),
        n,
    )  # fmt: skip
    checks = timed("row_checks", lambda: row_checks(records, regions=regions,
                   city_code=city_code), n)  # fmt: skip
    parts = [checks]
    if decree is not None:
        eligible = timed("eligibility_checks",
                         lambda: eligibility_checks(records, decree, as_of=as_of), n)  # fmt: skip
        parts.append(eligible)
    checks = fnd.concat_checks(parts)
    run_wide = records.select(list(dict.fromkeys([*RUN_WIDE_COLUMNS, *IDENTITY])))
    timed("error_rids", lambda: error_rids(checks), n)
    dups = timed("duplicate_checks",
                 lambda: duplicate_checks(run_wide, error_rids(checks)), n)  # fmt: skip
    everyone = run_wide.lazy()
    _p, _n, _k, pairs = timed("near-duplicates: blocking",
                                 lambda: _blocking(everyone, None, 1000), n)  # fmt: skip
    print(f"  blocked pairs {pairs.select(pl.len()).collect().item():,}")
    near = timed("near-duplicates: find_near_duplicates (all)",
                 lambda: find_near_duplicates(run_wide), n)  # fmt: skip
    print(f"  pairs reported {near.height:,}")
    timed("near-duplicates: near_duplicate_checks",
          lambda: near_duplicate_checks(near, run_wide), n)  # fmt: skip
    checks = fnd.concat_checks([checks, dups, near_duplicate_checks(near, run_wide)])
    findings = timed("attach_context + sort",
                     lambda: attach_context(checks, run_wide, [table]).sort("rid",
                     maintain_order=True), n)  # fmt: skip
    print(f"  findings {findings.height:,}")
    summary = timed("report: summarise",
                    lambda: fnd.summarise(run_wide, findings, [args.roster]), n)  # fmt: skip
    masked = timed("report: masked_findings", lambda: masked_findings(findings, False), n)
    timed("report: with_messages", lambda: with_messages(masked, "id"), n)
    issues = issues_for_output(findings, "id", False)
    timed("report: JSON encoding (render.documents)",
          lambda: sum(len(c) for c in documents.chunks({"summary": summary.as_dict(),
                                                        "issues": issues})), n)  # fmt: skip
    print(f"CPU of the pipeline's steps (no double counting): "
          f"{sum(v for k, v in STEPS.items() if _counted(k)):.2f} s")  # fmt: skip


def _counted(label: str) -> bool:
    """Steps that add up to the pipeline (not the breakdowns of a step timed whole)."""
    parts = ("floor", "normalise: ", "near-duplicates: blocking", "error_rids")
    whole = ("normalise: whole", "near-duplicates: find_near")
    return label.startswith(whole) or not label.startswith(parts)


if __name__ == "__main__":
    main()
