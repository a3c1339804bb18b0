"""What BPJS and the population registry answer, made into the ledger's events (SPEC §10):
``jamsos ledger import-reply`` and ``import-dukcapil``. Pure Polars over the file and the
ledger's state; the ledger records the result (``Ledger.record``), one file per transaction.

A reply row says, for one person of a batch, ``active`` (KPJ and coverage start) or
``refused`` (the KETERANGAN is the reason); its words are the layout's
(``schemas/layouts/bpjs-reply.toml``). The batch is the latest live one holding the person
(or ``--batch``). Importing the same answer again changes nothing: a row whose answer equals
the person's latest recorded answer in that batch is ``unchanged``.

A registry row gives a NIK's matching result and its date; only those are kept, never the
other columns the office returns. ``meninggal`` ends the person from the month after.

Rows that cannot be imported are findings (codes.toml) with the file's row numbers; the
other rows are imported. Status words the layout does not know refuse the whole file
(``OfficeFileError``, exit 2): a misread column would otherwise record everyone wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from jamsos_cli.ledger.store import (
    EVENT_ACTIVE,
    EVENT_ENDED,
    EVENT_REFUSED,
    EVENT_WITHDRAWN,
    STATUS_DONE,
    STATUS_VOIDED,
)
from jamsos_cli.officefiles import OfficeFile, OfficeFileError, OfficeLayout, read_office_file

if TYPE_CHECKING:
    from jamsos_cli.ledger import Ledger

# The finding codes this step emits: tests/test_house.py holds each step to its list.
EMITS = frozenset(
    {
        "NIK_CELL_INVALID",
        "NIK_NOT_IN_LEDGER",
        "NAME_DIFFERS_FROM_LEDGER",
        "KPJ_FORMAT",
        "KPJ_TAKEN",
        "BATCH_VOIDED",
        "DATE_CELL_INVALID",
    }
)
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64,
    "code": pl.Utf8,
    "severity": pl.Utf8,
    "value": pl.Utf8,
    "detail": pl.Utf8,
}
KPJ_PATTERN = r"^\d{11}$"
_ANSWER = ("kind", "reason", "kpj", "coverage_start")  # what a reply says of one person
DIED = "meninggal"


@dataclass
class Imported:
    """One file's import: its counts (the JSON summary keys), findings (``FINDING_SCHEMA``)
    and what to record (``events``: ``store.EVENT_COLUMNS``; ``matching``: ``nik``,
    ``result``, ``result_date``)."""

    file: str
    counts: dict[str, int]
    findings: pl.DataFrame
    events: pl.DataFrame = field(default_factory=pl.DataFrame)
    matching: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def changed(self) -> bool:
        return bool(self.events.height or self.matching.height)


def _meaning(table: OfficeFile, column: str, layout: OfficeLayout) -> pl.Series:
    """The meaning of each cell of ``column`` by the layout's words; a word the layout does
    not know (an empty cell too) refuses the file, listing them all."""
    words = {
        " ".join(w.upper().split()): meaning for meaning, ws in layout.words.items() for w in ws
    }
    cells = table.frame.get_column(column).fill_null("")
    norm = cells.str.to_uppercase().str.replace_all(r"[\s\u00a0]+", " ").str.strip_chars(" .:-")
    meaning = norm.replace_strict(words, default=None, return_dtype=pl.Utf8)
    unknown = norm.filter(meaning.is_null()).unique(maintain_order=True)
    if unknown.len():
        shown = unknown.head(10).to_list()  # an empty cell shows as ''
        raise OfficeFileError(
            "error.office.unknown_words",
            path=table.file,
            column=table.headers[column],
            words=", ".join(f"'{w}'" for w in shown),
            n=unknown.len(),
            layout=layout.id,
        )
    return meaning


def _flag(
    rows: pl.DataFrame,
    when: pl.Expr,
    code: str,
    severity: str,
    value: pl.Expr,
    detail: pl.Expr | None = None,
) -> pl.DataFrame:
    return rows.filter(when).select(
        pl.col("_row").cast(pl.Int64).alias("row"),
        pl.lit(code).alias("code"),
        pl.lit(severity).alias("severity"),
        value.cast(pl.Utf8).alias("value"),
        (detail if detail is not None else pl.lit(None, pl.Utf8)).cast(pl.Utf8).alias("detail"),
    )


def _findings(parts: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [p.select([pl.col(c).cast(t) for c, t in FINDING_SCHEMA.items()]) for p in parts]
    return pl.concat([pl.DataFrame(schema=FINDING_SCHEMA), *frames]).sort("row", "code")


def _bad_niks(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows with a trustworthy NIK, NIK_CELL_INVALID for the others)."""
    bad = _flag(frame, pl.col("nik").is_null(), "NIK_CELL_INVALID", "error", pl.col("raw_nik"))
    return frame.filter(pl.col("nik").is_not_null()), bad


