"""row_checks(): every non-decree row code, each with a row that has it and one that has not."""

from __future__ import annotations

import polars as pl
import pytest

from jamsos_cli import regions as reg
from jamsos_cli.checks import row_checks
from jamsos_cli.codes import message as code_message
from jamsos_cli.codes import spec
from jamsos_cli.findings import CHECK_SCHEMA
from jamsos_cli.normalise import normalise
from tests.rosters import make_nik
from tests.test_normalise import roster_table

BUDI = make_nik("217110", 12, 5, 1980, female=False, serial=1)
SITI = make_nik("217111", 5, 6, 1985, female=True, serial=2)
GOOD = {
    "nik": BUDI,
    "name": "Budi Santoso",
    "birth_date": "12-05-1980",
    "sex": "L",
    "phone": "0812-3456-7890",
    "kecamatan": "Batam Kota",
    "kelurahan": "Sungai Panas",
}


def findings(rows: list[dict], **kw) -> pl.DataFrame:
    regions = reg.load()
    records = normalise([roster_table(rows)], regions=regions, **kw)
    return row_checks(records, regions=regions, **kw)


def codes(rows: list[dict], **kw) -> list[set[str]]:
    """The set of codes of each row, in row order."""
    found = findings(rows, **kw)
    return [set(found.filter(pl.col("rid") == i).get_column("code")) for i in range(len(rows))]


def row(**changes) -> dict:
    return {**GOOD, **changes}


def test_a_clean_row_has_no_findings():
    found = findings([GOOD, row(nik=SITI, name="Siti", birth_date="5 Juni 1985", sex="P")])
    assert found.height == 0
    assert found.schema == pl.Schema(CHECK_SCHEMA)


# Each case: (the row, the code it must give). The good row next to it must not give it.
CASES = [
    (row(nik=None), "NIK_MISSING"),
    (row(nik="-"), "NIK_MISSING"),
    (row(nik="2.17101E+15"), "NIK_SCIENTIFIC"),
    (row(nik="2,17101E+15"), "NIK_SCIENTIFIC"),
    (row(nik="2171101205800010", nik_numeric=True), "NIK_PRECISION_LOST"),
    (row(nik=BUDI, nik_numeric=True), "NIK_NUMERIC_CELL"),
    (row(nik=BUDI[:15]), "NIK_FORMAT"),
    (row(nik=BUDI + "1"), "NIK_FORMAT"),
    (row(nik=BUDI[:15] + "O"), "NIK_FORMAT"),
    (row(nik="99" + BUDI[2:]), "NIK_REGION"),  # province 99 never existed
    (row(nik="2199" + BUDI[4:]), "NIK_REGION"),  # regency 21.99 never existed
    (row(nik="217199" + BUDI[6:]), "NIK_DISTRICT_UNKNOWN"),  # no kecamatan 21.71.99
    (row(nik=BUDI[:6] + "320580" + BUDI[12:]), "NIK_BIRTHDATE"),  # day 32
    (row(nik=BUDI[:6] + "121380" + BUDI[12:]), "NIK_BIRTHDATE"),  # month 13
    (row(nik=BUDI[:6] + "300280" + BUDI[12:]), "NIK_BIRTHDATE"),  # 30 February
    (row(nik=BUDI[:6] + "290281" + BUDI[12:]), "NIK_BIRTHDATE"),  # 29 Feb, yy not leap
    (row(nik=BUDI[:6] + "720580" + BUDI[12:]), "NIK_BIRTHDATE"),  # woman's day 32
    (row(nik=BUDI[:12] + "0000"), "NIK_SERIAL"),
    (row(birth_date="13-05-1980"), "NIK_DOB_MISMATCH"),
    (row(birth_date="12-06-1980"), "NIK_DOB_MISMATCH"),
    (row(birth_date="12-05-1981"), "NIK_DOB_MISMATCH"),
    (row(sex="P"), "NIK_SEX_MISMATCH"),
    (row(name=None), "NAME_MISSING"),
    (row(name="-"), "NAME_MISSING"),
    (row(birth_date=None), "DOB_MISSING"),
    (row(birth_date="12-05-80"), "DOB_FORMAT"),
    (row(birth_date="31-02-1980"), "DOB_FORMAT"),
    (row(sex="X"), "SEX_INVALID"),
    (row(sex="Laki"), None),  # "Laki" (also "Laki2") is a known variant: no finding
    (row(phone="12345"), "PHONE_FORMAT"),
    (row(phone="tidak ada"), "PHONE_FORMAT"),
    (row(phone="-"), None),  # "no phone": not reported
    (row(kecamatan="Batam Kotaa"), "KECAMATAN_UNKNOWN"),
    (row(kelurahan="Sungai Panass"), "KELURAHAN_UNKNOWN"),
    (row(kelurahan="Tiban"), "KELURAHAN_UNKNOWN"),
    (row(kelurahan="Tiban Indah"), "KELURAHAN_MISMATCH"),
]


