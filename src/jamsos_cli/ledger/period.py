"""Coverage periods: months as integers, so an overlap is an integer test.

Apart from storage: the ledger stores ``start_month`` / ``end_month`` as these integers, and
``Period`` is what build-batch, the checks and the reports reason with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from jamsos_cli.errors import UsageError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_index(label: str, option: str = "--start") -> int:
    """``2025-06`` → a month number (year * 12 + month - 1), so overlaps are integer tests."""
    m = _MONTH.match(label.strip()) if isinstance(label, str) else None
    if not m:
        raise UsageError("error.option.month", option=option, value=label)
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_label_expr(index: pl.Expr) -> pl.Expr:
    """``month_label`` over a column."""
    month = (index % 12 + 1).cast(pl.Utf8).str.zfill(2)
    return (index // 12).cast(pl.Utf8).str.zfill(4) + pl.lit("-") + month


@dataclass(frozen=True)
class Period:
    """Coverage months, both ends included."""

    start: int
    end: int

    @classmethod
    def parse(cls, start: str, end: str | None) -> Period:
        """``--end`` defaults to December of the start year (the budget year)."""
        first = month_index(start, "--start")
        last = month_index(end, "--end") if end else (first // 12) * 12 + 11
        if last < first:
            raise UsageError("error.option.end_before_start", end=end, start=start)
        return cls(first, last)

    @property
    def months(self) -> int:
        return self.end - self.start + 1

    @property
    def start_label(self) -> str:
        return month_label(self.start)

    @property
    def end_label(self) -> str:
        return month_label(self.end)

    @property
    def first_day(self) -> date:
        return date(self.start // 12, self.start % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        nxt = self.end + 1
        return date.fromordinal(date(nxt // 12, nxt % 12 + 1, 1).toordinal() - 1)
