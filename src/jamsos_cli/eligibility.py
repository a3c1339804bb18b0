"""Decree eligibility: vectorised Polars checks of the records frame against one rule set.

Codes (SPEC §4): ROLE_NOT_ELIGIBLE, AGE_OUT_OF_RANGE, OCCUPATION_EXCLUDED,
DECREE_FIELD_MISSING, NIK_OUTSIDE_CITY (warning) and, once the other checks have run,
QUOTA_EXCEEDED (``quota_checks``). Domicile itself (kelurahan/kecamatan inside the decree's
city) is judged by the normaliser, which matches the names within the decree's city.

Role cells repeat a lot ("Ketua RT" thousands of times), so roles are matched once per
distinct value, by a join against the alias table of the rule files, then joined back.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from jamsos_cli import findings as fnd

if TYPE_CHECKING:
    from jamsos_cli.decrees import Decree

# The finding codes this step emits (the decree's rules and its quota):
# tests/test_house.py holds each step to its list, and all the lists to codes.toml.
EMITS = frozenset(
    {
        "ROLE_NOT_ELIGIBLE",
        "AGE_OUT_OF_RANGE",
        "OCCUPATION_EXCLUDED",
        "DECREE_FIELD_MISSING",
        "NIK_OUTSIDE_CITY",
        "QUOTA_EXCEEDED",
    }
)

NO_OTHER_DECREE = "-"  # ROLE_NOT_ELIGIBLE detail when no loaded decree covers the role

_ALIAS_SCHEMA = {"decree_id": pl.Utf8, "role": pl.Utf8, "key": pl.Utf8, "prefix": pl.Boolean}


# --------------------------------------------------------------------------- normalising


def role_key_expr(expr: pl.Expr) -> pl.Expr:
    """The comparable form of a role or occupation cell.

    Upper case; "R.T." → "RT"; anything but letters (punctuation, numbers such as the
    "003" of "KETUA RT 003") becomes one space; trimmed. No letters at all → null.
    """
    key = (
        expr.str.to_uppercase()
        .str.replace_all(r"\b([A-Z])\.", "${1}")
        .str.replace_all(r"[^A-Z]+", " ")
        .str.strip_chars()
    )
    return pl.when(key != "").then(key)  # keeps the input's name


# --------------------------------------------------------------------------- roles


def alias_table(decrees: list[Decree]) -> pl.DataFrame:
    """One row per spelling: decree, role, normalised key, whether it may match as a prefix."""
    rows = [
        (d.id, r.name, spelling, True)
        for d in decrees
        for r in d.roles
        for spelling in (r.name, *r.aliases)
    ] + [(d.id, r.name, spelling, False) for d in decrees for r in d.roles for spelling in r.exact]
    frame = pl.DataFrame(
        rows,
        schema={"decree_id": pl.Utf8, "role": pl.Utf8, "key": pl.Utf8, "prefix": pl.Boolean},
        orient="row",
    )
    # A spelling listed both ways may match as a prefix.
    return (
        frame.with_columns(role_key_expr(pl.col("key")))
        .group_by("decree_id", "role", "key", maintain_order=True)
        .agg(pl.col("prefix").any())
        .cast(_ALIAS_SCHEMA)
    )


def match_roles(keys: pl.LazyFrame, aliases: pl.DataFrame) -> pl.LazyFrame:
    """For each distinct ``_key``, the role it names in each decree (longest match wins).

    A key matches an alias exactly, or starts with a prefix alias followed by more words
    ("KETUA RT RW" starts with "KETUA RT"). Candidate prefixes are the key's first k words
    for k up to the longest alias, so the match is one equi-join.
    """
    if aliases.height == 0:
        return pl.LazyFrame(schema={"_key": pl.Utf8, "decree_id": pl.Utf8, "role": pl.Utf8})
    longest = int(aliases.select(pl.col("key").str.count_matches(" ").max()).item()) + 1
    words = pl.col("_key").str.split(" ")
    n_words = words.list.len()
    candidates = pl.concat(
        [
            keys.filter(n_words >= k).select(
                "_key",
                words.list.head(k).list.join(" ").alias("_prefix"),
                pl.lit(k, pl.Int32).alias("_k"),
                (n_words == k).alias("_whole"),
            )
            for k in range(1, longest + 1)
        ]
    )
    return (
        candidates.join(aliases.lazy(), left_on="_prefix", right_on="key", how="inner")
        .filter(pl.col("_whole") | pl.col("prefix"))
        .group_by("_key", "decree_id")
        .agg(pl.col("role").sort_by("_k", descending=True).first())
    )


def role_from_title(title_rows: list[tuple[int, str]], decree: Decree) -> tuple[str, str] | None:
    """(role, title) when the rows above a roster's header name exactly one role of the
    decree ("DAFTAR KETUA RT KELURAHAN TIBAN BARU" → Ketua RT): a role's name or one of its
    aliases as whole words, never an exact-only spelling (a bare "RT" is an address)."""
    from jamsos_cli.decrees import role_key

    spellings = [
        (key, role.name)
        for role in decree.roles
        for key in map(role_key, (role.name, *role.aliases))
        if key
    ]
    found: dict[str, str] = {}
    for _, text in title_rows:
        words = f" {role_key(text) or ''} "
        for key, name in spellings:
            if f" {key} " in words:
                found.setdefault(name, text)
    if len(found) != 1:
        return None
    return next(iter(found.items()))


def _role_lookup(records: pl.DataFrame, decree: Decree, others: list[Decree]) -> pl.DataFrame:
    """Distinct role cells → key, this decree's role, the other decrees that cover it, and
    the excluded group the cell names (computed once per distinct value, joined back)."""
    keys = (
        records.lazy()
        .select(pl.col("role"))
        .unique()
        .with_columns(role_key_expr(pl.col("role")).alias("_key"))
        .collect()
    )
    matched = match_roles(keys.lazy().select("_key").drop_nulls(), alias_table([decree, *others]))
    here = matched.filter(pl.col("decree_id") == decree.id).select(
        "_key", pl.col("role").alias("_role_match")
    )
    same_city = [d.id for d in others if d.city_code == decree.city_code]
    elsewhere = (
        matched.filter(pl.col("decree_id") != decree.id)
        # decrees of the same city first, then by id
        .with_columns(pl.col("decree_id").is_in(same_city).not_().alias("_far"))
        .group_by("_key")
        .agg(pl.col("decree_id").sort_by("_far", "decree_id").str.join(", ").alias("_elsewhere"))
    )
    return (
        keys.lazy()
        .join(here, on="_key", how="left")
        .join(elsewhere, on="_key", how="left")
        .with_columns(excluded_label_expr(pl.col("_key"), decree).alias("_role_excluded"))
        .collect()
    )


def _occupation_lookup(records: pl.DataFrame, decree: Decree) -> pl.DataFrame:
    """Distinct occupation cells → the excluded group they name (null: not excluded)."""
    return (
        records.lazy()
        .select(pl.col("occupation"))
        .unique()
        .with_columns(
            excluded_label_expr(role_key_expr(pl.col("occupation")), decree).alias("_occ_excluded")
        )
        .collect()
    )


# --------------------------------------------------------------------------- exclusions


def _exclusion_patterns(decree: Decree) -> tuple[str, str, dict[str, str]]:
    """(negated-term pattern, term pattern, term key → group label) from the rule data."""
    from jamsos_cli.decrees import negations, role_key

    labels: dict[str, str] = {}
    for group in decree.exclusion_groups():
        for key in map(role_key, group.terms):  # every term has letters (checked on load)
            labels.setdefault(key, group.label)
    terms = "|".join(re.escape(k) for k in sorted(labels, key=len, reverse=True))
    negs = "|".join(re.escape(k) for k in map(role_key, negations()) if k)
    negated = f"(?:^| )(?:{negs}) (?:{terms})(?: |$)" if negs else ""
    return negated, f"(?:^| )({terms})(?: |$)", labels


def excluded_label_expr(key: pl.Expr, decree: Decree) -> pl.Expr:
    """The excluded group a normalised cell names ('GURU PNS' → 'PNS/ASN/PPPK'), else null."""
    negated, pattern, labels = _exclusion_patterns(decree)
    if not labels:
        return pl.lit(None, pl.Utf8)
    cleaned = key.str.replace_all(negated, " ") if negated else key
    return cleaned.str.extract(pattern, 1).replace_strict(
        labels, default=None, return_dtype=pl.Utf8
    )


# --------------------------------------------------------------------------- the checks


_TEXT_COLUMNS = (
    "nik",
    "role",
    "occupation",
    "raw_role",
    "raw_occupation",
    "raw_birth_date",
    "raw_birth_place_date",
)


def _with_defaults(records: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    """Absent optional columns read as empty, so a records frame of any table shape works."""
    wanted = [*_TEXT_COLUMNS, *fields]
    missing = [c for c in dict.fromkeys(wanted) if c not in records.columns]
    extra = [pl.lit(None, pl.Utf8).alias(c) for c in missing]
    if "birth_date" not in records.columns:
        extra.append(pl.lit(None, pl.Date).alias("birth_date"))
    return records.with_columns(extra) if extra else records


def age_expr(birth: pl.Expr, as_of: date) -> pl.Expr:
    """Whole years on ``as_of`` (one less until the birthday has come that year)."""
    before_birthday = (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)) > (
        as_of.month * 100 + as_of.day
    )
    return (
        pl.lit(as_of.year, pl.Int32)
        - birth.dt.year().cast(pl.Int32)
        - before_birthday.cast(pl.Int32)
    )


def _looked_up(key: str, lookup: pl.DataFrame) -> tuple[pl.Expr, list[pl.Expr]]:
    """The columns of ``lookup`` (one row per distinct ``key`` value) for each record's
    ``key``: the row's position in ``lookup`` (one hash lookup of the key column, cheaper
    than a join that gathers every column of the frame), and the expressions gathering
    each column at it (a null key finds nothing: its lookup row is all null)."""
    known = lookup.filter(pl.col(key).is_not_null())
    at = f"_{key}_at"
    position = (
        pl.col(key)
        .replace_strict(
            known.get_column(key),
            pl.int_range(known.height, dtype=pl.UInt32, eager=True),
            default=None,
            return_dtype=pl.UInt32,
        )
        .alias(at)
    )
    gathered = [
        pl.lit(known.get_column(c)).gather(pl.col(at)).alias(c) for c in known.columns if c != key
    ]
    return position, gathered


def _blank(expr: pl.Expr) -> pl.Expr:
    return expr.is_null() | (expr.cast(pl.Utf8).str.strip_chars() == "")


def eligibility_checks(
    records: pl.DataFrame,
    decree: Decree,
    *,
    as_of: date,
    catalogue: list[Decree] | None = None,
) -> pl.DataFrame:
    """The decree's findings for every record (CHECK_SCHEMA rows).

    ``catalogue``: the decrees to name when a role is not covered by this one (default: every
    loaded decree, the user's folder included).
    """
    from jamsos_cli.decrees import all_decrees, city_name

    if catalogue is None:
        catalogue = all_decrees(decree.extra_dir)
    others = [d for d in catalogue if d.id != decree.id]
    required = decree.all_required_fields
    columns = [f if f in records.columns else f"raw_{f}" for f in required]
    frame = _with_defaults(records, columns)

    # the role came from the occupation column when the table has no role column
    role_from_occ = (
        pl.col("raw_role").is_null()
        & pl.col("occupation").is_not_null()
        & (pl.col("role") == pl.col("occupation"))
    )
    # every fact the checks need, computed once; the checks below only filter it
    role_at, roles = _looked_up("role", _role_lookup(frame, decree, others))
    occupation_at, occupations = _looked_up("occupation", _occupation_lookup(frame, decree))
    facts = (
        frame.lazy()
        .with_columns(role_at, occupation_at)
        .select(
            "_rid",
            *dict.fromkeys(["role", "raw_role", "occupation", "raw_occupation", *columns]),
            *roles,
            *occupations,
            "raw_birth_date",
            "raw_birth_place_date",
            "birth_date",
            "nik",
            role_from_occ.alias("_role_from_occ"),
            age_expr(pl.col("birth_date"), as_of).alias("_age"),
            pl.col("nik").str.contains(r"^\d{16}$").alias("_nik16"),
        )
        .collect()
    )
    lf = facts.lazy()
    role_key = pl.col("_key")
    role_value = pl.coalesce("raw_role", "role")
    occ_value = pl.coalesce("raw_occupation", "occupation")
    parts: list[pl.LazyFrame] = []

    # DECREE_FIELD_MISSING: one finding per empty required field (role: its cell is empty)
    for name, column in zip(required, columns, strict=True):
        empty = _blank(pl.col(column))
        if name == "role":
            empty = empty | role_key.is_null()
            value = role_value
        else:
            value = None
        parts.append(fnd.flag(lf, empty, "DECREE_FIELD_MISSING", name, value, pl.lit(decree.id)))

    # OCCUPATION_EXCLUDED: the occupation cell, else the role cell, names an excluded group
    by_occ = pl.col("_occ_excluded").is_not_null()
    by_role = pl.col("_role_excluded").is_not_null() & ~by_occ
    parts.append(
        fnd.flag(
            lf, by_occ, "OCCUPATION_EXCLUDED", "occupation", occ_value, pl.col("_occ_excluded")
        )
    )
    for from_occ, field, value in ((False, "role", role_value), (True, "occupation", occ_value)):
        parts.append(
            fnd.flag(
                lf,
                by_role & (pl.col("_role_from_occ") == from_occ),
                "OCCUPATION_EXCLUDED",
                field,
                value,
                pl.col("_role_excluded"),
            )
        )

    # ROLE_NOT_ELIGIBLE: a role this decree does not cover (an excluded one is reported above)
    not_covered = (
        role_key.is_not_null()
        & pl.col("_role_match").is_null()
        & pl.col("_role_excluded").is_null()
    )
    elsewhere = pl.col("_elsewhere").fill_null(NO_OTHER_DECREE)
    for from_occ, field, value in ((False, "role", role_value), (True, "occupation", occ_value)):
        parts.append(
            fnd.flag(
                lf,
                not_covered & (pl.col("_role_from_occ") == from_occ),
                "ROLE_NOT_ELIGIBLE",
                field,
                value,
                elsewhere,
            )
        )

    # AGE_OUT_OF_RANGE: age at coverage start (or --as-of) outside [min, max]
    age = pl.col("_age")
    outside = (age < decree.age.min) | (age > decree.age.max)
    age_detail = pl.format("{} ({}–{})", age, pl.lit(decree.age.min), pl.lit(decree.age.max))
    from_ttl = pl.col("raw_birth_date").is_null() & pl.col("raw_birth_place_date").is_not_null()
    parts.append(
        fnd.flag(
            lf,
            outside & ~from_ttl,
            "AGE_OUT_OF_RANGE",
            "birth_date",
            pl.coalesce(pl.col("raw_birth_date"), pl.col("birth_date").cast(pl.Utf8)),
            age_detail,
        )
    )
    parts.append(
        fnd.flag(
            lf,
            outside & from_ttl,
            "AGE_OUT_OF_RANGE",
            "birth_place_date",
            pl.col("raw_birth_place_date"),
            age_detail,
        )
    )

    # NIK_OUTSIDE_CITY (warning): first issued elsewhere; domicile is judged by the address
    city_digits = decree.city_code.replace(".", "")
    parts.append(
        fnd.flag(
            lf,
            pl.col("_nik16") & (pl.col("nik").str.slice(0, 4) != city_digits),
            "NIK_OUTSIDE_CITY",
            "nik",
            pl.col("nik"),
            pl.lit(city_name(decree.city_code) or decree.city_code),
        )
    )
    return fnd.concat_checks(parts).sort("rid", maintain_order=True)


def quota_checks(
    records: pl.DataFrame,
    decree: Decree,
    eligible_rids: pl.Series,
    already_covered: int = 0,
) -> pl.DataFrame:
    """QUOTA_EXCEEDED for the eligible rows beyond the quota, in input order.

    ``already_covered``: people the ledger covers in overlapping months; they use the quota
    first. No quota (absent or 0) means no finding.
    """
    limit = decree.quota_limit
    if limit is None:
        return fnd.empty_checks()
    room = max(0, limit - already_covered)
    eligible = eligible_rids.cast(pl.Int64).unique().to_frame("_rid").lazy()
    beyond = (
        records.lazy()
        .select("_rid")
        .join(eligible, on="_rid", how="semi")
        .sort("_rid")
        .with_row_index("_n")
    )
    return fnd.concat_checks(
        [
            fnd.flag(
                beyond,
                pl.col("_n") >= room,
                "QUOTA_EXCEEDED",
                None,
                None,
                pl.lit(str(limit)),
            )
        ]
    )
