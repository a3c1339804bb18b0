"""``jamsos dedupe`` end to end: real roster files in, pairs out, decisions that stick.

Two rosters of the same kelurahan, one typed in a CSV (cp1252, ``;``, a title row and a JUMLAH
footer) and one in an Excel sheet with numeric NIK cells, hold planted pairs: the same person
typed twice with a mistyped NIK, and people who only look alike.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.ledger import SCHEMA_VERSION
from jamsos_cli.neardup import DEFAULT_MIN_SCORE
from tests.helpers import downgrade
from tests.ledgers import Target
from tests.postgres import PASSWORD
from tests.rosters import make_nik, write_csv, write_xlsx
from tests.test_build_batch import shown

runner = CliRunner()
WIDE = {"COLUMNS": "400"}  # one table row per line, so the text report can be searched

RT = "perwako-batam-49-2025"
BATCH = f"{RT}_2025-06_2025-12_001"
HEADERS = ["NO", "NIK", "NAMA", "TGL LAHIR", "JK", "ALAMAT", "KELURAHAN", "KECAMATAN", "NO HP"]
HEADERS += ["JABATAN"]


def nik(day: int, month: int, year: int, serial: int, female: bool = False) -> str:
    return make_nik("217110", day, month, year, female, serial)


def swap(value: str, i: int) -> str:
    """Digits i and i+1 swapped."""
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


def digit(value: str, i: int, new: str) -> str:
    return value[:i] + new + value[i + 1 :]


# Planted people. One NIK each; the B roster's copy is mistyped as the pair's name says.
BUDI = nik(12, 5, 1980, 101)  # one digit wrong in B
SITI = nik(3, 8, 1975, 132, female=True)  # two neighbouring digits swapped in B
ANDI = nik(21, 1, 1988, 117)  # B: numeric Excel cell, 16th digit lost (…0110)
RIZKI = nik(7, 11, 1992, 143)  # "Muhammad Rizki" / "MUH. RIZKY", one digit wrong in B
NUR = nik(15, 2, 1970, 155, female=True)  # "Nurhayati" / "Hj. Nurhayati", one digit wrong
DEWI = nik(9, 9, 1985, 161, female=True)  # the same NIK in both files: exact duplicate
RUDI = nik(30, 6, 1978, 173)  # the same NIK for two different people: exact conflict
HASAN, HUSIN = nik(4, 4, 1990, 121), nik(4, 4, 1990, 122)  # twins
JOKO_SR, JOKO_JR = nik(10, 3, 1962, 184), nik(10, 3, 1990, 184)  # father and son
PLAIN = nik(1, 1, 1983, 191, female=True)  # nobody alike

BUDI_B = digit(BUDI, 13, "2")
SITI_B = swap(SITI, 12)
ANDI_B = ANDI[:15] + "0"
RIZKI_B = digit(RIZKI, 4, "2")
NUR_B = digit(NUR, 13, "9")


def row(no, nik_, name, born, sex, phone, address="Jl. Mawar 1", kel="Sungai Panas", rt=1):
    return [
        str(no),
        nik_,
        name,
        born,
        sex,
        address,
        kel,
        "Batam Kota",
        phone,
        f"Ketua RT {rt:03d}",
    ]


def roster_a(path: Path) -> Path:
    """The kelurahan's CSV: data from line 3 (title, header)."""
    rows = [
        row(1, BUDI, "Budi Santoso", "12-05-1980", "L", "081210000101", "Jl. Melati 3"),  # 3
        row(2, SITI, "Siti Aminah", "03-08-1975", "P", "081210000132", "Jl. Kenanga 8"),  # 4
        row(3, ANDI, "Andi Wijaya", "21-01-1988", "L", "081210000117", "Blok A No. 2"),  # 5
        row(4, RIZKI, "Muhammad Rizki", "07-11-1992", "L", "081210000143"),  # 6
        row(5, NUR, "Nurhayati", "15-02-1970", "P", "081210000155", "Jl. Dahlia 5"),  # 7
        row(6, DEWI, "Dewi Lestari", "09-09-1985", "P", "081210000161"),  # 8
        row(7, RUDI, "Rudi Hartono", "30-06-1978", "L", "081210000173"),  # 9
        row(8, HASAN, "Hasan Basri", "04-04-1990", "L", "081210000121", "Jl. Tiung 4"),  # 10
        row(9, JOKO_SR, "Joko Susilo", "10-03-1962", "L", "081210000184", "Jl. Nuri 9"),  # 11
    ]
    return write_csv(
        path,
        HEADERS,
        rows,
        title_rows=["DAFTAR KETUA RT KELURAHAN SUNGAI PANAS" + ";" * 9],
        footer_rows=[["", "", "JUMLAH", "", "", "", "", "", "", ""]],
    )


