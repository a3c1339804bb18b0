"""Rejects files: the sender's own rows back, untouched, with the row number and the reasons.

One file per input, in the input's format (a CSV keeps its encoding and delimiter so the
sender's Excel opens it as before; spreadsheets come back as xlsx). Real values, not masked:
the file is meant to be used, so it is created owner-only (SPEC §8).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from jamsos_cli.read import reread
from jamsos_cli.render.findings import with_messages
from jamsos_cli.tables import RosterTable
from jamsos_cli.texts import Lang, say
from jamsos_cli.writing import write_csv, write_xlsx


def rejects_name(table: RosterTable, ext: str) -> str:
    return f"{Path(table.file).stem}.rejects.{ext}"


def reasons_by_rid(findings: pl.DataFrame, lang: Lang) -> pl.DataFrame:
    """``rid``, ``_reasons``: "CODE: message" of each error of a rejected row, in finding
    order, joined by "; ". Most rejected rows have one reason: only rows with several are
    grouped (a group_by joining text makes a list per row; 4x slower on a mostly-rejected
    million-row roster)."""
    errors = findings.filter(pl.col("severity") == "error", pl.col("rid").is_not_null())
    reasons = with_messages(errors, lang).select(
        "rid", (pl.col("code") + pl.lit(": ") + pl.col("message")).alias("_reasons")
    )
    several = pl.col("rid").is_duplicated()
    joined = (
        reasons.filter(several)
        .group_by("rid", maintain_order=True)
        .agg(pl.col("_reasons").str.join("; "))
    )
    return pl.concat([reasons.filter(~several), joined])


def _unique_headers(headers: list[str], lang: Lang) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        name = h or say("rejects.unnamed_column", lang, n=i + 1)
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def rejects_frame(
    table: RosterTable, src: int, records: pl.DataFrame, reasons: pl.DataFrame, lang: Lang
) -> pl.DataFrame:
    """The rejected rows of one table: row number, original cells in order, reasons."""
    rids = records.filter(pl.col("_src") == src).select("_rid", "_row")
    rejected = rids.join(reasons, left_on="_rid", right_on="rid", how="inner")
    names = _unique_headers(table.headers, lang)
    original = table.frame.select(
        pl.col("_row"), *[pl.col(f"c{i}").alias(n) for i, n in enumerate(names)]
    )
    return (
        original.join(rejected.drop("_rid"), on="_row", how="inner", maintain_order="left")
        .rename({"_row": say("rejects.row", lang), "_reasons": say("rejects.reasons", lang)})
        .with_columns(pl.col(say("rejects.row", lang)).cast(pl.Utf8))
    )


def text_columns(table: RosterTable, names: list[str]) -> set[str]:
    """Columns to keep as Text in xlsx: NIK-like and phone columns."""
    wanted = {"nik", "phone", "family_head_nik", "kusuka_number"}
    return {names[idx] for f, idx in table.fields.items() if f in wanted}


def write_rejects_file(
    table: RosterTable, frame: pl.DataFrame, target: Path, *, lang: Lang, mode: int
) -> Path:
    if target.suffix.lower() == ".csv":
        encoding = table.encoding or "utf-8"
        if encoding.lower().replace("_", "-") in ("utf-8-sig",):
            encoding = "utf-8-sig"
        return write_csv(
            frame, target, mode=mode, encoding=encoding, delimiter=table.delimiter or ","
        )
    names = _unique_headers(table.headers, lang)
    return write_xlsx(
        frame,
        target,
        mode=mode,
        sheet=(table.sheet or "Rejects"),
        text_columns=text_columns(table, names),
    )


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
    """Write one rejects file per input: ``target`` itself, or files inside folder ``target``."""
    reasons = reasons_by_rid(findings, lang)
    written: list[Path] = []
    for src, table in enumerate(tables):
        table = reread(table)  # one file's rows at a time when the run released them
        frame = rejects_frame(table, src, records, reasons, lang)
        if as_folder:
            ext = "csv" if table.kind == "csv" else "xlsx"
            path = Path(target) / rejects_name(table, ext)
            if path in written:  # same file name in two folders: keep both
                path = path.with_name(f"{src + 1:02d}_{path.name}")
        else:
            path = Path(target)
        written.append(write_rejects_file(table, frame, path, lang=lang, mode=mode))
    return written
