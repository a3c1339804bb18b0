"""What senders really send (issue 15), each through the command a clerk runs: spaced and
run-together headers, two-row merged headers written by openpyxl, titles that name the role,
footers anywhere, weekday dates and old month spellings, landlines and toll-free numbers,
island spellings, .xlsm workbooks and PDFs given as rosters, a progress display on a
terminal only."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.rosters import make_nik, write_csv
from tests.test_build_batch import HEADERS, OJOL, RT, build_args, person
from tests.test_fuzz import assert_clean, invoke, json_doc

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
AS_OF = ["--as-of", "2025-06-01"]


def run_json(*args: object) -> tuple[int, dict]:
    run = invoke([*map(str, args), "--format", "json"])
    assert_clean(run)
    return run.code, json_doc(run)


def issues(doc: dict, code: str | None = None) -> list[dict]:
    return [i for i in doc["issues"] if code is None or i["code"] == code]


def codes_by_row(doc: dict) -> dict[int | None, set[str]]:
    out: dict[int | None, set[str]] = {}
    for i in doc["issues"]:
        out.setdefault(i["row"], set()).add(i["code"])
    return out


def batch_rows(out: Path) -> list[dict]:
    """Every row of the batch files build-batch wrote (CSV batches)."""
    rows = []
    for part in sorted(out.glob("*/*_part*.csv")):
        text = part.read_text(encoding="utf-8-sig")
        rows += list(csv.DictReader(io.StringIO(text), delimiter=_delimiter(text)))
    return rows


def _delimiter(text: str) -> str:
    head = text.splitlines()[0]
    return ";" if head.count(";") > head.count(",") else ","


def nik_column(rows: list[dict]) -> list[str]:
    key = next(k for k in rows[0] if "NIK" in k.upper())
    return [r[key] for r in rows]


# ---------------------------------------------------------------------------- headers


@pytest.mark.parametrize("nik_header", ["N I K", "( N I K )", "NOKTP", "No.KTP"])
def test_spaced_and_run_together_headers(tmp_path: Path, nik_header: str) -> None:
    people = [person(i) for i in range(1, 4)]
    headers = [nik_header if h == "NIK" else "TGLLAHIR" if h == "TGL LAHIR" else h for h in HEADERS]
    src = write_csv(tmp_path / "rt.csv", headers, people)  # cp1252, ';'
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 0, doc["issues"]
    assert doc["summary"]["accepted"] == 3
    assert not issues(doc, "HEADER_MISSING_COLUMN")


def no_header_roster(path: Path) -> Path:
    """The people without a header row: only data, as a clerk copies a block of cells."""
    return write_csv(path, person(1), [person(i) for i in range(2, 5)])


def test_no_header_row_is_one_finding_saying_so(tmp_path: Path) -> None:
    src = no_header_roster(tmp_path / "tanpa_judul.csv")
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF, "--lang", "en")
    assert code == 2
    (only,) = doc["issues"]
    assert only["code"] == "HEADER_NOT_FOUND" and only["row"] is None
    assert "No header row found in the first 50 rows" in only["message"]
    code, doc = run_json("validate", src, *AS_OF)  # Indonesian by default
    assert [i["code"] for i in doc["issues"]] == ["HEADER_NOT_FOUND"]
    assert "tidak ditemukan di 50 baris pertama" in doc["issues"][0]["message"]


def merged_header_workbook(path: Path, people: list[dict], title: str | None = None) -> Path:
    """As a kelurahan's Excel table is made: a title, then a two-row header with merged
    cells ("TEMPAT/TGL LAHIR" over "TEMPAT | TANGGAL", "JENIS KELAMIN" over "L | P"), the
    single headers merged over both rows, NIKs as text, a tick under L or P."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    top = 1
    if title:
        ws.cell(1, 1, title)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=11)
        top = 3  # a blank row under the title
    heads = {1: "NO", 2: "NIK", 3: "NAMA", 4: "TEMPAT/TGL LAHIR", 6: "JENIS KELAMIN"}
    heads |= {8: "ALAMAT", 9: "KELURAHAN", 10: "KECAMATAN", 11: "JABATAN"}
    for col, text in heads.items():
        ws.cell(top, col, text)
    for col in (1, 2, 3, 8, 9, 10, 11):  # one header over both rows
        ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
    ws.merge_cells(start_row=top, start_column=4, end_row=top, end_column=5)
    ws.merge_cells(start_row=top, start_column=6, end_row=top, end_column=7)
    for col, text in {4: "TEMPAT", 5: "TANGGAL", 6: "L", 7: "P"}.items():
        ws.cell(top + 1, col, text)
    for r, p in enumerate(people, start=top + 2):
        ws.cell(r, 1, r - top - 1)
        ws.cell(r, 2, p["nik"])
        ws.cell(r, 3, p["name"])
        ws.cell(r, 4, "Batam")
        ws.cell(r, 5, p["born"])
        ws.cell(r, 6 if p["tick"] == "L" else 7, p.get("mark", "v"))
        ws.cell(r, 8, "Jl. Mawar")
        ws.cell(r, 9, "Sungai Panas")
        ws.cell(r, 10, "Batam Kota")
        ws.cell(r, 11, "Ketua RT")
    wb.save(path)
    return path


