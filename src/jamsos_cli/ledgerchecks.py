"""The checks of a run's accepted rows against the ledger (SPEC §4, §7, §10), shared by
build-batch and ``validate --ledger``. Each row gets at most one of them, in this order:

1. ``NIK_CONFLICT`` (``duplicates.ledger_conflict_checks``): the ledger holds the NIK for
   another person (the one name identity, or another birth date);
2. ``PERSON_ENDED``: the ledger records the person's coverage as ended from a month on or
   before the run's last month (until ``ledger reopen``);
3. ``BPJS_REFUSED``: BPJS refused the person in a batch overlapping the run's months (its
   reason; until ``ledger reopen``);
4. ``DUKCAPIL_NOT_MATCHED``: the registry's latest result for the NIK is not Padan (not
   found, double, other name...: its result, date and file);

and, for build-batch (``submitting``):

5. ``ALREADY_ENROLLED`` (covered under another decree in overlapping months; the first
   recorded wins) or ``ALREADY_SUBMITTED`` (same decree: info, not submitted again);
6. ``QUOTA_EXCEEDED`` (``eligibility.quota_checks``), counting first the people the ledger
   covers for this decree in those months.

"Covered" means submitted or confirmed, or ended after the run's first month: a refused or
withdrawn person, and one ended before, frees the place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from jamsos_cli import findings as fnd
from jamsos_cli.ledger import LedgerView, Period, folder_basename, month_label
from jamsos_cli.ledger.status import covering, overlapping
from jamsos_cli.ledger.store import EVENT_REFUSED, EVENT_WITHDRAWN
from jamsos_cli.texts import ref

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from jamsos_cli.decrees import Decree
    from jamsos_cli.pipeline import RunResult

# The finding codes this step emits: tests/test_house.py holds each step to its list, and
# all the lists to codes.toml (NIK_CONFLICT is duplicates'; QUOTA_EXCEEDED eligibility's).
EMITS = frozenset(
    {
        "PERSON_ENDED",
        "BPJS_REFUSED",
        "DUKCAPIL_NOT_MATCHED",
        "ALREADY_ENROLLED",
        "ALREADY_SUBMITTED",
    }
)
ALREADY_SUBMITTED = "ALREADY_SUBMITTED"  # not a reject: build-batch leaves these rows out
NOT_MATCHED = ("tidak_padan", "tidak_ditemukan", "ganda", "beda_nama")

# The ledger's people a run reads (once: near-duplicates and these checks).
LEDGER_COLUMNS = ("name", "birth_date", "sex", "phone", "kelurahan")


def ledger_checks(
    run: RunResult,
    view: LedgerView,
    period: Period,
    decree: Decree | None = None,
    *,
    submitting: bool = True,
) -> pl.DataFrame:
    """The findings (``findings.CHECK_SCHEMA``) of the run's accepted rows against the
    ledger, for coverage in ``period``. ``decree``/``submitting``: build-batch's checks 5-6."""
    from jamsos_cli.duplicates import ledger_conflict_checks

    candidates = run.accepted().select(
        "_rid", "nik", "raw_nik", "name_key", "father_key", "birth_date"
    )
    people = view.people.with_columns(folder_basename(pl.col("folder")))
    recorded = people.filter(pl.col("person_status") != EVENT_WITHDRAWN)
    first = recorded.sort("batch_id", maintain_order=True).unique(
        "nik", keep="first", maintain_order=True
    )
    found = [
        ledger_conflict_checks(candidates, first.select("nik", "name", "birth_date", "folder"))
    ]
    left = _unflagged(candidates, found).select("_rid", "nik")
    found.append(_ended(left, view.ends, period))
    left = _unflagged(left, found)
    found.append(_refused(left, people, period))
    left = _unflagged(left, found)
    found.append(_not_matched(left, view.matching))
    left = _unflagged(left, found)
    if submitting and decree is not None:
        found += _covered(run, left, people, decree, period)
    return fnd.concat_checks(found)


def _unflagged(rows: pl.DataFrame, found: list[pl.DataFrame | pl.LazyFrame]) -> pl.DataFrame:
    flagged = fnd.concat_checks(found).select(pl.col("rid").alias("_rid"))
    return rows.join(flagged, on="_rid", how="anti", maintain_order="left")


def _texts(frame: pl.DataFrame, keys: list[str], make) -> pl.DataFrame:
    """``keys`` → ``detail``: a text made once per distinct value (``make(row)``), not per
    row."""
    distinct = frame.select(keys).unique(maintain_order=True)
    details = [make(row) for row in distinct.iter_rows(named=True)]
    return distinct.with_columns(pl.Series("detail", details, dtype=pl.Utf8))


