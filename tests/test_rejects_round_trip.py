"""Rejects files coming back, through the installed command, on real files (issue 11).

A kelurahan gets its rejects file, sends it back unchanged or fixed, or re-saves it in
another spreadsheet first; cron runs on whatever arrived. Every time: the same people are
rejected for the same reasons until they are fixed, a fixed person is paid once, jamsos's
own columns are never a finding or a crash, and ``--exit-zero`` tells cron rejected rows from
failures.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date, datetime
from pathlib import Path

import xlsxwriter
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from tests.helpers import JAMSOS, ledger_rows
from tests.rosters import HEADERS, RT, person, write_csv

CODE = re.compile(r"\b[A-Z][A-Z_]+[A-Z]\b(?=:)")  # "NIK_FORMAT: ..." in a reasons cell
NIK, KEL, DOB = HEADERS.index("NIK"), HEADERS.index("KELURAHAN"), HEADERS.index("TGL LAHIR")


def jamsos(*args: object) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [JAMSOS, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def build(src: Path, tmp: Path, *extra: object) -> tuple[int, dict]:
    done = jamsos(
        "build-batch", src, "--decree", RT, "--start", "2025-06", "--out", tmp / "out",
        "--ledger", tmp / "ledger.sqlite", "--new-ledger", "--format", "json", *extra,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def batches(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if not p.name.startswith("."))


def codes(doc: dict) -> list[str]:
    return sorted({i["code"] for i in doc["issues"]})


def sent_back(path: Path) -> dict[str, list[str]]:
    """NIK (a number cell as its digits) → the codes of its reasons, per row of a rejects
    file: who was sent back and why, by identity."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = [str(c) for c in rows[0]]
    nik, reasons = header.index("NIK"), header.index("ALASAN PENOLAKAN")
    out = {}
    for row in rows[1:]:
        value = row[nik]
        key = str(int(value)) if isinstance(value, float) else str(value)
        out[key] = sorted(set(CODE.findall(row[reasons])))
    return out


def sender_workbook(path: Path) -> dict[str, list]:
    """A kelurahan's workbook as Excel makes it: a title row, NIKs typed as numbers (one ending
    in 0: its 16th digit may be lost), birth dates as date cells, a JUMLAH footer and a
    person typed below it. Returns each person's row by name."""
    people = {
        "lost": person(0),  # numeric NIK ending in 0: NIK_PRECISION_LOST
        "ok1": person(1),
        "typo": person(2),  # kelurahan misspelt: KELURAHAN_UNKNOWN
        "ok2": person(3),
        "short": person(5),  # typed below the JUMLAH footer, 15-digit NIK: NIK_FORMAT
    }
    people["typo"][KEL] = "Tembesy"
    people["short"][NIK] = people["short"][NIK][:15]
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    number, day = wb.add_format({"num_format": "0"}), wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_string(0, 0, "DAFTAR KETUA RT KELURAHAN TEMBESI")
    ws.write_row(2, 0, HEADERS)
    order = ["lost", "ok1", "typo", "ok2", None, "short"]
    for r, key in enumerate(order, start=3):
        if key is None:
            ws.write_row(r, 0, ["", "JUMLAH", "4 orang"])
            continue
        for c, value in enumerate(people[key]):
            if c == NIK and key != "short":
                ws.write_number(r, c, int(value), number)
            elif c == DOB:
                ws.write_datetime(r, c, datetime.strptime(value, "%d-%m-%Y"), day)
            else:
                ws.write_string(r, c, value)
    wb.close()
    return people


