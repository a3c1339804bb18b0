"""Row checks (every non-decree row code) over the records frame built by ``normalise``.

Stage 1 computes one Boolean mask per rule on the whole frame (shared intermediates from
``normalise``: ``nik``, ``nik_int``, the NIK's DDMMYY parts, ``birth_date``); stage 2 turns
each mask into findings with ``findings.flag``. Details that need a lookup (region
suggestions) are computed once per distinct value, never per row. The same rules exist one
row at a time in ``rowrules.RosterRowRules``; ``tests/test_model_agreement.py`` keeps the two
in agreement.

Scope notes:
- NIK_SCIENTIFIC and NIK_PRECISION_LOST stop the NIK checks (the digits are not the
  person's); NIK_NUMERIC_CELL is a warning and the NIK is checked further.
- Checks that read the NIK's parts (region, kecamatan, birth date, serial, the cross-checks)
  run only where the NIK is 16 trustworthy digits (``nik_int`` not null); the cross-checks
  only where the NIK's birth-date part is real.
- Empty kecamatan / kelurahan cells are not reported here (the decree step knows whether
  they are required).
"""

from __future__ import annotations

import polars as pl

from jamsos_cli.findings import concat_checks, flag
from jamsos_cli.normalise import rules

# The finding codes this step emits (every non-decree row rule):
# tests/test_house.py holds each step to its list, and all the lists to codes.toml.
EMITS = frozenset(
    {
        "NIK_MISSING",
        "NIK_SCIENTIFIC",
        "NIK_PRECISION_LOST",
        "NIK_NUMERIC_CELL",
        "NIK_FORMAT",
        "NIK_REGION",
        "NIK_DISTRICT_UNKNOWN",
        "NIK_BIRTHDATE",
        "NIK_SERIAL",
        "NIK_DOB_MISMATCH",
        "NIK_SEX_MISMATCH",
        "NAME_MISSING",
        "DOB_MISSING",
        "DOB_FORMAT",
        "SEX_INVALID",
        "PHONE_FORMAT",
        "PHONE_LANDLINE",
        "KECAMATAN_UNKNOWN",
        "KELURAHAN_UNKNOWN",
        "KELURAHAN_MISMATCH",
    }
)

_NIK_DATE_YY = pl.format(
    "{}-{}-{}",
    pl.col("nik_day").cast(pl.Utf8).str.zfill(2),
    pl.col("nik_month").cast(pl.Utf8).str.zfill(2),
    pl.col("nik_yy").cast(pl.Utf8).str.zfill(2),
)


def _ints(codes: pl.Series) -> pl.Expr:
    """A code set as one Int64 list literal, for ``is_in`` on the integer NIK."""
    return pl.lit(codes.cast(pl.Int64).implode())


