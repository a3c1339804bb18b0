"""The one write path: every file jamsos writes goes through here (batches, rejects, review
files, exports, the manifest, the ledger file when it is created, the log file, the
template).

- **Atomic.** A file is written in a private temporary folder made inside the target's own
  folder (``.<name>.<random>.tmp/``, 0700), fsynced, then renamed over the target, and the
  folder fsynced: a reader never sees half a file, a killed run leaves no partial one.
  Spreadsheet writers keep their own temporary files in that private folder too, never in
  the system temp folder (``workbook``).
- **Private.** Files 0600, or 0640 with config ``group_readable`` (``file_mode``); folders
  jamsos creates 0700 / 0750 (``dir_mode``), whatever the umask. The template, which holds
  no personal data, is the one file written readable by others.
- **Formula-safe.** A value a spreadsheet would run as a formula gets a leading ``'``
  (``neutralise``, SPEC §6).
- **No writing through links.** One rule for the name being written: a regular file there
  is replaced; a symlink, a folder or anything else is refused (``WriteRefused``, exit 2),
  left untouched. Every file is opened through ``open_private``: never following a link
  at its name (``O_NOFOLLOW``), and created exclusively (``O_EXCL``) wherever it must be new
  (temporary files, files of a staging folder). A folder that must be new (a batch's staging
  folder, its final name) is claimed with ``new_private_dir``: anything already at that name
  (a planted folder, a dangling symlink) is refused, never used or replaced. A folder jamsos
  created is checked to be that folder (not a symlink put in its place) before anything is
  written into it.
- **A full disk is one line.** An ``OSError`` while writing becomes a ``JamsosError``:
  ``DiskFull`` ("disk full on <mount>", exit 2) for ``ENOSPC``/``EDQUOT``, else the file and
  the system's reason (``written``). The temporary folder is removed, the target left as it
  was. Test hook: ``JAMSOS_TEST_DISK_FULL=<folder>`` makes every write under that folder
  fail with ``ENOSPC`` (``disk_full_point``), where a real small filesystem cannot be mounted.

Files inside a batch's private staging folder skip the temporary name (``write_new``): the
folder itself is published by one rename once every file in it is durable (``batch.py``).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jamsos_cli.errors import JamsosError

if TYPE_CHECKING:  # imported where a frame is written: every command imports this module,
    import polars as pl  # and `jamsos decrees` starts without Polars
    import xlsxwriter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class WriteRefused(JamsosError):
    """The name to write is a symlink, a folder or another special file: refused (exit 2),
    nothing written and nothing it points to touched."""


class DiskFull(JamsosError):
    """The filesystem holding ``path`` is full (or the user's quota is): exit 2, the file
    not written. ``mount`` is the mount point the message names."""

    def __init__(self, path: Path, key: str = "error.file.disk_full") -> None:
        self.path = Path(path)
        super().__init__(key, mount=mount_of(self.path), path=self.path)

    def of_batch(self) -> DiskFull:
        """The same failure as build-batch reports it: the batch was not written."""
        return DiskFull(self.path, "error.file.disk_full_batch")


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def mount_of(path: Path) -> Path:
    """The mount point of the filesystem ``path`` is (or would be) on."""
    probe = Path(os.path.abspath(path))
    while not os.path.ismount(probe) and probe.parent != probe:
        probe = probe.parent
    return probe


def write_error(exc: BaseException, path: Path) -> JamsosError:
    """An error while writing ``path`` as the one line the user reads: ``DiskFull`` for a
    full disk (also when a library wrapped the ``OSError``, as xlsxwriter does), else the
    file and the system's reason."""
    cause = _os_error_in(exc)
    if isinstance(cause, OSError) and cause.errno in _FULL:
        return DiskFull(path)
    if any(os.strerror(code) in str(exc) for code in _FULL):  # Polars' writers say it in words
        return DiskFull(path)
    if isinstance(cause, OSError) and cause.errno == errno.ELOOP:
        return WriteRefused("error.file.symlink", path=path)
    reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else exc
    return JamsosError("error.file.write", path=path, reason=reason)


@contextlib.contextmanager
def written(path: Path) -> Iterator[None]:
    """Writing ``path`` inside the block: an ``OSError`` (or a writer's error wrapping one)
    becomes the one line of ``write_error``; ``JamsosError`` passes as it is."""
    try:
        yield
    except JamsosError:
        raise
    except Exception as exc:
        if _os_error_in(exc) is None:
            raise
        raise write_error(exc, path) from None


def _os_error_in(exc: BaseException | None) -> OSError | None:
    """The ``OSError`` at the bottom of ``exc``'s chain (a library may wrap it), or None."""
    while exc is not None and not isinstance(exc, OSError):
        exc = exc.__cause__ or exc.__context__
    return exc


def disk_full_point(path: Path) -> None:
    """Test-only hook: ``JAMSOS_TEST_DISK_FULL=<folder>`` makes a write of any file under
    that folder fail as a full disk does (``ENOSPC``)."""
    full = os.environ.get("JAMSOS_TEST_DISK_FULL")
    target = Path(os.path.abspath(path))
    if (
        full
        and target != Path(os.path.abspath(full))
        and target.is_relative_to(os.path.abspath(full))
    ):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


# --------------------------------------------------------------------------- modes


def file_mode(group_readable: bool = False) -> int:
    """Owner read/write; group read too where the config allows it (SPEC §8)."""
    return 0o640 if group_readable else 0o600


def dir_mode(mode: int) -> int:
    """Folders holding personal data: owner only, or owner + group like the files."""
    return 0o750 if mode & 0o040 else 0o700


# --------------------------------------------------------------------------- formulas


def neutralise(value: str | None) -> str | None:
    """A value a spreadsheet would run as a formula gets a leading ``'`` (SPEC §6)."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised ``neutralise`` for a Utf8 column."""
    import polars as pl

    return pl.when(expr.str.contains(_FORMULA_PATTERN)).then(pl.lit("'") + expr).otherwise(expr)


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    text = [c for c, t in frame.schema.items() if t == pl.Utf8]
    return frame.with_columns([neutralise_expr(pl.col(c)).alias(c) for c in text])


# --------------------------------------------------------------------------- names and folders


def check_target(target: Path) -> None:
    """The one rule for the name being written: nothing there, or a regular file (replaced).
    A symlink (wherever it points), a folder or a special file is refused."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise WriteRefused("error.file.symlink", path=target)
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused("error.file.not_regular", path=target)


def _check_own_folder(folder: Path) -> None:
    """A folder jamsos created is still a real folder (not a symlink put in its place)."""
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise WriteRefused("error.file.symlink", path=folder)


def private_folder(folder: Path, mode: int = 0o600) -> list[Path]:
    """``folder`` and its missing parents, the new ones created private (``dir_mode``)
    whatever the umask: they hold files with personal data. Returns the folders created."""
    folder = Path(folder)
    missing: list[Path] = []
    probe = folder
    while not os.path.lexists(probe):
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            pass  # made meanwhile by another run: checked below like our own
        except OSError as exc:
            if exc.errno in _FULL:
                raise DiskFull(path) from None
            raise JamsosError("error.file.folder", path=path, reason=exc.strerror) from None
        _check_own_folder(path)
        os.chmod(path, dir_mode(mode))
    return missing


def new_private_dir(path: Path, mode: int = 0o600) -> Path:
    """Create the folder ``path``, private. It must be new: anything already at that name
    (a folder planted there, a symlink, dangling or not) is refused, never used."""
    path = Path(path)
    check_new(path)
    with written(path):
        disk_full_point(path)
        try:
            path.mkdir()
        except FileExistsError:
            check_new(path)  # planted meanwhile: refused as such
            raise
    _check_own_folder(path)
    os.chmod(path, dir_mode(mode))
    return path


def check_new(path: Path) -> None:
    """The rule for a name jamsos must create (a batch folder, its staging folder): nothing
    may be there, not even a dangling symlink."""
    if os.path.islink(path):
        raise WriteRefused("error.file.symlink", path=path)
    if os.path.lexists(path):
        raise WriteRefused("error.file.planted", path=path)


def open_private(target: Path, flags: int, mode: int = 0o600) -> int:
    """``os.open`` as jamsos opens every file it writes: never through a symlink at the
    name (``O_NOFOLLOW``; with ``O_EXCL`` when the file must be new), created with ``mode``;
    a refusal or a full disk is the one line of ``write_error``."""
    target = Path(target)
    check_target(target)
    with written(target):
        if not os.path.lexists(target):
            disk_full_point(target)  # a full disk refuses a new file; an old one, its writes
        return os.open(target, flags | _NOFOLLOW | _BINARY, mode)


def sha256_file(path: Path) -> str:
    """The sha256 of a file (a manifest lists its files by it; the ledger records the
    manifest's)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def crash_point(name: str) -> None:
    """Test-only hooks: ``JAMSOS_TEST_CRASH_AT=<name>`` kills the process right here with
    SIGKILL, to prove a run killed at any step of a write leaves every file and the ledger
    consistent (``build.py`` names the points); ``JAMSOS_TEST_PAUSE_AT=<name>:<file>``
    creates ``<file>.reached`` here and waits until ``<file>`` exists, so a test can line up
    two runs at the same step (two offices recording the same people at once)."""
    if os.environ.get("JAMSOS_TEST_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    point, _, gate = os.environ.get("JAMSOS_TEST_PAUSE_AT", "").partition(":")
    if point == name and gate:
        import time

        Path(gate + ".reached").touch()
        deadline = time.monotonic() + 120
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_file(path: Path) -> None:
    """Make a written file's bytes durable (opened for writing: Windows refuses a read-only
    handle)."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_path(target: Path, mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path in a private folder beside ``target``; on success it replaces
    ``target`` (the naming rule of ``check_target`` is checked before and at the rename)."""
    target = Path(target)
    check_target(target)
    for folder in private_folder(target.parent, mode):
        _check_own_folder(folder)  # still ours when we write into it
    with written(target):
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        tmp = work / target.name
        with written(target):  # new, in our own new folder: exclusive, no link followed
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode))
        os.chmod(tmp, mode)
        with written(target):
            yield tmp
            disk_full_point(target)
            fsync_file(tmp)
        os.chmod(tmp, mode)  # the umask, or a writer that replaced the file, may have changed it
        check_target(target)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_atomic(target: Path, write: Callable[[Path], None], mode: int = 0o600) -> Path:
    """``write(tmp)`` writes the file; it then replaces ``target`` (``atomic_path``)."""
    with atomic_path(target, mode) as tmp:
        write(tmp)
    return Path(target)


def write_new(target: Path, data: bytes, mode: int = 0o600) -> Path:
    """Create ``target`` (it must not exist yet) holding ``data``, not yet fsynced.

    Only for files inside a private staging folder that is published whole by one rename
    (``batch.publish``): a killed run leaves the folder hidden and the next run removes it, so
    these files need no temporary name of their own; ``sync_in_background`` makes them durable
    before anything refers to them."""
    fd = open_private(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with written(target), os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(target, mode)  # the umask may have narrowed a group-readable mode
    return Path(target)


def open_append(target: Path, mode: int = 0o600) -> Path:
    """Create ``target`` private if missing, for appending (the log file); the naming rule
    holds for it too (a symlink there is refused)."""
    os.close(open_private(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode))
    return Path(target)


@contextlib.contextmanager
def sync_in_background(workers: int = 4) -> Iterator[Callable[[Path], None]]:
    """Yield ``sync(path)``, which fsyncs a file in a background thread; every file handed
    over is durable when the block exits (an fsync error is raised there).

    A batch is a thousand small files: fsynced one by one, each waits for its own journal
    commit (about 2 s per thousand); fsyncs in flight together share commits, and they wait
    on the disk while the caller goes on making the next file."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fsync") as pool:
        pending: list[tuple[Path, Future[None]]] = []
        yield lambda path: pending.append((path, pool.submit(fsync_file, path)))
        for path, done in pending:
            with written(path):
                done.result()


# --------------------------------------------------------------------------- formats


# What Excel refuses in a sheet name (xlsxwriter raises on them mid-write), and its length
SHEET_NAME_FORBIDDEN = "/\\?*[]:"
SHEET_NAME_MAX = 31


def sheet_name(name: str) -> str:
    """``name`` as a sheet name Excel accepts: each character it refuses as ``-``, cut to
    its length (a name jamsos chooses; a batch layout's is refused instead, ``batch.py``)."""
    for ch in SHEET_NAME_FORBIDDEN:
        name = name.replace(ch, "-")
    return name[:SHEET_NAME_MAX]


def workbook(
    tmp: Path, *, properties: dict[str, Any] | None = None, **options: Any
) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook at ``tmp`` (an ``atomic_path``): no cell is ever a formula,
    number or link unless written as one, its temporary files stay in ``tmp``'s private
    folder (never the system temp folder), and the same data gives the same bytes.
    ``properties``: document properties (a title) beside the fixed creation date."""
    from datetime import datetime

    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(tmp),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            **options,
            "tmpdir": str(Path(tmp).parent),
        },
    )
    wb.set_properties({**(properties or {}), "created": datetime(2000, 1, 1)})
    return wb


def csv_header_and_body(
    frame: pl.DataFrame, header_rows: list[list[str]] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The header (the frame's column names, or ``header_rows``: a rejects file repeats the
    sender's header, one row or two) as a frame, and the body of a CSV, every column text
    and formula-neutralised, the header too; the batch writer shares it."""
    import polars as pl

    body = neutralise_frame(frame.with_columns(pl.all().cast(pl.Utf8)))
    rows = header_rows if header_rows is not None else [body.columns]
    header = pl.DataFrame(
        [[neutralise(c) or None for c in row] for row in rows], schema=body.schema, orient="row"
    )
    return header, body


CSV_DELIMITER = ";"  # what a spreadsheet set to Indonesian (or any comma-decimal) locale splits on
CSV_BOM = codecs.BOM_UTF8  # the mark that tells Excel the file is UTF-8 (names keep their accents)


def write_csv(
    frame: pl.DataFrame,
    target: Path,
    *,
    mode: int = 0o600,
    header_rows: list[list[str]] | None = None,
) -> Path:
    """A CSV for people to open in a spreadsheet (rejects, review, ledger export): text
    columns, formula-neutralised (``csv_header_and_body``), ``;``-separated UTF-8 with a BOM,
    whatever the input was. The one place that decides it (SPEC §6): a comma file opens in
    Indonesian Excel as one column, and without the BOM accents break; a BPJS batch CSV
    follows its layout instead (``batch.py``)."""
    header, body = csv_header_and_body(frame, header_rows)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(CSV_BOM)
            for part in (header, body):
                part.write_csv(fh, separator=CSV_DELIMITER, include_header=False)

    return write_atomic(target, write, mode)


def write_xlsx(
    frame: pl.DataFrame,
    target: Path,
    *,
    mode: int = 0o600,
    sheet: str = "Sheet1",
    text_columns: set[str] | None = None,
    column_widths: dict[str, int] | None = None,
    number_columns: set[str] | None = None,
) -> Path:
    """An xlsx file where every cell is written as a string; ``text_columns`` (NIK, phone...)
    are also formatted as Text (``@``) so Excel does not turn them into numbers on edit.
    ``number_columns``: integer columns written as numbers (money a finance office sums).
    The header row is frozen; a column ``column_widths`` does not size is as wide as its
    header or its longest value (capped), so a NIK or a batch folder is not shown cut."""
    import polars as pl

    safe = neutralise_frame(frame.with_columns(pl.all().cast(pl.Utf8)))
    text_columns = text_columns or set()
    numbers = {safe.columns.index(c) for c in number_columns or ()}
    longest = safe.select(pl.all().str.len_chars().max().fill_null(0)).row(0) if safe.width else ()

    def shown(j: int, name: str) -> int:
        """Characters the widest cell of column ``j`` shows (#,##0: a separator per 3 digits)."""
        value = longest[j]
        return max(len(name), value + (value - 1) // 3 if j in numbers and value else value)

    def write(tmp: Path) -> None:
        wb = workbook(tmp, constant_memory=True)
        ws = wb.add_worksheet(sheet_name(sheet))
        bold = wb.add_format({"bold": True})
        text = wb.add_format({"num_format": "@"})
        amount = wb.add_format({"num_format": "#,##0"})
        ws.freeze_panes(1, 0)
        for j, name in enumerate(safe.columns):
            fmt = text if name in text_columns else None
            width = (column_widths or {}).get(name, max(10, min(60, shown(j, name) + 2)))
            ws.set_column(j, j, width, fmt)
            ws.write_string(0, j, neutralise(name), bold)
        for i, row in enumerate(safe.iter_rows(), start=1):
            for j, value in enumerate(row):
                if value is None:
                    continue
                if j in numbers:
                    ws.write_number(i, j, int(value), amount)
                else:
                    ws.write_string(i, j, value, text if safe.columns[j] in text_columns else None)
        wb.close()

    return write_atomic(target, write, mode)


# --------------------------------------------------------------------------- large xlsx sheets


def text_bytes(column: pl.DataFrame) -> bytes:
    """A frame of one text column as the UTF-8 bytes of its values, one after another
    (no separator, nothing quoted or escaped), written by Polars' CSV writer: the text
    never becomes a Python string (a slice of a sheet is ~40 MB: making it a ``str`` and
    encoding it again cost more than building it)."""
    import io

    buffer = io.BytesIO()
    column.write_csv(buffer, include_header=False, quote_style="never", line_terminator="")
    return buffer.getvalue()


_XML_CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))]


def xml_text_expr(expr: pl.Expr) -> pl.Expr:
    """A Utf8 column as XML element text, vectorised: ``& < >`` escaped, and the control
    characters XML cannot hold written ``_xHHHH_`` as Excel (and xlsxwriter) write them.

    One pass over each value for every character at once (``replace_many``): the patterns
    are single characters and no replacement holds one of them, so it is the sequence of
    replacements, ``&`` first, in one scan instead of 32."""
    return expr.str.replace_many(list(_XML_ESCAPES), list(_XML_ESCAPES.values()))


_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {
    ch: f"_x{ord(ch):04X}_" for ch in _XML_CONTROL
}


def fill_sheet(tmp: Path, rows: Iterator[bytes], *, after: int, last: tuple[int, int]) -> None:
    """Put ``rows`` (``<row>`` elements, XML bytes, for the rows after row ``after``) into
    the first sheet of the workbook xlsxwriter wrote at ``tmp``, streaming.

    For a sheet of millions of cells: xlsxwriter takes ~20 µs a cell (a Python call and an
    escape per cell), where the rows built as text by Polars column by column cost a tenth.
    xlsxwriter still writes everything else (header, styles, widths, frozen panes,
    comments); ``last`` (row, column, 0-based) is the sheet's new extent. Entries keep their
    names, order and fixed dates: the same rows give the same bytes."""
    import re
    import zipfile

    from xlsxwriter.utility import xl_rowcol_to_cell

    sheet = "xl/worksheets/sheet1.xml"
    done = tmp.with_name(tmp.name + ".filled")
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(done, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != sheet:
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            xml = data.decode("utf-8")
            end = xml.index("</sheetData>")
            # xlsxwriter writes an empty <row> for a row holding only a comment: dropped,
            # the rows given here stand for every row after the header
            later = (m for m in re.finditer(r'<row r="(\d+)"', xml) if int(m.group(1)) > after)
            cut = next(later, None)
            head = xml[: cut.start() if cut and cut.start() < end else end]
            head = re.sub(
                r'<dimension ref="[^"]*"/>',
                f'<dimension ref="A1:{xl_rowcol_to_cell(*last)}"/>',
                head,
                count=1,
            )
            # the fastest deflate level for the one big part (level 6 took most of the time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = 1  # noqa: SLF001 (ZipInfo's level; public only from 3.13)
            with out.open(info, "w") as fh:
                fh.write(head.encode("utf-8"))
                for part in rows:
                    fh.write(part)
                fh.write(xml[end:].encode("utf-8"))
    os.replace(done, tmp)