def test_rejects_resent_unchanged_then_fixed_pays_each_person_once(tmp_path: Path) -> None:
    src = tmp_path / "rt_tembesi.xlsx"
    people = sender_workbook(src)
    code, doc = build(src, tmp_path)
    assert code == 1 and doc["summary"]["submitted"] == 2
    (first,) = batches(tmp_path / "out")
    rejects = first / "rt_tembesi.rejects.xlsx"
    assert not (first / "rt_tembesi.rejects.csv").exists()
    expected = {
        people["lost"][NIK]: ["NIK_PRECISION_LOST"],
        people["typo"][NIK]: ["KELURAHAN_UNKNOWN"],
        people["short"][NIK]: ["NIK_FORMAT"],
    }
    assert sent_back(rejects) == expected

    # what the sender opens: their own cells, the evidence kept, the faults pointed at
    ws = load_workbook(rejects).active
    assert ws.freeze_panes == "B2"
    assert [c.value for c in ws[1]] == ["BARIS", *HEADERS, "ALASAN PENOLAKAN"]
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == [4, 6, 9]  # the sender's rows
    lost = ws.cell(2, NIK + 2)
    assert lost.data_type == "n" and lost.value == int(people["lost"][NIK])  # still a number
    assert lost.fill.fgColor.rgb.endswith("FFEB9C") and "NIK_PRECISION_LOST" in lost.comment.text
    typo_dob = ws.cell(3, DOB + 2)
    born = datetime.strptime(people["typo"][DOB], "%d-%m-%Y")
    assert typo_dob.is_date and typo_dob.value == born  # a date cell, as it was sent
    assert "KELURAHAN_UNKNOWN" in ws.cell(3, KEL + 2).comment.text
    assert ws.cell(3, NIK + 2).comment is None  # only the offending cell is pointed at
    width = ws.column_dimensions["C"].width
    assert width >= len(people["lost"][NIK])  # wide enough to read a NIK

    # sent back unchanged: the same people rejected for the same reasons, nobody paid
    code, again = build(rejects, tmp_path)
    assert code == 1 and again["batch"] is None and again["summary"]["submitted"] == 0
    assert "COLUMN_IGNORED" not in codes(again)
    (second,) = batches(tmp_path / "out")
    assert second == first  # no new batch folder
    # the rows named are the resent file's own
    assert sorted(i["row"] for i in again["issues"] if i["severity"] == "error") == [2, 3, 4]
    back = jamsos("validate", rejects, "--rejects", tmp_path / "again.xlsx")
    assert back.returncode == 1
    assert sent_back(tmp_path / "again.xlsx") == expected  # and its rejects once more

    # fixed: the NIK retyped as Text, the kelurahan corrected, the short NIK completed
    wb = load_workbook(rejects)
    ws = wb.active
    ws.cell(2, NIK + 2).value = people["lost"][NIK]
    ws.cell(3, KEL + 2).value = "Tembesi"
    ws.cell(4, NIK + 2).value = person(5)[NIK]
    fixed = tmp_path / "rt_tembesi_perbaikan.xlsx"
    wb.save(fixed)
    code, paid = build(fixed, tmp_path)
    assert code == 0 and paid["summary"]["submitted"] == 3, paid["issues"]
    niks = [n for _, _, n in ledger_rows(tmp_path / "ledger.sqlite")]
    everyone = [person(i)[NIK] for i in (0, 1, 2, 3, 5)]
    assert sorted(niks) == sorted(everyone)  # each person once

    code, twice = build(fixed, tmp_path)  # the same fixed file again: nobody paid twice
    assert code == 0 and twice["batch"] is None
    assert [n for _, _, n in ledger_rows(tmp_path / "ledger.sqlite")] == niks


