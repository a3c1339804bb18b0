"""How likely two records are one person: a Fellegi-Sunter model fitted to each run.

``neardup`` finds the candidate pairs (its blocking); this module says how alike each pair is
and what that is worth. Why a probabilistic model rather than points: evidence is worth what
it is rare. Two records sharing "MUHAMMAD RIZKI" and 1 January 1980 say little, because many
people do; sharing "YOHANES BOSCO SITUMORANG" says a lot. A fixed table of points cannot know
which roster it scores; the model measures it on the run's own records.

The model (Fellegi & Sunter 1969, as splink and fastLink use it):

- **Comparisons.** For each pair, every comparison of ``schemas/neardup.toml`` (NIK, birth
  date, name, father's name, phone, address and kelurahan, sex) falls into one level (``compare``,
  vectorised: Polars expressions and rapidfuzz's ``cpdist``). The NIK holds the birth date, so
  the dates are one comparison (the roster dates and the NIKs' dates together) and the NIK
  comparison looks at its other digits, given whether the two NIKs carry one date: counting the
  date twice would make two strangers born on one day in one kecamatan - whose NIKs are one
  digit apart, consecutive serials - look like one person.
- **Four kinds of pair.** The same person (m), twins, other family in one household (parent
  and child, siblings) and unrelated people (u). Twins share the birth date, the household and
  often the phone, and hold consecutive NIK serials; parent and child may share the whole
  name. A two-kind model explains all that shared evidence as "the same person" (its
  conditional independence fails inside households: Winkler 1993, "Improved decision rules in
  the Fellegi-Sunter model of record linkage", fits household classes for that). Here the
  household kinds explain it, and the name (twins) or the birth date (parent, child) tells
  them from one person typed twice.
- **u** from random pairs of the run's own records (``estimate_u``), the NIK's on random pairs
  sharing the NIK's date and on random pairs not sharing it; term-frequency adjustment for an
  exact name and an exact birth date (the share of records with that very value).
- **m** (and the household kinds) by expectation-maximisation over the candidate pairs
  (``fit``): the candidates come from several blockings at once, so the non-matches among
  them are not like random pairs; the EM fits them as a fourth, free kind (discarded after),
  and the u used for the score stays the random-pair one. The shipped values are the EM's
  start and its prior (worth a few dozen pairs), and the whole model of a roster too small to
  learn from (``[model]`` of the data file says when).
- **Score**: 100 x the probability of "the same person" given the levels, with the prior of
  each kind (expected pairs / all pairs of the run). The weight of a comparison is
  log2(m / u), as splink's waterfall shows it: ``Model.explain``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from jamsos_cli.resources import schema_file

# The kinds of pair: the same person, twins, other family in one household, unrelated.
CLASSES = ("m", "twins", "family", "u")
UNKNOWN = 0  # the level of a comparison with a value missing on either side: weight 0
_BATCH = 500_000  # pairs per rapidfuzz call (bounds memory)
_PLACE = 10 ** np.arange(15, -1, -1, dtype=np.int64)


# --------------------------------------------------------------------------- data file


class _Level(BaseModel):
    model_config = ConfigDict(extra="forbid")
    m: float | list[float]
    u: float | list[float]
    twins: float | list[float]
    family: float | list[float]


class _Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")
    levels: dict[str, _Level]


class _Strength(BaseModel):
    """A band of weights: from ``from_`` on, said with ``strength.<word>`` of the text
    catalogue (no word: not worth mentioning)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: float = Field(alias="from")
    word: str | None = None


class _ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_per_record: dict[str, float]
    em_min_pairs: int
    em_min_same: float
    em_max_iterations: int
    em_tolerance: float
    prior_pairs: dict[str, float]
    m_fixed: list[str]
    u_min_records: int
    u_sample_records: int
    u_sample_pairs: int
    u_prior_pairs: float
    floor: float


class Spec(BaseModel):
    """``schemas/neardup.toml``, validated (the words a clerk reads are the text
    catalogue's: ``render.reasons``)."""

    model_config = ConfigDict(extra="forbid")
    model: _ModelSettings
    strength: list[_Strength]
    comparisons: dict[str, _Comparison]
    thresholds: dict[str, float]
    address: dict[str, list[list[str]]]
    kelurahan: dict[str, list[list[str]]]


@cache
def spec() -> Spec:
    with schema_file("neardup.toml").open("rb") as fh:
        return Spec.model_validate(tomllib.load(fh))


def comparisons() -> list[str]:
    return list(spec().comparisons)


def level_names(comparison: str) -> list[str]:
    """Level names by index; index 0 is "unknown" (a value missing on either side)."""
    return ["unknown", *spec().comparisons[comparison].levels]


def _index(comparison: str, level: str) -> int:
    return level_names(comparison).index(level)


def _default_table(comparison: str, kind: str) -> np.ndarray:
    """Shipped probabilities of one kind over a comparison's levels (index 0: 1.0), each row
    normalised (the NIK: two rows, NIK dates equal / different)."""
    levels = spec().comparisons[comparison].levels.values()
    floor = spec().model.floor
    values = [getattr(level, kind) for level in levels]
    rows = np.array(values, dtype=np.float64).reshape(len(values), -1).T  # (strata, levels)
    rows = np.maximum(rows, floor)
    rows = rows / rows.sum(axis=1, keepdims=True)
    table = np.concatenate([np.ones((rows.shape[0], 1)), rows], axis=1)
    return table if comparison == "nik" else table[0]


