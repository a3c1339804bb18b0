"""The ledger as people read it: ``jamsos ledger list`` and ``stats`` on screen, and the
export file (headers and status words in the reader's language, through the write path)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger import STATUSES, folder_basename
from jamsos_cli.ledger.bill import MONEY as BILL_MONEY
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
    frame: pl.DataFrame,
    target: Path,
    headers: dict[str, str],
    sheet: str,
    *,
    mode: int,
    numbers: tuple[str, ...] = (),
) -> Path:
    """A list for people: csv or xlsx by the file's extension, with these ``headers`` (in
    the reader's language), NIK and phone cells Text, ``numbers`` (counts, money) numbers;
    private and formula-neutralised."""
    from jamsos_cli.writing import write_csv, write_xlsx

    text = {headers[c] for c in EXPORT_TEXT_COLUMNS if c in frame.columns}
    frame = frame.rename(headers)
    suffix = Path(target).suffix.lower()
    if suffix == ".csv":
        return write_csv(frame, target, mode=mode)
    if suffix == ".xlsx":
        return write_xlsx(
            frame,
            target,
            mode=mode,
            sheet=sheet,
            text_columns=text,
            number_columns={headers[c] for c in numbers},
        )
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


SHOWN_ROWS = 50  # people or findings listed on screen; --format json has them all


def _more(console, lang: Lang, total: int) -> None:
    if total > SHOWN_ROWS:
        console.print(say("ledger.more", lang, n=total - SHOWN_ROWS), highlight=False)


def _masked(frame: pl.DataFrame, show_pii: bool, column: str = "nik") -> pl.Expr:
    from jamsos_cli.render.mask import mask_nik_expr

    return pl.col(column) if show_pii else mask_nik_expr(pl.col(column))


def _status_word(lang: Lang) -> dict[str, str]:
    from jamsos_cli.ledger import PERSON_STATUSES

    return {s: say(f"person.status.{s}", lang) for s in PERSON_STATUSES}


def _month(index: int | None) -> str:
    from jamsos_cli.ledger import month_label

    return month_label(index) if index is not None else ""


def render_people(
    console, path: Path, status: str, people: pl.DataFrame, lang: Lang, show_pii: bool
) -> None:
    """``jamsos ledger list --status S``: the first people with that status (NIKs masked)."""
    from rich.table import Table

    console.print(say("ledger.path", lang, path=path), highlight=False)
    word = _status_word(lang)[status]
    console.print(say("ledger.people_status", lang, n=people.height, status=word), highlight=False)
    shown = people.head(SHOWN_ROWS).select(
        _masked(people, show_pii),
        folder_basename(pl.col("folder")),
        pl.coalesce(pl.col("reason"), pl.col("kpj"), pl.lit("")),
        pl.col("ended_from"),
    )
    table = Table(box=None, pad_edge=False)
    for key in ("nik", "folder", "detail", "ended_from"):
        table.add_column(say(f"person.column.{key}", lang), no_wrap=key != "detail")
    for nik, folder, detail, ended in shown.iter_rows():
        table.add_row(nik, folder, detail, _month(ended))
    console.print(table)
    _more(console, lang, people.height)


def render_imported(console, path: Path, kind: str, done, lang: Lang, show_pii: bool) -> None:
    """``jamsos ledger import-reply`` / ``import-dukcapil``: per file what changed, and the
    first rows not imported (or worth a look) with their row numbers and reasons."""
    from jamsos_cli.render.mask import masked_import_findings

    console.print(say("ledger.path", lang, path=path), highlight=False)
    for d in done:
        key = f"import.{kind}" if d.changed else "import.nothing"
        console.print(say(key, lang, file=d.file, **d.counts), highlight=False)
        shown = masked_import_findings(d.findings.head(SHOWN_ROWS), show_pii, hidden="***")
        for row in shown.iter_rows(named=True):
            value, detail = row["value"], row["detail"]
            message = say(f"finding.{row['code']}", lang, value=value, detail=detail, column="")
            console.print(
                say("import.finding", lang, row=row["row"], code=row["code"], message=message),
                highlight=False,
                markup=False,
            )
        _more(console, lang, d.findings.height)


def render_changed_people(
    console, path: Path, what: str, people: pl.DataFrame, lang: Lang, show_pii: bool
) -> None:
    """``jamsos ledger end`` / ``reopen``: how many, and each NIK (masked)."""
    console.print(say("ledger.path", lang, path=path), highlight=False)
    console.print(say(f"ledger.{what}", lang, n=people.height), highlight=False)
    for (nik,) in people.head(SHOWN_ROWS).select(_masked(people, show_pii)).iter_rows():
        console.print(f"  {nik}", highlight=False, markup=False)
    _more(console, lang, people.height)


def render_person(console, path: Path, person: dict, lang: Lang, show_pii: bool) -> None:
    """``jamsos ledger person NIK``: each period (batch, status, reason, KPJ), then what
    happened when, by whom, from which file."""
    from rich.table import Table

    from jamsos_cli.render.mask import mask_nik

    console.print(say("ledger.path", lang, path=path), highlight=False)
    nik = person["nik"] if show_pii else mask_nik(person["nik"])
    periods = person["periods"]
    name = periods.get_column("name").drop_nulls().tail(1).to_list() if periods.height else []
    who = f"{nik} {name[0]}" if show_pii and name else nik
    console.print(say("person.heading", lang, who=who), highlight=False, markup=False)
    words = _status_word(lang)
    table = Table(box=None, pad_edge=False, title=say("person.periods", lang))
    for key in ("folder", "period", "batch_status", "status", "detail"):
        table.add_column(say(f"person.column.{key}", lang), no_wrap=key != "detail")
    for row in periods.iter_rows(named=True):
        detail = row["reason"] or ""
        if row["kpj"]:
            detail = say("person.kpj", lang, kpj=row["kpj"], start=row["coverage_start"] or "-")
        if row["ended_from"] is not None:
            why = say(f"ended.{row['reason']}", lang)
            detail = say("person.ended", lang, month=_month(row["ended_from"]), reason=why)
        table.add_row(
            Path(row["folder"]).name,
            f"{_month(row['start_month'])}..{_month(row['end_month'])}",
            say(f"ledger.status.{row['status']}", lang),
            words[row["person_status"]],
            detail,
        )
    console.print(table)
    history = Table(box=None, pad_edge=False, title=say("person.history", lang))
    for key in ("at", "user", "what", "file"):
        history.add_column(say(f"person.column.{key}", lang))
    rows = [
        (e["at"], e["user"], say(f"person.event.{e['kind']}", lang, reason=_why(e, lang),
         month=_month(e["from_month"]), kpj=e["kpj"] or ""), e["file"])
        for e in person["events"]
    ] + [
        (m["at"], m["user"], say("person.event.matching", lang,
         result=say(f"dukcapil.result.{m['result']}", lang), date=m["result_date"]), m["file"])
        for m in person["matching"]
    ]  # fmt: skip
    for at, user, what, file in sorted(rows, key=lambda r: r[0] or ""):
        history.add_row((at or "")[:16].replace("T", " "), user or "", what, file or "")
    console.print(history)


def _why(event: dict, lang: Lang) -> str:
    """An event's reason as shown: an end's is one of a fixed list, in the reader's words."""
    if event["kind"] == "ended" and event["reason"]:
        return say(f"ended.{event['reason']}", lang)
    return event["reason"] or ""


