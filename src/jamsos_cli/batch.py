"""Batch files in the BPJS upload layout, and the batch folder they are published in.

The column layout is data (``schemas/layouts/bpjs-bpu.toml`` by default, ``--layout PATH``
for another), validated by the ``Layout`` model: each column names a header and a *source*.
Sources are the one thing that is code: each is a vectorised Polars expression over the
accepted records (``SOURCES``), so a layout can reorder, rename or drop columns freely.

A batch folder is built under a hidden staging name (``.<folder>.tmp-<pid>``) and published
by one ``rename`` (see ``build.py`` for the commit sequence); a staging folder left by a
killed run is removed by the next run on that output folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from jamsos_cli.errors import JamsosError, UsageError, load_data_file, problem
from jamsos_cli.ledger import Period
from jamsos_cli.normalise import per_distinct
from jamsos_cli.resources import schema_file
from jamsos_cli.writing import (
    SHEET_NAME_FORBIDDEN,
    SHEET_NAME_MAX,
    check_new,
    crash_point,
    csv_header_and_body,
    fsync_dir,
    sha256_file,
    sync_in_background,
    write_atomic,
    write_new,
    write_xlsx,
    written,
)

if TYPE_CHECKING:
    import numpy as np

    from jamsos_cli.decrees import Decree
    from jamsos_cli.ledger import Change

DEFAULT_LAYOUT = "bpjs-bpu"
DEFAULT_MAX_ROWS = 1000
BATCH_FORMATS = ("xlsx", "csv")


class LayoutError(JamsosError):
    """A layout file that cannot be used (exit 2)."""


@dataclass(frozen=True)
class BatchContext:
    """The facts every row of one batch shares."""

    decree: Decree
    period: Period
    city: str | None
    province: str | None
    date_format: str

    def day(self, which: str) -> str:
        day = self.period.first_day if which == "start" else self.period.last_day
        return day.strftime(self.date_format)


def _col(name: str) -> Callable[[BatchContext], pl.Expr]:
    return lambda ctx: pl.col(name)


def _lit(value: Callable[[BatchContext], object]) -> Callable[[BatchContext], pl.Expr]:
    """A value every row shares (money as whole rupiah, written as text)."""

    def expr(ctx: BatchContext) -> pl.Expr:
        v = value(ctx)
        return pl.lit(None if v is None else str(v), pl.Utf8)

    return expr


def _padded(name: str) -> pl.Expr:
    """RT/RW numbers as BPJS forms write them: three digits."""
    v = pl.col(name).str.strip_chars()
    return pl.when(v.str.contains(r"^\d{1,3}$")).then(v.str.zfill(3)).otherwise(v)


def _with_padded(column: str, values: pl.LazyFrame) -> pl.LazyFrame:
    return values.with_columns(_padded(column).alias(f"_{column}_padded"))


def _rt_rw(ctx: BatchContext) -> pl.Expr:
    """ "003/012": from the numbers ``batch_frame`` padded once per distinct value."""
    padded = [pl.col(f"_{c}_padded") for c in ("rt", "rw")]
    joined = pl.concat_str(padded, separator="/", ignore_nulls=True)
    return pl.when(joined != "").then(joined)


def _premium(ctx: BatchContext) -> int:
    return ctx.decree.premium_per_person_month


# Every source a layout column may name: an expression over the accepted records.
SOURCES: dict[str, Callable[[BatchContext], pl.Expr]] = {
    **{
        f: _col(f)
        for f in (
            "nik",
            "name",
            "birth_place",
            "sex",
            "address",
            "rt",
            "rw",
            "kelurahan",
            "kecamatan",
            "phone",
            "mother_name",
            "occupation",
            "work_location",
            "kusuka_number",
            "email",
        )
    },
    "birth_date": lambda ctx: pl.col("birth_date").dt.strftime(ctx.date_format),
    "rt_rw": _rt_rw,
    "role": lambda ctx: pl.coalesce("_role_name", "role"),
    "job": lambda ctx: pl.coalesce("_role_name", "role", "occupation"),
    "city": _lit(lambda ctx: ctx.city),
    "province": _lit(lambda ctx: ctx.province),
    "declared_income": _lit(lambda ctx: ctx.decree.premium.declared_income),
    "programs": _lit(lambda ctx: ", ".join(ctx.decree.premium.programs)),
    "coverage_start": _lit(lambda ctx: ctx.day("start")),
    "coverage_end": _lit(lambda ctx: ctx.day("end")),
    "months": _lit(lambda ctx: ctx.period.months),
    "premium": _lit(_premium),
    "total_premium": _lit(lambda ctx: _premium(ctx) * ctx.period.months),
    "decree": _lit(lambda ctx: ctx.decree.id),
}
_RECORD_INPUTS = ("nik", "name", "birth_place", "birth_date", "sex", "address", "rt", "rw")
_RECORD_INPUTS += ("kelurahan", "kecamatan", "phone", "mother_name", "role", "occupation")
_RECORD_INPUTS += ("work_location", "kusuka_number", "email")


class LayoutColumn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    header: str = Field(min_length=1, description="The header written in row 1.")
    source: str = Field(description="What the column holds (see SOURCES).")
    text: bool = Field(False, description="xlsx: format the column as Text.")
    width: int | None = Field(None, ge=1, le=255, description="xlsx column width.")

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SOURCES:
            raise problem(
                "error.data.layout_source", source=value, known=", ".join(sorted(SOURCES))
            )
        return value


class Layout(BaseModel):
    """A batch file layout: sheet name, date format and the columns in order. Checked whole
    before any work: strict types, a sheet name Excel accepts, and a NIK column (a batch
    without NIKs cannot be uploaded, yet its people would be recorded as submitted)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: str = Field(min_length=1)
    title: str = ""
    sheet: str = Field("Sheet1", min_length=1, max_length=SHEET_NAME_MAX)
    date_format: str = Field("%d-%m-%Y", description="strftime format of dates (as text).")
    columns: list[LayoutColumn] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _unique_headers(cls, value: list[LayoutColumn]) -> list[LayoutColumn]:
        seen: set[str] = set()
        for col in value:
            if col.header in seen:
                raise problem("error.data.layout_header_twice", header=col.header)
            seen.add(col.header)
        return value

    @field_validator("columns")
    @classmethod
    def _has_nik(cls, value: list[LayoutColumn]) -> list[LayoutColumn]:
        if not any(col.source == "nik" for col in value):
            raise problem("error.data.layout_no_nik")
        return value

    @field_validator("sheet")
    @classmethod
    def _sheet_name(cls, value: str) -> str:
        if (
            any(c in SHEET_NAME_FORBIDDEN for c in value)
            or value.startswith("'")
            or value.endswith("'")
        ):
            raise problem("error.data.layout_sheet_name", forbidden=" ".join(SHEET_NAME_FORBIDDEN))
        return value

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str) -> str:
        if not all(part in value for part in ("%d", "%m", "%Y")):
            raise problem("error.data.layout_date_format")
        return value

    @property
    def text_headers(self) -> set[str]:
        return {c.header for c in self.columns if c.text}

    @property
    def widths(self) -> dict[str, int]:
        return {c.header: c.width for c in self.columns if c.width}