def _dates(texts: pl.Series) -> pl.Series:
    """ISO dates of date cells as the reader gives them (any form a roster's birth date may
    take: 01/07/2025, 2025-07-01, 1 Juli 2025, an Excel serial); null when not a date."""
    from jamsos_cli.normalise import parse_distinct_dates

    known = parse_distinct_dates(texts)
    frame = pl.DataFrame({"text": texts}).join(known, on="text", how="left", maintain_order="left")
    return frame.get_column("date").dt.to_string("%Y-%m-%d")


def _bad_dates(
    table: OfficeFile, frame: pl.DataFrame, field: str, used: pl.Expr | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows whose ``field`` cell is empty ("-" too) or a date, now ISO; DATE_CELL_INVALID
    for a cell holding something else where the date is ``used``: a date that cannot be read
    is neither recorded as none nor as today, and importing the file again on another day
    changes nothing)."""
    written = pl.col(field).fill_null("").str.strip_chars()
    frame = frame.with_columns(_dates(frame.get_column(field).str.strip_chars()).alias("_date"))
    unreadable = (written.str.strip_chars(" -./") != "") & pl.col("_date").is_null()
    if used is not None:
        unreadable = unreadable & used
    header = pl.lit(table.headers.get(field, field))
    bad = _flag(frame, unreadable, "DATE_CELL_INVALID", "error", written, header)
    kept = frame.filter(~unreadable).with_columns(pl.col("_date").alias(field)).drop("_date")
    return kept, bad


def reply(
    table: OfficeFile,
    layout: OfficeLayout,
    people: pl.DataFrame,
    events: pl.DataFrame,
    batch_id: int | None = None,
) -> Imported:
    """BPJS's answer in ``table`` against the ledger: ``people`` is ``Ledger.statuses`` of
    live and voided batches (with ``name``), ``events`` every ``person_events`` row."""
    from jamsos_cli.ledger import folder_basename
    from jamsos_cli.names import identity_key

    kind = _meaning(table, "status", layout)
    frame = table.frame.with_columns(kind.alias("kind"))
    for column in ("name", "kpj", "reason", "coverage_start"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(column))
    frame = frame.with_columns(
        pl.col("kpj").str.replace(r"\.0+$", "").str.replace_all(r"[\s\-]", ""),
        pl.col("reason").str.strip_chars(),
    )
    rows = frame.height
    found = []
    frame, bad = _bad_niks(frame)
    found.append(bad)
    frame, bad = _bad_dates(table, frame, "coverage_start", pl.col("kind") == EVENT_ACTIVE)
    found.append(bad)

    people = people.with_columns(folder_basename(pl.col("folder")))
    live = people.filter(
        pl.col("status") == STATUS_DONE, pl.col("person_status") != EVENT_WITHDRAWN
    )
    if batch_id is not None:
        live = live.filter(pl.col("batch_id") == batch_id)
    target = (
        live.sort("batch_id")
        .unique("nik", keep="last", maintain_order=True)
        .select("nik", "batch_id", pl.col("name").alias("_ledger_name"), "folder")
    )
    frame = frame.join(target, on="nik", how="left", maintain_order="left")
    voided = (
        people.filter(pl.col("status") == STATUS_VOIDED)
        .sort("batch_id")
        .unique("nik", keep="last")
        .select("nik", pl.col("folder").alias("_voided"))
    )
    frame = frame.join(voided, on="nik", how="left", maintain_order="left")
    missing = pl.col("batch_id").is_null()
    asked = pl.lit(str(batch_id) if batch_id is not None else None, pl.Utf8)
    found.append(
        _flag(frame, missing & pl.col("_voided").is_not_null(), "BATCH_VOIDED", "error",
              pl.col("nik"), pl.col("_voided"))
    )  # fmt: skip
    found.append(
        _flag(frame, missing & pl.col("_voided").is_null(), "NIK_NOT_IN_LEDGER", "error",
              pl.col("nik"), asked)
    )  # fmt: skip
    frame = frame.filter(~missing)

    active = pl.col("kind") == EVENT_ACTIVE
    bad_kpj = active & ~pl.col("kpj").fill_null("").str.contains(KPJ_PATTERN)
    found.append(_flag(frame, bad_kpj, "KPJ_FORMAT", "error", pl.col("kpj")))
    frame = frame.filter(~bad_kpj)
    # a KPJ is one person's: held by another NIK in the ledger, or earlier in this file
    held = (
        events.filter(pl.col("kind") == EVENT_ACTIVE, pl.col("kpj").is_not_null())
        .unique("kpj", keep="first", maintain_order=True)
        .select("kpj", pl.col("nik").alias("_holder"))
    )
    first_in_file = (
        frame.filter(active)
        .unique("kpj", keep="first", maintain_order=True)
        .select("kpj", pl.col("nik").alias("_first"))
    )
    frame = frame.join(held, on="kpj", how="left", maintain_order="left").join(
        first_in_file, on="kpj", how="left", maintain_order="left"
    )
    holder = pl.coalesce(
        pl.when(pl.col("_holder") != pl.col("nik")).then(pl.col("_holder")),
        pl.when(pl.col("_first") != pl.col("nik")).then(pl.col("_first")),
    )
    taken = active & holder.is_not_null()
    found.append(_flag(frame, taken, "KPJ_TAKEN", "error", pl.col("kpj"), holder))
    frame = frame.filter(~taken)

    differs = pl.col("name").is_not_null() & (
        identity_key(pl.col("name")) != identity_key(pl.col("_ledger_name"))
    )
    found.append(
        _flag(frame, differs.fill_null(False), "NAME_DIFFERS_FROM_LEDGER", "warning",
              pl.col("name"), pl.col("_ledger_name"))
    )  # fmt: skip

    recorded = frame.select(
        "nik",
        "batch_id",
        "kind",
        pl.when(~active).then(pl.col("reason")).alias("reason"),
        pl.when(active).then(pl.col("kpj")).alias("kpj"),
        pl.when(active).then(pl.col("coverage_start")).alias("coverage_start"),
    )
    latest = (
        events.filter(pl.col("kind").is_in([EVENT_ACTIVE, EVENT_REFUSED]))
        .sort("id")
        .unique(["batch_id", "nik"], keep="last")
        .select("batch_id", "nik", *(pl.col(c).alias(f"_{c}") for c in _ANSWER))
    )
    compared = recorded.join(latest, on=["batch_id", "nik"], how="left", maintain_order="left")
    same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"_{c}")) for c in _ANSWER)
    unchanged = compared.filter(same)
    # the file's last word on a person counts (a reply listing someone twice)
    fresh = (
        compared.filter(~same)
        .select(recorded.columns)
        .unique(["batch_id", "nik"], keep="last", maintain_order=True)
    )
    findings = _findings(found)
    counts = {
        "rows": rows,
        "active": int((fresh.get_column("kind") == EVENT_ACTIVE).sum()),
        "refused": int((fresh.get_column("kind") == EVENT_REFUSED).sum()),
        "unknown": int((findings.get_column("severity") == "error").sum()),
        "name_differs": int((findings.get_column("code") == "NAME_DIFFERS_FROM_LEDGER").sum()),
        "unchanged": unchanged.height,
    }
    return Imported(table.file, counts, findings, events=fresh)


def matching(
    table: OfficeFile, layout: OfficeLayout, stored: pl.DataFrame, ends: pl.DataFrame, today: date
) -> Imported:
    """The registry's results in ``table``: ``stored`` is every result already in the ledger
    (``store.DUKCAPIL_SCHEMA``), ``ends`` each person's standing end (``status.ends``). Only
    NIK, result and date are taken; a result with no date cell is dated ``today``."""
    result = _meaning(table, "result", layout)
    frame = table.frame.with_columns(result.alias("result"))
    rows = frame.height
    if "result_date" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.Utf8).alias("result_date"))
    frame, bad_date = _bad_dates(table, frame, "result_date")
    frame = frame.with_columns(pl.col("result_date").fill_null(today.isoformat()))
    frame, bad = _bad_niks(frame)
    bad = pl.concat([bad, bad_date])
    results = frame.select("nik", "result", "result_date").unique(maintain_order=True)
    fresh = results.join(
        stored.select("nik", "result", "result_date"),
        on=["nik", "result", "result_date"],
        how="anti",
        maintain_order="left",
    )
    died = results.filter(pl.col("result") == DIED).with_columns(
        (
            pl.col("result_date").str.to_date().dt.year() * 12
            + pl.col("result_date").str.to_date().dt.month()
        ).alias("from_month")  # the month after the death (months count from 0)
    )
    standing = ends.select("nik", "ended_from", "end_reason")
    died = died.join(standing, on="nik", how="left").filter(
        ~(pl.col("ended_from").eq_missing(pl.col("from_month")) & (pl.col("end_reason") == DIED))
    )
    events = died.select(
        "nik",
        pl.lit(EVENT_ENDED).alias("kind"),
        pl.lit(DIED).alias("reason"),
        pl.col("from_month").cast(pl.Int64),
    )
    findings = _findings([bad])
    counts = {"rows": rows, "unknown": bad.height, "unchanged": results.height - fresh.height}
    counts |= {r: int((fresh.get_column("result") == r).sum()) for r in layout.words}
    counts["ended"] = events.height
    return Imported(table.file, counts, findings, events=events, matching=fresh)


# ---------------------------------------------------------------------- into the ledger


def import_reply(
    book: Ledger, path: Path, command: str, batch: str | None = None, layout: Path | None = None
) -> Imported:
    """Read one BPJS reply and record what it changes, all or nothing (one transaction);
    nothing is recorded when nothing changes (imported before)."""
    from jamsos_cli.officefiles import load_office_layout

    rules = load_office_layout("bpjs-reply", layout)
    batch_id = None
    if batch is not None:
        batch_id = book.done_batch(batch, "error.ledger.reply_status")["id"]
    table = read_office_file(path, str(path), rules)
    people = book.statuses(columns=("name",), statuses=(STATUS_DONE, STATUS_VOIDED))
    done = reply(table, rules, people, book.store.events(), batch_id)
    _record(book, path, command, done)
    return done


def import_matching(
    book: Ledger, path: Path, command: str, today: date, layout: Path | None = None
) -> Imported:
    """Read one registry result file and record its results (NIK, result, date only) and the
    deaths it reports as ends, all or nothing."""
    from jamsos_cli.ledger.status import ends
    from jamsos_cli.officefiles import load_office_layout

    rules = load_office_layout("dukcapil", layout)
    table = read_office_file(path, str(path), rules)
    done = matching(table, rules, book.store.dukcapil(), ends(book.store.events()), today)
    _record(book, path, command, done)
    return done


def _record(book: Ledger, path: Path, command: str, done: Imported) -> None:
    from jamsos_cli.ledger import change

    if done.changed:
        made = change(command, input_path=path, summary=done.counts)
        book.record(made, events=done.events, matching=done.matching)
