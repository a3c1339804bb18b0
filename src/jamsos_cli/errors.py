"""Errors a user can cause, each with the exit code SPEC §2 gives it.

The CLI turns these into one line on stderr (never a traceback): 2 for usage, configuration
and inputs that cannot be processed at all, 3 when another run holds the lock.
"""

from __future__ import annotations

from jamsos_cli.exitcodes import ExitCode


class JamsosError(Exception):
    exit_code = ExitCode.USAGE


class UsageError(JamsosError):
    """A bad option value or combination."""


class LockHeld(JamsosError):
    """Another run holds the lock on the same ledger or output folder."""

    exit_code = ExitCode.LOCKED
