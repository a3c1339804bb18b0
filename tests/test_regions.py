"""regions: the Kemendagri code sets (current and former) and matching typed names."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jamsos_cli import regions as reg
from tests.helpers import refused


def test_code_sets_hold_current_and_former_codes():
    r = reg.load()
    regencies = set(r.regency_codes.to_list())
    assert {"2171", "2172", "6571"} <= regencies  # Batam, Tanjungpinang, Tarakan today
    assert {"9101", "9271", "6473"} <= regencies  # Merauke, Kota Sorong, Tarakan before
    assert "2199" not in regencies
    assert {"21", "91", "92", "64", "65"} <= set(r.province_codes.to_list())
    assert "99" not in set(r.province_codes.to_list())
    kecamatan = set(r.kecamatan_codes.to_list())
    assert {"217101", "217112", "910101"} <= kecamatan and "217113" not in kecamatan
    # Tarakan's pre-2012 kecamatan are not in the tables: that regency cannot judge them
    assert "6473" not in set(r.regencies_with_kecamatan.to_list())
    assert r.sets["regency"] == regencies


def test_batam_has_12_kecamatan_and_64_kelurahan():
    city = reg.load().city("21.71")
    assert city.name == "Kota Batam"
    assert city.kecamatan.height == 12
    assert city.kelurahan.height == 64
    assert city.kecamatan_names["21.71.12"] == "Batu Aji"


def test_unknown_city_code_is_a_clear_error():
    with refused(reg.UnknownCityError, "unknown city"):
        reg.load().city("21.99")


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Batu Aji", "BATUAJI"),
        ("batuaji", "BATUAJI"),
        ("Kec. Batu-Aji", "BATUAJI"),
        ("KECAMATAN  batu aji", "BATUAJI"),
        ("Sei Panas", "SUNGAIPANAS"),
        ("Sg. Panas", "SUNGAIPANAS"),
        ("Kel. Tg. Uma", "TANJUNGUMA"),
        ("P. Buluh", "PULAUBULUH"),
        ("Pemping", "PEMPING"),  # the letter P inside a word is no abbreviation
        ("Kel/Desa Kibing", "KIBING"),
        ("Kel", "KEL"),  # a prefix alone stays
        ("", ""),
        (None, ""),
    ],
)
def test_name_key(typed, key):
    names = reg.load().names
    assert names.key(typed) == key


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdeiklnprsugtABKSPGT .,-/'()0123456789", max_size=30))
def test_key_expression_equals_key_function(text):
    names = reg.load().names
    got = pl.DataFrame({"t": [text]}).select(names.key_expr(pl.col("t"))).item()
    assert got == names.key(text)


@pytest.mark.parametrize(
    ("typed", "official"),
    [
        ("Batuaji", "Batu Aji"),  # alias table (and spaces)
        ("BATU AJI", "Batu Aji"),
        ("Sungai Beduk", "Sei Beduk"),  # Sei <-> Sungai: official Sei
        ("Kecamatan Lubukbaja", "Lubuk Baja"),
    ],
)
def test_kecamatan_match(typed, official):
    hit = reg.load().city("21.71").match_kecamatan(typed)
    assert hit is not None and hit[1] == official


@pytest.mark.parametrize(
    ("typed", "kecamatan", "official"),
    [
        ("Sei Panas", "21.71.10", "Sungai Panas"),  # Sei <-> Sungai: official Sungai
        ("SEI LEKOP", "21.71.11", "Sungai Lekop"),
        ("Kelurahan Tiban Indah", "21.71.03", "Tiban Indah"),
        ("Bengkong Sadai", "21.71.09", "Sadai"),  # whole-name alias
        ("Tg Uma", None, "Tanjung Uma"),  # no kecamatan: looked up in the city
    ],
)
def test_kelurahan_match(typed, kecamatan, official):
    hit = reg.load().city("21.71").match_kelurahan(typed, kecamatan)
    assert hit is not None and hit[1] == official


def test_kelurahan_is_looked_up_within_its_kecamatan():
    city = reg.load().city("21.71")
    assert city.match_kelurahan("Tiban Indah", "21.71.10") is None  # it is in Sekupang
    assert [c[1] for c in city.kelurahan_candidates("Tiban Indah")] == ["21.71.03"]


def test_ambiguous_name_never_resolves_and_all_are_suggested():
    city = reg.load().city("21.71")
    assert city.match_kelurahan("Tiban", None) is None
    assert city.match_kelurahan("Tiban", "21.71.03") is None
    assert set(city.suggest("kelurahan", "Tiban")) == {"Tiban Indah", "Tiban Baru", "Tiban Lama"}


def test_suggestions_for_typos():
    city = reg.load().city("21.71")
    assert city.suggest("kecamatan", "Batuajii") == ["Batu Aji"]
    assert city.suggest("kelurahan", "Sungai Panass")[0] == "Sungai Panas"
    assert city.suggest("kelurahan", "xyz") == []


def test_an_alias_to_a_name_that_does_not_exist_is_an_error_when_loaded():
    r = reg.load()
    bad = r.aliases.model_copy(update={"kelurahan": {"21.71": {"Foo": "No Such Kelurahan"}}})
    with pytest.raises(ValueError, match="No Such Kelurahan"):
        reg.Regions(r.table, bad).city("21.71")