def defaults() -> dict[str, dict[str, np.ndarray]]:
    return {k: {c: _default_table(c, k) for c in comparisons()} for k in CLASSES}


# --------------------------------------------------------------------------- comparing


def _cpdist(left: pl.Series, right: pl.Series, scorer) -> np.ndarray:
    """rapidfuzz ``cpdist`` over two text columns, in batches (nulls as empty text)."""
    from rapidfuzz import process

    a = left.fill_null("").to_list()
    b = right.fill_null("").to_list()
    out = [
        process.cpdist(a[i : i + _BATCH], b[i : i + _BATCH], scorer=scorer, workers=-1)
        for i in range(0, len(a), _BATCH)
    ]
    return np.concatenate(out) if out else np.zeros(0)


def _digits(niks: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The 16 digits of each NIK (rows of zeros where it is not 16 digits) and which are."""
    ok = niks.str.contains(r"^\d{16}$").fill_null(False)
    ints = pl.select(pl.when(ok).then(niks.cast(pl.Int64, strict=False)).fill_null(0))
    values = ints.to_series().to_numpy()
    return (values[:, None] // _PLACE % 10).astype(np.int8), ok.to_numpy()


def nik_date(digits: np.ndarray) -> np.ndarray:
    """The date inside a NIK as DDMMYY (women's +40 taken off), from its digits."""
    day = digits[:, 6].astype(np.int32) * 10 + digits[:, 7]
    day = np.where(day > 40, day - 40, day)
    month = digits[:, 8].astype(np.int32) * 10 + digits[:, 9]
    year = digits[:, 10].astype(np.int32) * 10 + digits[:, 11]
    return day * 10_000 + month * 100 + year


def nik_levels(
    a: pl.Series,
    b: pl.Series,
    a_numeric: pl.Series,
    b_numeric: pl.Series,
    sexes_differ: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The nik level of each pair, its stratum (0: the NIKs carry one date, 1: not) and the
    NIKs' dates (DDMMYY, women's +40 taken off; -1 when a NIK is not 16 digits).

    Two NIKs carry one date when their date parts are equal, or differ only by the +40 of a
    woman while the roster says the two are of different sex (twins of both sexes); a +40
    between two records of one sex is a mistyped digit (``sexes_differ``: per pair, whether
    the rosters' sexes differ; unknown: taken as differing)."""
    from rapidfuzz.distance import Levenshtein

    da, ok_a = _digits(a)
    db, ok_b = _digits(b)
    both = ok_a & ok_b
    date_a = np.where(ok_a, nik_date(da), -1)
    date_b = np.where(ok_b, nik_date(db), -1)
    diff = da != db
    raw_equal = ~diff[:, 6:12].any(axis=1)
    if sexes_differ is None:
        sexes_differ = np.ones(len(diff), dtype=bool)
    stratum = np.where(both & (date_a == date_b) & (raw_equal | sexes_differ), 0, 1)
    stratum = stratum.astype(np.int8)
    region = diff[:, :6].sum(axis=1)
    serial = diff[:, 12:15].sum(axis=1)
    last = diff[:, 15]
    outside = region + serial + last
    total = diff.sum(axis=1)
    first = diff.argmax(axis=1)
    rows = np.arange(len(first))
    nxt = np.minimum(first + 1, 15)
    swapped = (
        (total == 2)
        & diff[rows, nxt]
        & (da[rows, first] == db[rows, nxt])
        & (da[rows, nxt] == db[rows, first])
        & ~((first >= 6) & (nxt <= 11))  # inside the date part: the birth_date comparison's
    )
    serial_a = (da[:, 12:].astype(np.int32) * np.array([1000, 100, 10, 1])).sum(axis=1)
    serial_b = (db[:, 12:].astype(np.int32) * np.array([1000, 100, 10, 1])).sum(axis=1)
    num_a = a_numeric.fill_null(True).to_numpy()
    num_b = b_numeric.fill_null(True).to_numpy()
    only_last = (outside == 1) & last
    truncated = only_last & (((da[:, 15] == 0) & num_a) | ((db[:, 15] == 0) & num_b))
    consecutive = (
        only_last & (np.abs(serial_a - serial_b) == 1) & (np.minimum(serial_a, serial_b) > 0)
    )
    idx = {name: _index("nik", name) for name in level_names("nik")[1:]}
    level = np.select(
        [
            truncated,
            swapped,
            outside == 0,
            consecutive,
            only_last,
            (outside == 1) & (serial == 1),
            (outside == 1) & (region == 1),
            outside == 2,
        ],
        [
            idx["excel_truncated"],
            idx["transposition"],
            idx["same"],
            idx["serial_consecutive"],
            idx["last_digit"],
            idx["serial_digit"],
            idx["region_digit"],
            idx["two_digits"],
        ],
        idx["different"],
    )
    odd = np.flatnonzero(~both)  # a NIK that is not 16 digits: by edit distance
    if odd.size:
        pick = pl.Series(odd)
        edits = _cpdist(a.gather(pick), b.gather(pick), Levenshtein.distance)
        gap = np.abs(
            a.gather(pick).str.len_chars().fill_null(0).to_numpy().astype(np.int64)
            - b.gather(pick).str.len_chars().fill_null(0).to_numpy()
        )
        level[odd] = np.select(
            [(gap == 1) & (edits == 1), edits <= 2],
            [idx["digit_missing_or_extra"], idx["two_digits"]],
            idx["different"],
        )
    missing = (a.is_null() | b.is_null()).to_numpy()
    level[missing] = UNKNOWN
    return level.astype(np.int8), stratum, date_a, date_b


def _date_parts(dates: pl.Series) -> tuple[np.ndarray, ...]:
    day = dates.dt.day().fill_null(-1).to_numpy().astype(np.int32)
    month = dates.dt.month().fill_null(-1).to_numpy().astype(np.int32)
    year = dates.dt.year().fill_null(-1).to_numpy().astype(np.int32)
    return day, month, year


def birth_date_levels(
    a: pl.Series, b: pl.Series, nik_date_a: np.ndarray, nik_date_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The birth_date level: the roster dates and the NIKs' dates together (the NIK holds the
    date, so this comparison carries all the date evidence); and whether each record's date
    agrees with its own NIK."""
    da, ma, ya = _date_parts(a)
    db, mb, yb = _date_parts(b)
    known = (ya >= 0) & (yb >= 0)
    nik_known = (nik_date_a >= 0) & (nik_date_b >= 0)
    nik_equal = nik_known & (nik_date_a == nik_date_b)
    same = known & (da == db) & (ma == mb) & (ya == yb)
    consistent_a = nik_date_a == da * 10_000 + ma * 100 + ya % 100
    consistent_b = nik_date_b == db * 10_000 + mb * 100 + yb % 100

    def digits(day, month, year):
        return [
            day // 10,
            day % 10,
            month // 10,
            month % 10,
            *(year // p % 10 for p in (1000, 100, 10, 1)),
        ]

    hamming = sum(
        (x != y).astype(np.int32)
        for x, y in zip(digits(da, ma, ya), digits(db, mb, yb), strict=True)
    )
    swapped = (da == mb) & (ma == db) & (ya == yb) & (da != ma)
    typo = (hamming == 1) | swapped
    ordinal_a = a.cast(pl.Int32).fill_null(0).to_numpy()
    ordinal_b = b.cast(pl.Int32).fill_null(0).to_numpy()
    near = np.abs(ordinal_a - ordinal_b) <= 1826
    idx = {name: _index("birth_date", name) for name in level_names("birth_date")[1:]}
    level = np.select(
        [
            ~known,
            same & (~nik_known | nik_equal),
            same,
            nik_equal,
            typo & ~(consistent_a & consistent_b),
            typo,
            near & ~(consistent_a & consistent_b),
            (da == db) & (ma == mb),
            near,
        ],
        [
            UNKNOWN,
            idx["same"],
            idx["nik_typo"],
            idx["roster_typo"],
            idx["typo_one_side"],
            idx["typo_both_sides"],
            idx["other_one_side"],
            idx["same_day_month"],
            idx["within_5_years"],
        ],
        idx["different"],
    )
    return level.astype(np.int8), consistent_a, consistent_b


def _known_only(values: np.ndarray, known: np.ndarray) -> pl.Series:
    """A boolean column, null where not ``known``."""
    return pl.Series(values).zip_with(
        pl.Series(known), pl.Series([None] * len(values), dtype=pl.Boolean)
    )


def _both(a: str, b: str) -> pl.Expr:
    return pl.col(a).is_not_null() & pl.col(b).is_not_null()


def _levels_expr(comparison: str, cases: list[tuple[pl.Expr, str]], known: pl.Expr) -> pl.Expr:
    """A when/then chain over named levels; "unknown" when ``known`` is false."""
    expr = pl.when(~known).then(pl.lit(UNKNOWN, pl.Int8))
    for condition, name in cases:
        expr = expr.when(condition).then(pl.lit(_index(comparison, name), pl.Int8))
    return expr.otherwise(pl.lit(_index(comparison, "different"), pl.Int8)).alias(
        f"lv_{comparison}"
    )


def compare(pairs: pl.DataFrame) -> pl.DataFrame:
    """The level of every comparison for every pair: ``lv_<comparison>`` (Int8, 0 unknown),
    ``stratum`` (0: the NIKs carry one date) and ``tf_name``/``tf_birth`` keys.

    ``pairs`` holds both sides' identity (``a_``/``b_``): ``nik``, ``nik_numeric``,
    ``birth_date``, ``name_n`` (the normalised name), ``father``, ``phone``, ``addr_n``,
    ``kel_n`` (normalised), ``sex``."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import OSA, Levenshtein

    th = spec().thresholds
    nik, stratum, date_a, date_b = nik_levels(
        pairs["a_nik"],
        pairs["b_nik"],
        pairs["a_nik_numeric"],
        pairs["b_nik_numeric"],
        (pairs["a_sex"] != pairs["b_sex"]).fill_null(True).to_numpy(),
    )
    birth, ok_a, ok_b = birth_date_levels(
        pairs["a_birth_date"], pairs["b_birth_date"], date_a, date_b
    )
    frame = pairs.with_columns(
        a_nik_date_ok=_known_only(ok_a, date_a >= 0),
        b_nik_date_ok=_known_only(ok_b, date_b >= 0),
        lv_nik=pl.Series(nik),
        lv_birth_date=pl.Series(birth),
        stratum=pl.Series(stratum),
        _name_osa=pl.Series(_cpdist(pairs["a_name_n"], pairs["b_name_n"], OSA.distance)),
        _name_ratio=pl.Series(_cpdist(pairs["a_name_n"], pairs["b_name_n"], fuzz.ratio)),
    )
    frame = _with_name_features(frame)
    # The costlier similarities only where they can change the level: word sets of names
    # sharing a first or last word, addresses in one kelurahan; kelurahan and fathers' names
    # repeat, so once per distinct pair of values.
    shares_word = pl.any_horizontal(
        pl.col(f"a_{x}") == pl.col(f"b_{y}") for x in ("first", "last") for y in ("first", "last")
    )
    kel_same = pl.col("a_kel_n") == pl.col("b_kel_n")
    frame = _similarity(frame, "name_n", fuzz.token_set_ratio, "_name_set", shares_word)
    frame = _similarity(frame, "kel_n", fuzz.ratio, "_kel_ratio")
    frame = _similarity(frame, "father", fuzz.ratio, "_father_ratio")
    kel_alike = kel_same | (pl.col("_kel_ratio") >= th["kelurahan_similar"])
    place_ok = ~_both("a_kel_n", "b_kel_n") | kel_alike
    frame = _similarity(frame, "addr_n", fuzz.token_set_ratio, "_addr_ratio", place_ok)
    same_length = pl.col("a_phone").str.len_chars() == pl.col("b_phone").str.len_chars()
    frame = _similarity(frame, "phone", Levenshtein.distance, "_phone_edits", same_length)
    osa = pl.col("_name_osa")
    short = pl.min_horizontal(
        pl.col("a_name_n").str.len_chars(), pl.col("b_name_n").str.len_chars()
    )
    name = _levels_expr(
        "name",
        [
            (pl.col("a_name_n") == pl.col("b_name_n"), "exact"),
            ((pl.col("a_words") >= 2) & (pl.col("a_sorted") == pl.col("b_sorted")), "reordered"),
            ((osa <= 1) | ((osa <= 2) & (short >= th["name_two_edits_from"])), "one_edit"),
            (
                (pl.col("a_abbr") == pl.col("b_abbr"))
                & (pl.col("a_initial") | pl.col("b_initial")),
                "initial",
            ),
            (
                pl.col("_name_set") == 100,
                "subset",
            ),  # token_set_ratio: one name's words in the other
            (pl.col("_name_ratio") >= th["name_similar"], "similar"),
            (
                (pl.col("a_words") >= 2)
                & (pl.col("b_words") >= 2)
                & (pl.col("a_last") == pl.col("b_last"))
                & (pl.col("a_last").str.len_chars() >= 3),
                "same_last_word",
            ),
        ],
        _both("a_name_n", "b_name_n"),
    )
    father = _levels_expr(
        "father",
        [
            (pl.col("a_father") == pl.col("b_father"), "same"),
            (pl.col("_father_ratio") >= th["father_similar"], "similar"),
        ],
        _both("a_father", "b_father"),
    )
    phone = _levels_expr(
        "phone",
        [
            (pl.col("a_phone") == pl.col("b_phone"), "same"),
            (pl.col("_phone_edits") == 1, "one_digit"),
        ],
        _both("a_phone", "b_phone"),
    )
    kel_known = _both("a_kel_n", "b_kel_n")
    addr_known = _both("a_addr_n", "b_addr_n")
    domicile = _levels_expr(
        "domicile",
        [
            (addr_known & (pl.col("a_addr_n") == pl.col("b_addr_n")) & place_ok, "address_same"),
            (
                addr_known & (pl.col("_addr_ratio") >= th["address_similar"]) & place_ok,
                "address_similar",
            ),
            (kel_known & kel_same, "kelurahan_same"),
            (kel_known & kel_alike, "kelurahan_similar"),
        ],
        kel_known | (addr_known & (pl.col("a_addr_n") == pl.col("b_addr_n"))),
    )
    sex = _levels_expr(
        "sex", [(pl.col("a_sex") == pl.col("b_sex"), "same")], _both("a_sex", "b_sex")
    )
    return frame.with_columns(name, father, phone, domicile, sex).drop(
        *(c for c in frame.columns if c.startswith("_")),
        *(f"{side}_{c}" for side in "ab" for c in _NAME_FEATURES),
    )


_NAME_FEATURES = ("words", "sorted", "abbr", "initial", "first", "last")


def _similarity(
    frame: pl.DataFrame, column: str, scorer, out: str, where: pl.Expr | None = None
) -> pl.DataFrame:
    """``out``: rapidfuzz ``scorer`` of ``a_<column>`` and ``b_<column>``, computed once per
    distinct pair of values among the rows where ``where`` holds (null elsewhere)."""
    a, b = f"a_{column}", f"b_{column}"
    rows = frame.filter(_both(a, b) & (pl.lit(True) if where is None else where.fill_null(False)))
    combos = rows.select(a, b).unique()
    combos = combos.with_columns(pl.Series(out, _cpdist(combos[a], combos[b], scorer)))
    return frame.join(combos, on=[a, b], how="left", maintain_order="left", nulls_equal=False)


def _with_name_features(frame: pl.DataFrame) -> pl.DataFrame:
    """Per distinct normalised name (names repeat: list work once per name, not per pair):
    its word count, its words sorted, its first word with the others cut to initials, whether
    a later word is an initial, its last word; joined to both sides."""
    names = pl.concat([frame["a_name_n"], frame["b_name_n"]]).drop_nulls().unique()
    tokens = pl.col("name_n").str.split(" ")
    rest = tokens.list.slice(1)
    table = names.to_frame("name_n").with_columns(
        words=tokens.list.len(),
        sorted=tokens.list.sort().list.join(" "),
        abbr=pl.concat_str(
            tokens.list.first(),
            rest.list.eval(pl.element().str.slice(0, 1)).list.join(" "),
            separator=" ",
        ),
        initial=rest.list.eval(pl.element().str.len_chars() == 1).list.any(),
        first=tokens.list.first(),
        last=tokens.list.last(),
    )
    for side in "ab":
        frame = frame.join(
            table.rename({c: f"{side}_{c}" for c in table.columns}),
            on=f"{side}_name_n",
            how="left",
            maintain_order="left",
        )
    return frame


def level_matrix(frame: pl.DataFrame) -> np.ndarray:
    """The ``lv_`` columns as an (n, comparisons) int8 array, in ``comparisons()`` order."""
    return (
        np.stack([frame[f"lv_{c}"].to_numpy() for c in comparisons()], axis=1).astype(np.int8)
        if frame.height
        else np.zeros((0, len(comparisons())), dtype=np.int8)
    )


# --------------------------------------------------------------------------- u


# Exact-agreement levels whose u is counted over all records (``agreement``), not sampled.
EXACT_LEVELS = {"name": "exact", "birth_date": "same", "phone": "same"}


def agreement(counts: pl.Series) -> float:
    """The chance that two random records agree on a value: sum of n(n-1) over N(N-1), from
    the count of each value (exact, where random pairs would see a rare agreement a few times
    if at all)."""
    n = float(counts.sum())
    if n < 2:
        return 0.0
    return float((counts.cast(pl.Float64) * (counts - 1)).sum()) / (n * (n - 1))


def estimate_u(
    random_pairs: pl.DataFrame, same_date_nik: np.ndarray, exact: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """u of every level from random pairs of the run's records (already ``compare``d), blended
    with the shipped u where the pairs are few (``u_prior_pairs``). The nik comparison: its
    first row from ``same_date_nik`` (the levels of random pairs whose NIKs carry one date),
    its second from the random pairs whose NIKs do not. ``exact``: comparison -> the chance
    of an exact agreement counted over all records (``agreement``), which replaces the
    sampled one (the other levels share the rest in their sampled proportions)."""
    cfg = spec().model
    shipped = defaults()["u"]
    out: dict[str, np.ndarray] = {}

    def blend(levels: np.ndarray, prior: np.ndarray) -> np.ndarray:
        known = levels[levels > 0]
        counts = np.bincount(known, minlength=prior.size).astype(np.float64)[1:]
        p = (counts + cfg.u_prior_pairs * prior[1:]) / (known.size + cfg.u_prior_pairs)
        return np.concatenate([[1.0], np.maximum(p, cfg.floor)])

    for name in comparisons():
        levels = random_pairs[f"lv_{name}"].to_numpy().astype(np.int64)
        if name == "nik":
            stratum = random_pairs["stratum"].to_numpy()
            out[name] = np.stack(
                [
                    blend(same_date_nik.astype(np.int64), shipped[name][0]),
                    blend(levels[stratum == 1], shipped[name][1]),
                ]
            )
        else:
            out[name] = blend(levels, shipped[name])
        if exact and name in exact and name in EXACT_LEVELS:
            i = _index(name, EXACT_LEVELS[name])
            q = max(exact[name], cfg.floor)
            t = out[name]
            rest = t[1:].sum() - t[i]
            t[1:] = t[1:] * (1.0 - q) / rest
            t[i] = q
    return out


# --------------------------------------------------------------------------- the model


@dataclass
class Model:
    """Fitted parameters of one run: the probability tables of each kind, the expected pairs
    of each kind among all pairs, and the term frequencies."""

    tables: dict[str, dict[str, np.ndarray]]
    expected: dict[str, float]  # expected pairs of m, twins, family among all pairs
    total_pairs: float
    tf_name: pl.DataFrame  # name_n, tf
    tf_birth: pl.DataFrame  # birth_date, tf
    em: dict[str, Any] = field(default_factory=dict)
    u_pairs: int = 0

    def lambdas(self) -> dict[str, float]:
        """Prior probability of each kind for a pair drawn from all pairs of the run (a share
        at most 0.3: in a roster of three, one expected pair is no reason to believe it)."""
        total = max(self.total_pairs, 1.0)
        share = {k: min(v / total, 0.3) for k, v in self.expected.items()}
        return {**share, "u": max(1.0 - sum(share.values()), 1e-9)}

    def to_dict(self) -> dict[str, Any]:
        """The parameters as JSON (``jamsos dedupe --format json``: ``summary.model``)."""
        lam = self.lambdas()
        out: dict[str, Any] = {}
        for name in comparisons():
            levels = level_names(name)[1:]
            entry: dict[str, Any] = {}
            for i, level in enumerate(levels, start=1):
                row: dict[str, Any] = {}
                for kind in CLASSES:
                    t = self.tables[kind][name]
                    row[kind] = [float(t[0, i]), float(t[1, i])] if name == "nik" else float(t[i])
                m, u = row["m"], row["u"]
                row["weight"] = (
                    [round(math.log2(x / y), 2) for x, y in zip(m, u, strict=True)]
                    if name == "nik"
                    else round(math.log2(m / u), 2)
                )
                entry[level] = row
            out[name] = entry
        return {
            "kinds": {"m": "same person", "twins": "twins", "family": "family", "u": "unrelated"},
            "lambda": lam,
            "expected_pairs": self.expected,
            "total_pairs": self.total_pairs,
            "prior_weight": round(math.log2(lam["m"] / lam["u"]), 2),
            "em": self.em,
            "u_random_pairs": self.u_pairs,
            "nik_strata": ["NIK dates equal", "NIK dates different"],
            "comparisons": out,
        }


def term_frequencies(counts: pl.DataFrame, column: str) -> pl.DataFrame:
    """For each value (``counts``: ``column``, ``n`` records holding it), the chance that a
    record agreeing with one holder of the value is another: (n - 1) / (N - 1), the pair's
    partner counted once, as splink's term frequencies. None below ``u_min_records``
    records (a value seen twice in a roster of 50 is not thereby common): the level's u
    stands."""
    total = counts["n"].sum()
    if total < spec().model.u_min_records:
        return counts.clear().select(pl.col(column), tf=pl.lit(None, pl.Float64))
    return counts.select(pl.col(column), tf=(pl.col("n") - 1).clip(lower_bound=1) / (total - 1))


def _pattern_counts(
    levels: np.ndarray, stratum: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (levels, stratum) rows with their counts: EM works on patterns, not pairs."""
    base = int(levels.max(initial=0)) + 1
    codes = stratum.astype(np.int64)
    for j in range(levels.shape[1]):
        codes = codes * base + levels[:, j]
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return levels[first], stratum[first], counts.astype(np.float64)


def _log_tables(
    tables: dict[str, np.ndarray], levels: np.ndarray, stratum: np.ndarray
) -> np.ndarray:
    """log2 of one kind's probability of each row's level, per comparison: (rows, comps)."""
    out = np.empty(levels.shape, dtype=np.float64)
    for j, name in enumerate(comparisons()):
        t = tables[name]
        p = t[stratum, levels[:, j]] if name == "nik" else t[levels[:, j]]
        out[:, j] = np.log2(p)
    return out


def fit(
    levels: np.ndarray, stratum: np.ndarray, u: dict[str, np.ndarray], n_records: int
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float], dict[str, Any]]:
    """m (and the household kinds) by EM over the candidate pairs; the defaults when the
    candidates are too few to learn from. Returns the tables, the expected pairs of each kind
    among the candidates, and what was done (JSON: ``ran``, and when it did not, ``why_not``,
    a stable key: ``no_candidate_pairs`` or ``too_few_to_learn``)."""
    cfg = spec().model
    shipped = defaults()
    tables = {k: dict(shipped[k]) for k in ("m", "twins", "family")}
    n = levels.shape[0]
    per_record = cfg.expected_per_record
    default_expected = {
        k: per_record[k if k != "m" else "same_person"] * n_records
        for k in ("m", "twins", "family")
    }
    info: dict[str, Any] = {"candidate_pairs": int(n), "ran": False}
    if n == 0:
        info["why_not"] = "no_candidate_pairs"
        return tables, default_expected, info
    rows, strata, counts = _pattern_counts(levels, stratum)
    # the candidate non-matches: free, started from the candidates' own level shares
    cand: dict[str, np.ndarray] = {}
    for j, name in enumerate(comparisons()):
        size = u[name].shape[-1]
        if name == "nik":
            t = np.ones((2, size))
            for s in (0, 1):
                sel = (strata == s) & (rows[:, j] > 0)
                c = np.bincount(rows[sel, j], weights=counts[sel], minlength=size) + 1.0
                t[s, 1:] = c[1:] / c[1:].sum()
            cand[name] = t
        else:
            sel = rows[:, j] > 0
            c = np.bincount(rows[sel, j], weights=counts[sel], minlength=size) + 1.0
            cand[name] = np.concatenate([[1.0], c[1:] / c[1:].sum()])
    kinds = ("m", "twins", "family", "c")
    current = {**tables, "c": cand}
    share = np.array([0.2, 0.01, 0.01, 0.78])
    # Would the defaults expect enough same-person pairs to learn from?
    post = _responsibilities(current, rows, strata, share, kinds)
    expected_same = float((post[:, 0] * counts).sum())
    info["expected_same_by_defaults"] = round(expected_same, 1)
    if n < cfg.em_min_pairs or expected_same < cfg.em_min_same:
        # too few to learn from (the minimums said beside it): the shipped parameters stand
        info.update(
            why_not="too_few_to_learn", em_min_pairs=cfg.em_min_pairs, em_min_same=cfg.em_min_same
        )
        return tables, default_expected, info
    prior = {
        "m": cfg.prior_pairs["same_person"],
        "twins": cfg.prior_pairs["twins"],
        "family": cfg.prior_pairs["family"],
        "c": cfg.prior_pairs["candidates"],
    }
    start = {k: current[k] for k in kinds}
    fixed = {
        k: {name: _fixed_levels(name) if k == "m" else [] for name in comparisons()} for k in kinds
    }
    iteration = 0
    for iteration in range(1, cfg.em_max_iterations + 1):  # noqa: B007 - reported below
        post = _responsibilities(current, rows, strata, share, kinds)
        weight = post * counts[:, None]
        share = (weight.sum(axis=0) + 1.0) / (counts.sum() + len(kinds))
        change = 0.0
        new: dict[str, dict[str, np.ndarray]] = {}
        for k_i, kind in enumerate(kinds):
            new[kind] = {}
            for j, name in enumerate(comparisons()):
                old = current[kind][name]
                if kind == "m" and name in cfg.m_fixed:
                    new[kind][name] = old
                    continue
                known = rows[:, j] > 0
                if name == "nik":
                    t = np.ones_like(old)
                    for s in (0, 1):
                        sel = known & (strata == s)
                        c = np.bincount(
                            rows[sel, j], weights=weight[sel, k_i], minlength=old.shape[1]
                        )
                        c = c[1:] + prior[kind] * start[kind][name][s, 1:]
                        t[s, 1:] = _with_fixed(c, start[kind][name][s], fixed[kind][name])
                else:
                    c = np.bincount(rows[known, j], weights=weight[known, k_i], minlength=old.size)
                    c = c[1:] + prior[kind] * start[kind][name][1:]
                    t = np.concatenate(
                        [[1.0], _with_fixed(c, start[kind][name], fixed[kind][name])]
                    )
                change = max(change, float(np.abs(t - old).max()))
                new[kind][name] = t
        current = new
        if change < cfg.em_tolerance:
            break
    post = _responsibilities(current, rows, strata, share, kinds)
    found = (post * counts[:, None]).sum(axis=0)
    expected = {
        "m": float(found[0]),
        "twins": max(float(found[1]), default_expected["twins"] * 0.1),
        "family": default_expected["family"],
    }
    info.update(
        ran=True,
        iterations=iteration,
        converged=change < cfg.em_tolerance,
        candidate_shares={k: round(float(s), 5) for k, s in zip(kinds, share, strict=True)},
    )
    return {k: current[k] for k in ("m", "twins", "family")}, expected, info


def _fixed_levels(comparison: str) -> list[int]:
    """Level indices of ``comparison`` whose m the EM keeps (``m_fixed`` of the data file)."""
    names = level_names(comparison)
    return [
        names.index(entry.split(".", 1)[1])
        for entry in spec().model.m_fixed
        if entry.startswith(f"{comparison}.")
    ]


def _with_fixed(counts: np.ndarray, start: np.ndarray, fixed: list[int]) -> np.ndarray:
    """Probabilities over levels 1.. from EM counts, the ``fixed`` levels (indices into the
    full table, 0 = unknown) kept at their ``start`` values and the rest sharing what is left."""
    floor = spec().model.floor
    p = counts / counts.sum()
    if fixed:
        keep = np.array(fixed) - 1
        free = np.ones(p.size, dtype=bool)
        free[keep] = False
        p = p.copy()
        p[free] = p[free] / p[free].sum() * (1.0 - start[1:][keep].sum())
        p[keep] = start[1:][keep]
    return np.maximum(p, floor)


def _responsibilities(
    tables: dict[str, dict[str, np.ndarray]],
    rows: np.ndarray,
    strata: np.ndarray,
    share: np.ndarray,
    kinds: tuple[str, ...],
) -> np.ndarray:
    logl = np.stack(
        [
            _log_tables(tables[k], rows, strata).sum(axis=1) + np.log2(share[i])
            for i, k in enumerate(kinds)
        ],
        axis=1,
    )
    logl -= logl.max(axis=1, keepdims=True)
    p = np.exp2(logl)
    return p / p.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- scoring


def _tf_adjustments(model: Model, pairs: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """log2 factors turning the u of an exact name / an exact birth date into that value's
    own frequency (0 where the level is not one of those)."""
    u = model.tables["u"]
    name_exact = _index("name", "exact")
    birth_levels = [_index("birth_date", "same"), _index("birth_date", "nik_typo")]
    names = (
        pairs.select(name_n="a_name_n")
        .join(model.tf_name, on="name_n", how="left", maintain_order="left")["tf"]
        .to_numpy()
    )
    births = (
        pairs.select(birth_date="a_birth_date")
        .join(model.tf_birth, on="birth_date", how="left", maintain_order="left")["tf"]
        .to_numpy()
    )
    lv_name = pairs["lv_name"].to_numpy()
    lv_birth = pairs["lv_birth_date"].to_numpy()
    name_adj = np.where(
        (lv_name == name_exact) & ~np.isnan(names),
        np.log2(np.maximum(np.nan_to_num(names, nan=1.0), 1e-12) / u["name"][name_exact]),
        0.0,
    )
    same = u["birth_date"][birth_levels[0]]
    birth_adj = np.where(
        np.isin(lv_birth, birth_levels) & ~np.isnan(births),
        np.log2(np.maximum(np.nan_to_num(births, nan=1.0), 1e-12) / same),
        0.0,
    )
    return name_adj, birth_adj


def score(model: Model, pairs: pl.DataFrame) -> pl.DataFrame:
    """``score`` (100 x P(same person)), ``match_weight`` (log2 odds of same person against
    unrelated people, prior included), ``w_<comparison>`` (log2 m/u, null when unknown),
    ``tf_name``/``tf_birth`` (the term-frequency part of those weights), ``p_twins``,
    ``p_family`` (the other explanations' probabilities)."""
    names = comparisons()
    levels = level_matrix(pairs)
    stratum = pairs["stratum"].to_numpy().astype(np.int64)
    logs = {k: _log_tables(model.tables[k], levels, stratum) for k in CLASSES}
    name_adj, birth_adj = _tf_adjustments(model, pairs)
    logs["u"][:, names.index("name")] += name_adj
    logs["u"][:, names.index("birth_date")] += birth_adj
    lam = model.lambdas()
    total = {k: logs[k].sum(axis=1) + math.log2(lam[k]) for k in CLASSES}
    stacked = np.stack([total[k] for k in CLASSES], axis=1)
    top = stacked.max(axis=1, keepdims=True)
    p = np.exp2(stacked - top)
    p /= p.sum(axis=1, keepdims=True)
    weights = logs["m"] - logs["u"]
    prior = math.log2(lam["m"] / lam["u"])
    known = levels > 0
    return pairs.with_columns(
        score=pl.Series(np.round(100.0 * p[:, 0], 1)),
        match_weight=pl.Series(np.round(prior + weights.sum(axis=1), 2)),
        p_twins=pl.Series(np.round(p[:, 1], 4)),
        p_family=pl.Series(np.round(p[:, 2], 4)),
        tf_name=pl.Series(np.round(-name_adj, 2)),
        tf_birth=pl.Series(np.round(-birth_adj, 2)),
        **{
            f"w_{c}": pl.Series(np.where(known[:, j], np.round(weights[:, j], 2), np.nan)).fill_nan(
                None
            )
            for j, c in enumerate(names)
        },
    )


def evidence(model: Model, scored: pl.DataFrame) -> pl.Series:
    """Per pair, the waterfall: the prior, then each comparison with its level, m, u (term
    frequency applied) and weight; unknown comparisons are left out. Built long (one row per
    pair and comparison) and gathered into lists once."""
    lam = model.lambdas()
    n = scored.height
    stratum = scored["stratum"].to_numpy().astype(np.int64)
    pair = np.arange(n)
    parts = [
        pl.DataFrame(
            {
                "i": pair,
                "k": np.zeros(n, dtype=np.int64),
                "comparison": ["prior"] * n,
                "level": pl.Series([None] * n, dtype=pl.Utf8),
                "weight": np.full(n, round(math.log2(lam["m"] / lam["u"]), 2)),
                "m": np.full(n, lam["m"]),
                "u": np.full(n, lam["u"]),
            }
        )
    ]
    tf = {"name": scored["tf_name"].to_numpy(), "birth_date": scored["tf_birth"].to_numpy()}
    for k, name in enumerate(comparisons(), start=1):
        lv = scored[f"lv_{name}"].to_numpy().astype(np.int64)
        m_t, u_t = model.tables["m"][name], model.tables["u"][name]
        m = m_t[stratum, lv] if name == "nik" else m_t[lv]
        u = (u_t[stratum, lv] if name == "nik" else u_t[lv]) * np.exp2(-tf.get(name, 0.0))
        known = lv > 0
        parts.append(
            pl.DataFrame(
                {
                    "i": pair[known],
                    "k": np.full(known.sum(), k),
                    "comparison": [name] * int(known.sum()),
                    "level": pl.Series(level_names(name)).gather(lv[known]),
                    "weight": scored[f"w_{name}"].to_numpy()[known],
                    "m": m[known],
                    "u": u[known],
                }
            )
        )
    long = pl.concat(parts).sort("i", "k")
    lists = long.group_by("i", maintain_order=True).agg(
        evidence=pl.struct("comparison", "level", "weight", "m", "u")
    )
    return lists["evidence"]


def strength_key(weights: pl.Expr) -> pl.Expr:
    """Index into ``[[strength]]`` of the data file for a weight (log2 m/u)."""
    bands = spec().strength
    expr = pl.when(weights.is_not_null()).then(pl.lit(len(bands) - 1))
    for i in reversed(range(len(bands) - 1)):
        expr = pl.when(weights >= bands[i].from_).then(pl.lit(i)).otherwise(expr)
    return expr