def _ended(rows: pl.DataFrame, ends: pl.DataFrame, period: Period) -> pl.LazyFrame:
    hits = rows.join(ends, on="nik", how="inner", maintain_order="left").filter(
        pl.col("ended_from") <= period.end
    )
    texts = _texts(
        hits,
        ["ended_from", "end_reason"],
        lambda r: ref(
            "ledger.ended_detail",
            month=month_label(r["ended_from"]),
            reason=ref(f"ended.{r['end_reason']}"),
        ),
    )
    hits = hits.join(texts, on=["ended_from", "end_reason"], how="left", maintain_order="left")
    return fnd.flag(hits, pl.lit(True), "PERSON_ENDED", "nik", pl.col("nik"), pl.col("detail"))


def _refused(rows: pl.DataFrame, people: pl.DataFrame, period: Period) -> pl.LazyFrame:
    refused = (
        people.filter(
            pl.col("person_status") == EVENT_REFUSED,
            ~pl.col("reopened"),
            overlapping(period.start, period.end),
        )
        .sort("batch_id")
        .unique("nik", keep="last", maintain_order=True)
        .select("nik", "folder", "reason")
    )
    hits = rows.join(refused, on="nik", how="inner", maintain_order="left")
    detail = pl.format("{}: {}", pl.col("folder"), pl.col("reason").fill_null("-"))
    return fnd.flag(hits, pl.lit(True), "BPJS_REFUSED", "nik", pl.col("nik"), detail)


def _not_matched(rows: pl.DataFrame, matching: pl.DataFrame) -> pl.LazyFrame:
    hits = rows.join(
        matching.filter(pl.col("result").is_in(NOT_MATCHED)),
        on="nik",
        how="inner",
        maintain_order="left",
    )
    texts = _texts(
        hits,
        ["result", "result_date", "file"],
        lambda r: ref(
            "ledger.matching_detail",
            result=ref(f"dukcapil.result.{r['result']}"),
            date=r["result_date"],
            file=r["file"] or "-",
        ),
    )
    hits = hits.join(
        texts, on=["result", "result_date", "file"], how="left", maintain_order="left",
        nulls_equal=True,
    )  # fmt: skip
    return fnd.flag(
        hits, pl.lit(True), "DUKCAPIL_NOT_MATCHED", "nik", pl.col("nik"), pl.col("detail")
    )


def _covered(
    run: RunResult, rows: pl.DataFrame, people: pl.DataFrame, decree: Decree, period: Period
) -> list[pl.DataFrame | pl.LazyFrame]:
    """ALREADY_ENROLLED / ALREADY_SUBMITTED, then QUOTA_EXCEEDED."""
    from jamsos_cli.eligibility import quota_checks

    covered = people.filter(covering(period.start, period.end))
    first = (
        covered.sort("batch_id", maintain_order=True)
        .unique("nik", keep="first", maintain_order=True)
        .select("nik", pl.col("decree").alias("_decree"), "folder")
    )
    hits = rows.join(first, on="nik", how="inner", maintain_order="left")
    same = pl.col("_decree") == decree.id
    enrolled = fnd.flag(hits, ~same, "ALREADY_ENROLLED", "nik", pl.col("nik"), pl.col("folder"))
    again = fnd.flag(hits, same, ALREADY_SUBMITTED, "nik", pl.col("nik"), pl.col("folder"))
    eligible = rows.join(hits.select("_rid"), on="_rid", how="anti").get_column("_rid")
    in_ledger = covered.filter(pl.col("decree") == decree.id).get_column("nik").n_unique()
    quota = quota_checks(run.records, decree, eligible, already_covered=in_ledger)
    return [enrolled, again, quota]


def check_against(run: RunResult, location: Path, as_of: date, mode: int) -> None:
    """``validate --ledger``: add to ``run.findings`` the checks 1-4 against the ledger (read
    from a private snapshot: never waits for cron, never writes), for coverage in the month
    of ``as_of``."""
    from jamsos_cli.ledger import opened
    from jamsos_cli.pipeline import attach_context

    month = as_of.year * 12 + as_of.month - 1
    with opened(location, mode=mode) as book:
        view = book.view(LEDGER_COLUMNS)
    checks = ledger_checks(run, view, Period(month, month), submitting=False)
    run.findings = pl.concat([run.findings, attach_context(checks, run.records, run.tables)]).sort(
        "rid", nulls_last=False, maintain_order=True
    )
