"""Masking personal data, the one place every screen, log and JSON output passes through
(SPEC §8): NIKs as ``2171********0001``, phones as ``0812*****890``, unless ``--show-pii``.
Files meant to be used (batches, rejects, review files, exports) hold the real values.

Two layers:

- **Known fields**: a finding's value in a NIK or phone column is masked whatever it
  looks like (``masked_findings``: the value as typed, even a short or garbled one).
- **Everything else that is printed or logged** is masked by shape, wherever it stands (a
  file or sheet named by a NIK, a NIK in a header cell, a phone in a remarks cell, a
  message, a path): every run of 16 or more digits, also with one space, dot or dash
  between digits (``2171 0312 0390 0001``, ``21.71.03.120390.0001``; one kind per run),
  keeps its first 4 and last 4 digits; every phone-shaped run (``0`` then 8–13 more
  digits, ``+62`` or ``628`` then 7–12 more, any of those separators) its first 4 digits
  and last 3.
  A run must stand alone (no letter or digit touching it: a sha256 or a batch folder's
  ``_2025-06`` is not a NIK); ``62`` and ``8`` alone do not start a phone (an amount of
  rupiah is not a phone). One pattern text (``PII_PATTERNS``) for both engines: Polars over
  a findings table (``mask_pii_expr``, vectorised), Python's ``re`` over a line
  (``mask_text``) at the output boundary: the consoles' streams (``MaskedStream``), the
  log's lines, the JSON document's strings, error lines, crash files.

Control characters (ANSI escapes, line breaks, C1 codes) in a file name or a cell never
reach a terminal or a log raw: ``escape_controls`` turns each into its visible escape
(``\\x1b``, ``\\n``), applied to every value a text is filled with (``texts.say``), to the
findings a text report shows and to each log line.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # imported where a column is masked: texts.say escapes without Polars
    import polars as pl

# Fields whose values are masked on screen, in logs and in JSON reports (SPEC §8).
NIK_FIELDS = frozenset({"nik", "family_head_nik"})


PHONE_FIELDS = frozenset({"phone"})


_STARS = "*" * 32  # longer than any NIK or phone's hidden part


def _stars(n: pl.Expr) -> pl.Expr:
    """``n`` stars: a slice of a literal; a list of stars joined only for a huge cell (a
    list per finding made the masking of a million findings 3x slower)."""
    import polars as pl

    n = n.clip(0)
    huge = pl.when(n > len(_STARS)).then(n)  # null elsewhere: no list made
    return (
        pl.when(n <= len(_STARS))
        .then(pl.lit(_STARS).str.slice(0, n))
        .otherwise(pl.lit("*").repeat_by(huge).list.join(""))
    )


def mask_nik_expr(expr: pl.Expr) -> pl.Expr:
    """Keep the first 4 and last 4 characters, hide the rest (short values: all but 2)."""
    import polars as pl

    # signed: both branches are computed for every row, and an unsigned ``n - 8`` of a short
    # value wraps to four billion stars (an out-of-memory abort on a NIK typed "123")
    n = expr.str.len_chars().cast(pl.Int64)
    return (
        pl.when(n >= 9)
        .then(expr.str.slice(0, 4) + _stars(n - 8) + expr.str.slice(-4))
        .otherwise(expr.str.slice(0, 2) + _stars(n - 2))
    )


def mask_phone_expr(expr: pl.Expr) -> pl.Expr:
    """Keep the first 4 and last 3 digits of a phone number."""
    import polars as pl

    n = expr.str.len_chars().cast(pl.Int64)  # signed, as in mask_nik_expr
    return (
        pl.when(n >= 8)
        .then(expr.str.slice(0, 4) + _stars(n - 7) + expr.str.slice(-3))
        .otherwise(_stars(n))
    )


def mask_nik(value: str | None) -> str | None:
    import polars as pl

    if value is None:
        return None
    return pl.select(mask_nik_expr(pl.lit(value, pl.Utf8))).item()


def masked_findings(findings: pl.DataFrame, show_pii: bool) -> pl.DataFrame:
    import polars as pl

    if show_pii:
        return findings
    value, field = findings.get_column("value"), findings.get_column("field")
    # Each kind masked on its own rows only (a when/then would compute every mask for
    # every finding), put back in place.
    for fields, mask in ((NIK_FIELDS, mask_nik_expr), (PHONE_FIELDS, mask_phone_expr)):
        rows = field.is_in(list(fields)).fill_null(False).arg_true()
        if rows.len():
            masked = pl.select(mask(pl.lit(value.gather(rows)))).to_series()
            value = value.scatter(rows, masked)
    by_field = findings.with_columns(value.alias("value"))
    shown = [c for c in ("file", "sheet", "column", "value", "detail") if c in findings.columns]
    return by_field.with_columns(mask_pii_series(by_field.get_column(c)) for c in shown)


# What a reply or registry import finding (``replies``) holds that is personal, by code
# (``schemas/codes.toml`` says it of each): a NIK as its value, a NIK as its detail, names.
NIK_VALUE_CODES = ("NIK_CELL_INVALID", "NIK_NOT_IN_LEDGER", "BATCH_VOIDED")
NIK_DETAIL_CODES = ("KPJ_TAKEN",)
NAME_CODES = ("NAME_DIFFERS_FROM_LEDGER",)


def masked_import_findings(
    findings: pl.DataFrame, show_pii: bool, hidden: str | None = None
) -> pl.DataFrame:
    """Import findings (``code``, ``value``, ``detail``) as shown: NIKs masked, names
    replaced by ``hidden``, unless ``show_pii``; the text report and the JSON document alike."""
    import polars as pl

    if show_pii:
        return findings
    code = pl.col("code")

    def shown(column: str, nik_codes: tuple[str, ...]) -> pl.Expr:
        """``column`` with a name hidden and a NIK masked where its code holds one."""
        cell = pl.col(column)
        return (
            pl.when(code.is_in(NAME_CODES))
            .then(pl.lit(hidden, pl.Utf8))
            .when(code.is_in(nik_codes))
            .then(mask_nik_expr(cell))
            .otherwise(cell)
            .alias(column)
        )

    return findings.with_columns(shown("value", NIK_VALUE_CODES), shown("detail", NIK_DETAIL_CODES))


# --------------------------------------------------------------------------- by shape


def _nik_run(sep: str) -> str:
    """16 or more digits, with ``sep`` (optional) between any two: one separator kind per
    run, so two dates side by side (``2025-06-01 2025-12-31``) are not a NIK. Groups: the
    first 4 digits, the middle, the last 4."""
    d = rf"{sep}\d"
    return rf"\b(\d(?:{d}){{3}})((?:{d}){{8,}})({d}(?:{d}){{3}})\b"


_PHONE_SEP = r"[ .\-]?"
# (pattern, Polars replacement, Python replacement). The NIK-like runs of the three
# separator kinds in one pattern (an alternative that did not match leaves its groups empty,
# in both engines), then the phones (a masked NIK holds stars: never taken for a phone).
PII_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (
        "|".join(_nik_run(sep) for sep in (" ?", r"\.?", "-?")),
        "${1}${4}${7}********${3}${6}${9}",
        r"\g<1>\g<4>\g<7>********\g<3>\g<6>\g<9>",
    ),
    (
        rf"(\+62{_PHONE_SEP}\d{{3}}|\b628\d|\b0\d{{3}})((?:{_PHONE_SEP}\d){{2,8}})"
        rf"({_PHONE_SEP}\d{{3}})\b",
        "${1}*****${3}",
        r"\g<1>*****\g<3>",
    ),
)
_PY_PATTERNS = [(re.compile(p, re.ASCII), py) for p, _, py in PII_PATTERNS]
# any of them (no groups: a fast scan picks the few cells worth rewriting)
_ANY = "(?-u)" + "|".join(f"(?:{p})" for p, _, _ in PII_PATTERNS)
_ANY_PY = re.compile("|".join(f"(?:{p})" for p, _, _ in PII_PATTERNS), re.ASCII)


def mask_text(text: str | None) -> str | None:
    """``text`` with every NIK-like and phone-shaped run masked (module docstring); also a
    command line in the ledger's log (``jamsos ledger withdraw 2171...``). None stays None."""
    if text is None or not _ANY_PY.search(text):
        return text
    for pattern, replacement in _PY_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_pii_expr(expr: pl.Expr) -> pl.Expr:
    """``mask_text`` of a Utf8 column, by Polars."""
    for pattern, replacement, _ in PII_PATTERNS:
        expr = expr.str.replace_all("(?-u)" + pattern, replacement)
    return expr


