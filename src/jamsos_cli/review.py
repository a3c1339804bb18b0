"""The near-duplicate review file's columns, and the clerk's decisions read back from it.

``render.review.write_review`` writes the file (pairs side by side, a decision column that
takes SAMA or BEDA). ``read_decisions`` reads the edited file back as NIK pairs, so a
decision survives the rows being renumbered or the lists being merged differently on a
later run; a file that cannot be used is a ``DecisionsError`` naming the file and row.
"""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path

import polars as pl

from jamsos_cli.errors import JamsosError
from jamsos_cli.texts import LANGS, Lang, say

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


class DecisionsError(JamsosError):
    """A decisions file that cannot be used (exit 2): names the file, and the row."""


def header(key: str, lang: Lang) -> str:
    """The header of review column ``key`` in ``lang``."""
    return say(f"review.column.{key}", lang)


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
        from jamsos_cli.render.mask import mask_nik  # the message goes to the screen (SPEC §8)

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
