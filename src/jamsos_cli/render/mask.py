"""Masking personal data, the one place every screen, log and JSON output passes through
(SPEC §8): NIKs as ``2171********0001``, phones as ``0812*****890``, unless ``--show-pii``.
Files meant to be used (batches, rejects, review files, exports) hold the real values."""

from __future__ import annotations

import polars as pl

# Fields whose values are masked on screen, in logs and in JSON reports (SPEC §8).
NIK_FIELDS = frozenset({"nik", "family_head_nik"})


PHONE_FIELDS = frozenset({"phone"})


_STARS = "*" * 32  # longer than any NIK or phone's hidden part


def _stars(n: pl.Expr) -> pl.Expr:
    """``n`` stars: a slice of a literal; a list of stars joined only for a huge cell (a
    list per finding made the masking of a million findings 3x slower)."""
    n = n.clip(0)
    huge = pl.when(n > len(_STARS)).then(n)  # null elsewhere: no list made
    return (
        pl.when(n <= len(_STARS))
        .then(pl.lit(_STARS).str.slice(0, n))
        .otherwise(pl.lit("*").repeat_by(huge).list.join(""))
    )


def mask_nik_expr(expr: pl.Expr) -> pl.Expr:
    """Keep the first 4 and last 4 characters, hide the rest (short values: all but 2)."""
    # signed: both branches are computed for every row, and an unsigned ``n - 8`` of a short
    # value wraps to four billion stars (an out-of-memory abort on a NIK typed "123")
    n = expr.str.len_chars().cast(pl.Int64)
    return (
        pl.when(n >= 9)
        .then(expr.str.slice(0, 4) + _stars(n - 8) + expr.str.slice(-4))
        .otherwise(expr.str.slice(0, 2) + _stars(n - 2))
    )


def mask_phone_expr(expr: pl.Expr) -> pl.Expr:
    """Keep the first 4 and last 3 digits of a phone number."""
    n = expr.str.len_chars().cast(pl.Int64)  # signed, as in mask_nik_expr
    return (
        pl.when(n >= 8)
        .then(expr.str.slice(0, 4) + _stars(n - 7) + expr.str.slice(-3))
        .otherwise(_stars(n))
    )


def mask_nik(value: str | None) -> str | None:
    if value is None:
        return None
    return pl.select(mask_nik_expr(pl.lit(value, pl.Utf8))).item()


def masked_findings(findings: pl.DataFrame, show_pii: bool) -> pl.DataFrame:
    if show_pii:
        return findings
    value = pl.col("value")
    return findings.with_columns(
        pl.when(pl.col("field").is_in(list(NIK_FIELDS)))
        .then(mask_nik_expr(value))
        .when(pl.col("field").is_in(list(PHONE_FIELDS)))
        .then(mask_phone_expr(value))
        .otherwise(_mask_nik_runs(value))
        .alias("value"),
        _mask_nik_runs(pl.col("detail")).alias("detail"),
    )


def _mask_nik_runs(expr: pl.Expr) -> pl.Expr:
    """A NIK where no NIK belongs (columns swapped, a NIK pasted into TGL LAHIR, a file's
    line quoted in a read error) is still a NIK: any run of 16 digits is masked."""
    return expr.str.replace_all(r"(\d{4})\d{8}(\d{4})", "${1}********${2}")


def mask_text(text: str | None) -> str | None:
    """``_mask_nik_runs`` for one text (a command line in the ledger's log: ``jamsos ledger
    withdraw 2171...``)."""
    import re

    if text is None:
        return None
    return re.sub(r"(\d{4})\d{8}(\d{4})", r"\1********\2", text)
