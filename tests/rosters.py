"""Small builders for real roster files in tests (synthetic people only): single rows
(``make_nik``), CSV and xlsx files as senders make them, and the kelurahan list of RT heads
most build-batch tests use (``roster``)."""

from __future__ import annotations

from pathlib import Path


def make_nik(kec6: str, day: int, month: int, year: int, female: bool, serial: int) -> str:
    """A NIK consistent with the birth date and sex: region, DDMMYY (+40 for women), serial."""
    dd = day + 40 if female else day
    return f"{kec6}{dd:02d}{month:02d}{year % 100:02d}{serial:04d}"


def write_csv(
    path: Path,
    headers: list[str],
    rows: list[list[str]],
    *,
    encoding: str = "cp1252",
    delimiter: str = ";",
    title_rows: list[str] = (),
    footer_rows: list[list[str]] = (),
) -> Path:
    lines = [t for t in title_rows]
    lines += [delimiter.join(headers)]
    lines += [delimiter.join(r) for r in rows]
    lines += [delimiter.join(r) for r in footer_rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(
    path: Path,
    headers: list[str],
    rows: list[list[object]],
    *,
    title_rows: list[str] = (),
    footer_rows: list[list[str]] = (),
    numeric_columns: set[str] = frozenset(),
) -> Path:
    """Cells of ``numeric_columns`` that hold digits are written as numbers, as Excel would."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    r = 0
    for title in title_rows:
        ws.write_string(r, 0, title)
        r += 1
    if title_rows:
        r += 1  # a blank row between title and header, as senders do
    for j, h in enumerate(headers):
        ws.write_string(r, j, h)
    for row in rows:
        r += 1
        for j, value in enumerate(row):
            if value is None or value == "":
                continue
            if headers[j] in numeric_columns and str(value).isdigit():
                ws.write_number(r, j, float(value))
            else:
                ws.write(r, j, value)
    for row in footer_rows:
        r += 1
        for j, value in enumerate(row):
            if value:
                ws.write_string(r, j, value)
    wb.close()
    return path


# --- a kelurahan's list of RT heads (the build-batch tests' roster) -----------------------

RT = "perwako-batam-49-2025"


OJOL = "perwako-batam-30-2025"


HEADERS = [
    "NO",
    "NIK",
    "NAMA LENGKAP",
    "TEMPAT LAHIR",
    "TGL LAHIR",
    "JK",
    "ALAMAT",
    "RT",
    "RW",
    "KELURAHAN",
    "KECAMATAN",
    "NO HP",
    "JABATAN",
]


FIRST = [
    "Budi",
    "Siti",
    "Andi",
    "Dewi",
    "Rudi",
    "Agus",
    "Rina",
    "Joko",
    "Wati",
    "Hendra",
    "Yusuf",
    "Lina",
]


LAST = [
    "Santoso",
    "Aminah",
    "Wijaya",
    "Lestari",
    "Hartono",
    "Salim",
    "Marlina",
    "Susilo",
    "Ningsih",
    "Gunawan",
    "Rahman",
    "Kusuma",
]


PLACES = [
    ("Sungai Panas", "Batam Kota"),
    ("Tembesi", "Sagulung"),
    ("Sei Lekop", "Sagulung"),
    ("Belian", "Batam Kota"),
]


def person(i: int, role: str = "Ketua RT") -> list[str]:
    """Synthetic person number ``i``: a NIK consistent with birth date and sex."""
    female = i % 2 == 1
    day, month, year = 1 + (i * 7) % 28, 1 + (i * 5) % 12, 1965 + (i * 3) % 34
    kel, kec = PLACES[i % len(PLACES)]
    return [
        str(i + 1),
        make_nik("217110", day, month, year, female, 100 + i),
        f"{FIRST[i % 12]} {LAST[(i * 5 + 3) % 12]}",
        "Batam",
        f"{day:02d}-{month:02d}-{year}",
        "P" if female else "L",
        f"Jl. Mawar No. {i + 1}",
        str(1 + i % 9),
        str(2 + i % 5),
        kel,
        kec,
        f"0812{7000000 + i * 7919:08d}",
        f"{role} {i % 9 + 1:03d}" if role.startswith("Ketua") else role,
    ]


def nik(i: int) -> str:
    return person(i)[1]


def roster(path: Path, ids, role: str = "Ketua RT", bad: bool = False) -> Path:
    """A CSV in cp1252 with ';', a title row and a JUMLAH footer, as a kelurahan sends it."""
    rows = [person(i, role) for i in ids]
    if bad:  # a NIK that lost digits: rejected with NIK_FORMAT
        rows.append(
            [
                "99",
                "217110120580",
                "Réné Saputra",
                "Batam",
                "12-05-1980",
                "L",
                "Blok C",
                "1",
                "1",
                "Tembesi",
                "Sagulung",
                "081300001111",
                "Ketua RW",
            ]
        )
    return write_csv(
        path,
        HEADERS,
        rows,
        title_rows=["DAFTAR KETUA RT;;;;;;;;;;;;", ";" * 12],
        footer_rows=[["", "", "JUMLAH", "", "", "", "", "", "", "", "", "", ""]],
    )
