"""The core checks every peer of the benchmark does, and the rule data they read.

The core checks (issue 18): NIK missing / not 16 digits / unknown region / impossible birth
date, birth date missing or unreadable and its agreement with the NIK, sex unreadable and its
agreement with the NIK, name missing, phone unreadable, NIK typed twice. The data is jamsos'
own (``schemas/normalise.toml``, the region reference, the header aliases, and for phones
libphonenumber's data as ``jamsos_cli.phones`` reads it), read through jamsos' loaders, so
every peer accepts the same spellings jamsos does.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from functools import cache

CORE_FIELDS = ("nik", "name", "birth_date", "sex", "phone")
CORE_CODES = (
    "NIK_MISSING", "NIK_FORMAT", "NIK_REGION", "NIK_BIRTHDATE", "NIK_DOB_MISMATCH",
    "NIK_SEX_MISMATCH", "NAME_MISSING", "DOB_MISSING", "DOB_FORMAT", "SEX_INVALID",
    "PHONE_FORMAT", "NIK_DUPLICATE",
)  # fmt: skip


@cache
def rules():
    from jamsos_cli.normalise import rules as normalise_rules

    return normalise_rules()


def phone_kind_expr(cleaned, typed):
    """libphonenumber's kind of each phone (a Polars expression), as jamsos reads its data
    (``jamsos_cli.phones``): ``cleaned`` is the number as 0xx digits, ``typed`` the cell (a
    foreign prefix, +65..., is "unknown" whatever the digits)."""
    import polars as pl

    from jamsos_cli import phones

    r = rules().phone
    kind = phones.kind_expr(phones.national_number(cleaned), r.region)
    return pl.when(typed.str.contains(r.foreign)).then(pl.lit("unknown")).otherwise(kind)


def phone_kind(digits: str, typed: str) -> str:
    """The same verdict for one phone, through libphonenumber itself."""
    import re

    from jamsos_cli import phones

    r = rules().phone
    if not digits or re.search(r.foreign, typed):
        return "unknown"
    return phones.classify(digits, r.region)


# A phone that is neither is PHONE_FORMAT; a landline is PHONE_LANDLINE, a warning outside
# the core checks.
PHONE_KINDS_OK = ("mobile", "fixed_line")


@cache
def regency_codes() -> frozenset[str]:
    """The four-digit province + regency codes, current and former."""
    from jamsos_cli import regions

    return frozenset(regions.load().sets["regency"])


def columns(header: list[str]) -> dict[str, str]:
    """core field → the file's header for it."""
    from jamsos_cli.headers import match_headers

    fields, _ = match_headers(header)
    return {f: header[i] for f, i in fields.items() if f in CORE_FIELDS}


def report(rows: int, counts: Counter, seconds: dict | None = None) -> None:
    """What every peer prints: rows checked and findings by code (and the seconds of its
    steps, when it times them), as JSON."""
    doc = {"rows": rows, "by_code": {c: counts[c] for c in CORE_CODES if counts[c]}}
    if seconds:
        doc["seconds"] = seconds
    json.dump(doc, sys.stdout, indent=2)
    print()
