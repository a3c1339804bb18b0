"""BPJS's bill for a month against the ledger (``jamsos ledger reconcile``).

The bill is an office file (``officefiles``: the roster reader, columns by the aliases of
``schemas/layouts/bpjs-bill.toml``): per participant a NIK or a KPJ and an amount. A file
without a NIK/KPJ column or an amount column is not a bill: exit 2 naming what is missing.
A row whose NIK cell is not a 16-digit NIK, or whose amount is not a whole number of
rupiah, is exit 2 naming the row: a bill is reconciled whole or not at all. A row with
neither NIK nor KPJ (a total row) is no participant.

Against the people the ledger covers that month (``bill.not_covered`` left out), each
expected at the premium per person-month their batch recorded:
- ``billed_not_covered``: billed, not covered; the reason: the person's status that month
  (``withdrawn``, ``refused``, ``ended``: ``bill.not_covered``), ``other_month`` (in the
  ledger, not covered that month), ``never_sent`` (in no live batch), ``kpj_unknown`` (a
  KPJ no reply of BPJS gave);
- ``covered_not_billed``: covered, not billed;
- ``amount_differs``: both, another amount (a NIK billed twice counts its rows' sum).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from jamsos_cli.ledger.bill import not_covered
from jamsos_cli.ledger.book import Ledger, folder_basename
from jamsos_cli.ledger.period import Period, month_label
from jamsos_cli.ledger.store import Chosen

KINDS = ("billed_not_covered", "covered_not_billed", "amount_differs")
DIFFERENCE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.Utf8,
    "reason": pl.Utf8,
    "nik": pl.Utf8,
    "kpj": pl.Utf8,
    "row": pl.Int64,
    "billed": pl.Int64,
    "expected": pl.Int64,
    "folder": pl.Utf8,
}

_THOUSANDS_DOT = r"^\d{1,3}(\.\d{3})+(,0+)?$"  # 16.800 / 16.800,00
_THOUSANDS_COMMA = r"^\d{1,3}(,\d{3})+(\.0+)?$"  # 16,800 / 16,800.00
_PLAIN = r"^\d+([.,]0+)?$"  # 16800 / 16800.0 (a number cell)


def rupiah_expr(text: pl.Expr) -> pl.Expr:
    """A bill's amount cell as whole rupiah (``Rp 16.800``, ``16,800.00``, ``16800``), null
    when it is not one (a fraction of a rupiah, words, a negative amount)."""
    t = text.str.strip_chars().str.replace(r"(?i)^(rp\.?|idr)\s*", "").str.replace_all(" ", "")
    whole = (
        pl.when(t.str.contains(_THOUSANDS_DOT))
        .then(t.str.replace(r",0+$", "").str.replace_all(r"\.", ""))
        .when(t.str.contains(_THOUSANDS_COMMA))
        .then(t.str.replace(r"\.0+$", "").str.replace_all(",", ""))
        .when(t.str.contains(_PLAIN))
        .then(t.str.replace(r"[.,]0+$", ""))
    )
    return whole.cast(pl.Int64, strict=False)


def read_bill(path: Path, layout: Path | None = None) -> pl.DataFrame:
    """The bill's participants: ``row``, ``nik`` (or null), ``kpj`` (or null), ``amount``.
    Not a bill, or a row that cannot be read as one: ``OfficeFileError`` (exit 2)."""
    from jamsos_cli.officefiles import OfficeFileError, load_office_layout, read_office_file

    table = read_office_file(path, str(path), load_office_layout("bpjs-bill", layout))
    frame = table.frame
    for name in ("nik", "raw_nik", "kpj"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(name))
    frame = frame.with_columns(
        pl.col("kpj").cast(pl.Utf8).str.replace_all(r"\D", "").replace("", None),
        pl.col("raw_nik").cast(pl.Utf8).str.strip_chars().replace("", None),
    ).filter(pl.col("raw_nik").is_not_null() | pl.col("kpj").is_not_null())  # a total row
    bad_nik = frame.filter(pl.col("raw_nik").is_not_null() & pl.col("nik").is_null())
    if bad_nik.height:
        raise OfficeFileError(
            "error.office.bad_nik",
            path=path,
            row=bad_nik.item(0, "_row"),
            column=table.headers["nik"],
        )
    frame = frame.with_columns(rupiah_expr(pl.col("amount").cast(pl.Utf8)).alias("_amount"))
    bad = frame.filter(pl.col("_amount").is_null() | (pl.col("_amount") < 0))
    if bad.height:
        raise OfficeFileError(
            "error.office.bad_amount",
            path=path,
            row=bad.item(0, "_row"),
            column=table.headers["amount"],
            value=bad.item(0, "amount"),
        )
    return frame.select(
        pl.col("_row").cast(pl.Int64).alias("row"), "nik", "kpj", pl.col("_amount").alias("amount")
    )


def kpj_numbers(ledger: Ledger) -> pl.DataFrame:
    """(kpj, nik): the KPJ numbers BPJS's replies gave (``active`` events; a KPJ given again
    later names the person it was given to last)."""
    from jamsos_cli.ledger.store import EVENT_ACTIVE

    active = ledger.store.events((EVENT_ACTIVE,)).filter(pl.col("kpj").is_not_null())
    return active.unique("kpj", keep="last", maintain_order=True).select("kpj", "nik")


@dataclass(frozen=True)
class Reconciliation:
    month: int
    summary: dict[str, int]
    differences: pl.DataFrame  # DIFFERENCE_SCHEMA, in the order of KINDS, then bill row / NIK

    @property
    def month_label(self) -> str:
        return month_label(self.month)


def reconcile(ledger: Ledger, month: int, bill: pl.DataFrame) -> Reconciliation:
    """The bill (``read_bill``) against the people the ledger covers in ``month``."""
    chosen = Chosen(period=Period(month, month))
    prices = ledger.store.batch_details(chosen).select(
        "batch_id", pl.col("premium_per_person_month").alias("expected")
    )
    gone = not_covered(ledger, month)
    covered = (
        ledger.people(Period(month, month), columns=("batch_id", "nik", "folder"))
        .join(gone, on=["batch_id", "nik"], how="anti")
        .join(prices, on="batch_id", how="left")
        .with_columns(folder_basename(pl.col("folder")))
    )
    # a row known by its KPJ only takes the NIK the ledger holds for that KPJ
    kpjs = kpj_numbers(ledger).rename({"nik": "_kpj_nik"})
    billed = (
        bill.join(kpjs, on="kpj", how="left", maintain_order="left")
        .with_columns(pl.coalesce("nik", "_kpj_nik").alias("nik"))
        .drop("_kpj_nik")
    )
    known = billed.filter(pl.col("nik").is_not_null())
    per_nik = known.group_by("nik", maintain_order=True).agg(
        pl.col("row").first(), pl.col("kpj").drop_nulls().first(), pl.col("amount").sum()
    )
    both = per_nik.join(covered, on="nik", how="inner", maintain_order="left")
    differs = both.filter(pl.col("amount") != pl.col("expected")).select(
        pl.lit("amount_differs").alias("kind"),
        pl.lit(None, pl.Utf8).alias("reason"),
        "nik",
        "kpj",
        "row",
        pl.col("amount").alias("billed"),
        "expected",
        "folder",
    )
    anywhere = ledger.people(columns=("nik",)).unique()
    reasons = gone.select("nik", "reason").unique("nik", keep="first")
    not_cov = (
        per_nik.join(covered, on="nik", how="anti", maintain_order="left")
        .join(reasons, on="nik", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("reason").is_not_null())
            .then(pl.col("reason"))
            .when(pl.col("nik").is_in(anywhere.get_column("nik").implode()))
            .then(pl.lit("other_month"))
            .otherwise(pl.lit("never_sent"))
            .alias("reason")
        )
    )
    unknown_kpj = billed.filter(pl.col("nik").is_null()).with_columns(
        pl.lit("kpj_unknown").alias("reason")
    )
    billed_not_covered = pl.concat(
        [
            frame.select(
                pl.lit("billed_not_covered").alias("kind"),
                "reason",
                pl.col("nik").cast(pl.Utf8),
                "kpj",
                "row",
                pl.col("amount").alias("billed"),
                pl.lit(None, pl.Int64).alias("expected"),
                pl.lit(None, pl.Utf8).alias("folder"),
            )
            for frame in (not_cov, unknown_kpj)
        ]
    ).sort("row")
    unbilled = covered.join(per_nik, on="nik", how="anti", maintain_order="left").select(
        pl.lit("covered_not_billed").alias("kind"),
        pl.lit(None, pl.Utf8).alias("reason"),
        "nik",
        pl.lit(None, pl.Utf8).alias("kpj"),
        pl.lit(None, pl.Int64).alias("row"),
        pl.lit(None, pl.Int64).alias("billed"),
        "expected",
        "folder",
    )
    differences = pl.concat(
        [f.cast(DIFFERENCE_SCHEMA) for f in (billed_not_covered, unbilled, differs)]
    )
    summary = {
        "billed": per_nik.height + unknown_kpj.height,
        "covered": covered.height,
        "billed_not_covered": billed_not_covered.height,
        "covered_not_billed": unbilled.height,
        "amount_differs": differs.height,
        "billed_amount": int(bill.get_column("amount").sum()),
        "expected_amount": int(covered.get_column("expected").sum()),
    }
    return Reconciliation(month=month, summary=summary, differences=differences)
