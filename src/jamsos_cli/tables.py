"""What the reader hands to the rest of the pipeline.

``RosterTable`` is one input (file, or sheet of a workbook) as it was sent: every original
column kept as text, in order, so a rejects file can give the sender back their own rows.
``records`` (built by ``normalise.py``) is the run-wide frame of people, one row per record,
with canonical columns; ``RECORD_SCHEMA`` declares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from jamsos_cli.errors import JamsosError
from jamsos_cli.schema import FIELDS
from jamsos_cli.texts import DEFAULT_LANG, ref, say

if TYPE_CHECKING:
    from jamsos_cli.headers import Limits


class RosterReadError(JamsosError):
    """An input that cannot be processed at all (exit 2): unreadable, empty, binary...

    ``key`` (``read.<what>``) and its values say why; ``file``, ``sheet``, ``row`` and
    ``column`` where. ``reason()`` is the why alone, as a ``texts.ref`` (the file-level
    finding's detail); ``message(lang)`` the whole line. ``notes``: file-level findings
    worth keeping although the file is unusable (other sheets that hold data)."""

    def __init__(
        self,
        file: str,
        key: str,
        /,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        notes: list[dict] | None = None,
        **values: object,
    ) -> None:
        super().__init__(key, **values)
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
        self.notes = list(notes or [])

    def reason(self) -> str:
        """Why, and on which row when there is one, to render later."""
        why = ref(self.key, **self.values)
        return why if self.row is None else ref("read.at_row", row=self.row, reason=why)

    def finding_detail(self) -> tuple[str, str | None]:
        """The detail and value of the file-level finding this error becomes."""
        return self.reason(), None

    def message(self, lang: str = DEFAULT_LANG) -> str:
        where = self.file + (f" [{self.sheet}]" if self.sheet else "")
        if self.row is not None:
            where = say("read.where_row", lang, where=where, row=self.row)
        if self.column:
            where = say("read.where_column", lang, where=where, column=self.column)
        return say("read.where", lang, where=where, reason=say(self.key, lang, **self.values))


class CodedReadError(RosterReadError):
    """An unusable input whose finding code has a message of its own (``finding.<code>``,
    naming the ``detail`` and ``value`` given here, both language-neutral): the error line
    says that message, and the file-level finding carries the same detail and value."""

    code: str  # each subclass names its finding code

    def __init__(
        self,
        file: str,
        /,
        *,
        detail: str,
        value: str = "",
        sheet: str | None = None,
        notes: list[dict] | None = None,
    ) -> None:
        key = f"finding.{self.code}"
        super().__init__(file, key, sheet=sheet, notes=notes, detail=detail, value=value)

    def finding_detail(self) -> tuple[str, str | None]:
        return str(self.values["detail"]), str(self.values["value"]) or None


@dataclass
class RosterTable:
    """One roster as read.

    ``frame`` holds one Utf8 column per original column, named ``c0``, ``c1``... in the
    file's order (``headers[i]`` is the header text of ``c{i}``), with values stripped of
    surrounding whitespace and empty cells as null, plus:

    - ``_row`` (Int64): the row number a person sees (spreadsheet row, or the CSV line on
      which the record starts, header = its own line);
    - ``_nik_numeric`` / ``_phone_numeric`` (Boolean): the cell was a number in a spreadsheet
      (its text is then the exact digits of the number, no ``.0``, no exponent).

    Blank rows and footer rows (JUMLAH, TOTAL, signatures) are already gone.
    ``fields`` maps a schema field (``schema.FIELDS``) to the index of its column;
    ``derived`` a field read from several columns (the sex from "L | P" tick columns under
    a merged JENIS KELAMIN) to its own column of ``frame`` and the header shown for it.
    ``title_rows``: (row number, text) of the rows above the header, which may name the
    role of a list with no role column. ``role`` is the role every row gets when the table
    has no role column (set by the pipeline: ``--role``, the config's ``[[inputs]]``, or
    the title); ``occupation_is_role`` says whether, failing that, the occupation column
    stands for the role (not under a decree whose roles are offices). ``own_columns``: the
    columns jamsos added to a rejects file that came back (row number, reasons), skipped by
    every check and left out of its next rejects file; ``header_rows``: the header as
    written (one row or two), which a rejects file repeats.
    """

    file: str  # as given on the command line (or the file inside a folder argument)
    path: Path
    sheet: str | None
    kind: str  # "csv" | "xlsx" | "xls" | "ods"
    header_row: int
    headers: list[str]
    fields: dict[str, int]
    frame: pl.DataFrame
    encoding: str | None = None  # csv only: the encoding it was read with
    delimiter: str | None = None  # csv only
    notes: list[dict] = field(default_factory=list)  # file-level findings (FINDING_SCHEMA rows)
    stamp: tuple[int, int] | None = None  # the file's (size, mtime_ns) when it was read
    derived: dict[str, tuple[str, str]] = field(default_factory=dict)
    title_rows: list[tuple[int, str]] = field(default_factory=list)
    role: str | None = None
    occupation_is_role: bool = True
    limits: Limits | None = None  # the reading limits it was read with (read.reread)
    header_rows: list[list[str]] = field(default_factory=list)  # the header row(s) as written
    own_columns: list[int] = field(default_factory=list)  # jamsos's columns of a rejects file

    @property
    def released(self) -> bool:
        """Only the row numbers are kept (``pipeline.RunOptions.keep_rows``); ``read.reread``
        gets the rows back from the file."""
        return self.frame.columns == ["_row"]

    def column_of(self, field_name: str) -> str | None:
        if field_name in self.derived:
            return self.derived[field_name][0]
        idx = self.fields.get(field_name)
        return None if idx is None else f"c{idx}"

    def header_of(self, field_name: str) -> str | None:
        """The header of a field's column as the file shows it (for messages)."""
        if field_name in self.derived:
            return self.derived[field_name][1]
        idx = self.fields.get(field_name)
        return None if idx is None else self.headers[idx]


# The records frame (normalise.normalise): one row per person-record of the whole run, a
# declared schema like the findings table's (findings.FINDING_SCHEMA): normalise returns
# exactly these columns, in this order, with these types (tests/test_normalise.py).
RECORD_SCHEMA = pl.Schema(
    {
        "_rid": pl.Int64,  # record id, unique in the run, increasing in input order
        "_src": pl.Int32,  # index of the RosterTable in the run
        "_file": pl.Utf8,  # file as given
        "_sheet": pl.Utf8,  # sheet name or null
        "_row": pl.Int64,  # row number as the person sees it
        # the cell as read, for every schema field (null if absent or empty)
        **{f"raw_{name}": pl.Utf8 for name in FIELDS},
        "nik": pl.Utf8,  # cleaned NIK (spaces, dots, dashes, leading ' and trailing .0 gone)
        "nik_numeric": pl.Boolean,  # the NIK cell was numeric in a spreadsheet
        "nik_scientific": pl.Boolean,  # the NIK was written in scientific notation
        "nik_int": pl.Int64,  # the NIK when 16 trustworthy digits (not numeric ending in 0)
        "nik_day": pl.Int32,  # the NIK's birth day (women's +40 removed); null: no real date
        "nik_month": pl.Int32,
        "nik_yy": pl.Int32,  # two-digit year of the NIK
        "name": pl.Utf8,  # trimmed, inner whitespace collapsed; null when no letter
        "name_key": pl.Utf8,  # the name as identity compares it (names.identity_key)
        "father_key": pl.Utf8,  # the father's name after bin/binti (names.father_key)
        "birth_place": pl.Utf8,
        "birth_date_text": pl.Utf8,  # the text birth_date was read from (own cell or TTL)
        "birth_date": pl.Date,  # null if missing or unreadable
        "sex": pl.Utf8,  # L or P (the column's, else the NIK's), null if invalid
        "sex_from_nik": pl.Boolean,  # the roster gave no sex for the row
        "nik_birth_date": pl.Date,  # the NIK's birth date, century from the roster's date
        "nik_sex": pl.Utf8,  # L/P from the NIK's day
        "phone": pl.Utf8,  # 0xx form of a mobile (08xx) or a landline, null if missing or not one
        "phone_landline": pl.Boolean,  # the phone is a landline (libphonenumber), not a mobile
        "phone_numeric": pl.Boolean,
        "address": pl.Utf8,
        "rt": pl.Utf8,
        "rw": pl.Utf8,
        "kecamatan": pl.Utf8,  # the official name when matched, else as typed
        "kecamatan_code": pl.Utf8,  # dotted Kemendagri code (21.71.01) when matched
        "kelurahan": pl.Utf8,  # the official name when matched, else as typed
        "kelurahan_code": pl.Utf8,  # dotted code (21.71.01.1001) when matched
        "city_code": pl.Utf8,  # the city the names were matched in (21.71)
        "role": pl.Utf8,
        "occupation": pl.Utf8,
        "mother_name": pl.Utf8,
        "work_location": pl.Utf8,
        "kusuka_number": pl.Utf8,
        "email": pl.Utf8,
    }
)
