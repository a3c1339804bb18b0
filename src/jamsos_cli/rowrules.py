"""The non-decree row rules (``checks.py``), one row at a time in plain Python: a pydantic
model whose validation fails with one error per finding code.

Not for the hot path (a model per row costs ~100x the vectorised checks): it explains one
row, and ``tests/test_model_agreement.py`` keeps it and the vectorised checks in agreement.
It reads the same data files (``normalise.toml``, the region tables and aliases). Apart
from ``schema.py`` (the roster's fields), which ``normalise`` itself reads.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError


class RosterRowRules(BaseModel):
    """The non-decree row rules (``checks.py``), one row at a time, in plain Python.

    Input: the raw cells as read (text, ``None`` for an empty cell or an absent column), the
    reader's numeric-cell flag and the city whose names apply. Validation fails with one
    ``PydanticCustomError`` per finding code (error type = the code, loc = the field), so
    ``ValidationError.errors()`` lists the same codes ``checks.row_checks`` reports for the
    row. It reads the same data files (``normalise.toml``, the region tables and aliases);
    ``tests/test_model_agreement.py`` checks the two agree. Not for the hot path (a model per
    row costs ~100x the vectorised checks): use it to explain one row.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    nik: str | None = None
    nik_numeric: bool = False
    name: str | None = None
    birth_date: str | None = None
    birth_place_date: str | None = None
    sex: str | None = None
    phone: str | None = None
    kecamatan: str | None = None
    kelurahan: str | None = None
    city_code: str = "21.71"

    @model_validator(mode="after")
    def _row_rules(self) -> RosterRowRules:
        from jamsos_cli.codes import message as code_message

        errors = []
        for code, field, value, detail in _row_findings(self):
            message = code_message(code, "en", value=value or "", detail=detail or "")
            ctx = {"message": message, "detail": detail}
            errors.append(
                InitErrorDetails(
                    type=PydanticCustomError(code, "{message}", ctx), loc=(field,), input=value
                )
            )
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self


def rule_codes(**raw: Any) -> set[str]:
    """The finding codes the row rules give for one row of raw cells."""
    try:
        RosterRowRules(**raw)
    except ValidationError as exc:
        return {str(err["type"]) for err in exc.errors()}
    return set()


