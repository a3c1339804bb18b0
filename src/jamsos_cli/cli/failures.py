"""How a command that fails reads: one line on stderr naming the cause, and its exit code
(SPEC §2). Exit 1 means "finished, rows rejected" to cron, so nothing else may end with 1:

- a user's mistake (``JamsosError``): its line and code (2, or 3 for a lock held);
- a system error jamsos did not turn into one (an ``OSError``): the file and the system's
  reason, a full disk as "disk full on <mount>", a reader that closed stdout early (``| head``)
  as such — exit 2;
- out of memory: one line, exit 2;
- anything else is a bug in jamsos: one line saying so, exit 2, and the traceback written
  to a crash file in the user's private log folder (platformdirs' ``user_log_dir``, 0700;
  the file 0600, personal data masked like every echo), whose path the line names so the
  clerk can send it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from jamsos_cli.errors import JamsosError

try:  # typer ≥ 0.20 carries its own click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import ClickException  # type: ignore[no-redef]
from jamsos_cli.exitcodes import ExitCode
from jamsos_cli.texts import Lang, say

__all__ = ["ClickException", "crash_folder", "failure", "usage_error"]

MAX_REASON = 200  # characters of an exception's text quoted in the line


def failure(exc: BaseException, lang: Lang) -> tuple[str, ExitCode]:
    """The one line (without the ``jamsos:`` prefix) and the exit code for ``exc``."""
    from jamsos_cli.writing import DiskFull

    if isinstance(exc, JamsosError):
        return exc.message(lang), exc.exit_code
    if isinstance(exc, MemoryError):
        return say("cli.out_of_memory", lang), ExitCode.USAGE
    if isinstance(exc, BrokenPipeError):  # `jamsos ... | head`: the reader left early
        _quiet_stdout()
        return say("cli.broken_pipe", lang), ExitCode.USAGE
    if isinstance(exc, OSError):
        path = Path(exc.filename) if exc.filename else None
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return DiskFull(path or Path.cwd()).message(lang), ExitCode.USAGE
        if path is not None:
            return say("error.file.os", lang, path=path, reason=exc.strerror or exc), ExitCode.USAGE
    return _crash(exc, lang), ExitCode.USAGE


def usage_error(err: ClickException, lang: Lang) -> str:
    """click's own usage errors in the user's language, as one line naming the command's
    help: the kinds a clerk meets (an unknown option, a missing argument or option, a value
    click cannot take, extra arguments); any other kind keeps click's words."""
    from typer._click import exceptions as ce

    ctx = getattr(err, "ctx", None)
    param = getattr(err, "param", None)
    hint = getattr(err, "param_hint", None) or _param_name(param)
    if isinstance(hint, (list, tuple)):
        hint = " / ".join(hint)
    if isinstance(err, ce.NoSuchOption):
        line = say("cli.usage.no_such_option", lang, name=err.option_name)
        if err.possibilities:
            line += " " + say("cli.usage.did_you_mean", lang, names=", ".join(err.possibilities))
    elif isinstance(err, ce.MissingParameter):
        kind = err.param_type or (param.param_type_name if param else "parameter")
        key = kind if kind in ("argument", "option") else "parameter"
        line = say(f"cli.usage.missing_{key}", lang, name=hint)
    elif isinstance(err, ce.BadParameter):
        detail = err.message.removeprefix("Value error, ")  # pydantic's prefix, via typer
        line = say("cli.usage.bad_value", lang, name=hint, detail=detail)
    elif isinstance(err, ce.BadOptionUsage) and err.message.endswith("requires an argument."):
        line = say("cli.usage.needs_value", lang, name=err.option_name)
    elif err.message.startswith("No such command"):
        name, _, rest = err.message.partition("'")[2].partition("'")
        line = say("cli.usage.no_such_command", lang, name=name)
        if "'" in rest:  # click's "Did you mean 'validate'?"
            line += " " + say("cli.usage.did_you_mean", lang, names=rest.split("'")[1])
    elif err.message.startswith("Got unexpected extra argument"):
        extra = err.message.rpartition("(")[2].rstrip(")")
        line = say("cli.usage.extra_arguments", lang, extra=extra)
    else:
        line = err.format_message()
    if ctx is None:
        return line
    return say("cli.usage.line", lang, reason=line, help=f"{ctx.command_path} --help")


def _param_name(param: object) -> str:
    """An option by its spellings (``--format``), an argument by its name (``ROSTERS``)."""
    if param is None:
        return ""
    if getattr(param, "param_type_name", "") == "option":
        return " / ".join(getattr(param, "opts", []))
    name = getattr(param, "human_readable_name", "") or getattr(param, "name", "") or ""
    return str(name).upper()


def _quiet_stdout() -> None:
    """stdout's reader is gone: what is still buffered goes nowhere (no second error when
    Python flushes it at exit)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "-"
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + "…"


def crash_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("jamsos", appauthor=False))


def _crash(exc: BaseException, lang: Lang) -> str:
    """Write the crash file; the line naming it (or saying why it could not be written)."""
    from jamsos_cli import __version__
    from jamsos_cli.render.mask import mask_text
    from jamsos_cli.writing import private_folder, write_atomic

    kind, reason = type(exc).__name__, _reason(exc)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = "\n".join(
        [
            f"jamsos {__version__} crash at {stamp}",
            f"python {sys.version.split()[0]} on {sys.platform}",
            f"command: {' '.join(sys.argv[1:])}",
            "",
            *traceback.format_exception(exc),
        ]
    )
    try:
        folder = crash_folder()
        private_folder(folder)
        crash = folder / f"crash-{stamp}-{os.getpid()}.txt"
        write_atomic(crash, lambda p: p.write_text(mask_text(text), "utf-8"))
    except Exception as failed:  # the crash file is help, not the point: say why it is missing
        return say("cli.internal_error_no_file", lang, kind=kind, reason=reason, why=failed)
    return say("cli.internal_error", lang, kind=kind, reason=reason, crash=crash)