def merged_people() -> list[dict]:
    return [
        {"nik": make_nik("217110", 12, 5, 1980, False, 1), "name": "Budi Santoso",
         "born": "12-05-1980", "tick": "L"},
        {"nik": make_nik("217110", 5, 6, 1985, True, 2), "name": "Siti Aminah",
         "born": "05-06-1985", "tick": "P", "mark": "√"},
        {"nik": make_nik("217110", 1, 1, 1990, True, 3), "name": "Dewi Lestari",
         "born": "01-01-1990", "tick": "L"},  # ticked L, but the NIK says a woman
        {"nik": make_nik("217110", 9, 9, 1975, False, 4), "name": "Rudi Hartono",
         "born": "19-09-1975", "tick": "L", "mark": "X"},  # the date differs from the NIK
    ]  # fmt: skip


def test_two_row_merged_header_reads_dates_and_ticked_sex(tmp_path: Path) -> None:
    src = merged_header_workbook(tmp_path / "rt.xlsx", merged_people(), title="DAFTAR KETUA RT")
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 1
    # the sub-header row (row 4) is no person; the people are on rows 5-8
    assert doc["summary"]["rows"] == 4
    assert codes_by_row(doc) == {7: {"NIK_SEX_MISMATCH"}, 8: {"NIK_DOB_MISMATCH"}}
    (sex,) = issues(doc, "NIK_SEX_MISMATCH")
    assert sex["column"] == "JENIS KELAMIN" and sex["value"] == "L"
    (born,) = issues(doc, "NIK_DOB_MISMATCH")
    assert born["column"] == "TEMPAT/TGL LAHIR (TANGGAL)" and born["value"] == "19-09-1975"


def test_two_row_header_people_reach_the_batch_with_their_birth_dates(tmp_path: Path) -> None:
    people = merged_people()[:2]
    src = merged_header_workbook(tmp_path / "rt.xlsx", people, title="DAFTAR KETUA RT")
    run = invoke(build_args(tmp_path, src, extra=("--batch-format", "csv")))
    assert_clean(run, allowed=(0,))
    rows = batch_rows(tmp_path / "out")
    assert sorted(nik_column(rows)) == sorted(p["nik"] for p in people)
    text = json.dumps(rows)
    assert "1980-05-12" in text or "12-05-1980" in text
    assert "1985-06-05" in text or "05-06-1985" in text