def load_layout(path: Path | None = None) -> Layout:
    """The layout in ``path``, or the shipped default; problems name the file and key."""
    source = Path(path) if path is not None else schema_file("layouts", f"{DEFAULT_LAYOUT}.toml")
    return load_data_file(source, Layout, LayoutError)


# --- the batch frame --------------------------------------------------------------------


def with_role_names(people: pl.DataFrame, decree: Decree) -> pl.DataFrame:
    """Add ``_role_name``: the decree's official name for each typed role ("KETUA RT 003" →
    "Ketua RT"), matched once per distinct cell like the eligibility check does."""
    from jamsos_cli.eligibility import alias_table, match_roles, role_key_expr

    # the role key (three regexes) once per distinct cell, not once per person
    cells = people.lazy().select("role").unique()
    keyed = cells.with_columns(role_key_expr(pl.col("role")).alias("_key"))
    names = match_roles(keyed.select("_key").drop_nulls().unique(), alias_table([decree]))
    by_cell = keyed.join(
        names.select("_key", pl.col("role").alias("_role_name")), on="_key", how="left"
    ).select("role", "_role_name")
    # joined on the role column alone: a join on ``people`` would gather every column of it
    role_name = (
        people.lazy()
        .select("role")
        .join(by_cell, on="role", how="left", maintain_order="left", nulls_equal=True)
        .select("_role_name")
        .collect()
        .to_series()
    )
    return people.with_columns(role_name)


def batch_frame(people: pl.DataFrame, layout: Layout, ctx: BatchContext) -> pl.DataFrame:
    """The accepted people in the layout's columns, all text, in input order."""
    missing = [c for c in _RECORD_INPUTS if c not in people.columns]
    frame = people.with_columns(
        [pl.lit(None, pl.Date if c == "birth_date" else pl.Utf8).alias(c) for c in missing]
    )
    frame = with_role_names(frame, ctx.decree)
    # RT and RW hold a few hundred distinct values: padded once each (``_rt_rw``), not per row
    frame = frame.with_columns(
        per_distinct(
            frame,
            {c: partial(_with_padded, c) for c in ("rt", "rw")},
        )
    )
    return frame.select(
        [SOURCES[c.source](ctx).cast(pl.Utf8).alias(c.header) for c in layout.columns]
    )


