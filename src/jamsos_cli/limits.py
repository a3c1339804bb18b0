"""Reading limits, enforced before the work: a small file must not take the machine down.

A CSV is checked on its bytes (size, bytes per line) and its shape (columns, lines x
columns) before Polars parses it. A workbook is a zip: before python-calamine opens it,
every XML part is inflated once as a stream (never held whole) so that its real size is
known, whatever the zip's directory claims, and each worksheet's cell references are
scanned for its used range: the workbook reader holds a sheet as one dense rectangle from
its first to its last cell, so one cell at XFD1048576 would ask for 17 billion cells.

Past a limit the file is refused with ``FILE_TOO_LARGE``, naming the limit as the config
file spells it (``[limits]``, see ``headers.Limits`` and ``schemas/reading.toml``).
"""

from __future__ import annotations

import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import unescape
from pathlib import PurePosixPath

import polars as pl

from jamsos_cli.headers import Limits
from jamsos_cli.tables import CodedReadError, RosterReadError

# The finding code this step emits (tests/test_house.py holds each step to its list, and
# all to codes.toml).
EMITS = frozenset({"FILE_TOO_LARGE"})

_MB = 2**20
_CHUNK = 4 * _MB  # inflated bytes scanned at a time
_CARRY = 4096  # a chunk is cut before its last "<" within this many bytes


class FileTooLargeError(CodedReadError):
    """The input exceeds a reading limit (``FILE_TOO_LARGE``): ``detail`` names the limit,
    ``value`` what the file holds."""

    code = "FILE_TOO_LARGE"


def number(n: int) -> str:
    """A count as TOML writes it (language-neutral: 50_000_000)."""
    return f"{n:_}"


def refuse(
    display: str, key: str, limits: Limits, found: str, sheet: str | None = None
) -> FileTooLargeError:
    unit = {"mb": " MB", "kb": " KB"}.get(key.rsplit("_", 1)[-1], "")
    limit = f"{key} = {number(getattr(limits, key))}{unit}"
    return FileTooLargeError(display, detail=limit, value=found, sheet=sheet)


# ---------------------------------------------------------------------------- CSV


def check_file_size(display: str, kind: str, size: int, limits: Limits) -> None:
    key = "max_csv_mb" if kind == "csv" else "max_workbook_mb"
    if size > getattr(limits, key) * _MB:
        raise refuse(display, key, limits, f"{number(-(-size // _MB))} MB")


def check_line_lengths(data: bytes, display: str, limits: Limits) -> None:
    """No line longer than ``max_line_kb`` (``\\n`` line ends): a walk that jumps a whole
    limit at a time to the last line end within it, so a file costs one pass of memrchr."""
    cap = limits.max_line_kb * 1024
    start, size = 0, len(data)
    while size - start > cap:
        end = data.rfind(b"\n", start, start + cap + 1)
        if end < 0:
            nxt = data.find(b"\n", start + cap)
            length = (size if nxt < 0 else nxt) - start
            raise refuse(display, "max_line_kb", limits, f"{number(length // 1024)} KB")
        start = end + 1


def check_csv_shape(display: str, columns: int, lines: int, limits: Limits) -> None:
    if columns > limits.max_columns:
        raise refuse(display, "max_columns", limits, number(columns))
    if columns * lines > limits.max_csv_cells:
        raise refuse(display, "max_csv_cells", limits, f"{number(lines)} x {number(columns)}")


# ---------------------------------------------------------------------------- workbooks


def column_name(col: int) -> str:
    """1 → A, 27 → AA, 16384 → XFD."""
    name = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        name = chr(65 + rest) + name
    return name


def column_number(name: bytes) -> int:
    n = 0
    for ch in name:
        n = n * 26 + ch - 64
    return n


def _greater(text: str, alphabet: str) -> str:
    """A regex for the strings over ``alphabet`` (in order, no leading smallest symbol)
    greater than ``text`` in that order: longer ones, or as long and larger."""
    every = f"[{alphabet[0]}-{alphabet[-1]}]"
    parts = [f"{every}{{{len(text) + 1},}}"]
    for i, ch in enumerate(text):
        higher = alphabet[alphabet.index(ch) + 1 :]
        if higher:
            rest = f"{every}{{{len(text) - i - 1}}}" if i < len(text) - 1 else ""
            parts.append(f"{re.escape(text[:i])}[{higher[0]}-{higher[-1]}]{rest}")
    return "|".join(parts)


_REFS = re.compile(rb'<(c|row) r="([A-Z]{0,3})([0-9]{1,10})"')
# A cell or row tag that does not start with its reference (the reader then counts
# positions), or one with a namespace prefix; ``_MAYBE_ODD`` is the quicker search that
# finds them all (and the odd ":c " in a text), run by Polars (Rust regex syntax).
_ODD_TAG = r"<(?:c|row)(?:>|/>|[ \t\r\n]+[^r])|<[A-Za-z_][A-Za-z0-9_.-]*:(?:c|row)[ \t\r\n/>]"
_MAYBE_ODD = r"<(?:c|row)(?:>|/>|[ \t\r\n]+[^r])|:(?:c|row)[ \t\r\n/>]"
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}[0-9]{1,10}:)?([A-Z]{1,3})([0-9]{1,10})"')
_ATTR_R = re.compile(rb'\sr="([A-Z]{0,3})([0-9]{0,10})"')


