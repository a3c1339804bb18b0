"""Numbers and money as people read them: ``12.872`` / ``Rp 16.800`` in Indonesian,
``12,872`` / ``Rp 16,800`` in English; a rate in basis points as ``1%`` / ``0,24%``.
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
