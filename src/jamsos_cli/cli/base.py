"""What every ``jamsos`` command shares: the click classes (``--help`` from the text
catalogue; a user's mistake as one line and its exit code), the session, the common options.

Language: ``--lang`` on the command line, else ``lang`` in the config file (``--config`` or
``JAMSOS_CONFIG``), else Indonesian. ``--help`` and error lines follow the same rule as every
report; the locale (``LANG``, ``LC_*``) is not read: a server's locale says nothing about who
reads the report.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import sys
import tomllib
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core

from jamsos_cli.errors import JamsosError, UsageError
from jamsos_cli.exitcodes import ExitCode
from jamsos_cli.texts import DEFAULT_LANG, LANGS, Lang, catalogue, say
from jamsos_cli.writing import file_mode

if TYPE_CHECKING:
    from jamsos_cli.decrees import Decree
    from jamsos_cli.ledger import Location

PROG = "jamsos"
log = logging.getLogger(PROG)

_ARGS = "jamsos.args"  # ctx.meta: the command line's arguments, for the language
_RUNNING: list[str] = []  # the command that runs, as typed: its path, then its arguments


# --------------------------------------------------------------------------- language


def _option_value(args: Sequence[str], name: str) -> str | None:
    """The value of ``name`` on a command line (``--lang en`` or ``--lang=en``)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def language(args: Sequence[str]) -> Lang:
    """The language a command line asks for (see the module docstring). Never fails: a
    config file that cannot be read is the command's to report, not the help's."""
    lang = _option_value(args, "--lang")
    if lang in LANGS:
        return lang  # type: ignore[return-value]
    config = _option_value(args, "--config") or os.environ.get("JAMSOS_CONFIG")
    if config:
        try:
            lang = tomllib.loads(Path(config).read_text(encoding="utf-8-sig")).get("lang")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            lang = None
        if lang in LANGS:
            return lang  # type: ignore[return-value]
    return DEFAULT_LANG


def _args(ctx: typer.Context) -> list[str]:
    return ctx.meta.get(_ARGS, [])


def _path(ctx: typer.Context) -> list[str]:
    """The command's names below the root (``["ledger", "void"]``), whatever the program is
    called (``jamsos``, ``python -m jamsos_cli``: two words click puts in the command path)."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return names[::-1]


# --------------------------------------------------------------------------- help


def help_key(path: Sequence[str], name: str) -> str:
    """The catalogue key of a command's (``name`` = ``command``) or option's help:
    ``help.<command path>.<name>``, else ``help.common.<name>``."""
    own = ".".join(["help", *(path or ["jamsos"]), name])
    if own in catalogue(DEFAULT_LANG) or name == "command":
        return own
    return f"help.common.{name}"


def localise(command: Any, path: list[str], ctx: typer.Context, lang: Lang) -> None:
    """Give ``command``, its options and its subcommands their help in ``lang``."""
    command.help = say(help_key(path, "command"), lang)
    for param in command.get_params(ctx):
        param.help = say(help_key(path, param.name), lang)
    for name, sub in getattr(command, "commands", {}).items():
        localise(sub, [*path, name], ctx, lang)


_MARKERS = ("default", "required", "env var")  # what click adds to an option's help


class _Catalogue:
    """Help texts from the catalogue, headings and markers included, in the command line's
    language; the command line is kept (``parse_args``) before ``--help`` shows anything."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS] = [*_args(ctx), *args]
        path = [PROG, *_path(ctx)]  # "jamsos", whatever the program's name
        _RUNNING[:] = [" ".join(path), *args]  # the innermost command's parse comes last
        if ctx.parent is not None:  # a subcommand's usage error reaches the group's invoke
            return super().parse_args(ctx, args)  # type: ignore[misc]
        from jamsos_cli.cli.failures import ClickException, usage_error

        try:  # the root's own options: click would print its English block
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except ClickException as err:
            _echo_error(usage_error(err, language(args)), args)
            raise typer.Exit(err.exit_code) from None

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        lang = language(_args(ctx))
        localise(self, _path(ctx), ctx, lang)
        formatter.write_usage(
            ctx.command_path,
            " ".join(self.collect_usage_pieces(ctx)),  # type: ignore[attr-defined]
            prefix=say("help.heading.usage", lang) + " ",
        )
        self.format_help_text(ctx, formatter)  # type: ignore[attr-defined]
        self._sections(ctx, formatter, lang)

    def _sections(self, ctx: typer.Context, formatter: Any, lang: Lang) -> None:
        sections: dict[str, list[tuple[str, str]]] = {"arguments": [], "options": []}
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            record = param.get_help_record(ctx)
            if record is not None:
                kind = "arguments" if param.param_type_name == "argument" else "options"
                sections[kind].append((record[0], _markers(record[1], lang)))
        commands = {n: c for n, c in getattr(self, "commands", {}).items() if not c.hidden}
        limit = formatter.width - 6 - max(map(len, commands), default=0)
        sections["commands"] = [(n, c.get_short_help_str(limit)) for n, c in commands.items()]
        for kind, rows in sections.items():
            if rows:
                with formatter.section(say(f"help.heading.{kind}", lang)):
                    formatter.write_dl(rows)


