"""Where a ledger is: a file path (SQLite) or a ``postgresql://`` URL — and how a URL is shown.

A URL may carry a password. ``LedgerURL`` keeps the URL to connect with (``conninfo()``)
and is the masked form wherever it becomes text — ``str``, ``repr``, f-strings, catalogue
messages, logs, the manifest, JSON — so a credential cannot reach the screen by accident:
``postgresql://jamsos:***@db.prov.go.id/jamsos``. (Cron setups keep the password out of the
URL altogether: ``~/.pgpass`` or ``PGPASSWORD``, which libpq reads.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

SCHEMES = ("postgresql", "postgres")
MASK = "***"
_QUERY_PASSWORD = re.compile(r"(?i)(^|&)(password=)([^&#]*)")


class LedgerURL:
    """A PostgreSQL ledger's URL: masked as text, real only through ``conninfo()``."""

    __slots__ = ("_url", "masked", "password")

    def __init__(self, url: str) -> None:
        self._url = url
        self.masked, self.password = _mask(url)

    def conninfo(self) -> str:
        """The URL as given, credentials included: for the driver only, never for text."""
        return self._url

    def scrub(self, text: str) -> str:
        """``text`` (a driver's message) with the URL masked and the password removed."""
        text = text.replace(self._url, self.masked)
        for secret in {self.password, unquote(self.password)} - {""}:
            text = text.replace(secret, MASK)
        return text

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"LedgerURL({self.masked!r})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LedgerURL) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)


Location = Path | LedgerURL


def is_url(value: object) -> bool:
    """A ``postgresql://`` (or ``postgres://``) URL rather than a file path."""
    scheme, sep, _ = str(value).partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


def locate(value: str | Path | LedgerURL) -> Location:
    """What a ``--ledger`` value or the config's ``ledger`` names: a URL as is, a path made
    absolute (``~`` expanded, ``..`` tidied, symlinks kept)."""
    if isinstance(value, LedgerURL):
        return value
    if isinstance(value, str) and is_url(value):
        return LedgerURL(value)
    return Path(os.path.abspath(Path(value).expanduser()))


def mask_arg(arg: str) -> str:
    """A command-line argument as it may be shown or recorded (the ledger's change log, a
    message quoting the command): a URL in it — ``URL`` or ``--option=URL`` — masked."""
    name, sep, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    return name + sep + LedgerURL(value).masked if is_url(value) else arg


def _mask(url: str) -> tuple[str, str]:
    """(the URL with its password as ``***``, the password as written) — in the user info
    part and in a ``password=`` query parameter, the two places libpq takes one from. The
    rest of the URL is left exactly as written."""
    scheme, sep, rest = url.partition("://")
    end = len(rest)
    for stop in "/?#":
        end = min(end, rest.find(stop) if stop in rest else end)
    netloc, tail = rest[:end], rest[end:]
    userinfo, at, hosts = netloc.rpartition("@")
    password = ""
    if at and ":" in userinfo:
        user, _, password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hosts}"
    path, qmark, query = tail.partition("?")
    for m in _QUERY_PASSWORD.finditer(query):
        password = password or m.group(3)
    query = _QUERY_PASSWORD.sub(rf"\g<1>\g<2>{MASK}", query)
    return f"{scheme}{sep}{netloc}{path}{qmark}{query}", password
