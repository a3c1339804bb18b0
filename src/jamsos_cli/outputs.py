"""Writing files that people open: atomically, owner-only, and safe to open in Excel.

Every file jamsos writes for use (batches, rejects, review files, exports) goes through
here: written to a temporary file in the target folder, flushed and fsynced, then renamed
over the target, so a reader never sees half a file and a killed run leaves no partial one.
Files inside a batch's private staging folder skip the temporary name (``write_new``): the
folder itself is published by one rename once every file in it is durable.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"


def file_mode(group_readable: bool = False) -> int:
    """Owner read/write; group read too where the config allows it (SPEC §8)."""
    return 0o640 if group_readable else 0o600


def neutralise(value: str | None) -> str | None:
    """A value a spreadsheet would run as a formula gets a leading ``'`` (SPEC §6)."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised ``neutralise`` for a Utf8 column."""
    return pl.when(expr.str.contains(_FORMULA_PATTERN)).then(pl.lit("'") + expr).otherwise(expr)


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in frame.schema.items() if t == pl.Utf8]
    return frame.with_columns([neutralise_expr(pl.col(c)).alias(c) for c in text])


def _make_private_parents(folder: Path, mode: int) -> None:
    """Create the missing folders of ``folder`` private like the files (0700, or 0750 when
    the group may read), whatever the umask: they hold files with personal data."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        os.chmod(path, 0o750 if mode & 0o040 else 0o700)


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


def write_new(target: Path, data: bytes, mode: int = 0o600) -> Path:
    """Create ``target`` (it must not exist yet) holding ``data``, not yet fsynced.

    Only for files inside a private staging folder that is published whole by one rename
    (``batch.publish``): a killed run leaves the folder hidden and the next run removes it, so
    these files need no temporary name of their own; ``sync_in_background`` makes them durable
    before anything refers to them."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(target, mode)  # the umask may have narrowed a group-readable mode
    return Path(target)


@contextlib.contextmanager
def sync_in_background(workers: int = 4) -> Iterator[Callable[[Path], None]]:
    """Yield ``sync(path)``, which fsyncs a file in a background thread; every file handed
    over is durable when the block exits (an fsync error is raised there).

    A batch is a thousand small files: fsynced one by one, each waits for its own journal
    commit (about 2 s per thousand); fsyncs in flight together share commits, and they wait
    on the disk while the caller goes on making the next file."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fsync") as pool:
        pending: list[Future[None]] = []
        yield lambda path: pending.append(pool.submit(fsync_file, path))
        for done in pending:
            done.result()


@contextlib.contextmanager
def atomic_path(target: Path, mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    _make_private_parents(target.parent, mode)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, mode)
        yield tmp
        fsync_file(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_atomic(target: Path, write: Callable[[Path], None], mode: int = 0o600) -> Path:
    with atomic_path(target, mode) as tmp:
        write(tmp)
    return Path(target)


def write_csv(
    frame: pl.DataFrame,
    target: Path,
    *,
    mode: int = 0o600,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    """A CSV file of text columns, formula-neutralised (the header row too: a rejects file
    repeats the sender's headers), in the given encoding and delimiter."""
    body = neutralise_frame(frame.with_columns(pl.all().cast(pl.Utf8)))
    header = pl.DataFrame({c: [neutralise(c)] for c in body.columns}, schema=body.schema)
    safe = pl.concat([header, body])

    def write(tmp: Path) -> None:
        if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
            safe.write_csv(tmp, separator=delimiter, include_header=False)
            return
        text = safe.write_csv(separator=delimiter, include_header=False)
        tmp.write_bytes(text.encode(encoding, errors="replace"))

    return write_atomic(target, write, mode)


def write_xlsx(
    frame: pl.DataFrame,
    target: Path,
    *,
    mode: int = 0o600,
    sheet: str = "Sheet1",
    text_columns: set[str] | None = None,
    column_widths: dict[str, int] | None = None,
) -> Path:
    """An xlsx file where every cell is written as a string; ``text_columns`` (NIK, phone...)
    are also formatted as Text (``@``) so Excel does not turn them into numbers on edit."""
    import xlsxwriter

    safe = neutralise_frame(frame.with_columns(pl.all().cast(pl.Utf8)))
    text_columns = text_columns or set()

    def write(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(
            str(tmp),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                # row data spills to temp files: keep them beside the target (a private
                # staging folder for batches), not in a shared /tmp a killed run leaves them in
                "tmpdir": str(tmp.parent),
            },
        )
        from datetime import datetime

        wb.set_properties({"created": datetime(2000, 1, 1)})  # same bytes for the same data
        ws = wb.add_worksheet(sheet[:31])
        bold = wb.add_format({"bold": True})
        text = wb.add_format({"num_format": "@"})
        for j, name in enumerate(safe.columns):
            fmt = text if name in text_columns else None
            width = (column_widths or {}).get(name, max(10, min(40, len(name) + 2)))
            ws.set_column(j, j, width, fmt)
            ws.write_string(0, j, neutralise(name), bold)
        for i, row in enumerate(safe.iter_rows(), start=1):
            for j, value in enumerate(row):
                if value is not None:
                    ws.write_string(i, j, value, text if safe.columns[j] in text_columns else None)
        wb.close()

    return write_atomic(target, write, mode)
