"""Reading rosters as they really arrive: real CSV and workbook files written in tmp_path."""

from __future__ import annotations

import hashlib
import os
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from jamsos_cli import read as read_mod
from jamsos_cli.read import expand_inputs, read_roster
from jamsos_cli.tables import RosterReadError, RosterTable
from tests.helpers import refused
from tests.rosters import make_nik

BUDI = make_nik("217101", 12, 5, 1980, female=False, serial=1)  # 2171011205800001
SITI = make_nik("217102", 5, 6, 1985, female=True, serial=2)
ANDI = make_nik("217103", 1, 1, 1990, female=False, serial=10)  # ends in 0
HEADER = "NO;NIK;NAMA LENGKAP;TEMPAT/TGL LAHIR;JK;KELURAHAN"


def write(path: Path, lines: list[str], encoding: str = "utf-8", eol: str = "\r\n") -> Path:
    path.write_bytes((eol.join(lines) + eol).encode(encoding))
    return path


def read(path: Path, sheet: str | None = None) -> RosterTable:
    return read_roster(path, path.name, sheet)


def column(table: RosterTable, field: str) -> list:
    return table.frame.get_column(table.column_of(field)).to_list()


def rows(table: RosterTable) -> list[int]:
    return table.frame.get_column("_row").to_list()


def codes(table: RosterTable) -> dict[str, str | None]:
    return {n["code"]: n["detail"] for n in table.notes}


# ---------------------------------------------------------------------------- CSV


@pytest.fixture
def kelurahan_csv(tmp_path: Path) -> Path:
    """A kelurahan's roster as Indonesian Excel saves it: cp1252, ';', title, footer."""
    return write(
        tmp_path / "rt_sungai_panas.csv",
        [
            "DAFTAR NAMA KETUA RT KELURAHAN SUNGAI PANAS;;;;;",  # 1
            "TAHUN 2025;;;;;",  # 2
            ";;;;;",  # 3
            HEADER,  # 4
            f"1;{BUDI};Budi Santoso;Batam, 12-05-1980;L;Sungai Panas",  # 5
            "",  # 6 blank line
            f"2;{SITI};Sitì Désa;Tanjungpinang, 05-06-1985;P;Sungai Panas",  # 7
            "3;;Andi Wijaya;Medan, 01-01-1990;L;Sungai Panas",  # 8: no NIK, still a person
            "4;;;;;",  # 9: pre-numbered empty template row
            ";;JUMLAH;;;3 orang",  # 10
            ";;;Batam, 12 Mei 2025;;",  # 11
            ";;Mengetahui,;;;",  # 12
            ";;LURAH SUNGAI PANAS;;;",  # 13
            ";;;;;",  # 14
            ";;BUDI HARTONO, S.Sos;;;",  # 15: the official's name
            ";;NIP. 19700101 199803 1 002;;;",  # 16
        ],
        encoding="cp1252",
    )


def test_cp1252_semicolon_roster_with_title_and_footer(kelurahan_csv: Path) -> None:
    t = read(kelurahan_csv)
    assert (t.kind, t.encoding, t.delimiter, t.sheet) == ("csv", "cp1252", ";", None)
    assert t.header_row == 4
    assert t.headers == ["NO", "NIK", "NAMA LENGKAP", "TEMPAT/TGL LAHIR", "JK", "KELURAHAN"]
    assert t.fields == {
        "row_number": 0,
        "nik": 1,
        "name": 2,
        "birth_place_date": 3,
        "sex": 4,
        "kelurahan": 5,
    }
    assert column(t, "name") == ["Budi Santoso", "Sitì Désa", "Andi Wijaya"]
    assert column(t, "nik") == [BUDI, SITI, None]
    assert column(t, "birth_place_date")[0] == "Batam, 12-05-1980"
    assert rows(t) == [5, 7, 8]  # blank line counted; footer and signature block gone
    assert t.frame.columns == ["c0", "c1", "c2", "c3", "c4", "c5", *read_mod.EXTRA]
    assert t.frame.get_column("_nik_numeric").to_list() == [False, False, False]
    assert t.notes == []


