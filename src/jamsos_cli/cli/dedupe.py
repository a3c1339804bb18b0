"""``jamsos dedupe``: wiring only (the run is ``dedupe.dedupe``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli.cli.base import (
    ConfigOpt,
    FormatOpt,
    LangOpt,
    LedgerOpt,
    LogFileOpt,
    NewLedgerOpt,
    OutputFormat,
    QuietOpt,
    RostersArg,
    Session,
    SheetOpt,
    ShowPiiOpt,
    log,
    log_findings,
)


def dedupe(
    rosters: RostersArg,
    ledger: LedgerOpt = None,
    new_ledger: NewLedgerOpt = False,
    review: Annotated[Path | None, typer.Option("--review")] = None,
    decisions: Annotated[Path | None, typer.Option("--decisions")] = None,
    withdraw_list: Annotated[Path | None, typer.Option("--withdraw-list")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score")] = None,
    sheet: SheetOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Find the same person twice: the same NIK, or likely the same person with another NIK."""
    from jamsos_cli import dedupe as dd
    from jamsos_cli.render import documents
    from jamsos_cli.render.dedupe import render_text

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    request = dd.DedupeRequest(
        rosters=rosters,
        ledger=session.ledger_location(ledger),
        review=review,
        decisions=decisions,
        withdraw_list=withdraw_list,
        min_score=min_score,
        sheet=sheet,
        city_code=session.config.city,
        lang=session.lang,
        file_mode=session.file_mode,
        inputs=session.config.inputs,
        limits=session.config.limits,
        new_ledger=new_ledger,
        ledger_named=session.ledger_named(ledger),
        command=session.command,
    )
    log.info("dedupe %s ledger=%s", rosters, request.ledger)
    result = dd.dedupe(request)  # the report says what was written
    log_findings(result.run.findings.filter(result.run.findings["rid"].is_null()))
    log.info("dedupe pairs: %d", result.pairs.height)
    log.info("dedupe decisions recorded: %s; review: %s", result.decisions_recorded, result.review)
    log.info(
        "dedupe paid twice: %d; withdraw list: %s", result.paid_twice.height, result.withdraw_list
    )
    if fmt is OutputFormat.json:
        session.json(documents.dedupe(result, session.lang, show_pii))
    elif not quiet:
        render_text(session.out, result, session.lang, show_pii)
    raise typer.Exit(result.exit_code)