def _contains(chunk: bytes, pattern: str) -> bool:
    """Whether ``pattern`` occurs in ``chunk``: Polars' regex engine (Rust, several times
    faster than ``re`` on a sheet's millions of tags)."""
    try:
        text = pl.Series([chunk], dtype=pl.Binary).cast(pl.Utf8)
    except pl.exceptions.PolarsError:  # not UTF-8 (a damaged part): the slow way
        text = pl.Series([chunk.decode("utf-8", "replace")], dtype=pl.Utf8)
    return bool(text.str.contains(pattern).item())


@dataclass
class Extent:
    """The used range of one worksheet, as an upper bound: last row and last column."""

    rows: int = 0
    cols: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    def ref(self) -> str:
        return f"A1:{column_name(self.cols)}{self.rows}"

    def add(self, col: int, row: int) -> None:
        self.rows, self.cols = max(self.rows, row), max(self.cols, col)


@dataclass
class _SheetScan:
    """Scans one worksheet's XML chunk by chunk for its extent.

    Fast path (every writer we know puts ``r`` first on each ``<c>`` and ``<row>``): the
    sheet's ``<dimension>`` (or the first chunk's references) is the first extent; after
    that one regex search per chunk looks for a reference beyond the extent so far or a
    tag without its ``r``, and only a chunk with such a thing is read exactly (its
    references widen the extent). A sheet true to its dimension is one search per chunk.

    Tags without an ``r`` (the reader then counts positions: the next column, the next
    row) or with a prefix take the counting path from there on: an upper bound from
    byte counts, never less than where the reader would put a cell."""

    limits: Limits
    extent: Extent = field(default_factory=Extent)
    counting: bool = False  # implicit positions or prefixes: counted from now on
    suspect: str | None = None
    refs: Extent = field(default_factory=Extent)  # the largest explicit references
    rows_seen: int = 0  # rows closed so far (counting path)
    open_cells: int = 0  # cells of the row a chunk ended in
    implicit_rows: bool = False
    implicit_cells: bool = False

    @property
    def over(self) -> bool:
        """Past a limit already: the rest of the part need not be read."""
        e, limits = self.extent, self.limits
        return e.cols > limits.max_columns or e.cells > limits.max_workbook_cells

    def feed(self, chunk: bytes) -> None:
        if self.suspect is None and not self.counting:
            # The sheet's own <dimension> (Excel and every library write it) is the first
            # bound: a sheet with no cell outside it is no larger than it says.
            dim = _DIMENSION.search(chunk, 0, 65_536)
            if dim is not None:
                self.extent.add(column_number(dim.group(1)), int(dim.group(2)))
                self._bound()
        if not self.counting:
            if self.suspect is not None and not _contains(chunk, self.suspect):
                return
            if not _contains(chunk, _ODD_TAG):
                for _, letters, digits in _REFS.findall(chunk):
                    self.extent.add(column_number(letters), int(digits))
                self._bound()
                return
            self.counting = True
            self.refs.add(self.extent.cols, self.extent.rows)
        self._count(chunk)

    def _bound(self) -> None:
        """The search for a reference beyond the extent so far (a column right of it, a row
        below it) or an odd tag: a chunk without one holds nothing the extent misses."""
        col_gt = _greater(column_name(max(self.extent.cols, 1)), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        row_gt = _greater(str(max(self.extent.rows, 1)), "0123456789")
        self.suspect = (
            rf'<c r="(?:{col_gt})[0-9]|<(?:c r="[A-Z]*|row r=")(?:{row_gt})"|{_MAYBE_ODD}'
        )

    def _count(self, chunk: bytes) -> None:
        """Where the reader can put a cell, from counts: a row without ``r`` is the next
        one (rows closed so far), a cell without ``r`` is at most as far right as the
        largest reference plus the cells of its row."""
        for letters, digits in _ATTR_R.findall(chunk):
            self.refs.add(column_number(letters) if letters else 0, int(digits or 0))
        cells = sum(chunk.count(t) for t in (b"<c ", b"<c>", b"<c/>", b":c ", b":c>", b":c/"))
        self.implicit_cells |= cells != chunk.count(b'<c r="') + chunk.count(b':c r="')
        rows = sum(chunk.count(t) for t in (b"<row ", b"<row>", b":row ", b":row>"))
        self.implicit_rows |= rows != chunk.count(b'<row r="') + chunk.count(b':row r="')
        self.rows_seen += chunk.count(b"/row>")
        row_bound = self.refs.rows + (self.rows_seen + 1 if self.implicit_rows else 0)
        col_bound = self.refs.cols
        if self.implicit_cells:
            pieces = chunk.split(b"/row>")
            counts = [p.count(b"<c") + p.count(b":c") for p in pieces]
            counts[0] += self.open_cells
            self.open_cells = counts[-1]
            col_bound += max(counts)
        self.extent.add(col_bound, row_bound)


@dataclass
class WorkbookBounds:
    """What the scan found: each worksheet's extent, by sheet name where the workbook's
    own parts say which part is which sheet."""

    display: str
    limits: Limits
    extents: dict[str, Extent]  # part name → extent
    parts: dict[str, str]  # sheet name → part name

    def _extent(self, sheet: str) -> Extent:
        part = self.parts.get(sheet)
        if part in self.extents:
            return self.extents[part]
        # a sheet whose part is not known: the largest extent of any part (never let an
        # unchecked sheet through)
        return max(self.extents.values(), key=lambda e: e.cells, default=Extent())

    def fits(self, sheet: str) -> bool:
        e = self._extent(sheet)
        return e.cols <= self.limits.max_columns and e.cells <= self.limits.max_workbook_cells

    def check(self, sheet: str) -> None:
        e = self._extent(sheet)
        if e.cols > self.limits.max_columns:
            raise refuse(self.display, "max_columns", self.limits, number(e.cols), sheet)
        if e.cells > self.limits.max_workbook_cells:
            found = f"{number(e.cells)} ({e.ref()})"
            raise refuse(self.display, "max_workbook_cells", self.limits, found, sheet)


def scan_workbook(path, display: str, limits: Limits) -> WorkbookBounds | None:
    """The bounds of a zip-based workbook (xlsx, xlsm, ods), or None when the file is not a
    zip (an old .xls: its format caps a sheet at 65,536 x 256 cells). Raises
    ``FileTooLargeError`` when a part inflates past ``max_workbook_xml_mb``; a part whose
    real size differs from the directory's fails its check and is reported damaged."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    cap = limits.max_workbook_xml_mb * _MB
    with zf:
        infos = [i for i in zf.infolist() if i.filename.endswith((".xml", ".rels"))]
        for info in infos:
            if info.file_size > cap:
                found = f"{number(-(-info.file_size // _MB))} MB ({info.filename})"
                raise refuse(display, "max_workbook_xml_mb", limits, found)
        # Every XML part is scanned, whatever its name: cell tags cannot occur in text
        # (a "<" there is escaped), and the workbook's own parts decide which is a sheet.
        extents: dict[str, Extent] = {}
        small: dict[str, bytes] = {}
        for info in infos:
            scan = _SheetScan(limits)
            keep = info.filename in _WORKBOOK_PARTS
            data = _inflate(zf, info, display, scan, keep)
            extents[info.filename] = scan.extent
            if keep:
                small[info.filename] = data
    return WorkbookBounds(display, limits, extents, _sheet_parts(small))


_WORKBOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")


def _inflate(zf: zipfile.ZipFile, info, display: str, scan: _SheetScan, keep: bool) -> bytes:
    """Stream one part through ``scan`` (cut before a ``<``, so no tag is split between two
    chunks); its bytes only when ``keep`` (small parts)."""
    kept: list[bytes] = []
    rest = b""
    try:
        for chunk in _chunks(zf, info):
            if keep:
                kept.append(chunk)
            data = rest + chunk
            cut = data.rfind(b"<", max(0, len(data) - _CARRY))
            cut = len(data) if cut <= 0 else cut
            scan.feed(data[:cut])
            rest = data[cut:]
            if scan.over and not keep:
                return b""  # its extent is past a limit: refused if it is ever read
        if rest:
            scan.feed(rest)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        reason = f"{info.filename}: {reason}"  # the part, in zipfile's words
        raise RosterReadError(display, "read.bad_workbook", reason=reason) from None
    except NotImplementedError:  # a compression method zipfile lacks: the reader decides
        return b""
    return b"".join(kept)


def _chunks(zf: zipfile.ZipFile, info):
    """The part's inflated bytes in chunks, the next one inflated in a thread while the
    caller scans this one (zlib works without holding the interpreter lock)."""
    with zf.open(info) as fh, ThreadPoolExecutor(1) as pool:  # size and CRC checked
        pending = pool.submit(fh.read, _CHUNK)
        while chunk := pending.result():
            pending = pool.submit(fh.read, _CHUNK)
            yield chunk


_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_REL = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'([\w.:-]+)="([^"]*)"')


def _sheet_parts(small: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → its part ("xl/worksheets/sheet1.xml") from workbook.xml and its rels."""
    targets = {}
    for m in _REL.finditer(small.get("xl/_rels/workbook.xml.rels", b"")):
        attrs = dict(_ATTR.findall(m.group(1)))
        target = attrs.get(b"Target", b"").decode("utf-8", "replace")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[attrs.get(b"Id", b"")] = str(PurePosixPath(path))
    parts = {}
    for m in _SHEET.finditer(small.get("xl/workbook.xml", b"")):
        attrs = {k.rsplit(b":", 1)[-1]: v for k, v in _ATTR.findall(m.group(1))}
        name = unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
        rid = next((v for k, v in _ATTR.findall(m.group(1)) if k.endswith(b":id")), None)
        if rid in targets:
            parts[name] = targets[rid]
    return parts