def render_log(console, path: Path, changes: list[dict], lang: Lang) -> None:
    """``jamsos ledger log``: every change, oldest first (``masked_changes`` first)."""
    from rich.table import Table

    console.print(say("ledger.path", lang, path=path), highlight=False)
    table = Table(box=None, pad_edge=False)
    for key in ("id", "at", "user", "command", "input", "sha256"):
        table.add_column(say(f"log.column.{key}", lang), no_wrap=key != "command")
    for c in changes:
        table.add_row(
            str(c["id"]),
            c["at"][:19].replace("T", " "),
            c["user"],
            c["command"],
            Path(c["input_name"]).name if c["input_name"] else "",
            (c["input_sha256"] or "")[:12],
        )
    console.print(table)


def masked_changes(changes: list[dict], show_pii: bool) -> list[dict]:
    """The change log as shown: a NIK typed on a command line masked unless ``--show-pii``."""
    from jamsos_cli.render.mask import mask_text

    if show_pii:
        return changes
    return [{**c, "command": mask_text(c["command"])} for c in changes]


def render_bill(console, path: Path, bill, lang: Lang) -> None:
    """``jamsos ledger bill``: a line per decree, JKK and JKM apart, and the total."""
    from rich.table import Table

    from jamsos_cli.render.numbers import format_number, format_rupiah

    console.print(say("bill.heading", lang, month=bill.month_label, path=path), highlight=False)
    totals = bill.totals()
    if bill.decrees.height == 0:
        console.print(say("bill.none", lang, month=bill.month_label), highlight=False)
        return
    money = [c for c in BILL_MONEY if c in ("jkk", "jkm", "premium") or totals[c]]
    table = Table(box=None, pad_edge=False)
    table.add_column(say("bill.column.decree", lang))
    for key in ("people", *money):
        table.add_column(say(f"bill.column.{key}", lang), justify="right")
    rows = [*bill.decrees.iter_rows(named=True), {"decree": say("bill.total", lang), **totals}]
    for row in rows:
        cells = [format_number(row["people"], lang), *(format_number(row[c], lang) for c in money)]
        table.add_row(row["decree"], *cells)
    console.print(table)
    if totals["unsplit"]:
        amount = format_rupiah(totals["unsplit"], lang)
        console.print(say("bill.unsplit", lang, amount=amount), highlight=False)


