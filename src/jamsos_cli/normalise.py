"""Normalise: the run's ``RosterTable``s → one records frame of canonical values.

Vectorised Polars over the run's rows (in batches: ``normalise_batches``), staged so that
each shared intermediate (cleaned NIK, the NIK as an integer and its DDMMYY parts, the parsed
birth date) is computed once and the checks (``checks.py``) are built on it. The rules
(month names, sex variants, phone and NIK cleanup patterns) are data:
``schemas/normalise.toml``; region names are matched through ``regions.py``, names keyed by
the one name identity (``names.py``). Nothing is reported here: ``checks.row_checks`` reads
these columns.

The records frame is ``tables.RECORD_SCHEMA``; the columns the checks rely on:

- ``nik_int`` (Int64): the NIK as a number when it is 16 digits and trustworthy (not
  scientific, not from a numeric cell ending in 0). The NIK-part checks and the duplicate
  check run only on these rows (PERFORMANCE-NOTES: Int64 is twice as fast as strings).
- ``nik_day`` / ``nik_month`` / ``nik_yy`` (Int32): the NIK's birth date (day without the
  +40 for women); null when that part is not a real date (NIK_BIRTHDATE).
- ``sex_from_nik`` (Boolean): the roster gave no sex for this row (no sex column, or an empty
  cell), so ``sex`` is the NIK's: NIK_SEX_MISMATCH is only judged where this is false.
- ``birth_date_text`` (Utf8): the text the birth date was read from (the birth date cell, or
  the date part of a combined TEMPAT/TGL LAHIR cell).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache, cached_property
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from jamsos_cli import names, phones
from jamsos_cli.resources import schema_file
from jamsos_cli.schema import FIELDS
from jamsos_cli.tables import RECORD_SCHEMA, RosterTable

# ---------------------------------------------------------------------------- the rules (data)


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NikRules(_Rules):
    scientific: str
    trailing: str
    remove: str
    leading_quotes: str
    length: int = 16


class DateRules(_Rules):
    year_min: int
    year_max: int
    excel_epoch: date
    serial_digits: int
    weekdays: list[str]


class PhoneRules(_Rules):
    international: str
    missing_zero: str
    region: str
    foreign: str
    blank: str


class NormaliseRules(BaseModel):
    """``schemas/normalise.toml``, validated; also the regexes both engines share.

    The patterns use only constructs that mean the same in Python's ``re`` and in Polars
    (Rust ``regex``), so the row-rules model (schema.py) and the vectorised code agree.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    nik: NikRules
    birth_date: DateRules
    months: dict[str, int]
    sex: dict[Literal["L", "P"], list[str]]
    phone: PhoneRules

    @cached_property
    def sex_lookup(self) -> dict[str, str]:
        """Upper-case letters-only variant → L/P."""
        return {v.upper(): sex for sex, variants in self.sex.items() for v in variants}

    @cached_property
    def date_pattern(self) -> str:
        """One regex for every accepted date form; named groups (ISO, day-first, serial)."""
        iso = r"(?P<iy>[0-9]{4})[-/.](?P<im>[0-9]{1,2})[-/.](?P<id>[0-9]{1,2})"
        dmy = (
            r"(?P<dd>[0-9]{1,2})[-/., ]+(?P<dm>[0-9]{1,2}|[A-Za-z]+)\.?[-/., ]+"
            r"(?P<dy>[0-9]{4})"
        )
        time = r"(?:[ T][0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:\.[0-9]+)?)?)?"
        serial = rf"(?P<sn>[0-9]{{{self.birth_date.serial_digits}}})(?:\.[0-9]+)?"
        days = "|".join(sorted(map(re.escape, self.birth_date.weekdays), key=len, reverse=True))
        weekday = rf"(?:(?i:{days})\.?(?:,[ ]*|[ ]+))?"
        return rf"^{weekday}(?:(?:{iso}|{dmy}){time}|{serial})$"

    # A combined TEMPAT/TGL LAHIR cell: the place is the text before the first digit.
    ttl_pattern: str = r"^(?P<place>[^0-9]*?)[ ,;/\-]*(?P<date>[0-9].*)?$"
    ttl_place_strip: str = " ,;/-"
    # A combined RT/RW cell: "001/002", "01-02", "RT 01 RW 02".
    rtrw_pattern: str = r"^[^0-9]*(?P<rt>[0-9]+)[^0-9]+(?P<rw>[0-9]+)[^0-9]*$"

    @property
    def epoch_days(self) -> int:
        """Excel's day 0 as days since 1970-01-01 (Polars' Date)."""
        return (self.birth_date.excel_epoch - date(1970, 1, 1)).days


