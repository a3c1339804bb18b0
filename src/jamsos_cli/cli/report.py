"""``jamsos report``: wiring only (the report is ``jamsos_cli.office_report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli.cli.base import (
    ConfigOpt,
    DecreesDirOpt,
    LangOpt,
    LedgerOpt,
    LogFileOpt,
    QuietOpt,
    Session,
    ShowPiiOpt,
    log,
)


def report(
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    month: Annotated[str | None, typer.Option("--month")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx")] = None,
    berita_acara: Annotated[Path | None, typer.Option("--berita-acara")] = None,
    batch: Annotated[str | None, typer.Option("--batch")] = None,
    decrees_dir: DecreesDirOpt = None,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """The office head's page, the spreadsheet recap and the Berita Acara."""
    from jamsos_cli import office_report
    from jamsos_cli.ledger import is_url
    from jamsos_cli.texts import ref

    session = Session(config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii)
    location = session.ledger_location(ledger)
    named = ledger or session.config.ledger
    if session.config.quotas:
        from jamsos_cli.config import check_quotas
        from jamsos_cli.decrees import catalogue

        check_quotas(session.config, catalogue(decrees_dir or session.config.decrees_dir))
    request = office_report.ReportRequest(
        ledger=location,
        # a file as the user named it; a URL always masked (the location's own text)
        ledger_label=str(named) if named and not is_url(named) else str(location),
        out=out,
        xlsx=xlsx,
        berita_acara=berita_acara,
        batch=batch,
        month=month,
        lang=session.lang,
        show_pii=show_pii,
        decrees_dir=decrees_dir or session.config.decrees_dir,
        quotas=session.config.quotas,
        file_mode=session.file_mode,
    )
    written = office_report.run(request)
    log.info("report ledger=%s month=%s wrote %s", location, month, [str(p) for _, p in written])
    for kind, target in written:
        size = max(1, round(target.stat().st_size / 1024))
        session.say("office.written", what=ref(f"office.output.{kind}"), path=target, size=size)
