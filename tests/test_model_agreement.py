"""The row-rules model (rowrules.RosterRowRules) and the vectorised checks agree, row by row.

Hypothesis generates rosters of raw rows as senders type them — valid and mangled NIKs
(spaces, dots, quotes, ".0", scientific notation, numeric cells, bad regions, dates, serials),
birth dates in every accepted form and many unaccepted ones, sexes, phones, names,
kecamatan / kelurahan names with aliases, typos and mismatches — and checks that
``checks.row_checks`` over ``normalise`` gives each row exactly the codes the model gives.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jamsos_cli import regions as reg
from jamsos_cli.checks import row_checks
from jamsos_cli.normalise import normalise
from jamsos_cli.rowrules import RosterRowRules, rule_codes
from tests.test_normalise import roster_table

settings.register_profile(
    "model-agreement",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
AGREEMENT = settings.get_profile("model-agreement")

# ------------------------------------------------------------------------------- strategies

REGION6 = [
    "217101", "217103", "217110", "217112",  # Kota Batam
    "317101",  # Jakarta Pusat, Gambir
    "910101",  # Merauke before 2022 (former code)
    "647301",  # Tarakan before 2012 (former regency, kecamatan unknown)
    "217199",  # no such kecamatan in Batam
    "219901",  # no such regency
    "990101",  # no such province
]  # fmt: skip
MONTH_WORDS = {
    1: ["Januari", "Jan", "January", "Djanuari"], 2: ["Februari", "Pebruari", "Peb", "Feb"],
    3: ["Maret", "Mar", "March"], 4: ["April", "Apr"], 5: ["Mei", "May", "Mai"],
    6: ["Juni", "Jun", "Djuni"], 7: ["Juli", "Jul", "Djuli"],
    8: ["Agustus", "Agt", "Ags", "Agu", "Aug", "Ag"],
    9: ["September", "Sep", "Sept"], 10: ["Oktober", "Okt", "Oct"],
    11: ["November", "Nopember", "Nop", "Nov"], 12: ["Desember", "Des", "Dec"],
}  # fmt: skip
KECAMATAN = [
    "Batam Kota",
    "BATAM KOTA",
    "Sekupang",
    "Kec. Sekupang",
    "Batuaji",
    "Batu Aji",
    "Sungai Beduk",
    "Sei Beduk",
    "Bengkong",
    "Batam Kot",
    "Bintan Timur",
    "-",
    None,
]
KELURAHAN = ["Sungai Panas", "Sei Panas", "Tiban", "Tiban Indah", "Kel. Tiban Baru", "Sadai",
             "Bengkong Sadai", "Kibing", "kibing", "Tg. Uma", "Tanjung Piayu", "Sungai Panass",
             "Belian", "Xyz", "-", None]  # fmt: skip
NAMES = ["Budi Santoso", "  Siti   Aminah ", "H. Ahmad", "-", "0", "Ñoño", "x", None]
SEXES = ["L", "P", "l", "p", "Laki-laki", "LAKI LAKI", "Perempuan", "wanita", "Pria", "LK",
         "PR", "M", "F", "Male", "female", "Laki2", "X", "?", "-", "LP", None]  # fmt: skip


@st.composite
def niks(draw) -> tuple[str | None, bool]:
    """(NIK cell text, numeric cell?)"""
    # boundaries as often as the rest: day 0/29/30/31/32, month 0/2/13, leap and other years
    day = draw(st.one_of(st.sampled_from([0, 1, 29, 30, 31, 32]), st.integers(0, 35)))
    day = day + 40 if draw(st.booleans()) else day
    month = draw(st.one_of(st.sampled_from([0, 2, 12, 13]), st.integers(1, 12)))
    yy = draw(st.one_of(st.sampled_from([0, 80, 81, 99]), st.integers(0, 99)))
    digits = (
        draw(st.sampled_from(REGION6))
        + f"{day:02d}{month:02d}{yy:02d}"
        + f"{draw(st.sampled_from([0, 1, 10, 42, 9999])):04d}"
    )
    form = draw(
        st.sampled_from(
            ["plain", "plain", "spaced", "dotted", "dashed", "quote", "dot0", "short", "long",
             "letter", "sci", "sci_comma", "empty", "dash"]
        )
    )  # fmt: skip
    text = {
        "plain": digits,
        "spaced": f"{digits[:4]} {digits[4:8]} {digits[8:12]} {digits[12:]}",
        "dotted": f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:12]}.{digits[12:]}",
        "dashed": f"{digits[:6]}-{digits[6:12]}-{digits[12:]}",
        "quote": "'" + digits,
        "dot0": digits + ".0",
        "short": digits[:15],
        "long": digits + "7",
        "letter": digits[:10] + "O" + digits[11:],
        "sci": f"{digits[0]}.{digits[1:6]}E+15",
        "sci_comma": f"{digits[0]},{digits[1:6]}e15",
        "empty": None,
        "dash": "-",
    }[form]
    return text, draw(st.booleans()) and form in ("plain", "short", "long")


@st.composite
def dates(draw) -> str | None:
    year = draw(
        st.one_of(st.sampled_from([1899, 1900, 1980, 2000, 2099, 2100]), st.integers(1890, 2110))
    )
    month = draw(st.one_of(st.sampled_from([0, 2, 13]), st.integers(1, 12)))
    day = draw(st.one_of(st.sampled_from([0, 29, 30, 31, 32]), st.integers(1, 28)))
    form = draw(st.sampled_from(["iso", "dmy/", "dmy-", "dmy.", "name", "name-", "serial",
                                 "datetime", "yy", "junk", "none", "weekday"]))  # fmt: skip
    if form == "weekday":  # CLDR's full Indonesian form: "Senin, 12 Mei 1980"
        weekday = draw(st.sampled_from(["Senin", "Selasa, ", "RABU,", "Kamis.", "Jum'at,", "Sen"]))
        word = draw(st.sampled_from(MONTH_WORDS.get(month, ["Baz"])))
        return f"{weekday} {day} {word} {year}" + draw(st.sampled_from(["", "-yy"]))
    if form == "serial":
        try:
            serial = (dt.date(year, max(month, 1), max(day, 1)) - dt.date(1899, 12, 30)).days
        except ValueError:
            serial = draw(st.integers(0, 120000))
        return str(serial) + draw(st.sampled_from(["", ".0", ".5"]))
    if form == "name":
        word = draw(st.sampled_from(MONTH_WORDS.get(month, ["Foo"])))
        word = draw(st.sampled_from([word, word.upper(), word.lower(), word + "."]))
        return f"{day} {word} {year}"
    if form == "name-":
        word = draw(st.sampled_from(MONTH_WORDS.get(month, ["Bar"])))
        return f"{day:02d}-{word}-{year}"
    return {
        "iso": f"{year:04d}-{month:02d}-{day:02d}",
        "dmy/": f"{day:02d}/{month:02d}/{year}",
        "dmy-": f"{day}-{month}-{year}",
        "dmy.": f"{day:02d}.{month:02d}.{year}",
        "datetime": f"{year:04d}-{month:02d}-{day:02d} 00:00:00",
        "yy": f"{day:02d}-{month:02d}-{year % 100:02d}",
        "junk": draw(st.sampled_from(["kemarin", "12/05", "1980", "?"])),
        "none": None,
    }[form]


@st.composite
def phones(draw) -> str | None:
    # mobiles (08...), but also landlines (0778, 021), toll-free 0800, premium 0809, 084x...
    lead = draw(st.sampled_from(["8", "8", "8", "80", "84", "2", "21", "7", "77", "6", "1", "9"]))
    digits = lead + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=5,
                                          max_size=14)))  # fmt: skip
    form = draw(st.sampled_from(["0", "62", "+62 ", "+62 (0)", "bare", "dashed", "paren",
                                 "junk", "dash", "none", "+65 "]))  # fmt: skip
    return {
        "0": "0" + digits,
        "62": "62" + digits,
        "+62 ": "+62 " + digits[:3] + " " + digits[3:],
        "+62 (0)": "+62 (0)" + digits,
        "bare": digits,
        "dashed": "0" + digits[:3] + "-" + digits[3:7] + "-" + digits[7:],
        "paren": "(0" + digits[:3] + ") " + digits[3:],
        "+65 ": "+65 " + digits,
        "junk": "tidak ada",
        "dash": "-",
        "none": None,
    }[form]


@st.composite
def raw_rows(draw) -> dict:
    nik, numeric = draw(niks())
    when = draw(dates())
    row = {
        "nik": nik,
        "nik_numeric": numeric,
        "name": draw(st.sampled_from(NAMES)),
        "sex": draw(st.sampled_from(SEXES)),
        "phone": draw(phones()),
        "kecamatan": draw(st.sampled_from(KECAMATAN)),
        "kelurahan": draw(st.sampled_from(KELURAHAN)),
        "birth_date": when,
        "birth_place_date": None,
    }
    if when is not None and draw(st.booleans()):  # the date in a TEMPAT/TGL LAHIR cell
        place = draw(st.sampled_from(["Batam, ", "BATAM ", "Tanjung Pinang, ", ""]))
        row["birth_date"], row["birth_place_date"] = None, place + when
    elif draw(st.integers(0, 9)) == 0:
        row["birth_place_date"] = draw(st.sampled_from(["Batam", "Medan, 1-2-1990"]))
    # the reader's contract: cells stripped, empty cells null
    return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in row.items()}


# ------------------------------------------------------------------------------- the property


def vectorised_codes(rows: list[dict], with_sex_column: bool) -> list[set[str]]:
    regions = reg.load()
    table_rows = [{k: v for k, v in r.items() if with_sex_column or k != "sex"} for r in rows]
    records = normalise([roster_table(table_rows)], regions=regions)
    found = row_checks(records, regions=regions)
    by_rid = found.group_by("rid").agg(pl.col("code")).rows()
    got: list[set[str]] = [set() for _ in rows]
    for rid, codes in by_rid:
        got[rid] = set(codes)
    return got


def model_codes(row: dict, with_sex_column: bool) -> set[str]:
    raw = {k: v for k, v in row.items() if with_sex_column or k != "sex"}
    return rule_codes(**raw)


@AGREEMENT
@given(rows=st.lists(raw_rows(), min_size=1, max_size=8), with_sex_column=st.booleans())
@example(
    rows=[{"nik": "2171101205800001", "nik_numeric": False, "name": "Budi", "sex": "P",
           "phone": "0812", "kecamatan": "Batam Kota", "kelurahan": "Tiban Indah",
           "birth_date": "13-05-1980", "birth_place_date": None}],
    with_sex_column=True,
)  # fmt: skip
def test_vectorised_checks_agree_with_the_model(rows, with_sex_column):
    got = vectorised_codes(rows, with_sex_column)
    for i, row in enumerate(rows):
        assert got[i] == model_codes(row, with_sex_column), (i, row)


def test_the_model_reports_codes_as_pydantic_errors_with_messages():
    try:
        RosterRowRules(nik="2.17101E+15", name="-", birth_date="12-05-80", sex="X")
    except Exception as exc:  # pydantic.ValidationError
        errors = {e["type"]: (e["loc"], e["msg"]) for e in exc.errors()}
    else:
        raise AssertionError("the model accepted a bad row")
    assert set(errors) == {"NIK_SCIENTIFIC", "NAME_MISSING", "DOB_FORMAT", "SEX_INVALID"}
    assert errors["DOB_FORMAT"] == (
        ("birth_date",),
        "Birth date cannot be read: 12-05-80. Use dd-mm-yyyy (4-digit year).",
    )
    assert rule_codes(nik="2171101205800001", name="Budi", birth_date="12-05-1980") == set()
