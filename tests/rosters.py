"""Small builders for real roster files in tests (synthetic people only)."""

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
