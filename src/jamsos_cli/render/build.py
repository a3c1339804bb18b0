"""build-batch's text report: the lines above and below the findings (the ledger used, the
period and the day age is judged on, the batch written and what it costs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jamsos_cli.render.numbers import format_number, format_rupiah
from jamsos_cli.texts import Lang, say

if TYPE_CHECKING:
    from jamsos_cli.build import BuildResult


def report_lines(result: BuildResult, lang: Lang) -> tuple[list[str], list[str]]:
    """Heading and footer lines of the text report (the ledger path is always shown)."""
    req = result.request
    path = req.ledger
    if not result.ledger_new:
        ledger_line = "build.ledger"
    elif result.batch and result.batch["written"]:
        ledger_line = "build.ledger_new"
    elif req.dry_run and result.batch:
        ledger_line = "build.ledger_would"
    else:
        ledger_line = "build.ledger_none"
    heading = [say("build.recovered", lang, note=n) for n in result.recovered]
    heading.append(say(ledger_line, lang, path=path))
    heading.append(
        say(
            "build.period",
            lang,
            decree=req.decree.id,
            start=req.period.start_label,
            end=req.period.end_label,
            months=req.period.months,
            day=req.period.first_day.isoformat(),
        )
    )
    footer: list[str] = []
    if result.fatal:
        return heading, [say("build.fatal", lang)]
    if result.renewal is not None:
        footer.append(renewal_line(result.renewal, lang))
    if result.already_submitted:
        footer.append(say("build.again", lang, n=format_number(result.already_submitted, lang)))
    batch = result.batch
    if batch is None:
        footer.append(say("build.nobody", lang))
        return heading, footer
    written = "build.written" if batch["written"] else "build.would"
    footer.append(say(written, lang, folder=batch["folder"]))
    footer.append(
        say(
            "build.money",
            lang,
            n=format_number(batch["participants"], lang),
            months=batch["months"],
            per=format_rupiah(batch["premium_per_person_month"], lang),
            total=format_rupiah(batch["total_premium"], lang),
        )
    )
    return heading, footer


def renewal_line(renewal: dict, lang: Lang) -> str:
    """``--renew``: carried, dropped (by reason) and new."""
    dropped = sum(renewal["dropped"].values())
    reasons = ", ".join(f"{code} {n}" for code, n in renewal["dropped"].items())
    return say(
        "build.renewal",
        lang,
        carried=format_number(renewal["carried"], lang),
        dropped=format_number(dropped, lang),
        reasons=f" ({reasons})" if reasons else "",
        new=format_number(renewal["new"], lang),
    )
