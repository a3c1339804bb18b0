"""The layout of a roster, as senders make it: title rows, a header of one row or two
(a merged "TEMPAT/TGL LAHIR" over "TEMPAT | TANGGAL", "JENIS KELAMIN" over "L | P" tick
columns), the people, and footers (JUMLAH, a signature block) with maybe a person typed
below them.

Both readers (CSV and workbook) end here with the same input: the first rows as text (to
find the header) and the body as text columns with their row numbers. Everything after the
header is vectorised; cleaning and dropping rows work column by column, by position, so a
table of 10,000 columns costs 10,000 times one column, and a table is never held twice.
What counts as a footer, a count, a sub-header or a tick column is data:
``schemas/reading.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from jamsos_cli import findings as fnd
from jamsos_cli.headers import (
    added_columns,
    field_of,
    is_header_row,
    match_headers,
    normalise_header,
    reading_rules,
)
from jamsos_cli.tables import CodedReadError, RosterTable

# The finding codes this step emits: the header's (tests/test_house.py holds each step to
# its list, and all to codes.toml).
EMITS = frozenset(
    {
        "COLUMN_IGNORED",
        "HEADER_NOT_FOUND",
    }
)

EXTRA = ("_row", "_nik_numeric", "_phone_numeric")
# Unicode whitespace (what a plain trim strips, no-break spaces included), for the explicit set.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_WHITESPACE += "\u2028\u2029\u202f\u205f\u3000"
_NIK_START = "^[0-9]{7}"  # a NIK cell starting like this is a person's (see keep_people)
_CLEAN_CELLS = 1_000_000  # cells cleaned per step: bounds the extra memory of cleaning


class HeaderNotFoundError(CodedReadError):
    """No row of the first ``header_scan_rows`` looks like a roster header
    (``HEADER_NOT_FOUND``; ``detail`` is how many rows were searched)."""

    code = "HEADER_NOT_FOUND"


# ---------------------------------------------------------------------------- the header


def header_cells(row: tuple | list) -> list[str]:
    extra = reading_rules().csv.strip_extra
    return ["" if v is None else str(v).strip().strip(extra).strip() for v in row]


def display_header(cell: str | None) -> str:
    """A header as shown in messages: one line, single spaces ("TANGGAL\\nLAHIR")."""
    return " ".join((cell or "").split())


def find_header(rows: list[tuple | list]) -> int | None:
    """Index of the first row that matches known column names (title rows come before)."""
    for k, row in enumerate(rows):
        cells = header_cells(row)
        if sum(1 for c in cells if c) < 2:
            continue
        fields, _ = match_headers(cells)
        if is_header_row(fields):
            return k
    return None


@dataclass
class Header:
    """The table's header: one row, or a merged row over a row of sub-headers."""

    shown: list[str]  # per column, as messages show it ("TEMPAT/TGL LAHIR (TANGGAL)")
    fields: dict[str, int]
    unknown: list[int]
    rows: list[list[str]]  # the header row(s) as written, to spot them repeated on a page
    ticks: dict[str, int] = field(default_factory=dict)  # "L"/"P" → column: sex from ticks
    sex_header: str = ""
    own: list[int] = field(default_factory=list)  # jamsos's own columns (a rejects file back)

    @property
    def height(self) -> int:
        return len(self.rows)


def read_header(top: list[str], below: list[str] | None) -> Header:
    """The header at ``top``, taking ``below`` as its sub-header row when it is one; the
    columns jamsos added to a rejects file that came back are its ``own``."""
    top = header_cells(top)
    header = _two_row(top, header_cells(below)) if below is not None else None
    if header is None:
        fields, unknown = match_headers(top)
        header = Header([display_header(c) for c in top], fields, unknown, [top])
    labels = added_columns()
    header.own = [j for j, c in enumerate(header.shown) if normalise_header(c) in labels]
    if header.own:
        header.unknown = [j for j in header.unknown if j not in header.own]
        header.fields = {f: j for f, j in header.fields.items() if j not in header.own}
    return header