def _re(pattern: str) -> re.Pattern[str]:
    """A shared pattern for Python: its final ``$`` means end of text, as in Polars."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def _parse_date(text: str, rules: Any) -> date | None:
    m = _re(rules.date_pattern).match(text.strip())
    if m is None:
        return None
    g = m.groupdict()
    if g["sn"] is not None:
        parsed = rules.birth_date.excel_epoch + timedelta(days=int(g["sn"]))
    else:
        dm = g["dm"]
        month = int(g["im"]) if g["im"] else int(dm) if dm.isdigit() else None
        month = month if month is not None else rules.months.get(dm.lower())
        try:
            parsed = date(int(g["iy"] or g["dy"]), month or 0, int(g["id"] or g["dd"]))
        except ValueError:
            return None
    year_ok = rules.birth_date.year_min <= parsed.year <= rules.birth_date.year_max
    return parsed if year_ok else None


def _nik_date(nik: str) -> tuple[int, int, int, str] | None:
    """(day, month, yy, sex) of a 16-digit NIK, or None when DDMMYY is not a real date."""
    dd, mm, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex, day = ("P", dd - 40) if dd > 40 else ("L", dd)
    if not (1 <= dd <= 31 or 41 <= dd <= 71) or not 1 <= mm <= 12:
        return None
    try:  # 29 Feb is real when 19yy or 20yy is a leap year (2000 counts for yy = 00)
        date(2000 + yy if yy % 4 == 0 else 2001, mm, day)
    except ValueError:
        return None
    return day, mm, yy, sex


def _row_findings(row: RosterRowRules):
    """Yield (code, field, value, detail) for one row: the rules of checks.py, scalar."""
    from jamsos_cli import regions as reg
    from jamsos_cli.normalise import rules as load_rules

    rules = load_rules()
    regions = reg.load()
    codes = regions.sets

    # NIK: scientific? then cleanup, then the parts of a trustworthy 16-digit NIK.
    nik = None
    scientific = False
    if row.nik is not None:
        text = row.nik.strip().lstrip(rules.nik.leading_quotes)
        scientific = _re(rules.nik.scientific).search(text) is not None
        cleaned = _re(rules.nik.trailing).sub("", text, count=1)
        cleaned = re.sub(rules.nik.remove, "", cleaned).lstrip(rules.nik.leading_quotes)
        nik = cleaned if cleaned and not scientific else None
    lost = row.nik_numeric and nik is not None and nik.endswith("0")
    trusted = (
        nik is not None
        and not lost
        and _re(f"^[0-9]{{{rules.nik.length}}}$").search(nik) is not None
    )
    if scientific:
        yield "NIK_SCIENTIFIC", "nik", row.nik, None
    elif nik is None:
        yield "NIK_MISSING", "nik", row.nik, None
    elif lost:
        yield "NIK_PRECISION_LOST", "nik", row.nik, None
    else:
        if row.nik_numeric:
            yield "NIK_NUMERIC_CELL", "nik", row.nik, None
        if not trusted:
            yield "NIK_FORMAT", "nik", row.nik, str(sum(c in "0123456789" for c in nik))
    nik_date = None
    if trusted:
        assert nik is not None
        region_ok = nik[:4] in codes["regency"]
        if not region_ok:
            yield "NIK_REGION", "nik", row.nik, f"{nik[:2]}.{nik[2:4]}"
        elif nik[:4] in codes["regency_with_kecamatan"] and nik[:6] not in codes["kecamatan"]:
            yield "NIK_DISTRICT_UNKNOWN", "nik", row.nik, f"{nik[:2]}.{nik[2:4]}.{nik[4:6]}"
        nik_date = _nik_date(nik)
        if nik_date is None:
            yield "NIK_BIRTHDATE", "nik", row.nik, nik[6:12]
        if nik[12:] == "0000":
            yield "NIK_SERIAL", "nik", row.nik, None

    yield from _person_findings(row, rules, nik_date)
    yield from _region_findings(row, regions.city(row.city_code))


def _person_findings(row: RosterRowRules, rules: Any, nik_date):
    if row.name is None or not any(c.isalpha() for c in row.name):
        yield "NAME_MISSING", "name", row.name, None

    # Birth date: its own cell, else the date part of TEMPAT/TGL LAHIR.
    field, value, text = "birth_date", row.birth_date, row.birth_date
    if row.birth_date is None and row.birth_place_date is not None:
        field, value = "birth_place_date", row.birth_place_date
        m = _re(rules.ttl_pattern).match(row.birth_place_date)
        text = m["date"].strip() if m and m["date"] else None
    hint = f" (NIK: {nik_date[0]:02d}-{nik_date[1]:02d}-{nik_date[2]:02d})" if nik_date else None
    parsed = _parse_date(text, rules) if text is not None else None
    if text is None:
        yield "DOB_MISSING", field, value, hint
    elif parsed is None:
        yield "DOB_FORMAT", field, value, hint
    elif nik_date and (parsed.day, parsed.month, parsed.year % 100) != nik_date[:3]:
        yield "NIK_DOB_MISMATCH", field, value, None

    if row.sex is not None:
        sex = rules.sex_lookup.get(re.sub("[^A-Z]", "", row.sex.upper()))
        if sex is None:
            yield "SEX_INVALID", "sex", row.sex, None
        elif nik_date and sex != nik_date[3]:
            yield "NIK_SEX_MISMATCH", "sex", row.sex, nik_date[3]

    if row.phone is not None:
        from jamsos_cli.phones import LANDLINE, MOBILE, classify

        digits = re.sub("[^0-9]", "", row.phone)
        digits = _re(rules.phone.international).sub("0", digits, count=1)
        digits = _re(rules.phone.missing_zero).sub("08", digits, count=1)
        foreign = _re(rules.phone.foreign).search(row.phone) is not None
        kind = classify(digits, rules.phone.region) if digits and not foreign else "unknown"
        if kind == LANDLINE:
            yield "PHONE_LANDLINE", "phone", row.phone, None
        elif kind != MOBILE and _re(rules.phone.blank).search(row.phone) is None:
            yield "PHONE_FORMAT", "phone", row.phone, None


def _region_findings(row: RosterRowRules, city: Any):
    kecamatan_code = None
    if city.names.key(row.kecamatan):
        hit = city.match_kecamatan(row.kecamatan)
        if hit is None:
            yield "KECAMATAN_UNKNOWN", "kecamatan", row.kecamatan, city.name
        else:
            kecamatan_code = hit[0]
    if not city.names.key(row.kelurahan) or city.match_kelurahan(row.kelurahan, kecamatan_code):
        return
    in_kecamatan = {k for _, k, _ in city.kelurahan_candidates(row.kelurahan)}
    if kecamatan_code is not None and in_kecamatan and kecamatan_code not in in_kecamatan:
        where = sorted(city.kecamatan_names[k] for k in in_kecamatan)
        yield "KELURAHAN_MISMATCH", "kelurahan", row.kelurahan, ", ".join(where)
    else:
        yield "KELURAHAN_UNKNOWN", "kelurahan", row.kelurahan, city.name
