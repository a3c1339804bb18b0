"""The ``jamsos`` command line: parse options, call the core, render. No rules live here."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from jamsos_cli import __version__
from jamsos_cli.errors import JamsosError, UsageError
from jamsos_cli.exitcodes import ExitCode, outcome


class _JamsosGroup(typer.core.TyperGroup):
    """Turns a user's mistake (``JamsosError``) into one line on stderr and its exit code,
    wherever the command runs (console script, ``python -m``, or a test's CliRunner)."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except JamsosError as err:
            typer.echo(f"jamsos: {err}", err=True)
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    cls=_JamsosGroup,
    name="jamsos",
    help="Validate, deduplicate and batch city-funded BPJS Ketenagakerjaan enrolment rosters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
log = logging.getLogger("jamsos")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class Language(StrEnum):
    id = "id"
    en = "en"


# Options every command shares (SPEC §2 "Common options").
FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", help="Report format: text for people, json for machines."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr; no report.")]
LogFileOpt = Annotated[
    Path | None, typer.Option("--log-file", help="Append a log of the run (PII masked).")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="JAMSOS_CONFIG", help="Config file (jamsos.toml)."),
]
ShowPiiOpt = Annotated[
    bool, typer.Option("--show-pii", help="Show NIKs and phone numbers unmasked.")
]
LangOpt = Annotated[
    Language | None, typer.Option("--lang", help="Message language: id (default) or en.")
]
DecreesDirOpt = Annotated[
    Path | None, typer.Option("--decrees", help="Folder of extra decree rule sets (*.toml).")
]


class Session:
    """What one command invocation needs: config, consoles, language, logging."""

    def __init__(
        self,
        *,
        config: Path | None,
        lang: Language | None,
        quiet: bool,
        log_file: Path | None,
        show_pii: bool,
        fmt: OutputFormat = OutputFormat.text,
    ) -> None:
        from rich.console import Console

        from jamsos_cli.config import load_config

        self.config = load_config(config)
        self.lang = (lang.value if lang else None) or self.config.lang
        self.quiet = quiet
        self.show_pii = show_pii
        self.format = fmt
        # The report goes to stdout; colour and progress to stderr, off when not a TTY.
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=False)
        self.err = Console(file=sys.stderr, highlight=False)
        self.file_mode = 0o640 if self.config.group_readable else 0o600
        if log_file is not None:
            _setup_log(log_file, self.file_mode)

    def say(self, message: str) -> None:
        """A progress/status line on stderr (not in quiet or json mode)."""
        if not self.quiet:
            self.err.print(message, highlight=False)


def _setup_log(path: Path, mode: int = 0o600) -> None:
    try:
        # created owner-only like every file jamsos writes (the umask would make it 0644)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode))
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot open log file ({exc.strerror})") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for old in list(log.handlers):  # one run, one log: an earlier in-process run's file is closed
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def parse_date(value: str | None, option: str) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: use YYYY-MM-DD") from None


def load_decree_option(decree_id: str | None, decrees_dir: Path | None, session: Session):
    if decree_id is None:
        return None
    from jamsos_cli.decrees import load_decree

    rules = load_decree(
        decree_id,
        decrees_dir or session.config.decrees_dir,
        quota=session.config.quotas.get(decree_id),
    )
    if rules.overrides is not None:
        session.say(f"{decree_id}: {rules.source} replaces the shipped {rules.overrides}")
    return rules


