"""The floor: the least any tool must do to read a roster, in its own process.

    python benchmarks/floor_read.py csv FILE    # bare polars.read_csv, every column as text
    python benchmarks/floor_read.py xlsx FILE   # python-calamine, first sheet, cell types

Prints the number of rows read (so the read cannot be optimised away).
"""

from __future__ import annotations

import sys


def read_csv(path: str) -> int:
    import polars as pl

    return pl.read_csv(path, infer_schema=False).height


def read_xlsx(path: str) -> int:
    """Every cell as calamine types it (str, float, int, bool, date/datetime): the typed
    read a workbook reader starts from."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    return len(wb.get_sheet_by_index(0).to_python(skip_empty_area=False))


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    print({"csv": read_csv, "xlsx": read_xlsx}[kind](path))


if __name__ == "__main__":
    main()