def test_utf8_with_bom_comma_delimited(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    write(p, ["NIK,NAMA,TGL LAHIR", f"{BUDI},Réné Saputra,12/05/1980"])
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    t = read(p)
    assert (t.encoding, t.delimiter) == ("utf-8-sig", ",")
    assert t.headers[0] == "NIK"  # no BOM glued to the first header
    assert column(t, "name") == ["Réné Saputra"]
    assert rows(t) == [2]


@pytest.mark.parametrize("delimiter", ["\t", "|", ";", ","])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_delimiters_and_line_ends(tmp_path: Path, delimiter: str, eol: str) -> None:
    lines = [
        "",
        "DAFTAR PENGEMUDI OJEK ONLINE",
        delimiter.join(["NIK", "NAMA DRIVER", "NO HP/WA"]),
        delimiter.join([BUDI, "Budi", "0812-3456-7890"]),
        "",
        delimiter.join([SITI, "Siti", "+62 813 1111 2222"]),
    ]
    t = read(write(tmp_path / "ojol.csv", lines, eol=eol))
    assert t.delimiter == delimiter
    assert t.header_row == 3  # the leading blank line counts
    assert column(t, "phone") == ["0812-3456-7890", "+62 813 1111 2222"]
    assert rows(t) == [4, 6]


def test_semicolon_file_with_comma_decimals_and_quoted_commas(tmp_path: Path) -> None:
    lines = [
        "NIK;NAMA;TEMPAT, TANGGAL LAHIR;LUAS (HA);KETERANGAN",
        f'{BUDI};Budi;"Batam, 12-05-1980";12,5;"a, b, c"',
        f'{SITI};Siti;"Batam, 05-06-1985";0,75;',
    ]
    t = read(write(tmp_path / "nelayan.csv", lines))
    assert t.delimiter == ";"
    assert column(t, "birth_place_date") == ["Batam, 12-05-1980", "Batam, 05-06-1985"]
    assert t.frame.get_column("c3").to_list() == ["12,5", "0,75"]
    assert codes(t) == {"COLUMN_IGNORED": "LUAS (HA), KETERANGAN"}


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_quoted_multiline_cell_keeps_later_row_numbers(tmp_path: Path, eol: str) -> None:
    lines = [
        "NIK,NAMA,ALAMAT",  # 1
        f'{BUDI},Budi,"Jl. Sudirman 1{eol}Blok A{eol}No. 5"',  # 2-4
        f"{SITI},Siti,Jl. Melati",  # 5
        "",  # 6
        f'{ANDI},"Andi{eol}Wijaya",Jl. Mawar',  # 7-8
        f"{BUDI},Budi lagi,Jl. Anggrek",  # 9
    ]
    t = read(write(tmp_path / "multi.csv", lines, eol=eol))
    assert rows(t) == [2, 5, 7, 9]
    assert column(t, "address")[0].splitlines() == ["Jl. Sudirman 1", "Blok A", "No. 5"]


def test_multiline_cells_are_numbered_without_the_slow_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("the lenient csv-module parser was used")

    monkeypatch.setattr(read_mod, "_parse_python", refuse)
    lines = ["NIK;NAMA;ALAMAT", f'{BUDI};Budi;"Blok A\r\nNo. 5"', "", f"{SITI};Siti;Blok B"]
    assert rows(read(write(tmp_path / "fast.csv", lines))) == [2, 5]


def test_ragged_rows_do_not_crash(tmp_path: Path) -> None:
    lines = [
        "JUDUL",
        "NIK;NAMA;TGL LAHIR;JK",
        f"{BUDI};Budi",  # fewer fields
        f"{SITI};Siti;05-06-1985;P;extra;more",  # more fields
    ]
    t = read(write(tmp_path / "ragged.csv", lines))
    assert column(t, "birth_date") == [None, "05-06-1985"]
    assert column(t, "sex") == [None, "P"]
    assert rows(t) == [3, 4]


def test_stray_quote_inside_a_cell_is_read_leniently(tmp_path: Path) -> None:
    lines = [
        "NIK;NAMA;ALAMAT",
        f'{BUDI};Budi;Jl. Melati 5" Blok A',
        f'{SITI};"Siti; Aminah";Jl. Mawar',
        f"{ANDI};Andi;Jl. Anggrek",
    ]
    t = read(write(tmp_path / "quote.csv", lines))
    assert column(t, "address") == ['Jl. Melati 5" Blok A', "Jl. Mawar", "Jl. Anggrek"]
    assert column(t, "name") == ["Budi", "Siti; Aminah", "Andi"]
    assert rows(t) == [2, 3, 4]


def test_unclosed_quote_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = ["NIK;NAMA", f'{BUDI};"Budi'] + [f"{SITI};Siti {i}" for i in range(80)]
    with pytest.raises(RosterReadError) as err:
        read(write(tmp_path / "open_quote.csv", lines))
    assert err.value.row == 2
    assert "never closed" in err.value.message("en")


def test_values_are_stripped_and_empty_is_null(tmp_path: Path) -> None:
    lines = [
        "NIK;NAMA;JK;ALAMAT",
        f"  {BUDI}\u00a0; \u200bBudi Santoso\u00a0 ;\t;   ",
    ]
    t = read(write(tmp_path / "spaces.csv", lines))
    assert column(t, "nik") == [BUDI]
    assert column(t, "name") == ["Budi Santoso"]
    assert column(t, "sex") == [None]
    assert column(t, "address") == [None]


def test_cp1252_detected_beyond_the_sniffed_lines(tmp_path: Path) -> None:
    lines = ["NIK;NAMA"] + [f"{BUDI};Budi {i}" for i in range(300)] + [f"{SITI};Désa"]
    t = read(write(tmp_path / "late.csv", lines, encoding="cp1252"))
    assert t.encoding == "cp1252"
    assert column(t, "name")[-1] == "Désa"
    assert rows(t)[-1] == 302


def test_bytes_undefined_in_cp1252_read_as_latin1(tmp_path: Path) -> None:
    p = tmp_path / "odd.csv"
    p.write_bytes(b"NIK;NAMA\r\n" + BUDI.encode() + b";Bu\x81di \xe9\r\n")
    t = read(p)
    assert t.encoding == "cp1252"
    assert column(t, "name") == ["Bu\x81di é"]


def test_utf16_unicode_text_export(tmp_path: Path) -> None:
    p = tmp_path / "unicode.csv"
    p.write_bytes(f"NIK\tNAMA\r\n{BUDI}\tSitì\r\n".encode("utf-16"))
    t = read(p)
    assert (t.encoding, t.delimiter) == ("utf-16", "\t")
    assert column(t, "name") == ["Sitì"]


def test_classic_mac_line_ends(tmp_path: Path) -> None:
    t = read(write(tmp_path / "mac.csv", ["JUDUL", "NIK;NAMA", f"{BUDI};Budi"], eol="\r"))
    assert rows(t) == [3]


def test_multi_page_export_repeats_header_and_footer(tmp_path: Path) -> None:
    lines = [
        "NO;NIK;NAMA;TGL LAHIR",  # 1
        f"1;{BUDI};Budi;12-05-1980",  # 2
        ";;TOTAL HALAMAN INI;",  # 3
        ";;Halaman 1 dari 2;",  # 4
        "NO;NIK;NAMA;TGL LAHIR",  # 5: the header again
        "(1);(2);(3);(4)",  # 6: column numbers under it
        f"2;{SITI};Siti;05-06-1985",  # 7
        "3;;Andi tanpa NIK;",  # 8: a person, after the page-1 footer
        ";;Sub Total;",  # 9
        ";;Ketua RW 05;",  # 10: signature block of page 2
    ]
    t = read(write(tmp_path / "pages.csv", lines))
    assert column(t, "name") == ["Budi", "Siti", "Andi tanpa NIK"]
    assert rows(t) == [2, 7, 8]


def test_person_with_name_and_birth_date_but_no_nik_is_never_a_footer(tmp_path: Path) -> None:
    lines = [
        "NIK;NAMA;TEMPAT/TGL LAHIR",
        f"{BUDI};Budi;Batam, 12-05-1980",
        ";Total Wijaya;Batam, 12 Mei 1980",  # name starts like a footer word, but is a person
        ";;Batam, 12 Mei 2025",  # the signature date line
    ]
    t = read(write(tmp_path / "total.csv", lines))
    assert column(t, "name") == ["Budi", "Total Wijaya"]


def test_no_header_found(tmp_path: Path) -> None:
    with refused(RosterReadError, "No header row found in the first 50 rows") as err:
        read(write(tmp_path / "noheader.csv", ["A;B;C", "1;2;3", f"{BUDI};Budi;L"]))
    assert (err.value.code, err.value.finding_detail()) == ("HEADER_NOT_FOUND", ("50", None))


def test_wide_and_huge_cells_read(tmp_path: Path) -> None:
    wide = ["NIK", "NAMA"] + [f"X{i}" for i in range(10_000)]
    lines = [";".join(wide), ";".join([BUDI, "Budi"] + ["v"] * 10_000)]
    t = read(write(tmp_path / "wide.csv", lines))
    assert t.frame.width == 10_002 + len(read_mod.EXTRA)
    assert column(t, "name") == ["Budi"]
    big = "x" * 1_000_000
    t = read(write(tmp_path / "bigcell.csv", ["NIK;NAMA;ALAMAT", f'{BUDI};Budi;"{big}"']))
    assert len(column(t, "address")[0]) == 1_000_000


def test_reading_never_modifies_the_input(kelurahan_csv: Path) -> None:
    before = hashlib.sha256(kelurahan_csv.read_bytes()).hexdigest()
    mtime = kelurahan_csv.stat().st_mtime_ns
    read(kelurahan_csv)
    assert hashlib.sha256(kelurahan_csv.read_bytes()).hexdigest() == before
    assert kelurahan_csv.stat().st_mtime_ns == mtime


# ---------------------------------------------------------------------------- unreadable


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("zero.csv", b"", "empty"),
        ("blank.csv", b"\r\n  \r\n\r\n", "empty"),
        ("binary.csv", b"NIK;NAMA\x00\x00\x01\x02", "binary"),
        ("workbook.csv", b"PK\x03\x04\x00\x00rest", "rename it to .xlsx"),
        ("zero.xlsx", b"", "empty"),
        ("really_csv.xlsx", f"NIK;NAMA\r\n{BUDI};Budi\r\n".encode(), "rename it to .csv"),
        ("page.xls", b"<html><table><tr><td>NIK</td></tr></table></html>", "HTML"),
        ("noise.ods", b"PK\x03\x04" + bytes(range(256)) * 4, "not a valid workbook"),
    ],
)
def test_unreadable_inputs_raise_one_clear_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(RosterReadError) as err:
        read(p)
    assert err.value.file == name
    assert message in err.value.message("en")
    assert "\n" not in str(err.value)


