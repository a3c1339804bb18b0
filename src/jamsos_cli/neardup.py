"""Likely duplicates: the same person entered twice with a different NIK.

Exact NIK duplicates are found elsewhere (``duplicates.py``). The costly half is the person
typed twice with a NIK that differs: one digit mistyped, two neighbouring digits swapped, the
16th digit lost in a numeric Excel cell, a name spelled "MUHAMMAD" on one list and "MUH." on
another. ``find_near_duplicates`` finds those pairs across every roster of a run and against
people the ledger already holds, scores them 0..100 and says why.

How (the work grows about linearly with the rows, never with their square):

1. **Blocking.** Candidate pairs are records sharing a block key; blocks larger than
   ``max_block`` are skipped (degenerate keys such as a NIK typed as all ones):
   - the NIK with one digit masked, for each digit outside the DDMMYY part (a substitution;
     Excel truncation is a change of the last digit);
   - the NIK with two neighbouring digits put in order (a transposition);
   - the NIK without its DDMMYY part + the roster birth date (any typo in the date part);
   - a NIK one digit short or long, with every digit put back or taken out (``_length_pairs``);
   - roster birth date + phone; roster birth date + normalised name; phone + normalised name
     (a birth date mistyped along with the NIK's date part);
   - NIK pairs a clerk already decided (``decisions``).
   Almost every record has no partner, so each blocking first keeps only the records that
   may share its key with another: the hashed key sorted with the row position, equal
   neighbours kept (a sort, no join). The 21 NIK variants come in nine families, each keyed
   by the digits all its variants leave intact (a variant's block lies inside one family
   group, so ``max_block`` counts whole blocks): six sorts over all records (the four
   families of the region digits share one, then each sorts that one's survivors), then
   the variant keys are counted and joined among the few records left. Names are normalised
   once per distinct name; only integer keys are joined to every record.
   A pair is then kept only if it shares the birth date, the phone or the normalised name,
   and the names share their first or last word (in either order) or their first or last
   three letters (one typo leaves one of these intact, but in a short name; then the birth
   date and the phone must both be the same). This cheap integer filter drops the many real
   NIKs one digit apart (serials 0001/0002 of one birth date and kecamatan) before any
   string comparison; the wide identity columns are gathered only for the pairs it keeps.
2. **Scoring** (``linkage``): every kept pair is compared (NIK, birth date, name after
   Indonesian normalisation - ``names.normalise_name``, the one name identity,
   ``schemas/names.toml`` -, father's name after bin/binti, phone, address and kelurahan,
   sex) and scored by a Fellegi-Sunter model fitted to the run: ``score`` is 100 x the
   probability that the two records are one person. Reasons, weights and the evidence
   waterfall are built only for the pairs reported (their words: ``render.reasons``).

Defaults: ``min_score = 70`` (a pair is reported from a probability of 0.7), ``hold_score = 90``
(from 0.9 the later record is held until the pair is decided: ``near_duplicate_checks``),
``max_block = 200``. The model's parameters are ``schemas/neardup.toml``; the
words a clerk reads, the text catalogue's ``reason.*`` and ``strength.*``.

Measured: ``benchmarks/bench_linkage.py`` (precision and recall per error class, side by side
with the points this replaced and with splink; figures in benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from jamsos_cli import names

if TYPE_CHECKING:
    from jamsos_cli.linkage import Model

# The finding codes this step emits (likely the same person with another NIK):
# tests/test_house.py holds each step to its list, and all the lists to codes.toml.
EMITS = frozenset(
    {
        "NEAR_DUPLICATE",
        "NEAR_DUPLICATE_HELD",
    }
)

DEFAULT_MIN_SCORE = 70.0
# A pair from this score is held until decided (NEAR_DUPLICATE_HELD): 100 x a probability of
# 0.9 that the two records are one person (issue 11; config ``hold_score``, ``--hold-score``).
DEFAULT_HOLD_SCORE = 90.0
DEFAULT_MAX_BLOCK = 200

PAIR_SCHEMA: dict[str, pl.DataType] = {
    "a_rid": pl.Int64,
    "b_rid": pl.Int64,
    "b_ref": pl.Utf8,
    "a_nik": pl.Utf8,
    "b_nik": pl.Utf8,
    "score": pl.Float64,
    "reasons": pl.List(pl.Utf8),
    "weights": pl.List(pl.Float64),
    "match_weight": pl.Float64,
    "p_twins": pl.Float64,
    "p_family": pl.Float64,
    "evidence": pl.List(
        pl.Struct(
            {
                "comparison": pl.Utf8,
                "level": pl.Utf8,
                "weight": pl.Float64,
                "m": pl.Float64,
                "u": pl.Float64,
            }
        )
    ),
    "decision": pl.Utf8,
}

# Identity columns read from records / known, with their types (absent ones become null).
IDENTITY: dict[str, pl.DataType] = {
    "nik": pl.Utf8,
    "name": pl.Utf8,
    "birth_date": pl.Date,
    "sex": pl.Utf8,
    "phone": pl.Utf8,
    "address": pl.Utf8,
    "kelurahan": pl.Utf8,
    "nik_numeric": pl.Boolean,
}


# --------------------------------------------------------------------------- identity frame


def _identity(frame: pl.DataFrame, rid: pl.Expr, ref: pl.Expr) -> pl.LazyFrame:
    """The identity columns the engine compares, as typed (absent ones null). Trimmed later
    (``_trim``): the few the blocking reads for every record, the rest only for candidates."""
    names = frame.columns
    cols = [
        (pl.col(c).cast(t) if c in names else pl.lit(None, t)).alias(c) for c, t in IDENTITY.items()
    ]
    return frame.lazy().select(
        rid.cast(pl.Int64).alias("_rid"), ref.cast(pl.Utf8).alias("ref"), *cols
    )


def _trim(columns: list[str]) -> list[pl.Expr]:
    """Text trimmed, empty text as null."""
    return [pl.col(c).str.strip_chars().replace("", None) for c in columns]


def _everyone(records: pl.DataFrame, known: pl.DataFrame | None) -> pl.LazyFrame:
    """Run records (their own rids) and known people (rids -1, -2, ...) in one frame."""
    parts = [_identity(records, pl.col("_rid"), pl.lit(None, pl.Utf8))]
    if known is not None and known.height:
        ref = pl.col("ref") if "ref" in known.columns else pl.lit("ledger", pl.Utf8)
        parts.append(_identity(known, -(pl.int_range(pl.len(), dtype=pl.Int64) + 1), ref))
    return pl.concat(parts)


def _name_table(everyone: pl.LazyFrame) -> pl.LazyFrame:
    """Per distinct name as typed (``_typed``, hashed in ``_h``): the normalised name, the
    father's name (the one name identity, ``names``), an exact integer id of the normalised
    name (blocking on birth date + name) and cheap keys for the pre-filter (null when nothing
    is left after trimming). Names repeat a lot (tens of thousands for a million records):
    the regexes run once per name, never per record."""
    clean = names.clean_name(pl.col("name"))
    name_n = pl.col("name_n")

    def key(expr: pl.Expr) -> pl.Expr:
        return pl.when(pl.col("name").is_not_null()).then(expr.hash())

    return (
        everyone.select(_typed="name")
        .unique()
        .with_columns(_trim(["_typed"])[0].alias("name"), _h=pl.col("_typed").hash())
        .with_columns(_clean=clean)
        .with_columns(
            name_n=names.given_name(pl.col("_clean")),
            father=names.father_of(pl.col("_clean")),
        )
        .with_columns(
            _nid=name_n.rank("dense"),  # null for a name that normalises to nothing
            # one typo leaves the first or the last word, or the first or last 3 letters, intact
            _nf=key(name_n.str.extract(r"^(\S+)", 1)),
            _nl=key(name_n.str.extract(r"(\S+)$", 1)),
            _np=key(name_n.str.slice(0, 3)),
            _ns=key(name_n.str.slice(-3)),
            _nh=key(name_n),
        )
        .drop("_clean", "name")
    )


def _record_keys(everyone: pl.LazyFrame) -> pl.DataFrame:
    """Integer keys of every record for the blocking and the pre-filter, plus the trimmed NIK
    and phone and the name as typed. Narrow on purpose: the wide identity columns are gathered
    only for the records of candidate pairs (``_pair_side``)."""
    nik, bd = pl.col("nik"), pl.col("birth_date")
    valid = nik.str.contains(r"^\d{16}$")
    return (
        everyone.select("_rid", "birth_date", "name", "nik_numeric", *_trim(["nik", "phone"]))
        .with_columns(
            nik_int=pl.when(valid).then(nik.cast(pl.Int64, strict=False)),
            _dob=bd.cast(pl.Int32).fill_null(-1_000_000),
            _ph=pl.when(pl.col("phone").is_not_null()).then(pl.col("phone").hash()),
            _nk=nik.hash(),
            _h=pl.col("name").hash(),
        )
        .collect()
    )


_NAME_KEYS = ["_nid", "_nh", "_nf", "_nl", "_np", "_ns"]


def _people(keys: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """The integer keys of each record with its name keys (no text: cheap to join and gather).
    Joined on the hash of the typed name (an integer join, several times faster than on the
    text), unless two distinct names share a hash (then on the text). In no set order (a
    join's): what needs the records' order reads ``_record_keys``."""
    exact = names.get_column("_h").n_unique() == names.height
    on = "_h" if exact else "name"
    table = names.lazy().select(pl.col("_h" if exact else "_typed").alias(on), *_NAME_KEYS)
    numbers = keys.lazy().select("_rid", "birth_date", "nik_int", "_dob", "_ph", "_nk", on)
    return numbers.join(table, on=on, how="left").drop(on).collect()


def _words_rewritten(expr: pl.Expr, rules: list[list[str]]) -> pl.Expr:
    """Upper case, punctuation as spaces, whole words rewritten (``rules``: [word, new]) in one
    Aho-Corasick pass over the text padded with spaces."""
    e = expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", " ")
    e = pl.concat_str(pl.lit(" "), e, pl.lit(" ")).str.replace_many(
        [f" {word} " for word, _ in rules], [f" {new} " if new else " " for _, new in rules]
    )
    return e.str.replace_all(r"\s+", " ").str.strip_chars()


def _pair_columns(side: pl.LazyFrame) -> pl.LazyFrame:
    """Columns only the comparisons read: computed for the records of candidate (and sampled)
    pairs, a few percent of the rows, rather than for every record (the address regexes alone
    cost more than the whole blocking at a million rows). Addresses and kelurahan are written
    one way first (``[address]``, ``[kelurahan]`` of ``schemas/neardup.toml``)."""
    from jamsos_cli.linkage import spec

    rules = spec()
    return side.with_columns(
        addr_n=_words_rewritten(pl.col("address"), rules.address["words"]).replace("", None),
        kel_n=_words_rewritten(pl.col("kelurahan"), rules.kelurahan["words"])
        .str.replace_all(" ", "", literal=True)
        .replace("", None),
    )


def _pair_side(everyone: pl.LazyFrame, names: pl.DataFrame, ids: pl.LazyFrame) -> pl.LazyFrame:
    """The full identity of the records in candidate pairs (``ids``), trimmed, with the name
    and scoring columns."""
    text = [c for c, t in IDENTITY.items() if t == pl.Utf8]
    table = names.lazy().select("_typed", "name_n", "father")
    side = (
        everyone.join(ids, on="_rid", how="semi")
        .join(table, left_on="name", right_on="_typed", how="left")
        .with_columns(_trim(text))
    )
    return _pair_columns(side)


# --------------------------------------------------------------------------- blocking


def _pairs_in_blocks(frame: pl.LazyFrame, keys: list[str], max_block: int) -> pl.LazyFrame:
    """(l, r) with l < r for every two records sharing ``keys``; r is always a run record."""
    keyed = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys)).filter(
        pl.len().over(keys).is_between(2, max_block)
    )
    return (
        keyed.join(keyed, on=keys, suffix="_r")
        .filter(pl.col("_rid") < pl.col("_rid_r"), pl.col("_rid_r") >= 0)
        .select(pl.col("_rid").alias("l"), pl.col("_rid_r").alias("r"))
    )


_HIGH = pl.lit(2**32, pl.UInt64)


def _repeated(frame: pl.DataFrame, key: pl.Expr) -> pl.LazyFrame:
    """Positions (``_i``) of the rows of ``frame`` whose ``key`` (null: none) another row may
    share.

    Almost every record has no partner: the key's hash (high 32 bits) and the row position
    (low 32 bits) packed in one integer and sorted put equal keys side by side, so comparing
    neighbours finds them with no hash table and no join back (at a million rows faster than
    a window count, ``is_duplicated`` or group_by + semi-join). A hash collision only keeps a
    row more: the exact blocking follows."""
    hashed = pl.col("_p") // _HIGH
    return (
        frame.lazy()
        .with_row_index("_i")
        .filter(key.is_not_null())
        .select(_p=key.hash() // _HIGH * _HIGH + pl.col("_i").cast(pl.UInt64))
        .sort("_p")
        .filter((hashed == hashed.shift(1)) | (hashed == hashed.shift(-1)))
        .select(_i=pl.col("_p") % _HIGH)
    )


def _rows(frame: pl.DataFrame, positions: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` at ``positions`` (``_repeated``)."""
    return frame[positions.get_column("_i")]


def _keyed(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The rows (rid and ``keys``) where every one of ``keys`` is known."""
    return frame.select("_rid", *keys).filter(
        pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
    )


_NIK = pl.col("nik_int")
_ANY = pl.lit(True)
_Variant = tuple[pl.Expr, pl.Expr]  # key, rows it applies to
_Family = tuple[pl.Expr | None, list[_Variant]]  # family key (None: its group's), variants


def _digit(p: int) -> pl.Expr:
    return _NIK // 10 ** (15 - p) % 10


def _masked(p: int) -> _Variant:
    """Key of a substitution at digit ``p`` (0-based): the NIK with that digit zeroed."""
    return _NIK - _digit(p) * 10 ** (15 - p), _ANY


def _swapped(p: int) -> _Variant:
    """Key of a transposition of digits p, p+1: the two put in order (rows where they differ).
    Swapping d1 > d2 takes (d1 - d2) x (w1 - w2) off the NIK; digits in order stay."""
    w1, w2 = 10 ** (15 - p), 10 ** (14 - p)
    d1, d2 = _digit(p), _digit(p + 1)
    return _NIK - (d1 - d2).clip(lower_bound=0) * (w1 - w2), d1 != d2


def _date_free() -> _Variant:
    """Key of a typo confined to the date part: region + serial (< 10**10) + roster birth date.
    Two real people sharing kecamatan, serial and roster birth date have the same NIK."""
    region_serial = _NIK // 10**10 * 10**4 + _NIK % 10**4
    dated = pl.col("_dob") > -1_000_000
    return pl.when(dated).then(region_serial * 2**17 + pl.col("_dob") + 60_000), dated


def _nik_families() -> list[tuple[pl.Expr, list[_Family]]]:
    """The NIK variants (key, rows it applies to), grouped under a family key: digits every
    key of the family leaves intact, so two records sharing a variant key share the family
    key. One sort of the family key discards the records without a partner before the
    variant keys are counted and joined, and a variant's block keeps its full size (all its
    records share the family key), so ``max_block`` applies as before.

    Families come in groups ``(group key, [(family key, variants)])``: the group key (digits
    every family of the group leaves intact) is sorted over every record, each family key
    only over the group's survivors (a family key None: the group key itself). The variants
    of the region digits 1-7 share only digits 8-16 (a 9-digit key that many strangers share
    at ten million people: a third of them survive it); split into families that keep 13 or
    14 digits, about 1% survives (mostly NIKs typed twice alike, which every key keeps) and
    the twelve variant joins run on those.

    The variants: one digit masked, for each digit outside the DDMMYY part (a substitution;
    Excel truncation is a change of the last digit); two neighbouring digits put in order,
    for each pair not inside the date part (a transposition); the NIK without its date part
    plus the roster birth date (any typo in the date part). Keys are Int64 (< 10**16).
    """

    def alone(variant: _Variant) -> tuple[pl.Expr, list[_Family]]:
        return variant[0], [(None, [variant])]

    return [
        # region digits 1-6 and the region|day boundary: digits 8-16 kept by all
        (
            _NIK % 10**9,
            [
                # province and regency digits 1-3: digits 4-16 kept
                (_NIK % 10**13, [_masked(p) for p in range(3)] + [_swapped(0), _swapped(1)]),
                # kecamatan digits 4-6: digits 1-3 and 7-16 kept
                (
                    _NIK // 10**13 * 10**10 + _NIK % 10**10,
                    [_masked(p) for p in range(3, 6)] + [_swapped(3), _swapped(4)],
                ),
                # the 3|4 and 6|7 transpositions: their own key is the family
                *[(key, [(key, keep)]) for key, keep in [_swapped(2), _swapped(5)]],
            ],
        ),
        # the last two serial digits: digits 1-14 kept
        (_NIK // 100, [(None, [_masked(14), _masked(15), _swapped(14)])]),
        # the first two serial digits: digits 1-12 and 15-16 kept
        (_NIK // 10**4 * 100 + _NIK % 100, [(None, [_masked(12), _masked(13), _swapped(12)])]),
        # the two other transpositions and the date part: their own key is the family
        *[alone(variant) for variant in [_swapped(13), _swapped(11), _date_free()]],
    ]


def _family_rows(
    groups: list[tuple[pl.Expr, list[_Family]]], survivors: list[pl.DataFrame]
) -> list[pl.DataFrame]:
    """The records of each family that may share its key with another: among the survivors
    of its group's sort (``survivors``), sorted again on the family key when it has one."""
    own = [
        (rows, family)
        for rows, (_, families) in zip(survivors, groups, strict=True)
        for family, _ in families
        if family is not None
    ]
    positions = iter(pl.collect_all([_repeated(rows, family) for rows, family in own]))
    return [
        rows if family is None else _rows(rows, next(positions))
        for rows, (_, families) in zip(survivors, groups, strict=True)
        for family, _ in families
    ]


def _nik_pairs(
    families: list[_Family], survivors: list[pl.DataFrame], max_block: int
) -> list[pl.LazyFrame]:
    """Pairs of records whose NIKs are one substitution or one transposition apart, or differ
    only in the date part with one roster birth date: each variant of a family blocked among
    the records that may share the family key with another (``survivors``)."""
    return [
        _pairs_in_blocks(rows.lazy().filter(keep).select("_rid", key=key), ["key"], max_block)
        for rows, (_, variants) in zip(survivors, families, strict=True)
        for key, keep in variants
    ]


def _length_pairs(keys: pl.DataFrame) -> pl.LazyFrame:
    """Pairs of a 15- or 17-digit NIK (a digit left out, or one typed twice) with the valid
    NIK it becomes when a digit is put back or taken out. Such NIKs are rare: every insertion
    (16 places x 10 digits) or deletion of theirs is looked up among the valid NIKs."""
    nik = pl.col("nik")
    odd = keys.lazy().filter(nik.str.contains(r"^(?:\d{15}|\d{17})$")).select("_rid", "nik")
    places = pl.LazyFrame({"_p": list(range(17))}, schema={"_p": pl.Int64})
    digits = pl.LazyFrame({"_d": [str(d) for d in range(10)]})
    short = nik.str.len_chars() == 15
    inserted = (
        odd.filter(short)
        .join(places.filter(pl.col("_p") <= 15), how="cross")
        .join(digits, how="cross")
        .select("_rid", key=pl.concat_str(nik.str.slice(0, "_p"), "_d", nik.str.slice("_p")))
    )
    deleted = (
        odd.filter(~short)
        .join(places, how="cross")
        .select("_rid", key=pl.concat_str(nik.str.slice(0, "_p"), nik.str.slice(pl.col("_p") + 1)))
    )
    valid = keys.lazy().filter(_NIK.is_not_null()).select(_other="_rid", key=_NIK)
    return (
        pl.concat([inserted, deleted])
        .with_columns(pl.col("key").cast(pl.Int64, strict=False))
        .join(valid, on="key")
        .select(l=pl.min_horizontal("_rid", "_other"), r=pl.max_horizontal("_rid", "_other"))
        .filter(pl.col("r") >= 0, pl.col("l") != pl.col("r"))
        .unique()
    )


def _decided_pairs(keys: pl.DataFrame, decisions: pl.DataFrame | None) -> pl.LazyFrame:
    """Record pairs carrying a NIK pair a clerk already decided (so a decision always applies)."""
    if decisions is None or decisions.height == 0:
        return pl.LazyFrame(schema={"l": pl.Int64, "r": pl.Int64})
    d = _decision_keys(decisions).lazy().select("lo", "hi")
    ids = keys.lazy().select("_rid", "nik")
    return (
        d.join(ids, left_on="lo", right_on="nik")
        .join(ids, left_on="hi", right_on="nik", suffix="_h")
        .select(
            l=pl.min_horizontal("_rid", "_rid_h"),
            r=pl.max_horizontal("_rid", "_rid_h"),
        )
        .filter(pl.col("r") >= 0, pl.col("l") != pl.col("r"))
    )


_BY_PHONE = ["birth_date", "phone"]
_BY_NAME = ["birth_date", "_nid"]  # _nid: the normalised name
_BY_PHONE_NAME = ["_ph", "_nid"]  # a birth date typed wrong along with the NIK's date part
_NARROW = ["_dob", "_ph", "_nk", "_nh", "_nf", "_nl", "_np", "_ns"]


def _blocking(
    everyone: pl.LazyFrame, decisions: pl.DataFrame | None, max_block: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.LazyFrame]:
    """Every record's keys (``_record_keys``, ``_people``), the name table and the blocked
    pairs (l, r, decided).

    Each blocking first keeps the records that may share its key with another (``_repeated``:
    a sort, no join), then joins those few exactly; independent steps are collected together
    so Polars runs them in parallel."""
    keys = _record_keys(everyone)
    nik = keys.select("_rid", "_dob", "nik_int").filter(_NIK.is_not_null())
    phone = _keyed(keys, _BY_PHONE)
    groups = _nik_families()
    names, by_phone, *positions = pl.collect_all(
        [
            _name_table(everyone),
            _repeated(phone, pl.struct(_BY_PHONE)),
            *(_repeated(nik, group) for group, _ in groups),
        ]
    )
    families = [family for _, group in groups for family in group]
    survivors = _family_rows(groups, [_rows(nik, p) for p in positions])
    people = _people(keys, names)
    named = _keyed(people, _BY_NAME)
    called = _keyed(people, _BY_PHONE_NAME)
    by_name, by_phone_name = pl.collect_all(
        [_repeated(named, pl.struct(_BY_NAME)), _repeated(called, pl.struct(_BY_PHONE_NAME))]
    )
    blocks = pl.collect_all(
        [
            *_nik_pairs(families, survivors, max_block),
            _pairs_in_blocks(_rows(phone, by_phone).lazy(), _BY_PHONE, max_block),
            _pairs_in_blocks(_rows(named, by_name).lazy(), _BY_NAME, max_block),
            _pairs_in_blocks(_rows(called, by_phone_name).lazy(), _BY_PHONE_NAME, max_block),
            _length_pairs(keys),
        ]
    )
    # not deduplicated here: the pre-filter drops most pairs first (``_worth_scoring``)
    pairs = pl.concat(
        [pl.concat(blocks).lazy().with_columns(decided=pl.lit(False))]
        + [_decided_pairs(keys, decisions).with_columns(decided=pl.lit(True))]
    )
    return keys, people, names, pairs


def _worth_scoring(pairs: pl.LazyFrame, people: pl.DataFrame) -> pl.LazyFrame:
    """The pairs worth scoring, oriented (a, b), each once: a cheap pre-filter on integer keys
    before any wide join (decided pairs always pass)."""
    narrow = people.lazy().select("_rid", *_NARROW)
    a = narrow.select(pl.all().name.suffix("_a"))
    b = narrow.select(pl.all().name.suffix("_b"))

    def eq(k: str) -> pl.Expr:
        return (pl.col(f"{k}_a") == pl.col(f"{k}_b")).fill_null(False)

    birth = eq("_dob") | (pl.col("_dob_a") < -999_999) | (pl.col("_dob_b") < -999_999)

    def crossed(a: str, b: str) -> pl.Expr:  # names in another order
        return (pl.col(f"{a}_a") == pl.col(f"{b}_b")).fill_null(False)

    name = eq("_nf") | eq("_nl") | eq("_np") | eq("_ns") | crossed("_nf", "_nl")
    name = name | crossed("_nl", "_nf")
    # a short name with a typo in the middle shares none of the name keys: the same birth
    # date and phone are enough then
    worth = pl.col("decided") | (
        ~eq("_nk") & (((birth | eq("_ph") | eq("_nh")) & name) | (eq("_dob") & eq("_ph")))
    )
    pairs = pairs.collect()
    position = _positions(people.get_column("_rid"))
    if position is None:  # sparse record ids: by joins
        sides = pairs.lazy().join(a, left_on="l", right_on="_rid_a")
        sides = sides.join(b, left_on="r", right_on="_rid_b").collect()
    else:  # millions of pairs: gathered by position, several times faster than two joins
        offset, index = position
        narrow_rows = people.select(*_NARROW)
        sides = pl.concat(
            [
                pairs,
                narrow_rows[index[pairs["l"].to_numpy() - offset]].select(
                    pl.all().name.suffix("_a")
                ),
                narrow_rows[index[pairs["r"].to_numpy() - offset]].select(
                    pl.all().name.suffix("_b")
                ),
            ],
            how="horizontal",
        )
    return (
        sides.lazy()
        .filter(worth)
        .select(
            a=pl.when(pl.col("l") < 0).then("r").otherwise("l"),
            b=pl.when(pl.col("l") < 0).then("l").otherwise("r"),
        )
        .unique()  # one pair found by several blockings
    )


def _positions(rids: pl.Series) -> tuple[int, np.ndarray] | None:
    """(lowest id, row of each id from it): record ids are dense (run records 0.., known
    people -1, -2, ...), so a lookup array replaces a join; None when they are not."""
    if rids.len() == 0:
        return None
    low, high = int(rids.min()), int(rids.max())
    if high - low + 1 > 4 * rids.len():
        return None
    index = np.full(high - low + 1, -1, dtype=np.int64)
    index[rids.to_numpy() - low] = np.arange(rids.len())
    return low, index


@dataclass
class _Blocked:
    """What the blocking leaves: the candidate pairs with both sides' identity, and what the
    model's u needs (every record's keys, the name table)."""

    candidates: pl.DataFrame
    people: pl.DataFrame
    names: pl.DataFrame
    keys: pl.DataFrame


def _sides(kept: pl.LazyFrame, everyone: pl.LazyFrame, names: pl.DataFrame) -> pl.LazyFrame:
    """Pairs (a, b) of record ids with both sides' identity columns (``a_``, ``b_``)."""
    ids = pl.concat([kept.select(_rid="a"), kept.select(_rid="b")]).unique()
    side = _pair_side(everyone, names, ids)
    joined = kept.join(side.select(pl.all().name.prefix("a_")), left_on="a", right_on="a__rid")
    return joined.join(side.select(pl.all().name.prefix("b_")), left_on="b", right_on="b__rid")


def _candidates(everyone: pl.LazyFrame, decisions: pl.DataFrame | None, max_block: int) -> _Blocked:
    """Candidate pairs, oriented (a = run record, earlier; b = later or known), with both sides'
    identity columns, already cut down to those worth scoring."""
    keys, people, names, pairs = _blocking(everyone, decisions, max_block)
    kept = _worth_scoring(pairs, people).collect().lazy()
    candidates = (
        _sides(kept, everyone, names)
        .filter(
            pl.col("a_nik").is_not_null(),
            pl.col("b_nik").is_not_null(),
            pl.col("a_nik") != pl.col("b_nik"),
        )
        .sort("a", "b")
        .collect()
    )
    return _Blocked(candidates, people, names, keys)


# --------------------------------------------------------------------------- the model's u

_SEED = 14  # random pairs for u: a fixed seed, so one roster always gets the same scores


def _random_pairs(everyone: pl.LazyFrame, blocked: _Blocked) -> pl.DataFrame:
    """Random pairs of the run's records (``u_sample_pairs`` among ``u_sample_records``
    sampled records), compared: what unrelated people look like in this run."""
    from jamsos_cli.linkage import compare, spec

    cfg = spec().model
    # the records' own order (``keys``; ``people`` comes out of a join in no set order): a
    # fixed seed then draws the same pairs, so one roster always gets the same scores
    rids = blocked.keys.get_column("_rid")
    if rids.len() < cfg.u_min_records:  # the shipped u (``estimate_u`` of no pairs)
        return compare(blocked.candidates.clear())
    rng = np.random.default_rng(_SEED)
    sample = rids.sample(min(rids.len(), cfg.u_sample_records), seed=_SEED).sort()
    s = sample.len()
    n = min(cfg.u_sample_pairs, s * (s - 1) // 2)
    i = rng.integers(0, s, n)
    j = rng.integers(0, s, n)
    keep = i != j
    kept = pl.LazyFrame({"a": sample.gather(i[keep]), "b": sample.gather(j[keep])})
    return compare(_sides(kept, everyone, blocked.names).collect())


def _same_date_niks(keys: pl.DataFrame) -> np.ndarray:
    """nik levels of random pairs whose NIKs carry one date (sex set aside): neighbours after
    sorting the valid NIKs by their date and a random key (integers until the pairs are
    chosen; their texts only for those)."""
    from jamsos_cli.linkage import nik_levels, spec

    limit = spec().model.u_sample_pairs
    if keys.height < spec().model.u_min_records:
        return np.zeros(0, dtype=np.int8)
    day = _NIK // 10**8 % 100  # digits 7-8; then MMYY
    date = pl.when(day > 40).then(day - 40).otherwise(day) * 10_000 + _NIK // 10**4 % 10_000
    rows = keys.select(_NIK).with_row_index("_i").filter(_NIK.is_not_null())
    if rows.height > 4 * limit:  # a sample still holds pairs enough in every date
        rows = rows.sample(4 * limit, seed=_SEED)
    ordered = (
        rows.lazy()
        .select("_i", _date=date, _u=pl.col("_i").hash(_SEED))
        .sort("_date", "_u")
        .select("_i", "_date")
        .collect()
    )
    same = ordered["_date"].head(-1) == ordered["_date"].tail(-1)
    first = ordered["_i"].head(-1).filter(same)
    second = ordered["_i"].tail(-1).filter(same)
    if first.len() > limit:
        pick = pl.int_range(first.len(), eager=True).sample(limit, seed=_SEED)
        first, second = first.gather(pick), second.gather(pick)
    if first.len() == 0:
        return np.zeros(0, dtype=np.int8)
    texts = keys.select("nik", "nik_numeric")
    a, b = texts[first], texts[second]
    levels, *_ = nik_levels(a["nik"], b["nik"], a["nik_numeric"], b["nik_numeric"])
    return levels


def _value_counts(blocked: _Blocked) -> dict[str, pl.DataFrame]:
    """How many records hold each normalised name, birth date and phone (each column taken
    alone before its nulls are dropped: filtering the whole frame would copy every column)."""

    def counts(frame: pl.DataFrame, column: str) -> pl.LazyFrame:
        held = frame.lazy().select(column).filter(pl.col(column).is_not_null())
        return held.group_by(column).agg(n=pl.len())

    name_n = blocked.names.lazy().select("_nid", "name_n").unique("_nid")
    name, birth, phone = pl.collect_all(
        [
            counts(blocked.people, "_nid").join(name_n, on="_nid").select("name_n", "n"),
            counts(blocked.keys, "birth_date"),
            counts(blocked.keys, "_ph"),
        ]
    )
    return {"name": name, "birth_date": birth, "phone": phone}


def _model(everyone: pl.LazyFrame, blocked: _Blocked, compared: pl.DataFrame, n_run: int):
    """The run's model: u from random pairs (exact agreements counted over every record), m by
    EM over the candidates (``linkage.fit``), term frequencies of names and birth dates."""
    from jamsos_cli import linkage

    counts = _value_counts(blocked)
    sample = _random_pairs(everyone, blocked)
    exact = (
        {name: linkage.agreement(c["n"]) for name, c in counts.items()} if sample.height else None
    )
    u = linkage.estimate_u(sample, _same_date_niks(blocked.keys), exact)
    tables, expected, em = linkage.fit(
        linkage.level_matrix(compared), compared["stratum"].to_numpy(), u, n_run
    )
    n_known = blocked.people.filter(pl.col("_rid") < 0).height
    tf_name = linkage.term_frequencies(counts["name"], "name_n")
    tf_birth = linkage.term_frequencies(counts["birth_date"], "birth_date")
    return linkage.Model(
        tables={**tables, "u": u},
        expected=expected,
        total_pairs=n_run * (n_run - 1) / 2 + n_run * n_known,
        tf_name=tf_name,
        tf_birth=tf_birth,
        em=em,
        u_pairs=sample.height,
    )


# --------------------------------------------------------------------------- decisions


def _decision_keys(decisions: pl.DataFrame) -> pl.DataFrame:
    """Decisions keyed by the NIK pair in sorted order (order-independent)."""
    d = decisions.select(
        pl.col("nik_a").cast(pl.Utf8), pl.col("nik_b").cast(pl.Utf8), pl.col("decision")
    )
    return d.select(
        lo=pl.min_horizontal("nik_a", "nik_b"),
        hi=pl.max_horizontal("nik_a", "nik_b"),
        decision=pl.col("decision").cast(pl.Utf8),
    ).unique(subset=["lo", "hi"], keep="last", maintain_order=True)


# --------------------------------------------------------------------------- reasons of a pair


def _reason_lists() -> tuple[pl.Expr, pl.Expr]:
    """The reason keys of a scored pair and their weights (log2 m/u; null for a note), in the
    order of the comparisons, each note after the comparison it qualifies."""
    from jamsos_cli.linkage import comparisons, level_names

    c = pl.col
    items: list[pl.Expr] = []

    def item(key: pl.Expr, weight: pl.Expr | None = None) -> None:
        items.append(pl.struct(k=key, w=pl.lit(None, pl.Float64) if weight is None else weight))

    def note(condition: pl.Expr, key: str) -> None:
        item(pl.when(condition).then(pl.lit(key)))

    for name in comparisons():
        level = c(f"lv_{name}").replace_strict(
            dict(enumerate(level_names(name))), return_dtype=pl.Utf8
        )
        item(pl.when(c(f"lv_{name}") > 0).then(pl.format(f"{name}.{{}}", level)), c(f"w_{name}"))
        if name == "name":
            exact = c("lv_name") == level_names("name").index("exact")

            def typed(side: str) -> pl.Expr:
                return c(f"{side}_name").str.to_uppercase().str.replace_all(r"\s+", " ")

            note(exact & (typed("a") != typed("b")), "name_normalised")
            note(exact & (c("tf_name") >= 2), "rare_name")
            note(exact & (c("tf_name") <= -2), "common_name")
        if name == "birth_date":
            note(c("tf_birth") <= -2, "common_birth_date")
            typo = c("lv_birth_date") == level_names("birth_date").index("nik_typo")
            note(typo & ~c("a_nik_date_ok").fill_null(True), "nik_birth_date_mismatch:A")
            note(typo & ~c("b_nik_date_ok").fill_null(True), "nik_birth_date_mismatch:B")
    note(c("p_twins") >= 0.05, "maybe_twins")
    note(c("p_family") >= 0.05, "maybe_family")
    kept = pl.concat_list(items).list.eval(
        pl.element().filter(pl.element().struct.field("k").is_not_null())
    )
    return (
        kept.list.eval(pl.element().struct.field("k")),
        kept.list.eval(pl.element().struct.field("w")),
    )


# --------------------------------------------------------------------------- the engine


@dataclass
class NearResult:
    """The pairs (``PAIR_SCHEMA``) and the model that scored them (None: nothing to score)."""

    pairs: pl.DataFrame
    model: Model | None = None


def find_near_duplicates(
    records: pl.DataFrame,
    *,
    known: pl.DataFrame | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
    decisions: pl.DataFrame | None = None,
    max_block: int = DEFAULT_MAX_BLOCK,
) -> pl.DataFrame:
    """Pairs of records (or a record and a known person) that look like one person.

    ``records``: the run's records frame (``tables.RECORD_SCHEMA``; used: ``_rid``, ``nik``,
    ``name``, ``birth_date``, and when present ``sex``, ``phone``, ``address``, ``kelurahan``,
    ``nik_numeric``). ``known``: people already submitted (the ledger), same identity columns
    plus ``ref`` (e.g. "ledger batch 3"). ``decisions``: ``nik_a``, ``nik_b``, ``decision``
    ("same"/"different", see ``review.read_decisions``): "different" pairs are dropped, "same"
    pairs are always kept (whatever their score) and marked.

    Returns ``PAIR_SCHEMA``: ``a_rid`` (the earlier run record), ``b_rid`` (the later one, or
    null for a known person, then ``b_ref`` names it), both NIKs, ``score`` (100 x the
    probability that they are one person, ``linkage``), ``reasons`` (stable keys, rendered by
    ``render.reasons``) with their ``weights``, the ``match_weight``, the probabilities that
    they are twins (``p_twins``) or family (``p_family``) instead, the ``evidence`` waterfall
    and ``decision`` ("same" or null), sorted by ``a_rid``. Only pairs whose NIKs differ:
    equal NIKs are exact duplicates.
    """
    return search(
        records, known=known, min_score=min_score, decisions=decisions, max_block=max_block
    ).pairs


def search(
    records: pl.DataFrame,
    *,
    known: pl.DataFrame | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
    decisions: pl.DataFrame | None = None,
    max_block: int = DEFAULT_MAX_BLOCK,
) -> NearResult:
    """``find_near_duplicates`` with the fitted model (its parameters go into reports)."""
    from jamsos_cli.linkage import compare, evidence, score

    if records.height == 0:
        return NearResult(pl.DataFrame(schema=PAIR_SCHEMA))
    everyone = _everyone(records, known)
    blocked = _candidates(everyone, decisions, max_block)
    compared = compare(blocked.candidates)
    model = _model(everyone, blocked, compared, records.height)
    if compared.height == 0:
        return NearResult(pl.DataFrame(schema=PAIR_SCHEMA), model)
    scored = score(model, compared)
    if decisions is not None and decisions.height:
        scored = scored.join(
            _decision_keys(decisions),
            left_on=[pl.min_horizontal("a_nik", "b_nik"), pl.max_horizontal("a_nik", "b_nik")],
            right_on=["lo", "hi"],
            how="left",
        )
    else:
        scored = scored.with_columns(decision=pl.lit(None, pl.Utf8))
    decided_same = (pl.col("decision") == "same").fill_null(False)
    out = scored.filter(
        (pl.col("decision") != "different").fill_null(True),
        (pl.col("score") >= min_score) | decided_same,
    )
    reasons, weights = _reason_lists()
    out = out.with_columns(reasons=reasons, weights=weights, evidence=evidence(model, out))
    out = out.with_columns(
        reasons=pl.when(decided_same)
        .then(pl.col("reasons").list.concat(pl.lit(["decided_same"])))
        .otherwise("reasons"),
        weights=pl.when(decided_same)
        .then(pl.col("weights").list.concat(pl.lit([None], pl.List(pl.Float64))))
        .otherwise("weights"),
        decision=pl.when(decided_same).then(pl.lit("same")),
    )
    pairs = out.select(
        a_rid=pl.col("a"),
        b_rid=pl.when(pl.col("b") >= 0).then(pl.col("b")),
        b_ref=pl.when(pl.col("b") < 0).then(pl.col("b_ref")),
        a_nik="a_nik",
        b_nik="b_nik",
        score=pl.col("score").cast(pl.Float64),
        reasons="reasons",
        weights="weights",
        match_weight="match_weight",
        p_twins="p_twins",
        p_family="p_family",
        evidence="evidence",
        decision="decision",
    ).sort("a_rid", "b_rid", "b_ref", "b_nik", nulls_last=True)
    return NearResult(pairs.cast(PAIR_SCHEMA), model)


# --------------------------------------------------------------------------- findings


def near_duplicate_checks(
    pairs: pl.DataFrame,
    records: pl.DataFrame,
    *,
    hold_score: float = DEFAULT_HOLD_SCORE,
    rejected: pl.Series | None = None,
) -> pl.DataFrame:
    """Findings (``findings.CHECK_SCHEMA``) for both records of each undecided pair.

    Below ``hold_score`` both get ``NEAR_DUPLICATE`` (a warning). From it on, one of them is
    held (``NEAR_DUPLICATE_HELD``, an error: not paid until the pair is decided), the other
    warned: the later record of two in the run, or the run's record when the other person is
    already in the ledger. When only the earlier record is rejected anyway (``rejected``: rids
    with an error so far), nobody is held: the earlier is not paid, so the later one is the
    person's only row (as ``duplicates.same_person_checks`` decides for a pair decided SAMA).

    ``detail`` of a warning names the other record ("file.csv:12", "book.xlsx [Sheet1]:7" or
    the ledger ``b_ref``) and the score; of a hold, the other's NIK masked before them (the
    rejects file goes back to a sender, who may not see another person's NIK).
    """
    from jamsos_cli.findings import CHECK_SCHEMA
    from jamsos_cli.render.mask import mask_nik_expr

    where = records.select(
        "_rid",
        at=pl.format(
            "{}:{}",
            pl.when(pl.col("_sheet").is_not_null())
            .then(pl.format("{} [{}]", "_file", "_sheet"))
            .otherwise(pl.col("_file"))
            if "_sheet" in records.columns
            else pl.col("_file"),
            pl.col("_row"),
        ),
    )
    bad = pl.Series("_rid", [], pl.Int64) if rejected is None else rejected.cast(pl.Int64)
    p = pairs.join(
        where.select(a_rid="_rid", a_at="at"), on="a_rid", how="left", maintain_order="left"
    )
    p = p.join(where.select(b_rid="_rid", b_at="at"), on="b_rid", how="left", maintain_order="left")
    known = pl.col("b_rid").is_null()
    high = pl.col("score") >= hold_score
    only_a_bad = pl.col("a_rid").is_in(bad.implode()) & ~pl.col("b_rid").is_in(bad.implode())
    p = p.with_columns(
        hold_a=high & known,
        hold_b=high & ~known & ~only_a_bad.fill_null(False),
        score_=pl.col("score").round(0).cast(pl.Int64),
        b_where=pl.coalesce("b_at", "b_ref"),
    )

    def side(rid: str, nik: str, hold: str, other_nik: str, other_at: str) -> pl.DataFrame:
        held = pl.col(hold)
        return p.select(
            rid=rid,
            value=nik,
            code=pl.when(held)
            .then(pl.lit("NEAR_DUPLICATE_HELD"))
            .otherwise(pl.lit("NEAR_DUPLICATE")),
            detail=pl.when(held)
            .then(pl.format("{} ({}, {}%)", mask_nik_expr(pl.col(other_nik)), other_at, "score_"))
            .otherwise(pl.format("{} ({}%)", other_at, "score_")),
        )

    a_side = side("a_rid", "a_nik", "hold_a", "b_nik", "b_where")
    b_side = side("b_rid", "b_nik", "hold_b", "a_nik", "a_at").filter(pl.col("rid").is_not_null())
    out = pl.concat([a_side, b_side]).with_columns(field=pl.lit("nik"))
    return out.select(pl.col(c).cast(t) for c, t in CHECK_SCHEMA.items()).sort(
        "rid", maintain_order=True
    )