def test_two_row_header_saved_as_csv(tmp_path: Path) -> None:
    """The same table saved from Excel as CSV: the merged cells come out empty."""
    top = ["NO", "NIK", "NAMA", "TEMPAT/TGL LAHIR", "", "JENIS KELAMIN", "", "KELURAHAN"]
    sub = ["", "", "", "TEMPAT", "TANGGAL", "L", "P", ""]
    rows = [sub]
    for i, p in enumerate(merged_people()[:3], start=1):
        ticks = ["v", ""] if p["tick"] == "L" else ["", "v"]
        rows.append([str(i), p["nik"], p["name"], "Batam", p["born"], *ticks, "Sungai Panas"])
    src = write_csv(tmp_path / "dua_baris.csv", top, rows, title_rows=["DAFTAR;;;;;;;"])
    code, doc = run_json("validate", src, *AS_OF)
    assert code == 1
    assert doc["summary"]["rows"] == 3  # lines 4-6; line 3 is the sub-header row
    assert codes_by_row(doc) == {6: {"NIK_SEX_MISMATCH"}}  # ticked L, a woman's NIK


def test_both_sex_columns_ticked_is_an_invalid_sex(tmp_path: Path) -> None:
    people = merged_people()[:1]
    src = merged_header_workbook(tmp_path / "rt.xlsx", people)
    from openpyxl import load_workbook

    wb = load_workbook(src)
    wb.active.cell(3, 7, "v")  # the P column too
    wb.save(src)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 1
    assert [(i["row"], i["code"], i["value"]) for i in doc["issues"]] == [(3, "SEX_INVALID", "L+P")]


# ---------------------------------------------------------------------------- the role

WORKS = ["Wiraswasta", "Buruh", "Wiraswasta", "Ibu Rumah Tangga"]


def rt_list_with_occupation(path: Path, title: str | None) -> Path:
    """A Ketua RT list with the KTP's PEKERJAAN column and no JABATAN column."""
    headers = [h for h in HEADERS if h != "JABATAN"] + ["PEKERJAAN"]
    rows = [person(i)[:-1] + [WORKS[i % len(WORKS)]] for i in range(1, 5)]
    width = len(headers) - 1
    titles = [title + ";" * width, ";" * width] if title else []
    return write_csv(path, headers, rows, title_rows=titles)


def test_occupation_is_never_the_role_of_an_office_and_the_title_names_it(tmp_path: Path):
    src = rt_list_with_occupation(tmp_path / "rt.csv", "DAFTAR KETUA RT KELURAHAN TIBAN BARU")
    run = invoke(build_args(tmp_path, src, extra=("--batch-format", "csv", "--format", "json")))
    assert_clean(run, allowed=(0,))
    doc = json_doc(run)
    assert not issues(doc, "ROLE_NOT_ELIGIBLE")
    (note,) = issues(doc, "ROLE_FROM_TITLE")
    assert note["severity"] == "info"
    assert 'Ketua RT ("DAFTAR KETUA RT KELURAHAN TIBAN BARU")' in note["message"]
    assert doc["summary"]["submitted"] == 4


def test_no_role_known_suggests_role_and_the_option_works(tmp_path: Path) -> None:
    src = rt_list_with_occupation(tmp_path / "rt.csv", title=None)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF, "--lang", "en")
    assert code == 2
    assert {i["code"] for i in doc["issues"]} == {"HEADER_MISSING_COLUMN", "ROLE_NOT_GIVEN"}
    (hint,) = issues(doc, "ROLE_NOT_GIVEN")
    assert "--role" in hint["message"] and "Ketua RT, Ketua RW, Kader Posyandu" in hint["message"]
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF, "--role", "Ketua RT")
    assert code == 0 and doc["summary"]["accepted"] == 4


def test_occupation_still_names_an_occupational_role(tmp_path: Path) -> None:
    """Under a decree whose roles are occupations (ojek online), PEKERJAAN still says it."""
    headers = [h for h in HEADERS if h != "JABATAN"] + ["PEKERJAAN"]
    rows = [person(i)[:-1] + ["Ojek online" if i < 3 else "Wiraswasta"] for i in range(1, 5)]
    src = write_csv(tmp_path / "ojol.csv", headers, rows)
    code, doc = run_json("validate", src, "--decree", OJOL, *AS_OF)
    assert code == 1
    assert sorted(i["row"] for i in issues(doc, "ROLE_NOT_ELIGIBLE")) == [4, 5]


