"""Comparison baseline: the core checks with a pydantic v2 model per row (not used by jamsos).

    python benchmarks/baseline_pydantic.py ROSTER.csv --decree perwako-batam-30-2025 \\
        --as-of 2025-06-01 [--limit N]

What a straightforward implementation looks like: ``csv.DictReader``, one ``RosterRow`` model
per row (fields stripped, empty cells to ``None``, an after-validator applying the rules), then
a dict for duplicate NIKs. The rules are jamsos' own, read from the same data (the regexes
and month names of ``schemas/normalise.toml``, the region codes and names, the decree's roles,
age range and excluded occupations), so it does the same work as ``jamsos validate --decree``
without the near-duplicate search and without reporting (it prints counts by code as JSON).
``--limit`` checks only the first N rows (to extrapolate on a big roster). ``--core`` (no
``--decree``) does only the core checks the other peers do (``peer_core``): no region names,
no role, occupation or age rules.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from datetime import date, timedelta
from functools import cache
from itertools import islice

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from jamsos_cli import regions as reg
from jamsos_cli.decrees import load_decree, negations
from jamsos_cli.headers import match_headers
from jamsos_cli.normalise import rules as normalise_rules
from jamsos_cli.phones import LANDLINE, MOBILE, classify

WARNINGS = {"NIK_DISTRICT_UNKNOWN", "PHONE_FORMAT", "NIK_OUTSIDE_CITY"}
FIELDS = (
    "nik", "name", "birth_date", "sex", "phone", "kecamatan", "kelurahan", "role", "occupation",
)  # fmt: skip


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def role_key(text: str | None) -> str | None:
    """Upper case, 'R.T.' → 'RT', anything but letters → one space (as eligibility.py)."""
    if text is None:
        return None
    key = re.sub(r"[^A-Z]+", " ", re.sub(r"\b([A-Z])\.", r"\1", text.upper())).strip()
    return key or None


class Context:
    """What every row's rules read: compiled patterns, code sets, names, the decree."""

    def __init__(self, decree_id: str | None, as_of: date) -> None:
        r = normalise_rules()
        self.r = r
        self.as_of = as_of
        self.scientific = _re(r.nik.scientific)
        self.trailing = _re(r.nik.trailing)
        self.remove = re.compile(r.nik.remove)
        self.nik16 = _re(f"^[0-9]{{{r.nik.length}}}$")
        self.date = _re(r.date_pattern)
        self.phone_intl = _re(r.phone.international)
        self.phone_zero = _re(r.phone.missing_zero)
        self.phone_region = r.phone.region
        self.phone_foreign = _re(r.phone.foreign)
        self.phone_blank = _re(r.phone.blank)
        self.letter = re.compile(r"[^\W\d_]")
        self.not_letters = re.compile("[^A-Z]")
        self.not_digits = re.compile("[^0-9]")
        regions = reg.load()
        self.sets = regions.sets
        self.core = decree_id is None
        if self.core:
            return
        self.decree = load_decree(decree_id)
        self.city = regions.city(self.decree.city_code)
        self.city_digits = self.decree.city_code.replace(".", "")
        self.aliases: dict[str, bool] = {}  # role key → may match as a prefix
        for role in self.decree.roles:
            for spelling in (role.name, *role.aliases):
                self.aliases[role_key(spelling)] = True
            for spelling in role.exact:
                self.aliases.setdefault(role_key(spelling), False)
        self.longest = max(k.count(" ") + 1 for k in self.aliases)
        terms = sorted(
            {role_key(t) for g in self.decree.exclusion_groups() for t in g.terms}, key=len
        )[::-1]
        alt = "|".join(re.escape(t) for t in terms)
        negs = "|".join(re.escape(k) for k in map(role_key, negations()) if k)
        self.negated = re.compile(f"(?:^| )(?:{negs}) (?:{alt})(?: |$)")
        self.excluded = re.compile(f"(?:^| )(?:{alt})(?: |$)")


CTX: Context  # set in main(); the model's validators read it


