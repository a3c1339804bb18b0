"""The findings table as people read it: each finding's message in the reader's language, the
issues of the JSON document, and the text report (heading, one line per finding, counts by
file and by code, footer). Masking: ``render.mask``."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from string import Formatter

import polars as pl

from jamsos_cli.codes import message, registry
from jamsos_cli.findings import Summary
from jamsos_cli.render.mask import escape_controls, escape_controls_expr, masked_findings
from jamsos_cli.texts import Lang, catalogue, resolve, say

MAX_TEXT_ISSUES = 1000


MAX_MESSAGE_VALUE = 60  # characters of a cell quoted in a message ("1 MB cell" → 60 and …)


def _quoted(value: str | None) -> str:
    """A cell as a message quotes it: a huge cell (a pasted document) is cut, so one bad cell
    cannot turn the report into megabytes (the rejects file keeps the whole cell)."""
    if value is None:
        return ""
    if len(value) <= MAX_MESSAGE_VALUE:
        return value
    return f"{value[:MAX_MESSAGE_VALUE]}… ({len(value):,})"


_PARTS = ("value", "detail", "column")


@cache
def _codes_quoting(lang: Lang) -> dict[str, list[str]]:
    """part (value, detail, column) → the codes whose ``lang`` template quotes it."""
    texts = catalogue(lang)
    used = {
        code: {f for _, f, _, _ in Formatter().parse(texts[f"finding.{code}"]) if f}
        for code in registry()
    }
    return {part: [c for c, fields in used.items() if part in fields] for part in _PARTS}


def with_messages(findings: pl.DataFrame, lang: Lang) -> pl.DataFrame:
    """Add the clerk-facing message; templates are per code, so render per distinct tuple
    of the parts the code's template quotes (NIK_OUTSIDE_CITY does not quote the NIK: one
    message for all its rows, not one Python call per NIK)."""
    quoting = _codes_quoting(lang)
    keys = [f"_m_{p}" for p in _PARTS]
    keyed = findings.with_columns(
        pl.when(pl.col("code").is_in(quoting[p])).then(pl.col(p)).alias(k)
        for p, k in zip(_PARTS, keys, strict=True)
    )
    distinct = keyed.select("code", *keys).unique()
    msgs = [
        message(
            c,
            lang,
            value=_quoted(v),
            detail=resolve(d, lang) if d is not None else "",
            column=col or "",
        )
        for c, v, d, col in distinct.iter_rows()
    ]
    table = distinct.with_columns(pl.Series("message", msgs, dtype=pl.Utf8))
    return keyed.join(
        table,
        on=["code", *keys],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    ).drop(keys)


def issues_for_output(findings: pl.DataFrame, lang: Lang, show_pii: bool) -> pl.DataFrame:
    return with_messages(masked_findings(findings, show_pii), lang).select(
        "file", "sheet", "row", "column", "code", "severity", "message", "value"
    )


def as_of_line(lang: Lang, as_of: date, decree: str | None) -> str:
    """validate's heading: the day age is judged on, and the decree."""
    if decree:
        return say("report.as_of_decree", lang, day=as_of.isoformat(), decree=decree)
    return say("report.as_of", lang, day=as_of.isoformat())


def rejects_line(lang: Lang, path: Path) -> str:
    return say("report.rejects_written", lang, path=path)


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_text(
    console,
    summary: Summary,
    findings: pl.DataFrame,
    lang: Lang,
    show_pii: bool,
    heading: list[str],
    footer: list[str] | None = None,
) -> None:
    """The people's report: heading lines, issues (capped), counts by file and by code."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    for line in heading:
        console.print(line, highlight=False)
    # messages only for the findings shown (a million-row run has hundreds of thousands)
    issues = issues_for_output(findings.head(MAX_TEXT_ISSUES), lang, show_pii)
    if issues.height:
        # one line per finding, "file:row: CODE severity [column] message", so it reads at
        # any width and greps like a compiler's output; built as one styled Text (no markup
        # to parse or escape) and printed at once
        lines = Text()
        shown = issues.head(MAX_TEXT_ISSUES).with_columns(
            escape_controls_expr(pl.col(c)) for c in ("file", "sheet", "column", "message")
        )
        for row in shown.iter_rows(named=True):
            where = row["file"] + (f" [{row['sheet']}]" if row["sheet"] else "")
            if row["row"] is not None:
                where += f":{row['row']}"
            sev = row["severity"]
            column = f"[{row['column']}] " if row["column"] else ""
            lines.append(f"{where}: ")
            lines.append(row["code"], style=_SEVERITY_STYLE[sev])
            lines.append(f" {say(f'report.severity.{sev}', lang)} {column}{row['message']}\n")
        console.print(lines, highlight=False, soft_wrap=True, end="")
        if findings.height > MAX_TEXT_ISSUES:
            console.print(say("report.more", lang, n=findings.height - MAX_TEXT_ISSUES))
    else:
        console.print(say("report.none", lang))
    files = Table(title=None, box=None)
    for key in ("file", "rows", "accepted", "rejected", "warnings"):
        files.add_column(say(f"report.{key}", lang), justify="left" if key == "file" else "right")
    for f in summary.by_file:
        name = escape(escape_controls(f["file"]))  # a name is not Rich markup
        name += f" ({say('report.unusable', lang)})" if f["unusable"] else ""
        files.add_row(
            name, str(f["rows"]), str(f["accepted"]), str(f["rejected"]), str(f["warnings"])
        )
    files.add_row(
        f"[bold]{say('report.total', lang)}[/]",
        str(summary.rows),
        str(summary.accepted),
        str(summary.rejected),
        str(summary.warnings),
    )
    console.print()
    console.print(files)
    if summary.by_code:
        codes = Table(box=None)
        codes.add_column(say("report.code", lang))
        codes.add_column(say("report.count", lang), justify="right")
        for code, n in summary.by_code.items():
            codes.add_row(code, str(n))
        console.print()
        console.print(codes)
    for line in footer or []:
        console.print(line, highlight=False)
