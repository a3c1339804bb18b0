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
from pathlib import Path

import polars as pl

from jamsos_cli.headers import ADDED
from jamsos_cli.read import reread, workbook_cells
from jamsos_cli.render.findings import with_messages
from jamsos_cli.tables import RosterTable
from jamsos_cli.texts import Lang, say
from jamsos_cli.writing import neutralise, workbook, write_atomic, write_csv

# Columns formatted as Text in the file, so that a NIK or phone typed again is kept as typed.
TEXT_FIELDS = ("nik", "phone", "family_head_nik", "kusuka_number")
# Offending cells get a comment with their reason up to this many per file (each one is a
# drawing in the workbook: a million of them would make a file no spreadsheet opens fast);
# every offending cell is highlighted and every reason is in the reasons column all the same.
MAX_COMMENTS = 10_000
WIDTH_SAMPLE = 1_000  # rows looked at to size the columns
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


def rejected_of(table: RosterTable, src: int, records: pl.DataFrame, errors: pl.DataFrame):
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


def original_rows(
    table: RosterTable, rejected: pl.DataFrame, kept: list[int]
) -> Iterator[tuple[int, list[object], str]]:
    """(row number, the row's original cells of the ``kept`` columns, reasons) of each
    rejected row: a workbook's cells as it holds them (``read.workbook_cells``), a CSV's text."""
    if table.kind != "csv":
        numbers = rejected.get_column("_row").to_list()
        cells = workbook_cells(table, numbers)
        for number, reasons in rejected.iter_rows():
            row = cells.pop(number)
            yield number, [row[j] if j < len(row) else None for j in kept], reasons
        return
    frame = reread(table).frame  # one file's rows at a time when the run released them
    names = [f"c{j}" for j in kept]
    present = [n if n in frame.columns else None for n in names]
    text = frame.select("_row", *(pl.col(n) if n else pl.lit(None, pl.Utf8) for n in present))
    joined = rejected.join(text, on="_row", how="left", maintain_order="left")
    for number, reasons, *values in joined.iter_rows():
        yield number, values, reasons


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
    name says so), or ``<input name>.rejects.xlsx`` files inside folder ``target``."""
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
        rows = original_rows(table, rejected.rows, kept)
        if path.suffix.lower() == ".csv":
            written.append(_write_csv(path, header, rows, mode))
        else:
            sheet = table.sheet or say("rejects.sheet", lang)
            fields = {f: kept.index(j) for f, j in table.fields.items() if j in kept}
            text = {fields[f] for f in TEXT_FIELDS if f in fields}
            notes = rejected.notes.with_columns(
                pl.col("col").replace_strict({j: i for i, j in enumerate(kept)}, default=None)
            )
            write = _XlsxRejects(header, rows, notes, text, sheet).write
            written.append(write_atomic(path, write, mode))
    return written


def _write_csv(
    path: Path, header: list[list[str]], rows: Iterator[tuple[int, list[object], str]], mode: int
) -> Path:
    names = [f"c{j}" for j in range(len(header[0]))]
    body = [[str(n), *values, reasons] for n, values, reasons in rows]
    frame = pl.DataFrame(body, schema={n: pl.Utf8 for n in names}, orient="row")
    return write_csv(frame, path, mode=mode, header_rows=header)


class _XlsxRejects:
    """The rejects workbook: header frozen, typed cells, offending cells highlighted with a
    comment, columns sized to their content."""

    def __init__(self, header, rows, notes: pl.DataFrame, text: set[int], sheet: str) -> None:
        self.header, self.text, self.sheet = header, text, sheet
        self.rows = rows
        self.notes = {(r, c + 1): n for r, c, n in notes.iter_rows()}  # +1: the row number
        self._formats: dict[tuple[str | None, bool], object] = {}

    def write(self, tmp: Path) -> None:
        wb = workbook(tmp, constant_memory=True)
        self.wb = wb
        ws = wb.add_worksheet(self.sheet[:31])
        first = _peek(self.rows, WIDTH_SAMPLE)
        widths = _widths(self.header, first)
        for j, width in enumerate(widths):
            kind = "text" if j - 1 in self.text else None
            ws.set_column(j, j, width, self._format(kind, False) if kind else None)
        ws.set_column(len(widths) - 1, len(widths) - 1, REASONS_WIDTH)
        bold = wb.add_format({"bold": True})
        for i, row in enumerate(self.header):
            for j, value in enumerate(row):
                ws.write_string(i, j, neutralise(value) or "", bold)
        ws.freeze_panes(len(self.header), 1)
        comments = 0
        r = len(self.header) - 1
        for r, (number, values, reasons) in enumerate(first.chain(), start=len(self.header)):
            ws.write_number(r, 0, number)
            for j, value in enumerate(values, start=1):
                note = self.notes.get((number, j))
                self._cell(ws, r, j, value, j - 1 in self.text, note is not None)
                if note is not None and comments < MAX_COMMENTS:
                    ws.write_comment(r, j, note, {"x_scale": 2, "y_scale": 1.5})
                    comments += 1
            ws.write_string(r, len(values) + 1, neutralise(reasons) or "")
        ws.autofilter(len(self.header) - 1, 0, r, len(self.header[0]) - 1)
        wb.close()

    def _format(self, kind: str | None, highlight: bool):
        key = (kind, highlight)
        if key not in self._formats:
            props: dict[str, object] = {}
            if kind is not None:
                props["num_format"] = _FORMATS[kind]
            if highlight:
                props |= {"bg_color": HIGHLIGHT, "border": 1, "border_color": "#C00000"}
            self._formats[key] = self.wb.add_format(props) if props else None
        return self._formats[key]

    def _cell(self, ws, r: int, j: int, value: object, text: bool, highlight: bool) -> None:
        """One original cell, of the type the file held it in."""
        base = "text" if text else None
        if value is None or value == "":
            if highlight:
                ws.write_blank(r, j, None, self._format(base, True))
            return
        if isinstance(value, str):
            ws.write_string(r, j, neutralise(value) or "", self._format(base, highlight))
        elif isinstance(value, bool):
            ws.write_boolean(r, j, value, self._format(base, highlight))
        elif isinstance(value, (int, float)) and math.isfinite(value):
            ws.write_number(r, j, value, self._format(base, highlight))
        elif isinstance(value, (datetime, date, time, timedelta)):
            ws.write_datetime(r, j, value, self._format(_date_kind(value), highlight))
        else:  # NaN, an error cell...: as the reader saw it
            ws.write_string(r, j, str(value), self._format(base, highlight))


def _date_kind(value: object) -> str:
    if isinstance(value, datetime):
        return "datetime" if value.time() != time(0) else "date"
    if isinstance(value, date):
        return "date"
    return "time" if isinstance(value, time) else "duration"


class _Peeked:
    """The first rows of an iterator, kept to size the columns, then the whole of it."""

    def __init__(self, head: list, rest: Iterator) -> None:
        self.head, self.rest = head, rest

    def chain(self) -> Iterator:
        yield from self.head
        yield from self.rest


def _peek(rows: Iterator, n: int) -> _Peeked:
    head = []
    for row in rows:
        head.append(row)
        if len(head) >= n:
            break
    return _Peeked(head, rows)


def _widths(header: list[list[str]], first: _Peeked) -> list[int]:
    """Column widths from the header and the first rows' cells as text (the reasons column
    has its own)."""
    widths = [max(len(h[j]) for h in header) for j in range(len(header[0]))]
    for number, values, _ in first.head:
        widths[0] = max(widths[0], len(str(number)))
        for j, value in enumerate(values, start=1):
            widths[j] = max(widths[j], len(_shown(value)))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return "00/00/0000 00:00" if isinstance(value, datetime) and value.time() else "00/00/0000"
    return str(value)