def _sub_header(parent_field: str | None, child: str) -> tuple[str | None, str | None]:
    """(field, tick) of a sub-header under a header of ``parent_field``."""
    rules = reading_rules().headers
    norm = normalise_header(child)
    if parent_field == "sex":
        for sex, names in rules.sex_ticks.items():
            if norm in (normalise_header(n) for n in names):
                return None, sex
    by_parent = rules.two_row.get(parent_field or "", {})
    for name, target in by_parent.items():
        if normalise_header(name) == norm:
            return target, None
    return field_of(child), None


def _two_row(top: list[str], sub: list[str]) -> Header | None:
    """A merged header over sub-headers, or None when ``sub`` is not a sub-header row.

    A sub-header row holds only names: each one a field or a tick column under the header
    above it (carried to the right across a merged cell), at least one of them under a
    merged cell; a name no field claims is allowed under a merged cell, and the first such
    column of a group keeps the merged header's field ("ALAMAT" over "JALAN | RT | RW")."""
    width = max(len(top), len(sub))
    top, sub = top + [""] * (width - len(top)), sub + [""] * (width - len(sub))
    if not any(sub) or any(any(ch.isdigit() for ch in c) for c in sub):
        return None
    parents, carried, last = [], [], ""
    for j in range(width):
        if top[j]:
            last = top[j]
        parents.append(top[j] or (last if sub[j] else ""))
        carried.append(not top[j] and bool(sub[j]) and bool(last))
    if not any(carried):
        return None
    group = [
        carried[j] or (bool(top[j]) and j + 1 < width and carried[j + 1]) for j in range(width)
    ]
    fields: dict[str, int] = {}
    ticks: dict[str, int] = {}
    shown: list[str] = []
    unknown: list[int] = []
    sex_header = ""
    for j in range(width):
        parent, child = parents[j], sub[j]
        parent_field = field_of(parent) if parent else None
        name, tick = parent_field, None
        if child:
            name, tick = _sub_header(parent_field, child)
            if name is None and tick is None:
                if not group[j]:
                    return None  # a value under a plain header: a person, not a sub-header
                if not carried[j]:
                    name = parent_field  # the group's first column keeps its field
            shown.append(display_header(f"{parent} ({child})" if parent else child))
        else:
            shown.append(display_header(parent))
        if tick is not None:
            ticks.setdefault(tick, j)
            sex_header = display_header(parent)
        elif name is None or name in fields:
            if child or parent:
                unknown.append(j)
        else:
            fields[name] = j
    if set(ticks) != {"L", "P"}:  # one tick column alone says nothing: shown as ignored
        unknown = sorted(unknown + list(ticks.values()))
        ticks = {}
    return Header(shown, fields, unknown, [top, sub], ticks, sex_header)


# ---------------------------------------------------------------------------- the table


def title_rows(rows: list[list[str]], numbers: list[int]) -> list[tuple[int, str]]:
    """(row number, text) of the rows above the header that hold text."""
    out = []
    for cells, number in zip(rows, numbers, strict=True):
        text = " ".join(c for c in header_cells(cells) if c)
        if text:
            out.append((number, display_header(text)))
    return out


def build_table(
    base: dict,
    header: Header,
    header_row: int,
    columns: list[pl.Series],
    invisible: bool = True,
) -> RosterTable:
    """The table under a found header: values cleaned, non-person rows dropped, a sex read
    from tick columns, and a note naming the columns no field claims.

    ``columns`` (the body's text columns ``c0``... then ``EXTRA``) is consumed: it is
    emptied as the table is built, so that its columns are not held twice. ``invisible``:
    the body may hold zero-width characters to strip (a slower strip, skipped when the file
    has none)."""
    clean(columns, invisible)
    keep_people(columns, header)
    frame = pl.DataFrame(columns)
    columns.clear()
    derived = {}
    if header.ticks and "sex" not in header.fields:
        frame = frame.with_columns(_sex_from_ticks(header.ticks))
        derived["sex"] = ("_sex_ticked", header.sex_header)
    notes = []
    if header.unknown:
        notes.append(
            fnd.file_finding(
                base["file"],
                base["sheet"],
                "COLUMN_IGNORED",
                detail=", ".join(header.shown[i] for i in header.unknown),
                row=header_row,
            )
        )
    return RosterTable(
        **base,
        header_row=header_row,
        headers=header.shown,
        fields=header.fields,
        frame=frame,
        notes=notes,
        derived=derived,
        header_rows=header.rows,
        own_columns=header.own,
    )