def posyandu_workbook(path: Path, ids: range) -> Path:
    """A posyandu list: its people on the second sheet, no role column, no title."""
    wb = Workbook()
    wb.active.title = "Petunjuk"
    wb.active.cell(1, 1, "Isi data pada lembar DATA")
    ws = wb.create_sheet("DATA")
    headers = [h for h in HEADERS if h != "JABATAN"]
    ws.append(headers)
    for i in ids:
        ws.append(person(i)[:-1])
    wb.save(path)
    return path


def test_config_inputs_read_a_folder_of_mixed_lists_in_one_build(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    headers = [h for h in HEADERS if h != "JABATAN"]
    write_csv(inbox / "rt_tiban.csv", headers, [person(i)[:-1] for i in range(1, 4)])
    posyandu_workbook(inbox / "posyandu_mawar.xlsx", range(10, 13))
    config = tmp_path / "jamsos.toml"
    config.write_text(
        '[[inputs]]\npattern = "rt_*"\nrole = "Ketua RT"\n\n'
        '[[inputs]]\npattern = "posyandu_*.xlsx"\nrole = "Kader Posyandu"\nsheet = "DATA"\n',
        encoding="utf-8",
    )
    args = build_args(tmp_path, inbox, extra=("--batch-format", "csv", "--format", "json"))
    run = invoke([*args, "--config", config])
    assert_clean(run, allowed=(0,))
    doc = json_doc(run)
    assert doc["summary"]["submitted"] == 6
    rows = batch_rows(tmp_path / "out")
    by_nik = dict(zip(nik_column(rows), [json.dumps(r) for r in rows], strict=True))
    assert all("Ketua RT" in by_nik[person(i)[1]] for i in range(1, 4))
    assert all("Kader Posyandu" in by_nik[person(i)[1]] for i in range(10, 13))


def test_config_inputs_are_strict(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "rt.csv", HEADERS, [person(1)])
    config = tmp_path / "jamsos.toml"
    config.write_text('[[inputs]]\npattern = "rt_*"\nrol = "Ketua RT"\n', encoding="utf-8")
    run = invoke(["validate", src, "--config", config])
    assert_clean(run, allowed=(2,))
    assert "inputs" in run.stderr and "rol" in run.stderr


# ---------------------------------------------------------------------------- footers


def test_total_rows_are_footers_wherever_their_word_and_count_stand(tmp_path: Path) -> None:
    rows = [person(i) for i in range(1, 4)]
    width = len(HEADERS)
    footers = [
        ["JUMLAH", "3 orang"] + [""] * (width - 2),  # the count where the NIK goes
        ["", "", "TOTAL", "", "", "", "", "", "", "", "", "Rp 151.200", ""],
        ["", "", "", "", "", "", "", "", "", "", "", "", "Jumlah : 3"],
    ]
    src = write_csv(tmp_path / "rt.csv", HEADERS, rows, footer_rows=footers)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 0, doc["issues"]
    assert doc["summary"]["rows"] == 3


def test_a_person_typed_below_the_footer_is_read_and_checked(tmp_path: Path) -> None:
    rows = [person(i) for i in range(1, 4)]
    late = person(4)
    late[1] = ""  # the NIK not known yet
    empty = [""] * len(HEADERS)
    footers = [
        ["", "", "JUMLAH", "", "", "", "", "", "", "", "", "", "3"],
        late,  # line 7: typed below the total
        ["", "", "", "", "", "", "", "", "", "", "Batam, 12 Mei 2025", "", ""],
        ["", "", "Mengetahui,", "", "", "", "", "", "", "", "Ketua RW 05", "", ""],
        ["", "", "Lurah Tiban Baru", "", "", "", "", "", "", "", "", "", ""],
        empty,
        ["", "", "H. AHMAD SUDIRMAN, S.Sos", "", "", "", "", "", "", "", "BUDI", "", ""],
        ["", "NIP. 19700101 199803 1 002", "", "", "", "", "", "", "", "", "", "", ""],
    ]
    src = write_csv(tmp_path / "rt.csv", HEADERS, rows, footer_rows=footers)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 1
    assert doc["summary"]["rows"] == 4  # the three, and the one typed below the total
    assert codes_by_row(doc) == {6: {"NIK_MISSING"}}


# ---------------------------------------------------------------------------- dates


def test_weekday_dates_and_old_spellings_are_read_two_digit_years_are_not(tmp_path: Path):
    dates = [  # (as typed, day, month, year)
        ("Senin, 12 Mei 1980", 12, 5, 1980),  # CLDR's full Indonesian form
        ("Jum'at, 3 Djanuari 1964", 3, 1, 1964),
        ("12 Mai 1981", 12, 5, 1981),
        ("7 Ag 1975", 7, 8, 1975),
        ("21 Djuli 1969", 21, 7, 1969),
        ("12-05-80", 12, 5, 1980),  # a two-digit year: never guessed
    ]
    col = HEADERS.index("TGL LAHIR")
    rows = []
    for i, (typed, day, month, year) in enumerate(dates):
        row = person(i + 1)
        row[1] = make_nik("217110", day, month, year, row[HEADERS.index("JK")] == "P", 700 + i)
        row[col] = typed
        rows.append(row)
    src = write_csv(tmp_path / "dates.csv", HEADERS, rows)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 1
    assert codes_by_row(doc) == {7: {"DOB_FORMAT"}}, doc["issues"]


# ---------------------------------------------------------------------------- phones


PHONES = {
    "0812 3456 7890": None,  # a mobile
    "0778 462047": "PHONE_LANDLINE",  # a Batam landline
    "(021) 500-600": "PHONE_LANDLINE",  # Jakarta
    "0800 1234 567": "PHONE_FORMAT",  # toll-free
    "0809 1234 567": "PHONE_FORMAT",  # premium-rate
    "0801 2345 6789": "PHONE_FORMAT",  # not allocated
    "0841 2345 678": "PHONE_FORMAT",  # not allocated
    "+65 8123 4567": "PHONE_FORMAT",  # Singapore
}


def test_phones_by_libphonenumber_and_the_batch_keeps_mobiles_and_landlines(tmp_path: Path):
    rows = [person(i) for i in range(1, len(PHONES) + 1)]
    col = HEADERS.index("NO HP")
    for row, phone in zip(rows, PHONES, strict=True):
        row[col] = phone
    src = write_csv(tmp_path / "hp.csv", HEADERS, rows)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF, "--show-pii")
    assert code == 0  # warnings only: nobody is rejected for a phone
    found = {i["value"]: i["code"] for i in doc["issues"]}
    assert found == {p: c for p, c in PHONES.items() if c}
    assert {i["severity"] for i in doc["issues"]} == {"warning"}
    run = invoke(build_args(tmp_path, src, extra=("--batch-format", "csv")))
    assert_clean(run, allowed=(0,))
    written = json.dumps(batch_rows(tmp_path / "out"))
    assert "081234567890" in written and "0778462047" in written and "021500600" in written
    for kept_out in ("08001234567", "08091234567", "080123456789", "0841", "6581234567"):
        assert kept_out not in written


