"""``jamsos validate``: wiring only (the run is ``pipeline.run_checks``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli.cli.base import (
    ConfigOpt,
    DecreesDirOpt,
    ExitZeroOpt,
    FormatOpt,
    HoldScoreOpt,
    LangOpt,
    LedgerOpt,
    LogFileOpt,
    OutputFormat,
    QuietOpt,
    RoleOpt,
    RostersArg,
    Session,
    SheetOpt,
    ShowPiiOpt,
    log,
    log_findings,
    parse_date,
)
from jamsos_cli.errors import UsageError
from jamsos_cli.exitcodes import finished, outcome


def validate(
    rosters: RostersArg,
    decree: Annotated[str | None, typer.Option("--decree")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    role: RoleOpt = None,
    rejects: Annotated[Path | None, typer.Option("--rejects")] = None,
    sheet: SheetOpt = None,
    ledger: LedgerOpt = None,
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
    """Read, normalise and check rosters; report every problem row by row."""
    from jamsos_cli.findings import summarise
    from jamsos_cli.pipeline import RunOptions, count_inputs, run_checks
    from jamsos_cli.render import documents
    from jamsos_cli.render.findings import as_of_line, rejects_line, render_text
    from jamsos_cli.render.progress import shown
    from jamsos_cli.render.rejects import write_rejects

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    # a wrong --rejects name is said before the run, not after minutes of checking
    as_folder = rejects is not None and (count_inputs(rosters) > 1 or rejects.is_dir())
    if rejects is not None and not as_folder and rejects.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError("error.option.rejects_name", path=rejects)
    options = RunOptions(
        decree=session.decree(decree, decrees_dir),
        as_of=parse_date(as_of, "--as-of"),
        role=role,
        sheet=sheet,
        city_code=session.config.city,
        apply_quota=True,
        hold_score=session.hold_score(hold_score),
        keep_rows=False,  # --rejects reads each file again (read.reread): less memory
        inputs=session.config.inputs,
        limits=session.config.limits,
    )
    log.info("validate %s decree=%s as_of=%s", rosters, decree, options.as_of)
    with shown(session.err, session.lang, fmt is OutputFormat.text and not quiet) as step:
        options.steps = step
        result = run_checks(rosters, options)
    if ledger is not None and not result.fatal:
        from jamsos_cli.ledgerchecks import check_against

        check_against(result, session.ledger_location(ledger), options.as_of, session.file_mode)
    summary = summarise(result.records, result.findings, result.inputs)
    written = []
    if rejects is not None and result.tables:
        # all the rejects need of the records; the rest is freed before the files are read
        # again (at 10 million rows it is gigabytes)
        result.records = result.records.select("_rid", "_src", "_row")
        written = write_rejects(
            result.tables,
            result.records,
            result.findings,
            rejects,
            lang=session.lang,
            mode=session.file_mode,
            as_folder=as_folder,
        )
    extra = {
        "as_of": options.as_of.isoformat(),
        "decree": decree,
        "rejects": [str(p) for p in written],
    }
    log_findings(result.findings)
    if fmt is OutputFormat.json:
        session.json(documents.validate(summary, result.findings, session.lang, show_pii, extra))
    elif not quiet:
        heading = [as_of_line(session.lang, options.as_of, decree)]
        footer = [rejects_line(session.lang, p) for p in written]
        render_text(session.out, summary, result.findings, session.lang, show_pii, heading, footer)
    code = outcome(unusable=result.fatal, rejected=bool(summary.rejected))
    raise typer.Exit(finished(code, exit_zero=exit_zero))