def _masks(records: pl.DataFrame, regions, sex_column_present: pl.Series | None) -> pl.DataFrame:
    """One Boolean column per rule (nulls read as false), computed once over the frame."""
    r = rules()
    nik, nik_int = pl.col("nik"), pl.col("nik_int")
    trusted = nik_int.is_not_null()
    lost = pl.col("nik_numeric") & nik.str.ends_with("0")
    regency = nik_int // 10**12
    region_ok = regency.is_in(_ints(regions.regency_codes))
    birth = pl.col("birth_date")
    has_nik_date = pl.col("nik_day").is_not_null()
    roster_sex = ~pl.col("sex_from_nik")
    if sex_column_present is not None:
        roster_sex = roster_sex & pl.lit(sex_column_present.fill_null(False))
    from_ttl = pl.col("raw_birth_date").is_null() & pl.col("raw_birth_place_date").is_not_null()
    masks = {
        "NIK_MISSING": ~pl.col("nik_scientific") & nik.is_null(),
        "NIK_SCIENTIFIC": pl.col("nik_scientific"),
        "NIK_PRECISION_LOST": lost,
        "NIK_NUMERIC_CELL": pl.col("nik_numeric") & nik.is_not_null() & ~lost,
        "NIK_FORMAT": nik.is_not_null() & ~lost & ~trusted,
        "NIK_REGION": trusted & ~region_ok,
        "NIK_DISTRICT_UNKNOWN": trusted
        & region_ok
        & regency.is_in(_ints(regions.regencies_with_kecamatan))
        & ~(nik_int // 10**10).is_in(_ints(regions.kecamatan_codes)),
        "NIK_BIRTHDATE": trusted & ~has_nik_date,
        "NIK_SERIAL": trusted & (nik_int % 10_000 == 0),
        "NIK_DOB_MISMATCH": has_nik_date
        & birth.is_not_null()
        & (
            (birth.dt.day() != pl.col("nik_day"))
            | (birth.dt.month() != pl.col("nik_month"))
            | (birth.dt.year() % 100 != pl.col("nik_yy"))
        ),
        "NIK_SEX_MISMATCH": roster_sex
        & pl.col("nik_sex").is_not_null()
        & pl.col("sex").is_not_null()
        & (pl.col("sex") != pl.col("nik_sex")),
        "NAME_MISSING": pl.col("name").is_null(),
        "DOB_MISSING": pl.col("birth_date_text").is_null(),
        "DOB_FORMAT": pl.col("birth_date_text").is_not_null() & birth.is_null(),
        # a sex cell that was given but read as neither L nor P (never filled from the NIK)
        "SEX_INVALID": pl.col("raw_sex").is_not_null() & pl.col("sex").is_null(),
        "PHONE_FORMAT": pl.col("raw_phone").is_not_null()
        & pl.col("phone").is_null()
        & ~pl.col("raw_phone").str.contains(r.phone.blank),
        "PHONE_LANDLINE": pl.col("phone_landline"),
        "KECAMATAN_UNKNOWN": pl.col("kecamatan").is_not_null() & pl.col("kecamatan_code").is_null(),
        "_KELURAHAN_UNRESOLVED": pl.col("kelurahan").is_not_null()
        & pl.col("kelurahan_code").is_null(),
        "_FROM_TTL": from_ttl,
    }
    return (
        records.lazy()
        .with_columns([m.fill_null(False).alias(code) for code, m in masks.items()])
        .collect()
    )


def row_checks(
    records: pl.DataFrame,
    *,
    regions,
    city_code: str = "21.71",
    sex_column_present: pl.Series | None = None,
) -> pl.DataFrame:
    """Findings (``findings.CHECK_SCHEMA``) of every non-decree row rule.

    ``sex_column_present``: optional Boolean Series aligned with ``records`` (true where the
    file has a sex column). By default ``records["sex_from_nik"]`` decides: NIK_SEX_MISMATCH
    is judged only where the roster itself gave a sex.
    """
    m = _masks(records, regions, sex_column_present)
    raw_nik = pl.col("raw_nik")
    hint = pl.when(pl.col("nik_day").is_not_null()).then(pl.format(" (NIK: {})", _NIK_DATE_YY))
    nik_date = pl.coalesce(pl.col("nik_birth_date").dt.strftime("%d-%m-%Y"), _NIK_DATE_YY)
    date_value = pl.coalesce(pl.col("raw_birth_date"), pl.col("raw_birth_place_date"))
    parts = [
        flag(m, pl.col("NIK_MISSING"), "NIK_MISSING", "nik", raw_nik),
        flag(m, pl.col("NIK_SCIENTIFIC"), "NIK_SCIENTIFIC", "nik", raw_nik),
        flag(m, pl.col("NIK_PRECISION_LOST"), "NIK_PRECISION_LOST", "nik", raw_nik),
        flag(m, pl.col("NIK_NUMERIC_CELL"), "NIK_NUMERIC_CELL", "nik", raw_nik),
        flag(
            m, pl.col("NIK_FORMAT"), "NIK_FORMAT", "nik", raw_nik,
            pl.col("nik").str.count_matches("[0-9]").cast(pl.Utf8),
        ),
        flag(
            m, pl.col("NIK_REGION"), "NIK_REGION", "nik", raw_nik,
            pl.format("{}.{}", pl.col("nik").str.slice(0, 2), pl.col("nik").str.slice(2, 2)),
        ),
        flag(
            m, pl.col("NIK_DISTRICT_UNKNOWN"), "NIK_DISTRICT_UNKNOWN", "nik", raw_nik,
            pl.format(
                "{}.{}.{}",
                pl.col("nik").str.slice(0, 2),
                pl.col("nik").str.slice(2, 2),
                pl.col("nik").str.slice(4, 2),
            ),
        ),
        flag(
            m, pl.col("NIK_BIRTHDATE"), "NIK_BIRTHDATE", "nik", raw_nik,
            pl.col("nik").str.slice(6, 6),
        ),
        flag(m, pl.col("NIK_SERIAL"), "NIK_SERIAL", "nik", raw_nik),
        flag(m, pl.col("NIK_SEX_MISMATCH"), "NIK_SEX_MISMATCH", "sex", pl.col("raw_sex"),
             pl.col("nik_sex")),
        flag(m, pl.col("NAME_MISSING"), "NAME_MISSING", "name", pl.col("raw_name")),
        flag(m, pl.col("SEX_INVALID"), "SEX_INVALID", "sex", pl.col("raw_sex")),
        flag(m, pl.col("PHONE_FORMAT"), "PHONE_FORMAT", "phone", pl.col("raw_phone")),
        flag(m, pl.col("PHONE_LANDLINE"), "PHONE_LANDLINE", "phone", pl.col("raw_phone")),
    ]  # fmt: skip
    # Birth-date codes name the column the date came from (its own, or TEMPAT/TGL LAHIR).
    from_ttl = pl.col("_FROM_TTL")
    for field, where in (("birth_date", ~from_ttl), ("birth_place_date", from_ttl)):
        parts += [
            flag(m, where & pl.col("DOB_MISSING"), "DOB_MISSING", field, date_value, hint),
            flag(m, where & pl.col("DOB_FORMAT"), "DOB_FORMAT", field, date_value, hint),
            flag(
                m, where & pl.col("NIK_DOB_MISMATCH"), "NIK_DOB_MISMATCH", field, date_value,
                nik_date,
            ),
        ]  # fmt: skip
    parts += _region_findings(m, regions.city(city_code))
    return concat_checks(parts).sort("rid", maintain_order=True)


def _region_findings(m: pl.DataFrame, city) -> list[pl.LazyFrame]:
    """KECAMATAN_UNKNOWN, KELURAHAN_UNKNOWN / _MISMATCH; details once per distinct value."""
    out: list[pl.LazyFrame] = []
    kec = m.filter(pl.col("KECAMATAN_UNKNOWN"))
    if kec.height:
        typed = kec.get_column("kecamatan").unique().to_list()
        detail = pl.DataFrame(
            {"kecamatan": typed, "_detail": [_where(city, None, city.suggest("kecamatan", t))
                                             for t in typed]},
            schema={"kecamatan": pl.Utf8, "_detail": pl.Utf8},
        )  # fmt: skip
        kec = kec.join(detail, on="kecamatan", how="left")
        out.append(
            flag(kec, pl.lit(True), "KECAMATAN_UNKNOWN", "kecamatan", pl.col("raw_kecamatan"),
                 pl.col("_detail"))
        )  # fmt: skip
    kel = m.filter(pl.col("_KELURAHAN_UNRESOLVED"))
    if kel.height:
        pairs = kel.select("kecamatan_code", "kelurahan").unique().rows()
        codes, details = [], []
        for kec_code, typed in pairs:
            code, detail = kelurahan_problem(city, kec_code, typed)
            codes.append(code)
            details.append(detail)
        verdict = pl.DataFrame(
            {
                "kecamatan_code": [p[0] for p in pairs],
                "kelurahan": [p[1] for p in pairs],
                "_code": codes,
                "_detail": details,
            },
            schema={n: pl.Utf8 for n in ("kecamatan_code", "kelurahan", "_code", "_detail")},
        )
        kel = kel.join(verdict, on=["kecamatan_code", "kelurahan"], how="left", nulls_equal=True)
        for code in ("KELURAHAN_UNKNOWN", "KELURAHAN_MISMATCH"):
            out.append(
                flag(kel, pl.col("_code") == code, code, "kelurahan", pl.col("raw_kelurahan"),
                     pl.col("_detail"))
            )  # fmt: skip
    return out


def _where(city, kecamatan_code: str | None, suggestions: list[str]) -> str:
    """Language-neutral detail: the place searched, then the suggestions ("Kibing?")."""
    place = city.name
    if kecamatan_code is not None:
        place = f"Kec. {city.kecamatan_names[kecamatan_code]}, {city.name}"
    if suggestions:
        place += " (" + " ".join(f"{s}?" for s in suggestions) + ")"
    return place


def kelurahan_problem(city, kecamatan_code: str | None, typed: str) -> tuple[str, str]:
    """Why a kelurahan did not resolve: (code, detail), for one distinct value.

    In another kecamatan of the city → KELURAHAN_MISMATCH naming where it is; otherwise
    (unknown, or ambiguous like "Tiban") → KELURAHAN_UNKNOWN with suggestions.
    """
    found = city.kelurahan_candidates(typed)
    if kecamatan_code is not None and found and all(f[1] != kecamatan_code for f in found):
        where = sorted({city.kecamatan_names[f[1]] for f in found})
        return "KELURAHAN_MISMATCH", ", ".join(where)
    suggestions = [f[2] for f in found] or city.suggest("kelurahan", typed)
    return "KELURAHAN_UNKNOWN", _where(city, kecamatan_code, suggestions)