@cache
def rules() -> NormaliseRules:
    with schema_file("normalise.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    raw["months"] = {k.lower(): v for k, v in raw["months"].items()}
    return NormaliseRules.model_validate(raw)


# ------------------------------------------------------------------- shared small expressions


def days_in_month(month: pl.Expr, leap: pl.Expr) -> pl.Expr:
    return (
        pl.when(month == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(month.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )


def is_leap(year: pl.Expr) -> pl.Expr:
    return ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)


def make_date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """A Date, or null when the parts are not a real date (never an error)."""
    ok = month.is_between(1, 12) & day.is_between(1, days_in_month(month, is_leap(year)))
    return pl.date(pl.when(ok).then(year), pl.when(ok).then(month), pl.when(ok).then(day))


def collapse_ws(expr: pl.Expr) -> pl.Expr:
    """Trimmed, inner whitespace collapsed (cells arrive stripped, null when empty).

    Same as replacing every run of ``\\s+`` by a space, but the pattern matches only runs
    that change (two or more, or one tab, line break, no-break space...): the single spaces
    between words are left alone, which makes it about twice as fast."""
    return expr.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()


# The usual spellings of a date, each a form ``date_pattern`` reads (checked by a plain
# anchored regex, no captures: far cheaper than the pattern's alternation); their parts
# stand at fixed places, or are the three words of the named form.
_DAY_FIRST = r"^[0-9]{2}[-/., ][0-9]{2}[-/., ][0-9]{4}$"  # 29-04-1965, 29.04.1965, 29/04/1965
_YEAR_FIRST = r"^[0-9]{4}[-/.][0-9]{2}[-/.][0-9]{2}$"  # 1965-04-29
_NAMED = r"^[0-9]{1,2} [A-Za-z]+ [0-9]{4}$"  # 29 April 1965, 3 DES 1965


def parse_dates(lf: pl.LazyFrame, text: str, out: str) -> pl.LazyFrame:
    """Add ``out``: the Date read from column ``text`` (null when not an accepted form or not
    a real date). Staged: the usual spellings are cut at their fixed places, the regex runs
    once on the others, the parts become columns, then the date."""
    r = rules()
    t = pl.col("_t")
    lf = lf.with_columns(pl.col(text).str.strip_chars().alias("_t"))
    lf = lf.with_columns(
        t.str.contains(_DAY_FIRST).alias("_dmy"),
        t.str.contains(_YEAR_FIRST).alias("_ymd"),
        t.str.contains(_NAMED).alias("_named"),
    )
    dmy, ymd, named = pl.col("_dmy"), pl.col("_ymd"), pl.col("_named")
    usual = dmy | ymd | named
    words = pl.when(named).then(t).str.split_exact(" ", 2).alias("_w")
    groups = pl.when(~usual).then(t).str.extract_groups(r.date_pattern).alias("_g")
    lf = lf.with_columns(groups, words)
    g, w = pl.col("_g").struct, pl.col("_w").struct
    dm = pl.coalesce(w.field("field_1"), g.field("dm"))

    def part(day_first: int, year_first: int, width: int, *found: pl.Expr) -> pl.Expr:
        """A date part: sliced from a usual spelling, else as the regex or the words found it."""
        return pl.coalesce(
            pl.when(dmy).then(t.str.slice(day_first, width)),
            pl.when(ymd).then(t.str.slice(year_first, width)),
            *found,
        ).cast(pl.Int32)

    lf = lf.with_columns(
        part(6, 0, 4, w.field("field_2"), g.field("iy"), g.field("dy")).alias("_y"),
        pl.coalesce(
            part(3, 5, 2, g.field("im")),
            dm.cast(pl.Int32, strict=False),
            dm.str.to_lowercase().replace_strict(r.months, default=None, return_dtype=pl.Int32),
        ).alias("_m"),
        part(0, 8, 2, w.field("field_0"), g.field("id"), g.field("dd")).alias("_d"),
        (g.field("sn").cast(pl.Int32) + r.epoch_days).cast(pl.Date).alias("_serial"),
    )
    lf = lf.with_columns(
        pl.coalesce(make_date(pl.col("_y"), pl.col("_m"), pl.col("_d")), "_serial").alias(out)
    )
    in_range = pl.col(out).dt.year().is_between(r.birth_date.year_min, r.birth_date.year_max)
    return lf.with_columns(pl.when(in_range).then(pl.col(out)).alias(out)).drop(
        "_t", "_dmy", "_ymd", "_named", "_g", "_w", "_y", "_m", "_d", "_serial"
    )


# ------------------------------------------------------------------------------ the step


def _table_frame(index: int, table: RosterTable, role_override: str | None) -> pl.LazyFrame:
    """One table's rows with canonical raw columns (null columns for fields it lacks)."""
    frame = table.frame
    cols: list[pl.Expr] = [
        pl.lit(index, pl.Int32).alias("_src"),
        pl.lit(table.file, pl.Utf8).alias("_file"),
        pl.lit(table.sheet, pl.Utf8).alias("_sheet"),
        pl.col("_row").cast(pl.Int64),
    ]
    for name in FIELDS:
        column = table.column_of(name)
        raw = pl.col(column).cast(pl.Utf8) if column else pl.lit(None, pl.Utf8)
        cols.append(raw.alias(f"raw_{name}"))
    for flag in ("nik", "phone"):
        src = f"_{flag}_numeric"
        value = pl.col(src).fill_null(False) if src in frame.columns else pl.lit(False)
        cols.append(value.cast(pl.Boolean).alias(f"{flag}_numeric"))
    cols.append(_role_default(table, role_override).alias("_role_default"))
    return frame.lazy().select(cols)


def _role_default(table: RosterTable, role_override: str | None) -> pl.Expr:
    """The role of a table with no role column: ``--role``, else the table's own (the
    config's ``[[inputs]]`` or its title, ``pipeline.settle_role``), else its occupation
    column where an occupation may stand for the role (a fishermen's list whose PEKERJAAN
    says NELAYAN; never under a decree whose roles are offices)."""
    if table.column_of("role") is not None:
        return pl.lit(None, pl.Utf8)
    role = role_override if role_override is not None else table.role
    if role is not None:
        return pl.lit(role, pl.Utf8)
    occupation = table.column_of("occupation") if table.occupation_is_role else None
    return pl.col(occupation).cast(pl.Utf8) if occupation else pl.lit(None, pl.Utf8)


def _nik_steps() -> tuple[pl.Expr, pl.Expr]:
    """The NIK cleanup (SPEC §3) over the column ``_t`` (``_nik_text`` of the cell): whether
    it is scientific notation, and the cleaned text (null when scientific or empty)."""
    r = rules().nik
    c = pl.col("_t").str.replace(r.trailing, "").str.replace_all(r.remove, "")
    c = c.str.strip_chars_start(r.leading_quotes)
    scientific = pl.col("_t").str.contains(r.scientific).fill_null(False)
    return scientific, pl.when(~scientific & (c != "")).then(c)


def _nik_text(raw: pl.Expr) -> pl.Expr:
    r = rules().nik
    return raw.str.strip_chars().str.strip_chars_start(r.leading_quotes)


def _cleaned_niks(raw: pl.Series) -> list[pl.Series]:
    """``nik_scientific``, ``nik`` (``_nik_steps``) and ``_nik_digits`` (the NIK is 16
    digits) of each NIK cell. Most cells are the 16 digits already, which the cleanup leaves
    as they are: it runs on the other cells only, its results put back in place."""
    sixteen = f"^[0-9]{{{rules().nik.length}}}$"
    plain = raw.str.contains(sixteen).fill_null(False)
    nik, digits = raw.alias("nik"), plain.alias("_nik_digits")
    scientific = pl.repeat(False, raw.len(), dtype=pl.Boolean, eager=True).alias("nik_scientific")
    rows = (~plain).arg_true()
    if rows.len():
        found, cleaned = _nik_steps()
        rest = (
            raw.gather(rows)
            .to_frame("_c")
            .lazy()
            .select(_nik_text(pl.col("_c")).alias("_t"))
            .select(found.alias("s"), cleaned.alias("n"))
            .with_columns(pl.col("n").str.contains(sixteen).fill_null(False).alias("d"))
            .collect()
        )
        scientific = scientific.scatter(rows, rest.get_column("s"))
        nik = nik.clone().scatter(rows, rest.get_column("n"))
        digits = digits.scatter(rows, rest.get_column("d"))
    return [scientific, nik, digits]


def _trusted(nik: pl.Expr, numeric: pl.Expr) -> pl.Expr:
    """16 digits (``_nik_digits``), and not from a numeric spreadsheet cell ending in 0
    (NIK_PRECISION_LOST)."""
    return pl.col("_nik_digits") & ~(numeric & nik.str.ends_with("0"))


def clean_nik(frame: pl.DataFrame, raw: str, numeric: str | None = None) -> pl.Series:
    """The NIK of each row of ``frame[raw]`` as the roster checks clean it (spaces, dots,
    dashes, a leading ``'``, a trailing ``.0``), or null when it is not a trustworthy
    16-digit NIK (scientific notation, a numeric cell ending in 0, another length): for the
    files other offices send back (``officefiles``)."""
    numeric_cells = frame.get_column(numeric).fill_null(False) if numeric else pl.lit(False)
    return (
        pl.DataFrame(_cleaned_niks(frame.get_column(raw)))
        .with_columns(numeric_cells.alias("_n"))
        .select(pl.when(_trusted(pl.col("nik"), pl.col("_n"))).then(pl.col("nik")).alias("nik"))
        .to_series()
    )


def _nik_stage(lf: pl.LazyFrame) -> pl.LazyFrame:
    """The NIK's parts from ``nik``, ``nik_scientific``, ``_nik_digits`` (``_cleaned_niks``)."""
    trusted = _trusted(pl.col("nik"), pl.col("nik_numeric"))
    lf = lf.with_columns(pl.when(trusted).then(pl.col("nik").cast(pl.Int64)).alias("nik_int"))
    # DDMMYY: one integer slice of the NIK, split arithmetically.
    ddmmyy = (pl.col("nik_int") // 10_000) % 1_000_000
    lf = lf.with_columns(
        (ddmmyy // 10_000).cast(pl.Int32).alias("_dd"),
        (ddmmyy // 100 % 100).cast(pl.Int32).alias("_mm"),
        (ddmmyy % 100).cast(pl.Int32).alias("_yy"),
    )
    dd, mm, yy = pl.col("_dd"), pl.col("_mm"), pl.col("_yy")
    day = pl.when(dd > 40).then(dd - 40).otherwise(dd)
    # The century is unknown: 29 Feb is real if 19yy or 20yy is a leap year (yy % 4 == 0).
    real = (
        (dd.is_between(1, 31) | dd.is_between(41, 71))
        & mm.is_between(1, 12)
        & day.is_between(1, days_in_month(mm, yy % 4 == 0))
    )
    return lf.with_columns(
        pl.when(real).then(day).alias("nik_day"),
        pl.when(real).then(mm).alias("nik_month"),
        pl.when(real).then(yy).alias("nik_yy"),
        pl.when(real)
        .then(pl.when(dd > 40).then(pl.lit("P")).otherwise(pl.lit("L")))
        .alias("nik_sex"),
    )


def _person_stage(lf: pl.LazyFrame) -> pl.LazyFrame:
    r = rules()
    # Stage 1: each regex once; its results become columns.
    lf = lf.with_columns(
        pl.col("raw_birth_place_date").str.extract_groups(r.ttl_pattern).alias("_ttl"),
        pl.col("raw_rt_rw").str.extract_groups(r.rtrw_pattern).alias("_rtrw"),
        pl.col("raw_sex").is_null().alias("sex_from_nik"),
    )
    ttl, rtrw = pl.col("_ttl").struct, pl.col("_rtrw").struct
    place = collapse_ws(ttl.field("place").str.strip_chars(r.ttl_place_strip))
    lf = lf.with_columns(
        pl.coalesce(pl.col("raw_birth_date"), ttl.field("date").str.strip_chars()).alias(
            "birth_date_text"
        ),
        pl.coalesce("_birth_place", pl.when(place != "").then(place)).alias("birth_place"),
        pl.coalesce(pl.col("raw_rt"), rtrw.field("rt")).alias("rt"),
        pl.coalesce(pl.col("raw_rw"), rtrw.field("rw")).alias("rw"),
        pl.col("raw_address").alias("address"),
        pl.coalesce("_role", "_role_default").alias("role"),
        pl.col("raw_kusuka_number").alias("kusuka_number"),
        pl.col("raw_email").alias("email"),
        pl.coalesce(pl.col("_sex"), pl.when(pl.col("sex_from_nik")).then(pl.col("nik_sex")))
        .alias("sex"),
    )  # fmt: skip
    return lf


def _identity_stage(lf: pl.LazyFrame, ttl_dates: pl.DataFrame | None) -> pl.LazyFrame:
    """Birth date (the birth date cell's, parsed per distinct cell in ``per_distinct``; else
    the date part of a TEMPAT/TGL LAHIR cell, from ``ttl_dates``) and the NIK's date."""
    birth = pl.when(pl.col("raw_birth_date").is_not_null()).then(pl.col("_cell_birth_date"))
    if ttl_dates is not None:
        birth = birth.otherwise(
            pl.col("birth_date_text").replace_strict(
                ttl_dates.get_column("text"), ttl_dates.get_column("date"), default=None,
                return_dtype=pl.Date,
            )
        )  # fmt: skip
    lf = lf.with_columns(birth.alias("birth_date"))
    # The NIK's birth date in the roster date's century (null if not real in it).
    return lf.with_columns(
        make_date(
            pl.col("birth_date").dt.year() // 100 * 100 + pl.col("nik_yy"),
            pl.col("nik_month"),
            pl.col("nik_day"),
        ).alias("nik_birth_date"),
    )


def parse_distinct_dates(texts: pl.Series) -> pl.DataFrame:
    """(text, date) for each distinct birth-date text: a roster repeats few distinct dates,
    so the date regex runs on those only (a fraction of the rows)."""
    distinct = pl.DataFrame({"text": texts.drop_nulls().unique()}, schema={"text": pl.Utf8})
    return parse_dates(distinct.lazy(), "text", "date").collect()


def resolve_regions(pairs: pl.DataFrame, city) -> pl.DataFrame:
    """Distinct (raw_kecamatan, raw_kelurahan) pairs → official names and codes.

    Vectorised over the distinct pairs (a few hundred per city, never per row): keys, then
    joins. A kecamatan resolves when its key fits one kecamatan of the city; a kelurahan
    within the resolved kecamatan, or within the whole city when there is none. A kelurahan
    of another kecamatan keeps its official name but no code (KELURAHAN_MISMATCH).
    """
    keyer = city.names
    p = pairs.lazy().with_columns(
        keyer.key_expr(pl.col("raw_kecamatan")).alias("_kk"),
        keyer.key_expr(pl.col("raw_kelurahan")).alias("_lk"),
    )
    kec = (
        city.kecamatan_keys.lazy()
        .group_by("key")
        .agg(
            pl.col("code").first().alias("kecamatan_code"),
            pl.col("name").first().alias("_kec_name"),
            pl.col("code").n_unique().alias("_n"),
        )
    )
    kel = city.kelurahan_keys.lazy()
    within = kel.group_by("kecamatan_code", "key").agg(
        pl.col("code").first().alias("_in_code"),
        pl.col("name").first().alias("_in_name"),
        pl.col("code").n_unique().alias("_n"),
    )
    anywhere = kel.group_by("key").agg(
        pl.col("code").first().alias("_any_code"),
        pl.col("name").first().alias("_any_name"),
        pl.col("code").n_unique().alias("_n"),
    )
    p = p.join(kec.filter(pl.col("_n") == 1).drop("_n"), left_on="_kk", right_on="key", how="left")
    p = p.join(
        within.filter(pl.col("_n") == 1).drop("_n"),
        left_on=["kecamatan_code", "_lk"],
        right_on=["kecamatan_code", "key"],
        how="left",
    )
    p = p.join(
        anywhere.filter(pl.col("_n") == 1).drop("_n"), left_on="_lk", right_on="key", how="left"
    )
    no_kec = pl.col("kecamatan_code").is_null()
    return p.select(
        "raw_kecamatan",
        "raw_kelurahan",
        pl.when(pl.col("_kk") != "")
        .then(pl.coalesce("_kec_name", collapse_ws(pl.col("raw_kecamatan"))))
        .alias("kecamatan"),
        "kecamatan_code",
        pl.when(pl.col("_lk") != "")
        .then(pl.coalesce("_in_name", "_any_name", collapse_ws(pl.col("raw_kelurahan"))))
        .alias("kelurahan"),
        pl.coalesce("_in_code", pl.when(no_kec).then(pl.col("_any_code"))).alias("kelurahan_code"),
    ).collect()


def normalise(
    tables: list[RosterTable],
    *,
    regions,
    city_code: str = "21.71",
    role_override: str | None = None,
) -> pl.DataFrame:
    """The run-wide records frame (``tables.RECORD_SCHEMA``)."""
    return _normalise_rows(_raw(tables, role_override).collect(), regions, city_code, 0)


def normalise_batches(
    tables: list[RosterTable],
    *,
    regions,
    city_code: str = "21.71",
    role_override: str | None = None,
    rows: int,
) -> Iterator[pl.DataFrame]:
    """The records frame of ``normalise`` in consecutive batches of at most ``rows`` rows
    (at least one batch, maybe empty). Every step of normalise is row by row, so the
    batches are the same rows with the same ``_rid``s; a large run never holds the
    intermediate columns of all its rows at once."""
    raw = _raw(tables, role_override)
    total = sum(t.frame.height for t in tables)
    for offset in range(0, max(total, 1), rows):
        yield _normalise_rows(raw.slice(offset, rows).collect(), regions, city_code, offset)


def _raw(tables: list[RosterTable], role_override: str | None) -> pl.LazyFrame:
    """Every table's rows in run order, with canonical raw columns."""
    if not tables:
        return _empty_raw(role_override)
    return pl.concat(
        [_table_frame(i, t, role_override) for i, t in enumerate(tables)], how="vertical"
    )


def _normalise_rows(raw: pl.DataFrame, regions, city_code: str, first_rid: int) -> pl.DataFrame:
    """Normalised records of ``raw``, rows of the run from ``first_rid`` on."""
    raw = raw.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + first_rid).alias("_rid"))
    places = _places(raw.select("raw_kecamatan", "raw_kelurahan"), regions.city(city_code))
    texts = per_distinct(raw, _text_values())
    niks = _cleaned_niks(raw.get_column("raw_nik"))
    frame = _person_stage(_nik_stage(raw.hstack(places).hstack(texts).hstack(niks).lazy()))
    frame = _phone_stage(frame).collect()
    from_ttl = frame.filter(pl.col("raw_birth_date").is_null()).get_column("birth_date_text")
    ttl_dates = parse_distinct_dates(from_ttl) if from_ttl.null_count() < from_ttl.len() else None
    frame = _identity_stage(frame.lazy(), ttl_dates).collect()
    frame = frame.with_columns(pl.lit(city_code, pl.Utf8).alias("city_code"))
    return frame.select(list(RECORD_SCHEMA))  # the declared columns, in order


def per_distinct(
    frame: pl.DataFrame, specs: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]]
) -> list[pl.Series]:
    """For each ``column: add`` of ``specs``, the columns ``add`` derives from ``column``,
    computed once per distinct value and returned in row order.

    Free text in a roster repeats: a million rows hold some 70,000 names, 150,000 birth-date
    spellings and a few dozen roles, so a regex over the distinct values and one hash join
    back beats the regex over every row (the join takes only the key column, never the wide
    frame). The columns are collected together, so Polars runs them side by side."""
    queries = []
    for column, add in specs.items():
        keys = frame.lazy().select(column)
        values = add(keys.unique())
        joined = keys.join(values, on=column, how="left", nulls_equal=True, maintain_order="left")
        queries.append(joined.drop(column))
    return [s for result in pl.collect_all(queries) for s in result.get_columns()]


def phone_digits(cell: pl.Expr) -> pl.Expr:
    """A phone cell's digits as a number to dial from Indonesia: +62 / 62 / 0062 become 0,
    a number starting with 8 (its 0 lost in a spreadsheet) gets it back."""
    r = rules().phone
    digits = cell.str.replace_all("[^0-9]", "")
    return digits.str.replace(r.international, "0").str.replace(r.missing_zero, "08")


def _phone_stage(lf: pl.LazyFrame) -> pl.LazyFrame:
    """``phone`` (written 0xx: a mobile, or a landline, then ``phone_landline``) from each
    phone cell, as libphonenumber's data classifies it (``phones.py``). Row by row, not per
    distinct cell: phone numbers hardly repeat, so a distinct pass would only add its
    unique and its join."""
    r = rules().phone
    nsn = phones.national_number(phone_digits(pl.col("raw_phone")))
    foreign = pl.col("raw_phone").str.contains(r.foreign)
    lf = lf.with_columns(nsn.alias("_nsn")).with_columns(
        pl.when(foreign)
        .then(pl.lit("unknown"))
        .otherwise(phones.kind_expr(pl.col("_nsn"), r.region))
        .alias("_kind")
    )
    kept = pl.col("_kind").is_in([phones.MOBILE, phones.LANDLINE])
    return lf.with_columns(
        pl.when(kept).then(pl.concat_str(pl.lit("0"), pl.col("_nsn"))).alias("phone"),
        (pl.col("_kind") == phones.LANDLINE).fill_null(False).alias("phone_landline"),
    ).drop("_nsn", "_kind")


def _adding(*exprs: pl.Expr) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    return lambda lf: lf.with_columns(exprs)


def _text_values() -> dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]]:
    """Raw column → the columns derived from it per distinct value (see ``per_distinct``)."""
    sex_key = pl.col("raw_sex").str.to_uppercase().str.replace_all("[^A-Z]", "")
    sex = sex_key.replace_strict(rules().sex_lookup, default=None, return_dtype=pl.Utf8)
    name = collapse_ws(pl.col("raw_name"))
    name = pl.when(name.str.contains(r"\p{L}")).then(name)
    return {
        "raw_name": _adding(
            name.alias("name"),
            names.identity_key(name).alias("name_key"),
            names.father_key(name).alias("father_key"),
        ),
        "raw_birth_date": lambda lf: parse_dates(lf, "raw_birth_date", "_cell_birth_date"),
        "raw_sex": _adding(sex.alias("_sex")),
        "raw_role": _adding(collapse_ws(pl.col("raw_role")).alias("_role")),
        "raw_occupation": _adding(collapse_ws(pl.col("raw_occupation")).alias("occupation")),
        "raw_mother_name": _adding(collapse_ws(pl.col("raw_mother_name")).alias("mother_name")),
        "raw_work_location": _adding(
            collapse_ws(pl.col("raw_work_location")).alias("work_location")
        ),
        "raw_birth_place": _adding(collapse_ws(pl.col("raw_birth_place")).alias("_birth_place")),
    }


def _places(keys: pl.DataFrame, city) -> pl.DataFrame:
    """kecamatan(_code), kelurahan(_code) for each row, in row order: resolved once per
    distinct pair, joined back on the two key columns only (no wide gather)."""
    resolved = resolve_regions(keys.unique(), city)
    joined = keys.join(
        resolved,
        on=["raw_kecamatan", "raw_kelurahan"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return joined.select("kecamatan", "kecamatan_code", "kelurahan", "kelurahan_code")


def _empty_raw(role_override: str | None) -> pl.LazyFrame:
    schema: dict[str, pl.DataType] = {
        "_src": pl.Int32,
        "_file": pl.Utf8,
        "_sheet": pl.Utf8,
        "_row": pl.Int64,
    }
    schema.update({f"raw_{n}": pl.Utf8 for n in FIELDS})
    schema.update(
        {"nik_numeric": pl.Boolean, "phone_numeric": pl.Boolean, "_role_default": pl.Utf8}
    )
    return pl.LazyFrame(schema=schema)
