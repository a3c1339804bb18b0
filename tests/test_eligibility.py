"""Decree eligibility: each code on a records frame, then on real roster files end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.decrees import all_decrees, load_decree
from jamsos_cli.eligibility import (
    NO_OTHER_DECREE,
    alias_table,
    eligibility_checks,
    match_roles,
    quota_checks,
    role_key_expr,
)
from tests.helpers import DECREE_FIGURES
from tests.rosters import make_nik, write_csv, write_xlsx

AS_OF = date(2025, 6, 1)
RT = "perwako-batam-49-2025"
TRANSPORT = "perwako-batam-30-2025"
FISHERS = "perwako-batam-3-2023"
BATAM_NIK = make_nik("217109", 12, 5, 1980, female=False, serial=1)
PADANG_NIK = make_nik("137101", 12, 5, 1980, female=False, serial=2)

TEXT = [
    "nik",
    "name",
    "role",
    "raw_role",
    "occupation",
    "raw_occupation",
    "kelurahan",
    "kecamatan",
    "kusuka_number",
    "raw_birth_date",
    "raw_birth_place_date",
]


def records(*rows: dict) -> pl.DataFrame:
    """A records frame (tables.RECORD_SCHEMA) of people who pass unless a test says otherwise."""
    base = {
        "nik": BATAM_NIK,
        "name": "Budi Santoso",
        "birth_date": date(1980, 5, 12),
        "raw_birth_date": "12-05-1980",
        "raw_birth_place_date": None,
        "role": "Ketua RT",
        "occupation": None,
        "raw_occupation": None,
        "kelurahan": "Sadai",
        "kecamatan": "Bengkong",
        "kusuka_number": None,
    }
    data = []
    for i, row in enumerate(rows, start=1):
        full = {
            "_rid": i,
            "_src": 0,
            "_file": "r.csv",
            "_sheet": None,
            "_row": i + 1,
            **base,
            **row,
        }
        full.setdefault("raw_role", full["role"])
        if "occupation" in row and "raw_occupation" not in row:
            full["raw_occupation"] = row["occupation"]
        data.append(full)
    schema = {c: pl.Utf8 for c in TEXT}
    schema.update(
        {
            "_rid": pl.Int64,
            "_src": pl.Int32,
            "_file": pl.Utf8,
            "_sheet": pl.Utf8,
            "_row": pl.Int64,
            "birth_date": pl.Date,
        }
    )
    return pl.DataFrame(data, schema=schema)


def check(decree_id: str, *rows: dict, as_of: date = AS_OF) -> pl.DataFrame:
    return eligibility_checks(records(*rows), load_decree(decree_id), as_of=as_of)


def codes(found: pl.DataFrame) -> list[tuple[int, str]]:
    return [(r, c) for r, c in found.select("rid", "code").iter_rows()]


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("spelling", "decree_id", "role"),
    [
        ("Ketua RT", RT, "Ketua RT"),
        ("Ketua Rt", RT, "Ketua RT"),
        ("KETUA RT 003", RT, "Ketua RT"),
        ("ketua r.t. 05", RT, "Ketua RT"),
        ("Ketua RT.003/RW.005", RT, "Ketua RT"),
        ("KETUA RUKUN TETANGGA 01", RT, "Ketua RT"),
        ("RT", RT, "Ketua RT"),
        ("Ketua RW 02", RT, "Ketua RW"),
        ("Kader Posyandu Melati", RT, "Kader Posyandu"),
        ("KADER POSYANDU", RT, "Kader Posyandu"),
        ("kader siaga kel.", RT, "Kader Siaga Kelurahan"),
        ("Ketua LPM Kel. Sadai", RT, "Ketua LPM"),
        ("ojol", TRANSPORT, "Ojek online"),
        ("Ojek Online", TRANSPORT, "Ojek online"),
        ("Driver Ojol", TRANSPORT, "Ojek online"),
        ("GOJEK", TRANSPORT, "Ojek online"),
        ("Grab", TRANSPORT, "Ojek online"),
        ("Grab Bike", TRANSPORT, "Ojek online"),
        ("Tekong boat pancung Sekupang", TRANSPORT, "Boat pancung"),
        ("BECAK", TRANSPORT, "Becak kayuh"),
        ("Becak kayuh", TRANSPORT, "Becak kayuh"),
        ("NELAYAN", FISHERS, "Nelayan kecil"),
        ("nelayan tradisional", FISHERS, "Nelayan kecil"),
        ("Nelayan Pancing", FISHERS, "Nelayan kecil"),
        # not covered
        ("Grab Car", TRANSPORT, None),  # a car, not an ojek
        ("Becak motor", TRANSPORT, None),
        ("Ojek", TRANSPORT, None),  # ojek pangkalan is not ojek online
        ("Ketua", RT, None),
        ("RTX", RT, None),
        ("Sekretaris RT", RT, None),
        ("Pembudidaya ikan", FISHERS, None),
    ],
)
def test_role_spellings(spelling: str, decree_id: str, role: str | None) -> None:
    decree = load_decree(decree_id)
    keys = pl.select(role_key_expr(pl.lit(spelling)).alias("_key")).lazy()
    found = match_roles(keys, alias_table([decree])).collect()
    assert found.get_column("role").to_list() == ([role] if role else [])
    flagged = codes(check(decree_id, {"role": spelling}))
    assert ((1, "ROLE_NOT_ELIGIBLE") in flagged) is (role is None)


def test_role_not_eligible_names_the_decree_that_covers_it() -> None:
    found = check(RT, {"role": "Ojol"}, {"role": "Nelayan"}, {"role": "Guru"})
    assert found.filter(pl.col("code") == "ROLE_NOT_ELIGIBLE").select(
        "rid", "field", "value", "detail"
    ).rows() == [
        (1, "role", "Ojol", TRANSPORT),
        (2, "role", "Nelayan", FISHERS),
        (3, "role", "Guru", NO_OTHER_DECREE),
    ]


def test_role_from_the_occupation_column_is_reported_on_that_column() -> None:
    # a table with no role column: the normaliser uses the occupation as the role
    found = check(
        TRANSPORT,
        {"role": "Wiraswasta", "raw_role": None, "occupation": "Wiraswasta"},
        {"role": "Ojek Online", "raw_role": None, "occupation": "Ojek Online"},
    )
    assert found.select("rid", "code", "field", "value").rows() == [
        (1, "ROLE_NOT_ELIGIBLE", "occupation", "Wiraswasta")
    ]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_alias_matches_in_any_case_with_numbers_and_dots(data) -> None:
    """The rule files and the vectorised matcher agree for every shipped spelling."""
    decree = data.draw(st.sampled_from(all_decrees()))
    role = data.draw(st.sampled_from(decree.roles))
    spelling = data.draw(st.sampled_from([role.name, *role.aliases, *role.exact]))
    cased = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in spelling)
    suffix = data.draw(st.sampled_from(["", " 003", " 12.", " - ", " (1)"]))
    prefix = data.draw(st.sampled_from(["", " ", "1. "]))
    cell = prefix + cased + suffix
    found = codes(check(decree.id, {"role": cell}))
    assert (1, "ROLE_NOT_ELIGIBLE") not in found, cell


# --------------------------------------------------------------------------- age


@pytest.mark.parametrize(
    ("born", "age"),
    [
        (date(2007, 6, 1), None),  # 18 today
        (date(2007, 6, 2), 17),  # 18 tomorrow
        (date(1960, 6, 2), None),  # still 64
        (date(1960, 6, 1), 65),  # 65 today
        (date(1940, 1, 1), 85),
    ],
)
def test_age_at_the_reference_date(born: date, age: int | None) -> None:
    found = check(RT, {"birth_date": born, "raw_birth_date": born.strftime("%d-%m-%Y")})
    flagged = found.filter(pl.col("code") == "AGE_OUT_OF_RANGE")
    if age is None:
        assert flagged.height == 0
    else:
        assert flagged.select("field", "value", "detail").rows() == [
            ("birth_date", born.strftime("%d-%m-%Y"), f"{age} (18–64)")
        ]


def test_leap_day_birthday() -> None:
    born = {"birth_date": date(2008, 2, 29), "raw_birth_date": "29-02-2008"}
    assert codes(check(RT, born, as_of=date(2026, 2, 28))) == [(1, "AGE_OUT_OF_RANGE")]
    assert codes(check(RT, born, as_of=date(2026, 3, 1))) == []


def test_age_from_a_combined_birth_cell_points_at_that_column() -> None:
    found = check(
        RT,
        {
            "birth_date": date(2010, 1, 1),
            "raw_birth_date": None,
            "raw_birth_place_date": "Batam, 01-01-2010",
        },
    )
    assert found.select("code", "field", "value").rows() == [
        ("AGE_OUT_OF_RANGE", "birth_place_date", "Batam, 01-01-2010")
    ]


def test_missing_birth_date_is_not_an_age_finding() -> None:
    # DOB_MISSING / DOB_FORMAT come from the row checks
    assert codes(check(RT, {"birth_date": None, "raw_birth_date": "31-02-1980"})) == []


# --------------------------------------------------------------------------- exclusions


@pytest.mark.parametrize(
    "occupation",
    [
        "PNS",
        "Guru PNS",
        "ASN",
        "PPPK",
        "P3K Paruh Waktu",
        "Pegawai Negeri Sipil",
        "Anggota TNI-AD",
        "TNI",
        "POLRI",
        "Polisi",
        "Anggota Polri",
        "CPNS",
    ],
)
def test_excluded_occupations(occupation: str) -> None:
    found = check(RT, {"occupation": occupation})
    assert found.select("code", "field", "value").rows() == [
        ("OCCUPATION_EXCLUDED", "occupation", occupation)
    ]


@pytest.mark.parametrize(
    "occupation",
    [
        "Wiraswasta",
        "Non ASN",
        "Non-PNS",
        "Tenaga Honorer",
        "Pensiunan PNS",
        "Purnawirawan TNI",
        "Ibu Rumah Tangga",
        "Mantan Polisi",
        "Karyawan Swasta",
        "Tani",
    ],
)
def test_not_excluded(occupation: str) -> None:
    assert codes(check(RT, {"occupation": occupation})) == []


def test_excluded_role_is_one_finding_with_the_group() -> None:
    found = check(RT, {"role": "PNS"}, {"role": "Ketua RT", "occupation": "Pegawai Negeri Sipil"})
    assert found.select("rid", "code", "field", "detail").rows() == [
        (1, "OCCUPATION_EXCLUDED", "role", "PNS/ASN/PPPK"),
        (2, "OCCUPATION_EXCLUDED", "occupation", "PNS/ASN/PPPK"),
    ]


# --------------------------------------------------------------------------- required fields


def test_decree_fields_missing() -> None:
    found = check(
        FISHERS,
        {"role": "Nelayan", "kusuka_number": "3171000012345"},
        {"role": "Nelayan", "kusuka_number": None},
        {"role": "Nelayan", "kusuka_number": "   "},
        {"role": None, "kelurahan": None, "kusuka_number": "3171000012346"},
    )
    assert found.select("rid", "code", "field", "detail").rows() == [
        (2, "DECREE_FIELD_MISSING", "kusuka_number", FISHERS),
        (3, "DECREE_FIELD_MISSING", "kusuka_number", FISHERS),
        (4, "DECREE_FIELD_MISSING", "role", FISHERS),
        (4, "DECREE_FIELD_MISSING", "kelurahan", FISHERS),
    ]


def test_kusuka_is_only_required_by_the_fishermen_decree() -> None:
    assert codes(check(RT, {"kusuka_number": None})) == []


# --------------------------------------------------------------------------- NIK outside city


def test_nik_outside_city_is_a_warning_naming_the_city() -> None:
    found = check(RT, {"nik": PADANG_NIK}, {"nik": BATAM_NIK}, {"nik": "2171"}, {"nik": "1371.0"})
    assert found.select("rid", "code", "field", "value", "detail").rows() == [
        (1, "NIK_OUTSIDE_CITY", "nik", PADANG_NIK, "Kota Batam")
    ]


def test_nik_region_never_judges_the_domicile() -> None:
    # a NIK first issued in Kecamatan Batam Kota with an address in Bengkong is fine
    nik = make_nik("217110", 12, 5, 1980, female=False, serial=9)
    assert codes(check(RT, {"nik": nik, "kecamatan": "Bengkong", "kelurahan": "Sadai"})) == []


# --------------------------------------------------------------------------- quota


def test_quota_in_input_order_after_the_ledger() -> None:
    recs = records(*({} for _ in range(6)))
    decree = load_decree(RT, quota=4)
    eligible = pl.Series([6, 2, 1, 3, 5])  # rid 4 was rejected by another check
    found = quota_checks(recs, decree, eligible)
    assert found.select("rid", "code", "detail").rows() == [(6, "QUOTA_EXCEEDED", "4")]
    found = quota_checks(recs, decree, eligible, already_covered=2)
    assert found.get_column("rid").to_list() == [3, 5, 6]
    found = quota_checks(recs, decree, eligible, already_covered=10)
    assert found.get_column("rid").to_list() == [1, 2, 3, 5, 6]


def test_no_quota_means_no_finding() -> None:
    recs = records({}, {})
    assert quota_checks(recs, load_decree(TRANSPORT), pl.Series([1, 2])).height == 0
    assert quota_checks(recs, load_decree(RT, quota=0), pl.Series([1, 2])).height == 0


def test_a_clean_row_has_no_findings() -> None:
    assert check(RT, {}).height == 0


# --------------------------------------------------------------------------- end to end

runner = CliRunner()

HEADERS = [
    "NO",
    "NIK",
    "NAMA LENGKAP",
    "TGL LAHIR",
    "JK",
    "ALAMAT",
    "KELURAHAN",
    "KECAMATAN",
    "JABATAN",
    "PEKERJAAN",
]


def person(
    no: int,
    name: str,
    born: date,
    female: bool,
    role: str,
    *,
    occupation: str = "",
    kelurahan: str = "Sadai",
    kec6: str = "217109",
) -> list[str]:
    nik = make_nik(kec6, born.day, born.month, born.year, female=female, serial=no)
    return [
        str(no),
        nik,
        name,
        born.strftime("%d-%m-%Y"),
        "P" if female else "L",
        f"Jl. Mawar {no}",
        kelurahan,
        "Bengkong",
        role,
        occupation,
    ]


RT_ROWS = [
    person(1, "Budi Santoso", date(1980, 5, 12), False, "KETUA RT 003"),
    person(2, "Siti Aminah", date(1985, 6, 5), True, "Ojol"),
    person(3, "Andi Wijaya", date(2010, 1, 1), False, "Ketua RW 02"),
    person(4, "Réné Saputra", date(1975, 3, 3), False, "Kader Posyandu", occupation="PNS"),
    person(5, "Dewi Lestari", date(1990, 8, 17), True, "Ketua RW", kelurahan=""),
    person(6, "Agus Salim", date(1970, 2, 2), False, "Ketua LPM", kec6="137101"),
]


def validate(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["validate", *args, "--as-of", "2025-06-01", "--format", "json"])
    assert result.stdout.strip().startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def issue(doc: dict, code: str) -> dict:
    (found,) = [i for i in doc["issues"] if i["code"] == code]
    return found


def test_validate_csv_shows_each_decree_code(tmp_path: Path) -> None:
    roster = write_csv(
        tmp_path / "ketua_rt.csv",
        HEADERS,
        RT_ROWS,
        title_rows=["DAFTAR PENGGERAK MASYARAKAT KELURAHAN SADAI;;;;;;;;;"],
    )
    code, doc = validate(str(roster), "--decree", RT)
    assert code == 1
    assert doc["summary"]["as_of"] == "2025-06-01"
    assert (doc["summary"]["accepted"], doc["summary"]["rejected"]) == (2, 4)
    # header on line 2 (one title row): person n is on line n + 2
    role = issue(doc, "ROLE_NOT_ELIGIBLE")
    assert (role["row"], role["column"], role["value"]) == (4, "JABATAN", "Ojol")
    assert TRANSPORT in role["message"]
    age = issue(doc, "AGE_OUT_OF_RANGE")
    assert (age["row"], age["column"]) == (5, "TGL LAHIR")
    assert "15 (18–64)" in age["message"]
    excluded = issue(doc, "OCCUPATION_EXCLUDED")
    assert (excluded["row"], excluded["column"], excluded["value"]) == (6, "PEKERJAAN", "PNS")
    missing = issue(doc, "DECREE_FIELD_MISSING")
    assert (missing["row"], missing["column"]) == (7, "KELURAHAN")
    assert "Kolom KELURAHAN wajib diisi" in missing["message"]
    outside = issue(doc, "NIK_OUTSIDE_CITY")
    assert (outside["row"], outside["severity"]) == (8, "warning")
    assert "Kota Batam" in outside["message"]


def test_validate_xlsx_fishermen_need_a_kusuka_number(tmp_path: Path) -> None:
    headers = [
        "NO",
        "NIK",
        "NAMA NELAYAN",
        "TANGGAL LAHIR",
        "JK",
        "KELURAHAN",
        "KECAMATAN",
        "KATEGORI",
        "NO KUSUKA",
    ]
    rows = [
        [
            "1",
            make_nik("217109", 3, 4, 1977, False, 1),
            "Ahmad",
            "03-04-1977",
            "L",
            "Sadai",
            "Bengkong",
            "NELAYAN",
            "2171090001",
        ],
        [
            "2",
            make_nik("217109", 4, 4, 1978, False, 2),
            "Basri",
            "04-04-1978",
            "L",
            "Sadai",
            "Bengkong",
            "nelayan tradisional",
            "",
        ],
        [
            "3",
            make_nik("217109", 5, 4, 1979, False, 3),
            "Candra",
            "05-04-1979",
            "L",
            "Sadai",
            "Bengkong",
            "Pembudidaya ikan",
            "2171090003",
        ],
    ]
    roster = write_xlsx(
        tmp_path / "nelayan.xlsx", headers, rows, title_rows=["DATA NELAYAN KECIL KOTA BATAM"]
    )
    code, doc = validate(str(roster), "--decree", FISHERS)
    assert code == 1
    assert doc["summary"]["by_code"] == {"DECREE_FIELD_MISSING": 1, "ROLE_NOT_ELIGIBLE": 1}
    missing = issue(doc, "DECREE_FIELD_MISSING")
    assert (missing["row"], missing["column"]) == (5, "NO KUSUKA")
    role = issue(doc, "ROLE_NOT_ELIGIBLE")
    assert (role["row"], role["column"], role["value"]) == (6, "KATEGORI", "Pembudidaya ikan")


def test_role_option_for_a_roster_without_role_column(tmp_path: Path) -> None:
    headers = HEADERS[:-2]
    rows = [r[:-2] for r in RT_ROWS[:1]]
    roster = write_csv(tmp_path / "daftar_ketua_rt.csv", headers, rows)
    code, doc = validate(str(roster), "--decree", RT, "--role", "Ketua RT")
    assert code == 0, doc["issues"]
    code, doc = validate(str(roster), "--decree", TRANSPORT, "--role", "Ketua RT")
    assert code == 1
    role = issue(doc, "ROLE_NOT_ELIGIBLE")
    assert RT in role["message"]
    code, doc = validate(str(roster), "--decree", RT)  # no role column, no --role
    assert code == 2
    assert "JABATAN" in issue(doc, "HEADER_MISSING_COLUMN")["message"]


def test_occupation_column_stands_in_for_the_role(tmp_path: Path) -> None:
    headers = HEADERS[:-2] + ["PEKERJAAN"]
    rows = [RT_ROWS[0][:-2] + ["Ojek Online"], RT_ROWS[1][:-2] + ["Wiraswasta"]]
    roster = write_csv(tmp_path / "dishub.csv", headers, rows)
    code, doc = validate(str(roster), "--decree", TRANSPORT)
    assert code == 1
    role = issue(doc, "ROLE_NOT_ELIGIBLE")
    assert (role["row"], role["column"], role["value"]) == (3, "PEKERJAAN", "Wiraswasta")


def test_user_decree_for_another_city(tmp_path: Path) -> None:
    folder = tmp_path / "aturan"
    folder.mkdir()
    (folder / "tpi.toml").write_text(
        'id = "perwako-tanjungpinang-12-2025"\ntitle = "Perwako Tanjungpinang No. 12/2025"\n'
        f'city_code = "21.72"\n{DECREE_FIGURES}\n[[roles]]\nname = "Marbot masjid"\n'
        'aliases = ["Marbot"]\n',
        encoding="utf-8",
    )
    headers = ["NIK", "NAMA", "TGL LAHIR", "JK", "KELURAHAN", "KECAMATAN", "JABATAN"]
    rows = [
        [
            make_nik("217201", 1, 2, 1970, False, 1),
            "Hasan",
            "01-02-1970",
            "L",
            "Kemboja",
            "Tanjung Pinang Barat",
            "Marbot Masjid Raya",
        ],
        [
            make_nik("217201", 2, 2, 1971, False, 2),
            "Umar",
            "02-02-1971",
            "L",
            "Sadai",
            "Bengkong",
            "Marbot",
        ],  # a Batam address
        [
            make_nik("217109", 3, 2, 1972, False, 3),
            "Ali",
            "03-02-1972",
            "L",
            "Kemboja",
            "Tanjung Pinang Barat",
            "Ketua RT",
        ],
    ]
    roster = write_csv(tmp_path / "marbot.csv", headers, rows)
    code, doc = validate(
        str(roster), "--decree", "perwako-tanjungpinang-12-2025", "--decrees", str(folder)
    )
    assert code == 1
    by_row: dict[int, set[str]] = {}
    for i in doc["issues"]:
        by_row.setdefault(i["row"], set()).add(i["code"])
    assert 2 not in by_row  # the Tanjungpinang marbot passes
    assert "KECAMATAN_UNKNOWN" in by_row[3]  # domicile is judged in the decree's city
    assert {"ROLE_NOT_ELIGIBLE", "NIK_OUTSIDE_CITY"} <= by_row[4]
    role = issue(doc, "ROLE_NOT_ELIGIBLE")
    assert RT in role["message"]  # the Batam decree covers ketua RT


def test_a_user_decree_chooses_its_exclusions(tmp_path: Path) -> None:
    (tmp_path / "kel.toml").write_text(
        'id = "kel-test"\ntitle = "Uji"\ncity_code = "21.71"\nexclusions = ["asn"]\n'
        f"{DECREE_FIGURES}\n"
        '[[extra_exclusions]]\nid = "perangkat"\nlabel = "Perangkat kelurahan"\n'
        'terms = ["Lurah", "Sekretaris Lurah"]\n\n[[roles]]\nname = "Ketua RT"\n',
        encoding="utf-8",
    )
    decree = load_decree("kel-test", tmp_path)
    recs = records({"occupation": "Lurah"}, {"occupation": "Anggota TNI"}, {"occupation": "PNS"})
    found = eligibility_checks(recs, decree, as_of=AS_OF)
    assert found.select("rid", "code", "detail").rows() == [
        (1, "OCCUPATION_EXCLUDED", "Perangkat kelurahan"),
        (3, "OCCUPATION_EXCLUDED", "PNS/ASN/PPPK"),
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ketuaRTrw. -0123/()ÉéßḰ_'\"\t")), max_size=30))
def test_rule_file_role_key_agrees_with_the_vectorised_one(text: str) -> None:
    """Rule files are keyed in plain Python, roster cells in Polars: they must agree."""
    from jamsos_cli.decrees import role_key

    assert role_key(text) == pl.select(role_key_expr(pl.lit(text, pl.Utf8))).item()
