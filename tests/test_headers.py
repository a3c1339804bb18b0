"""Header recognition: the column names senders really type map to the right roster fields."""

from __future__ import annotations

import pytest

from jamsos_cli.headers import field_of, is_header_row, match_headers, normalise_header
from jamsos_cli.schema import FIELDS, aliases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NO. KTP", "no ktp"),
        ("L/P", "l p"),
        ("TEMPAT/TGL LAHIR", "tempat tgl lahir"),
        ("  Tgl. Lahir (dd-mm-yyyy) ", "tgl lahir dd mm yyyy"),
        ("TANGGAL\nLAHIR", "tanggal lahir"),
        ("No_HP", "no hp"),
        ("---", ""),
    ],
)
def test_normalise_header(text: str, expected: str) -> None:
    assert normalise_header(text) == expected


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # exact aliases, any case and punctuation
        ("NIK", "nik"),
        ("No. KTP", "nik"),
        ("NOMOR INDUK KEPENDUDUKAN", "nik"),
        ("nama lengkap", "name"),
        ("JK", "sex"),
        ("L/P", "sex"),
        ("JENIS KELAMIN", "sex"),
        ("TEMPAT/TGL LAHIR", "birth_place_date"),
        ("Tempat, Tanggal Lahir", "birth_place_date"),
        ("RT/RW", "rt_rw"),
        ("KEL.", "kelurahan"),
        # a known name plus a qualifier (SPEC §3)
        ("NAMA NELAYAN", "name"),
        ("NAMA DRIVER", "name"),
        ("NIK KTP", "nik"),
        ("NO HP/WA", "phone"),
        ("TGL LAHIR (DD-MM-YYYY)", "birth_date"),
        ("JENIS KELAMIN (L/P)", "sex"),
        ("NOMOR INDUK KEPENDUDUKAN (NIK)", "nik"),
        ("KEL/DESA", "kelurahan"),
        # fields in their own right are never taken for the name or the NIK
        ("NAMA IBU KANDUNG", "mother_name"),
        ("NAMA IBU KANDUNG PESERTA", "mother_name"),
        ("NAMA AHLI WARIS", "heir_name"),
        ("NIK KEPALA KELUARGA", "family_head_nik"),
        ("NO. KK", "family_head_nik"),
        ("NAMA KAPAL", "boat_name"),
        ("NAMA KELURAHAN", "kelurahan"),
        ("NAMA PANGKALAN", "work_location"),
        ("ALAMAT E-MAIL", "email"),
        # the sender's row number, but only as the whole header
        ("NO", "row_number"),
        ("No.", "row_number"),
    ],
)
def test_field_of_header(header: str, field: str) -> None:
    assert field_of(header) == field


@pytest.mark.parametrize(
    "header",
    [
        "NO REKENING",  # "NO" is exact-only: not the row number
        "NO PESERTA BPJS",
        "NAMA KELOMPOK",  # a fishermen's group, not the participant's name
        "NAMA SUAMI",
        "NIK AHLI WARIS",
        "KETERANGAN",
        "PARAF",
        "",
    ],
)
def test_headers_that_are_no_roster_field(header: str) -> None:
    assert field_of(header) is None


def test_match_headers_maps_fields_and_lists_the_rest() -> None:
    headers = ["NO", "NIK KTP", "NAMA NELAYAN", "NAMA IBU KANDUNG", "", "KET", "NO HP/WA"]
    fields, unknown = match_headers(headers)
    assert fields == {"row_number": 0, "nik": 1, "name": 2, "mother_name": 3, "phone": 6}
    assert unknown == [5]  # the empty header is neither a field nor reported


def test_second_column_for_the_same_field_is_unrecognised() -> None:
    fields, unknown = match_headers(["NAMA", "NIK", "NAMA LENGKAP", "NO. KTP"])
    assert fields == {"name": 0, "nik": 1}
    assert unknown == [2, 3]


def test_mother_name_before_name_does_not_take_the_name() -> None:
    fields, _ = match_headers(["NAMA IBU KANDUNG", "NIK KEPALA KELUARGA", "NIK", "NAMA"])
    assert fields == {"mother_name": 0, "family_head_nik": 1, "nik": 2, "name": 3}


def test_header_row_needs_two_fields_including_nik_or_name() -> None:
    assert is_header_row(match_headers(["NIK", "NAMA"])[0])
    assert is_header_row(match_headers(["NAMA", "ALAMAT"])[0])
    assert not is_header_row(match_headers(["ALAMAT", "KELURAHAN", "KECAMATAN"])[0])
    assert not is_header_row(match_headers(["DAFTAR NAMA KETUA RT KELURAHAN SUNGAI PANAS"])[0])
    assert not is_header_row(match_headers(["NIK"])[0])


def test_every_declared_alias_maps_back_to_its_field() -> None:
    for field, names in aliases().items():
        for alias in names:
            assert field_of(alias) == field, (alias, field)
    assert set(aliases()) == set(FIELDS)


def test_a_paragraph_as_header_is_matched_quickly() -> None:
    assert field_of("NAMA " + "sangat panjang " * 50_000) == "name"