def libreoffice_resave(path: Path, target: Path) -> Path:
    """The rejects file as LibreOffice saves it after opening: text that looks like a date
    becomes a date cell (shown DD/MM/YY), digits not in a Text column become numbers (a
    phone loses its leading 0), the Text-formatted NIK column stays text; comments and
    highlights are gone."""
    source = load_workbook(path)
    ws = source.active
    out = xlsxwriter.Workbook(str(target))
    sheet = out.add_worksheet(ws.title)
    short = out.add_format({"num_format": "DD/MM/YY"})
    for r, row in enumerate(ws.iter_rows()):
        for c, cell in enumerate(row):
            value = cell.value
            if value is None:
                continue
            if isinstance(value, str) and re.fullmatch(r"\d\d-\d\d-\d{4}", value):
                sheet.write_datetime(r, c, datetime.strptime(value, "%d-%m-%Y"), short)
            elif isinstance(value, str) and value.isdigit() and cell.number_format != "@":
                sheet.write_number(r, c, int(value))
            else:
                sheet.write(r, c, value)
    out.close()
    return target


def test_a_folder_holding_only_a_rejects_file_sent_back_says_so(tmp_path: Path) -> None:
    """The sender's fixed file comes back under the name jamsos gave it and the clerk drops
    it in the incoming folder: a folder skips rejects files (they are written next to the
    inputs), and the run said the folder held no roster at all."""
    src = tmp_path / "rt_tembesi.xlsx"
    sender_workbook(src)
    build(src, tmp_path)
    (first,) = batches(tmp_path / "out")
    incoming = tmp_path / "masuk"
    incoming.mkdir()
    back = incoming / "rt_tembesi.rejects.xlsx"
    back.write_bytes((first / back.name).read_bytes())
    done = jamsos("validate", incoming)
    assert done.returncode == 2
    assert "rt_tembesi.rejects.xlsx" in done.stdout and "sebutkan berkasnya sendiri" in done.stdout
    assert jamsos("validate", back).returncode == 1  # named itself, it is read


def test_a_rejects_file_resaved_by_libreoffice_reads_back(tmp_path: Path) -> None:
    rows = [person(i) for i in (1, 2, 3, 4)]
    rows[1][KEL] = "Tembesy"  # KELURAHAN_UNKNOWN
    rows[3][HEADERS.index("JK")] = "X"  # SEX_INVALID
    src = write_csv(tmp_path / "rt.csv", HEADERS, rows)  # cp1252 ';', as Excel saves it
    first = jamsos("validate", src, "--rejects", tmp_path / "rt.rejects.xlsx", "--format", "json")
    assert first.returncode == 1
    expected = sent_back(tmp_path / "rt.rejects.xlsx")
    assert expected == {rows[1][NIK]: ["KELURAHAN_UNKNOWN"], rows[3][NIK]: ["SEX_INVALID"]}
    resaved = libreoffice_resave(tmp_path / "rt.rejects.xlsx", tmp_path / "rt_lo.xlsx")
    kinds = CalamineWorkbook.from_path(str(resaved)).get_sheet_by_index(0).to_python()[1]
    assert isinstance(kinds[DOB + 1], date) and isinstance(kinds[0], float)  # as LO left it

    done = jamsos(
        "validate", resaved, "--rejects", tmp_path / "lo.rejects.xlsx", "--format", "json"
    )
    doc = json.loads(done.stdout)
    assert done.returncode == 1
    assert codes(doc) == ["KELURAHAN_UNKNOWN", "SEX_INVALID"]  # no DOB_*, no COLUMN_IGNORED
    assert sent_back(tmp_path / "lo.rejects.xlsx") == expected
    assert jamsos("validate", resaved, "--exit-zero").returncode == 0


