"""Files other offices send back to jamsos: BPJS's reply to a batch, the population registry's
matching result, BPJS's bill, a list of NIKs to withdraw.

They are read with the roster reader (``read.read_roster``: every encoding and delimiter,
title rows above the header, footers, numeric NIK cells turned into their exact digits), so
a file needs a NIK or a name column for its header row to be found, as every list these
offices send has. Its columns are then found by their headers: the NIK and the name as a
roster's (``headers.field_of``), the others through the aliases of a layout data file
(``schemas/layouts/*.toml``, ``OfficeLayout``): case, spacing and punctuation do not matter,
and a known header followed by a qualifier ("STATUS VERIFIKASI") matches too. The file is
never modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from jamsos_cli.errors import JamsosError, load_data_file
from jamsos_cli.headers import field_of, normalise_header
from jamsos_cli.resources import schema_file

ROSTER_FIELDS = ("nik", "name")  # found by the roster's own header vocabulary


class OfficeFileError(JamsosError):
    """A file that is not what the command needs (no NIK column, unreadable...): exit 2,
    naming the file and what is missing; nothing is changed."""


class OfficeLayout(BaseModel):
    """The columns of one kind of office file: field → the headers that name it, and the
    groups of fields of which at least one must be there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    title: str = ""
    columns: dict[str, list[str]] = Field(default_factory=dict)
    required: list[list[str]] = Field(default_factory=list)
    words: dict[str, list[str]] = Field(
        default_factory=dict, description="What a status cell may say, by meaning."
    )


def load_office_layout(name: str, path: Path | None = None) -> OfficeLayout:
    """``schemas/layouts/<name>.toml`` (or the user's ``path``); problems name the file."""
    source = Path(path) if path is not None else schema_file("layouts", f"{name}.toml")
    return load_data_file(source, OfficeLayout, OfficeFileError)


@dataclass
class OfficeFile:
    """One office file as read: ``frame`` has ``_row`` (the row a person sees), ``nik`` (the
    cleaned 16 digits, or null when the cell holds no trustworthy NIK), ``raw_nik`` (the cell
    as written) and one text column per other field found; ``headers`` maps each field
    found to its header as written."""

    file: str
    path: Path
    sheet: str | None
    headers: dict[str, str]
    frame: pl.DataFrame


def _column_of(headers: list[str], aliases: list[str]) -> int | None:
    """The column whose header is one of ``aliases`` (the first alias found wins: "HASIL
    PADAN" before a "KETERANGAN" beside it), else the first that starts with one of them
    followed by more words; exact matches win over prefixes."""
    wanted = [normalise_header(a) for a in aliases]
    norms = [normalise_header(h or "") for h in headers]
    for alias in wanted:
        if alias in norms:
            return norms.index(alias)
    for i, norm in enumerate(norms):
        if norm and any(norm.startswith(a + " ") for a in wanted):
            return i
    return None


def read_office_file(
    path: Path, display: str, layout: OfficeLayout, sheet: str | None = None
) -> OfficeFile:
    """Read ``path`` and find ``layout``'s columns; a required group with none of its fields
    there is an ``OfficeFileError`` naming the headers the file would need."""
    from jamsos_cli.layout import HeaderNotFoundError
    from jamsos_cli.normalise import clean_nik
    from jamsos_cli.read import read_roster
    from jamsos_cli.tables import RosterReadError
    from jamsos_cli.texts import ref

    try:
        table = read_roster(path, display, sheet)
    except HeaderNotFoundError as err:  # the roster's words ("NIK or NAMA and one other
        # known column") would puzzle a clerk whose reply has NAMA, STATUS and KPJ
        raise OfficeFileError(
            "error.office.no_header",
            path=display,
            rows=err.values["detail"],
            kind=ref(f"office.kind.{layout.id}"),
        ) from None
    except RosterReadError as err:
        raise OfficeFileError(
            "error.office.unreadable", path=display, why=ref(err.key, **err.values)
        ) from None
    found: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        name = field_of(header) if header else None
        if name in ROSTER_FIELDS and name not in found:
            found[name] = i
    for name, aliases in layout.columns.items():
        if name not in found and (i := _column_of(table.headers, aliases)) is not None:
            found[name] = i
    for group in layout.required:
        if not any(name in found for name in group):
            wanted = [a for name in group for a in _aliases(layout, name)]
            raise OfficeFileError(
                "error.office.missing_column",
                path=display,
                wanted=" / ".join(wanted),
                kind=ref(f"office.kind.{layout.id}"),
            )
    frame = table.frame
    numeric = "_nik_numeric" if "_nik_numeric" in frame.columns else None
    columns = [pl.col("_row")]
    columns += [pl.col(f"c{i}").alias(name) for name, i in found.items() if name != "nik"]
    out = frame.select(columns)
    if "nik" in found:
        raw = f"c{found['nik']}"
        out = out.with_columns(
            frame.get_column(raw).alias("raw_nik"), clean_nik(frame, raw, numeric).alias("nik")
        )
    return OfficeFile(
        file=display,
        path=path,
        sheet=table.sheet,
        headers={name: table.headers[i] for name, i in found.items()},
        frame=out,
    )


def _aliases(layout: OfficeLayout, name: str) -> list[str]:
    """The first two headers that would name ``name``, for the message of a missing column."""
    return layout.columns.get(name, [name])[:2]


def nik_list(path: Path) -> list[str]:
    """The NIKs of a csv/xlsx list (``schemas/layouts/nik-list.toml``: a NIK column, and a
    name column for the header row to be found), in order; a row whose NIK cell holds no
    trustworthy NIK is refused (exit 2), naming the row."""
    table = read_office_file(path, str(path), load_office_layout("nik-list"))
    bad = table.frame.filter(pl.col("nik").is_null() & pl.col("raw_nik").is_not_null())
    if bad.height:
        row = bad.row(0, named=True)
        raise OfficeFileError(
            "error.office.bad_nik", path=path, row=row["_row"], column=table.headers["nik"]
        )
    return table.frame.get_column("nik").drop_nulls().to_list()