@pytest.mark.parametrize(("bad", "code"), CASES)
def test_each_code_fires_on_its_row_only(bad, code):
    got_bad, got_good = codes([bad, GOOD])
    assert got_good == set()
    if code is None:
        assert got_bad == set()
    else:
        assert code in got_bad, got_bad


def test_every_code_of_this_step_is_covered_and_registered():
    covered = {code for _, code in CASES if code}
    assert covered == {
        "NIK_MISSING", "NIK_SCIENTIFIC", "NIK_PRECISION_LOST", "NIK_NUMERIC_CELL", "NIK_FORMAT",
        "NIK_REGION", "NIK_DISTRICT_UNKNOWN", "NIK_BIRTHDATE", "NIK_SERIAL", "NIK_DOB_MISMATCH",
        "NIK_SEX_MISMATCH", "NAME_MISSING", "DOB_MISSING", "DOB_FORMAT", "SEX_INVALID",
        "PHONE_FORMAT", "KECAMATAN_UNKNOWN", "KELURAHAN_UNKNOWN", "KELURAHAN_MISMATCH",
    }  # fmt: skip
    for code in covered:
        assert spec(code).scope == "row"


def test_scientific_and_precision_lost_stop_the_other_nik_checks():
    # ...0000 from a numeric cell: the serial was lost by Excel, not typed as 0000
    lost = BUDI[:12] + "0000"
    assert codes([row(nik="2.17101E+15"), row(nik=lost, nik_numeric=True)]) == [
        {"NIK_SCIENTIFIC"},
        {"NIK_PRECISION_LOST"},
    ]


def test_numeric_cell_warning_keeps_checking_the_nik():
    assert codes([row(nik="99" + BUDI[2:15] + "1", nik_numeric=True)]) == [
        {"NIK_NUMERIC_CELL", "NIK_REGION"}
    ]


def test_nik_part_checks_run_only_on_a_well_formed_nik():
    # 15 digits: only the format is reported, no region / birth-date / cross-check noise
    assert codes([row(nik="9999993213990000"[:15], birth_date="01-01-1990", sex="P")]) == [
        {"NIK_FORMAT"}
    ]


def test_former_codes_are_valid_regions():
    merauke_old = make_nik("910101", 1, 1, 1990, False, 7)  # Merauke before 2022: 91.01.01
    tarakan_old = make_nik("647301", 1, 1, 1990, False, 7)  # Tarakan before 2012 (no kecamatan)
    got = codes([row(nik=merauke_old, birth_date="01-01-1990"),
                 row(nik=tarakan_old, birth_date="01-01-1990")])  # fmt: skip
    assert got == [set(), set()]


def test_women_day_plus_40_and_leap_day():
    leap_woman = make_nik("217110", 29, 2, 2000, female=True, serial=9)
    got = codes(
        [
            row(nik=SITI, name="Siti", birth_date="05-06-1985", sex="Perempuan"),
            row(nik=leap_woman, name="Ani", birth_date="29-02-2000", sex="P"),
            row(nik=BUDI[:6] + "290200" + BUDI[12:], birth_date="29-02-1900", sex="L"),
        ]
    )
    # 29-02-1900 is not a real date (1900 is not a leap year), but the NIK's 290200 is (2000)
    assert got == [set(), set(), {"DOB_FORMAT"}]


def test_sex_from_the_nik_is_never_a_mismatch():
    got = codes([{k: v for k, v in row(nik=SITI, birth_date="05-06-1985").items() if k != "sex"}])
    assert got == [set()]


def test_dob_mismatch_compares_day_month_and_two_digit_year():
    found = findings([row(birth_date="12-05-2080"), row(birth_date="12/05/1980")])
    # 2080 vs NIK 80: the century is the roster's, so this is no mismatch
    assert found.height == 0
    found = findings([row(birth_date="11 Mei 1980")])
    assert found.rows() == [(0, "NIK_DOB_MISMATCH", "birth_date", "11 Mei 1980", "12-05-1980")]