def test_english_rejects_two_row_header_and_a_csv_when_asked(tmp_path: Path) -> None:
    """An English rejects file read by an Indonesian run; a merged two-row header comes back
    as two rows and reads the same; a .csv path gets ';' UTF-8 with a BOM, read back too."""
    top = ["NO", "NIK", "NAMA", "TEMPAT/TGL LAHIR", "", "JK", "KELURAHAN", "KECAMATAN"]
    sub = ["", "", "", "TEMPAT", "TANGGAL", "", "", ""]
    people = []
    for i in (1, 2, 3):
        p = person(i)
        people.append([p[0], p[1], p[2], p[3], p[4], p[5], p[9], p[10]])
    people[2][6] = "Tembesy"
    src = write_csv(tmp_path / "dua_baris.csv", top, [sub, *people])
    out = tmp_path / "en.rejects.xlsx"
    assert jamsos("validate", src, "--lang", "en", "--rejects", out).returncode == 1
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["ROW", *top, "REJECTION REASONS"] and rows[1] == ["", *sub, ""]
    assert [r[0] for r in rows[2:]] == [5.0]  # title-less: header lines 1-2, person 3 on 5

    again = jamsos("validate", out, "--format", "json", "--rejects", tmp_path / "back.csv")
    doc = json.loads(again.stdout)
    assert again.returncode == 1 and codes(doc) == ["KELURAHAN_UNKNOWN"]
    assert [i["row"] for i in doc["issues"]] == [3]  # the resent file's row
    raw = (tmp_path / "back.csv").read_bytes()
    assert raw.startswith("\ufeffBARIS;NO;NIK;NAMA;TEMPAT/TGL LAHIR;;JK;".encode())
    third = jamsos("validate", tmp_path / "back.csv", "--format", "json")
    assert codes(json.loads(third.stdout)) == ["KELURAHAN_UNKNOWN"]  # the csv comes back too


def test_exit_zero_only_forgives_rejected_rows(tmp_path: Path) -> None:
    rows = [person(1), person(2)]
    rows[1][KEL] = "Tembesy"
    src = write_csv(tmp_path / "rt.csv", HEADERS, rows)
    assert jamsos("validate", src).returncode == 1
    assert jamsos("validate", src, "--exit-zero").returncode == 0
    assert jamsos("validate", tmp_path / "nope.csv", "--exit-zero").returncode == 2
    code, doc = build(src, tmp_path, "--exit-zero")
    assert code == 0 and doc["summary"]["submitted"] == 1 and doc["summary"]["rejected"] == 1
    out, ledger = tmp_path / "o2", tmp_path / "l2.sqlite"
    bad = jamsos("build-batch", src, "--decree", "no-such-decree", "--start", "2025-06",
                 "--out", out, "--ledger", ledger, "--new-ledger", "--exit-zero")  # fmt: skip
    assert bad.returncode == 2


def test_a_wide_workbook_comes_back_the_same(tmp_path: Path) -> None:
    """A roster with a hundred extra columns (the rows are built as one long column of
    cells past 64): the numeric NIK ending in 0, the date cell and the highlight come back
    as in a narrow one, and the file sent back is rejected the same way."""
    extra = [f"KOLOM TAMBAHAN {k}" for k in range(100)]
    src = tmp_path / "lebar.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("Data")
    day = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, [*HEADERS, *extra])
    for r, i in enumerate((0, 1), start=1):  # person 0's NIK ends in 0
        row = person(i)
        ws.write_row(r, 0, [*row, *(f"isi {r}.{k}" for k in range(100))])
        ws.write_number(r, NIK, int(row[NIK]))
        ws.write_datetime(r, DOB, datetime.strptime(row[DOB], "%d-%m-%Y"), day)
    wb.close()
    out = tmp_path / "lebar.rejects.xlsx"
    assert jamsos("validate", src, "--rejects", out).returncode == 1
    assert sent_back(out) == {person(0)[NIK]: ["NIK_PRECISION_LOST"]}
    ws = load_workbook(out).active
    assert (
        ws.max_column == len(HEADERS) + 100 + 2
        and ws.cell(2, ws.max_column - 1).value == "isi 1.99"
    )
    nik = ws.cell(2, NIK + 2)
    assert nik.data_type == "n" and nik.fill.fgColor.rgb.endswith("FFEB9C") and nik.comment
    assert ws.cell(2, DOB + 2).is_date
    again = jamsos("validate", out, "--rejects", tmp_path / "lagi.xlsx")
    assert again.returncode == 1 and sent_back(tmp_path / "lagi.xlsx") == sent_back(out)
