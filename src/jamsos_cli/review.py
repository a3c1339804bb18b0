"""The near-duplicate review file: pairs side by side for a clerk, and the clerk's decisions back.

``write_review`` writes one row per pair (both people's file, row, NIK, name, birth date,
phone, address, the score and the reasons in the clerk's language) and an empty decision
column that takes SAMA (same person) or BEDA (different people); in xlsx a drop-down list
offers exactly these. ``read_decisions`` reads the edited file back as NIK pairs, so a decision
survives the rows being renumbered or the lists being merged differently on a later run.
"""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path

import polars as pl

from jamsos_cli.errors import JamsosError
from jamsos_cli.neardup import PAIR_SCHEMA
from jamsos_cli.render.reasons import render_reasons
from jamsos_cli.texts import LANGS, Lang, say
from jamsos_cli.writing import workbook, write_atomic, write_csv

# The review file's columns in order; their headers are ``review.column.<key>`` in the
# catalogue, and read_decisions accepts them in every language. ``key`` holds both NIKs as
# one text cell: Excel opening the CSV turns a bare 16-digit NIK into a number and saves it
# back as 2.17E+15; this cell survives, so decisions stay keyed.
COLUMNS = (
    "pair", "kind", "score", "reasons",
    "a_file", "a_row", "a_nik", "a_name", "a_birth_date", "a_phone", "a_address",
    "b_file", "b_row", "b_nik", "b_name", "b_birth_date", "b_phone", "b_address",
    "decision", "key",
)  # fmt: skip
SAME, DIFFERENT = "SAMA", "BEDA"
# What a clerk may type in the decision column (upper-cased, trimmed).
DECISION_WORDS: dict[str, str] = {
    "SAMA": "same",
    "SAME": "same",
    "S": "same",
    "YA": "same",
    "BEDA": "different",
    "BERBEDA": "different",
    "DIFFERENT": "different",
    "B": "different",
    "TIDAK": "different",
}
_FORMULA_START = r"^[=+\-@\t\r]"


class DecisionsError(JamsosError):
    """A decisions file that cannot be used (exit 2): names the file, and the row."""


def header(key: str, lang: Lang) -> str:
    """The header of review column ``key`` in ``lang``."""
    return say(f"review.column.{key}", lang)


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


def _guard(expr: pl.Expr) -> pl.Expr:
    """A value a spreadsheet would run as a formula gets a leading ' (the one change allowed)."""
    return pl.when(expr.str.contains(_FORMULA_START)).then(pl.lit("'") + expr).otherwise(expr)


def review_frame(
    pairs: pl.DataFrame, records: pl.DataFrame, lang: str = "id", known: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The review table as written (headers in ``lang``), every value text and formula-safe."""
    pairs = pairs.with_columns(
        pl.lit(None, dtype).alias(c) for c, dtype in PAIR_SCHEMA.items() if c not in pairs.columns
    )
    text = render_reasons(pairs.get_column("reasons"), lang) if pairs.height else None
    sides = _sides(pairs.with_columns(reasons_text=text), records, known)
    kind = pl.col("kind") if "kind" in pairs.columns else pl.lit("near")
    kind = kind.replace({k: say(f"pairs.kind.{k}", lang) for k in ("near", "exact")})
    decided = pl.when(pl.col("decision") == "same").then(pl.lit(SAME))
    table = sides.select(
        pair=pl.int_range(1, pl.len() + 1).cast(pl.Utf8),
        kind=kind.cast(pl.Utf8),
        score=pl.col("score").round(0).cast(pl.Int64).cast(pl.Utf8),
        reasons=pl.col("reasons_text").cast(pl.Utf8),
        **{f"{s}_{c}": pl.col(f"{s}_{c}").cast(pl.Utf8) for s in "ab" for c in _SIDE},
        decision=decided,
        key=pl.format("{} / {}", "a_nik", "b_nik"),
    )
    return table.select(_guard(pl.col(k)).alias(header(k, lang)) for k in COLUMNS)


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
        return write_csv(table, path, mode=mode, encoding="utf-8-sig", delimiter=";")
    return write_atomic(path, lambda tmp: _write_xlsx(table, tmp, lang), mode)


def _write_xlsx(table: pl.DataFrame, path: Path, lang: Lang) -> None:
    wb = workbook(path)
    try:
        ws = wb.add_worksheet(say("review.sheet", lang))
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        text = wb.add_format({"num_format": "@"})
        ws.write_row(0, 0, table.columns, bold)
        for r, row in enumerate(table.iter_rows(), start=1):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write_string(r, c, value, text)
        last = table.width - 1
        decision = COLUMNS.index("decision")
        widths = [6, 10, 6, 60, 18, 6, 18, 24, 12, 14, 28, 18, 6, 18, 24, 12, 14, 28, 22, 36]
        for c, width in enumerate(widths[: table.width]):
            ws.set_column(c, c, width, text)
        ws.data_validation(
            1,
            decision,
            max(table.height, 1) + 1000,
            decision,
            {
                "validate": "list",
                "source": [SAME, DIFFERENT],
                "input_title": say("review.decision_title", lang),
                "input_message": say("review.decision_help", lang),
                "error_message": f"{SAME} / {DIFFERENT}",
            },
        )
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(table.height, 1), last)
    finally:
        wb.close()


# --------------------------------------------------------------------------- reading back


def _norm_header(text: object) -> str:
    return "".join(ch for ch in str(text or "").upper() if ch.isalnum())


@cache
def _header_keys() -> dict[str, str]:
    """Normalised header → column, in every language; the bare words too ("KEPUTUSAN"),
    for a clerk who shortened the header."""
    keys = {}
    for lang in LANGS:
        for key in ("a_nik", "b_nik", "decision", "key"):
            keys[_norm_header(header(key, lang))] = key
        for key in ("decision", "key"):
            keys[_norm_header(say(f"review.short.{key}", lang))] = key
    return keys


def _read_table(path: Path) -> tuple[list[str], list[list[object]], int]:
    """Header cells, data rows, and the file row number of the first data row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        first = text.splitlines()[0] if text.strip() else ""
        sep = max(";,\t|", key=first.count)
        frame = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False, has_header=False)
        rows = frame.rows()
        if not rows:
            return [], [], 2
        return [str(c or "") for c in rows[0]], [list(r) for r in rows[1:]], 2
    if suffix in (".xlsx", ".xls", ".ods", ".xlsm"):
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
        for i, row in enumerate(rows):  # the header: the first row naming the decision column
            if any(_header_keys().get(_norm_header(c)) == "decision" for c in row):
                return [str(c or "") for c in row], [list(r) for r in rows[i + 1 :]], i + 2
        return [], [], 2
    raise DecisionsError("error.file.table_name", path=path)