def test_zip_of_garbage_named_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "garbage.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with refused(RosterReadError, "not a valid workbook"):
        read(p)


def test_missing_file_and_wrong_type(tmp_path: Path) -> None:
    with refused(RosterReadError, "not found"):
        read(tmp_path / "gone.csv")
    (tmp_path / "notes.txt").write_text("NIK;NAMA\n")
    with refused(RosterReadError, "not a roster file type"):
        read(tmp_path / "notes.txt")


def test_file_larger_than_the_limit(tmp_path: Path) -> None:
    limits = read_mod.reading_rules().limits.model_copy(update={"max_csv_mb": 1})
    p = write(tmp_path / "big.csv", ["NIK;NAMA"] + [f"{BUDI};Budi"] * 60_000)
    with refused(RosterReadError, "reading limit max_csv_mb = 1 MB: this file has 2 MB") as err:
        read_roster(p, p.name, None, limits)
    assert (err.value.code, err.value.finding_detail()) == (
        "FILE_TOO_LARGE",
        ("max_csv_mb = 1 MB", "2 MB"),
    )


# ---------------------------------------------------------------------------- workbooks


def roster_workbook(path: Path, *, second_sheet: bool = True, hidden_sheet: bool = True) -> Path:
    """Title rows, data from column B / row 4, numbers where Excel would put them."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Daftar")
    datefmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_string(0, 1, "DAFTAR NAMA NELAYAN KECIL")
    ws.write_string(1, 1, "TAHUN 2025")
    # row 3 (index 2) blank
    for j, h in enumerate(["NO", "NIK KTP", "NAMA NELAYAN", "TGL LAHIR", "NO HP/WA", "CATATAN"]):
        ws.write_string(3, 1 + j, h)
    ws.write_number(4, 1, 1)
    ws.write_number(4, 2, int(BUDI))  # 16 digits in a number cell
    ws.write_string(4, 3, "Budi Santoso")
    ws.write_datetime(4, 4, datetime(1980, 5, 12), datefmt)
    ws.write_number(4, 5, 81234567890)  # phone typed as a number: the 0 is gone
    ws.write_number(5, 1, 2)
    ws.write_string(5, 2, SITI)  # typed as Text
    ws.write_string(5, 3, "Siti Aminah")
    ws.write_string(5, 4, "05-06-1985")
    ws.write_string(5, 5, "081311112222")
    ws.write_formula(5, 6, '="ok"&""', None, "ok")
    # row 7 (index 6) blank
    ws.write_number(7, 1, 3)
    ws.write_number(7, 2, float(ANDI))  # ends in 0
    ws.write_string(7, 3, "Andi")
    ws.write_number(7, 4, 32874)  # a date typed as a serial number
    ws.write_boolean(7, 6, True)
    ws.write_number(8, 5, 12.5)  # a stray number only: not a person
    ws.write_string(9, 3, "JUMLAH")
    if second_sheet:
        other = wb.add_worksheet("Susulan")
        other.write_row(0, 0, ["NIK", "NAMA NELAYAN"])
        other.write_row(1, 0, [SITI, "Siti Susulan"])
    if hidden_sheet:
        lists = wb.add_worksheet("Daftar Pilihan")
        lists.write_row(0, 0, ["NIK", "NAMA"])
        lists.hide()
    wb.close()
    return path


def test_xlsx_rows_numbers_and_cells(tmp_path: Path) -> None:
    t = read(roster_workbook(tmp_path / "nelayan.xlsx"))
    assert (t.kind, t.sheet, t.header_row) == ("xlsx", "Daftar", 4)
    assert t.headers == ["", "NO", "NIK KTP", "NAMA NELAYAN", "TGL LAHIR", "NO HP/WA", "CATATAN"]
    assert t.fields == {
        "row_number": 1,
        "nik": 2,
        "name": 3,
        "birth_date": 4,
        "phone": 5,
    }
    assert rows(t) == [5, 6, 8]
    assert column(t, "nik") == [BUDI, SITI, ANDI]
    assert t.frame.get_column("_nik_numeric").to_list() == [True, False, True]
    assert column(t, "birth_date") == ["1980-05-12", "05-06-1985", "32874"]
    assert column(t, "phone") == ["81234567890", "081311112222", None]
    assert t.frame.get_column("_phone_numeric").to_list() == [True, False, False]
    assert column(t, "row_number") == ["1", "2", "3"]
    assert t.frame.get_column("c6").to_list() == [None, "ok", "TRUE"]
    assert t.frame.get_column("c0").to_list() == [None, None, None]


def test_other_sheet_with_data_is_noted_and_hidden_lists_are_not(tmp_path: Path) -> None:
    t = read(roster_workbook(tmp_path / "nelayan.xlsx"))
    assert codes(t) == {"OTHER_SHEETS_HAVE_DATA": "Susulan", "COLUMN_IGNORED": "CATATAN"}
    note = next(n for n in t.notes if n["code"] == "OTHER_SHEETS_HAVE_DATA")
    assert (note["file"], note["sheet"], note["severity"]) == ("nelayan.xlsx", "Daftar", "info")
    t = read(roster_workbook(tmp_path / "single.xlsx", second_sheet=False))
    assert "OTHER_SHEETS_HAVE_DATA" not in codes(t)


def test_sheet_chosen_by_name(tmp_path: Path) -> None:
    p = roster_workbook(tmp_path / "nelayan.xlsx")
    t = read(p, sheet="Susulan")
    assert t.sheet == "Susulan"
    assert column(t, "name") == ["Siti Susulan"]
    assert rows(t) == [2]
    assert "OTHER_SHEETS_HAVE_DATA" not in codes(t)
    assert read(p, sheet=" susulan ").sheet == "Susulan"  # case and spaces forgiven


def test_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    p = roster_workbook(tmp_path / "nelayan.xlsx")
    with pytest.raises(RosterReadError) as err:
        read(p, sheet="Sheet1")
    assert err.value.code == "SHEET_NOT_FOUND"
    assert "Sheet1" in err.value.message("en")
    assert "Daftar, Susulan, Daftar Pilihan" in err.value.message("en")


def test_empty_first_sheet_points_to_the_sheet_with_data(tmp_path: Path) -> None:
    p = tmp_path / "empty_first.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("Sheet1")
    wb.add_worksheet("Data").write_row(0, 0, ["NIK", "NAMA"])
    wb.close()
    with pytest.raises(RosterReadError) as err:
        read(p)
    assert err.value.sheet == "Sheet1"
    assert "empty" in err.value.message("en") and "Data" in err.value.message("en")


def test_xls_name_on_an_xlsx_workbook_is_still_read(tmp_path: Path) -> None:
    p = roster_workbook(tmp_path / "nelayan.xlsx")
    renamed = p.with_suffix(".xls")
    renamed.write_bytes(p.read_bytes())
    t = read(renamed)
    assert t.kind == "xls"
    assert column(t, "name") == ["Budi Santoso", "Siti Aminah", "Andi"]


def write_ods(path: Path) -> Path:
    """A minimal OpenDocument spreadsheet: two blank rows, then a table from column B."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )

    def cell(value: str, kind: str = "string", attr: str = "") -> str:
        return (
            f'<table:table-cell office:value-type="{kind}" {attr}>'
            f"<text:p>{value}</text:p></table:table-cell>"
        )

    blank = "<table:table-cell/>"
    number = f'office:value="{BUDI}"'
    birth = 'office:date-value="1980-05-12"'
    body = (
        '<table:table-row table:number-rows-repeated="2">'
        '<table:table-cell table:number-columns-repeated="4"/></table:table-row>'
        f"<table:table-row>{blank}{cell('NIK')}{cell('NAMA')}{cell('TGL LAHIR')}</table:table-row>"
        "<table:table-row>"
        f"{blank}{cell(BUDI, 'float', number)}{cell('Budi')}"
        f"{cell('12/05/80', 'date', birth)}</table:table-row>"
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Data">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


def test_ods_keeps_leading_blank_rows_and_columns(tmp_path: Path) -> None:
    t = read(write_ods(tmp_path / "data.ods"))
    assert (t.kind, t.sheet, t.header_row) == ("ods", "Data", 3)
    assert t.fields == {"nik": 1, "name": 2, "birth_date": 3}
    assert rows(t) == [4]
    assert column(t, "nik") == [BUDI]
    assert column(t, "birth_date") == ["1980-05-12"]
    assert t.frame.get_column("_nik_numeric").to_list() == [True]


def test_large_workbook_is_read_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_mod, "_CHUNK", 1000)
    p = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(p), {"constant_memory": True})
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["NIK", "NAMA", "TGL LAHIR"])
    n = 2_500
    for i in range(1, n + 1):
        ws.write_number(i, 0, 2171011205800001 + i)
        ws.write_string(i, 1, f"Orang {i}")
        ws.write_datetime(i, 2, date(1980, 5, 12))
    wb.close()
    t = read(p)
    assert t.frame.height == n
    assert rows(t)[-1] == n + 1
    assert column(t, "nik")[-1] == str(2171011205800001 + n)
    assert t.frame.get_column("_nik_numeric").all()