def part_names(stem: str, rows: int, max_rows: int, fmt: str) -> list[str]:
    """``<stem>_part001.xlsx``, ``..._part002.xlsx``: one per ``max_rows`` rows."""
    parts = max(1, -(-rows // max_rows))
    return [f"{stem}_part{i:03d}.{fmt}" for i in range(1, parts + 1)]


def write_batch_files(
    frame: pl.DataFrame,
    folder: Path,
    stem: str,
    *,
    fmt: str,
    max_rows: int,
    layout: Layout,
    mode: int,
) -> list[dict[str, Any]]:
    """Write the parts into ``folder`` (a new staging folder: CSV parts are created, never
    replaced); returns ``{"name", "rows", "sha256"}`` per part."""
    names = part_names(stem, frame.height, max_rows, fmt)
    if fmt == "csv":
        return _write_csv_parts(frame, folder, names, max_rows=max_rows, mode=mode)
    written = []
    for i, name in enumerate(names):
        chunk = frame.slice(i * max_rows, max_rows)
        target = folder / name
        write_xlsx(
            chunk,
            target,
            mode=mode,
            sheet=layout.sheet,
            text_columns=layout.text_headers,
            column_widths=layout.widths,
        )
        written.append({"name": name, "rows": chunk.height, "sha256": sha256_file(target)})
        crash_point("staged-part")
    return written


def _write_csv_parts(
    frame: pl.DataFrame, folder: Path, names: list[str], *, max_rows: int, mode: int
) -> list[dict[str, Any]]:
    """The CSV parts, byte for byte what ``writing.write_csv`` writes for each slice, with
    the per-file work done once: the whole frame formula-neutralised in one go, each part
    hashed from its bytes instead of read back, and written straight into the staging folder
    (published whole, so no temporary file per part) with the fsyncs in the background. At a
    million rows (a thousand parts) the fixed cost per file was most of the writing time."""
    header, body = csv_header_and_body(frame)
    head = header.write_csv(include_header=False).encode("utf-8")
    written = []
    with sync_in_background() as sync:
        for name, rows, data in zip(names, *_csv_parts(body, head, max_rows), strict=True):
            sync(write_new(folder / name, data, mode))
            sha = hashlib.sha256(data).hexdigest()
            written.append({"name": name, "rows": rows, "sha256": sha})
            crash_point("staged-part")
    return written


def _csv_parts(body: pl.DataFrame, head: bytes, max_rows: int) -> tuple[list[int], list[bytes]]:
    """Each part's row count and bytes (``head`` + its rows as CSV lines).

    The whole body is written once and cut after every ``max_rows``-th line break: Polars'
    per-call cost, paid a thousand times for a million people, was most of the writing.
    That holds when each row is one line, i.e. the text has as many line breaks as rows
    (a value holding one is quoted and adds a line); otherwise each part is written on its
    own. Same bytes either way."""
    starts = range(0, max(body.height, 1), max_rows)
    counts = [min(max_rows, body.height - i) for i in starts]
    if body.height:
        data = _csv_lines(body)
        ends = _line_ends(data)
        if len(ends) == body.height:
            cuts = [0, *(ends[max_rows - 1 :: max_rows] + 1).tolist()]
            if cuts[-1] != len(data):
                cuts.append(len(data))
            view = memoryview(data)
            return counts, [head + view[a:b] for a, b in itertools.pairwise(cuts)]
    return counts, [head + _csv_lines(body.slice(i, max_rows)) for i in starts]


def _line_ends(data: bytes, block: int = 1 << 25) -> np.ndarray:
    """The offset of every line break (``\\n``) in ``data``, found by NumPy a block at a
    time (a list of a million lines cost 3x as much, and a mask of the whole text would
    hold as many bytes again)."""
    import numpy as np

    found = [
        np.flatnonzero(np.frombuffer(data, np.uint8, min(block, len(data) - at), at) == 10) + at
        for at in range(0, len(data), block)
    ]
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def _csv_lines(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False)  # UTF-8 bytes, no str in between
    return buffer.getvalue()


def write_manifest(folder: Path, manifest: dict[str, Any], *, mode: int) -> Path:
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    return write_atomic(folder / "manifest.json", lambda p: p.write_text(text, "utf-8"), mode)


# --- the batch folder -------------------------------------------------------------------

# ".<decree>_<start>_<end>_<seq>.tmp-<pid>": only jamsos's own staging folders match
_STAGING = re.compile(r"^\..+_\d{4}-\d{2}_\d{4}-\d{2}_\d{3,}\.tmp-\d+$")
# "<decree>_<start>_<end>_<seq>": a published batch folder
_PUBLISHED = re.compile(r"^[^.].*_\d{4}-\d{2}_\d{4}-\d{2}_\d{3,}$")
VOID_FILE = "VOID"


def folder_name(decree_id: str, period: Period, seq: int) -> str:
    return f"{decree_id}_{period.start_label}_{period.end_label}_{seq:03d}"


def staging_path(out: Path, name: str) -> Path:
    return out / f".{name}.tmp-{os.getpid()}"


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove staging folders of killed runs (call while holding the output folder lock)."""
    removed = []
    if not out.is_dir():
        return removed
    for entry in sorted(out.iterdir()):
        if _STAGING.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def published_batches(out: Path) -> list[tuple[str, dict[str, Any]]]:
    """(folder name, manifest) of every published batch folder in ``out``, by name. A
    folder named like a batch whose manifest cannot be read is refused (exit 2): it may be
    another ledger's, and jamsos will not guess."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not out.is_dir():
        return found
    for entry in sorted(out.iterdir()):
        manifest = entry / "manifest.json"
        if not (_PUBLISHED.match(entry.name) and entry.is_dir() and manifest.is_file()):
            continue
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise JamsosError("error.batch.manifest", path=manifest, reason=exc) from None
        if not isinstance(doc, dict):
            raise JamsosError("error.batch.manifest", path=manifest, reason="{}")
        found.append((entry.name, doc))
    return found


def mark_void(folder: Path, at: str, user: str, lang: str, *, mode: int) -> str | None:
    """Mark a voided batch's folder: a ``VOID`` file saying so (in the reader's language)
    and the manifest's ``status`` → ``voided``, each written atomically (a reader of the
    folder never sees half a manifest). Returns the manifest's new sha256, or None when the
    folder is not there (moved to an archive: the ledger is voided all the same)."""
    from jamsos_cli.texts import say

    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    doc.update(status="voided", voided_at=at)
    text = say("ledger.void_file", lang, folder=folder.name, at=at, user=user) + "\n"
    write_atomic(folder / VOID_FILE, lambda p: p.write_text(text, "utf-8"), mode)
    return sha256_file(write_manifest(folder, doc, mode=mode))


def unmark_void(folder: Path, manifest_before: bytes, *, mode: int) -> None:
    """Undo ``mark_void`` (the ledger could not record the void): the manifest as it was,
    no ``VOID`` file."""
    write_atomic(folder / "manifest.json", lambda p: p.write_bytes(manifest_before), mode)
    with contextlib.suppress(FileNotFoundError):
        (folder / VOID_FILE).unlink()


def void_batch(location: Path, which: str, command: Change, lang: str, *, mode: int) -> dict:
    """``jamsos ledger void``: under the ledger's lock, mark the batch folder void
    (``mark_void``) and then record it in the ledger; if the ledger cannot record it, the
    folder is put back as it was. Folder first: a run killed between the two leaves a folder
    that says VOID while the ledger still counts its people (nobody is paid twice; voiding
    again finishes it), never a live-looking folder whose people were released."""
    from jamsos_cli.ledger import opened

    with opened(location, mode=mode, write=True) as ledger:
        batch = ledger.voidable(which)
        folder = Path(batch["folder"])
        manifest = folder / "manifest.json"
        before = manifest.read_bytes() if manifest.is_file() else None
        digest = mark_void(folder, command.at, command.user, lang, mode=mode)
        try:
            voided = ledger.void(which, command, digest)
        except BaseException:
            if before is not None:
                unmark_void(folder, before, mode=mode)
            raise
    return {**voided, "marked": digest is not None}


def discard(staging: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(staging)


def free_seq(out: Path, decree_id: str, period: Period, seq: int) -> int:
    """The first ``seq`` from ``seq`` on whose folder name is free in ``out``: a folder there
    (another ledger's batch) is skipped, never overwritten; anything else at a batch's name
    (a symlink, dangling or not; a file) is refused (``writing.check_new``)."""
    while os.path.lexists(folder := out / folder_name(decree_id, period, seq)):
        if os.path.islink(folder) or not folder.is_dir():
            check_new(folder)
        seq += 1
    return seq


def publish(staging: Path, final: Path) -> None:
    """Give the staged folder its final name in one rename, then make the rename durable.
    The name must still be free (``writing.check_new``): a rename would replace an empty
    folder or fail on a symlink planted there meanwhile."""
    fsync_dir(staging)
    check_new(final)
    with written(final):
        os.rename(staging, final)
    fsync_dir(final.parent)


def check_out_dir(out: Path) -> None:
    """An output folder that cannot be written is a usage error before anything is done."""
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError("error.option.out_is_file", out=out, path=probe)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError("error.option.out_not_writable", out=out, path=probe)
