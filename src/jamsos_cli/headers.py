"""Recognising a roster's columns from the headers senders actually type.

A header is compared after ``normalise_header`` (case and punctuation do not matter) with the
aliases declared on the roster model (``schema.aliases()``). Senders qualify headers ("NAMA
NELAYAN", "NIK KTP", "NO HP/WA"), so when no alias is the whole header, the longest alias
that is a whole-word prefix of it decides. Because the *longest* prefix wins, a field in its
own right ("NAMA IBU KANDUNG", "NIK KEPALA KELUARGA") is never taken for the name or NIK,
and ``schemas/reading.toml`` lists other such headers that are not roster fields at all.

The reading rules (``schemas/reading.toml``) are loaded and validated here too.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jamsos_cli.errors import problem
from jamsos_cli.resources import schema_file
from jamsos_cli.schema import aliases

_NON_ALNUM = re.compile(r"[\W_]+")


# ---------------------------------------------------------------------------- the rules (data)


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Rules):
    """What a roster may hold before reading it would exhaust the machine (checked before
    the work); an office with real giants raises them in the config's ``[limits]``."""

    max_csv_mb: int = Field(gt=0, strict=True)
    max_workbook_mb: int = Field(gt=0, strict=True)
    max_line_kb: int = Field(gt=0, strict=True)
    max_columns: int = Field(gt=0, strict=True)
    max_csv_cells: int = Field(gt=0, strict=True)
    max_workbook_xml_mb: int = Field(gt=0, strict=True)
    max_workbook_cells: int = Field(gt=0, strict=True)
    header_scan_rows: int = Field(gt=0, strict=True)
    max_cell_lines: int = Field(gt=0, strict=True)


class CsvRules(_Rules):
    delimiters: list[str]
    sniff_lines: int = Field(gt=0)
    sniff_max_kb: int = Field(gt=0)
    strip_extra: str


class FileRules(_Rules):
    extensions: list[str]
    skip_in_folders: list[str]


class HeaderRules(_Rules):
    min_fields: int = Field(ge=1)
    key_fields: list[str]
    exact_only: list[str]
    not_fields: list[str]
    two_row: dict[str, dict[str, str]]
    sex_ticks: dict[Literal["L", "P"], list[str]]

    @field_validator("two_row")
    @classmethod
    def _known_fields(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from jamsos_cli.schema import FIELDS

        named = set(value) | {f for sub in value.values() for f in sub.values()}
        unknown = sorted(named - set(FIELDS))
        if unknown:
            raise problem(
                "error.data.unknown_fields", unknown=", ".join(unknown), known=", ".join(FIELDS)
            )
        return value


class RowRules(_Rules):
    footer: list[str]
    total: str
    count: str
    numbering: str
    row_number: str


class SheetRules(_Rules):
    nik_like: str


class ReadingRules(_Rules):
    """``schemas/reading.toml``, validated."""

    limits: Limits
    csv: CsvRules
    files: FileRules
    headers: HeaderRules
    rows: RowRules
    sheets: SheetRules

    @property
    def footer_regex(self) -> str:
        """All footer patterns as one case-insensitive regex (Python and Polars alike)."""
        return "(?i)" + "|".join(f"(?:{p})" for p in self.rows.footer)

    @property
    def total_regex(self) -> str:
        return f"(?i){self.rows.total}"

    @property
    def count_regex(self) -> str:
        return f"(?i){self.rows.count}"


@cache
def reading_rules() -> ReadingRules:
    with schema_file("reading.toml").open("rb") as fh:
        return ReadingRules.model_validate(tomllib.load(fh))


# ---------------------------------------------------------------------------- matching


def normalise_header(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space: "NO. KTP" → "no ktp"."""
    return _NON_ALNUM.sub(" ", str(text).lower()).strip()


@cache
def _alias_index() -> tuple[dict[str, str | None], frozenset[str], int, dict[str, str | None]]:
    """Normalised alias → field (None for a known non-field header), the exact-only aliases,
    the most words any alias has (a longer prefix cannot match), and the aliases written
    without spaces ("noktp" → nik) where that spelling names one field only.

    The first field declaring an alias keeps it; non-field headers never override a field.
    """
    rules = reading_rules().headers
    index: dict[str, str | None] = {}
    for field_name, names in aliases().items():
        for alias in names:
            index.setdefault(normalise_header(alias), field_name)
    for other in rules.not_fields:
        index.setdefault(normalise_header(other), None)
    exact_only = frozenset(normalise_header(a) for a in rules.exact_only)
    compact: dict[str, set[str | None]] = {}
    for alias, name in index.items():
        compact.setdefault(alias.replace(" ", ""), set()).add(name)
    joined = {k: next(iter(v)) for k, v in compact.items() if len(v) == 1}
    return index, exact_only, max(len(a.split(" ")) for a in index), joined


@lru_cache(maxsize=65_536)
def field_of(header: str) -> str | None:
    """The field a header names: exact alias, else the longest whole-word alias prefix,
    else an alias written without its spaces or with every letter apart ("NOKTP",
    "TGLLAHIR", "N I K", "( N I K )")."""
    index, exact_only, longest, joined = _alias_index()
    norm = normalise_header(header)
    if not norm:
        return None
    if norm in index:
        return index[norm]
    words = norm.split(" ", longest)  # a header may be a whole paragraph: split no further
    for n in range(min(len(words) - 1, longest), 0, -1):
        prefix = " ".join(words[:n])
        if prefix in index and prefix not in exact_only:
            return index[prefix]
    if len(norm) <= 40:
        return joined.get(norm.replace(" ", ""))
    return None


def match_headers(headers: list[str]) -> tuple[dict[str, int], list[int]]:
    """field → column index, and the indexes of columns no field claims.

    Empty headers are neither matched nor listed as unrecognised. When two columns name the
    same field the first one wins and the later one is unrecognised.
    """
    fields: dict[str, int] = {}
    unknown: list[int] = []
    for i, header in enumerate(headers):
        if header is None or not str(header).strip():
            continue
        name = field_of(header)
        if name is None or name in fields:
            unknown.append(i)
        else:
            fields[name] = i
    return fields, unknown


@cache
def added_columns() -> frozenset[str]:
    """The headers of the columns jamsos adds to a rejects file (the row number and the
    reasons, ``rejects.*`` in every language), normalised: when the file comes back they are
    jamsos's own, neither a field nor an unknown column."""
    from jamsos_cli.texts import LANGS, say

    return frozenset(
        normalise_header(say(f"rejects.{key}", lang)) for key in ADDED for lang in LANGS
    )


ADDED = ("row", "reasons")  # the rejects file's own columns (texts: rejects.row, .reasons)


def is_header_row(fields: dict[str, int]) -> bool:
    """Enough known columns, one of them the NIK or the name, to be the table's header."""
    rules = reading_rules().headers
    return len(fields) >= rules.min_fields and any(k in fields for k in rules.key_fields)