# ---------------------------------------------------------------------------- inputs


def test_folder_expansion_order_and_filtering(tmp_path: Path) -> None:
    folder = tmp_path / "masuk"
    folder.mkdir()
    for name in [
        "b_rt.csv",
        "a_rw.xlsx",
        "C_posyandu.CSV",
        "d.ods",
        "e.xls",
        "~$a_rw.xlsx",
        ".hidden.csv",
        "notes.txt",
        "b_rt.csv.rejects.csv",
    ]:
        (folder / name).write_bytes(b"x")
    (folder / "sub.csv").mkdir()  # a folder named like a roster is not a file
    arg = str(folder)
    got = expand_inputs([arg])
    assert [d for _, d in got] == [
        os.path.join(arg, n) for n in ["a_rw.xlsx", "b_rt.csv", "C_posyandu.CSV", "d.ods", "e.xls"]
    ]
    assert all(p.is_file() for p, _ in got)


def test_files_and_folders_keep_command_line_order(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "x.csv").write_text("a")
    (tmp_path / "z.csv").write_text("a")
    args = [str(tmp_path / "z.csv"), str(tmp_path / "dir")]
    assert [d for _, d in expand_inputs(args)] == [args[0], os.path.join(args[1], "x.csv")]


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with refused(RosterReadError, "no roster file"):
        expand_inputs([str(tmp_path / "empty")])
    with refused(RosterReadError, "not found") as err:
        expand_inputs([str(tmp_path / "gone.csv")])
    assert err.value.file == str(tmp_path / "gone.csv")
    (tmp_path / "roster.pdf").write_bytes(b"%PDF")
    with refused(RosterReadError, "a PDF document, not a roster") as err:
        expand_inputs([str(tmp_path / "roster.pdf")])
    assert (err.value.code, err.value.finding_detail()) == ("FILE_NOT_A_ROSTER", ("PDF", None))
    (tmp_path / "notes.txt").write_text("NIK;NAMA\n")
    with refused(RosterReadError, "not a roster file type", key="read.file_type"):
        expand_inputs([str(tmp_path / "notes.txt")])


def test_frame_contract(kelurahan_csv: Path) -> None:
    frame = read(kelurahan_csv).frame
    assert frame.schema["_row"] == pl.Int64
    assert frame.schema["_nik_numeric"] == pl.Boolean
    assert frame.schema["_phone_numeric"] == pl.Boolean
    assert all(frame.schema[c] == pl.Utf8 for c in frame.columns if c.startswith("c"))
