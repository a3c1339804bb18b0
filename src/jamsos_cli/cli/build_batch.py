"""``jamsos build-batch``: wiring only (the run is ``build.build_batch``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli.cli.base import (
    BatchFormat,
    ConfigOpt,
    DecreesDirOpt,
    ExitZeroOpt,
    FormatOpt,
    HoldScoreOpt,
    LangOpt,
    LedgerOpt,
    LogFileOpt,
    NewLedgerOpt,
    OutputFormat,
    QuietOpt,
    RoleOpt,
    Session,
    SheetOpt,
    ShowPiiOpt,
    absolute,
    log,
    log_findings,
)
from jamsos_cli.errors import UsageError
from jamsos_cli.exitcodes import finished
from jamsos_cli.texts import resolve, say


def build_batch(
    decree: Annotated[str, typer.Option("--decree")],
    start: Annotated[str, typer.Option("--start")],
    rosters: Annotated[list[str] | None, typer.Argument()] = None,
    end: Annotated[str | None, typer.Option("--end")] = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    batch_format: Annotated[BatchFormat | None, typer.Option("--batch-format")] = None,
    max_rows: Annotated[int, typer.Option("--max-rows")] = 1000,
    ledger: LedgerOpt = None,
    new_ledger: NewLedgerOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    renew: Annotated[bool, typer.Option("--renew")] = False,
    layout: Annotated[Path | None, typer.Option("--layout")] = None,
    role: RoleOpt = None,
    sheet: SheetOpt = None,
    hold_score: HoldScoreOpt = None,
    decrees_dir: DecreesDirOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
    exit_zero: ExitZeroOpt = False,
) -> None:
    """Validate, deduplicate, apply the decree and write a new batch folder with its manifest."""
    from jamsos_cli import build
    from jamsos_cli.batch import load_layout
    from jamsos_cli.ledger import Period
    from jamsos_cli.render import documents
    from jamsos_cli.render.build import report_lines
    from jamsos_cli.render.findings import render_text
    from jamsos_cli.render.progress import shown

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    period = Period.parse(start, end)
    if not rosters and not renew:
        raise UsageError("error.option.rosters_missing")
    out_dir = out or session.config.out_dir
    if out_dir is None:
        raise UsageError("error.option.out_missing")
    request = build.BuildRequest(
        rosters=list(rosters or []),
        renew=renew,
        decree=session.decree(decree, decrees_dir),
        period=period,
        out=absolute(out_dir),
        ledger=session.ledger_location(ledger),
        layout=load_layout(layout),
        batch_format=(batch_format.value if batch_format else session.config.batch_format),
        max_rows=max_rows,
        dry_run=dry_run,
        role=role,
        sheet=sheet,
        hold_score=session.hold_score(hold_score),
        city_code=session.config.city,
        file_mode=session.file_mode,
        lang=session.lang,
        inputs=session.config.inputs,
        limits=session.config.limits,
        new_ledger=new_ledger,
        command=session.command,
    )
    log.info("build-batch %s decree=%s %s..%s", rosters, decree, start, period.end_label)

    def progress(key: str, **values: object) -> None:
        if fmt is OutputFormat.text:
            session.say(key, **values)
        else:
            log.info("%s", say(key, "en", **values))

    with shown(session.err, session.lang, fmt is OutputFormat.text and not quiet) as step:
        request.steps = step
        result = build.build_batch(request, progress=progress)
    log_findings(result.findings)
    for note in result.recovered:
        log.info("recovery: %s", resolve(note, "en"))
    log_run(result)
    if fmt is OutputFormat.json:
        session.json(documents.build_batch(result, session.lang, show_pii))
    elif not quiet:
        heading, footer = report_lines(result, session.lang)
        render_text(
            session.out, result.summary, result.findings, session.lang, show_pii, heading, footer
        )
    raise typer.Exit(finished(result.exit_code, exit_zero=exit_zero))


def log_run(result) -> None:
    """What cron's log must say of every run (SPEC §7): the ledger (path, id, new or not),
    the batch (or none), people submitted and the premium; counts only, no personal data."""
    req = result.request
    log.info(
        "ledger %s id %s (%s)",
        req.ledger,
        result.ledger_id or "-",
        "new" if result.ledger_new else "existing",
    )
    batch = result.batch
    if result.fatal:
        log.info("batch none: an input could not be used, nothing written")
    elif batch is None:
        log.info("batch none, nobody new: 0 people submitted, premium Rp 0")
    else:
        log.info(
            "batch %s%s %s: %d people submitted, %d months, premium Rp %d",
            batch["id"],
            "" if batch["written"] else " (dry run, not written)",
            batch["folder"],
            batch["participants"],
            batch["months"],
            batch["total_premium"],
        )
