"""The one name identity (names.py, schemas/names.toml): one title list, used alike by the
exact-NIK check and the near-duplicate search."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from jamsos_cli import names
from jamsos_cli.cli import app
from jamsos_cli.neardup import find_near_duplicates
from tests.rosters import make_nik, write_csv

runner = CliRunner()
SITI = make_nik("217101", 5, 6, 1985, female=True, serial=2)
AHMAD = make_nik("217104", 12, 5, 1980, female=False, serial=7)


def one(function, raw: str | None) -> str | None:
    return pl.DataFrame({"n": [raw]}, schema={"n": pl.Utf8}).select(function(pl.col("n"))).item()


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Hj. Siti Aminah, S.Pd.", "ST AMINAH"),
        ("Hjh. Siti Aminah", "ST AMINAH"),
        ("HAJJAH SITI AMINAH", "ST AMINAH"),
        ("MUH. RIZKY", "M RIZKI"),
        ("Muhammad Rizki", "M RIZKI"),
        ("MOH RIZKI", "M RIZKI"),
        ("Drs. H. Abdul Rahman M.Si", "ABD RAHMAN"),
        ("dr. Budi Santoso", "BUDI SANTOSO"),
        ("drg. Budi Santoso", "BUDI SANTOSO"),
        ("K.H. Abdul Rahman", "ABD RAHMAN"),
        ("BUDI SANTOSO S. Pd. M.Pd.", "BUDI SANTOSO"),
        ("BUDI SANTOSO S.Pd. M.Pd. M.Si", "BUDI SANTOSO"),
        ("Ir. Soekarno", "SUKARNO"),
        ("Ma'ruf Amin", "MARUF AMIN"),
        ("ANDI SE", "ANDI"),
        ("ST. AMINAH", "ST AMINAH"),
        ("AMINAH BINTI YUSUF", "AMINAH"),
        ("Hj.Nur Aini A.Md.Kep", "NUR AINI"),
        # part of the name (schemas/names.toml [part_of_name]): kept
        ("Tengku Rizal", "TGK RIZAL"),
        ("Tgk. Rizal", "TGK RIZAL"),
        ("Teuku Umar", "TEUKU UMAR"),
        ("Cut Nyak Dhien", "CUT NYAK DIEN"),
        ("Raden Ajeng Kartini", "RADEN AYENG KARTINI"),
        ("Andi Wijaya", "ANDI WIYAYA"),
        ("Daeng Marewa", "DAENG MAREWA"),
        ("Raja Ali", "RAYA ALI"),
        # Teungku written out is Aceh's religious title: dropped
        ("Teungku Hasan", "HASAN"),
        ("  ", None),
        (None, None),
    ],
)
def test_normalise_name(raw, normalised):
    assert one(names.normalise_name, raw) == normalised


def test_a_word_is_a_title_or_part_of_the_name_never_both():
    rules = names.rules()
    assert not set(rules.leading_titles) & set(rules.part_of_name)
    for word, why in rules.part_of_name.items():
        assert why.strip(), word
        kept = one(names.normalise_name, f"{word} Rizal")
        assert kept is not None and kept != one(names.normalise_name, "Rizal"), word
    for title in rules.leading_titles:
        assert one(names.identity_key, f"{title}. Siti Aminah") == "STAMINAH", title


def test_identity_key_ignores_spaces_and_keeps_the_father_apart():
    assert one(names.identity_key, "Nur Hayati") == one(names.identity_key, "NURHAYATI")
    assert one(names.identity_key, "Ahmad bin Salim") == "AHMAD"
    assert one(names.father_key, "Ahmad bin Salim") == "SALIM"
    assert one(names.father_key, "Ahmad") is None


def _validate(tmp_path: Path, rows: list[list[str]]) -> dict:
    """validate on a real cp1252 ';' CSV as a kelurahan office saves it, JSON report."""
    src = write_csv(
        tmp_path / "daftar.csv",
        ["NO", "NIK", "NAMA", "TGL LAHIR", "JK"],
        rows,
        encoding="cp1252",
        delimiter=";",
        title_rows=["DAFTAR PESERTA KELURAHAN SUNGAI PANAS"],
    )
    result = runner.invoke(app, ["validate", str(src), "--format", "json", "--show-pii"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _codes(doc: dict) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for issue in doc["issues"]:
        out.setdefault(issue["row"], set()).add(issue["code"])
    return out


def test_one_person_with_and_without_her_pilgrim_title_is_not_a_nik_conflict(tmp_path):
    """Defect: "Hjh. Siti Aminah" and "Siti Aminah" with one NIK and birth date were two
    different people (NIK_CONFLICT on both rows: both rejected). She is one person typed
    twice: the first row is kept, the second is NIK_DUPLICATE naming it."""
    doc = _validate(
        tmp_path,
        [
            ["1", SITI, "Hjh. Siti Aminah", "05-06-1985", "P"],
            ["2", SITI, "Siti Aminah", "05-06-1985", "P"],
        ],
    )
    codes = _codes(doc)
    assert "NIK_CONFLICT" not in set().union(*codes.values())
    assert 3 not in codes  # the first row (line 3: the title row, then the header) is kept
    assert codes[4] == {"NIK_DUPLICATE"}
    assert doc["summary"]["accepted"] == 1 and doc["summary"]["rejected"] == 1


def test_two_fathers_are_two_people_and_a_written_father_alone_is_not(tmp_path):
    doc = _validate(
        tmp_path,
        [
            ["1", AHMAD, "Ahmad bin Salim", "12-05-1980", "L"],
            ["2", AHMAD, "Ahmad bin Yusuf", "12-05-1980", "L"],
        ],
    )
    assert _codes(doc) == {3: {"NIK_CONFLICT"}, 4: {"NIK_CONFLICT"}}
    doc = _validate(
        tmp_path,
        [
            ["1", AHMAD, "Ahmad bin Salim", "12-05-1980", "L"],
            ["2", AHMAD, "AHMAD", "12-05-1980", "L"],
        ],
    )
    assert _codes(doc) == {4: {"NIK_DUPLICATE"}}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hjh. Siti Aminah", "SITI AMINAH"),
        ("Drs. H. Abdul Rahman", "Abdul Rahman, S.Pd."),
        ("MUH. RIZKY", "Muhammad Rizki"),
        ("Tgk. Rizal", "Tengku Rizal"),
    ],
)
def test_the_exact_check_and_the_near_duplicate_search_agree_on_a_name(tmp_path, a, b):
    """Same name under the identity: the same NIK is one person (NIK_DUPLICATE), and a NIK
    one digit apart is a likely duplicate whose reason is the same (normalised) name."""
    doc = _validate(
        tmp_path,
        [["1", SITI, a, "05-06-1985", "P"], ["2", SITI, b, "05-06-1985", "P"]],
    )
    assert _codes(doc) == {4: {"NIK_DUPLICATE"}}
    other = SITI[:9] + ("1" if SITI[9] != "1" else "2") + SITI[10:]
    records = pl.DataFrame(
        {
            "_rid": [0, 1],
            "nik": [SITI, other],
            "name": [a, b],
            "birth_date": [date(1985, 6, 5)] * 2,
        }
    )
    (pair,) = find_near_duplicates(records).to_dicts()
    assert "name.exact" in pair["reasons"]  # the normalised names are equal
