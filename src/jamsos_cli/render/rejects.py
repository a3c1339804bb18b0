"""Rejects files: the sender's own rows back, untouched, with the row number and the reasons.

One file per input (and sheet), ``.xlsx`` whatever the input (SPEC §6): senders open it in a
spreadsheet, and a CSV opened there loses NIK digits, leading zeros and accents. It holds
the header as written (one row or two) and each rejected row's cells as the file held them
(a number stays a number, a date a date: a NIK typed as a number and resent unchanged is
rejected again for it), between jamsos's own two columns, the row number and the reasons.
The offending cells are highlighted, each with a comment giving its reason; the header is
frozen and the columns wide enough to read. When the file comes back, jamsos knows its own
columns (``headers.added_columns``) and leaves them out. ``.csv`` only when a ``--rejects``
path asks for it, written like every CSV for people (``writing.write_csv``).

Real values, not masked: the file is meant to be used, so it is created owner-only (§8).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

import polars as pl

from jamsos_cli.headers import ADDED
from jamsos_cli.read import reread, workbook_cells
from jamsos_cli.render.findings import with_messages
from jamsos_cli.tables import RosterTable
from jamsos_cli.texts import Lang, say
from jamsos_cli.writing import (
    fill_sheet,
    neutralise,
    neutralise_expr,
    sheet_name,
    text_bytes,
    workbook,
    write_atomic,
    write_csv,
    xml_text_expr,
)

# Columns formatted as Text in the file, so that a NIK or phone typed again is kept as typed.
TEXT_FIELDS = ("nik", "phone", "family_head_nik", "kusuka_number")
# Offending cells get a comment with their reason up to this many per file (each one is a
# drawing in the workbook: a million of them would make a file no spreadsheet opens fast);
# every offending cell is highlighted and every reason is in the reasons column all the same.
MAX_COMMENTS = 10_000
MIN_WIDTH, MAX_WIDTH, REASONS_WIDTH = 6, 50, 80
HIGHLIGHT = "#FFEB9C"  # the pale yellow spreadsheets use for "check this"
_FORMATS = {
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
    "time": "hh:mm:ss",
    "duration": "[h]:mm:ss",
    "text": "@",
}


def rejects_name(table: RosterTable, ext: str = "xlsx") -> str:
    return f"{Path(table.file).stem}.rejects.{ext}"


def reasons_by_rid(findings: pl.DataFrame, lang: Lang) -> pl.DataFrame:
    """``rid``, ``_reasons``: "CODE: message" of each error of a rejected row, in finding
    order, joined by "; "; and, as lists, each reason (``_each``) and the column it names
    (``column``). Most rejected rows have one reason: only rows with several are grouped (a
    group_by joining text makes a list per row; 4x slower on a mostly-rejected million-row
    roster)."""
    errors = findings.filter(pl.col("severity") == "error", pl.col("rid").is_not_null())
    reasons = with_messages(errors, lang).select(
        "rid", (pl.col("code") + pl.lit(": ") + pl.col("message")).alias("_each"), "column"
    )
    several = pl.col("rid").is_duplicated()
    single = reasons.filter(~several).select(
        "rid",
        pl.col("_each").alias("_reasons"),
        pl.concat_list("_each").alias("_each"),
        pl.concat_list("column").alias("column"),
    )
    joined = (
        reasons.filter(several)
        .group_by("rid", maintain_order=True)
        .agg(pl.col("_each").str.join("; ").alias("_reasons"), "_each", "column")
    )
    return pl.concat([single, joined])


@dataclass
class Rejected:
    """What one table sends back: its rejected rows in file order (``_row``, ``_reasons``)
    and the offending cells (``_row``, ``col``: index of the original column, ``note``)."""

    rows: pl.DataFrame
    notes: pl.DataFrame


def rejected_of(
    table: RosterTable, src: int, records: pl.DataFrame, errors: pl.DataFrame
) -> Rejected:
    """The rejected rows of table ``src`` and their offending cells (a finding's column,
    as the file shows it, is the cell to highlight; a field read from several columns, like
    a sex from L | P tick columns, has no one cell)."""
    rows = (
        records.filter(pl.col("_src") == src)
        .select("_rid", "_row")
        .join(errors, left_on="_rid", right_on="rid", how="inner")
        .sort("_row")
    )
    position: dict[str, int] = {}
    for j, header in enumerate(table.headers):
        if j not in table.own_columns:
            position.setdefault(header, j)
    notes = (
        rows.select("_row", "_each", "column")
        .explode("_each", "column")
        .with_columns(
            pl.col("column").replace_strict(position, default=None, return_dtype=pl.Int64)
        )
        .filter(pl.col("column").is_not_null())
        .group_by("_row", "column", maintain_order=True)
        .agg(pl.col("_each").str.join("\n").alias("note"))
        .rename({"column": "col"})
    )
    return Rejected(rows.select("_row", "_reasons"), notes)


def kept_columns(table: RosterTable) -> list[int]:
    """The original columns, in order, without jamsos's own (a rejects file sent back)."""
    width = max([len(table.headers), *map(len, table.header_rows)])
    return [j for j in range(width) if j not in table.own_columns]


