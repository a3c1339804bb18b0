"""Peer: the core checks (``peer_core``) with pandera's Polars backend.

    benchmarks/data/venv-peers/bin/python benchmarks/peer_pandera.py ROSTER.csv [--limit N]

What a pandera user writes: read the file as text with Polars, clean the cells the checks
read (strip, empty → null, the NIK's separators, the date forms jamsos accepts, sex and
phone spellings) in one lazy select, then one ``DataFrameSchema`` whose column and
dataframe checks are Polars expressions, validated lazily (every failure collected).
Prints the failures by code (``peer_core.report``). ``--bare``: the cells only stripped
(ISO dates, L/P, the NIK and phone as typed), as issue 18 first measured pandera: the
checks without the normalisation that makes them agree with jamsos.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors
from peer_core import PHONE_KINDS_OK, columns, phone_kind_expr, regency_codes, report, rules

NIK16 = r"^[0-9]{16}$"


def prepared(path: str, limit: int | None, bare: bool = False) -> pl.LazyFrame:
    """The cells the checks read, cleaned: ``nik``, ``name``, ``birth_text``, ``birth``,
    ``sex_text``, ``sex``, ``phone_text``, ``phone``. ``bare``: no cleaning but the strip
    (what the issue measured: ISO dates only, no normalisation)."""
    r = rules()
    raw = pl.read_csv(path, infer_schema=False, n_rows=limit)
    where = columns(raw.columns)

    def cell(field: str) -> pl.Expr:
        if field not in where:
            return pl.lit(None, pl.Utf8)
        text = pl.col(where[field]).str.strip_chars()
        return pl.when(text != "").then(text)

    nik = cell("nik").str.strip_chars_start(r.nik.leading_quotes)
    nik = nik.str.replace(r.nik.trailing, "").str.replace_all(r.nik.remove, "")
    g = cell("birth_date").str.extract_groups(r.date_pattern).struct
    month = pl.coalesce(
        g.field("im").cast(pl.Int32),
        g.field("dm").cast(pl.Int32, strict=False),
        g.field("dm")
        .str.to_lowercase()
        .replace_strict(r.months, default=None, return_dtype=pl.Int32),
    )

    def to_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:  # null when not a real date
        return pl.format("{}-{}-{}", y, m, d).str.to_date("%Y-%m-%d", strict=False)

    parsed = pl.coalesce(
        to_date(
            pl.coalesce(g.field("iy"), g.field("dy")), month, g.field("id").fill_null(g.field("dd"))
        ),
        (g.field("sn").cast(pl.Int32) + r.epoch_days).cast(pl.Date),
    )
    in_range = parsed.dt.year().is_between(r.birth_date.year_min, r.birth_date.year_max)
    phone = cell("phone").str.replace_all("[^0-9]", "").str.replace(r.phone.international, "0")
    cleaned = {
        "nik": pl.when(nik != "").then(nik),
        "birth": pl.when(in_range).then(parsed),
        "sex": cell("sex")
        .str.to_uppercase()
        .str.replace_all("[^A-Z]", "")
        .replace_strict(r.sex_lookup, default=None, return_dtype=pl.Utf8),
        "phone": phone.str.replace(r.phone.missing_zero, "08"),
    }
    if bare:  # the cells as typed: ISO dates, L/P, phones of digits only
        cleaned = {
            "nik": cell("nik"),
            "birth": cell("birth_date").str.to_date("%Y-%m-%d", strict=False),
            "sex": cell("sex").replace_strict(["L", "P"], ["L", "P"], default=None),
            "phone": cell("phone"),
        }
    return (
        raw.lazy()
        .select(
            nik=cleaned["nik"],
            name=cell("name"),
            birth_text=cell("birth_date"),
            birth=cleaned["birth"],
            sex_text=cell("sex"),
            sex=cleaned["sex"],
            phone_text=cell("phone"),
            phone=cleaned["phone"],
        )
        .with_columns(
            nik_day=pl.col("nik").str.slice(6, 2).cast(pl.Int32, strict=False),
            nik_month=pl.col("nik").str.slice(8, 2).cast(pl.Int32, strict=False),
            nik_yy=pl.col("nik").str.slice(10, 2).cast(pl.Int32, strict=False),
        )
    )  # fmt: skip


def _frame_check(code: str, ok: pl.Expr) -> pa.Check:
    """A dataframe check: true where the row passes ``code``."""
    return pa.Check(lambda data: data.lazyframe.select(ok.fill_null(True)), name=code)


def schema() -> pa.DataFrameSchema:
    r = rules()
    nik16 = pl.col("nik").str.contains(NIK16)
    day = pl.col("nik_day") - pl.when(pl.col("nik_day") > 40).then(40).otherwise(0)
    # the NIK's DDMMYY is a date of a leap year when YY allows it (29-02 is real then)
    nik_date = pl.format("{}-{}-{}", 2000 + pl.col("nik_yy"), pl.col("nik_month"), day)
    nik_date_ok = nik_date.str.to_date("%Y-%m-%d", strict=False).is_not_null()
    nik_sex = pl.when(pl.col("nik_day") > 40).then(pl.lit("P")).otherwise(pl.lit("L"))
    birth = pl.col("birth")
    regency = list(regency_codes())
    return pa.DataFrameSchema(
        {
            "nik": pa.Column(
                str,
                nullable=False,  # NIK_MISSING
                unique=True,  # NIK_DUPLICATE
                checks=[
                    pa.Check.str_matches(NIK16, name="NIK_FORMAT"),
                    pa.Check(
                        lambda d: d.lazyframe.select(
                            ~pl.col(d.key).str.contains(NIK16)
                            | pl.col(d.key).str.slice(0, 4).is_in(regency)
                        ),
                        name="NIK_REGION",
                    ),
                ],
            ),
            "name": pa.Column(
                str, nullable=False, checks=pa.Check.str_contains(r"[^\W\d_]", name="NAME_MISSING")
            ),
            "birth_text": pa.Column(str, nullable=False),  # DOB_MISSING
            "birth": pa.Column(pl.Date, nullable=True),
            "sex_text": pa.Column(str, nullable=True),
            "sex": pa.Column(str, nullable=True),
            "phone_text": pa.Column(str, nullable=True),
            "phone": pa.Column(str, nullable=True),
            "nik_day": pa.Column(pl.Int32, nullable=True),
            "nik_month": pa.Column(pl.Int32, nullable=True),
            "nik_yy": pa.Column(pl.Int32, nullable=True),
        },
        checks=[
            _frame_check("NIK_BIRTHDATE", ~nik16 | nik_date_ok),
            _frame_check("DOB_FORMAT", pl.col("birth_text").is_null() | birth.is_not_null()),
            _frame_check(
                "NIK_DOB_MISMATCH",
                ~nik16
                | ~nik_date_ok
                | birth.is_null()
                | (
                    (birth.dt.day() == day)
                    & (birth.dt.month() == pl.col("nik_month"))
                    & (birth.dt.year() % 100 == pl.col("nik_yy"))
                ),
            ),
            _frame_check("SEX_INVALID", pl.col("sex_text").is_null() | pl.col("sex").is_not_null()),
            _frame_check(
                "NIK_SEX_MISMATCH",
                ~nik16 | ~nik_date_ok | pl.col("sex").is_null() | (pl.col("sex") == nik_sex),
            ),
            _frame_check(
                "PHONE_FORMAT",
                pl.col("phone_text").is_null()
                | phone_kind_expr(pl.col("phone"), pl.col("phone_text")).is_in(PHONE_KINDS_OK)
                | pl.col("phone_text").str.contains(r.phone.blank),
            ),
        ],
    )


CODE_OF = {  # (column, pandera's check name) → code, for pandera's built-in checks
    ("nik", "not_nullable"): "NIK_MISSING",
    ("nik", "field_uniqueness"): "NIK_DUPLICATE",  # every occurrence, not the later ones
    ("nik", "str_matches"): "NIK_FORMAT",
    ("name", "not_nullable"): "NAME_MISSING",
    ("birth_text", "not_nullable"): "DOB_MISSING",
}


def check(path: str, limit: int | None, bare: bool = False) -> tuple[int, Counter, dict]:
    """Rows, failures by code, and the wall and CPU seconds of its steps (read, clean,
    pandera's checks)."""
    marks = [(time.perf_counter(), time.process_time())]
    lazy = prepared(path, limit, bare)  # reads the file
    marks.append((time.perf_counter(), time.process_time()))
    frame = lazy.collect()
    marks.append((time.perf_counter(), time.process_time()))
    counts: Counter = Counter()
    try:
        schema().validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases.group_by("column", "check").len()
        for column, name, n in cases.iter_rows():
            name = re.sub(r"\(.*\)$", "", str(name))
            counts[CODE_OF.get((column, name), name)] += n
    marks.append((time.perf_counter(), time.process_time()))
    steps = {}
    for step, a, b in zip(("read", "clean", "pandera"), marks, marks[1:], strict=False):
        steps[step] = round(b[0] - a[0], 3)
        steps[f"{step}_cpu"] = round(b[1] - a[1], 3)
    return frame.height, counts, steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roster")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--bare", action="store_true", help="no cleaning: ISO dates, cells as typed")
    args = ap.parse_args()
    report(*check(args.roster, args.limit, args.bare))


if __name__ == "__main__":
    main()