def test_details_a_clerk_can_act_on():
    found = findings(
        [
            row(nik=BUDI[:15]),
            row(nik="2199" + BUDI[4:]),
            row(nik="217199" + BUDI[6:]),
            row(nik=BUDI[:6] + "320580" + BUDI[12:]),
            row(sex="P"),
            row(birth_date=None),
            row(birth_date="12-05-80"),
            row(kecamatan="Batuajii"),
            row(kecamatan="Sekupang", kelurahan="Tiban"),
            row(kelurahan="Tiban Lama"),
        ]
    )
    got = {(r["rid"], r["code"]): r["detail"] for r in found.iter_rows(named=True)}
    assert got[(0, "NIK_FORMAT")] == "15"
    assert got[(1, "NIK_REGION")] == "21.99"
    assert got[(2, "NIK_DISTRICT_UNKNOWN")] == "21.71.99"
    assert got[(3, "NIK_BIRTHDATE")] == "320580"
    assert got[(4, "NIK_SEX_MISMATCH")] == "L"
    assert got[(5, "DOB_MISSING")] == " (NIK: 12-05-80)"  # a hint, never filled in
    assert got[(6, "DOB_FORMAT")] == " (NIK: 12-05-80)"
    assert got[(7, "KECAMATAN_UNKNOWN")] == "Kota Batam (Batu Aji?)"
    assert got[(8, "KELURAHAN_UNKNOWN")] == (
        "Kec. Sekupang, Kota Batam (Tiban Indah? Tiban Baru? Tiban Lama?)"
    )
    assert got[(9, "KELURAHAN_MISMATCH")] == "Sekupang"
    message = code_message("KELURAHAN_MISMATCH", "en", value="Tiban Lama", detail="Sekupang")
    assert message == (
        "Kelurahan Tiban Lama is not in the kecamatan given; it is in Kecamatan Sekupang."
    )


def test_findings_carry_the_raw_value_and_the_field():
    found = findings([row(nik=f"'{BUDI[:15]}", phone="0812", sex="?", name=None)])
    got = {r["code"]: (r["field"], r["value"]) for r in found.iter_rows(named=True)}
    assert got == {
        "NIK_FORMAT": ("nik", f"'{BUDI[:15]}"),
        "PHONE_FORMAT": ("phone", "0812"),
        "SEX_INVALID": ("sex", "?"),
        "NAME_MISSING": ("name", None),
    }


def test_birth_date_codes_name_the_combined_column_when_the_date_came_from_it():
    base = {k: v for k, v in GOOD.items() if k != "birth_date"}
    found = findings([{**base, "birth_place_date": "Batam, 12-05-80"},
                      {**base, "birth_place_date": "Batam"},
                      {**base, "birth_place_date": "Batam, 13-05-1980"}])  # fmt: skip
    assert found.select("code", "field", "value").rows() == [
        ("DOB_FORMAT", "birth_place_date", "Batam, 12-05-80"),
        ("DOB_MISSING", "birth_place_date", "Batam"),
        ("NIK_DOB_MISMATCH", "birth_place_date", "Batam, 13-05-1980"),
    ]


def test_empty_region_cells_are_left_to_the_decree_step():
    assert codes([row(kecamatan=None, kelurahan=None), row(kecamatan="-", kelurahan="")]) == [
        set(),
        set(),
    ]


def test_kelurahan_with_an_unknown_kecamatan_is_looked_up_in_the_whole_city():
    assert codes([row(kecamatan="Batam Kot", kelurahan="Sei Panas")]) == [{"KECAMATAN_UNKNOWN"}]


def test_a_region_detail_is_computed_once_per_distinct_value(monkeypatch):
    calls: list[str | None] = []
    city = reg.load().city("21.71")
    original = type(city).suggest

    def counting(self, level, text, limit=4):
        calls.append(text)
        return original(self, level, text, limit)

    monkeypatch.setattr(type(city), "suggest", counting)
    findings([row(kecamatan="Batuajii", kelurahan="Kibingg")] * 50)
    assert sorted(calls) == ["Batuajii", "Kibingg"]


def test_sex_column_present_override():
    regions = reg.load()
    records = normalise([roster_table([row(sex="P")])], regions=regions)
    default = row_checks(records, regions=regions)
    assert default.get_column("code").to_list() == ["NIK_SEX_MISMATCH"]
    # the caller says this file had no sex column of its own: nothing to cross-check
    told = row_checks(records, regions=regions, sex_column_present=pl.Series([False]))
    assert told.height == 0