def generated_numbers(limit: int) -> list[tuple[str, str]]:
    """(number as a clerk types it, libphonenumber's type) for numbers of every type."""
    from benchmarks.phones import generated_set

    return generated_set()[:limit]


def test_a_libphonenumber_generated_set_is_classified_as_libphonenumber_does(tmp_path: Path):
    from benchmarks.phones import expected_code

    numbers = generated_numbers(400)
    rows = []
    for i, (typed, _) in enumerate(numbers):
        row = person(i % 12)
        row[1] = ""  # no NIK: the rows differ by their phone only (NIK_MISSING on each)
        row[HEADERS.index("NO HP")] = typed
        rows.append(row)
    src = write_csv(tmp_path / "generated.csv", HEADERS, rows, encoding="utf-8")
    code, doc = run_json("validate", src, *AS_OF)
    got = {i["row"]: i["code"] for i in doc["issues"] if i["code"].startswith("PHONE")}
    want = {}
    for line, (_, kind) in enumerate(numbers, start=2):
        if expected_code(kind):
            want[line] = expected_code(kind)
    assert got == want


# ---------------------------------------------------------------------------- places


def test_island_spellings_resolve_through_the_alias_data(tmp_path: Path) -> None:
    rows = [person(i) for i in range(1, 4)]
    kel, kec = HEADERS.index("KELURAHAN"), HEADERS.index("KECAMATAN")
    rows[0][kel], rows[0][kec] = "Pulau Terong", "Belakang Padang"
    rows[1][kel], rows[1][kec] = "Setokok", "Bulang"
    rows[2][kel], rows[2][kec] = "Terong", "Belakang Padang"  # no alias: never guessed
    src = write_csv(tmp_path / "pulau.csv", HEADERS, rows)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 1
    assert codes_by_row(doc) == {4: {"KELURAHAN_UNKNOWN"}}
    run = invoke(build_args(tmp_path, src, extra=("--batch-format", "csv")))
    assert_clean(run, allowed=(1,))  # the third row is rejected, the other two are written
    written = json.dumps(batch_rows(tmp_path / "out"))
    assert "Pulau Terung" in written and "Pulau Setokok" in written


