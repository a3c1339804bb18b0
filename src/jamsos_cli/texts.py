"""Every text a person reads, in one data file per language: ``schemas/texts/<lang>.toml``.

``say(key, lang, **values)`` is the one accessor: the text of ``key`` in ``lang`` (Indonesian
unless the run asks for English) with its ``{placeholders}`` filled. Keys are the dotted paths
of the TOML tables, named by what they belong to:

- ``finding.<CODE>``: the message of a finding code (``schemas/codes.toml`` keeps the code's
  severity and scope);
- ``reason.<key>``: a near-duplicate reason (``neardup``);
- ``help.<command path>.<option>``: ``--help`` (``help.common.<option>`` for options many
  commands share; ``help.<command path>.command`` for the command itself);
- ``error.<area>.<what>``: a user's mistake (``errors.JamsosError`` carries the key);
- ``<area>.<what>`` for what a screen, report or file shows (``report``, ``build``,
  ``dedupe``, ``ledger``, ``decrees``, ``review``, ``rejects``, ``export``, ``template``...).

A text that must be rendered later, in a language not known yet (a reader error kept in a
findings row), travels as ``ref(key, **values)``: a string ``resolve`` turns into its text.

Read with ``tomllib`` only, so ``jamsos --help`` shows it without importing the engine.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from typing import Any, Literal

from jamsos_cli.render.mask import escape_controls
from jamsos_cli.resources import schema_file

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")
DEFAULT_LANG: Lang = "id"

_REF = "\ue000"  # a private-use character: marks a ``ref`` (never in a roster or a path)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_flatten(value, key + "."))
        else:
            out[key] = value
    return out


@cache
def catalogue(lang: Lang = DEFAULT_LANG) -> dict[str, str]:
    """Every text of ``lang`` by its dotted key."""
    if lang not in LANGS:
        raise ValueError(f"no text catalogue for language {lang!r}")
    with schema_file("texts", f"{lang}.toml").open("rb") as fh:
        return _flatten(tomllib.load(fh))


def say(key: str, lang: Lang | str = DEFAULT_LANG, /, **values: object) -> str:
    """The text of ``key`` in ``lang`` with its placeholders filled (a value that is a
    ``ref`` is rendered in ``lang`` too). A missing key or value is a bug: KeyError."""
    text = catalogue(lang)[key]  # type: ignore[arg-type]
    if not values:
        return text.format()
    return text.format(**{k: _filled(v, lang) for k, v in values.items()})


def _filled(value: object, lang: Lang | str) -> object:
    """A value as a text shows it: a ``ref`` rendered, a list one line per item, a number as
    it is, anything else (a file name, a cell, an error) with its control characters
    escaped, so an ANSI escape or a line break in a name never reaches a terminal or a log
    raw (``render.mask.escape_controls``)."""
    if isinstance(value, list | tuple):
        return "\n".join(str(_filled(item, lang)) for item in value)
    if isinstance(value, str) and value.startswith(_REF):
        return resolve(value, lang)
    if isinstance(value, int | float):
        return value
    return escape_controls(str(value))


def section(prefix: str, lang: Lang | str = DEFAULT_LANG) -> dict[str, str]:
    """The raw texts under ``prefix`` (``section("reason")`` → ``{"same_nik": ...}``), for
    renderers that fill many rows at once."""
    start = prefix + "."
    return {k[len(start) :]: v for k, v in catalogue(lang).items() if k.startswith(start)}  # type: ignore[arg-type]


def ref(key: str, /, **values: object) -> str:
    """``say(key, **values)`` to be rendered later, in the reader's language: a string that
    can sit in a findings column. Values are kept as text (nested refs included)."""
    return _REF + json.dumps([key, {k: str(v) for k, v in values.items()}], ensure_ascii=False)


def resolve(value: object, lang: Lang | str = DEFAULT_LANG) -> object:
    """A ``ref`` rendered in ``lang``; a list one line per item (refs rendered); anything
    else as it is."""
    if isinstance(value, list | tuple):
        return "\n".join(str(resolve(item, lang)) for item in value)
    if not isinstance(value, str) or not value.startswith(_REF):
        return value
    try:
        key, values = json.loads(value[len(_REF) :])
        return say(key, lang, **values)
    except (ValueError, KeyError, TypeError):
        return value[len(_REF) :]  # damaged (e.g. masked digits inside a number): shown raw