def header_rows(table: RosterTable, kept: list[int], lang: Lang) -> list[list[str]]:
    """The header as written (one row or two), between the row number and reasons labels."""
    written = table.header_rows or [table.headers]
    out = []
    for k, row in enumerate(written):
        row = [*row, *[""] * (len(kept) and max(kept) + 1 - len(row))]
        labels = [say(f"rejects.{key}", lang) if k == 0 else "" for key in ADDED]
        out.append([labels[0], *(row[j] for j in kept), labels[1]])
    return out


SHEET_ROWS = 1_048_576  # rows a spreadsheet holds: more rejected rows are written as a CSV
CHUNK_CELLS = 250_000  # cells of rejected rows turned into sheet XML at a time
WIDE_COLUMNS = 64  # wider tables are turned into XML as one long column of cells
_KINDS = ("s", "n", "b", "date", "datetime", "time", "duration")  # a cell's type, as written
_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system


def original_cells(
    table: RosterTable, rejected: pl.DataFrame, kept: list[int]
) -> Iterator[pl.DataFrame]:
    """The rejected rows in slices of about ``CHUNK_CELLS`` cells: ``_i``, ``_row``,
    ``_reasons``, and for each ``kept`` column ``i`` its value ``v{i}`` (text: a string, a
    number, an Excel date serial) and, for a workbook, its kind ``k{i}`` (``_KINDS``). A
    workbook's cells are the ones it holds (``read.workbook_cells``); a CSV's are its text,
    every one a string."""
    if table.kind == "csv":
        text = _text_of(table, rejected, kept)
        step = _chunk_rows(len(kept))
        for start in range(0, text.height, step):
            yield text.slice(start, step)
        return
    numbers = rejected.get_column("_row").to_list()
    cells = workbook_cells(table, numbers) if numbers else {}
    step = _chunk_rows(len(kept))
    for start in range(0, rejected.height, step):
        part = rejected.slice(start, step)
        rows = [cells.pop(n) for n in part.get_column("_row").to_list()]
        columns: dict[str, list[str | None]] = {}
        for i, j in enumerate(kept):
            typed = [_typed(r[j] if j < len(r) else None) for r in rows]
            columns[f"k{i}"] = [k for k, _ in typed]
            columns[f"v{i}"] = [v for _, v in typed]
        yield part.hstack(pl.DataFrame(columns, schema={c: pl.Utf8 for c in columns}))