def roster_b(path: Path) -> Path:
    """The association's workbook, NIKs typed as numbers: data from row 4 (title, blank,
    header)."""
    rows = [
        row(1, BUDI_B, "BUDI SANTOSO", "12-05-1980", "L", "081210000101", "Jl. Melati 3"),  # 4
        row(2, SITI_B, "SITI AMINAH", "03-08-1975", "P", "081210000132", "Jl. Kenanga 8"),  # 5
        row(3, ANDI_B, "ANDI WIJAYA", "21-01-1988", "L", "081210000117", "Blok A No. 2"),  # 6
        row(4, RIZKI_B, "MUH. RIZKY", "07-11-1992", "L", "081210000143"),  # 7
        # moved house and changed phone: less certain
        row(5, NUR_B, "Hj. Nurhayati", "15-02-1970", "P", "081299990155", "Perum C", "Belian"),
        row(6, DEWI, "DEWI LESTARI", "09-09-1985", "P", "081210000161"),  # 9
        row(7, RUDI, "Agus Salim", "11-02-1979", "L", "081210000999"),  # 10
        row(8, HUSIN, "Husin Basri", "04-04-1990", "L", "081210000121", "Jl. Tiung 4"),  # 11
        row(9, JOKO_JR, "Joko Susilo", "10-03-1990", "L", "081210000190", "Jl. Nuri 9"),  # 12
        row(10, PLAIN, "Lina Kusuma", "01-01-1983", "P", "081210000191"),  # 13
    ]
    return write_xlsx(
        path,
        HEADERS,
        rows,
        title_rows=["DAFTAR PENGEMUDI"],
        numeric_columns={"NIK"},
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return roster_a(tmp_path / "rt_sungai_panas.csv"), roster_b(tmp_path / "asosiasi.xlsx")


@pytest.fixture(autouse=True)
def _no_user_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run without --ledger uses the user data folder: keep it inside the test."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    monkeypatch.delenv("JAMSOS_CONFIG", raising=False)


def dedupe(*args: object, env: dict | None = None):
    result = runner.invoke(app, ["dedupe", *map(str, args)], env=env)
    return result


def dedupe_json(*args: object) -> tuple[int, dict]:
    result = dedupe(*args, "--format", "json", "--lang", "en")
    assert result.stdout.lstrip().startswith("{"), (result.stdout, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def pair(doc: dict, a_row: int, b_row: int | None, b_file: str | None = None) -> dict | None:
    """The pair between row a_row of the first file and b_row of the other (or the ledger)."""
    for p in doc["pairs"]:
        rows = (p["a"]["row"], p["b"]["row"]) == (a_row, b_row)
        if rows and (b_file is None or p["b"]["file"] == b_file):
            return p
    return None


def build(tmp_path: Path, *rosters: Path, ledger: Path | str) -> tuple[int, dict]:
    result = runner.invoke(
        app,
        [
            "build-batch",
            *map(str, rosters),
            "--decree",
            RT,
            "--start",
            "2025-06",
            "--out",
            str(tmp_path / "out"),
            "--ledger",
            str(ledger),
            "--new-ledger",
            "--format",
            "json",
            "--lang",
            "en",
        ],
    )
    assert result.stdout.lstrip().startswith("{"), (result.stdout, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def issues_at(doc: dict, file: str, row: int) -> dict[str, dict]:
    return {i["code"]: i for i in doc["issues"] if i["file"] == file and i["row"] == row}


# --------------------------------------------------------------------------- finding pairs


def test_planted_pairs_across_two_files_are_found_with_their_reasons(files) -> None:
    a, b = files
    code, doc = dedupe_json(a, b)
    assert code == 1
    expected = {
        3: ("nik.serial_digit", "NIKs differ in one serial digit"),  # Budi
        4: ("nik.transposition", "two NIK digits swapped"),  # Siti
        5: ("nik.excel_truncated", "cut off by Excel"),  # Andi, numeric cell ending in 0
        6: ("nik.region_digit", "once titles and spelling are normalised"),  # MUH. / MUHAMMAD
        7: ("nik.serial_digit", "once titles and spelling are normalised"),  # Hj. title
    }
    for a_row, (reason, words) in expected.items():
        found = pair(doc, a_row, a_row + 1)
        assert found is not None, a_row
        assert found["kind"] == "near" and found["group"] == "decide"
        assert found["a"]["file"] == str(a) and found["b"]["file"] == str(b)
        assert found["b"]["sheet"] == "Data"
        assert found["reasons"][0] == reason
        assert "birth_date.same" in found["reasons"]
        assert words in found["explanation"], found["explanation"]
        assert DEFAULT_MIN_SCORE <= found["score"] <= 100
        assert found["decision"] is None
    budi = pair(doc, 3, 4)
    assert budi["a"]["name"] == "Budi Santoso" and budi["b"]["name"] == "BUDI SANTOSO"
    assert "phone.same" in budi["reasons"]
    assert budi["explanation"].startswith("NIKs differ in one serial digit (")
    assert "same birth date (very strong)" in budi["explanation"]
    # the waterfall (prior, then each comparison's weight) adds up to the match weight
    assert budi["evidence"][0]["comparison"] == "prior"
    assert {"nik", "birth_date", "name", "phone"} <= {e["comparison"] for e in budi["evidence"]}
    total = sum(e["weight"] for e in budi["evidence"])
    assert total == pytest.approx(budi["match_weight"], abs=0.05)
    assert all(0 < e["m"] <= 1 and 0 < e["u"] <= 1 for e in budi["evidence"])
    assert 0 <= budi["alternatives"]["twins"] < 0.01
    # NIKs masked in JSON reports (SPEC §8)
    assert budi["a"]["nik"] == BUDI[:4] + "*" * 8 + BUDI[-4:]
    assert BUDI not in json.dumps(doc) and BUDI_B not in json.dumps(doc)
    assert doc["summary"]["near"] == 5 and doc["summary"]["min_score"] == DEFAULT_MIN_SCORE


def test_twins_and_father_and_son_are_not_paired(files) -> None:
    a, b = files
    _, doc = dedupe_json(a, b)
    assert pair(doc, 10, 11) is None  # Hasan / Husin: same birth date, consecutive serials
    assert pair(doc, 11, 12) is None  # Joko Susilo senior / junior: other birth dates
    paired_rows = {(p["a"]["row"], p["b"]["row"]) for p in doc["pairs"]}
    assert all(13 not in rows for rows in paired_rows)  # Lina Kusuma is nobody else
    assert doc["summary"]["pairs"] == 7  # the five planted near pairs, two exact


def test_exact_duplicates_and_conflicts_are_kind_exact(files) -> None:
    a, b = files
    _, doc = dedupe_json(a, b)
    dewi, rudi = pair(doc, 8, 9), pair(doc, 9, 10)
    assert dewi["kind"] == rudi["kind"] == "exact"
    assert dewi["score"] == rudi["score"] == 100
    assert dewi["reasons"] == ["same_nik"]  # the same person typed twice
    assert rudi["reasons"] == ["same_nik", "different_name", "different_birth_date"]
    assert rudi["explanation"] == "same NIK, different names, different birth dates"
    # the pairs to decide come first: exact ones (nothing to decide) must not bury them
    assert [p["group"] for p in doc["pairs"]] == ["decide"] * 5 + ["exact"] * 2
    assert dewi["alternatives"] is None and dewi["evidence"] is None
    assert doc["summary"]["exact"] == 2 and doc["summary"]["group_exact"] == 2


def test_text_report_is_a_table_of_pairs_with_masked_niks(files) -> None:
    a, b = files
    result = dedupe(a, b, "--lang", "en", env=WIDE)
    assert result.exit_code == 1
    out = result.stdout
    line = next(ln for ln in out.splitlines() if "NIKs differ in one serial digit" in ln)
    assert line.split()[:2] == ["near", "100"]  # kind, score
    assert f"{a}:3" in line and f"{b} [Data]:4" in line
    assert "Budi Santoso" in out and "BUDI SANTOSO" in out
    assert BUDI[:4] + "*" * 8 + BUDI[-4:] in out
    assert BUDI not in out and RUDI not in out
    assert "7 pairs: 2 exact, 5 near" in out
    decide = out.index("To decide: likely the same person under another NIK (5)")
    assert decide < out.index("One NIK twice: correct it at the source") < out.index("same NIK,")
    shown = dedupe(a, b, "--lang", "en", "--show-pii", env=WIDE).stdout
    assert BUDI in shown and BUDI_B in shown


def test_indonesian_is_the_default_language(files) -> None:
    a, b = files
    out = dedupe(a, b, env=WIDE).stdout
    assert "NIK beda satu angka di nomor urut" in out and "NIK sama" in out
    assert "Perlu diputuskan" in out and "tanggal lahir sama (sangat kuat)" in out
    assert "7 pasangan: 2 NIK sama, 5 NIK mirip" in out


def test_min_score_is_an_option(files) -> None:
    a, b = files
    _, default = dedupe_json(a, b)
    _, everything = dedupe_json(a, b, "--min-score", "0")
    twins = pair(everything, 10, 11)  # looked at, scored low: twins, not one person
    assert twins["score"] < 5 and "maybe_twins" in twins["reasons"]
    assert twins["alternatives"]["twins"] > 0.9
    assert pair(default, 10, 11) is None
    _, at = dedupe_json(a, b, "--min-score", f"{twins['score']:g}")
    _, above = dedupe_json(a, b, "--min-score", f"{twins['score'] + 0.05:g}")
    assert pair(at, 10, 11) is not None and pair(above, 10, 11) is None
    assert at["summary"]["near"] == above["summary"]["near"] + 1
    assert default["summary"]["exact"] == at["summary"]["exact"] == 2  # not by score
    # NUR moved house and changed phone: still likely, with less evidence than the others
    nur = pair(default, 7, 8)
    assert "phone.different" in nur["reasons"] and "domicile.different" in nur["reasons"]
    others = [p["match_weight"] for p in default["pairs"] if p["kind"] == "near" and p is not nur]
    assert nur["match_weight"] < min(others)
    help_text = runner.invoke(app, ["dedupe", "--help"]).stdout
    assert f"bawaan {DEFAULT_MIN_SCORE:g})" in " ".join(
        help_text.split()
    )  # the default the help shows is the engine's


def test_the_fitted_model_is_in_the_json_report(files) -> None:
    a, b = files
    _, doc = dedupe_json(a, b)
    model = doc["summary"]["model"]
    # a roster this small is scored with the shipped parameters, and says so
    assert model["em"]["ran"] is False and model["em"]["why_not"] == "too_few_to_learn"
    assert 0 < model["lambda"]["m"] < 1 and model["prior_weight"] < 0
    same = model["comparisons"]["birth_date"]["same"]
    assert same["m"] > 0.5 and same["u"] < 0.001 and same["weight"] > 8
    nik = model["comparisons"]["nik"]["serial_consecutive"]
    assert len(nik["m"]) == 2 and nik["twins"][0] > nik["m"][0]  # the mark of twins


def test_a_person_already_in_the_ledger_is_matched(tmp_path: Path, files, target: Target) -> None:
    a, _ = files
    ledger = target.location
    first = write_csv(
        tmp_path / "bulan_lalu.csv",
        HEADERS,
        [
            row(1, digit(BUDI, 13, "3"), "Budi Santoso", "12-05-1980", "L", "081210000101"),
            row(2, DEWI, "Dewi Lestari", "09-09-1985", "P", "081210000161"),
        ],
    )
    code, built = build(tmp_path, first, ledger=ledger)
    assert code == 0 and built["batch"]["written"], built
    code, doc = dedupe_json(a, "--ledger", ledger)
    assert code == 1
    where = f"ledger: {BATCH}"
    budi = pair(doc, 3, None, where)
    assert budi["kind"] == "near" and budi["b"] == {
        "file": where,
        "sheet": None,
        "row": None,
        "name": "Budi Santoso",
        "nik": BUDI[:4] + "********" + "0301",
    }
    assert budi["reasons"][:2] == ["nik.serial_digit", "birth_date.same"]
    dewi = pair(doc, 8, None, where)
    assert dewi["kind"] == "exact" and dewi["reasons"] == ["same_nik"]
    # already paid under this NIK: listed apart, after the pairs to decide
    assert dewi["group"] == "in_ledger" and budi["group"] == "decide"
    assert doc["summary"]["group_in_ledger"] == 1
    assert doc["pairs"].index(budi) < doc["pairs"].index(dewi)
    assert doc["summary"]["ledger"] == shown(target) and doc["summary"]["ledger_people"] == 2
    text = dedupe(a, "--ledger", ledger, "--lang", "en", env=WIDE).stdout
    assert f"Ledger: {shown(target)} (2 people)" in text and where in text
    assert PASSWORD not in text + json.dumps(doc)


def test_no_pairs_is_exit_0_and_says_so(tmp_path: Path) -> None:
    alone = write_csv(
        tmp_path / "satu.csv",
        HEADERS,
        [row(1, PLAIN, "Lina Kusuma", "01-01-1983", "P", "081210000191")],
    )
    result = dedupe(alone, "--lang", "en", env=WIDE)
    assert result.exit_code == 0
    assert "No duplicates found." in result.stdout
    assert f"No ledger yet at {tmp_path / 'userdata'}" in result.stdout
    assert not (tmp_path / "userdata").exists()  # reading never creates a ledger


def test_unusable_input_is_exit_2_and_named(tmp_path: Path, files) -> None:
    a, _ = files
    no_nik = write_csv(tmp_path / "tanpa_nik.csv", ["NO", "NAMA", "TGL LAHIR"], [["1", "X", ""]])
    code, doc = dedupe_json(a, no_nik)
    assert code == 2
    assert [(i["file"], i["code"]) for i in doc["issues"]] == [
        (str(no_nik), "HEADER_MISSING_COLUMN")
    ]
    result = dedupe(a, tmp_path / "hilang.csv", "--lang", "en", "--review", tmp_path / "r.xlsx")
    assert result.exit_code == 2
    assert "hilang.csv" in result.stdout and "no review written" in result.stdout
    assert not (tmp_path / "r.xlsx").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--min-score", "150"], "--min-score 150"),
        (["--review", "pairs.txt"], "--review pairs.txt: beri nama berkas .csv atau .xlsx"),
        (["--decisions", "nothing.xlsx"], "--decisions nothing.xlsx: berkas tidak ditemukan"),
        (["--review", "same.csv", "--decisions", "same.csv"], "adalah berkas --decisions"),
    ],
    ids=["score", "review-suffix", "no-decisions-file", "same-file"],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, files, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "same.csv").write_text("KUNCI;KEPUTUSAN\n", encoding="utf-8")
    result = dedupe(files[0], *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- review, decisions


def fill_decisions(path: Path, decide: dict[str, str]) -> None:
    """What the clerk does in Excel: type SAMA/BEDA next to the pairs, by name A."""
    wb = load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    name_a = header.index("NAMA A" if "NAMA A" in header else "NAME A")
    decision = next(i for i, h in enumerate(header) if h.endswith("(SAMA/BEDA)"))
    for cells in ws.iter_rows(min_row=2):
        word = decide.get(cells[name_a].value)
        if word:
            cells[decision].value = word
    wb.save(path)


def test_review_and_decisions_round_trip(tmp_path: Path, files) -> None:
    a, b = files
    review = tmp_path / "tinjau.xlsx"
    code, doc = dedupe_json(a, b, "--review", review)
    assert code == 1 and doc["summary"]["review"] == str(review)
    ws = load_workbook(review).active
    header = [c.value for c in ws[1]]
    assert ws.max_row == 1 + doc["summary"]["pairs"]
    kinds = [r[header.index("KIND")] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert kinds.count("exact") == 2 and kinds.count("near") == 5
    # Dewi's pair is exact: one NIK cannot be two people, so that decision is ignored
    fill_decisions(review, {"Budi Santoso": "BEDA", "Muhammad Rizki": "SAMA", "Dewi Lestari": "B"})

    ledger = tmp_path / "l.sqlite"
    code, again = dedupe_json(a, b, "--decisions", review, "--ledger", ledger, "--new-ledger")
    assert code == 1
    assert pair(again, 3, 4) is None  # decided different: never raised again
    rizki = pair(again, 6, 7)
    assert rizki["decision"] == "same" and rizki["reasons"][-1] == "decided_same"
    assert "already decided: same person" in rizki["explanation"]
    assert again["summary"]["pairs"] == doc["summary"]["pairs"] - 1
    assert again["summary"]["decisions_read"] == 3
    assert again["summary"]["decisions_ignored"] == 1 and pair(again, 8, 9)["kind"] == "exact"
    assert again["summary"]["decided_same"] == 1
    text = dedupe(a, b, "--decisions", review, "--ledger", ledger, "--lang", "en", env=WIDE).stdout
    assert "1 decision(s) on exact pairs ignored" in text


def test_decisions_in_the_ledger_hold_for_later_runs_and_build_batch(
    tmp_path: Path, files, target: Target
):
    a, b = files
    if target.sqlite:  # in a folder not made yet
        target.path = tmp_path / "data" / "ledger.sqlite"
        target.location = str(target.path)
    ledger = target.location
    review = tmp_path / "tinjau.xlsx"
    dedupe_json(a, b, "--review", review)
    fill_decisions(review, {"Budi Santoso": "BEDA", "Muhammad Rizki": "SAMA"})
    refused = dedupe(a, b, "--decisions", review, "--ledger", ledger, "--lang", "en")
    assert refused.exit_code == 2 and "--new-ledger" in refused.stderr  # made on purpose only
    assert not target.exists() and not (tmp_path / "data").exists()
    result = dedupe(
        a, b, "--decisions", review, "--ledger", ledger, "--new-ledger", "--lang", "en", env=WIDE
    )
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())
    assert f"New ledger created: {shown(target)}" in out
    assert f"Decisions recorded in the ledger {shown(target)}: 2 new or changed of 2" in out
    if target.sqlite:
        assert oct(target.path.stat().st_mode & 0o777) == "0o600"
    stored = target.rows("SELECT nik_a, nik_b, decision FROM decisions ORDER BY 1")
    assert sorted(stored) == sorted(
        [(min(BUDI, BUDI_B), max(BUDI, BUDI_B), "different"), (RIZKI, RIZKI_B, "same")]
    )

    # the decisions file is not needed any more: the ledger remembers
    _, later = dedupe_json(a, b, "--ledger", ledger)
    assert pair(later, 3, 4) is None and pair(later, 6, 7)["decision"] == "same"
    # recording the same file again changes nothing
    _, same_again = dedupe_json(a, b, "--ledger", ledger, "--decisions", review)
    assert same_again["summary"]["decisions_recorded"] == 0

    # build-batch on the same ledger: the later MUH. RIZKY row is rejected, naming the first;
    # Budi's two rows (decided different) raise no NEAR_DUPLICATE
    code, built = build(tmp_path, a, b, ledger=ledger)
    assert code == 1
    rizky = issues_at(built, str(b), 7)
    assert rizky["SAME_PERSON"]["severity"] == "error"
    assert f"{a}:6" in rizky["SAME_PERSON"]["message"]
    assert "NEAR_DUPLICATE" not in rizky
    assert not issues_at(built, str(a), 6)  # the first one is paid
    for file, line in ((a, 3), (b, 4)):
        assert "NEAR_DUPLICATE" not in issues_at(built, str(file), line)
    assert "NEAR_DUPLICATE" in issues_at(built, str(a), 4)  # undecided pairs still warn


def test_a_same_decision_against_the_ledger_rejects_the_new_row(
    tmp_path: Path, target: Target
) -> None:
    ledger = target.location
    first = write_csv(
        tmp_path / "juni.csv",
        HEADERS,
        [row(1, RIZKI, "Muhammad Rizki", "07-11-1992", "L", "081210000143")],
    )
    assert build(tmp_path, first, ledger=ledger)[0] == 0
    later = write_csv(
        tmp_path / "juli.csv",
        HEADERS,
        [row(1, RIZKI_B, "M. Rizki", "07-11-1992", "L", "081210000143")],
    )
    review = tmp_path / "tinjau.csv"
    code, doc = dedupe_json(later, "--ledger", ledger, "--review", review)
    assert code == 1 and pair(doc, 2, None)["b"]["file"] == f"ledger: {BATCH}"
    header, line = review.read_text("utf-8-sig").splitlines()  # one pair
    cells = line.split(";")
    cells[header.split(";").index("DECISION (SAMA/BEDA)")] = "SAMA"
    review.write_text(f"{header}\n{';'.join(cells)}\n", encoding="utf-8-sig")
    assert dedupe_json(later, "--ledger", ledger, "--decisions", review)[0] == 1

    code, built = build(tmp_path, later, ledger=ledger)
    assert code == 1  # nobody new: Rizki is already paid under another NIK
    same = issues_at(built, str(later), 2)["SAME_PERSON"]
    assert f"ledger: {BATCH}" in same["message"]
    assert same["value"] == RIZKI_B[:4] + "*" * 8 + RIZKI_B[-4:]
    assert built["batch"] is None


def test_when_the_first_row_is_unusable_the_later_one_of_a_same_pair_is_paid(tmp_path: Path):
    """The Excel-truncated NIK comes first: it is rejected anyway, so the person is paid
    once through the later, correct row (not zero times)."""
    first = write_xlsx(
        tmp_path / "asosiasi.xlsx",
        HEADERS,
        [row(1, ANDI_B, "ANDI WIJAYA", "21-01-1988", "L", "081210000117")],
        numeric_columns={"NIK"},
    )
    later = write_csv(
        tmp_path / "kelurahan.csv",
        HEADERS,
        [row(1, ANDI, "Andi Wijaya", "21-01-1988", "L", "081210000117")],
    )
    ledger, review = tmp_path / "ledger.sqlite", tmp_path / "tinjau.xlsx"
    _, doc = dedupe_json(first, later, "--review", review)
    assert pair(doc, 2, 2)["reasons"][0] == "nik.excel_truncated"
    fill_decisions(review, {"ANDI WIJAYA": "SAMA"})
    assert (
        dedupe_json(first, later, "--decisions", review, "--ledger", ledger, "--new-ledger")[0] == 1
    )

    code, built = build(tmp_path, first, later, ledger=ledger)
    assert code == 1 and built["batch"]["participants"] == 1
    truncated = issues_at(built, str(first), 2)
    assert {"NIK_PRECISION_LOST", "SAME_PERSON"} <= set(truncated)
    assert f"{later}:2" in truncated["SAME_PERSON"]["message"]
    assert not issues_at(built, str(later), 2)  # the correct row is the one paid


def test_an_old_ledger_gets_the_decisions_table(tmp_path: Path, files) -> None:
    """A ledger written before decisions existed (schema 1) is migrated, its batches kept."""
    a, b = files
    ledger = tmp_path / "ledger.sqlite"
    first = write_csv(
        tmp_path / "juni.csv",
        HEADERS,
        [row(1, PLAIN, "Lina Kusuma", "01-01-1983", "P", "081210000191")],
    )
    assert build(tmp_path, first, ledger=ledger)[0] == 0
    downgrade(ledger, 1)
    review = tmp_path / "tinjau.xlsx"
    dedupe_json(a, b, "--review", review, "--ledger", ledger)
    fill_decisions(review, {"Budi Santoso": "BEDA"})
    code, doc = dedupe_json(a, b, "--decisions", review, "--ledger", ledger)
    assert doc["summary"]["decisions_recorded"] == 1 and doc["summary"]["ledger_people"] == 1
    conn = sqlite3.connect(ledger)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT COUNT(*) FROM people").fetchone()[0] == 1
    conn.close()


def test_recording_decisions_waits_for_no_one(tmp_path: Path, files) -> None:
    """Another run holding the ledger: exit 3, nothing recorded."""
    from jamsos_cli.locks import exclusive, ledger_lock_path

    a, b = files
    ledger = tmp_path / "ledger.sqlite"
    review = tmp_path / "tinjau.xlsx"
    dedupe_json(a, b, "--review", review)
    fill_decisions(review, {"Budi Santoso": "BEDA"})
    with exclusive(ledger_lock_path(ledger), "test"):
        result = dedupe(a, b, "--decisions", review, "--ledger", ledger, "--new-ledger")
    assert result.exit_code == 3
    assert re.search(r"perintah jamsos lain sedang memakai ledger", result.stderr)
    assert not ledger.exists()


def test_an_unknown_decision_word_names_the_row(tmp_path: Path, files) -> None:
    a, b = files
    review = tmp_path / "tinjau.xlsx"
    dedupe_json(a, b, "--review", review)
    fill_decisions(review, {"Siti Aminah": "MUNGKIN"})
    result = dedupe(a, b, "--decisions", review)
    assert result.exit_code == 2
    assert "MUNGKIN" in result.stderr and "SAMA" in result.stderr