def write_bill(bill, target: Path, *, mode: int, lang: Lang) -> Path:
    """``jamsos ledger bill --out``: a row per decree and the total, money as numbers (the
    finance office sums them), headers in ``lang``."""
    totals = pl.DataFrame([{"decree": say("bill.total", lang), "batches": None, **bill.totals()}])
    frame = pl.concat([bill.decrees, totals.cast(bill.decrees.schema)], how="vertical")
    frame = frame.select(pl.lit(bill.month_label).alias("month"), pl.all())
    headers = {c: say(f"bill.column.{c}", lang) for c in frame.columns}
    sheet = say("bill.sheet", lang)
    numbers = ("batches", "people", *BILL_MONEY)
    return _write_table(frame, target, headers, sheet, mode=mode, numbers=numbers)


def _readable_differences(differences: pl.DataFrame, lang: Lang) -> pl.DataFrame:
    """Kinds and reasons in ``lang``."""
    from jamsos_cli.ledger.reconcile import KINDS

    reasons = ("withdrawn", "refused", "ended", "other_month", "never_sent", "kpj_unknown")
    return differences.with_columns(
        pl.col("kind").replace({k: say(f"reconcile.kind.{k}", lang) for k in KINDS}),
        pl.col("reason").replace({r: say(f"reconcile.reason.{r}", lang) for r in reasons}),
    )


MONEY_COLS = ("billed", "expected")
SCREEN_DIFFERENCES = 50  # differences listed on screen; every one is in --out / JSON


def render_reconciliation(console, path: Path, bill_path: Path, result, lang: Lang, show_pii):
    """``jamsos ledger reconcile``: the totals, then the differences (NIKs masked)."""
    from jamsos_cli.render.mask import mask_nik_expr
    from jamsos_cli.render.numbers import format_number, format_rupiah

    s = result.summary
    console.print(
        say("reconcile.heading", lang, bill=bill_path, month=result.month_label, path=path),
        highlight=False,
    )
    for key in ("billed", "covered", "billed_not_covered", "covered_not_billed", "amount_differs"):
        console.print(say(f"reconcile.count.{key}", lang, n=format_number(s[key], lang)))
    console.print(
        say(
            "reconcile.amounts",
            lang,
            billed=format_rupiah(s["billed_amount"], lang),
            expected=format_rupiah(s["expected_amount"], lang),
        ),
        highlight=False,
    )
    if result.differences.height == 0:
        console.print(say("reconcile.agrees", lang), highlight=False)
        return
    nik = pl.col("nik") if show_pii else mask_nik_expr(pl.col("nik"))
    shown = result.differences.head(SCREEN_DIFFERENCES)
    rows = _readable_differences(shown, lang).with_columns(
        pl.coalesce(nik, pl.format("KPJ {}", "kpj")).alias("who"), kind=shown.get_column("kind")
    )
    for row in rows.iter_rows(named=True):  # a screenful at most: the rest is in --out
        money = {k: format_rupiah(row[k], lang) if row[k] is not None else "" for k in MONEY_COLS}
        console.print(
            say(f"reconcile.line.{row['kind']}", lang, **{**row, **money}), highlight=False
        )
    if result.differences.height > shown.height:
        more = format_number(result.differences.height - shown.height, lang)
        console.print(say("reconcile.more", lang, n=more), highlight=False)


def write_reconciliation(result, target: Path, *, mode: int, lang: Lang) -> Path:
    """``jamsos ledger reconcile --out``: every difference for the finance office (real
    NIKs: the file is owner-only), money as numbers."""
    frame = _readable_differences(result.differences, lang).select(
        pl.lit(result.month_label).alias("month"), pl.all()
    )
    headers = {c: say(f"reconcile.column.{c}", lang) for c in frame.columns}
    sheet = say("reconcile.sheet", lang)
    numbers = ("row", "billed", "expected")
    return _write_table(frame, target, headers, sheet, mode=mode, numbers=numbers)


def render_copied(console, copied: dict, lang: Lang) -> None:
    """``jamsos ledger copy``: what was copied and that it was read back and compared."""
    from jamsos_cli.render.numbers import format_number, format_rupiah

    console.print(
        say(
            "ledger.copied",
            lang,
            source=copied["source"],
            target=copied["target"],
            batches=format_number(copied["batches"], lang),
            people=format_number(copied["people"], lang),
            decisions=format_number(copied["decisions"], lang),
            premium=format_rupiah(copied["total_premium"], lang),
        ),
        highlight=False,
    )
    if copied["first_id"] not in (None, 1):
        console.print(say("ledger.copy_renumbered", lang, first=copied["first_id"]))
    if copied["decisions_kept"]:
        console.print(say("ledger.copy_kept", lang, n=copied["decisions_kept"]))
