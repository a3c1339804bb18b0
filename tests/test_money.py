"""Premium arithmetic: whole rupiah, integers only, reproducing the city's published figures."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jamsos_cli import money
from jamsos_cli.decrees import load_decree
from jamsos_cli.ledger import Period
from jamsos_cli.render import numbers


def test_batam_premium_is_16800_per_person_month() -> None:
    # JKK 1% of Rp 1,000,000 = 10,000 + JKM flat 6,800 (SPEC §1)
    for decree_id in ("perwako-batam-49-2025", "perwako-batam-30-2025", "perwako-batam-3-2023"):
        decree = load_decree(decree_id)
        assert decree.premium.breakdown() == {"JKK": 10_000, "JKM": 6_800}
        assert decree.premium_per_person_month == 16_800


def test_published_totals() -> None:
    per = load_decree("perwako-batam-30-2025").premium_per_person_month
    # 6,945 transport workers covered June–December 2025
    months = Period.parse("2025-06", "2025-12").months  # what the manifest uses
    assert months == 7
    assert money.total_premium(6_945, months, per) == 816_732_000
    # 13,500 people for a budget year
    assert money.total_premium(13_500, Period.parse("2025-01", None).months, per) == (2_721_600_000)


@pytest.mark.parametrize(
    "args",
    [(6945.0, 7, 16800), (6945, 7.0, 16800), (6945, 7, 16800.0), (True, 7, 16800)],
)
def test_floats_are_refused(args: tuple) -> None:
    with pytest.raises(TypeError, match="must be an integer"):
        money.total_premium(*args)
    with pytest.raises(TypeError):
        money.share(1_000_000.0, 100)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        money.total_premium(-1, 7, 16_800)


@pytest.mark.parametrize(
    ("amount", "bp", "down", "up", "half_up"),
    [
        (1_000_000, 100, 10_000, 10_000, 10_000),  # exact
        (5_000, 1, 0, 1, 1),  # exactly half a rupiah
        (1_234_567, 24, 2_962, 2_963, 2_963),  # 2,962.96
        (1_234_567, 21, 2_592, 2_593, 2_593),  # 2,592.59
        (1_000_100, 24, 2_400, 2_401, 2_400),  # 2,400.24
    ],
)
def test_rounding_modes(amount: int, bp: int, down: int, up: int, half_up: int) -> None:
    assert money.share(amount, bp, "down") == down
    assert money.share(amount, bp, "up") == up
    assert money.share(amount, bp, "half_up") == half_up


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_share_matches_exact_fractions(amount: int, bp: int) -> None:
    exact = Fraction(amount * bp, 10_000)
    assert money.share(amount, bp, "down") == exact.numerator // exact.denominator
    assert money.share(amount, bp, "up") == -(-exact.numerator // exact.denominator)
    half_up = money.share(amount, bp, "half_up")
    assert abs(Fraction(half_up) - exact) <= Fraction(1, 2)
    assert isinstance(half_up, int)


def test_jht_when_the_decree_includes_it() -> None:
    amounts = money.premium_breakdown(
        1_000_000, ["JKK", "JKM", "JHT"], jkk_rate_bp=100, jkm_flat=6_800, jht_rate_bp=200
    )
    assert amounts == {"JKK": 10_000, "JKM": 6_800, "JHT": 20_000}


def test_formatting_for_people() -> None:
    assert numbers.format_rupiah(2_721_600_000, "id") == "Rp 2.721.600.000"
    assert numbers.format_rupiah(16_800, "en") == "Rp 16,800"
    assert numbers.format_rate(100) == "1%"
    assert numbers.format_rate(24, "id") == "0,24%"
    assert numbers.format_rate(24, "en") == "0.24%"
    assert numbers.format_rate(150, "en") == "1.5%"
