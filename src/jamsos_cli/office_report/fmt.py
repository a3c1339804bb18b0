"""How the report writes numbers, money, shares, months and reasons for people (Indonesian:
12.872, Rp 16.800, 1,1%; English: 12,872, Rp 16,800, 1.1%); the words from the text
catalogue (``office.*``)."""

from __future__ import annotations

from jamsos_cli.render.numbers import format_number, format_rupiah
from jamsos_cli.texts import catalogue, say


def number(value: int | None, lang: str) -> str:
    return say("office.page.none", lang) if value is None else format_number(int(value), lang)


def rupiah(value: int | None, lang: str) -> str:
    return say("office.page.none", lang) if value is None else format_rupiah(int(value), lang)


def percent(share: float | None, lang: str, digits: int = 1) -> str:
    """0.01064 → '1,1%' / '1.1%'; below 0.1% but not zero: '<0,1%'."""
    if share is None:
        return say("office.page.none", lang)
    value = share * 100
    text = f"{value:.{digits}f}"
    if value and float(text) == 0:
        text = "<" + f"{10**-digits:.{digits}f}"
    return (text.replace(".", ",") if lang == "id" else text) + "%"


def compact(value: float, lang: str) -> str:
    """Axis labels: 2301600 → '2,3 jt' / '2.3M'; whole numbers below a thousand as they are."""
    for scale, unit in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if abs(value) >= scale:
            text = f"{value / scale:.1f}".removesuffix(".0")
            text = text.replace(".", ",") if lang == "id" else text
            return say(f"office.units.{unit}", lang, n=text)
    return format_number(int(round(value)), lang)


def month_name(label: str, lang: str, short: bool = False) -> str:
    """'2025-06' → 'Juni 2025' (or 'Jun 2025')."""
    year, month = label.split("-")
    name = say(f"office.month_short.{int(month)}" if short else f"office.month.{int(month)}", lang)
    return f"{name} {year}"


def period(start: str, end: str, lang: str) -> str:
    """'2025-06', '2025-12' → 'Juni 2025 – Desember 2025'."""
    return f"{month_name(start, lang)} – {month_name(end, lang)}"


def reason(code: str, lang: str) -> str:
    """The short reason of a code that sends a row back ('NIK bukan 16 digit'); the code
    itself for one without a short reason."""
    key = f"office.reason.{code}"
    return say(key, lang) if key in catalogue(lang) else code  # type: ignore[arg-type]


def rejects_note(recorded: dict[str, bool], lang: str) -> str:
    """Where the rows sent back come from (``ReportData.recorded``), as the page and the
    recap say it under their tables."""
    if not recorded.get("rejects"):
        return say("office.notes.rejects_none", lang)
    note = say("office.notes.rejects_source", lang)
    if recorded.get("rejects_complete"):
        return note
    return f"{note} {say('office.notes.rejects_partial', lang)}"
