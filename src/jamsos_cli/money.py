"""Premium arithmetic in whole rupiah: integers only, never floats.

A rate is an integer number of basis points (100 bp = 1%) of the declared income; the
fraction of a rupiah it may leave is rounded the way the decree says. Known figures
(SPEC §1): JKK 1% of Rp 1,000,000 = 10,000 + JKM flat 6,800 = Rp 16,800 per person-month;
6,945 people × 7 months = Rp 816,732,000; 13,500 × 12 = Rp 2,721,600,000.
"""

from __future__ import annotations

from typing import Literal

Rounding = Literal["down", "up", "half_up"]
BP = 10_000  # basis points in a whole

# The largest declared income or flat amount a rule file may state (Rp 100 million a month;
# the real figures are Rp 1,000,000 and Rp 6,800). The ledger stores money as 64-bit
# integers (SQLite INTEGER, PostgreSQL BIGINT, at most ~9.2e18): with each program at most
# this much, 300 million people × 12 months still fit, so no total can overflow the ledger.
MAX_RUPIAH = 100_000_000


def whole(name: str, value: object) -> int:
    """Money and counts must be ints: a float here would mean a rounding bug upstream
    (``TypeError``, a programming error, never the user's)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    return value


def share(amount: int, rate_bp: int, rounding: Rounding = "half_up") -> int:
    """``rate_bp`` basis points of ``amount`` rupiah, rounded to a whole rupiah."""
    amount, rate_bp = whole("amount", amount), whole("rate_bp", rate_bp)
    if amount < 0 or rate_bp < 0:
        raise ValueError("amount and rate must not be negative")
    product = amount * rate_bp
    if rounding == "down":
        return product // BP
    if rounding == "up":
        return -(-product // BP)
    if rounding == "half_up":
        return (product + BP // 2) // BP
    raise ValueError(f"unknown rounding {rounding!r}")


def premium_breakdown(
    declared_income: int,
    programs: list[str],
    *,
    jkk_rate_bp: int,
    jkm_flat: int,
    jht_rate_bp: int | None = None,
    rounding: Rounding = "half_up",
) -> dict[str, int]:
    """Rupiah per person per month for each program, in the order the decree lists them."""
    amounts = {
        "JKK": lambda: share(declared_income, jkk_rate_bp, rounding),
        "JKM": lambda: whole("jkm_flat", jkm_flat),
        "JHT": lambda: share(declared_income, whole("jht_rate_bp", jht_rate_bp), rounding),
    }
    return {p: amounts[p]() for p in programs}


def total_premium(people: int, months: int, per_person_month: int) -> int:
    """What the city pays: people × months × the premium per person-month."""
    for name, value in (
        ("people", people),
        ("months", months),
        ("per_person_month", per_person_month),
    ):
        if whole(name, value) < 0:
            raise ValueError(f"{name} must not be negative")
    return people * months * per_person_month