def _markers(text: str, lang: Lang) -> str:
    """click's ``[default: 1000; required]`` in ``lang``."""
    head, bracket, rest = text.rpartition("  [")
    if not bracket:
        if not (text.startswith("[") and text.endswith("]")):
            return text
        head, rest = "", text[1:]
    for marker in _MARKERS:
        rest = rest.replace(marker, say(f"help.marker.{marker.replace(' ', '_')}", lang))
    return f"{head}  [{rest}" if head else f"[{rest}"


class JamsosCommand(_Catalogue, typer.core.TyperCommand):
    """A jamsos command: help from the catalogue."""


class JamsosGroup(_Catalogue, typer.core.TyperGroup):
    """The jamsos command groups: help from the catalogue; whatever stops a command becomes
    one line on stderr in the user's language and its exit code (``cli.failures``: a user's
    mistake, a system error, a full disk, a bug with its crash file — never a traceback, and
    never exit 1, which means "rows rejected"), wherever the command runs (console script,
    ``python -m``, or a test's CliRunner). A log file that could not be written makes a run
    that would have ended 0 or 1 end 2, with one line saying so."""

    def invoke(self, ctx: typer.Context) -> Any:
        from jamsos_cli.cli.failures import ClickException, failure, usage_error

        args = _args(ctx)
        lang = language(args)
        try:
            result = super().invoke(ctx)
        except typer.Exit as done:
            _log_outcome(done.exit_code, lang, args)
            raise
        except ClickException as err:  # a usage error: one line in the user's language
            _echo_error(usage_error(err, lang), args)
            raise typer.Exit(err.exit_code) from None
        except (typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            line, code = failure(exc, lang)
            _echo_error(line, args)
            raise typer.Exit(code) from None
        _log_outcome(0, lang, args)
        return result


def _stderr(args: Sequence[str]) -> Any:
    """stderr as jamsos writes to it: NIKs and phones masked unless ``--show-pii``."""
    from jamsos_cli.render.mask import MaskedStream

    return sys.stderr if "--show-pii" in args else MaskedStream(sys.stderr)


def _echo_error(line: str, args: Sequence[str]) -> None:
    """The one line of a failure, on stderr; in the log file too when there is one."""
    if log.handlers:
        log.error("%s", line)
    print(f"{PROG}: {line}", file=_stderr(args))


def _log_outcome(code: int | None, lang: Lang, args: Sequence[str]) -> None:
    """A run whose log file could not be written does not end as if it were fine."""
    failed = next((h for h in log.handlers if isinstance(h, LogFile) and h.failed), None)
    if failed is None:
        return
    error, failed.failed = failed.failed, None  # said once (the groups nest)
    print(f"{PROG}: {error.message(lang)}", file=_stderr(args))
    if code in (None, ExitCode.OK, ExitCode.REJECTED):
        raise typer.Exit(ExitCode.USAGE)


def command(app: typer.Typer, name: str, function: Any) -> None:
    """Register ``function`` as the command ``name`` of ``app``."""
    app.command(name, cls=JamsosCommand)(function)


def group() -> typer.Typer:
    """A jamsos command group (the app, ``ledger``)."""
    return typer.Typer(
        cls=JamsosGroup,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


# --------------------------------------------------------------------------- options


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class Language(StrEnum):
    id = "id"
    en = "en"


class BatchFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


# Options many commands share (SPEC §2 "Common options"); their help: help.common.<name>.
RostersArg = Annotated[list[str], typer.Argument()]
FormatOpt = Annotated[OutputFormat, typer.Option("--format")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q")]
LogFileOpt = Annotated[Path | None, typer.Option("--log-file")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", envvar="JAMSOS_CONFIG")]
ShowPiiOpt = Annotated[bool, typer.Option("--show-pii")]
LangOpt = Annotated[Language | None, typer.Option("--lang")]
DecreesDirOpt = Annotated[Path | None, typer.Option("--decrees")]
LedgerOpt = Annotated[str | None, typer.Option("--ledger")]  # a path, or a postgresql:// URL
NewLedgerOpt = Annotated[bool, typer.Option("--new-ledger")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y")]
RoleOpt = Annotated[str | None, typer.Option("--role")]
SheetOpt = Annotated[str | None, typer.Option("--sheet")]
HoldScoreOpt = Annotated[float | None, typer.Option("--hold-score")]
ExitZeroOpt = Annotated[bool, typer.Option("--exit-zero")]


# --------------------------------------------------------------------------- the session


class Session:
    """What one command invocation needs: config, consoles, language, logging."""

    def __init__(
        self,
        *,
        config: Path | None,
        lang: Language | None = None,
        quiet: bool = False,
        log_file: Path | None = None,
        show_pii: bool = False,
        fmt: OutputFormat = OutputFormat.text,
    ) -> None:

        from jamsos_cli.config import load_config

        self.config = load_config(config)
        self.lang: Lang = (lang.value if lang else None) or self.config.lang  # type: ignore[assignment]
        self.quiet = quiet
        self.show_pii = show_pii
        self.format = fmt
        # The report goes to stdout; colour and progress to stderr, off when not a TTY; both
        # through the mask (``render.mask``), unless --show-pii.
        from jamsos_cli.render.mask import MaskedStream

        out, err = (
            (sys.stdout, sys.stderr) if show_pii else map(MaskedStream, (sys.stdout, sys.stderr))
        )
        self.out = _console(file=out, highlight=False, soft_wrap=False)
        self.err = _console(file=err, highlight=False)
        self.file_mode = file_mode(self.config.group_readable)
        if log_file is not None:
            _setup_log(log_file, self.file_mode)

    def say(self, key: str, **values: object) -> None:
        """A progress/status line on stderr (not in quiet mode): the text of ``key``."""
        if not self.quiet:
            self.err.print(say(key, self.lang, **values), highlight=False)

    def show(self, key: str, **values: object) -> None:
        """A report line on stdout: the text of ``key``."""
        self.out.print(say(key, self.lang, **values), highlight=False)

    def json(self, doc: dict[str, Any], *, indent: int | None = 2) -> None:
        """The one JSON document of a ``--format json`` run (``render.documents``)."""
        from jamsos_cli.render.documents import write

        write(doc, indent=indent, show_pii=self.show_pii)

    def ledger_location(self, option: str | None) -> Location:
        """``--ledger``, else the config's ``ledger``, else the user data folder's file: a
        path made absolute, or a ``postgresql://`` URL (shown masked)."""
        from jamsos_cli.ledger import default_ledger_path, locate

        return locate(option or self.config.ledger or default_ledger_path())

    def ledger_named(self, option: str | None) -> bool:
        """The ledger is named (``--ledger`` or the config), not the default: it must exist."""
        return option is not None or self.config.ledger is not None

    @property
    def command(self) -> str:
        """The command line as the ledger's change log records it (``jamsos ledger void 3``),
        a ledger URL's password masked."""
        from jamsos_cli.ledger.location import mask_arg

        if not _RUNNING:
            return PROG
        return " ".join([_RUNNING[0], shlex.join(map(mask_arg, _RUNNING[1:]))]).strip()

    def confirm(self, yes: bool, key: str, **values: object) -> None:
        """Ask on the terminal before a change that cannot be taken back (``key``: the
        question); ``--yes`` answers for a script. No terminal and no ``--yes``: refused
        (exit 2), so a script never hangs on a question nobody reads. Anything but yes:
        nothing is changed (exit 0)."""
        if yes:
            return
        if not sys.stdin.isatty():
            raise UsageError("error.confirm.no_terminal", command=self.command)
        self.err.print(say(key, self.lang, **values), end=" ", highlight=False, markup=False)
        answer = sys.stdin.readline().strip().lower()
        if answer not in say("cli.yes_words", self.lang).split():
            self.err.print(say("cli.declined", self.lang), highlight=False)
            raise typer.Exit(ExitCode.OK)  # a "no" is an answer, not a failure

    def hold_score(self, option: float | None) -> float | None:
        """``--hold-score``, else the config's ``hold_score``; None: the engine's default."""
        if option is not None and not 0 <= option <= 100:
            raise UsageError("error.option.hold_score", value=f"{option:g}")
        return option if option is not None else self.config.hold_score

    def decree(self, decree_id: str | None, decrees_dir: Path | None) -> Decree | None:
        """The decree ``--decree`` names (quota from the config), or None."""
        if decree_id is None:
            return None
        from jamsos_cli.config import check_quotas
        from jamsos_cli.decrees import catalogue, load_decree

        folder = decrees_dir or self.config.decrees_dir
        if self.config.quotas:
            check_quotas(self.config, catalogue(folder))
        rules = load_decree(decree_id, folder, quota=self.config.quotas.get(decree_id))
        if rules.overrides is not None:
            self.say(
                "cli.decree_overrides",
                decree=decree_id,
                source=rules.source,
                shipped=rules.overrides,
            )
        return rules


class LogLine(logging.Formatter):
    """A log record as one line: control characters escaped, NIKs and phones masked
    (``render.mask``), whatever a message quotes."""

    def format(self, record: logging.LogRecord) -> str:
        from jamsos_cli.render.mask import escape_controls, mask_text

        return mask_text(escape_controls(super().format(record)))


class LogFile(logging.FileHandler):
    """The ``--log-file``: opened through the one write path (``writing.open_append``); a
    record that cannot be written (a full disk) is kept as ``failed`` for the run's end
    (``_log_outcome``), instead of logging's "--- Logging error ---" traceback."""

    def __init__(self, path: Path, mode: int) -> None:
        from jamsos_cli.writing import open_append

        open_append(path, mode)  # owner-only like every file jamsos writes; no link followed
        self.failed: JamsosError | None = None
        try:
            super().__init__(path, encoding="utf-8")
        except OSError as exc:
            raise UsageError("error.file.log", path=path, reason=exc.strerror) from None
        self.setFormatter(LogLine("%(asctime)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        from jamsos_cli.writing import disk_full_point

        try:
            disk_full_point(Path(self.baseFilename))
        except OSError:
            self.handleError(record)
            return
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        from jamsos_cli.writing import write_error

        exc = sys.exc_info()[1]
        if exc is not None and self.failed is None:
            self.failed = write_error(exc, Path(self.baseFilename))

    def close(self) -> None:
        with contextlib.suppress(OSError):  # the bytes a full disk refused: said already
            super().close()


def _console(**options: Any) -> Any:
    """A Rich console whose reader leaving early (``| head``) is a ``BrokenPipeError`` for
    ``cli.failures`` to report (Rich's own answer is exit 1: "rows rejected" to cron)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError(32, "Broken pipe")

    return _Console(**options)


def _setup_log(path: Path, mode: int = 0o600) -> None:
    handler = LogFile(path, mode)
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
        raise UsageError("error.option.date", option=option, value=value) from None


def absolute(path: Path) -> Path:
    """Absolute and tidy (``etc/../var`` → ``var``), without resolving symlinks."""
    return Path(os.path.abspath(Path(path).expanduser()))


def log_findings(findings: Any) -> None:
    """The log gets the counts, never the values (they may be personal data)."""
    if not log.handlers:
        return
    for code, n in findings.group_by("code").len().sort("code").iter_rows():
        log.info("finding %s: %d", code, n)
    log.info("findings total: %d", findings.height)
