"""Reading rosters as they really arrive: CSV in any of the usual encodings and delimiters,
and workbooks (``.xlsx``, ``.xls``, ``.ods`` through python-calamine), with title rows above
the header, blank rows, footers and signature blocks below it.

Every value is read as text. A CSV is transcoded once to UTF-8 and parsed by Polars (the
``csv`` module only sniffs the first lines, or reads a file Polars finds malformed); a
workbook needs one pass over its cells to turn numbers and dates into text. After that the
two share one vectorised stage (``layout.py``): find the header (one row or two), strip
values, drop the rows that are not people, keep each record's row number as the sender
sees it. Which files a folder holds and the size limits are data:
``schemas/reading.toml``; the limits are enforced before the work (``limits.py``).
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import io
import os
import re
import zipfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from jamsos_cli import findings as fnd
from jamsos_cli import limits as lim
from jamsos_cli.headers import Limits, is_header_row, match_headers, reading_rules
from jamsos_cli.layout import EXTRA as EXTRA  # the frame's extra columns (tables.RosterTable)
from jamsos_cli.layout import (
    HeaderNotFoundError,
    build_table,
    find_header,
    read_header,
    title_rows,
)
from jamsos_cli.tables import CodedReadError, RosterReadError, RosterTable

# The finding codes this step emits: the reader's file-level note on other sheets, and
# SHEET_NOT_FOUND and FILE_NOT_A_ROSTER as its errors' codes (tests/test_house.py holds
# each step to its list, and all to codes.toml; the header's notes are layout.py's, the
# limits' limits.py's).
EMITS = frozenset(
    {
        "FILE_NOT_A_ROSTER",
        "OTHER_SHEETS_HAVE_DATA",
        "SHEET_NOT_FOUND",
    }
)

# A macro-enabled workbook (.xlsm) is an .xlsx with a macro part jamsos never runs.
KINDS = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
_CHUNK = 65_536  # workbook rows converted to text per step, to bound Python memory


def _cp1252_or_latin1(err: UnicodeDecodeError) -> tuple[str, int]:
    """The five bytes cp1252 leaves undefined decode as latin-1: reading never fails."""
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("jamsos-latin1", _cp1252_or_latin1)


class SheetNotFoundError(RosterReadError):
    """``--sheet`` names no sheet of the workbook (reported as ``SHEET_NOT_FOUND``)."""

    code = "SHEET_NOT_FOUND"


class NotARosterError(CodedReadError):
    """A document given as a roster (``FILE_NOT_A_ROSTER``): ``detail`` says what it is."""

    code = "FILE_NOT_A_ROSTER"


# What a document given as a roster really is, by its extension or its first bytes.
_DOCUMENTS = {".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".odt": "Word", ".rtf": "Word"}


def document_kind(path: Path, head: bytes | None = None) -> str | None:
    """ "PDF" or "Word" when the file is one (whatever its name), else None."""
    if head is None:
        try:
            with path.open("rb") as fh:
                head = fh.read(8)
        except OSError:
            return None
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head.startswith(b"{\\rtf"):
        return "Word"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None
        if any(n.startswith("word/") for n in names):
            return "Word"
        if "content.xml" in names and "application/vnd.oasis.opendocument.text" in _mimetype(z):
            return "Word"
        return None
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an old .doc holds a WordDocument stream
        return "Word" if _has_stream(path, "WordDocument") else None
    return _DOCUMENTS.get(path.suffix.lower())


def _mimetype(z: zipfile.ZipFile) -> str:
    try:
        return z.read("mimetype")[:100].decode("ascii", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return ""


def _has_stream(path: Path, name: str, limit: int = 64 * 2**20) -> bool:
    """Whether an OLE2 file names a stream ``name`` in its directory (UTF-16 names)."""
    try:
        with path.open("rb") as fh:
            return name.encode("utf-16-le") in fh.read(limit)
    except OSError:
        return False


# ---------------------------------------------------------------------------- inputs


def _is_skipped(name: str) -> bool:
    return any(fnmatch.fnmatch(name.lower(), p) for p in reading_rules().files.skip_in_folders)


def expand_inputs(args: list[str]) -> list[tuple[Path, str]]:
    """(path, display name) of every roster the arguments name; a folder means its roster
    files (not recursive, by name), skipping lock files, hidden files and jamsos rejects."""
    extensions = reading_rules().files.extensions
    wanted = ", ".join(extensions)
    out: list[tuple[Path, str]] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            names = sorted(
                (
                    n
                    for n in os.listdir(path)
                    if Path(n).suffix.lower() in extensions
                    and not _is_skipped(n)
                    and (path / n).is_file()
                ),
                key=lambda n: (n.casefold(), n),  # as a file manager lists them
            )
            if not names:
                skipped = sorted(
                    n for n in os.listdir(path) if Path(n).suffix.lower() in extensions
                )
                if skipped:  # a rejects file sent back under its own name, say
                    raise RosterReadError(arg, "read.folder_skipped", names=", ".join(skipped))
                raise RosterReadError(arg, "read.folder_empty", wanted=wanted)
            out += [(path / n, os.path.join(arg, n)) for n in names]
        elif path.exists():
            if path.suffix.lower() not in extensions:
                kind = document_kind(path) if path.is_file() else None
                if kind is not None:
                    raise NotARosterError(arg, detail=kind)
                raise RosterReadError(
                    arg, "read.file_type", suffix=path.suffix or "-", wanted=wanted
                )
            out.append((path, arg))
        else:
            raise RosterReadError(arg, "read.not_found")
    return out


def read_roster(
    path: Path, display: str, sheet: str | None = None, limits: Limits | None = None
) -> RosterTable:
    """One roster as read (see ``tables.RosterTable``); ``sheet`` is ignored for a CSV.
    ``limits``: the reading limits (``schemas/reading.toml`` with the config's ``[limits]``),
    checked before the work."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        document = document_kind(path)
        if document is not None:
            raise NotARosterError(display, detail=document)
        raise RosterReadError(
            display, "read.file_type", suffix=path.suffix or "-", wanted=", ".join(KINDS)
        )
    try:
        info = path.stat()
        size = info.st_size
        if path.is_dir():
            raise RosterReadError(display, "read.is_folder")
    except FileNotFoundError:
        raise RosterReadError(display, "read.not_found") from None
    except OSError as err:
        raise RosterReadError(display, "read.cannot_open", reason=err.strerror) from None
    if size == 0:
        raise RosterReadError(display, "read.zero_bytes")
    limits = limits or reading_rules().limits
    lim.check_file_size(display, kind, size, limits)
    stamp = (size, info.st_mtime_ns)
    try:
        if kind == "csv":
            table = _read_csv(path, display, limits)
        else:
            table = _read_workbook(path, display, kind, sheet, limits)
    except (OSError, MemoryError) as err:
        text = getattr(err, "strerror", None) or type(err).__name__
        raise RosterReadError(display, "read.cannot_read", reason=text) from None
    table.stamp, table.limits = stamp, limits
    return table


def reread(table: RosterTable) -> RosterTable:
    """``table`` with its rows as read, read again from the file if they were released.

    A large run keeps only the row numbers of its inputs while it checks them; writing
    rejects reads each file once more. The file must be the one checked: same size and
    modification time, and the same rows (row numbers) read from it."""
    if not table.released:
        return table
    changed = RosterReadError(table.file, "read.changed", sheet=table.sheet)
    if _stamp(table.path) != table.stamp:
        raise changed
    again = read_roster(table.path, table.file, table.sheet, table.limits)
    if again.stamp != table.stamp or not again.frame.get_column("_row").equals(
        table.frame.get_column("_row")
    ):
        raise changed
    return again


def workbook_cells(table: RosterTable, rows: list[int]) -> dict[int, list[object]]:
    """The cells of the spreadsheet rows ``rows`` (``_row`` numbers, ascending) of a
    workbook table, as the workbook holds them: a number stays a number, a date a date (a
    rejects file gives the sender their own cells back, and the evidence behind
    ``NIK_PRECISION_LOST`` with them). The reader keeps text only; these few rows are read
    again from the file, which must be the one checked (same size and modification time).

    Rows are taken as calamine yields them, one at a time: only the wanted rows become
    Python objects."""
    from python_calamine import CalamineError

    changed = RosterReadError(table.file, "read.changed", sheet=table.sheet)
    if table.kind == "csv" or _stamp(table.path) != table.stamp:
        raise changed
    wanted = set(rows)
    cells: dict[int, list[object]] = {}
    try:
        with table.path.open("rb") as fh:
            sheet = _open_workbook(fh, table.path, table.file).get_sheet_by_name(table.sheet)
            lead = [""] * sheet.start[1] if sheet.start else []  # empty columns on the left
            last = max(rows, default=0)
            for number, row in enumerate(sheet.iter_rows(), start=1):
                if number in wanted:
                    cells[number] = lead + list(row)
                if number >= last:
                    break
    except CalamineError as err:
        raise RosterReadError(
            table.file, "read.cannot_read", sheet=table.sheet, reason=_first_line(err)
        ) from None
    except OSError as err:
        raise RosterReadError(table.file, "read.cannot_read", reason=err.strerror) from None
    if len(cells) != len(wanted) or _stamp(table.path) != table.stamp:
        raise changed
    return cells


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


# ---------------------------------------------------------------------------- CSV


def _binary_hint(data: bytes) -> str:
    """What a file with NUL bytes probably is (a ``read.*`` key), so the clerk knows what to
    do with it."""
    if data.startswith(b"PK\x03\x04"):
        return "read.binary_xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "read.binary_xls"
    return "read.binary"


def _cp1252_to_utf8(data: bytes) -> bytes:
    return data.decode("cp1252", "jamsos-latin1").encode("utf-8")


def _head(data: bytes) -> bytes:
    """The first lines of the file (twice ``sniff_lines``, for cells spanning lines), capped."""
    rules = reading_rules().csv
    cap, end = rules.sniff_max_kb * 1024, -1
    for _ in range(2 * rules.sniff_lines):
        end = data.find(b"\n", end + 1, cap)
        if end < 0:
            return data[:cap]
    return data[: end + 1]


def _to_utf8(data: bytes, display: str) -> tuple[bytes, str, bool]:
    """The file's text as UTF-8 bytes for Polars, the encoding it was read with, and whether
    that is only presumed: a non-ASCII file whose first lines are valid UTF-8 is taken as
    UTF-8 without decoding it all; Polars checks the rest while parsing (``_parse``)."""
    presumed = False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode text": UTF-16
        try:
            data, encoding = data.decode("utf-16").encode("utf-8"), "utf-16"
        except UnicodeDecodeError:
            raise RosterReadError(display, "read.utf16") from None
    elif b"\x00" in data:
        raise RosterReadError(display, _binary_hint(data))
    elif data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
        if not data.isascii():
            data = data.decode("utf-8", "replace").encode("utf-8")
    elif data.isascii():
        encoding = "utf-8"
    else:
        head = _head(data)
        try:
            head.decode("utf-8")
            encoding, presumed = "utf-8", True
        except UnicodeDecodeError as err:
            if err.start >= len(head) - 3 and len(head) < len(data):  # a character cut in two
                encoding, presumed = "utf-8", True
            else:
                data, encoding = _cp1252_to_utf8(data), "cp1252"
    if re.search(rb"\r(?!\n)", data):  # classic Mac line ends, alone or mixed with others
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data, encoding, presumed


def _sample_records(sample: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
            if len(records) >= limit:
                break
    except csv.Error:
        pass
    return records


def _header_score(records: list[list[str]]) -> int:
    """Recognised columns of the first header row among ``records`` (0: none)."""
    for record in records:
        if len(record) < 2:
            continue
        fields, _ = match_headers(record)
        if is_header_row(fields):
            return len(fields)
    return 0


def _sniff(data: bytes) -> tuple[str, int]:
    """Delimiter and column count from the first lines.

    The delimiter under which a header row is recognised wins (a ``;`` file full of "12,5"
    decimals and "Batam, 12-05-1980" cells still has a ``;`` header); without a header, the
    one giving the most lines of the same width (wider than one column).
    """
    rules = reading_rules().csv
    sample = _head(data).decode("utf-8", "ignore")
    csv.field_size_limit(max(csv.field_size_limit(), len(sample) + 1))
    best: tuple[tuple[int, int], str, int] | None = None
    for delimiter in rules.delimiters:
        if delimiter not in sample:
            continue
        records = _sample_records(sample, delimiter, rules.sniff_lines)
        widths = Counter(len(r) for r in records if len(r) > 1)
        consistent = widths.most_common(1)[0][1] if widths else 0
        key = (_header_score(records) if consistent else 0, consistent)
        width = max((len(r) for r in records), default=1)
        if best is None or key > best[0]:
            best = (key, delimiter, width)
    if best is None or best[0] == (0, 0):
        return rules.delimiters[0], max(1, best[2] if best else 1)
    return best[1], best[2]


def _parse_polars(data: bytes, delimiter: str, width: int) -> pl.DataFrame:
    """Every line a row of ``width`` text columns (blank lines all-null, ragged rows padded
    or cut); raises Polars' error on a file it finds malformed."""
    return pl.read_csv(
        data,
        has_header=False,
        separator=delimiter,
        quote_char='"',
        infer_schema=False,
        schema={f"c{i}": pl.Utf8 for i in range(width)},
        missing_columns="insert",
        extra_columns="ignore",
        truncate_ragged_lines=True,
        raise_if_empty=False,
    )


def _parse_python(text: str, delimiter: str, display: str, limits: Limits) -> pl.DataFrame:
    """The lenient fallback for what Polars rejects (a quote mark inside an unquoted cell,
    as in ``Jl. Melati 5" Blok A``): Python's csv module, with each record's first line
    and the line breaks inside it."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    starts: list[int] = []
    breaks: list[int] = []
    last = 0
    for record in reader:
        if len(record) > limits.max_columns:
            raise lim.refuse(display, "max_columns", limits, lim.number(len(record)))
        records.append(record)
        starts.append(last + 1)
        breaks.append(reader.line_num - last - 1)
        last = reader.line_num
    width = max((len(r) for r in records), default=1)
    columns = {
        f"c{j}": [r[j] if j < len(r) and r[j] != "" else None for r in records]
        for j in range(width)
    }
    frame = pl.DataFrame(columns, schema={c: pl.Utf8 for c in columns})
    return frame.with_columns(
        pl.Series("_row", starts, pl.Int64), pl.Series("_breaks", breaks, pl.Int64)
    )


def _line_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _with_line_numbers(frame: pl.DataFrame, lines: int) -> pl.DataFrame | None:
    """Add ``_row``: the line each record starts on, counting the line breaks inside quoted
    cells of the records before it (``_breaks``: those inside each record). None when the
    count does not add up to the file's lines (then the lenient parser, which knows its
    lines, reads the file instead)."""
    cols = [c for c in frame.columns if c.startswith("c")]
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    if frame.height == lines:  # no cell spans lines: record i is on line i + 1
        return frame.with_columns((index + 1).alias("_row"), pl.lit(0, pl.Int64).alias("_breaks"))
    # Count only in the columns that hold a line break at all (usually one: the address).
    spans = frame.select(pl.col(cols).str.contains("\n", literal=True).any()).row(0)
    if not any(spans):
        return None
    breaks = pl.sum_horizontal(
        pl.col(c).str.count_matches("\n", literal=True).fill_null(0)
        for c, span in zip(cols, spans, strict=True)
        if span
    ).cast(pl.Int64)
    frame = frame.with_columns(
        (index + 1 + breaks.cum_sum().shift(1, fill_value=0)).alias("_row"),
        breaks.alias("_breaks"),
    )
    last = frame.select((pl.col("_row") + pl.col("_breaks")).last()).item()
    return frame if last == lines else None


def _parse(
    data: bytes, delimiter: str, width: int, lines: int, display: str, limits: Limits
) -> pl.DataFrame:
    """Records with ``_row`` and ``_breaks``: Polars, or the lenient parser for a file
    Polars rejects. Raises UnicodeDecodeError when the text is not UTF-8 after all."""
    try:
        raw = _with_line_numbers(_parse_polars(data, delimiter, width), lines)
    except pl.exceptions.PolarsError as err:
        if "utf-8" in str(err).lower():
            raise UnicodeDecodeError("utf-8", b"", 0, 1, str(err)) from None
        raw = None
    if raw is not None:
        return raw
    return _parse_python(data.decode("utf-8"), delimiter, display, limits)


def _check_runaway_quotes(frame: pl.DataFrame, display: str, limits: Limits) -> None:
    """A record spanning dozens of lines is a quote mark never closed, swallowing rows."""
    limit = limits.max_cell_lines
    bad = frame.filter(pl.col("_breaks") > limit).get_column("_row")
    if bad.len():
        row = int(bad[0])
        raise RosterReadError(display, "read.runaway_quote", row=row, line=row)


def _is_blank(data: bytes) -> bool:
    """Nothing but whitespace (looking at the start first: a roster rarely starts blank)."""
    return not data[:65536].strip() and not data.strip()


def _read_csv(path: Path, display: str, limits: Limits) -> RosterTable:
    data = path.read_bytes()
    document = document_kind(path, data[:8])
    if document is not None:
        raise NotARosterError(display, detail=document)
    data, encoding, presumed = _to_utf8(data, display)
    if _is_blank(data):
        raise RosterReadError(display, "read.no_rows")
    lim.check_line_lengths(data, display, limits)
    # Zero-width characters to strip? Look for their first byte only (a fast memchr scan).
    extra = reading_rules().csv.strip_extra
    invisible = any(lead in data for lead in {ch.encode("utf-8")[:1] for ch in extra})
    delimiter, width = _sniff(data)
    lines = _line_count(data)
    lim.check_csv_shape(display, width, lines, limits)
    try:
        try:
            raw = _parse(data, delimiter, width, lines, display, limits)
        except UnicodeDecodeError:
            if not presumed:
                raise
            data, encoding = _cp1252_to_utf8(data), "cp1252"
            raw = _parse(data, delimiter, width, lines, display, limits)
    except (csv.Error, UnicodeDecodeError) as err:
        raise RosterReadError(display, "read.bad_csv", reason=err) from None
    del data  # the file's text (as big as the file) is not needed once parsed
    if raw.height == 0:
        raise RosterReadError(display, "read.no_rows")
    if lines > raw.height:
        _check_runaway_quotes(raw, display, limits)
    raw.drop_in_place("_breaks")  # in place: a new frame would copy every column into one chunk
    cols = [c for c in raw.columns if c.startswith("c")]
    scan = limits.header_scan_rows
    # head() before select(): a select over all rows would first copy every column into
    # one chunk to line it up with the one-chunk ``_row``
    top = raw.head(scan + 1).select(cols).rows()
    k = find_header(top[:scan])
    if k is None:
        raise HeaderNotFoundError(display, detail=str(scan))
    header = read_header(list(top[k]), list(top[k + 1]) if k + 1 < len(top) else None)
    numbers = raw.get_column("_row").head(k + 1).to_list()
    base = dict(file=display, path=path, sheet=None, kind="csv")
    base |= dict(encoding=encoding, delimiter=delimiter)
    body = raw.slice(k + header.height)
    del raw  # the body is cleaned in place: no other frame may hold its columns
    no = pl.repeat(False, body.height, dtype=pl.Boolean, eager=True)
    body.hstack([no.alias("_nik_numeric"), no.alias("_phone_numeric")], in_place=True)
    columns = body.get_columns()
    del body
    table = build_table(base, header, numbers[k], columns, invisible)
    table.title_rows = title_rows([list(r) for r in top[:k]], numbers[:k])
    return table


# ---------------------------------------------------------------------------- workbooks


def _cell_text(value: object) -> str:
    """A spreadsheet cell as text: integer-valued numbers as their exact digits, other
    numbers short, dates ISO, booleans as Excel shows them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return "" if value is None else str(value)


def _is_number(value: object) -> bool:
    return value.__class__ is float or value.__class__ is int


def _text_columns(rows: list[list], width: int) -> dict[str, list[str]]:
    """Rows of cells → text columns (the one per-cell pass; most cells are text already)."""
    if any(len(r) != width for r in rows):
        rows = [list(r) + [""] * (width - len(r)) for r in rows]
    return {
        f"c{j}": [v if v.__class__ is str else _cell_text(v) for v in column]
        for j, column in enumerate(zip(*rows, strict=True))
    }


def _open_workbook(fh, path: Path, display: str):
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        return CalamineWorkbook.from_filelike(fh)
    except PasswordError:
        raise RosterReadError(display, "read.password") from None
    except CalamineError as err:
        fh.seek(0)
        head = fh.read(4096)
        document = document_kind(path, head[:8])
        if document is not None:
            raise NotARosterError(display, detail=document) from None
        if head.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE2 container calamine could not open
            hint = "read.ole2"
        elif head.lstrip().startswith(b"<"):
            hint = "read.html"
        elif b"\x00" not in head and not head.startswith(b"PK") and _looks_text(head):
            hint = "read.text_workbook"
        else:
            hint = "read.bad_workbook"
        raise RosterReadError(display, hint, reason=_first_line(err)) from None


def _looks_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return all(b >= 0x20 or b in b"\t\r\n" for b in head)


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _worksheets(wb) -> tuple[list[str], list[str]]:
    """All worksheet names, and the visible ones (chart sheets hold no rows)."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    sheets = [m for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    visible = [m.name for m in sheets if m.visible == SheetVisibleEnum.Visible]
    return [m.name for m in sheets], visible


def _choose_sheet(wanted: str | None, names: list[str], visible: list[str], display: str):
    if not names:
        raise RosterReadError(display, "read.no_sheets")
    if wanted is None:
        return (visible or names)[0]
    if wanted in names:
        return wanted
    folded = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    raise SheetNotFoundError(display, "read.sheet_not_found", wanted=wanted, names=", ".join(names))


def _sheet_has_data(wb, name: str, scan: int) -> bool:
    """A sheet worth mentioning: it has a roster header, or NIK-looking cells."""
    rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=scan)
    if find_header([[_cell_text(v) for v in r] for r in rows]) is not None:
        return True
    cells = pl.Series([_cell_text(v) for r in rows for v in r], dtype=pl.Utf8)
    return bool(cells.str.contains(reading_rules().sheets.nik_like).any())


def _load_sheet(wb, name: str, bounds: lim.WorkbookBounds | None, display: str, limits):
    """The sheet's rows, within the limits: a workbook that is a zip was scanned before it
    was opened (``limits.scan_workbook``); any other is checked on the size the reader
    reports before its cells become Python objects."""
    if bounds is not None:
        bounds.check(name)
    sheet = wb.get_sheet_by_name(name)
    extent = lim.Extent(sheet.height, sheet.width)
    if sheet.width > limits.max_columns:
        raise lim.refuse(display, "max_columns", limits, lim.number(sheet.width), name)
    if extent.cells > limits.max_workbook_cells:
        found = f"{lim.number(extent.cells)} ({extent.ref()})"
        raise lim.refuse(display, "max_workbook_cells", limits, found, name)
    return sheet.to_python(skip_empty_area=False)


def _read_workbook(
    path: Path, display: str, kind: str, wanted: str | None, limits: Limits
) -> RosterTable:
    from python_calamine import CalamineError

    bounds = lim.scan_workbook(path, display, limits)
    scan = limits.header_scan_rows
    with path.open("rb") as fh:
        wb = _open_workbook(fh, path, display)
        names, visible = _worksheets(wb)
        name = _choose_sheet(wanted, names, visible, display)
        try:
            rows = _load_sheet(wb, name, bounds, display, limits)
            others = (
                [
                    n
                    for n in visible
                    if n != name
                    and (bounds is None or bounds.fits(n))
                    and _sheet_has_data(wb, n, scan)
                ]
                if wanted is None
                else []
            )
        except CalamineError as err:
            raise RosterReadError(
                display, "read.cannot_read", sheet=name, reason=_first_line(err)
            ) from None
    base = dict(file=display, path=path, sheet=name, kind=kind)
    notes = []
    if others:
        notes.append(
            fnd.file_finding(display, name, "OTHER_SHEETS_HAVE_DATA", detail=", ".join(others))
        )
    if not any(v != "" for r in rows for v in r):
        if others:
            raise RosterReadError(
                display, "read.sheet_empty_others", sheet=name, others=", ".join(others)
            )
        raise RosterReadError(display, "read.sheet_empty", sheet=name)
    top = [[_cell_text(v) for v in r] for r in rows[: scan + 1]]
    k = find_header(top[:scan])
    if k is None:
        raise HeaderNotFoundError(display, detail=str(scan), sheet=name, notes=notes)
    header = read_header(top[k], top[k + 1] if k + 1 < len(top) else None)
    width = max(len(r) for r in rows)
    body = _workbook_body(rows, k + header.height - 1, width, header.fields)
    del rows
    columns = body.get_columns()
    del body
    table = build_table(base, header, k + 1, columns)
    table.notes = notes + table.notes
    table.title_rows = title_rows(top[:k], list(range(1, k + 1)))
    return table


def _workbook_body(rows: list[list], k: int, width: int, fields: dict[str, int]) -> pl.DataFrame:
    """The rows under the header (the last header row is ``k``) as text columns, in chunks
    (one pass over the cells), with their spreadsheet row numbers and whether the NIK /
    phone cell was a number."""
    schema = {f"c{j}": pl.Utf8 for j in range(width)}
    parts: list[pl.DataFrame] = []
    for start in range(k + 1, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        part = pl.DataFrame(_text_columns(chunk, width), schema=schema)
        flags = {
            f"_{flag}_numeric": [
                idx is not None and idx < len(r) and _is_number(r[idx]) for r in chunk
            ]
            for flag, idx in (("nik", fields.get("nik")), ("phone", fields.get("phone")))
        }
        part = part.with_columns(
            pl.int_range(start + 1, start + 1 + len(chunk), dtype=pl.Int64).alias("_row"),
            *(pl.Series(n, v, pl.Boolean) for n, v in flags.items()),
        )
        parts.append(part)
    if not parts:
        return pl.DataFrame(
            schema=schema
            | {"_row": pl.Int64, "_nik_numeric": pl.Boolean, "_phone_numeric": pl.Boolean}
        )
    return pl.concat(parts)