@app.command()
def validate(
    rosters: Annotated[
        list[str], typer.Argument(help="Roster files (.csv .xlsx .xls .ods) or folders of them.")
    ],
    decree: Annotated[
        str | None, typer.Option("--decree", help="Also apply this decree's eligibility rules.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge age on this date (YYYY-MM-DD; today).")
    ] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="Role for rosters without a role column.")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Write rejected rows: a .csv/.xlsx file, or a folder."),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet to read.")] = None,
    decrees_dir: DecreesDirOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Read, normalise and check rosters; report every problem row by row.

    Exit 0: no row rejected; 1: some rows rejected; 2: an input could not be processed.
    """
    from jamsos_cli import report
    from jamsos_cli.pipeline import RunOptions, count_inputs, run_checks
    from jamsos_cli.rejects import write_rejects

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    # a wrong --rejects name is said before the run, not after minutes of checking
    as_folder = rejects is not None and (count_inputs(rosters) > 1 or rejects.is_dir())
    if rejects is not None and not as_folder and rejects.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(f"--rejects {rejects}: give a .csv or .xlsx file name")
    decree_rules = load_decree_option(decree, decrees_dir, session)
    options = RunOptions(
        decree=decree_rules,
        as_of=parse_date(as_of, "--as-of"),
        role=role,
        sheet=sheet,
        city_code=session.config.city,
        apply_quota=True,
        keep_rows=False,  # --rejects reads each file again (read.reread): less memory
    )
    log.info("validate %s decree=%s as_of=%s", rosters, decree, options.as_of)
    result = run_checks(rosters, options)
    summary = report.summarise(result.records, result.findings, result.inputs)
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
    _log_findings(result.findings)
    if fmt is OutputFormat.json:
        sys.stdout.write(
            report.json_report(summary, result.findings, session.lang, show_pii, extra) + "\n"
        )
    elif not quiet:
        heading = [_as_of_line(session.lang, options.as_of, decree)]
        footer = [_rejects_line(session.lang, p) for p in written]
        report.render_text(
            session.out, summary, result.findings, session.lang, show_pii, heading, footer
        )
    raise typer.Exit(outcome(unusable=result.fatal, rejected=bool(summary.rejected)))


def _as_of_line(lang: str, as_of: date, decree: str | None) -> str:
    if lang == "en":
        return f"Checked as of {as_of.isoformat()}" + (f" under {decree}" if decree else "")
    return f"Diperiksa per {as_of.isoformat()}" + (f" menurut {decree}" if decree else "")


def _rejects_line(lang: str, path: Path) -> str:
    return ("Rejects written: " if lang == "en" else "Baris ditolak ditulis ke: ") + str(path)


def _log_findings(findings) -> None:
    """The log gets the counts, never the values (they may be personal data)."""
    if not log.handlers:
        return
    for code, n in findings.group_by("code").len().sort("code").iter_rows():
        log.info("finding %s: %d", code, n)
    log.info("findings total: %d", findings.height)


@app.command("decrees")
def decrees_command(
    decree_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Show this rule set in full.")
    ] = None,
    decrees_dir: DecreesDirOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the decree rule sets, or show one in full as jamsos understood it."""
    import json

    from jamsos_cli import decrees as dec

    session = Session(config=config, lang=lang, quiet=False, log_file=None, show_pii=False)
    folder = decrees_dir or session.config.decrees_dir
    if decree_id is None:
        rules = dec.all_decrees(folder)
        if fmt is OutputFormat.json:
            doc = {"decrees": [dec.summary(d) for d in rules]}
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        else:
            dec.render_list(session.out, rules, session.lang)
        return
    rules = load_decree_option(decree_id, folder, session)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(dec.detail(rules), ensure_ascii=False, indent=2) + "\n")
    else:
        dec.render_detail(session.out, rules, session.lang)


