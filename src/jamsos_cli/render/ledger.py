"""The ledger as people read it: ``jamsos ledger list`` and ``stats`` on screen, and the
export file (headers and status words in the reader's language, through the write path)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger import STATUSES, folder_basename
from jamsos_cli.texts import Lang, say

EXPORT_STATUSES = (*STATUSES, "withdrawn")  # a person withdrawn from a live batch

EXPORT_TEXT_COLUMNS = {"nik", "phone"}  # Text cells in xlsx: Excel keeps every digit


def write_export(frame: pl.DataFrame, target: Path, *, mode: int, lang: Lang) -> Path:
    """``ledger.export_frame`` as a csv or xlsx file (by the file's extension), headers and
    status words in ``lang``; private and formula-neutralised (writing.py)."""
    frame = frame.with_columns(
        pl.col("status").replace({s: say(f"ledger.status.{s}", lang) for s in EXPORT_STATUSES})
    )
    headers = {c: say(f"export.column.{c}", lang) for c in frame.columns}
    return _write_table(frame, target, headers, say("export.sheet", lang), mode=mode)


def _write_table(
    frame: pl.DataFrame, target: Path, headers: dict[str, str], sheet: str, *, mode: int
) -> Path:
    """A list for people: csv or xlsx by the file's extension, with these ``headers`` (in
    the reader's language), NIK and phone cells Text; private and formula-neutralised."""
    from jamsos_cli.writing import write_csv, write_xlsx

    text = {headers[c] for c in EXPORT_TEXT_COLUMNS if c in frame.columns}
    frame = frame.rename(headers)
    suffix = Path(target).suffix.lower()
    if suffix == ".csv":
        return write_csv(frame, target, mode=mode)
    if suffix == ".xlsx":
        return write_xlsx(frame, target, mode=mode, sheet=sheet, text_columns=text)
    raise UsageError("error.file.table_name", path=target)


def write_withdrawn(
    people: pl.DataFrame, reason: str, at: str, target: Path, *, mode: int, lang: Lang
) -> Path:
    """``jamsos ledger withdraw --out``: the people withdrawn, for BPJS (real NIKs)."""
    frame = people.select(
        "nik",
        "name",
        folder_basename(pl.col("folder")).alias("folder"),
        pl.lit(reason).alias("reason"),
        pl.lit(at[:10]).alias("date"),
    )
    headers = {c: say(f"withdrawal.column.{c}", lang) for c in frame.columns}
    return _write_table(frame, target, headers, say("withdrawal.sheet", lang), mode=mode)


def render_withdrawn(console, path: Path, people: pl.DataFrame, lang: Lang, show_pii: bool):
    """``jamsos ledger withdraw``: who was withdrawn from which batch (NIKs masked)."""
    from rich.table import Table

    from jamsos_cli.render.mask import mask_nik_expr

    console.print(say("ledger.path", lang, path=path), highlight=False)
    console.print(say("ledger.withdrawn", lang, n=people.height), highlight=False)
    nik = pl.col("nik") if show_pii else mask_nik_expr(pl.col("nik"))
    rows = people.select(nik, folder_basename(pl.col("folder")))
    table = Table(box=None, pad_edge=False)
    table.add_column(say("withdrawal.column.nik", lang), no_wrap=True)
    table.add_column(say("withdrawal.column.folder", lang), no_wrap=True)
    for row in rows.iter_rows():
        table.add_row(*row)
    console.print(table)


def render_batches(console, path: Path, batches: list[dict], lang: Lang) -> None:
    """``jamsos ledger list``: one line per batch. The folder name already says the decree and
    the period (``<decree>_<start>_<end>_<seq>``); ``--format json`` has them as fields."""
    from rich.table import Table

    console.print(say("ledger.path", lang, path=path), highlight=False)
    if not batches:
        console.print(say("ledger.none", lang))
        return
    table = Table(box=None, pad_edge=False, collapse_padding=True)
    table.add_column(say("ledger.column.id", lang), justify="right")
    table.add_column(say("ledger.column.folder", lang), no_wrap=True)
    table.add_column(say("ledger.column.participants", lang), justify="right")
    table.add_column(say("ledger.column.status", lang), no_wrap=True)
    table.add_column(say("ledger.column.created", lang), no_wrap=True)
    table.add_column(say("ledger.column.uploaded", lang), no_wrap=True)
    for b in batches:
        table.add_row(
            str(b["id"]),
            Path(b["folder"]).name,
            str(b["participants"]),
            say(f"ledger.status.{b['status']}", lang),
            b["created"][:16].replace("T", " "),
            (b["uploaded"] or "")[:16].replace("T", " "),
        )
    console.print(table)


def render_stats(console, path: Path, stats: list[dict], lang: Lang) -> None:
    """``jamsos ledger stats``: people and premium per decree and period (live batches)."""
    from rich.table import Table

    from jamsos_cli.render.numbers import format_number, format_rupiah

    console.print(say("ledger.path", lang, path=path), highlight=False)
    if not stats:
        console.print(say("ledger.none", lang))
        return
    table = Table(box=None, pad_edge=False)
    for key in ("decree", "period", "months", "batches", "people", "premium"):
        justify = "left" if key in ("decree", "period") else "right"
        table.add_column(say(f"ledger.column.{key}", lang), justify=justify)
    for s in stats:
        table.add_row(
            s["decree"],
            f"{s['start']}..{s['end']}",
            str(s["months"]),
            str(s["batches"]),
            format_number(s["people"], lang),
            format_rupiah(s["total_premium"], lang),
        )
    console.print(table)
