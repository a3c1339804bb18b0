"""Exit codes, defined once (SPEC §2): what cron and scripts read from every command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # nothing rejected (warnings and info allowed); dedupe: no pair found
    REJECTED = 1  # finished, but a row was rejected; dedupe: pairs found
    USAGE = 2  # usage or configuration error, or an input that could not be processed at all
    LOCKED = 3  # another run holds the lock on the same ledger or output folder
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


def outcome(*, unusable: bool, rejected: bool) -> ExitCode:
    """The exit code of a finished run: an unusable input wins over rejected rows."""
    if unusable:
        return ExitCode.USAGE
    return ExitCode.REJECTED if rejected else ExitCode.OK


def finished(code: ExitCode, *, exit_zero: bool) -> ExitCode:
    """``--exit-zero`` (the linters' name): a run whose only trouble is rejected rows exits 0,
    so cron mails only on a real failure; usage, configuration and lock errors keep theirs."""
    return ExitCode.OK if exit_zero and code is ExitCode.REJECTED else code