# ---------------------------------------------------------------------------- file kinds


def test_xlsm_is_read_like_xlsx(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(HEADERS)
    for i in range(1, 4):
        wb.active.append(person(i))
    src = tmp_path / "rt_makro.xlsm"
    wb.save(src)
    code, doc = run_json("validate", src, "--decree", RT, *AS_OF)
    assert code == 0 and doc["summary"]["accepted"] == 3
    folder = invoke(["validate", tmp_path, "--decree", RT, *AS_OF, "--format", "json"])
    assert json_doc(folder)["summary"]["files"][0]["file"].endswith("rt_makro.xlsm")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx_bytes(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("daftar.pdf", "PDF"),
        ("daftar.xlsx", "PDF"),
        ("daftar.csv", "PDF"),
        ("daftar.docx", "Word"),
        ("daftar_word.xlsx", "Word"),
    ],
)
def test_a_document_given_as_a_roster_is_named_as_such(tmp_path: Path, name: str, kind: str):
    src = tmp_path / name
    src.write_bytes(PDF if kind == "PDF" else docx_bytes(tmp_path / "x.docx"))
    code, doc = run_json("validate", src, *AS_OF, "--lang", "en")
    assert code == 2
    (only,) = doc["issues"]
    assert only["code"] == "FILE_NOT_A_ROSTER"
    assert f"This file is a {kind} document, not a roster" in only["message"]
    assert "rename" not in only["message"]


# ---------------------------------------------------------------------------- progress


def run_on_terminal(*args: str, cwd: Path) -> tuple[int, str, str]:
    """``jamsos ARGS`` with stderr on a pseudo-terminal (a clerk's screen); stdout piped."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [JAMSOS, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
    )
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif proc.poll() is not None:
            break
    stdout = proc.communicate(timeout=60)[0]
    os.close(master)
    return proc.returncode, stdout.decode(), screen.decode("utf-8", "replace")


def test_progress_is_shown_on_a_terminal_only(tmp_path: Path) -> None:
    write_csv(tmp_path / "rt.csv", HEADERS, [person(i) for i in range(1, 6)])
    code, out, screen = run_on_terminal("validate", "rt.csv", "--decree", RT, *AS_OF, cwd=tmp_path)
    assert code == 0
    assert "Membaca rt.csv" in screen and "Memeriksa baris" in screen
    assert "Membaca" not in out  # the report on stdout holds no progress
    code, out, screen = run_on_terminal(
        "validate", "rt.csv", "--decree", RT, *AS_OF, "--format", "json", cwd=tmp_path
    )
    assert code == 0 and json.loads(out)["summary"]["accepted"] == 5
    assert "Membaca" not in screen and "Memeriksa" not in screen
    piped = subprocess.run(
        [JAMSOS, "validate", "rt.csv", "--decree", RT, *AS_OF],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )  # as cron runs it: no terminal
    assert piped.returncode == 0
    assert "Membaca" not in piped.stderr + piped.stdout