@cache
def parse_date(text: str) -> date | None:
    """The accepted date forms (day first, month names, Excel serials), as normalise.py."""
    r = CTX.r
    m = CTX.date.match(text)
    if m is None:
        return None
    g = m.groupdict()
    if g["sn"] is not None:
        parsed = r.birth_date.excel_epoch + timedelta(days=int(g["sn"]))
    else:
        dm = g["dm"]
        month = int(g["im"]) if g["im"] else int(dm) if dm.isdigit() else r.months.get(dm.lower())
        try:
            parsed = date(int(g["iy"] or g["dy"]), month or 0, int(g["id"] or g["dd"]))
        except ValueError:
            return None
    return parsed if r.birth_date.year_min <= parsed.year <= r.birth_date.year_max else None


class RosterRow(BaseModel):
    """One roster row: raw cells in, findings out (an error code rejects the row)."""

    model_config = ConfigDict(extra="ignore")

    row: int
    nik: str | None = None
    name: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    phone: str | None = None
    kecamatan: str | None = None
    kelurahan: str | None = None
    role: str | None = None
    occupation: str | None = None

    codes: tuple[str, ...] = ()
    nik_clean: str | None = None  # the 16 trustworthy digits, for the duplicate check
    identity: tuple[str, date | None] | None = None

    @field_validator(*FIELDS, mode="before")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value or None

    @model_validator(mode="after")
    def _rules(self) -> RosterRow:
        codes: list[str] = []
        nik, nik_date = check_nik(self.nik, codes)
        birth = check_person(self, nik_date, codes)
        self.nik_clean = nik
        self.identity = (CTX.not_letters.sub("", (self.name or "").upper()), birth)
        if CTX.core:
            self.codes = tuple(codes)
            return self
        codes += region_codes(self.kecamatan, self.kelurahan)
        codes += role_codes(self.role, self.occupation)
        if birth is not None:
            a, d = CTX.as_of, CTX.decree
            age = a.year - birth.year - ((birth.month, birth.day) > (a.month, a.day))
            if not d.age.min <= age <= d.age.max:
                codes.append("AGE_OUT_OF_RANGE")
        if nik is not None and nik[:4] != CTX.city_digits:
            codes.append("NIK_OUTSIDE_CITY")
        self.codes = tuple(codes)
        return self


def check_nik(raw: str | None, codes: list[str]) -> tuple[str | None, tuple | None]:
    """NIK cleanup, then the checks of its parts; (trusted NIK, (day, month, yy, sex))."""
    c = CTX
    if raw is None:
        codes.append("NIK_MISSING")
        return None, None
    text = raw.lstrip(c.r.nik.leading_quotes)
    if c.scientific.search(text):
        codes.append("NIK_SCIENTIFIC")
        return None, None
    cleaned = c.remove.sub("", c.trailing.sub("", text, count=1))
    cleaned = cleaned.lstrip(c.r.nik.leading_quotes)
    if not cleaned:
        codes.append("NIK_MISSING")
        return None, None
    if not c.nik16.search(cleaned):
        codes.append("NIK_FORMAT")
        return None, None
    nik = cleaned
    if nik[:4] not in c.sets["regency"]:
        codes.append("NIK_REGION")
    elif nik[:4] in c.sets["regency_with_kecamatan"] and nik[:6] not in c.sets["kecamatan"]:
        codes.append("NIK_DISTRICT_UNKNOWN")
    if nik[12:] == "0000":
        codes.append("NIK_SERIAL")
    dd, mm, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex, day = ("P", dd - 40) if dd > 40 else ("L", dd)
    try:
        if not (1 <= dd <= 31 or 41 <= dd <= 71):
            raise ValueError
        date(2000 + yy if yy % 4 == 0 else 2001, mm, day)
    except ValueError:
        codes.append("NIK_BIRTHDATE")
        return nik, None
    return nik, (day, mm, yy, sex)


