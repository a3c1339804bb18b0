"""Rendering the findings table: the JSON contract for machines, a Rich report for people.

Personal data is masked here, the one place every screen, log and JSON output passes
through: NIKs as ``2171********0001``, phones as ``0812*****890``, unless ``--show-pii``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

import polars as pl

from jamsos_cli.codes import message, registry
from jamsos_cli.texts import Lang, catalogue, resolve, say

# Fields whose values are masked on screen, in logs and in JSON reports (SPEC §8).
NIK_FIELDS = frozenset({"nik", "family_head_nik"})
PHONE_FIELDS = frozenset({"phone"})
MAX_TEXT_ISSUES = 1000


def _stars(n: pl.Expr) -> pl.Expr:
    return pl.lit("*").repeat_by(n.clip(0)).list.join("")


def mask_nik_expr(expr: pl.Expr) -> pl.Expr:
    """Keep the first 4 and last 4 characters, hide the rest (short values: all but 2)."""
    # signed: both branches are computed for every row, and an unsigned ``n - 8`` of a short
    # value wraps to four billion stars (an out-of-memory abort on a NIK typed "123")
    n = expr.str.len_chars().cast(pl.Int64)
    return (
        pl.when(n >= 9)
        .then(expr.str.slice(0, 4) + _stars(n - 8) + expr.str.slice(-4))
        .otherwise(expr.str.slice(0, 2) + _stars(n - 2))
    )


def mask_phone_expr(expr: pl.Expr) -> pl.Expr:
    """Keep the first 4 and last 3 digits of a phone number."""
    n = expr.str.len_chars().cast(pl.Int64)  # signed, as in mask_nik_expr
    return (
        pl.when(n >= 8)
        .then(expr.str.slice(0, 4) + _stars(n - 7) + expr.str.slice(-3))
        .otherwise(_stars(n))
    )


def mask_nik(value: str | None) -> str | None:
    if value is None:
        return None
    return pl.select(mask_nik_expr(pl.lit(value, pl.Utf8))).item()


def masked_findings(findings: pl.DataFrame, show_pii: bool) -> pl.DataFrame:
    if show_pii:
        return findings
    value = pl.col("value")
    return findings.with_columns(
        pl.when(pl.col("field").is_in(list(NIK_FIELDS)))
        .then(mask_nik_expr(value))
        .when(pl.col("field").is_in(list(PHONE_FIELDS)))
        .then(mask_phone_expr(value))
        .otherwise(_mask_nik_runs(value))
        .alias("value"),
        _mask_nik_runs(pl.col("detail")).alias("detail"),
    )


def _mask_nik_runs(expr: pl.Expr) -> pl.Expr:
    """A NIK where no NIK belongs (columns swapped, a NIK pasted into TGL LAHIR, a file's
    line quoted in a read error) is still a NIK: any run of 16 digits is masked."""
    return expr.str.replace_all(r"(\d{4})\d{8}(\d{4})", "${1}********${2}")


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


@dataclass
class Summary:
    rows: int
    accepted: int
    rejected: int
    warnings: int
    by_code: dict[str, int]
    by_file: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "by_code": self.by_code,
            "files": self.by_file,
        }


def summarise(records: pl.DataFrame, findings: pl.DataFrame, inputs: list[str]) -> Summary:
    """Counts per run and per file; a row is rejected when it has at least one error."""
    per_row = (
        findings.filter(pl.col("rid").is_not_null())
        .group_by("rid")
        .agg(
            (pl.col("severity") == "error").any().alias("rejected"),
        )
    )
    recs = records.select("_rid", "_file").join(per_row, left_on="_rid", right_on="rid", how="left")
    recs = recs.with_columns(pl.col("rejected").fill_null(False))
    warn = findings.filter(pl.col("severity") == "warning")
    by_code = dict(findings.group_by("code").len().sort("code").iter_rows())
    by_file = []
    file_rows = dict(
        recs.group_by("_file")
        .agg(pl.len(), pl.col("rejected").sum())
        .select("_file", pl.struct("len", "rejected"))
        .iter_rows()
    )
    file_warn = dict(warn.group_by("file").len().iter_rows())
    file_err = dict(
        findings.filter(pl.col("rid").is_null(), pl.col("severity") == "error")
        .group_by("file")
        .len()
        .iter_rows()
    )
    for name in inputs:
        counts = file_rows.get(name, {"len": 0, "rejected": 0})
        by_file.append(
            {
                "file": name,
                "rows": counts["len"],
                "accepted": counts["len"] - counts["rejected"],
                "rejected": counts["rejected"],
                "warnings": file_warn.get(name, 0),
                "unusable": bool(file_err.get(name, 0)),
            }
        )
    rejected = int(recs.get_column("rejected").sum())
    return Summary(
        rows=recs.height,
        accepted=recs.height - rejected,
        rejected=rejected,
        warnings=warn.height,
        by_code=by_code,
        by_file=by_file,
    )


def issues_for_output(findings: pl.DataFrame, lang: Lang, show_pii: bool) -> pl.DataFrame:
    return with_messages(masked_findings(findings, show_pii), lang).select(
        "file", "sheet", "row", "column", "code", "severity", "message", "value"
    )


def json_doc(
    summary: Summary,
    findings: pl.DataFrame,
    lang: Lang,
    show_pii: bool,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The validate ``--format json`` document: ``summary`` (with ``extra``) and ``issues``."""
    doc: dict[str, Any] = {"summary": summary.as_dict()}
    if extra:
        doc["summary"].update(extra)
    doc["issues"] = issues_for_output(findings, lang, show_pii).to_dicts()
    return doc


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
        for row in issues.head(MAX_TEXT_ISSUES).iter_rows(named=True):
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
        name = f["file"] + (f" ({say('report.unusable', lang)})" if f["unusable"] else "")
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
