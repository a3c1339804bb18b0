"""The near-duplicate review file a clerk decides in (``jamsos dedupe --review``): one row per
pair, both people side by side (file, row, NIK, name, birth date, phone, address), the score
(a number) and the reasons in the clerk's language, and an empty decision column that takes
SAMA (same person) or BEDA (different people); in xlsx a drop-down offers exactly these on the
likely duplicates (an exact pair, one NIK twice, is corrected at the source, never decided).
Reading it back is ``review.read_decisions``'s; the columns are ``review.COLUMNS``."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from jamsos_cli.neardup import PAIR_SCHEMA
from jamsos_cli.render.reasons import render_reasons
from jamsos_cli.review import COLUMNS, DIFFERENT, SAME, DecisionsError, header
from jamsos_cli.texts import Lang, say
from jamsos_cli.writing import neutralise_expr, workbook, write_atomic, write_csv


def _person_columns(frame: pl.DataFrame, rid: str) -> pl.DataFrame:
    """The columns a clerk compares, from a records (or known) frame, empty when absent."""

    def col(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Utf8) if name in frame.columns else pl.lit(None, pl.Utf8)

    file = col("_file")
    sheet = col("_sheet")
    where = pl.when(sheet.is_not_null()).then(pl.format("{} [{}]", file, sheet)).otherwise(file)
    born = (
        pl.col("birth_date").dt.strftime("%d-%m-%Y")
        if "birth_date" in frame.columns
        else pl.lit(None, pl.Utf8)
    )
    return frame.select(
        pl.col(rid),
        file=where,
        row=col("_row"),
        nik=col("nik"),
        name=col("name"),
        birth_date=born,
        phone=col("phone"),
        address=col("address"),
    )


def _sides(pairs: pl.DataFrame, records: pl.DataFrame, known: pl.DataFrame | None):
    """One row per pair with a_* and b_* person columns (b from records, or known by NIK+ref)."""
    people = _person_columns(records, "_rid")
    a = people.select(pl.all().name.prefix("a_"))
    b = people.select(pl.all().name.prefix("b_")).drop("b_nik")
    out = pairs.join(
        a.drop("a_nik"), left_on="a_rid", right_on="a__rid", how="left", maintain_order="left"
    )
    out = out.join(b, left_on="b_rid", right_on="b__rid", how="left", maintain_order="left")
    if known is not None and "ref" in known.columns:
        k = (
            _person_columns(known.with_row_index("_k"), "_k")
            .with_columns(ref=known.get_column("ref").cast(pl.Utf8))
            .unique(subset=["ref", "nik"], keep="first")
            .select(
                b_ref="ref",
                b_nik="nik",
                k_name="name",
                k_birth_date="birth_date",
                k_phone="phone",
                k_address="address",
            )
        )
        out = out.join(k, on=["b_ref", "b_nik"], how="left", maintain_order="left").with_columns(
            pl.coalesce(f"b_{c}", f"k_{c}").alias(f"b_{c}")
            for c in ("name", "birth_date", "phone", "address")
        )
    return out.with_columns(b_file=pl.coalesce("b_file", "b_ref"))


def review_frame(
    pairs: pl.DataFrame, records: pl.DataFrame, lang: str = "id", known: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The review table as written (headers in ``lang``): the score a number, every other value
    text and formula-safe."""
    pairs = pairs.with_columns(
        pl.lit(None, dtype).alias(c) for c, dtype in PAIR_SCHEMA.items() if c not in pairs.columns
    )
    text = (
        render_reasons(pairs.get_column("reasons"), lang, pairs.get_column("weights"))
        if pairs.height
        else None
    )
    sides = _sides(pairs.with_columns(reasons_text=text), records, known)
    kind = pl.col("kind") if "kind" in pairs.columns else pl.lit("near")
    kind = kind.replace({k: say(f"pairs.kind.{k}", lang) for k in ("near", "exact")})
    decided = pl.when(pl.col("decision") == "same").then(pl.lit(SAME))
    table = sides.select(
        pair=pl.int_range(1, pl.len() + 1).cast(pl.Utf8),
        kind=kind.cast(pl.Utf8),
        score=pl.col("score").round(0).cast(pl.Int64),  # a number cell
        reasons=pl.col("reasons_text").cast(pl.Utf8),
        **{f"{s}_{c}": pl.col(f"{s}_{c}").cast(pl.Utf8) for s in "ab" for c in _SIDE},
        decision=decided,
        key=pl.format("{} / {}", "a_nik", "b_nik"),
    )
    return table.select(
        (pl.col(k) if table.schema[k] != pl.Utf8 else neutralise_expr(pl.col(k))).alias(
            header(k, lang)
        )
        for k in COLUMNS
    )


