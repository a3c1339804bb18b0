"""Peer: the core checks (``peer_core``) with frictionless-py.

    benchmarks/data/venv-peers/bin/python benchmarks/peer_frictionless.py ROSTER.csv [--limit N]

What a frictionless user writes: a Table Schema (every column text; NIK, name and birth
date required, NIK unique) and, for what a schema cannot say (the NIK's separators, its
region and birth date, the cross-checks, the date forms, sex and phone spellings), a custom
row check in Python. Every error is collected (no ``limit_errors`` cut-off). Prints the
errors by code (``peer_core.report``). Frictionless' unique constraint compares the NIK as
typed (a NIK typed once with spaces and once without is not caught).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
from collections import Counter
from datetime import date, timedelta

from frictionless import Check, Checklist, Resource, Schema, errors
from peer_core import PHONE_KINDS_OK, columns, phone_kind, regency_codes, report, rules


class CoreRow(Check):
    """The row rules a Table Schema cannot express, one row at a time."""

    type = "jamsos-core"
    Errors = [errors.RowConstraintError]

    def __init__(self, where: dict[str, str]) -> None:
        super().__init__()
        r = rules()
        self.where = where
        self.r = r
        self.remove = re.compile(r.nik.remove)
        self.trailing = re.compile(r.nik.trailing)
        self.nik16 = re.compile(r"[0-9]{16}\Z")
        self.date = re.compile(r.date_pattern)
        self.not_letters = re.compile("[^A-Z]")
        self.not_digits = re.compile("[^0-9]")
        self.intl = re.compile(r.phone.international)
        self.zero = re.compile(r.phone.missing_zero)
        self.blank = re.compile(r.phone.blank)
        self.letter = re.compile(r"[^\W\d_]")
        self.regency = regency_codes()

    def cell(self, row, field: str) -> str | None:
        header = self.where.get(field)
        value = row[header] if header else None
        value = value.strip() if isinstance(value, str) else value
        return value or None

    def parse_date(self, text: str) -> date | None:
        m = self.date.match(text)
        if m is None:
            return None
        g = m.groupdict()
        if g["sn"] is not None:
            return self.r.birth_date.excel_epoch + timedelta(days=int(g["sn"]))
        dm = g["dm"]
        month = int(g["im"] or 0) or (int(dm) if dm.isdigit() else self.r.months.get(dm.lower()))
        try:
            parsed = date(int(g["iy"] or g["dy"]), month or 0, int(g["id"] or g["dd"]))
        except ValueError:
            return None
        ok = self.r.birth_date.year_min <= parsed.year <= self.r.birth_date.year_max
        return parsed if ok else None

    def validate_row(self, row):
        codes = []
        nik_date = None
        raw = self.cell(row, "nik")
        if raw is not None:
            nik = raw.lstrip(self.r.nik.leading_quotes)
            nik = self.remove.sub("", self.trailing.sub("", nik, count=1))
            if not self.nik16.match(nik):
                codes.append("NIK_FORMAT")
            else:
                if nik[:4] not in self.regency:
                    codes.append("NIK_REGION")
                dd, mm, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
                day = dd - 40 if dd > 40 else dd
                try:
                    date(2000 + yy, mm, day)
                    nik_date = (day, mm, yy, "P" if dd > 40 else "L")
                except ValueError:
                    codes.append("NIK_BIRTHDATE")
        name = self.cell(row, "name")
        if name is not None and not self.letter.search(name):
            codes.append("NAME_MISSING")
        text = self.cell(row, "birth_date")
        if text is not None:
            birth = self.parse_date(text)
            if birth is None:
                codes.append("DOB_FORMAT")
            elif nik_date and (birth.day, birth.month, birth.year % 100) != nik_date[:3]:
                codes.append("NIK_DOB_MISMATCH")
        text = self.cell(row, "sex")
        if text is not None:
            sex = self.r.sex_lookup.get(self.not_letters.sub("", text.upper()))
            if sex is None:
                codes.append("SEX_INVALID")
            elif nik_date and sex != nik_date[3]:
                codes.append("NIK_SEX_MISMATCH")
        text = self.cell(row, "phone")
        if text is not None:
            digits = self.intl.sub("0", self.not_digits.sub("", text), count=1)
            digits = self.zero.sub("08", digits, count=1)
            ok = phone_kind(digits, text) in PHONE_KINDS_OK
            if not ok and not self.blank.match(text):
                codes.append("PHONE_FORMAT")
        for code in codes:
            yield errors.RowConstraintError.from_row(row, note=code)


def check(path: str, limit: int | None) -> tuple[int, Counter]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    where = columns(header)
    required = {where[f]: code for f, code in
                (("nik", "NIK_MISSING"), ("name", "NAME_MISSING"), ("birth_date", "DOB_MISSING"))
                if f in where}  # fmt: skip
    fields = []
    for name in header:
        constraints = {"required": True} if name in required else {}
        if name == where.get("nik"):
            constraints["unique"] = True
        fields.append({"name": name, "type": "string", "constraints": constraints})
    folder, name = os.path.split(os.path.abspath(path))  # frictionless refuses absolute paths
    resource = Resource(name, basepath=folder, schema=Schema.from_descriptor({"fields": fields}))
    checklist = Checklist(checks=[CoreRow(where)])
    result = resource.validate(checklist, limit_rows=limit, limit_errors=10**9)
    counts: Counter = Counter()
    for err in result.tasks[0].errors:
        if err.type == "row-constraint":
            counts[err.note] += 1
        elif err.type == "constraint-error" and err.field_name in required:
            counts[required[err.field_name]] += 1
        elif err.type == "unique-error":
            counts["NIK_DUPLICATE"] += 1
        else:
            counts[err.type] += 1
    return result.tasks[0].stats.get("rows", 0), counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roster")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    report(*check(args.roster, args.limit))


if __name__ == "__main__":
    main()
