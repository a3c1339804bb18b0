"""Amounts in Indonesian words (terbilang), as a Berita Acara writes its total: the published
figures, the irregular words (seratus, seribu, sebelas, sepuluh), and every amount read back
by an independent parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jamsos_cli.money import total_premium
from jamsos_cli.render.numbers import rupiah_in_words, terbilang


def test_the_published_figures() -> None:
    # 6,945 transport workers × 7 months × Rp 16,800 (SPEC §1)
    assert total_premium(6_945, 7, 16_800) == 816_732_000
    assert rupiah_in_words(816_732_000) == (
        "delapan ratus enam belas juta tujuh ratus tiga puluh dua ribu rupiah"
    )
    # 13,500 people × 12 months × Rp 16,800
    assert total_premium(13_500, 12, 16_800) == 2_721_600_000
    assert rupiah_in_words(2_721_600_000) == (
        "dua miliar tujuh ratus dua puluh satu juta enam ratus ribu rupiah"
    )


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "nol"),
        (1, "satu"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (12, "dua belas"),
        (19, "sembilan belas"),
        (20, "dua puluh"),
        (100, "seratus"),
        (110, "seratus sepuluh"),
        (111, "seratus sebelas"),
        (1_000, "seribu"),
        (1_100, "seribu seratus"),
        (11_000, "sebelas ribu"),
        (100_000, "seratus ribu"),
        (101_000, "seratus satu ribu"),
        (16_800, "enam belas ribu delapan ratus"),
        (1_000_000, "satu juta"),
        (1_001_000, "satu juta seribu"),
        (16_111_200, "enam belas juta seratus sebelas ribu dua ratus"),
        (1_000_000_000, "satu miliar"),
        (1_000_000_000_000, "satu triliun"),
        (999_999_999_999_999, " ".join(
            ["sembilan ratus sembilan puluh sembilan", "triliun"]
            + [f"sembilan ratus sembilan puluh sembilan {s}" for s in ("miliar", "juta", "ribu")]
            + ["sembilan ratus sembilan puluh sembilan"]
        )),
    ],
)  # fmt: skip
def test_words(amount: int, words: str) -> None:
    assert terbilang(amount) == words


@pytest.mark.parametrize("bad", [-1, 10**15])
def test_out_of_range_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        terbilang(bad)


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="integer"):
        terbilang(16_800.0)  # type: ignore[arg-type]


# An independent reading of the words back into a number, built from the rules of the
# language rather than from the function under test.
DIGITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]
UNITS = {w: i for i, w in enumerate(DIGITS)}
SCALES = {"ribu": 10**3, "juta": 10**6, "miliar": 10**9, "triliun": 10**12}


def read_back(text: str) -> int:
    total, group, current = 0, 0, 0
    for word in text.split():
        if word in UNITS:
            current += UNITS[word]
        elif word == "sepuluh":
            current += 10
        elif word == "sebelas":
            current += 11
        elif word == "belas":
            current += 10
        elif word == "puluh":
            current *= 10
        elif word == "seratus":
            group += 100
        elif word == "ratus":
            group += current * 100
            current = 0
        elif word == "seribu":
            total += 1000
        elif word in SCALES:
            total += (group + current) * SCALES[word]
            group, current = 0, 0
        else:
            raise AssertionError(f"unexpected word {word!r} in {text!r}")
    return total + group + current


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_every_amount_reads_back(amount: int) -> None:
    words = terbilang(amount)
    assert read_back(words) == amount
    # one hundred / ten / eleven are "se-" words, never "satu ..."
    for never in ("satu ratus", "satu puluh", "satu belas", "sepuluh satu"):
        assert never not in words
    assert words.startswith("satu ribu") is False
