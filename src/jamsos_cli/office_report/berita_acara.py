"""The Berita Acara of one batch (``jamsos report --berita-acara FILE.html --batch BATCH``): the
signed record that goes with a batch handed to BPJS, on one A4 page — the batch and ledger it
comes from, people × months × premium by decree with the total written out in Indonesian
words (terbilang), participants by kecamatan, and the signature block.
"""

from __future__ import annotations

import polars as pl

from jamsos_cli.ledger.period import month_index
from jamsos_cli.office_report import fmt
from jamsos_cli.office_report.aggregate import ReportData, find_batch
from jamsos_cli.render.numbers import rupiah_in_words
from jamsos_cli.texts import say

MAX_KECAMATAN = 12  # more rows would not fit the one page: the rest are summed as "other"


def view(data: ReportData, batch_ref: str, lang: str) -> dict:
    """What the page shows, formatted."""
    b = find_batch(data, batch_ref)
    decree = data.decrees.filter(pl.col("decree") == b["decree"]).row(0, named=True)
    city = decree["city"] or decree["city_code"] or ""
    government = say("office.berita_acara.government", lang, city=city)
    months = month_index(b["end"]) - month_index(b["start"]) + 1
    per = b["premium_per_person_month"]
    parts = {k.upper(): decree[k] for k in ("jkk", "jkm", "jht") if decree[k] is not None}
    breakdown = None
    if parts and sum(parts.values()) == per:  # the decree's programs still make this premium
        breakdown = say(
            "office.berita_acara.breakdown",
            lang,
            parts=" + ".join(f"{k} {fmt.rupiah(v, lang)}" for k, v in parts.items())
            + f" = {fmt.rupiah(per, lang)}",
        )
    areas = data.batch_areas.filter(pl.col("batch_id") == b["batch_id"])
    shown = areas.head(MAX_KECAMATAN)
    kecamatan = [
        (name or say("office.columns.unknown", lang), fmt.number(n, lang), n)
        for name, n in shown.select("kecamatan", "people").iter_rows()
    ]
    if areas.height > MAX_KECAMATAN:
        rest = int(areas.tail(areas.height - MAX_KECAMATAN).get_column("people").sum())
        kecamatan.append((say("office.berita_acara.others", lang), fmt.number(rest, lang), rest))
    place = city.removeprefix("Kota ").removeprefix("Kabupaten ")
    return {
        "batch": b,
        "decree": decree,
        "government": government,
        "office": say("office.berita_acara.office", lang, city=city).strip(),
        "city": city,
        "place": place,
        "period": fmt.period(b["start"], b["end"], lang),
        "months": months,
        "people": fmt.number(b["participants"], lang),
        "per_person_month": fmt.number(per, lang),
        "total": fmt.number(b["total_premium"], lang),
        "total_rp": fmt.rupiah(b["total_premium"], lang),
        "words": rupiah_in_words(b["total_premium"]),
        "breakdown": breakdown,
        "kecamatan": kecamatan,
        "rows": say(
            "office.berita_acara.rows",
            lang,
            rows=fmt.number(b["rows"], lang),
            rejected=fmt.number(b["rejected"], lang)
            if b["rejected"] is not None
            else say("office.page.not_recorded", lang),
        ),
        "ledger_path": data.ledger_path,
        "ledger_id": data.ledger_id,
    }


def render(data: ReportData, batch_ref: str, lang: str) -> str:
    from markupsafe import Markup

    from jamsos_cli import __version__
    from jamsos_cli.office_report.html import environment
    from jamsos_cli.resources import schema_file

    return (
        environment(lang)
        .get_template("berita_acara.html.j2")
        .render(
            lang=lang,
            v=view(data, batch_ref, lang),
            css=Markup(schema_file("report", "berita_acara.css").read_text(encoding="utf-8")),  # noqa: S704
            version=__version__,
        )
    )