@app.command("template")
def template_command(
    path: Annotated[Path, typer.Argument(metavar="PATH.xlsx", help="The .xlsx file to write.")],
    decree: Annotated[str, typer.Option("--decree", help="Decree whose roster this is.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    decrees_dir: DecreesDirOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write an empty roster for senders: the right headers, NIK and phone as Text."""
    import json

    from jamsos_cli.template import template_fields, write_template

    session = Session(config=config, lang=None, quiet=quiet, log_file=None, show_pii=False)
    rules = load_decree_option(decree, decrees_dir, session)
    written = write_template(rules, path, force=force)
    if fmt is OutputFormat.json:
        doc = {"template": str(written), "decree": rules.id, "fields": template_fields(rules)}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    elif not quiet:
        lead = "Template written: " if session.lang == "en" else "Templat ditulis: "
        session.out.print(lead + str(written), highlight=False)


# --- build-batch and ledger (the storage half: build.py, ledger.py, batch.py, locks.py) ------


class BatchFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


LedgerOpt = Annotated[
    Path | None,
    typer.Option("--ledger", help="Ledger file (default: config, else the user data folder)."),
]


def _ledger_path(option: Path | None, session: Session) -> Path:
    from jamsos_cli.ledger import default_ledger_path

    path = option or session.config.ledger or default_ledger_path()
    return _absolute(path)


def _absolute(path: Path) -> Path:
    """Absolute and tidy (``etc/../var`` → ``var``), without resolving symlinks."""
    return Path(os.path.abspath(Path(path).expanduser()))


@app.command("build-batch")
def build_batch_command(
    rosters: Annotated[
        list[str], typer.Argument(help="Roster files (.csv .xlsx .xls .ods) or folders of them.")
    ],
    decree: Annotated[str, typer.Option("--decree", help="Decree the batch is paid under.")],
    start: Annotated[str, typer.Option("--start", help="First month of coverage (YYYY-MM).")],
    end: Annotated[
        str | None, typer.Option("--end", help="Last month (YYYY-MM; December of --start's year).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder that receives the batch folder.")
    ] = None,
    batch_format: Annotated[
        BatchFormat | None, typer.Option("--batch-format", help="Batch files: xlsx or csv.")
    ] = None,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows per batch file.")] = 1000,
    ledger: LedgerOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read the ledger, report, write nothing.")
    ] = False,
    layout: Annotated[
        Path | None, typer.Option("--layout", help="Batch column layout (TOML file).")
    ] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="Role for rosters without a role column.")
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet to read.")] = None,
    decrees_dir: DecreesDirOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Validate, deduplicate, apply the decree and write a new batch folder with its manifest.

    Exit 0: no row rejected; 1: some rows rejected; 2: usage error or an input that could not
    be processed (nothing written); 3: another run holds the ledger or output folder lock.
    """
    from jamsos_cli import build, report
    from jamsos_cli.batch import load_layout
    from jamsos_cli.ledger import Period

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    period = Period.parse(start, end)
    out_dir = out or session.config.out_dir
    if out_dir is None:
        raise UsageError("--out: give the output folder (or out_dir in the config file)")
    request = build.BuildRequest(
        rosters=rosters,
        decree=load_decree_option(decree, decrees_dir, session),
        period=period,
        out=_absolute(out_dir),
        ledger=_ledger_path(ledger, session),
        layout=load_layout(layout),
        batch_format=(batch_format.value if batch_format else session.config.batch_format),
        max_rows=max_rows,
        dry_run=dry_run,
        role=role,
        sheet=sheet,
        city_code=session.config.city,
        file_mode=session.file_mode,
        lang=session.lang,
    )
    log.info("build-batch %s decree=%s %s..%s", rosters, decree, start, period.end_label)
    say = session.say if fmt is OutputFormat.text else log.info
    result = build.build_batch(request, say=say)
    _log_findings(result.findings)
    for note in result.recovered:
        log.info("recovery: %s", note)
    log.info("ledger %s; batch %s", request.ledger, result.batch and result.batch["folder"])
    if fmt is OutputFormat.json:
        doc = {
            "summary": {**result.summary.as_dict(), **build.json_extra(result)},
            "issues": report.issues_for_output(result.findings, session.lang, show_pii).to_dicts(),
            "batch": result.batch,
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    elif not quiet:
        heading, footer = build.report_lines(result, session.lang)
        report.render_text(
            session.out, result.summary, result.findings, session.lang, show_pii, heading, footer
        )
    raise typer.Exit(result.exit_code)


ledger_app = typer.Typer(
    help="What has been submitted: list, stats, export, void.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(ledger_app, name="ledger")


def _show_ledger(
    ledger: Path | None, fmt: OutputFormat, lang: Language | None, config: Path | None, key: str
) -> None:
    """``ledger list`` / ``ledger stats``: read a snapshot (never waits for cron), render."""
    from jamsos_cli import ledger as ldg

    session = Session(config=config, lang=lang, quiet=False, log_file=None, show_pii=False)
    path = _ledger_path(ledger, session)
    rows = []
    if path.exists():
        with ldg.opened(path, mode=session.file_mode) as book:
            rows = book.batches() if key == "batches" else book.stats()
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps({"ledger": str(path), key: rows}, indent=2) + "\n")
    elif key == "batches":
        ldg.render_batches(session.out, path, rows, session.lang)
    else:
        ldg.render_stats(session.out, path, rows, session.lang)


@ledger_app.command("list")
def ledger_list(
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the batches: id, folder, decree, period, participants, status, created."""
    _show_ledger(ledger, fmt, lang, config, "batches")


@ledger_app.command("stats")
def ledger_stats(
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """People and premium totals per decree and coverage period (voided batches left out)."""
    _show_ledger(ledger, fmt, lang, config, "stats")


@ledger_app.command("export")
def ledger_export(
    target: Annotated[Path, typer.Argument(help="The .csv or .xlsx file to write.")],
    include_voided: Annotated[
        bool, typer.Option("--include-voided", help="Also the people of voided batches.")
    ] = False,
    ledger: LedgerOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write everyone in the ledger (real NIKs: the file is created owner-only)."""
    from jamsos_cli import ledger as ldg

    session = Session(config=config, lang=None, quiet=quiet, log_file=None, show_pii=False)
    path = _ledger_path(ledger, session)
    if target.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(f"{target}: give a .csv or .xlsx file name")
    with ldg.opened(path, mode=session.file_mode) as book:
        frame = ldg.export_frame(book, include_voided=include_voided)
    ldg.write_export(frame, target, mode=session.file_mode)
    session.say(f"{frame.height} → {target} (ledger {path})")


@ledger_app.command("void")
def ledger_void(
    batch: Annotated[str, typer.Argument(help="Batch id or folder name (jamsos ledger list).")],
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Withdraw a batch that was never uploaded: its people can be submitted again."""
    from jamsos_cli import ledger as ldg

    session = Session(config=config, lang=lang, quiet=quiet, log_file=None, show_pii=False)
    path = _ledger_path(ledger, session)
    with ldg.opened(path, mode=session.file_mode, write=True) as book:
        voided = book.void(batch)
    log.info("voided batch %s in %s", voided["id"], path)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps({"ledger": str(path), "voided": voided}, indent=2) + "\n")
    elif not quiet:
        lead = "Batch voided: " if session.lang == "en" else "Batch dibatalkan: "
        keep = (
            " (folder kept; do not upload it)"
            if session.lang == "en"
            else " (folder tidak dihapus; jangan diunggah)"
        )
        session.out.print(f"{lead}{voided['id']} {voided['folder']}{keep}", highlight=False)


# --- dedupe (dedupe.py: exact and likely duplicates, the review file, decisions) ----------


@app.command("dedupe")
def dedupe_command(
    rosters: Annotated[
        list[str], typer.Argument(help="Roster files (.csv .xlsx .xls .ods) or folders of them.")
    ],
    ledger: LedgerOpt = None,
    review: Annotated[
        Path | None,
        typer.Option("--review", help="Write the pairs side by side to decide (.csv or .xlsx)."),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            "--decisions", help="The review file with SAMA/BEDA filled in; kept in the ledger."
        ),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", help="Likely duplicates from this score (0-100, default 70)."),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet to read.")] = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Find the same person twice: the same NIK, or likely the same person with another NIK,
    across all the rosters and the ledger; with a score and the reasons.

    Exit 0: no pair found; 1: pairs found; 2: usage error or an input that could not be
    processed; 3: another run holds the ledger (when recording --decisions).
    """
    from jamsos_cli import dedupe

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    request = dedupe.DedupeRequest(
        rosters=rosters,
        ledger=_ledger_path(ledger, session),
        review=review,
        decisions=decisions,
        min_score=min_score,
        sheet=sheet,
        city_code=session.config.city,
        lang=session.lang,
        file_mode=session.file_mode,
    )
    log.info("dedupe %s ledger=%s", rosters, request.ledger)
    result = dedupe.dedupe(request, say=log.info)  # the report says what was written
    _log_findings(result.run.findings.filter(result.run.findings["rid"].is_null()))
    log.info("dedupe pairs: %d", result.pairs.height)
    if fmt is OutputFormat.json:
        doc = dedupe.json_doc(result, session.lang, show_pii)
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    elif not quiet:
        dedupe.render_text(session.out, result, session.lang, show_pii)
    raise typer.Exit(result.exit_code)


def _version_callback(value: bool) -> None:
    if value:
        print(f"jamsos {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """jamsos: rosters in, BPJS-ready batches out, every bad row sent back with a reason."""


def main() -> None:
    """Console entry point: user mistakes become one line on stderr and an exit code."""
    try:
        app(standalone_mode=True)
    except JamsosError as err:
        print(f"jamsos: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("jamsos: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except MemoryError:
        print("jamsos: out of memory (an input too large for this machine?)", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
