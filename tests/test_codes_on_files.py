"""Every non-decree row code, each on its own row of a real cp1252 ``;`` roster, through the
CLI: the clerk sees the code on that row and on no other."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jamsos_cli.cli import app
from tests.rosters import make_nik, write_csv

runner = CliRunner()
HEADERS = ["NIK", "NAMA", "TGL LAHIR", "JK", "KELURAHAN", "KECAMATAN", "NO HP"]


NAMES = [
    "Rahmat Hidayat",
    "Yusuf Siregar",
    "Andreas Manurung",
    "Lim Wei Hong",
    "Fransiskus Bata",
    "Zulkifli Rangkuti",
    "Komang Adi",
    "Teguh Prasetyo",
    "Hendra Gunawan",
    "Bonar Sitompul",
    "Agustinus Lado",
    "Imam Syafii",
    "Rizal Effendi",
    "Dedi Kurniawan",
    "Samuel Tarigan",
    "Wahyu Nugroho",
    "Fajar Ramadhan",
    "Gilang Saputra",
    "Ilham Maulana",
    "Joko Susilo",
]


def person(nik: str, **change: str) -> list[str]:
    serial = int(nik[-4:]) if nik[-4:].isdigit() else 0
    row = {
        "NIK": nik,
        "NAMA": NAMES[serial % len(NAMES)],
        "TGL LAHIR": "12-05-1980",
        "JK": "L",
        "KELURAHAN": "Sungai Panas",
        "KECAMATAN": "Batam Kota",
        "NO HP": f"0812345{serial:05d}",
    }
    row.update(change)
    return [row[h] for h in HEADERS]


def nik(serial: int, kec: str = "217110", day: int = 12) -> str:
    return make_nik(kec, day, 5, 1980, female=False, serial=serial)


# (row in the file, the code expected there); header on line 1, so person i is on line i + 2
CASES = [
    (person(nik(1)), None),
    (person(""), "NIK_MISSING"),
    (person("2,17101E+15"), "NIK_SCIENTIFIC"),
    (person("99" + nik(3)[2:]), "NIK_REGION"),
    (person(nik(4, kec="217199")), "NIK_DISTRICT_UNKNOWN"),
    (person(nik(5)[:6] + "32" + nik(5)[8:]), "NIK_BIRTHDATE"),
    (person(nik(6)[:12] + "0000"), "NIK_SERIAL"),
    (person(nik(7), **{"TGL LAHIR": "13-05-1980"}), "NIK_DOB_MISMATCH"),
    (person(nik(8), JK="P"), "NIK_SEX_MISMATCH"),
    (person(nik(9), NAMA=""), "NAME_MISSING"),
    (person(nik(10), **{"TGL LAHIR": ""}), "DOB_MISSING"),
    (person(nik(11), **{"TGL LAHIR": "31-02-1980"}), "DOB_FORMAT"),
    (person(nik(12), JK="X"), "SEX_INVALID"),
    (person(nik(13), **{"NO HP": "0812"}), "PHONE_FORMAT"),
    (person(nik(14), KECAMATAN="Batam Tengah"), "KECAMATAN_UNKNOWN"),
    (person(nik(15), KELURAHAN="Tiban", KECAMATAN="Sekupang"), "KELURAHAN_UNKNOWN"),
    (person(nik(16), KELURAHAN="Tembesi"), "KELURAHAN_MISMATCH"),
    (person(nik(17)), "NIK_CONFLICT"),  # one NIK, two people: every occurrence rejected
    (person(nik(17), NAMA="BUDI", **{"TGL LAHIR": "12-05-1980"}), "NIK_CONFLICT"),
    (person(nik(18)), None),
    (person(nik(18), NAMA=NAMES[18].upper()), "NIK_DUPLICATE"),
    (person(nik(19), KELURAHAN="Sei Panas", KECAMATAN="batam kota"), None),  # alias, case
]


def test_each_code_on_its_own_row_of_a_cp1252_semicolon_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rt.csv", HEADERS, [row for row, _ in CASES])
    result = runner.invoke(app, ["validate", str(path), "--format", "json", "--lang", "en"])
    assert result.exit_code == 1
    found = {(i["row"], i["code"]) for i in json.loads(result.stdout)["issues"]}
    for index, (_, code) in enumerate(CASES):
        line = index + 2
        codes_here = {c for r, c in found if r == line}
        if code is None:
            assert codes_here == set(), (line, codes_here)
        else:
            assert codes_here == {code}, (line, code, codes_here)


def test_suggestions_name_the_official_places(tmp_path: Path) -> None:
    rows = [
        person(nik(1), KELURAHAN="Tiban", KECAMATAN="Sekupang"),
        person(nik(2), KELURAHAN="Sungai Pnas"),
    ]
    path = write_csv(tmp_path / "rt.csv", HEADERS, rows)
    result = runner.invoke(app, ["validate", str(path), "--format", "json", "--lang", "en"])
    messages = [i["message"] for i in json.loads(result.stdout)["issues"]]
    assert any("Tiban Indah" in m and "Tiban Baru" in m and "Tiban Lama" in m for m in messages)
    assert any("Sungai Panas" in m for m in messages)