def _sex_from_ticks(ticks: dict[str, int]) -> pl.Expr:
    """L or P from the column ticked (any mark: v, √, x, 1); both ticked reads "L+P" (an
    invalid sex, reported as such); neither is no sex (read from the NIK)."""
    male, female = pl.col(f"c{ticks['L']}").is_not_null(), pl.col(f"c{ticks['P']}").is_not_null()
    return (
        pl.when(male & female)
        .then(pl.lit("L+P"))
        .when(male)
        .then(pl.lit("L"))
        .when(female)
        .then(pl.lit("P"))
        .otherwise(pl.lit(None, pl.Utf8))
        .alias("_sex_ticked")
    )


def clean(columns: list[pl.Series], invisible: bool) -> None:
    """Values stripped of surrounding whitespace (no-break spaces too) and, if there may be
    any, zero-width characters; an empty value is null.

    In place, a group of columns at a time (at most ``_CLEAN_CELLS`` cells, and at least as
    many columns as Polars has threads): a cleaned column replaces the one it came from in
    ``columns``, so the table is never held twice (at 10 million rows one copy is
    gigabytes). The caller must hold no frame sharing these columns."""
    positions = [i for i, c in enumerate(columns) if c.name not in EXTRA]
    strip = _WHITESPACE + reading_rules().csv.strip_extra if invisible else None
    height = max(columns[0].len(), 1) if columns else 1
    threads = pl.thread_pool_size()
    step = max(threads, _CLEAN_CELLS // height, 1)
    for start in range(0, len(positions), step):
        group = positions[start : start + step]
        if len(group) <= threads:
            # A frame of these columns alone, so Polars does not first copy the whole table
            # into one chunk to line it up with the one-chunk ``_row``; each cleaned column
            # comes out in one chunk, the columns cleaned side by side.
            part = pl.DataFrame([columns[i] for i in group])
            cleaned = part.select(_cleaned(pl.all(), strip)).rechunk().get_columns()
            del part
        else:
            # Many short columns (a wide table): one long column cleaned at once, cut back
            # into its columns (an expression per column would cost more than the cells).
            names = [columns[i].name for i in group]
            whole = pl.concat([columns[i] for i in group], rechunk=True)
            whole = whole.to_frame().select(_cleaned(pl.first(), strip)).to_series()
            cleaned = [whole.slice(k * height, height).alias(n) for k, n in enumerate(names)]
            del whole
        for i, column in zip(group, cleaned, strict=True):
            columns[i] = column


def _cleaned(expr: pl.Expr, strip: str | None) -> pl.Expr:
    """One pass with an explicit set is slower than the plain trim: only when needed."""
    return expr.str.strip_chars(strip).replace("", None)


def keep_people(columns: list[pl.Series], header: Header) -> None:
    """Drop what is not a person: blank rows, rows with no NIK, name or birth date (unfilled
    template rows), a "(1) (2) (3)" column-number row, repeats of the header row(s), and
    footers (JUMLAH, signature lines) with the signature block under them.

    A row whose NIK cell starts with several digits is a person whatever else it holds (no
    footer, header or column-number cell does), so the rules run only on the other rows, a
    few per file, and the rest is one cheap filter. ``columns`` is changed in place.
    """
    frame = pl.DataFrame(columns)
    if "nik" in header.fields:
        nik = pl.col(f"c{header.fields['nik']}")
        suspects = frame.filter(nik.is_null() | ~nik.str.contains(_NIK_START))
    else:
        suspects = frame
    del frame
    if suspects.height == 0:
        return
    skip = _not_people(suspects, header)
    del suspects
    if skip.len():
        _drop_rows(columns, skip)


def _drop_rows(columns: list[pl.Series], rows: pl.Series) -> None:
    """``columns`` without the rows whose ``_row`` is in ``rows``, column by column in
    place: never two copies of a large table."""
    row = next(c for c in columns if c.name == "_row")
    keep = ~row.is_in(rows.implode())
    del row
    for i in range(len(columns)):
        columns[i] = columns[i].filter(keep)


def _not_people(rows: pl.DataFrame, header: Header) -> pl.Series:
    """Row numbers (``_row``) of the rows among ``rows`` that are not people."""
    rules = reading_rules()
    fields = header.fields

    def col(*names: str) -> list[pl.Expr]:
        return [pl.col(f"c{fields[n]}") for n in names if n in fields]

    null = pl.lit(None, pl.Utf8)
    nik = (col("nik") or [null])[0]
    name = (col("name") or [null])[0]
    dob = pl.coalesce(*col("birth_date", "birth_place_date"), null)
    keys = col("nik", "name", "birth_date", "birth_place_date")
    own = {f"c{j}" for j in header.own}  # a rejects file's reasons are no footer
    values = [c for c in rows.columns if c.startswith("c") and c not in own]

    some_key = pl.any_horizontal(k.is_not_null() for k in keys)
    numbering = pl.all_horizontal(k.is_null() | k.str.contains(rules.rows.numbering) for k in keys)
    repeat = pl.any_horizontal(_repeats(written, fields) for written in header.rows)
    # A footer row: no NIK (or a footer word or a count where it goes), not both a name
    # and a birth date, and some cell starting like a footer; or a total wherever its word
    # and its counts stand. The footer-like rows after it on the same page (a repeated
    # header starts the next one) are its signature block (the official's name, NIP...),
    # unless they hold a person's data: a NIK, or a name with a birth date, a sex, a phone
    # or a row number.
    footer_rx, count_rx = rules.footer_regex, rules.count_regex
    nik_footer = nik.str.contains(footer_rx) | nik.str.contains(count_rx)
    footerish = (nik.is_null() | nik_footer) & ~(name.is_not_null() & dob.is_not_null())
    details = pl.coalesce(*col("birth_date", "birth_place_date", "sex", "phone"), null)
    numbered = (col("row_number") or [null])[0].str.contains(rules.rows.row_number)
    person = (nik.is_not_null() & ~nik_footer.fill_null(False)) | (
        name.is_not_null() & (details.is_not_null() | numbered.fill_null(False))
    )
    marked = rows.with_columns(
        repeat.fill_null(False).alias("_repeat"),
        footerish.fill_null(False).alias("_footerish"),
        person.fill_null(False).alias("_person"),
        (nik.is_null() | nik_footer).fill_null(False).alias("_no_nik"),
    )
    # The cells of the rows that may be a footer or a total (no NIK where it goes), as one
    # long column: thousands of columns cost no more.
    cells = (
        marked.filter("_no_nik")
        .select("_row", "_footerish", *values)
        .unpivot(index=["_row", "_footerish"])
    )
    footer_rows = (
        cells.filter(pl.col("_footerish"), pl.col("value").str.contains(footer_rx))
        .get_column("_row")
        .implode()
    )
    value = pl.col("value")
    worded = cells.filter(value.str.contains(rules.total_regex)).get_column("_row").implode()
    total_rows = (
        cells.filter(pl.col("_row").is_in(worded), value.is_not_null())
        .group_by("_row")
        .agg((value.str.contains(rules.total_regex) | value.str.contains(count_rx)).all())
        .filter("value")
        .get_column("_row")
        .implode()
    )
    del cells
    marked = marked.with_columns(
        pl.col("_row").is_in(total_rows).alias("_total"),
        (pl.col("_row").is_in(footer_rows) | pl.col("_row").is_in(total_rows))
        .cast(pl.Int32)
        .alias("_footer"),
        pl.col("_repeat").cum_sum().alias("_page"),
    )
    after_footer = pl.col("_footer").cum_sum().over("_page") > 0
    block = after_footer & pl.col("_footerish") & ~pl.col("_person")
    skipped = ~some_key | numbering.fill_null(False) | pl.col("_repeat") | block | pl.col("_total")
    return marked.filter(skipped).get_column("_row")


def _repeats(written: list[str], fields: dict[str, int]) -> pl.Expr:
    """A row that repeats a header row (the next page of a multi-page export): at least
    two of its named cells, or its only one, as written there."""
    named = [i for i in range(len(written)) if written[i] and i in set(fields.values())]
    named = named or [i for i in range(len(written)) if written[i]]
    same = [pl.col(f"c{i}") == written[i] for i in named]
    if not same:
        return pl.lit(False)
    return pl.sum_horizontal(same) >= min(2, len(same))