_SIDE = ("file", "row", "nik", "name", "birth_date", "phone", "address")


def write_review(
    pairs: pl.DataFrame,
    records: pl.DataFrame,
    path: str | os.PathLike,
    lang: Lang = "id",
    *,
    known: pl.DataFrame | None = None,
    mode: int = 0o600,
) -> Path:
    """Write the review file (``.csv`` or ``.xlsx`` by extension) through the one write path
    (``writing``: atomic, private with ``mode``, temporary files in a private folder).

    CSV: UTF-8 with BOM, ``;``-separated (what Indonesian Excel opens directly). XLSX: every
    cell text (NIKs and phones keep their digits), a SAMA/BEDA drop-down on the decision column.
    Pairs with a known (ledger) person show ``b_ref`` as their file; pass ``known`` to show
    that person's details too.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise DecisionsError("error.file.table_name", path=path)
    table = review_frame(pairs, records, lang, known)
    if suffix == ".csv":
        return write_csv(table, path, mode=mode)
    kind = pairs.get_column("kind") if "kind" in pairs.columns else None
    near = pl.Series([True] * pairs.height) if kind is None else (kind == "near").fill_null(False)
    return write_atomic(path, lambda tmp: _write_xlsx(table, near, tmp, lang), mode)


def _runs(flags: pl.Series) -> list[tuple[int, int]]:
    """(first, last) index of every run of true ``flags``."""
    runs = flags.rle().struct.unnest().with_columns(start=pl.col("len").cum_sum() - pl.col("len"))
    kept = runs.filter(pl.col("value"))
    return [(s, s + n - 1) for s, n in kept.select("start", "len").iter_rows()]


def _write_xlsx(table: pl.DataFrame, near: pl.Series, path: Path, lang: Lang) -> None:
    """The xlsx review: every cell text but the score (a number), a SAMA/BEDA drop-down on the
    decision cells of the likely duplicates (``near``, one flag per row) only."""
    wb = workbook(path)
    try:
        ws = wb.add_worksheet(say("review.sheet", lang))
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        text = wb.add_format({"num_format": "@"})
        number = wb.add_format({"num_format": "0"})
        ws.write_row(0, 0, table.columns, bold)
        for r, row in enumerate(table.iter_rows(), start=1):
            for c, value in enumerate(row):
                if isinstance(value, int):
                    ws.write_number(r, c, value, number)
                elif value is not None:
                    ws.write_string(r, c, value, text)
        last = table.width - 1
        decision = COLUMNS.index("decision")
        score = COLUMNS.index("score")
        widths = [6, 10, 6, 60, 18, 6, 18, 24, 12, 14, 28, 18, 6, 18, 24, 12, 14, 28, 22, 36]
        for c, width in enumerate(widths[: table.width]):
            ws.set_column(c, c, width, number if c == score else text)
        choice = {
            "validate": "list",
            "source": [SAME, DIFFERENT],
            "input_title": say("review.decision_title", lang),
            "input_message": say("review.decision_help", lang),
            "error_message": f"{SAME} / {DIFFERENT}",
        }
        for first, last_row in _runs(near):
            ws.data_validation(first + 1, decision, last_row + 1, decision, choice)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(table.height, 1), last)
    finally:
        wb.close()