def check_person(row: RosterRow, nik_date: tuple | None, codes: list[str]) -> date | None:
    """Name, birth date (and its agreement with the NIK), sex, phone; returns the date."""
    c = CTX
    if row.name is None or not c.letter.search(row.name):
        codes.append("NAME_MISSING")
    birth = None
    if row.birth_date is None:
        codes.append("DOB_MISSING")
    else:
        birth = parse_date(row.birth_date)
        if birth is None:
            codes.append("DOB_FORMAT")
        elif nik_date and (birth.day, birth.month, birth.year % 100) != nik_date[:3]:
            codes.append("NIK_DOB_MISMATCH")
    if row.sex is not None:
        sex = c.r.sex_lookup.get(c.not_letters.sub("", row.sex.upper()))
        if sex is None:
            codes.append("SEX_INVALID")
        elif nik_date and sex != nik_date[3]:
            codes.append("NIK_SEX_MISMATCH")
    if row.phone is not None:
        digits = c.phone_intl.sub("0", c.not_digits.sub("", row.phone), count=1)
        digits = c.phone_zero.sub("08", digits, count=1)
        foreign = c.phone_foreign.search(row.phone) is not None
        kind = classify(digits, c.phone_region) if digits and not foreign else "unknown"
        if kind == LANDLINE:
            codes.append("PHONE_LANDLINE")
        elif kind != MOBILE and not c.phone_blank.search(row.phone):
            codes.append("PHONE_FORMAT")
    return birth


@cache
def region_codes(kecamatan: str | None, kelurahan: str | None) -> list[str]:
    """KECAMATAN_UNKNOWN / KELURAHAN_UNKNOWN / KELURAHAN_MISMATCH (once per distinct pair)."""
    city = CTX.city
    kec_code = None
    out = []
    if city.names.key(kecamatan):
        hit = city.match_kecamatan(kecamatan)
        if hit is None:
            out.append("KECAMATAN_UNKNOWN")
        else:
            kec_code = hit[0]
    if not city.names.key(kelurahan) or city.match_kelurahan(kelurahan, kec_code):
        return out
    found = {k for _, k, _ in city.kelurahan_candidates(kelurahan)}
    mismatch = kec_code is not None and found and kec_code not in found
    return [*out, "KELURAHAN_MISMATCH" if mismatch else "KELURAHAN_UNKNOWN"]


@cache
def role_codes(role: str | None, occupation: str | None) -> list[str]:
    """The decree's role and excluded-occupation rules (once per distinct pair)."""
    c = CTX
    out = []
    occ = role_key(occupation)
    if occ and c.excluded.search(c.negated.sub(" ", occ)):
        out.append("OCCUPATION_EXCLUDED")
    key = role_key(role)
    if key is None:
        return [*out, "DECREE_FIELD_MISSING"]
    words = key.split(" ")
    covered = any(
        c.aliases.get(" ".join(words[:k])) is not None
        and (k == len(words) or c.aliases[" ".join(words[:k])])
        for k in range(1, min(len(words), c.longest) + 1)
    )
    if not covered:
        excluded = c.excluded.search(c.negated.sub(" ", key))
        out.append("OCCUPATION_EXCLUDED" if excluded else "ROLE_NOT_ELIGIBLE")
    return out


def check(path: str, limit: int | None) -> dict:
    by_code: Counter[str] = Counter()
    rejected: set[int] = set()
    seen: dict[str, list[tuple[int, tuple]]] = {}
    rows = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        fields, _ = match_headers(header)
        columns = {f: i for f, i in fields.items() if f in FIELDS}
        for number, cells in enumerate(islice(reader, limit), start=2):
            rows += 1
            data = {f: cells[i] if i < len(cells) else None for f, i in columns.items()}
            row = RosterRow(row=number, **data)
            by_code.update(row.codes)
            if any(code not in WARNINGS for code in row.codes):
                rejected.add(number)
            elif row.nik_clean is not None:
                seen.setdefault(row.nik_clean, []).append((number, row.identity))
    for occurrences in seen.values():
        if len(occurrences) < 2:
            continue
        if len({who for _, who in occurrences}) > 1:
            by_code["NIK_CONFLICT"] += len(occurrences)
            rejected.update(n for n, _ in occurrences)
        else:
            by_code["NIK_DUPLICATE"] += len(occurrences) - 1
            rejected.update(n for n, _ in occurrences[1:])
    return {"rows": rows, "rejected": len(rejected), "by_code": dict(sorted(by_code.items()))}


def main() -> None:
    global CTX
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roster")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--decree")
    mode.add_argument("--core", action="store_true", help="only the core checks")
    ap.add_argument("--as-of", default=date.today().isoformat())
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    CTX = Context(args.decree, date.fromisoformat(args.as_of))
    json.dump(check(args.roster, args.limit), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
