"""The findings table: the one long table every step adds to and every renderer reads.

A check emits rows of ``(rid, code, field, value, detail)``: ``rid`` names the record (null
for a file-level finding), ``field`` the roster field concerned (a name from
``schema.FIELDS``), ``value`` the raw cell as found (unmasked: masking happens at render
time), ``detail`` the code's extra fact (language-neutral: a date, a suggestion, "file:row").
The pipeline then attaches file, sheet, row, the header as written in the file, and severity.
``summarise`` counts a run's rows and findings (accepted, rejected, warnings, by code and
by file); rendering them is ``render.findings``'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

CHECK_SCHEMA: dict[str, pl.DataType] = {
    "rid": pl.Int64,
    "code": pl.Utf8,
    "field": pl.Utf8,
    "value": pl.Utf8,
    "detail": pl.Utf8,
}

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "rid": pl.Int64,
    "file": pl.Utf8,
    "sheet": pl.Utf8,
    "row": pl.Int64,
    "column": pl.Utf8,
    "field": pl.Utf8,
    "code": pl.Utf8,
    "severity": pl.Utf8,
    "value": pl.Utf8,
    "detail": pl.Utf8,
}


def empty_checks() -> pl.DataFrame:
    return pl.DataFrame(schema=CHECK_SCHEMA)


def flag(
    records: pl.DataFrame | pl.LazyFrame,
    when: pl.Expr,
    code: str,
    field: str | None,
    value: pl.Expr | None = None,
    detail: pl.Expr | None = None,
) -> pl.LazyFrame:
    """Findings of ``code`` for every record where ``when`` is true (vectorised)."""
    lf = records.lazy() if isinstance(records, pl.DataFrame) else records
    return lf.filter(when.fill_null(False)).select(
        pl.col("_rid").alias("rid"),
        pl.lit(code, pl.Utf8).alias("code"),
        pl.lit(field, pl.Utf8).alias("field"),
        (value if value is not None else pl.lit(None, pl.Utf8)).cast(pl.Utf8).alias("value"),
        (detail if detail is not None else pl.lit(None, pl.Utf8)).cast(pl.Utf8).alias("detail"),
    )


def concat_checks(parts: list[pl.LazyFrame | pl.DataFrame]) -> pl.DataFrame:
    frames = [p.lazy() if isinstance(p, pl.DataFrame) else p for p in parts]
    if not frames:
        return empty_checks()
    return pl.concat(
        [f.select([pl.col(c).cast(t) for c, t in CHECK_SCHEMA.items()]) for f in frames]
    ).collect()


def file_finding(
    file: str,
    sheet: str | None,
    code: str,
    detail: str | None = None,
    field: str | None = None,
    column: str | None = None,
    row: int | None = None,
    severity: str | None = None,
) -> dict:
    """A file-level finding row (``rid`` null), in FINDING_SCHEMA form."""
    from jamsos_cli.codes import spec

    return {
        "rid": None,
        "file": file,
        "sheet": sheet,
        "row": row,
        "column": column,
        "field": field,
        "code": code,
        "severity": severity or spec(code).severity,
        "value": None,
        "detail": detail,
    }


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
