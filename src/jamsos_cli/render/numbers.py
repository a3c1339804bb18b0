"""Numbers and money as people read them: ``12.872`` / ``Rp 16.800`` in Indonesian,
``12,872`` / ``Rp 16,800`` in English; a rate in basis points as ``1%`` / ``0,24%``; an
amount in Indonesian words (``terbilang``), as official documents write a total.
(The arithmetic, in whole rupiah, is ``money.py``'s.)"""

from __future__ import annotations

from jamsos_cli.money import whole
from jamsos_cli.texts import say


def format_number(value: int, lang: str = "id") -> str:
    """12872 → '12.872' (Indonesian) or '12,872' (English)."""
    text = f"{whole('value', value):,}"
    return text.replace(",", ".") if lang == "id" else text


def format_rupiah(value: int, lang: str = "id") -> str:
    return "Rp " + format_number(value, lang)


def format_rate(rate_bp: int, lang: str = "id") -> str:
    """100 → '1%', 24 → '0,24%' (Indonesian decimal comma) / '0.24%'."""
    units, frac = divmod(whole("rate_bp", rate_bp), 100)
    if not frac:
        return f"{units}%"
    sep = "," if lang == "id" else "."
    return f"{units}{sep}{frac:02d}".rstrip("0") + "%"


def describe_program(
    program: str, jkk_rate_bp: int, jht_rate_bp: int | None, lang: str = "id"
) -> str:
    """How a program's amount is computed, for ``jamsos decrees ID``."""
    if program == "JKK":
        return say("money.of_income", lang, rate=format_rate(jkk_rate_bp, lang))
    if program == "JHT" and jht_rate_bp is not None:
        return say("money.of_income", lang, rate=format_rate(jht_rate_bp, lang))
    return say("money.flat", lang)


# Indonesian number words, for the amounts written out on a Berita Acara ("terbilang").
_UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"), (10**3, "ribu"))


def _words_below_1000(n: int) -> list[str]:
    """1..999 in words ("seratus", "sebelas", "tiga puluh dua"); 0 gives no words."""
    hundreds, rest = divmod(n, 100)
    words = [] if not hundreds else ["seratus"] if hundreds == 1 else [_UNITS[hundreds], "ratus"]
    tens, units = divmod(rest, 10)
    if tens >= 2:
        words += [_UNITS[tens], "puluh"] + ([_UNITS[units]] if units else [])
    elif tens == 1:  # 10 sepuluh, 11 sebelas, 12-19 "dua belas"...
        words += {0: ["sepuluh"], 1: ["sebelas"]}.get(units, [_UNITS[units], "belas"])
    elif units:
        words.append(_UNITS[units])
    return words


def terbilang(value: int) -> str:
    """A whole number in Indonesian words, as written on official documents:
    816732000 → 'delapan ratus enam belas juta tujuh ratus tiga puluh dua ribu'
    (1000 is 'seribu', 100 'seratus', 11 'sebelas'; up to 999 triliun)."""
    n = whole("value", value)
    if n < 0 or n >= 10**15:
        raise ValueError(f"terbilang: {n} is outside 0 .. 999,999,999,999,999")
    if n == 0:
        return _UNITS[0]
    words: list[str] = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count == 1 and scale == 1000:
            words.append("seribu")
        elif count:
            words += [*_words_below_1000(count), name]
    return " ".join(words + _words_below_1000(n))


def rupiah_in_words(value: int) -> str:
    """816732000 → '... tujuh ratus tiga puluh dua ribu rupiah' (the Berita Acara's total)."""
    return f"{terbilang(value)} rupiah"