def _chunk_rows(columns: int) -> int:
    """Rows per slice: about ``CHUNK_CELLS`` cells, whatever the width."""
    return max(1, CHUNK_CELLS // max(columns, 1))


def _text_of(table: RosterTable, rejected: pl.DataFrame, kept: list[int]) -> pl.DataFrame:
    """``_row``, ``_reasons``, ``v{i}``: the rejected rows' cells as text, in order."""
    frame = reread(table).frame  # one file's rows at a time when the run released them
    present = set(frame.columns)
    values = [
        (pl.col(f"c{j}") if f"c{j}" in present else pl.lit(None, pl.Utf8)).alias(f"v{i}")
        for i, j in enumerate(kept)
    ]
    return rejected.join(
        frame.select("_row", *values), on="_row", how="left", maintain_order="left"
    )


def _typed(value: object) -> tuple[str | None, str | None]:
    """(kind, value as the sheet XML writes it) of a workbook cell as calamine gives it."""
    if value is None or value == "":
        return None, None
    if value.__class__ is str:
        return "s", value  # type: ignore[return-value]
    if value.__class__ is bool:
        return "b", "1" if value else "0"
    if value.__class__ in (int, float):
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            return "s", str(value)
        exact = number.is_integer() and abs(number) < 2**53  # digits, no ".0"
        return "n", str(int(number)) if exact else repr(number)
    if isinstance(value, datetime):
        days = (value - _EPOCH) / timedelta(days=1)
        return ("datetime" if value.time() != time(0) else "date"), repr(days)
    if isinstance(value, date):
        return "date", str((value - _EPOCH.date()).days)
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return "time", repr(seconds / 86400)
    if isinstance(value, timedelta):
        return "duration", repr(value / timedelta(days=1))
    return "s", str(value)  # an error cell (#N/A...) as the reader saw it


def write_rejects(
    tables: list[RosterTable],
    records: pl.DataFrame,
    findings: pl.DataFrame,
    target: Path,
    *,
    lang: Lang,
    mode: int,
    as_folder: bool,
) -> list[Path]:
    """Write one rejects file per input: ``target`` itself (``.xlsx``, or ``.csv`` when its
    name says so), or ``<input name>.rejects.xlsx`` files inside folder ``target``; returns
    the paths written (``.csv`` for more rejected rows than a sheet holds)."""
    errors = reasons_by_rid(findings, lang)
    written: list[Path] = []
    for src, table in enumerate(tables):
        if as_folder:
            path = Path(target) / rejects_name(table)
            if path in written:  # same file name in two folders: keep both
                path = path.with_name(f"{src + 1:02d}_{path.name}")
        else:
            path = Path(target)
        rejected = rejected_of(table, src, records, errors)
        kept = kept_columns(table)
        header = header_rows(table, kept, lang)
        numbered = rejected.rows.with_row_index("_i").with_columns(pl.col("_i").cast(pl.Int64))
        if numbered.height + len(header) > SHEET_ROWS:  # more than a sheet holds: a CSV
            path = path.with_suffix(".csv")
        if path.suffix.lower() == ".csv":
            text = _text_of(table, rejected.rows, kept)
            frame = text.select(pl.col("_row").cast(pl.Utf8), pl.col("^v[0-9]+$"), "_reasons")
            written.append(write_csv(frame, path, mode=mode, header_rows=header))
            continue
        fields = {f: kept.index(j) for f, j in table.fields.items() if j in kept}
        sheet = _Sheet(
            header=header,
            text={fields[f] for f in TEXT_FIELDS if f in fields},
            notes=rejected.notes.join(numbered.select("_row", "_i"), on="_row")
            .select(
                "_i",
                pl.col("col").replace_strict({j: i for i, j in enumerate(kept)}, default=None),
                "note",
            )
            .drop_nulls("col"),
            rows=numbered.height,
            name=table.sheet or say("rejects.sheet", lang),
        )
        chunks = original_cells(table, numbered, kept)
        written.append(write_atomic(path, partial(sheet.write, chunks=chunks), mode))
    return written


@dataclass
class _Sheet:
    """The rejects workbook. xlsxwriter writes the header (frozen), the column widths and
    formats and the comments; the rows are built as sheet XML by Polars, a slice at a time
    (``writing.fill_sheet``): each cell in the type it had, the offending ones highlighted."""

    header: list[list[str]]
    text: set[int]  # the kept columns formatted as Text (NIK, phone)
    notes: pl.DataFrame  # _i (rejected row), col (kept column), note
    rows: int
    name: str

    def write(self, tmp: Path, chunks: Iterator[pl.DataFrame]) -> None:
        wb = workbook(tmp)
        ws = wb.add_worksheet(sheet_name(self.name))
        width, top = len(self.header[0]), len(self.header)
        formats = {
            (kind, hi): wb.add_format(
                ({"num_format": _FORMATS[kind]} if kind else {})
                | ({"bg_color": HIGHLIGHT, "border": 1, "border_color": "#C00000"} if hi else {})
            )
            for kind in (None, *_FORMATS)
            for hi in (False, True)
        }
        # the style index each format gets (xlsxwriter assigns it on first use)
        styles = {f"{k or ''}|{int(h)}": str(f._get_xf_index()) for (k, h), f in formats.items()}
        first = next(chunks, None)
        for j, w in enumerate(self._widths(first)):
            ws.set_column(j, j, w, formats[("text", False)] if j - 1 in self.text else None)
        bold = wb.add_format({"bold": True})
        for i, row in enumerate(self.header):
            for j, value in enumerate(row):
                ws.write_string(i, j, neutralise(value) or "", bold)
        ws.freeze_panes(top, 1)
        ws.autofilter(top - 1, 0, top - 1 + self.rows, width - 1)
        for i, col, note in self.notes.head(MAX_COMMENTS).iter_rows():
            ws.write_comment(top + i, col + 1, note, {"x_scale": 2, "y_scale": 1.5})
        wb.close()
        parts = (p for p in (first, *chunks) if p is not None)
        xml = (self._xml(p, styles, top) for p in parts)
        fill_sheet(tmp, xml, after=top, last=(top - 1 + self.rows, width - 1))

    def _widths(self, first: pl.DataFrame | None) -> list[int]:
        """From the header and the first slice of rows; the reasons column has its own."""
        widths = [max(len(h[j]) for h in self.header) for j in range(len(self.header[0]))]
        if first is not None and first.height:
            widths[0] = max(widths[0], len(str(first.get_column("_row").max())))
            shown = (
                _long(first)
                .group_by("col")
                .agg(
                    pl.when(pl.col("k") == "datetime")
                    .then(16)
                    .when(pl.col("k").is_in(_KINDS[3:]))
                    .then(10)
                    .otherwise(pl.col("v").str.len_chars())
                    .max()
                )
            )
            for col, w in shown.iter_rows():
                widths[col + 1] = max(widths[col + 1], w or 0)
        widths = [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]
        widths[-1] = REASONS_WIDTH
        return widths

    def _xml(self, part: pl.DataFrame, styles: dict[str, str], top: int) -> bytes:
        """The ``<row>`` elements of a slice of rejected rows."""
        from xlsxwriter.utility import xl_col_to_name

        n = len(self.header[0]) - 2
        part = part.with_columns((pl.col("_i") + top + 1).cast(pl.Utf8).alias("_r"))
        row = pl.col("_r")  # the sheet's row number, as text
        marks = self.notes.filter(pl.col("_i").is_in(part.get_column("_i").implode()))
        if n <= WIDE_COLUMNS:
            cells, part = self._cells_by_column(part, marks, styles, row)
        else:
            cells, part = self._cells_long(part, marks, styles, top)
        last = pl.lit(xl_col_to_name(n + 1))
        rows = part.select(
            pl.concat_str(
                pl.format('<row r="{}"><c r="A{}"><v>{}</v></c>', row, row, "_row"),
                cells,
                pl.format(_INLINE, last, row, pl.lit("0"), _xml_string(pl.col("_reasons"))),
                pl.lit("</row>"),
                ignore_nulls=True,
            )
        )
        return text_bytes(rows)

    def _cells_by_column(self, part, marks, styles, row) -> tuple[pl.Expr, pl.DataFrame]:
        """A narrow table: each column's cells by one expression, joined along the row."""
        from xlsxwriter.utility import xl_col_to_name

        marked = set(marks.get_column("col").unique().to_list())
        if marked:
            wide = marks.select("_i", pl.format("h{}", "col").alias("h"), pl.lit(True).alias("f"))
            flags = wide.pivot(on="h", index="_i", values="f", aggregate_function="first")
            part = part.join(flags, on="_i", how="left", maintain_order="left")
        cells = []
        for i in range(len(self.header[0]) - 2):
            kind = pl.col(f"k{i}") if f"k{i}" in part.columns else None
            hi = pl.col(f"h{i}").fill_null(False) if i in marked else None
            ref = (pl.lit(xl_col_to_name(i + 1)), row)
            cells.append(_cell_xml(kind, pl.col(f"v{i}"), hi, i in self.text, ref, styles))
        return pl.concat_str(cells, ignore_nulls=True), part

    def _cells_long(self, part, marks, styles, top) -> tuple[pl.Expr, pl.DataFrame]:
        """A wide table (10,000 columns): the slice's cells as one long column, so a column
        costs what a row does, never an expression per column."""
        from xlsxwriter.utility import xl_col_to_name

        n = len(self.header[0]) - 2
        letters = pl.DataFrame(
            {"col": range(n), "_letter": [xl_col_to_name(i + 1) for i in range(n)]},
            schema={"col": pl.Int64, "_letter": pl.Utf8},
        )
        long = (
            _long(part)
            .join(marks.select("_i", "col", hi=pl.lit(True)), on=["_i", "col"], how="left")
            .with_columns(pl.col("hi").fill_null(False))
            .filter(pl.col("k").is_not_null() | pl.col("hi"))
            .join(letters, on="col", how="left")
        )
        ref = (pl.col("_letter"), (pl.col("_i") + top + 1).cast(pl.Utf8))
        text = pl.col("col").is_in(sorted(self.text))
        xml = _cell_xml(pl.col("k"), pl.col("v"), pl.col("hi"), text, ref, styles)
        per_row = (
            long.sort("_i", "col")
            .group_by("_i", maintain_order=True)
            .agg(xml.str.join("").alias("_cells"))
        )
        part = part.select("_i", "_row", "_reasons", "_r").join(
            per_row, on="_i", how="left", maintain_order="left"
        )
        return pl.col("_cells"), part


def _cell_xml(
    kind: pl.Expr | None,
    value: pl.Expr,
    hi: pl.Expr | None,
    text: bool | pl.Expr,
    ref: tuple[pl.Expr, pl.Expr],
    styles: dict[str, str],
) -> pl.Expr:
    """A cell's XML (null for an empty cell not highlighted): its type, its value, its style
    (a date's format, Text in a NIK or phone column, the highlight). ``kind`` None: a CSV's
    cell, a string when there is one; ``hi`` None: nothing highlighted in this column;
    ``ref``: the column letter and the row number.

    One ``format`` per cell kind with the reference's parts as arguments, and a style
    known per column when it can be: each intermediate column of text (a reference, a
    style name) costs as much as the cell itself at a million rows."""
    style = _style(kind, hi, text, styles)
    string = pl.format(_INLINE, *ref, style, _xml_string(value))
    if kind is None:
        cells = pl.when(value.is_not_null()).then(string)
    else:
        cells = (
            pl.when(kind == "s")
            .then(string)
            .when(kind == "b")
            .then(pl.format('<c r="{}{}" s="{}" t="b"><v>{}</v></c>', *ref, style, value))
            .when(kind.is_not_null())
            .then(pl.format('<c r="{}{}" s="{}"><v>{}</v></c>', *ref, style, value))
        )
    if hi is None:
        return cells
    return cells.when(hi).then(pl.format('<c r="{}{}" s="{}"/>', *ref, style))  # a blank


def _style(
    kind: pl.Expr | None, hi: pl.Expr | None, text: bool | pl.Expr, styles: dict[str, str]
) -> pl.Expr:
    """A cell's style index (``styles``: "format|highlight" → index): a constant for a
    CSV's column (text only), else from the cell's kind."""

    def shown(highlight: int) -> pl.Expr:
        if kind is None and isinstance(text, bool):
            return pl.lit(styles[f"{'text' if text else ''}|{highlight}"])
        fmt = pl.when(text).then(pl.lit("text")).otherwise(pl.lit(""))
        if kind is not None:
            fmt = pl.when(kind.is_in(_KINDS[3:])).then(kind).otherwise(fmt)
        name = pl.concat_str(fmt, pl.lit(f"|{highlight}"))
        return name.replace_strict(styles, return_dtype=pl.Utf8)

    return shown(0) if hi is None else pl.when(hi).then(shown(1)).otherwise(shown(0))


def _long(part: pl.DataFrame) -> pl.DataFrame:
    """A slice's cells as one long table: ``_i`` (rejected row), ``col`` (kept column),
    ``k`` (kind; a CSV's text is a string), ``v`` (value), null cells left out."""
    values = [c for c in part.columns if c[0] == "v" and c[1:].isdigit()]
    long = part.select("_i", *values).unpivot(index="_i", variable_name="col", value_name="v")
    long = long.with_columns(pl.col("col").str.slice(1).cast(pl.Int64))
    kinds = [f"k{c[1:]}" for c in values]
    if kinds[:1] and kinds[0] in part.columns:
        long = long.with_columns(part.select(kinds).unpivot().get_column("value").alias("k"))
    else:
        long = long.with_columns(pl.when(pl.col("v").is_not_null()).then(pl.lit("s")).alias("k"))
    return long


_INLINE = '<c r="{}{}" s="{}" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>'


def _xml_string(value: pl.Expr) -> pl.Expr:
    """A text cell as the sheet holds it: formula-safe (``writing.neutralise``), XML-escaped."""
    return xml_text_expr(neutralise_expr(value))