def _cell_text(value: object) -> str | None:
    """A cell as text: numbers without '.0' (a NIK retyped as a number), strings trimmed."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().lstrip("'").strip()
    return text or None


def read_decisions(path: str | os.PathLike) -> pl.DataFrame:
    """The clerk's decisions as ``nik_a``, ``nik_b`` (sorted, so order-independent) and
    ``decision`` ("same"/"different"). Rows with an empty decision are ignored.

    Raises ``DecisionsError`` naming the file (and row) for a file that cannot be read,
    lacks the NIK or decision columns, has an unknown decision word or a decided row without
    both NIKs, or decides one NIK pair both ways.
    """
    path = Path(path)
    try:
        headers, rows, first_row = _read_table(path)
    except DecisionsError:
        raise
    except Exception as exc:  # unreadable, not a spreadsheet, ...
        raise DecisionsError("error.decisions.unreadable", path=path, reason=exc) from exc
    keys = _header_keys()
    where = {keys.get(_norm_header(h)): i for i, h in enumerate(headers)}
    needed = ("decision",) if "key" in where else ("a_nik", "b_nik", "decision")
    missing = [header(k, "id") for k in needed if k not in where]
    if missing:
        raise DecisionsError("error.decisions.columns", path=path, columns=", ".join(missing))

    def column(key: str) -> list[str | None]:  # the per-cell pass of reading a sheet
        i = where.get(key)
        return [_cell_text(r[i]) if i is not None and i < len(r) else None for r in rows]

    key = pl.col("key").str.extract_groups(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
    table = (
        pl.DataFrame(
            {k: column(k) for k in ("a_nik", "b_nik", "decision", "key")},
            schema={k: pl.Utf8 for k in ("a_nik", "b_nik", "decision", "key")},
        )
        .with_columns(line=pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64))
        .select(
            "line",
            word="decision",
            # the key cell wins: the NIK cells may have been turned into numbers by Excel
            a=pl.coalesce(key.struct.field("1"), "a_nik"),
            b=pl.coalesce(key.struct.field("2"), "b_nik"),
        )
    )
    decided = table.filter(pl.col("word").is_not_null()).with_columns(
        decision=pl.col("word").str.to_uppercase().replace_strict(DECISION_WORDS, default=None),
        nik_a=pl.min_horizontal("a", "b"),
        nik_b=pl.max_horizontal("a", "b"),
    )
    unknown = decided.filter(pl.col("decision").is_null())
    if unknown.height:
        line, word = unknown.item(0, "line"), unknown.item(0, "word")
        raise DecisionsError(
            "error.decisions.word", path=path, row=line, word=word, same=SAME, different=DIFFERENT
        )
    no_nik = decided.filter(pl.col("a").is_null() | pl.col("b").is_null())
    if no_nik.height:
        raise DecisionsError("error.decisions.niks", path=path, row=no_nik.item(0, "line"))
    mangled = decided.filter(~(pl.col("a") + pl.col("b")).str.contains(r"^\d+$"))
    if mangled.height:
        from jamsos_cli.report import mask_nik  # the message goes to the screen (SPEC §8)

        a, b = (mask_nik(mangled.item(0, side)) for side in ("a", "b"))
        raise DecisionsError(
            "error.decisions.mangled", path=path, row=mangled.item(0, "line"), a=a, b=b
        )
    both_ways = (
        decided.group_by("nik_a", "nik_b")
        .agg(pl.col("decision").n_unique().alias("n"), pl.col("line"))
        .filter(pl.col("n") > 1)
    )
    if both_ways.height:
        lines = " & ".join(str(n) for n in sorted(both_ways.item(0, "line")))
        raise DecisionsError("error.decisions.both_ways", path=path, rows=lines)
    return decided.unique(subset=["nik_a", "nik_b"], keep="first", maintain_order=True).select(
        "nik_a", "nik_b", "decision"
    )
