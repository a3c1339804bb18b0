"""The ``jamsos`` command line: parse options, call the core, render. No rules live here."""

from __future__ import annotations

import logging
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli import __version__
from jamsos_cli.errors import JamsosError, UsageError

app = typer.Typer(
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
            _setup_log(log_file)

    def say(self, message: str) -> None:
        """A progress/status line on stderr (not in quiet or json mode)."""
        if not self.quiet:
            self.err.print(message, highlight=False)


def _setup_log(path: Path) -> None:
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot open log file ({exc.strerror})") from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
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

    return load_decree(decree_id, decrees_dir or session.config.decrees_dir)


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
    from jamsos_cli.pipeline import RunOptions, run_checks
    from jamsos_cli.rejects import write_rejects

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    decree_rules = load_decree_option(decree, decrees_dir, session)
    options = RunOptions(
        decree=decree_rules,
        as_of=parse_date(as_of, "--as-of"),
        role=role,
        sheet=sheet,
        city_code=session.config.city,
    )
    log.info("validate %s decree=%s as_of=%s", rosters, decree, options.as_of)
    result = run_checks(rosters, options)
    summary = report.summarise(result.records, result.findings, result.inputs)
    written = []
    if rejects is not None and result.tables:
        as_folder = len(result.inputs) > 1 or rejects.is_dir()
        if not as_folder and rejects.suffix.lower() not in (".csv", ".xlsx"):
            raise UsageError(f"--rejects {rejects}: give a .csv or .xlsx file name")
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
    raise typer.Exit(2 if result.fatal else (1 if summary.rejected else 0))


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


def _version_callback(value: bool) -> None:
    if value:
        print(f"jamsos {__version__}")
        raise typer.Exit()


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
        sys.exit(130)