def mask_pii_series(values: pl.Series) -> pl.Series:
    """``mask_pii_expr`` of a column, rewriting only the cells that hold a PII shape (found
    by one scan without groups), each distinct one once: a million findings whose file is
    named by a NIK cost one rewrite, and a million without any shape only the scan."""
    import polars as pl

    hit = values.str.contains(_ANY).fill_null(False)
    if not hit.any():
        return values
    rows = hit.arg_true()
    found = values.gather(rows)
    distinct = found.unique()
    masked = pl.select(mask_pii_expr(pl.lit(distinct))).to_series()
    return values.scatter(rows, found.replace_strict(distinct, masked))


def mask_json(value: Any) -> Any:
    """A JSON document's small part with ``mask_text`` applied to every string (keys too),
    never to numbers: an amount of rupiah stays a number."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(str(k)): mask_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_json(v) for v in value]
    return value


# --------------------------------------------------------------------------- control characters

_C0_C1 = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
CONTROL_ESCAPES = {chr(c): _NAMED.get(c, f"\\x{c:02x}") for c in _C0_C1}
_TRANSLATE = str.maketrans(CONTROL_ESCAPES)


def escape_controls(text: str) -> str:
    """Each control character of ``text`` as its visible escape (``\\x1b``, ``\\n``)."""
    return text.translate(_TRANSLATE)


def escape_controls_expr(expr: pl.Expr) -> pl.Expr:
    """``escape_controls`` of a Utf8 column, by Polars (one pass, all characters at once)."""
    return expr.str.replace_many(list(CONTROL_ESCAPES), list(CONTROL_ESCAPES.values()))


class MaskedStream(io.TextIOBase):
    """A text stream that masks (``mask_text``) what is written before it reaches
    ``stream``: the consoles' files, so no line printed can carry a NIK or phone in clear.
    (Rich writes a printed renderable in one call, so a run is never split between writes.)"""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(mask_text(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")
