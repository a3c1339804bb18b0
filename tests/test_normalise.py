"""normalise(): roster cells as typed → the canonical values the checks and the batch use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from jamsos_cli import regions as reg
from jamsos_cli.normalise import normalise, normalise_batches
from jamsos_cli.schema import FIELDS
from jamsos_cli.tables import RECORD_SCHEMA, RosterTable
from tests.rosters import make_nik

BUDI = make_nik("217110", 12, 5, 1980, female=False, serial=1)  # Kec. Batam Kota
SITI = make_nik("217111", 5, 6, 1985, female=True, serial=2)  # Kec. Sagulung


def roster_table(
    rows: list[dict[str, object]],
    *,
    file: str = "roster.csv",
    sheet: str | None = None,
    first_row: int = 2,
) -> RosterTable:
    """A RosterTable as the reader hands it over, from dicts keyed by schema field.

    Every field named in any row becomes a column (header = the field name in capitals);
    ``nik_numeric`` / ``phone_numeric`` keys set the reader's numeric-cell flags.
    """
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k in FIELDS and k not in fields]
    data: dict[str, list] = {
        f"c{i}": [None if r.get(f) is None else str(r.get(f)) for r in rows]
        for i, f in enumerate(fields)
    }
    data["_row"] = list(range(first_row, first_row + len(rows)))
    data["_nik_numeric"] = [bool(r.get("nik_numeric", False)) for r in rows]
    data["_phone_numeric"] = [bool(r.get("phone_numeric", False)) for r in rows]
    schema = {f"c{i}": pl.Utf8 for i in range(len(fields))}
    schema.update({"_row": pl.Int64, "_nik_numeric": pl.Boolean, "_phone_numeric": pl.Boolean})
    return RosterTable(
        file=file,
        path=Path(file),
        sheet=sheet,
        kind="xlsx" if sheet else "csv",
        header_row=first_row - 1,
        headers=[f.upper() for f in fields],
        fields={f: i for i, f in enumerate(fields)},
        frame=pl.DataFrame(data, schema=schema),
    )


def records_of(rows: list[dict[str, object]], **kw) -> pl.DataFrame:
    return normalise([roster_table(rows)], regions=reg.load(), **kw)


def one(**row) -> dict:
    """The normalised record of a single row."""
    return records_of([row]).row(0, named=True)


# ------------------------------------------------------------------------------- the frame


def test_records_follow_the_contract_over_several_tables():
    a = roster_table([{"nik": BUDI, "name": "Budi"}, {"nik": SITI, "name": "Siti"}], file="a.csv")
    b = roster_table([{"nik": BUDI, "role": "Ketua RT"}], file="b.xlsx", sheet="Data", first_row=5)
    records = normalise([a, b], regions=reg.load(), role_override="ketua rw")

    assert records.schema == RECORD_SCHEMA  # the declared columns, in order, with their types
    assert {f"raw_{f}" for f in FIELDS} <= set(records.columns)
    assert records.get_column("_rid").to_list() == [0, 1, 2]
    assert records.get_column("_src").to_list() == [0, 0, 1]
    assert records.get_column("_file").to_list() == ["a.csv", "a.csv", "b.xlsx"]
    assert records.get_column("_sheet").to_list() == [None, None, "Data"]
    assert records.get_column("_row").to_list() == [2, 3, 5]
    # a field the table lacks is a null column; --role fills only a table without a role column
    assert records.get_column("raw_name").to_list() == ["Budi", "Siti", None]
    assert records.get_column("role").to_list() == ["ketua rw", "ketua rw", "Ketua RT"]
    assert records.schema["birth_date"] == pl.Date
    assert records.schema["nik_int"] == pl.Int64


def test_batches_are_the_same_records_as_one_run():
    a = roster_table(
        [{"nik": BUDI, "name": "Budi  Santoso", "sex": "laki-laki"}, {"nik": SITI, "name": "Siti"}]
        + [{"nik": f"'{BUDI}", "name": f"Orang {i}", "birth_date": "12-05-1980"} for i in range(3)],
        file="a.csv",
    )
    b = roster_table([{"nik": SITI, "role": "Ketua RT", "name": "SITI"}], file="b.csv")
    whole = normalise([a, b], regions=reg.load())
    batches = list(normalise_batches([a, b], regions=reg.load(), rows=2))

    assert [batch.height for batch in batches] == [2, 2, 2]  # across the two tables
    assert pl.concat(batches).equals(whole)
    # the run-wide ids carry on from batch to batch
    assert batches[2].get_column("_rid").to_list() == [4, 5]


def test_no_tables_gives_an_empty_frame_with_every_column():
    records = normalise([], regions=reg.load())
    assert records.height == 0
    assert "nik_int" in records.columns and "kelurahan_code" in records.columns


# ------------------------------------------------------------------------------------- NIK


@pytest.mark.parametrize(
    "typed",
    [
        BUDI,
        f"'{BUDI}",
        f"{BUDI}.0",
        f"{BUDI[:4]} {BUDI[4:8]} {BUDI[8:12]} {BUDI[12:]}",
        f"{BUDI[:2]}.{BUDI[2:4]}.{BUDI[4:6]}.{BUDI[6:12]}.{BUDI[12:]}",
        f"{BUDI[:6]}-{BUDI[6:12]}-{BUDI[12:]}",
    ],
)
def test_nik_cleanup(typed):
    rec = one(nik=typed, name="Budi")
    assert rec["nik"] == BUDI
    assert rec["nik_int"] == int(BUDI)
    assert rec["nik_scientific"] is False


@pytest.mark.parametrize("typed", ["2.17101E+15", "2,17101E+15", "2.17101e15", "2171E15"])
def test_scientific_nik_is_flagged_and_not_cleaned(typed):
    rec = one(nik=typed)
    assert rec["nik_scientific"] is True
    assert rec["nik"] is None and rec["nik_int"] is None


def test_nik_parts_and_sex_from_the_nik():
    rec = one(nik=SITI, birth_date="05-06-1985")
    assert (rec["nik_day"], rec["nik_month"], rec["nik_yy"], rec["nik_sex"]) == (5, 6, 85, "P")
    assert rec["nik_birth_date"] == dt.date(1985, 6, 5)
    # no sex column: sex comes from the NIK
    assert rec["sex"] == "P" and rec["sex_from_nik"] is True


def test_nik_from_numeric_cell_ending_in_zero_is_not_trusted():
    rec = one(nik="2171101205800010", nik_numeric=True)
    assert rec["nik"] == "2171101205800010" and rec["nik_int"] is None


def test_nik_birth_date_takes_the_century_of_the_roster():
    rec = one(nik=make_nik("217110", 1, 2, 2003, False, 5), birth_date="01-02-2003")
    assert rec["nik_birth_date"] == dt.date(2003, 2, 1)


# ----------------------------------------------------------------------------------- dates

DATE_FORMS = [
    ("1980-05-12", dt.date(1980, 5, 12)),
    ("12/05/1980", dt.date(1980, 5, 12)),
    ("12-05-1980", dt.date(1980, 5, 12)),
    ("12.05.1980", dt.date(1980, 5, 12)),
    ("1/2/1975", dt.date(1975, 2, 1)),
    ("12 Januari 1980", dt.date(1980, 1, 12)),
    ("12 JANUARI 1980", dt.date(1980, 1, 12)),
    ("12 Jan 1980", dt.date(1980, 1, 12)),
    ("12-Jan-1980", dt.date(1980, 1, 12)),
    ("12 Jan. 1980", dt.date(1980, 1, 12)),
    ("3 Peb 1981", dt.date(1981, 2, 3)),
    ("3 Pebruari 1981", dt.date(1981, 2, 3)),
    ("3 Februari 1981", dt.date(1981, 2, 3)),
    ("3 February 1981", dt.date(1981, 2, 3)),
    ("7 Maret 1990", dt.date(1990, 3, 7)),
    ("12 Mei 1980", dt.date(1980, 5, 12)),
    ("12 May 1980", dt.date(1980, 5, 12)),
    ("17 Agt 1970", dt.date(1970, 8, 17)),
    ("17 Ags 1970", dt.date(1970, 8, 17)),
    ("17 Agu 1970", dt.date(1970, 8, 17)),
    ("17 Agustus 1970", dt.date(1970, 8, 17)),
    ("17 August 1970", dt.date(1970, 8, 17)),
    ("1 Okt 1999", dt.date(1999, 10, 1)),
    ("1 October 1999", dt.date(1999, 10, 1)),
    ("10 Nop 1965", dt.date(1965, 11, 10)),
    ("10 Nopember 1965", dt.date(1965, 11, 10)),
    ("10 Nov 1965", dt.date(1965, 11, 10)),
    ("25 Des 2000", dt.date(2000, 12, 25)),
    ("25 Dec 2000", dt.date(2000, 12, 25)),
    ("29353", dt.date(1980, 5, 12)),  # Excel serial
    ("29353.0", dt.date(1980, 5, 12)),
    ("1980-05-12 00:00:00", dt.date(1980, 5, 12)),  # a date cell exported as text
    ("1980-05-12T00:00:00", dt.date(1980, 5, 12)),
    ("29-02-1980", dt.date(1980, 2, 29)),
]


@pytest.mark.parametrize(("typed", "expected"), DATE_FORMS)
def test_birth_date_forms(typed, expected):
    assert one(birth_date=typed)["birth_date"] == expected


@pytest.mark.parametrize(
    "typed",
    ["12-05-80", "31-02-1980", "29-02-1981", "12/13/1980", "1980", "12 Foo 1980", "kemarin",
     "12-05-1880", "00-05-1980"],
)  # fmt: skip
def test_birth_dates_not_read_are_null_never_guessed(typed):
    rec = one(birth_date=typed)
    assert rec["birth_date"] is None
    assert rec["birth_date_text"] == typed


def test_combined_place_and_date_is_split():
    rows = [
        {"birth_place_date": "Batam, 12-05-1980"},
        {"birth_place_date": "BATAM 12 MEI 1980"},
        {"birth_place_date": "Tanjung Pinang, 1 Jan 1975"},
        {"birth_place_date": "Batam, 12/05/80"},
        {"birth_place_date": "Batam"},
    ]
    records = records_of(rows)
    assert records.get_column("birth_place").to_list() == [
        "Batam", "BATAM", "Tanjung Pinang", "Batam", "Batam"
    ]  # fmt: skip
    assert records.get_column("birth_date").to_list() == [
        dt.date(1980, 5, 12), dt.date(1980, 5, 12), dt.date(1975, 1, 1), None, None
    ]  # fmt: skip
    assert records.get_column("birth_date_text").to_list() == [
        "12-05-1980", "12 MEI 1980", "1 Jan 1975", "12/05/80", None
    ]  # fmt: skip


def test_own_birth_date_column_wins_over_the_combined_one():
    rec = one(birth_place="Batam", birth_date="01-01-1990", birth_place_date="Medan, 2-2-1991")
    assert rec["birth_place"] == "Batam" and rec["birth_date"] == dt.date(1990, 1, 1)


# --------------------------------------------------------------------------- sex, phone, name


@pytest.mark.parametrize(
    ("typed", "sex"),
    [("L", "L"), ("l", "L"), ("Laki-laki", "L"), ("LAKI LAKI", "L"), ("Pria", "L"), ("LK", "L"),
     ("M", "L"), ("Male", "L"), ("P", "P"), ("perempuan", "P"), ("Wanita", "P"), ("PR", "P"),
     ("F", "P"), ("FEMALE", "P"), ("X", None), ("Laki", "L"), ("-", None)],
)  # fmt: skip
def test_sex_variants(typed, sex):
    rec = one(nik=BUDI, sex=typed)
    assert rec["sex"] == sex
    assert rec["sex_from_nik"] is False


def test_empty_sex_cell_takes_the_nik_sex():
    records = records_of([{"nik": SITI, "sex": None}, {"nik": BUDI, "sex": "L"}])
    assert records.get_column("sex").to_list() == ["P", "L"]
    assert records.get_column("sex_from_nik").to_list() == [True, False]


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("081234567890", "081234567890"),
        ("0812-3456-7890", "081234567890"),
        ("0812 3456 7890", "081234567890"),
        ("0812.3456.7890", "081234567890"),
        ("(0812) 3456-7890", "081234567890"),
        ("6281234567890", "081234567890"),
        ("+62 812-3456-7890", "081234567890"),
        ("+62 (0)812 3456 7890", "081234567890"),
        ("0062 812 3456 7890", "081234567890"),
        ("81234567890", "081234567890"),  # a numeric cell lost the 0
        ("0812345678", "0812345678"),  # 10 digits: the shortest
        ("0812345678901", "0812345678901"),  # 13 digits: the longest
        ("081234567", None),
        ("08123456789012", None),
        ("0778 123456", "0778123456"),  # a Batam landline: kept (and reported)
        ("0800 1234 567", None),  # toll-free
        ("0809 1234 567", None),  # premium-rate (libphonenumber: not a mobile)
        ("0841 2345 678", None),  # no operator has 084x
        ("+65 8123 4567", None),  # Singapore
        ("tidak ada", None),
    ],
)
def test_phone_forms(typed, phone):
    record = one(phone=typed)
    assert record["phone"] == phone
    assert record["phone_landline"] == (typed == "0778 123456")


def test_names_are_trimmed_and_keyed_for_identity():
    rows = [
        {"name": "  Budi   Santoso "},
        {"name": "H. Ahmad Ma'ruf, S.Pd"},
        {"name": "Hj.  SITI  aminah"},
        {"name": "Nur-Hayati"},
        {"name": "-"},
        {"name": "Tengku Rizal"},
    ]
    records = records_of(rows)
    assert records.get_column("name").to_list() == [
        "Budi Santoso", "H. Ahmad Ma'ruf, S.Pd", "Hj. SITI aminah", "Nur-Hayati", None,
        "Tengku Rizal",
    ]  # fmt: skip
    # the one name identity (names.identity_key): titles, degrees and spaces dropped, spelling
    # variants unified; Tengku is part of the name (schemas/names.toml)
    assert records.get_column("name_key").to_list() == [
        "BUDISANTOSO", "AHMADMARUF", "STAMINAH", "NURHAYATI", None, "TGKRIZAL"
    ]  # fmt: skip


def test_rt_rw_combined_is_split():
    records = records_of([{"rt_rw": "001/002"}, {"rt_rw": "RT 03 RW 04"}, {"rt": "5", "rw": "6"}])
    assert records.get_column("rt").to_list() == ["001", "03", "5"]
    assert records.get_column("rw").to_list() == ["002", "04", "6"]


# --------------------------------------------------------------------------------- regions


def test_kecamatan_and_kelurahan_written_in_official_form():
    rows = [
        {"kecamatan": "Batuaji", "kelurahan": "KIBING"},
        {"kecamatan": "BATAM KOTA", "kelurahan": "Sei Panas"},
        {"kecamatan": "Sungai Beduk", "kelurahan": "Kel. Tg. Piayu"},
        {"kecamatan": "Kec. Sekupang", "kelurahan": "tiban indah"},
        {"kecamatan": None, "kelurahan": "Kelurahan Bengkong Sadai"},
    ]
    got = records_of(rows).select("kecamatan", "kecamatan_code", "kelurahan", "kelurahan_code")
    assert got.rows() == [
        ("Batu Aji", "21.71.12", "Kibing", "21.71.12.1003"),
        ("Batam Kota", "21.71.10", "Sungai Panas", "21.71.10.1006"),
        ("Sei Beduk", "21.71.07", "Tanjung Piayu", "21.71.07.1004"),
        ("Sekupang", "21.71.03", "Tiban Indah", "21.71.03.1005"),
        (None, None, "Sadai", "21.71.09.1003"),
    ]


def test_unresolved_names_keep_their_typed_form_without_a_code():
    rows = [
        {"kecamatan": "Sekupang", "kelurahan": "Tiban"},  # ambiguous: Indah, Baru or Lama
        {"kecamatan": "Batam  Kota", "kelurahan": "Tiban Indah"},  # in Sekupang
        {"kecamatan": "Batu Ajiii", "kelurahan": "-"},
    ]
    got = records_of(rows).select("kecamatan", "kecamatan_code", "kelurahan", "kelurahan_code")
    assert got.rows() == [
        ("Sekupang", "21.71.03", "Tiban", None),
        ("Batam Kota", "21.71.10", "Tiban Indah", None),
        ("Batu Ajiii", None, None, None),
    ]


def test_names_are_matched_within_the_given_city():
    # Tanjungpinang (21.72) has its own kecamatan; Batam's names do not resolve there.
    rec = records_of([{"kecamatan": "Sekupang"}], city_code="21.72").row(0, named=True)
    assert rec["kecamatan_code"] is None and rec["city_code"] == "21.72"
