"""What the city owes BPJS for one month (``jamsos ledger bill``), from the ledger alone.

People covered in a month: everyone of the live batches whose period holds the month, less
the people not covered in it (``not_covered``). The money is what each batch recorded when
it was written (``batch_premiums``: rupiah per person-month and program), so a decree changed
later never rewrites the bill of a month already paid. A batch recorded before the ledger
kept the split (schema before ``batch_premiums``) counts in ``premium`` with its recorded
per-person-month total as ``unsplit``: the bill says so rather than guess a split.

People not covered in the month (withdrawn, refused by BPJS, ended) are the ledger's
statuses (``not_covered``). The sums are over batches, not people: a batch's head count is
recorded with it, and those not covered are counted from the ledger's events. A month's bill
over a million people reads the small ``batches`` table, the events and the few people
something happened to, never every row of the people table.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger.book import Ledger
from jamsos_cli.ledger.period import Period, month_label
from jamsos_cli.ledger.store import PROGRAMS, Chosen

# The money columns of a bill, in the order it shows them (integer rupiah).
MONEY = ("jkk", "jkm", "jht", "unsplit", "premium")


@dataclass(frozen=True)
class Bill:
    """One month's bill: a row per decree (``decree``, ``batches``, ``people`` and ``MONEY``)
    and the totals."""

    month: int
    decrees: pl.DataFrame

    @property
    def month_label(self) -> str:
        return month_label(self.month)

    def totals(self) -> dict[str, int]:
        return {c: int(self.decrees.get_column(c).sum()) for c in ("people", *MONEY)}

    def as_dict(self) -> dict:
        """SPEC §10's JSON: ``month``, ``decrees`` (one object per decree), ``people``,
        ``premium``; JKK, JKM and JHT apart, and ``unsplit`` (see the module docstring)."""
        return {"month": self.month_label, "decrees": self.decrees.to_dicts(), **self.totals()}


def not_covered(ledger: Ledger, month: int) -> pl.DataFrame:
    """(batch_id, nik, reason) of the people of the live batches holding ``month`` who are
    not covered in it, ``reason`` their status then (``status.fold``): ``withdrawn``
    (recorded by mistake), ``refused`` (by BPJS), ``ended`` (from that month or before).
    Only people something happened to are read (``LedgerStore.eventful_people``): a month
    over a million people reads the few with events, never every row."""
    from jamsos_cli.ledger.status import covering, fold

    chosen = Chosen(period=Period(month, month))
    months = ledger.store.batches(chosen).select("batch_id", "start_month", "end_month")
    people = (
        ledger.store.eventful_people(chosen)
        .select("batch_id", "nik")
        .join(months, on="batch_id", how="inner")
    )
    states = fold(people, ledger.store.events())
    return states.filter(~covering(month, month)).select(
        "batch_id", "nik", pl.col("person_status").alias("reason")
    )


def monthly_bill(ledger: Ledger, month: int, decree: str | None = None) -> Bill:
    """The bill for ``month`` (a month number, ``period.month_index``), of one decree or all.
    A decree the ledger has never held is a usage error (a typo must not read as Rp 0)."""
    if decree is not None and decree not in {b["decree"] for b in ledger.batches()}:
        raise UsageError("error.bill.decree_unknown", decree=decree, path=ledger.path)
    chosen = Chosen(period=Period(month, month), decree=decree)
    batches = ledger.store.batch_details(chosen).select(
        "batch_id", "decree", "participants", "premium_per_person_month"
    )
    gone = (
        not_covered(ledger, month)
        .select("batch_id", "nik")
        .unique()
        .group_by("batch_id")
        .len("gone")
        .with_columns(pl.col("gone").cast(pl.Int64))
    )
    split = (
        ledger.store.premiums(chosen)
        .pivot(on="program", index="batch_id", values="per_person_month")
        .with_columns(pl.lit(True).alias("_split"))
    )
    for program in PROGRAMS:
        if program not in split.columns:
            split = split.with_columns(pl.lit(0, pl.Int64).alias(program))
    rows = (
        batches.join(gone, on="batch_id", how="left")
        .join(split, on="batch_id", how="left")
        .with_columns(
            people=pl.col("participants") - pl.col("gone").fill_null(0),
            _split=pl.col("_split").fill_null(False),
        )
    )
    known = pl.col("_split")
    per_program = {p.lower(): pl.col(p).fill_null(0) for p in PROGRAMS}
    rows = rows.with_columns(
        **{k: pl.col("people") * v for k, v in per_program.items()},
        unsplit=pl.when(known)
        .then(0)
        .otherwise(pl.col("people") * pl.col("premium_per_person_month")),
    ).with_columns(premium=pl.sum_horizontal(*(c for c in MONEY if c != "premium")))
    decrees = (
        rows.group_by("decree")
        .agg(
            pl.len().cast(pl.Int64).alias("batches"),
            pl.col("people").sum(),
            *(pl.col(c).sum() for c in MONEY),
        )
        .sort("decree")
        .select("decree", "batches", "people", *MONEY)
        .cast({c: pl.Int64 for c in ("people", *MONEY)})
    )
    return Bill(month=month, decrees=decrees)
