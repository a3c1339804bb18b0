"""The report page: one self-contained HTML file (styles and charts inline, no script, a
Content-Security-Policy that lets no request leave it), readable on a laptop and a phone,
printable on A4.

``tables(data, lang)`` turns the frames of ``ReportData`` into the tables a person reads
(formatted text plus the raw value in ``data-v``, so a test can read the numbers back);
``render(data, lang)`` puts them with the charts into ``schemas/report/report.html.j2``. Long
tables are capped (kelurahan, senders, batches): the page never grows with the ledger; the
xlsx recap has every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from jamsos_cli.office_report import charts, fmt
from jamsos_cli.office_report.aggregate import PERSON_STATUSES, ReportData
from jamsos_cli.resources import schema_file
from jamsos_cli.texts import say

MAX_KELURAHAN = 40
MAX_SENDERS = 25
MAX_BATCHES = 30
MAX_PAIRS = 200

Cell = tuple  # (text shown, raw value for data-v[, a second line in small print])


@dataclass
class Table:
    """A table as shown: ``columns`` are (key, label, numeric)."""

    name: str
    columns: list[tuple[str, str, bool]]
    rows: list[dict[str, Cell]] = field(default_factory=list)
    total: dict[str, Cell] | None = None
    note: str | None = None
    caption: str | None = None
    key: str | None = None  # which one of several tables of one name (data-key)


def _num(value: int | None, lang: str) -> Cell:
    return fmt.number(value, lang), value


def _rp(value: int | None, lang: str) -> Cell:
    """Rupiah in a column headed "(Rp)": the number only."""
    return fmt.number(value, lang), value


def _pct(share: float | None, lang: str) -> Cell:
    return fmt.percent(share, lang), None if share is None else round(share, 6)


def _text(value: str | None, lang: str) -> Cell:
    return (say("office.columns.unknown", lang) if value is None else value), value


def _columns(lang: str, *keys: str, numeric: tuple[str, ...] = ()) -> list[tuple[str, str, bool]]:
    return [(k, say(f"office.columns.{k}", lang), k in numeric) for k in keys]


def kpis(data: ReportData, lang: str) -> list[dict[str, Any]]:
    """The five figures at the top of the page."""
    month = fmt.month_name(data.month, lang)
    live = data.batches.filter(pl.col("status") == "done")
    known = live.filter(pl.col("rejected").is_not_null())
    rows, rejected = int(known.get_column("rows").sum()), int(known.get_column("rejected").sum())
    people = int(data.participants.get_column("people").sum())
    premium = int(data.months.filter(pl.col("month") == data.month).get_column("premium").sum())
    committed = int(live.get_column("total_premium").sum())
    returned = f"{fmt.number(rejected, lang)} / {fmt.number(rows, lang)}"
    if not known.height:
        returned, rejected = say("office.page.not_recorded", lang), None
    figures = [
        ("people", fmt.number(people, lang), people),
        ("premium_month", fmt.rupiah(premium, lang), premium),
        ("committed", fmt.rupiah(committed, lang), committed),
        ("batches", fmt.number(live.height, lang), live.height),
        ("returned", returned, rejected),
    ]
    return [
        {"key": k, "label": say(f"office.kpi.{k}", lang, month=month), "text": text, "value": v}
        for k, text, v in figures
    ]


def tables(data: ReportData, lang: str) -> dict[str, Any]:
    """Every table of the page, by name (``months``: a list, one per decree)."""
    return {
        "quota": quota_table(data, lang),
        "status": status_table(data, lang),
        "kecamatan": kecamatan_table(data, lang),
        "kelurahan": kelurahan_table(data, lang),
        "months": months_tables(data, lang),
        "senders": senders_table(data, lang),
        "reasons": reasons_table(data, lang),
        "refusals": refusals_table(data, lang),
        "decisions": decisions_table(data, lang),
        "pairs": pairs_table(data, lang),
        "batches": batches_table(data, lang),
    }


def _decree_titles(data: ReportData) -> dict[str, str]:
    return dict(data.decrees.select("decree", "title").iter_rows())


def quota_table(data: ReportData, lang: str) -> Table:
    titles = _decree_titles(data)
    info = {r["decree"]: r for r in data.decrees.to_dicts()}
    table = Table(
        "quota",
        _columns(
            lang,
            "decree",
            "people",
            "quota",
            "share",
            "premium_month",
            numeric=("people", "quota", "share", "premium_month"),
        ),
    )
    for r in data.quota.to_dicts():
        per = info[r["decree"]]["premium_per_person_month"]
        table.rows.append(
            {
                "decree": (titles[r["decree"]], r["decree"], info[r["decree"]]["group"] or ""),
                "people": _num(r["people"], lang),
                "quota": (
                    fmt.number(r["quota"], lang)
                    if r["quota"]
                    else say("office.columns.no_quota", lang),
                    r["quota"],
                ),
                "share": _pct(r["share"], lang),
                "premium_month": _rp(None if per is None else r["people"] * per, lang),
            }
        )
    people = int(data.quota.get_column("people").sum())
    table.total = {
        "decree": (say("office.columns.total", lang), None),
        "people": _num(people, lang),
    }
    return table


def status_table(data: ReportData, lang: str) -> Table:
    """Decrees down, statuses across (every SPEC §10 status, zero where nobody has it)."""
    titles = _decree_titles(data)
    table = Table(
        "status",
        [("decree", say("office.columns.decree", lang), False)]
        + [(s, say(f"office.status.{s}", lang), True) for s in PERSON_STATUSES]
        + [("total", say("office.columns.total", lang), True)],
    )
    counts = {(d, s): n for d, s, n in data.statuses.iter_rows()}
    for decree in data.decrees.get_column("decree"):
        row = {"decree": (titles[decree], decree)}
        row |= {s: _num(counts.get((decree, s), 0), lang) for s in PERSON_STATUSES}
        row["total"] = _num(sum(counts.get((decree, s), 0) for s in PERSON_STATUSES), lang)
        table.rows.append(row)
    table.note = None if data.recorded.get("statuses") else say("office.notes.statuses", lang)
    return table


def kecamatan_table(data: ReportData, lang: str) -> Table:
    """Kecamatan down (most participants first), decrees across."""
    decrees = data.decrees.get_column("decree").to_list()
    titles = _decree_titles(data)
    per = data.participants.group_by("kecamatan_code", "kecamatan", "decree").agg(
        pl.col("people").sum()
    )
    totals = (
        per.group_by("kecamatan_code", "kecamatan")
        .agg(pl.col("people").sum())
        .sort(["people", "kecamatan_code"], descending=[True, False], nulls_last=True)
    )
    counts = {(k, d): n for k, _, d, n in per.iter_rows()}
    present = [d for d in decrees if per.filter(pl.col("decree") == d).height]
    table = Table(
        "kecamatan",
        [("kecamatan", say("office.columns.kecamatan", lang), False)]
        + [(d, titles[d], True) for d in present]
        + [("total", say("office.columns.total", lang), True)],
    )
    for code, name, n in totals.iter_rows():
        row = {"kecamatan": _text(name, lang)}
        row |= {d: _num(counts.get((code, d), 0), lang) for d in present}
        row["total"] = _num(n, lang)
        table.rows.append(row)
    table.total = {
        "kecamatan": (say("office.columns.total", lang), None),
        "total": _num(int(totals.get_column("people").sum()), lang),
    }
    return table


def kelurahan_table(data: ReportData, lang: str) -> Table:
    per = (
        data.participants.group_by("kecamatan", "kelurahan_code", "kelurahan")
        .agg(pl.col("people").sum())
        .sort(["people", "kelurahan_code"], descending=[True, False], nulls_last=True)
    )
    table = Table(
        "kelurahan", _columns(lang, "kelurahan", "kecamatan", "people", numeric=("people",))
    )
    for kecamatan, _, kelurahan, n in per.head(MAX_KELURAHAN).iter_rows():
        table.rows.append(
            {
                "kelurahan": _text(kelurahan, lang),
                "kecamatan": _text(kecamatan, lang),
                "people": _num(n, lang),
            }
        )
    if per.height > MAX_KELURAHAN:
        table.note = say(
            "office.notes.area_cap", lang, shown=MAX_KELURAHAN, total=fmt.number(per.height, lang)
        )
    return table


def months_tables(data: ReportData, lang: str) -> list[Table]:
    """One table per decree: months down, people, premium, budget and its use across."""
    titles = _decree_titles(data)
    out = []
    for decree in data.months.get_column("decree").unique().sort():
        rows = data.months.filter(pl.col("decree") == decree)
        table = Table(
            "months",
            _columns(
                lang,
                "month",
                "people",
                "premium",
                "budget",
                "budget_use",
                numeric=("people", "premium", "budget", "budget_use"),
            ),
            caption=titles.get(decree, decree),
            key=decree,
        )
        for r in rows.to_dicts():
            use = r["premium"] / r["budget"] if r["budget"] else None
            table.rows.append(
                {
                    "month": (fmt.month_name(r["month"], lang, short=True), r["month"]),
                    "people": _num(r["people"], lang),
                    "premium": _rp(r["premium"], lang),
                    "budget": _rp(r["budget"], lang),
                    "budget_use": _pct(use, lang),
                }
            )
        table.total = {
            "month": (say("office.columns.total", lang), None),
            "premium": _rp(int(rows.get_column("premium").sum()), lang),
        }
        out.append(table)
    if out:
        out[-1].note = say("office.notes.budget", lang)
    return out


def senders_table(data: ReportData, lang: str) -> Table:
    table = Table(
        "senders",
        _columns(
            lang,
            "sender",
            "batches",
            "rows",
            "rejected",
            "reject_rate",
            numeric=("batches", "rows", "rejected", "reject_rate"),
        ),
    )
    for r in data.senders.head(MAX_SENDERS).to_dicts():
        rate = r["rejected"] / r["rows"] if r["rejected"] is not None and r["rows"] else None
        table.rows.append(
            {
                "sender": (r["sender"], r["sender"]),
                "batches": _num(r["batches"], lang),
                "rows": _num(r["rows"], lang),
                "rejected": _num(r["rejected"], lang),
                "reject_rate": _pct(rate, lang),
            }
        )
    notes = [fmt.rejects_note(data.recorded, lang)]
    if data.senders.height > MAX_SENDERS:
        notes.append(
            say(
                "office.notes.senders_cap",
                lang,
                shown=MAX_SENDERS,
                total=fmt.number(data.senders.height, lang),
            )
        )
    table.note = " ".join(notes)
    return table


def reasons_table(data: ReportData, lang: str) -> Table:
    """Rows sent back per reason over all senders: by first reason (these add up to the rows
    whose reasons were read) and with the reason among theirs."""
    per = (
        data.rejects.group_by("code")
        .agg(pl.col("first").sum(), pl.col("rows").sum())
        .sort(["first", "rows", "code"], descending=[True, True, False])
    )
    table = Table(
        "reasons",
        _columns(
            lang,
            "reason",
            "code",
            "first_reason",
            "reason_rows",
            numeric=("first_reason", "reason_rows"),
        ),
    )
    for code, first, n in per.iter_rows():
        table.rows.append(
            {
                "reason": (fmt.reason(code, lang), code),
                "code": (code, code),
                "first_reason": _num(first, lang),
                "reason_rows": _num(n, lang),
            }
        )
    table.total = {
        "reason": (say("office.columns.total", lang), None),
        "first_reason": _num(int(per.get_column("first").sum()), lang),
    }
    return table


def refusals_table(data: ReportData, lang: str) -> Table:
    titles = _decree_titles(data)
    table = Table("refusals", _columns(lang, "decree", "reason", "people", numeric=("people",)))
    for r in data.refusals.sort(["people", "decree"], descending=[True, False]).to_dicts():
        table.rows.append(
            {
                "decree": (titles.get(r["decree"], r["decree"]), r["decree"]),
                "reason": _text(r["reason"], lang),
                "people": _num(r["people"], lang),
            }
        )
    table.note = None if data.recorded.get("refusals") else say("office.notes.refusals", lang)
    return table


def decisions_table(data: ReportData, lang: str) -> Table:
    table = Table(
        "decisions",
        _columns(lang, "decision", "pairs", "both_paid", numeric=("pairs", "both_paid")),
    )
    for decision, pairs, both in data.decisions.iter_rows():
        table.rows.append(
            {
                "decision": (say(f"office.decision.{decision}", lang), decision),
                "pairs": _num(pairs, lang),
                "both_paid": _num(both, lang),
            }
        )
    if data.decisions.height == 0:
        table.note = say("office.notes.decisions_none", lang)
    else:
        same = data.decisions.filter(pl.col("decision") == "same")
        paid_twice = int(same.get_column("both_paid").sum())
        if paid_twice:
            table.note = say("office.notes.pairs_action", lang, n=fmt.number(paid_twice, lang))
            if not data.show_pii:
                table.note += " " + say("office.notes.pairs_hidden", lang)
    return table


def pairs_table(data: ReportData, lang: str) -> Table:
    """Names of the pairs decided SAME and both paid: only with --show-pii (else empty)."""
    table = Table("pairs", _columns(lang, "decided", "name_a", "batches_a", "name_b", "batches_b"))
    for r in data.decision_pairs.head(MAX_PAIRS).to_dicts():
        table.rows.append(
            {
                k: _text(r[src], lang)
                for k, src in (
                    ("decided", "decided_at"),
                    ("name_a", "name_a"),
                    ("batches_a", "batches_a"),
                    ("name_b", "name_b"),
                    ("batches_b", "batches_b"),
                )
            }
        )
    if data.decision_pairs.height > MAX_PAIRS:
        table.note = say(
            "office.notes.pairs_cap",
            lang,
            shown=MAX_PAIRS,
            total=fmt.number(data.decision_pairs.height, lang),
        )
    return table


def batches_table(data: ReportData, lang: str) -> Table:
    titles = _decree_titles(data)
    table = Table(
        "batches",
        _columns(
            lang,
            "batch",
            "created",
            "decree",
            "period",
            "batch_status",
            "rows",
            "participants",
            "rejected",
            "already_submitted",
            "total_premium",
            numeric=(
                "batch",
                "rows",
                "participants",
                "rejected",
                "already_submitted",
                "total_premium",
            ),
        ),
    )
    for r in data.batches.tail(MAX_BATCHES).to_dicts():
        table.rows.append(
            {
                "batch": (str(r["batch_id"]), r["batch_id"]),
                "created": (r["created"], r["created"]),
                "decree": (titles.get(r["decree"], r["decree"]), r["decree"]),
                "period": (fmt.period(r["start"], r["end"], lang), f"{r['start']}..{r['end']}"),
                "batch_status": (say(f"office.batch_status.{r['status']}", lang), r["status"]),
                "rows": _num(r["rows"], lang),
                "participants": _num(r["participants"], lang),
                "rejected": _num(r["rejected"], lang),
                "already_submitted": _num(r["already_submitted"], lang),
                "total_premium": _rp(r["total_premium"], lang),
            }
        )
    if data.batches.height > MAX_BATCHES:
        table.note = say("office.notes.trend_cap", lang, shown=MAX_BATCHES)
    return table


def chart_set(data: ReportData, lang: str) -> dict[str, str]:
    """The page's charts (SVG text), by section; a section with nothing to draw has none."""
    out: dict[str, str] = {}
    if data.decrees.height:
        out["quota"] = charts.quota_chart(data.quota, data.decrees, lang)
    if data.participants.height:
        out["area"] = charts.area_chart(data.participants, data.decrees, lang)
    if data.months.height:
        out["months"] = charts.months_chart(data.months, data.decrees, lang)
    if data.rejects.height:
        out["senders"] = charts.senders_chart(data.senders, data.rejects, lang)
    if data.refusals.height:
        out["refusals"] = charts.refusals_chart(data.refusals, lang)
    if data.batches.filter(pl.col("status") == "done").height:
        out["trend"] = charts.trend_chart(data.batches, lang)
    return out


def environment(lang: str):
    """Jinja2 with autoescaping (file names and names typed by senders are text, never
    markup), and ``say(key, **values)``: the templates' only words, from the text catalogue
    in ``lang``."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(schema_file("report")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["say"] = lambda key, **values: say(key, lang, **values)
    return env


def render(data: ReportData, lang: str) -> str:
    """The whole page as text."""
    from markupsafe import Markup

    from jamsos_cli import __version__

    return (
        environment(lang)
        .get_template("report.html.j2")
        .render(
            lang=lang,
            data=data,
            month=fmt.month_name(data.month, lang),
            kpis=kpis(data, lang),
            tables=tables(data, lang),
            charts={k: Markup(v) for k, v in chart_set(data, lang).items()},  # noqa: S704 - our SVG
            css=Markup(schema_file("report", "report.css").read_text(encoding="utf-8")),  # noqa: S704
            version=__version__,
            empty=data.batches.filter(pl.col("status") == "done").height == 0,
        )
    )
