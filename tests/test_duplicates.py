"""duplicate_checks(): the same NIK twice in a run — the same person, or different people."""

from __future__ import annotations

import polars as pl

from jamsos_cli import regions as reg
from jamsos_cli.duplicates import duplicate_checks
from jamsos_cli.findings import CHECK_SCHEMA
from jamsos_cli.normalise import normalise
from tests.rosters import make_nik
from tests.test_normalise import roster_table

BUDI = make_nik("217110", 12, 5, 1980, female=False, serial=1)
SITI = make_nik("217111", 5, 6, 1985, female=True, serial=2)
ANDI = make_nik("217112", 1, 1, 1990, female=False, serial=3)
NONE = pl.Series([], dtype=pl.Int64)


def person(nik: str, name: str, born: str) -> dict:
    return {"nik": nik, "name": name, "birth_date": born}


def run(*tables) -> pl.DataFrame:
    return normalise(list(tables), regions=reg.load())


def test_same_person_in_two_files_keeps_the_first_and_names_it():
    a = roster_table([person(BUDI, "Budi Santoso", "12-05-1980"),
                      person(SITI, "Siti", "05-06-1985")], file="kel_a.csv")  # fmt: skip
    b = roster_table(
        [person(ANDI, "Andi", "01-01-1990"), person(BUDI, "BUDI  SANTOSO", "1980-05-12")],
        file="dishub.xlsx",
        sheet="Ojol",
        first_row=4,
    )
    found = duplicate_checks(run(a, b), NONE)
    assert found.schema == pl.Schema(CHECK_SCHEMA)
    assert found.rows() == [(3, "NIK_DUPLICATE", "nik", BUDI, "kel_a.csv:2")]


def test_later_copies_all_name_the_first_and_the_sheet_is_given():
    a = roster_table([person(BUDI, "Budi", "12-05-1980")] * 3, file="b.xlsx", sheet="Data")
    found = duplicate_checks(run(a), NONE)
    assert found.select("rid", "code", "detail").rows() == [
        (1, "NIK_DUPLICATE", "b.xlsx [Data]:2"),
        (2, "NIK_DUPLICATE", "b.xlsx [Data]:2"),
    ]


def test_identity_ignores_case_spacing_punctuation_and_titles():
    rows = [
        person(BUDI, "H. Nur Hayati", "12-05-1980"),
        person(BUDI, "nurhayati", "12 Mei 1980"),
        person(BUDI, "NUR-HAYATI, S.Pd", "12/05/1980"),
    ]
    found = duplicate_checks(run(roster_table(rows)), NONE)
    assert found.get_column("code").to_list() == ["NIK_DUPLICATE", "NIK_DUPLICATE"]


def test_different_people_on_one_nik_are_all_conflicts():
    a = roster_table([person(BUDI, "Budi", "12-05-1980"), person(SITI, "Siti", "05-06-1985")],
                     file="a.csv")  # fmt: skip
    b = roster_table([person(BUDI, "Bambang", "12-05-1980"), person(BUDI, "Budi", "12-05-1981")],
                     file="b.csv")  # fmt: skip
    found = duplicate_checks(run(a, b), NONE)
    assert found.rows() == [
        (0, "NIK_CONFLICT", "nik", BUDI, "b.csv:2, b.csv:3"),
        (2, "NIK_CONFLICT", "nik", BUDI, "a.csv:2, b.csv:3"),
        (3, "NIK_CONFLICT", "nik", BUDI, "a.csv:2, b.csv:2"),
    ]


def test_rejected_rows_do_not_count():
    rows = [
        person(BUDI, "Budi", "12-05-1980"),  # rejected by an earlier step
        person(BUDI, "Budi", "12-05-1980"),
        person(BUDI, "Budi", "12-05-1980"),
        person(SITI, "Bukan Siti", "05-06-1985"),  # rejected: no conflict with the next
        person(SITI, "Siti", "05-06-1985"),
    ]
    found = duplicate_checks(run(roster_table(rows)), pl.Series([0, 3]))
    assert found.select("rid", "code", "detail").rows() == [(2, "NIK_DUPLICATE", "roster.csv:3")]


def test_the_same_nik_written_differently_is_still_the_same_nik():
    rows = [person(BUDI, "Budi", "12-05-1980"), person(f"'{BUDI[:8]} {BUDI[8:]}", "Budi",
                                                       "12-05-1980")]  # fmt: skip
    found = duplicate_checks(run(roster_table(rows)), NONE)
    assert found.rows() == [(1, "NIK_DUPLICATE", "nik", f"'{BUDI[:8]} {BUDI[8:]}",
                             "roster.csv:2")]  # fmt: skip


def test_unique_niks_and_bad_niks_give_nothing():
    rows = [
        person(BUDI, "Budi", "12-05-1980"),
        person(SITI, "Siti", "05-06-1985"),
        person(BUDI[:15], "X", "01-01-1990"),
        person(BUDI[:15], "Y", "01-01-1991"),
    ]
    assert duplicate_checks(run(roster_table(rows)), NONE).height == 0
    assert duplicate_checks(run(), NONE).height == 0


def test_conflict_detail_is_capped():
    rows = [person(BUDI, f"Orang {chr(65 + i)}", "12-05-1980") for i in range(14)]
    found = duplicate_checks(run(roster_table(rows)), NONE)
    assert found.height == 14
    first = found.row(0, named=True)["detail"]
    assert first.endswith("roster.csv:12 (+3)")
    assert first.count("roster.csv:") == 10
