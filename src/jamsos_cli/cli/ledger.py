"""``jamsos ledger ...``: wiring only (the ledger is ``jamsos_cli.ledger``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli.cli.base import (
    ConfigOpt,
    FormatOpt,
    LangOpt,
    LedgerOpt,
    OutputFormat,
    QuietOpt,
    Session,
    command,
    group,
    log,
)
from jamsos_cli.errors import UsageError

app = group()


def _show(ledger: Path | None, fmt: OutputFormat, lang, config: Path | None, key: str) -> None:
    """``ledger list`` / ``ledger stats``: read a snapshot (never waits for cron), render."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.render import ledger as show

    session = Session(config=config, lang=lang)
    path = session.ledger_path(ledger)
    rows = []
    if path.exists():
        with ldg.opened(path, mode=session.file_mode) as book:
            rows = book.batches() if key == "batches" else book.stats()
    if fmt is OutputFormat.json:
        session.json(documents.ledger(path, key, rows))
    elif key == "batches":
        show.render_batches(session.out, path, rows, session.lang)
    else:
        show.render_stats(session.out, path, rows, session.lang)


def ledger_list(
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the batches: id, folder, decree, period, participants, status, created."""
    _show(ledger, fmt, lang, config, "batches")


def ledger_stats(
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """People and premium totals per decree and coverage period (voided batches left out)."""
    _show(ledger, fmt, lang, config, "stats")


def ledger_export(
    target: Annotated[Path, typer.Argument()],
    include_voided: Annotated[bool, typer.Option("--include-voided")] = False,
    ledger: LedgerOpt = None,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write everyone in the ledger (real NIKs: the file is created owner-only)."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render.ledger import write_export

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_path(ledger)
    if target.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError("error.file.table_name", path=target)
    with ldg.opened(path, mode=session.file_mode) as book:
        frame = ldg.export_frame(book, include_voided=include_voided)
    write_export(frame, target, mode=session.file_mode, lang=session.lang)
    session.say("ledger.exported", n=frame.height, path=target, ledger=path)


def ledger_void(
    batch: Annotated[str, typer.Argument()],
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Withdraw a batch that was never uploaded: its people can be submitted again."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_path(ledger)
    with ldg.opened(path, mode=session.file_mode, write=True) as book:
        voided = book.void(batch)
    log.info("voided batch %s in %s", voided["id"], path)
    if fmt is OutputFormat.json:
        session.json(documents.voided(path, voided))
    elif not quiet:
        session.show("ledger.voided", id=voided["id"], folder=voided["folder"])


command(app, "list", ledger_list)
command(app, "stats", ledger_stats)
command(app, "export", ledger_export)
command(app, "void", ledger_void)
