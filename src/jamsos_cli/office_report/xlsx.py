"""The spreadsheet recap (``jamsos report --xlsx``): the report's tables for people who work in
a spreadsheet, each sheet one real Excel table (filter buttons, banded rows, a total row where
it adds up) with number formats: counts and rupiah as whole numbers with thousand separators
(the reader's Excel shows them in its own locale: 16.111.200 in Indonesian), shares as percent.

Every row of every table, uncapped (the page shows the largest only). No NIK and no name: the
named pairs of ``--show-pii`` stay on the page. Written atomically through ``writing``; a text
cell a spreadsheet would run as a formula gets a leading ``'`` like every file jamsos writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jamsos_cli.office_report import fmt
from jamsos_cli.office_report.aggregate import ReportData
from jamsos_cli.texts import say
from jamsos_cli.writing import neutralise, sheet_name, workbook, write_atomic

COUNT, MONEY, SHARE, TEXT = "count", "money", "share", "text"
FORMATS = {COUNT: "#,##0", MONEY: "#,##0", SHARE: "0.0%", TEXT: "@"}
WIDTHS = {COUNT: 12, MONEY: 18, SHARE: 10, TEXT: 24}


@dataclass
class Sheet:
    """One worksheet holding one table: ``columns`` are (header, kind); ``total`` names the
    columns summed in a total row."""

    key: str  # the Excel table's name (a formula can refer to it: =SUM(quota[Kuota]))
    name: str
    columns: list[tuple[str, str]]
    rows: list[list[Any]]
    total: tuple[str, ...] = ()
    note: str | None = None


def sheets(data: ReportData, lang: str) -> list[Sheet]:
    """Every sheet of the recap, in order."""

    def c(key: str) -> str:
        return say(f"office.columns.{key}", lang)

    def x(key: str) -> str:
        return say(f"office.xlsx.{key}", lang)

    def notes(key: str) -> str:
        return say(f"office.notes.{key}", lang)

    titles = dict(data.decrees.select("decree", "title").iter_rows())
    groups = dict(data.decrees.select("decree", "group").iter_rows())

    participants = Sheet(
        "participants",
        f"{x('participants')} {data.month}",
        [
            (c("decree_id"), TEXT),
            (c("decree"), TEXT),
            (c("status"), TEXT),
            (c("kecamatan_code"), TEXT),
            (c("kecamatan"), TEXT),
            (c("kelurahan_code"), TEXT),
            (c("kelurahan"), TEXT),
            (c("people"), COUNT),
        ],
        [
            [
                r["decree"],
                titles.get(r["decree"]),
                say(f"office.status.{r['status']}", lang),
                r["kecamatan_code"],
                r["kecamatan"],
                r["kelurahan_code"],
                r["kelurahan"],
                r["people"],
            ]
            for r in data.participants.to_dicts()
        ],
        total=(c("people"),),
        note=None if data.recorded.get("statuses") else notes("statuses"),
    )
    per_month = dict(data.decrees.select("decree", "premium_per_person_month").iter_rows())
    quota = Sheet(
        "quota",
        f"{x('quota')} {data.month}",
        [
            (c("decree_id"), TEXT),
            (c("decree"), TEXT),
            (c("group"), TEXT),
            (c("people"), COUNT),
            (c("quota"), COUNT),
            (c("share"), SHARE),
            (c("premium_month"), MONEY),
        ],
        [
            [
                r["decree"],
                titles.get(r["decree"]),
                groups.get(r["decree"]),
                r["people"],
                r["quota"],
                r["share"],
                None
                if per_month.get(r["decree"]) is None
                else r["people"] * per_month[r["decree"]],
            ]
            for r in data.quota.to_dicts()
        ],
        total=(c("people"), c("premium_month")),
    )
    months = Sheet(
        "months",
        x("months"),
        [
            (c("month"), TEXT),
            (c("decree_id"), TEXT),
            (c("decree"), TEXT),
            (c("people"), COUNT),
            (c("premium"), MONEY),
            (c("budget"), MONEY),
            (c("budget_use"), SHARE),
        ],
        [
            [
                r["month"],
                r["decree"],
                titles.get(r["decree"]),
                r["people"],
                r["premium"],
                r["budget"],
                r["premium"] / r["budget"] if r["budget"] else None,
            ]
            for r in data.months.to_dicts()
        ],
        total=(c("premium"),),
        note=notes("budget"),
    )
    rejects_note = fmt.rejects_note(data.recorded, lang)
    senders = Sheet(
        "senders",
        x("senders"),
        [
            (c("sender"), TEXT),
            (c("batches"), COUNT),
            (c("rows"), COUNT),
            (c("rejected"), COUNT),
            (c("reject_rate"), SHARE),
            (c("reasons_read"), TEXT),
        ],
        [
            [
                r["sender"],
                r["batches"],
                r["rows"],
                r["rejected"],
                r["rejected"] / r["rows"] if r["rejected"] is not None and r["rows"] else None,
                c("yes") if r["reasons_known"] else c("no"),
            ]
            for r in data.senders.to_dicts()
        ],
        total=(c("rows"), c("rejected")),
        note=rejects_note,
    )
    rejects = Sheet(
        "rejects",
        x("rejects"),
        [
            (c("sender"), TEXT),
            (c("code"), TEXT),
            (c("reason"), TEXT),
            (c("first_reason"), COUNT),
            (c("reason_rows"), COUNT),
        ],
        [
            [r["sender"], r["code"], fmt.reason(r["code"], lang), r["first"], r["rows"]]
            for r in data.rejects.to_dicts()
        ],
        total=(c("first_reason"),),  # rows with several reasons count once here
        note=rejects_note,
    )
    batches = Sheet(
        "batches",
        x("batches"),
        [
            (c("batch"), COUNT),
            (c("folder"), TEXT),
            (c("decree_id"), TEXT),
            (c("period"), TEXT),
            (c("created"), TEXT),
            (c("batch_status"), TEXT),
            (c("rows"), COUNT),
            (c("participants"), COUNT),
            (c("rejected"), COUNT),
            (c("already_submitted"), COUNT),
            (c("total_premium"), MONEY),
        ],
        [
            [
                r["batch_id"],
                r["folder"],
                r["decree"],
                f"{r['start']}..{r['end']}",
                r["created"],
                say(f"office.batch_status.{r['status']}", lang),
                r["rows"],
                r["participants"],
                r["rejected"],
                r["already_submitted"],
                r["total_premium"],
            ]
            for r in data.batches.to_dicts()
        ],
    )
    refusals = Sheet(
        "refusals",
        x("refusals"),
        [(c("decree_id"), TEXT), (c("decree"), TEXT), (c("reason"), TEXT), (c("people"), COUNT)],
        [
            [r["decree"], titles.get(r["decree"]), r["reason"], r["people"]]
            for r in data.refusals.to_dicts()
        ],
        total=(c("people"),),
        note=None if data.recorded.get("refusals") else notes("refusals"),
    )
    decisions = Sheet(
        "decisions",
        x("decisions"),
        [(c("decision"), TEXT), (c("pairs"), COUNT), (c("both_paid"), COUNT)],
        [
            [say(f"office.decision.{d}", lang), pairs, both]
            for d, pairs, both in data.decisions.iter_rows()
        ],
        total=(c("pairs"), c("both_paid")),
        note=notes("decisions_none") if data.decisions.height == 0 else None,
    )
    return [participants, quota, months, senders, rejects, batches, refusals, decisions]


def _safe(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def write(data: ReportData, target: Path, *, lang: str, mode: int = 0o600) -> Path:
    """Write the recap to ``target`` (atomically, with ``mode``)."""
    all_sheets = sheets(data, lang)

    def build(tmp: Path) -> None:
        wb = workbook(tmp, properties={"title": say("office.page.title", lang)})
        formats = {kind: wb.add_format({"num_format": f}) for kind, f in FORMATS.items()}
        bold = wb.add_format({"bold": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        about = wb.add_worksheet(sheet_name(say("office.xlsx.about", lang)))
        about.set_column(0, 0, 22)
        about.set_column(1, 1, 90, wrap)
        facts = [
            (say("office.page.title", lang), ""),
            (say("office.xlsx.about_month", lang), fmt.month_name(data.month, lang)),
            (say("office.xlsx.about_ledger", lang), data.ledger_path),
            (
                say("office.page.ledger_id", lang),
                data.ledger_id or say("office.page.not_recorded", lang),
            ),
            (say("office.xlsx.about_generated", lang), data.generated_at),
            ("", say("office.page.no_nik", lang)),
        ]
        for i, (key, value) in enumerate(facts):
            about.write_string(i, 0, _safe(key), bold)
            about.write_string(i, 1, _safe(value))
        for sheet in all_sheets:
            _write_sheet(wb, sheet, formats, bold, say("office.columns.total", lang))
        wb.close()

    return write_atomic(Path(target), build, mode)


def _write_sheet(wb, sheet: Sheet, formats: dict, bold, total_label: str) -> None:
    ws = wb.add_worksheet(sheet_name(sheet.name))
    top = 0
    if sheet.note:
        ws.write_string(0, 0, _safe(sheet.note))
        top = 2
    columns = []
    for j, (header, kind) in enumerate(sheet.columns):
        ws.set_column(j, j, max(WIDTHS[kind], min(len(header) + 4, 40)))
        column: dict[str, Any] = {"header": _safe(header), "format": formats[kind]}
        if header in sheet.total:  # the sum is also stored, for viewers that do not recalculate
            column["total_function"] = "sum"
            column["total_value"] = sum(row[j] or 0 for row in sheet.rows)
        elif j == 0 and sheet.total:
            column["total_string"] = _safe(total_label)
        columns.append(column)
    rows = [[_safe(v) for v in row] for row in sheet.rows]
    if not rows:  # an Excel table needs a data row: a header and the note say it is empty
        for j, column in enumerate(columns):
            ws.write_string(top, j, column["header"], bold)
        return
    last = top + len(rows) + (1 if sheet.total else 0)
    ws.add_table(
        top,
        0,
        last,
        len(columns) - 1,
        {
            "data": rows,
            "columns": columns,
            "name": sheet.key,
            "total_row": bool(sheet.total),
            "style": "Table Style Light 9",
        },
    )
    ws.freeze_panes(top + 1, 0)
