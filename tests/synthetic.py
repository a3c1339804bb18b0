"""Synthetic rosters: fictional people, and the messy files senders type, with the ground truth.

A test and benchmark tool, not part of the installed package (the wheel does not ship it):
tests import it as ``tests.synthetic``, ``benchmarks/`` with the repository root on
``sys.path``, and ``python -m tests.synthetic samples sample_data`` (from the repository root)
regenerates the committed ``sample_data/``. Every random draw comes from a
counter-based generator (SplitMix64 of the row index and a stream name, as Polars UInt64
arithmetic), so a seed gives the same people on every machine, Python and Polars version, and
nothing loops over rows in Python (a million people take a few seconds).

- ``generate_people`` makes clean, canonical people (valid NIKs consistent with birth date and
  sex, official Batam kelurahan/kecamatan, roles by decree group).
- ``mess_up`` turns them into the text of a hand-typed roster and plants defects and duplicates;
  the ``_truth_*`` columns (``truth()``) say which finding each row must raise.
- ``write_csv`` / ``write_xlsx`` write a roster as senders do (titles, footers, encodings,
  numeric NIK cells); ``build_samples`` regenerates ``sample_data/``.

The names, spellings, defect kinds and sample recipes are data: ``tests/synthetic.toml``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from jamsos_cli.resources import schema_file

DATA = Path(__file__).with_name("synthetic.toml")  # the generator's data, beside it

GROUPS = ("rt_rw", "transport", "fisher", "mixed")
DATE_FORMATS = ("iso", "dmy_slash", "dmy_dash", "dmy_dot", "d_month_y", "d_mon_y")
# Canonical people columns, in order (generate_people); ``_``-columns are metadata.
PEOPLE_COLUMNS = (
    "nik",
    "name",
    "birth_place",
    "birth_date",
    "sex",
    "address",
    "rt",
    "rw",
    "kelurahan",
    "kecamatan",
    "kelurahan_code",
    "kecamatan_code",
    "phone",
    "mother_name",
    "role",
    "occupation",
    "work_location",
    "kusuka_number",
    "boat_name",
    "_group",
    "_ethnicity",
)
# Text columns of a messy roster (mess_up): the roster fields a writer can put in a file.
ROSTER_COLUMNS = (
    "row_number",
    "nik",
    "name",
    "birth_place",
    "birth_date",
    "birth_place_date",
    "sex",
    "address",
    "rt",
    "rw",
    "rt_rw",
    "kelurahan",
    "kecamatan",
    "phone",
    "mother_name",
    "role",
    "occupation",
    "work_location",
    "kusuka_number",
    "boat_name",
)
# Combined columns carry the fields they combine (for deciding which defects can show).
_COMBINED = {"birth_place_date": ("birth_place", "birth_date"), "rt_rw": ("rt", "rw")}
TRUTH_COLUMNS = {
    "_truth_code": "code",
    "_truth_dup_of": "dup_of",
    "_truth_dup_kind": "dup_kind",
    "_truth_person": "person",
    "_truth_group": "group",
    "_truth_outside_city": "outside_city",
}
DEFAULT_AS_OF = date(2025, 6, 1)
XLSX_CREATED = datetime(2025, 5, 12, 8, 0, 0)
_EPOCH = date(1970, 1, 1)

# ---------------------------------------------------------------------------------------------
# Random numbers as Polars expressions


_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _splitmix(x: int) -> int:
    """SplitMix64 of one integer (Python side: derives one stream's key from seed + name)."""
    z = (x + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _mix_series(z: pl.Series) -> pl.Series:
    """The SplitMix64 finaliser over a UInt64 Series (Polars integer arithmetic wraps).

    On a Series, not an expression: an expression tree would repeat each shifted operand.
    """
    c = [
        pl.Series([v], dtype=pl.UInt64)
        for v in (1 << 30, 0xBF58476D1CE4E5B9, 1 << 27, 0x94D049BB133111EB, 1 << 31)
    ]
    z = (z ^ (z // c[0])) * c[1]
    z = (z ^ (z // c[2])) * c[3]
    return z ^ (z // c[4])


def _stream(key: int):
    """Row index → the key's random word (SplitMix64 of key + index × golden ratio)."""
    golden, offset = (pl.Series([v], dtype=pl.UInt64) for v in (_GOLDEN, key))

    def words(index: pl.Series) -> pl.Series:
        return _mix_series(index.cast(pl.UInt64) * golden + offset)

    return words


def _uniform_series(words: pl.Series) -> pl.Series:
    """Float64 in [0, 1) from the top 53 bits of each word."""
    return (words // pl.Series([1 << 11], dtype=pl.UInt64)).cast(pl.Float64) * (1.0 / (1 << 53))


@dataclass(frozen=True)
class Rng:
    """Independent random streams per row: ``stream`` names a draw, ``index`` is the row key.

    Each draw is one ``map_batches`` over whole columns (Series arithmetic), so it is computed
    once however many times the expression tree refers to its parts.
    """

    seed: int
    index: str = "_i"

    def key(self, stream: str) -> int:
        name = int.from_bytes(hashlib.blake2b(stream.encode(), digest_size=8).digest(), "little")
        return _splitmix(_splitmix(self.seed & _M64) ^ name)

    def _map(
        self, stream: str, fn: Callable[..., pl.Series], dtype: Any, *extra: pl.Expr
    ) -> pl.Expr:
        words = _stream(self.key(stream))
        return pl.map_batches(
            [pl.col(self.index), *extra],
            lambda cols: fn(words(cols[0]), *cols[1:]),
            return_dtype=dtype,
            is_elementwise=True,
        )

    def uniform(self, stream: str) -> pl.Expr:
        """Float64 in [0, 1)."""
        return self._map(stream, _uniform_series, pl.Float64)

    def below(self, stream: str, k: int | pl.Expr) -> pl.Expr:
        """Int64 in [0, k)."""
        if isinstance(k, int):
            mod = pl.Series([k], dtype=pl.UInt64)
            return self._map(stream, lambda w: (w % mod).cast(pl.Int64), pl.Int64)
        return self._map(stream, lambda w, kk: (w % kk.cast(pl.UInt64)).cast(pl.Int64), pl.Int64, k)

    def chance(self, stream: str, p: float | pl.Expr) -> pl.Expr:
        return self.uniform(stream) < p

    def pick_index(self, stream: str, table: Choice, group: pl.Expr | None = None) -> pl.Expr:
        """Index into ``table.values`` (among the row's ``group``)."""
        extra = [] if group is None else [group]
        return self._map(
            stream, lambda w, *g: table.pick_series(_uniform_series(w), *g), pl.Int64, *extra
        )

    def pick(self, stream: str, table: Choice, group: pl.Expr | None = None) -> pl.Expr:
        """A value of ``table`` (among the row's ``group``)."""
        extra = [] if group is None else [group]
        return self._map(
            stream,
            lambda w, *g: table.values.gather(table.pick_series(_uniform_series(w), *g)),
            table.values.dtype,
            *extra,
        )


def _weighted(spec: Mapping[Any, float] | Sequence[Any]) -> tuple[list[Any], list[float]]:
    """A TOML weight table ``{value = weight}``, a plain list (equal weights), or
    ``(value, weight)`` pairs (how a null value gets a weight)."""
    if isinstance(spec, Mapping):
        return list(spec), [float(w) for w in spec.values()]
    if spec and all(isinstance(v, tuple) for v in spec):
        return [v for v, _ in spec], [float(w) for _, w in spec]
    return list(spec), [1.0] * len(spec)


def _optional(
    spec: Mapping[str, Any] | Sequence[Any], share: float | None = None
) -> list[tuple[Any, float]]:
    """A name piece present in ``share`` of names: its values plus null with weight 1 - share."""
    if isinstance(spec, Mapping) and "values" in spec:
        share, spec = float(spec["share"]), spec["values"]
    vals, weights = _weighted(spec)
    share = 1.0 if share is None else share
    if not vals or share <= 0:
        return [(None, 1.0)]
    total = sum(weights)
    pairs = [(v, share * w / total) for v, w in zip(vals, weights, strict=True)]
    return pairs + ([(None, 1.0 - share)] if share < 1 else [])


def _alias_table(weights: Sequence[float]) -> tuple[list[float], list[int]]:
    """Walker/Vose alias table: entry j is kept with probability prob[j], else alias[j]."""
    k = len(weights)
    total = sum(weights)
    scaled = [w * k / total for w in weights]
    prob, alias = [1.0] * k, list(range(k))
    small = [j for j, p in enumerate(scaled) if p < 1.0]
    large = [j for j, p in enumerate(scaled) if p >= 1.0]
    while small and large:
        lo, hi = small.pop(), large.pop()
        prob[lo], alias[lo] = scaled[lo], hi
        scaled[hi] -= 1.0 - scaled[lo]
        (small if scaled[hi] < 1.0 else large).append(hi)
    return prob, alias


@dataclass(frozen=True)
class Choice:
    """Weighted choice among values, optionally among the values of the row's group.

    Groups are stored end to end; a draw u picks slot floor(u * count) of the row's group and
    keeps it or takes its alias (Walker's alias method): a few gathers, no search.
    """

    values: pl.Series
    prob: pl.Series
    alias: pl.Series
    offset: pl.Series
    count: pl.Series
    equal: bool  # every group's values equally likely: no alias step

    @classmethod
    def of(cls, *groups: Mapping[Any, float] | Sequence[Any], dtype: Any = None) -> Choice:
        values: list[Any] = []
        prob: list[float] = []
        alias: list[int] = []
        offset: list[int] = []
        count: list[int] = []
        for g, spec in enumerate(groups):
            vals, weights = _weighted(spec)
            if not vals:  # an absent piece (no surname): picks null
                vals, weights = [None], [1.0]
            if sum(weights) <= 0 or min(weights) < 0:
                raise ValueError(f"choice group {g} needs non-negative weights, some positive")
            p, a = _alias_table(weights)
            offset.append(len(values))
            count.append(len(vals))
            prob.extend(p)
            alias.extend(len(values) + j for j in a)
            values.extend(vals)
        return cls(
            pl.Series(values, dtype=dtype),
            pl.Series(prob, dtype=pl.Float64),
            pl.Series(alias, dtype=pl.Int64),
            pl.Series(offset, dtype=pl.Int64),
            pl.Series(count, dtype=pl.Int64),
            equal=min(prob, default=1.0) >= 1.0,
        )

    def pick_series(self, u: pl.Series, group: pl.Series | None = None) -> pl.Series:
        """Indexes into ``values`` for uniform draws ``u`` (in the rows' groups)."""
        if group is None:
            count = int(self.count[0])
            scaled = u * count
            slot = scaled.floor().cast(pl.Int64).clip(0, count - 1)
            idx = slot
        else:
            g = group.cast(pl.Int64).fill_null(0)
            counts = self.count.gather(g)
            scaled = u * counts
            slot = scaled.floor().cast(pl.Int64)
            slot = slot.zip_with(slot < counts, counts - 1)
            idx = slot + self.offset.gather(g)
        if self.equal:
            return idx
        keep = (scaled - slot) < self.prob.gather(idx)
        return idx.zip_with(keep, self.alias.gather(idx))


def _gather(values: Sequence[Any], idx: pl.Expr, dtype: Any = None) -> pl.Expr:
    return pl.lit(pl.Series(list(values), dtype=dtype)).gather(idx)


def _fill_templates(
    selector: pl.Expr, templates: Sequence[str], slots: Mapping[str, pl.Expr]
) -> pl.Expr:
    """``templates[selector]`` with its ``{slot}`` filled in, as a single concat_str.

    Position j of every template is lined up (literal, slot, literal, ...), so each row's
    string is built once whichever template it uses.
    """
    parsed = [re.split(r"\{(\w+)\}", t) for t in templates]  # [lit, slot, lit, ..., lit]
    width = max(len(p) for p in parsed)
    parsed = [p + [""] * (width - len(p)) for p in parsed]
    parts = []
    for j in range(width):
        column = [p[j] for p in parsed]
        if j % 2 == 0:
            parts.append(_gather(column, selector, pl.String))
            continue
        value: pl.Expr = pl.lit("")
        for name in sorted(set(column) - {""}):
            uses = _gather([c == name for c in column], selector, pl.Boolean)
            value = pl.when(uses).then(slots[name]).otherwise(value)
        parts.append(value)
    return pl.concat_str(parts)


def _switch(selector: pl.Expr, branches: Sequence[pl.Expr], default: Any = None) -> pl.Expr:
    """``branches[selector]``: a when/then chain over a small integer selector."""
    out = pl.lit(default) if not isinstance(default, pl.Expr) else default
    for k in range(len(branches) - 1, -1, -1):
        out = pl.when(selector == k).then(branches[k]).otherwise(out)
    return out


def _on_rows(df: pl.DataFrame, where: pl.Expr, **exprs: pl.Expr) -> pl.DataFrame:
    """Set columns on the rows ``where`` holds only, computing ``exprs`` on those rows alone
    (the other rows keep the column's value, or null for a new column): a rare case pays for
    itself, not for the whole frame."""
    idx = df.select(pl.arg_where(where)).to_series()
    sub = df[idx].select(**exprs)
    out = {}
    for name in exprs:
        base = (
            df[name]
            if name in df.columns
            else pl.repeat(None, df.height, dtype=sub[name].dtype, eager=True)
        )
        out[name] = base.clone().scatter(idx, sub[name])
    return df.with_columns(**out)


# ---------------------------------------------------------------------------------------------
# Data


@cache
def config() -> dict[str, Any]:
    """``schemas/synthetic.toml``."""
    with DATA.open("rb") as fh:
        return tomllib.load(fh)


@cache
def _regions() -> pl.DataFrame:
    """Every current and former kecamatan: dotted code, name, regency and province codes."""
    cur = pl.read_csv(schema_file("reference", "wilayah_kemendagri.csv"), infer_schema=False)
    old = pl.read_csv(schema_file("reference", "wilayah_kode_lama.csv"), infer_schema=False)
    frames = [
        cur.with_columns(former=pl.lit(False)),
        old.drop("edisi_terakhir").with_columns(former=pl.lit(True)),
    ]
    return pl.concat(frames).with_columns(
        regency=pl.col("kode").str.slice(0, 5), province=pl.col("kode").str.slice(0, 2)
    )


@cache
def _city(city_code: str) -> pl.DataFrame:
    """The city's kelurahan: code, name, kecamatan code and name, sorted by code."""
    reg = _regions().filter(~pl.col("former"))
    kec = reg.filter((pl.col("tingkat") == "kecamatan") & (pl.col("regency") == city_code))
    kel = reg.filter((pl.col("tingkat") == "kelurahan_desa") & (pl.col("regency") == city_code))
    if kel.is_empty():
        raise ValueError(f"no kelurahan for city code {city_code!r} in the reference table")
    return (
        kel.select(
            kelurahan_code="kode", kelurahan="nama", kecamatan_code=pl.col("kode").str.slice(0, 8)
        )
        .join(kec.select(kecamatan_code="kode", kecamatan="nama"), on="kecamatan_code")
        .sort("kelurahan_code")
    )


def unknown_district_codes(city_code: str, k: int = 3) -> list[str]:
    """Two-digit kecamatan numbers no current or former kecamatan of the regency uses."""
    used = set(
        _regions()
        .filter((pl.col("tingkat") == "kecamatan") & (pl.col("regency") == city_code))["kode"]
        .str.slice(6, 2)
        .to_list()
    )
    return [f"{d:02d}" for d in range(99, 0, -1) if f"{d:02d}" not in used][:k]


@cache
def _origin_tables(city_code: str) -> tuple[Choice, Choice, Choice]:
    """Region choices for NIKs first issued outside the city: ethnicity → province (as a group
    index), province → its current kecamatan, and the former kecamatan codes."""
    cfg = config()
    reg = _regions()
    kec = reg.filter((pl.col("tingkat") == "kecamatan") & (pl.col("regency") != city_code))
    current = kec.filter(~pl.col("former"))
    provinces = sorted({p for e in cfg["ethnicities"].values() for p in e["origin"]})
    by_province = [
        current.filter(pl.col("province") == p)["kode"]
        .str.replace_all(".", "", literal=True)
        .cast(pl.Int64)
        .sort()
        .to_list()
        for p in provinces
    ]
    eth = [
        {provinces.index(p): w for p, w in cfg["ethnicities"][e]["origin"].items()}
        for e in cfg["ethnicities"]
    ]
    former = (
        kec.filter(pl.col("former"))["kode"]
        .str.replace_all(".", "", literal=True)
        .cast(pl.Int64)
        .sort()
        .to_list()
    )
    return (
        Choice.of(*eth, dtype=pl.Int64),
        Choice.of(*by_province, dtype=pl.Int64),
        Choice.of(former, dtype=pl.Int64),
    )


def _roles(group: str, only: Sequence[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(role, spec) of a group (all groups for "mixed", weighted by the mixed shares)."""
    cfg = config()
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; one of {', '.join(GROUPS)}")
    out = []
    for role, spec in cfg["roles"].items():
        if only is not None and role not in only:
            continue
        if group != "mixed" and spec["group"] != group:
            continue
        spec = dict(spec)
        if group == "mixed":
            total = sum(s["weight"] for s in cfg["roles"].values() if s["group"] == spec["group"])
            spec["weight"] = cfg["mixed"][spec["group"]] * spec["weight"] / total
        out.append((role, spec))
    if not out:
        raise ValueError(f"no roles {list(only or [])} in group {group!r}")
    return out


# ---------------------------------------------------------------------------------------------
# Clean people


def _date_expr(days: pl.Expr) -> pl.Expr:
    return days.cast(pl.Int32).cast(pl.Date)


def _age(birth: pl.Expr, as_of: date) -> pl.Expr:
    """Full years of age on ``as_of``."""
    before_birthday = (birth.dt.month() > as_of.month) | (
        (birth.dt.month() == as_of.month) & (birth.dt.day() > as_of.day)
    )
    return pl.lit(as_of.year) - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)


def _days_old(rng: Rng, stream: str, bands: Sequence[Sequence[float]]) -> pl.Expr:
    """Age in days, drawn by age band ([from, to, weight] in full years)."""
    band = rng.pick_index(stream, Choice.of({i: b[2] for i, b in enumerate(bands)}))
    lo = _gather([b[0] * 365.2425 + 1 for b in bands], band, pl.Float64)
    hi = _gather([(b[1] + 1) * 365.2425 - 1 for b in bands], band, pl.Float64)
    return (lo + rng.uniform(stream + ".day") * (hi - lo)).floor().cast(pl.Int64)


def _nik_expr(region6: pl.Expr, birth: pl.Expr, female: pl.Expr, serial: pl.Expr) -> pl.Expr:
    """NIK = region (6) + DD (+40 for women) + MM + YY + serial (4)."""
    day = birth.dt.day().cast(pl.Int32) + pl.when(female).then(40).otherwise(0)
    return pl.concat_str(
        region6,
        day.cast(pl.String).str.zfill(2),
        birth.dt.month().cast(pl.String).str.zfill(2),
        (birth.dt.year() % 100).cast(pl.String).str.zfill(2),
        serial.cast(pl.String).str.zfill(4),
    )


@cache
def _name_tables() -> dict[str, Choice]:
    """Name pieces grouped by (ethnicity, sex): group = 2 * ethnicity + (1 if female).

    "head" is [prefix] first and "tail" [middle] [last], every combination with its weight
    (optional pieces are null as often as they are absent), so a name is two draws.
    """
    cfg = config()
    eth = cfg["ethnicities"]
    sexes = ("male", "female")

    def combined(a: str, b: str) -> list[list[tuple[Any, float]]]:
        groups = []
        for e in eth.values():
            for sex in sexes:
                pairs: dict[Any, float] = {}
                for va, wa in _optional(e[sex][a]):
                    for vb, wb in _optional(e[sex][b]):
                        text = " ".join(v for v in (va, vb) if v) or None
                        pairs[text] = pairs.get(text, 0.0) + wa * wb
                groups.append(list(pairs.items()))
        return groups

    titles = cfg["titles"]
    ktp_sex = {"male": "L", "female": "P"}
    return {
        "head": Choice.of(*combined("prefix", "first"), dtype=pl.String),
        "tail": Choice.of(*combined("middle", "last"), dtype=pl.String),
        "first": Choice.of(
            *[_optional(e[sex]["first"]) for e in eth.values() for sex in sexes], dtype=pl.String
        ),
        "haji": Choice.of(
            *[
                _optional([titles["haji"][ktp_sex[sex]]], e["haji"])
                for e in eth.values()
                for sex in sexes
            ],
            dtype=pl.String,
        ),
        "degree": Choice.of(_optional(titles["degrees"], titles["degree_share"]), dtype=pl.String),
    }


def _full_name(rng: Rng, stream: str, group: pl.Expr, age: pl.Expr | None) -> pl.Expr:
    """[H./Hj.] [prefix] first [middle] [last][, degree] for ethnicity-sex group ``group``.

    Without ``age`` (mothers' names): no title, no degree.
    """
    tables = _name_tables()
    pieces = [rng.pick(f"{stream}.{p}", tables[p], group) for p in ("head", "tail")]
    if age is None:
        return pl.concat_str(pieces, separator=" ", ignore_nulls=True)
    haji = pl.when(age >= 40).then(rng.pick(f"{stream}.haji", tables["haji"], group))
    name = pl.concat_str([haji, *pieces], separator=" ", ignore_nulls=True)
    return pl.concat_str([name, rng.pick(f"{stream}.degree", tables["degree"])], ignore_nulls=True)


def generate_people(
    n: int,
    *,
    seed: int,
    group: str = "mixed",
    city_code: str = "21.71",
    as_of: date | None = None,
    kecamatan: Sequence[str] | Mapping[str, float] | None = None,
    kelurahan: Sequence[str] | Mapping[str, float] | None = None,
    roles: Sequence[str] | None = None,
) -> pl.DataFrame:
    """``n`` clean, fictional people of a decree group, living in ``city_code``.

    Valid NIKs (region code of the reference table, ~15% first issued elsewhere in Indonesia,
    a few with former codes; DDMMYY of the birth date, +40 for women; serial 0001-4999, unique),
    birth dates for ages mostly 20-60 on ``as_of`` (a few outside 18-64), official kelurahan and
    kecamatan names (optionally only the given ones, or weights by name), roles of the group.
    Columns: ``PEOPLE_COLUMNS`` (``birth_date`` a Date; the rest text).
    """
    cfg = config()
    as_of = as_of or cfg.get("as_of", DEFAULT_AS_OF)
    rng = Rng(seed)
    role_specs = _roles(group, roles)
    eth_names = list(cfg["ethnicities"])
    role_groups = [s["group"] for _, s in role_specs]
    group_names = [g for g in GROUPS if g != "mixed"]
    places = _city(city_code)
    if kecamatan is not None or kelurahan is not None:
        places = _restrict_places(places, kecamatan, kelurahan)
    place_weights = places["_w"].to_list() if "_w" in places.columns else [1.0] * places.height

    # Who and when (numbers only) for everyone at once, because NIK serials must be unique
    # across the whole frame; then the text in slices, which keeps the working set small.
    # Every draw is keyed by the row index, so the slice size does not change the people.
    df = pl.DataFrame({"_i": pl.int_range(n, dtype=pl.UInt64, eager=True)})
    df = df.with_columns(
        _role=rng.pick_index(
            "role", Choice.of({i: s["weight"] for i, (_, s) in enumerate(role_specs)})
        ),
        _place=rng.pick_index("place", Choice.of(dict(enumerate(place_weights)))),
        _days_old=_days_old(rng, "age", cfg["age_bands"]),
    )
    eth_tab = Choice.of(
        *[
            {eth_names.index(e): w for e, w in cfg["groups"][g]["ethnicity"].items()}
            for g in group_names
        ],
        dtype=pl.Int64,
    )
    df = df.with_columns(
        _female=rng.chance(
            "sex", _gather([s["female"] for _, s in role_specs], pl.col("_role"), pl.Float64)
        ),
        _gidx=_gather([group_names.index(g) for g in role_groups], pl.col("_role"), pl.Int64),
        birth_date=_date_expr(pl.lit((as_of - _EPOCH).days) - pl.col("_days_old")),
    ).with_columns(_eth=rng.pick("ethnicity", eth_tab, pl.col("_gidx")))
    df = _add_nik(df, rng, places, city_code)
    slices = [
        _describe(df.slice(start, _SLICE), rng, places, role_specs, as_of, city_code)
        for start in range(0, max(n, 1), _SLICE)
    ]
    return pl.concat(slices).select(PEOPLE_COLUMNS)


_SLICE = 500_000


def _describe(
    df: pl.DataFrame,
    rng: Rng,
    places: pl.DataFrame,
    role_specs: list,
    as_of: date,
    city_code: str,
) -> pl.DataFrame:
    """Names, birth place, domicile, contact and work of people whose NIK is drawn."""
    cfg = config()
    eth_names = list(cfg["ethnicities"])
    role_groups = [s["group"] for _, s in role_specs]
    group_names = [g for g in GROUPS if g != "mixed"]
    df = df.with_columns(
        kelurahan_code=_gather(places["kelurahan_code"], pl.col("_place"), pl.String),
        kelurahan=_gather(places["kelurahan"], pl.col("_place"), pl.String),
        kecamatan_code=_gather(places["kecamatan_code"], pl.col("_place"), pl.String),
        kecamatan=_gather(places["kecamatan"], pl.col("_place"), pl.String),
        sex=pl.when(pl.col("_female")).then(pl.lit("P")).otherwise(pl.lit("L")),
        name=_full_name(
            rng,
            "name",
            pl.col("_eth") * 2 + pl.col("_female").cast(pl.Int64),
            _age(pl.col("birth_date"), as_of),
        ),
        mother_name=_full_name(rng, "mother", pl.col("_eth") * 2 + 1, None),
        birth_place=rng.pick(
            "birth_place",
            Choice.of(*[e["birth_places"] for e in cfg["ethnicities"].values()]),
            pl.col("_eth"),
        ),
        _group=_gather(role_groups, pl.col("_role"), pl.String),
        _ethnicity=_gather(eth_names, pl.col("_eth"), pl.String),
        role=_gather([r for r, _ in role_specs], pl.col("_role"), pl.String),
    )
    return _add_contact(df, rng, role_specs, group_names, city_code)


def _code_int(codes: pl.Series) -> pl.Series:
    """Dotted region codes (21.71.01) as the integers a NIK starts with (217101)."""
    return codes.str.replace_all(".", "", literal=True).cast(pl.Int64)


def _add_nik(df: pl.DataFrame, rng: Rng, places: pl.DataFrame, city_code: str) -> pl.DataFrame:
    """NIKs as integers: region, DD(+40) MM YY, and a serial unique across the frame."""
    cfg = config()["nik"]
    eth_by_group, prov_kec, former = _origin_tables(city_code)
    city_kec = _city(city_code)["kecamatan_code"].unique().sort()
    origins = list(cfg["origin"])
    origin = rng.pick_index("nik.origin", Choice.of(dict(enumerate(cfg["origin"].values()))))
    city_region = (
        pl.when(rng.chance("nik.samek", cfg["same_kecamatan"]))
        .then(_gather(_code_int(places["kecamatan_code"]), pl.col("_place"), pl.Int64))
        .otherwise(_gather(_code_int(city_kec), rng.below("nik.cityk", len(city_kec)), pl.Int64))
    )
    df = df.with_columns(_prov=rng.pick("nik.prov", eth_by_group, pl.col("_eth")))
    df = df.with_columns(
        _region=pl.when(origin == origins.index("city"))
        .then(city_region)
        .when(origin == origins.index("elsewhere"))
        .then(rng.pick("nik.kec", prov_kec, pl.col("_prov")))
        .otherwise(rng.pick("nik.former", former))
    )
    b = pl.col("birth_date")
    day = b.dt.day().cast(pl.Int64) + pl.col("_female").cast(pl.Int64) * 40
    df = df.with_columns(
        _prefix=pl.col("_region") * 1_000_000
        + day * 10_000
        + b.dt.month().cast(pl.Int64) * 100
        + (b.dt.year().cast(pl.Int64) % 100),
        _serial=rng.below("nik.serial", int(cfg["serial_max"])) + 1,
    )
    # Redraw the serial of every NIK that repeats an earlier one until none does (a few rounds).
    for attempt in range(1, 100):
        df = df.with_columns(_nik=pl.col("_prefix") * 10_000 + pl.col("_serial"))
        clash = ~pl.col("_nik").is_first_distinct()
        if not df.select(clash.any()).item():
            break
        df = _on_rows(
            df, clash, _serial=rng.below(f"nik.serial.{attempt}", int(cfg["serial_max"])) + 1
        )
    else:  # pragma: no cover - only when the serial range is too small for the people asked
        raise ValueError("too many people for the NIK serial range")
    return df.with_columns(nik=pl.col("_nik").cast(pl.String))


def _restrict_places(places: pl.DataFrame, kecamatan: Any, kelurahan: Any) -> pl.DataFrame:
    """Only the named kecamatan / kelurahan (official names), weighted when a mapping is given."""
    out = places.with_columns(_w=pl.lit(1.0))
    for col, spec in (("kecamatan", kecamatan), ("kelurahan", kelurahan)):
        if spec is None:
            continue
        names, weights = _weighted(spec)
        unknown = set(names) - set(out[col].to_list())
        if unknown:
            raise ValueError(f"not a {col} of the city: {sorted(unknown)}")
        per_name = out.group_by(col).len()
        w = pl.DataFrame({col: names, "_nw": weights}).join(per_name, on=col)
        out = out.join(w, on=col).with_columns(_w=pl.col("_w") * pl.col("_nw") / pl.col("len"))
        out = out.drop("_nw", "len").sort("kelurahan_code")
    return out


def _add_contact(
    df: pl.DataFrame, rng: Rng, role_specs: list, group_names: list[str], city_code: str
) -> pl.DataFrame:
    """Address, RT/RW, phone, occupation, work location, KUSUKA card and boat."""
    cfg = config()
    addr = cfg["address"]
    slots = {
        "perum": rng.pick("addr.perum", Choice.of(addr["perum"])),
        "street": rng.pick("addr.street", Choice.of(addr["street"])),
        "kampung": rng.pick("addr.kampung", Choice.of(addr["kampung"])),
        "blok": rng.pick("addr.blok", Choice.of(addr["blok"])),
        "no": (rng.below("addr.no", int(addr["number_max"])) + 1).cast(pl.String),
    }
    templates = sorted({t for g in group_names for t in cfg["groups"][g]["address"]})
    tpl_tab = Choice.of(
        *[
            {templates.index(t): w for t, w in cfg["groups"][g]["address"].items()}
            for g in group_names
        ],
        dtype=pl.Int64,
    )
    tpl = rng.pick("addr.tpl", tpl_tab, pl.col("_gidx"))
    # 0812 + 7 or 8 digits, as the integer 812xxxxxxxx written with its leading 0.
    phone_prefix = rng.pick(
        "phone.prefix",
        Choice.of({int(k): v for k, v in cfg["phone"]["prefix"].items()}, dtype=pl.Int64),
    )
    phone_scale = rng.pick(
        "phone.len",
        Choice.of({10 ** int(k): v for k, v in cfg["phone"]["lengths"].items()}, dtype=pl.Int64),
    )
    phone_number = phone_prefix * phone_scale + rng.below("phone.digits", 10**8) % phone_scale
    phone_missing = _gather(
        [cfg["groups"][g]["phone_missing"] for g in group_names], pl.col("_gidx"), pl.Float64
    )
    occ_groups = [cfg["occupations"][g][s] for g in group_names for s in ("L", "P")]
    occupation = rng.pick(
        "occupation", Choice.of(*occ_groups), pl.col("_gidx") * 2 + pl.col("_female").cast(pl.Int64)
    )
    work = rng.pick(
        "work", Choice.of(*[s["work_location"] for _, s in role_specs]), pl.col("_role")
    )
    fisher = pl.col("_gidx") == group_names.index("fisher")
    fish = cfg["fisher"]
    city4 = int(city_code.replace(".", ""))
    kusuka_year = rng.pick(
        "kusuka.year", Choice.of([int(y) for y in fish["kusuka_years"]], dtype=pl.Int64)
    )
    kusuka = (pl.lit(city4 * 10**10) + kusuka_year * 10**8 + rng.below("kusuka.no", 10**8)).cast(
        pl.String
    )
    boat = pl.concat_str(
        [
            rng.pick("boat.kind", Choice.of(fish["boat_kind"])),
            rng.pick("boat.w1", Choice.of(fish["boat_words"])),
            rng.pick("boat.w2", Choice.of(fish["boat_words"])),
        ],
        separator=" ",
    )
    df = df.with_columns(**{f"_slot_{k}": v for k, v in slots.items()}, _tpl=tpl)
    df = df.with_columns(
        address=_fill_templates(
            pl.col("_tpl"), templates, {k: pl.col(f"_slot_{k}") for k in slots}
        ),
        rt=_gather([f"{k:03d}" for k in range(1, 16)], rng.below("rt", 15), pl.String),
        rw=_gather([f"{k:03d}" for k in range(1, 10)], rng.below("rw", 9), pl.String),
        phone=pl.when(~rng.chance("phone.missing", phone_missing)).then(
            pl.concat_str(pl.lit("0"), phone_number.cast(pl.String))
        ),
        occupation=occupation,
        work_location=work.str.replace("{kelurahan}", pl.col("kelurahan"), literal=True),
    )
    # Only fishermen have a KUSUKA card and a boat.
    return _on_rows(
        df,
        fisher,
        kusuka_number=kusuka,
        boat_name=pl.when(rng.chance("boat.on", fish["boat_share"])).then(boat),
    )


# ---------------------------------------------------------------------------------------------
# Messy rosters


def _fields_present(fields: Iterable[str] | None) -> set[str]:
    if fields is None:
        return set(ROSTER_COLUMNS)
    out = set(fields)
    for combined, parts in _COMBINED.items():
        if combined in out:
            out.update(parts)
    return out


def _defect_kinds(
    fields: set[str], spreadsheet: bool, fisher: bool, weights: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The defects that can show in a roster with these fields, and their weights."""
    weights = weights or {}
    unknown = set(weights) - set(config()["defects"])
    if unknown:
        raise ValueError(f"unknown defect code(s) {sorted(unknown)}")
    out = {}
    for code, spec in config()["defects"].items():
        if not set(spec["fields"]) <= fields:
            continue
        if spec.get("spreadsheet") and not spreadsheet:
            continue
        if spec.get("fisher") and not fisher:
            continue
        if weights.get(code, spec["weight"]) > 0:
            out[code] = float(weights.get(code, spec["weight"]))
    return out


def mess_up(
    people: pl.DataFrame,
    *,
    seed: int,
    defect_rate: float = 0.02,
    dup_rate: float = 0.01,
    formats: Sequence[str] | None = None,
    fields: Iterable[str] | None = None,
    spreadsheet: bool = False,
    city_code: str = "21.71",
    as_of: date | None = None,
    defect_weights: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """``people`` as a hand-typed roster: every column text, planted defects, duplicates.

    ``fields``: the roster fields the file will carry (a defect is planted only where it can
    show; default all). ``spreadsheet``: the roster goes to xlsx (numeric NIK cells, date
    cells, numeric phones). ``formats``: the date formats used (``DATE_FORMATS``).
    ``defect_weights``: code → weight, overriding the data's (0 leaves a defect out).
    People with a true ``_keep_clean`` column get no defect and no duplicate.

    Returns the ``ROSTER_COLUMNS`` as text, the ``_nik_cell`` ("text" | "number" | "excel"),
    ``_dob_cell``, ``_phone_cell`` and ``_birth_date`` hints for ``write_xlsx``, and the ground
    truth (``truth()``): per row the code a checker must raise (the planted defect; for the
    second occurrence of a person NIK_DUPLICATE / NEAR_DUPLICATE_HELD with ``dup_of`` the row it
    repeats; NIK_CONFLICT on both twins; AGE_OUT_OF_RANGE for people born outside the range),
    or null, and whether the NIK was first issued outside the city (NIK_OUTSIDE_CITY).
    """
    cfg = config()
    as_of = as_of or cfg.get("as_of", DEFAULT_AS_OF)
    lo_age, hi_age = cfg["age_range"]
    fields_set = _fields_present(fields)
    formats = list(formats or DATE_FORMATS)
    unknown = set(formats) - set(DATE_FORMATS)
    if unknown:
        raise ValueError(f"unknown date formats {sorted(unknown)}; known: {DATE_FORMATS}")
    rng = Rng(seed, "_p")
    people = people.with_row_index("_p").with_columns(pl.col("_p").cast(pl.Int64))
    keep_clean = pl.col("_keep_clean") if "_keep_clean" in people.columns else pl.lit(False)
    age = _age(pl.col("birth_date"), as_of)
    # Who gets a defect, who is typed twice (only people who are clean and well inside the range).
    plain = ~keep_clean & age.is_between(lo_age + 2, hi_age - 4)
    is_fisher = pl.col("role") == "Nelayan"
    kinds_other = _defect_kinds(fields_set, spreadsheet, False, defect_weights)
    kinds_fisher = _defect_kinds(fields_set, spreadsheet, True, defect_weights)
    defect = plain & rng.chance("defect", defect_rate) if kinds_other else pl.lit(False)
    kind = rng.pick(
        "defect.kind",
        Choice.of(kinds_other or {"": 1}, kinds_fisher or {"": 1}, dtype=pl.String),
        is_fisher.cast(pl.Int64),
    )
    people = people.with_columns(_defect=pl.when(defect).then(kind))
    dup = plain & pl.col("_defect").is_null() & rng.chance("dup", dup_rate)
    people = people.with_columns(
        _dup_kind=pl.when(dup).then(
            rng.pick("dup.kind", Choice.of(cfg["duplicates"]["kinds"], dtype=pl.String))
        ),
        _dup_at=pl.when(dup).then(
            pl.col("_p") + 1 + rng.below("dup.at", (pl.len() - pl.col("_p")).cast(pl.Int64))
        ),
    )
    # The second occurrence of a person goes somewhere after the first.
    copies = _retype_copies(
        people.filter(pl.col("_dup_kind").is_not_null()).with_columns(
            _src=pl.col("_p"), _key=pl.col("_dup_at") * 2 + 1, _defect=pl.lit(None, pl.String)
        ),
        rng,
        as_of,
    )
    originals = people.with_columns(
        _src=pl.lit(None, pl.Int64),
        _key=pl.col("_p") * 2,
        _dup_kind=pl.when(pl.col("_dup_kind") == "twin").then(pl.lit("twin_original")),
    )
    # Rows stay where they are (originals in order, copies after them); _i is the final position,
    # and the one reordering happens at the end.
    rows = pl.concat([originals, copies], how="vertical_relaxed")
    rows = rows.with_columns(_i=(pl.col("_key").rank("ordinal") - 1).cast(pl.Int64))
    rows = rows.with_columns(
        _dup_of=pl.when(pl.col("_src").is_not_null()).then(
            pl.col("_i").gather(pl.col("_src").fill_null(0))
        )
    )
    # Text for everyone; defects only on the few rows that carry one.
    rng = Rng(seed, "_i")
    mixed = people["_group"].n_unique() > 1
    bad = rows.filter(pl.col("_defect").is_not_null())
    good = rows.filter(pl.col("_defect").is_null())
    bad = _render(_identity_defects(bad.lazy(), rng, as_of).collect(), rng, formats, spreadsheet)
    bad = _text_defects(bad, rng, city_code, mixed)
    good = _render(good, rng, formats, spreadsheet)
    rows = pl.concat([good, bad], how="diagonal_relaxed")
    return (
        _with_truth(rows.lazy(), city_code, as_of, (lo_age, hi_age)).collect().sort("_i").drop("_i")
    )


def _retype_copies(copies: pl.DataFrame, rng: Rng, as_of: date) -> pl.DataFrame:
    """The second occurrence of a person: a one-digit NIK typo (near), or a twin (same NIK)."""
    serial_max = int(config()["nik"]["serial_max"])
    nik = pl.col("nik")
    # The serial's first digit typed wrong, into the range generate_people leaves free.
    first = serial_max // 1000 + 1
    wrong_digit = rng.below("near.digit", 10 - first) + first
    eth = list(config()["ethnicities"])
    group = pl.col("_ethnicity").replace_strict(
        eth, list(range(len(eth))), return_dtype=pl.Int64
    ) * 2 + (pl.col("sex") == "P").cast(pl.Int64)
    # A twin shares the family name where the culture has one: a new given name, same last word.
    given = rng.pick("twin.first", _name_tables()["first"], group)
    twin = (
        pl.when(pl.col("_ethnicity").is_in(["batak", "chinese", "flores"]))
        .then(pl.concat_str(given, pl.col("name").str.split(" ").list.last(), separator=" "))
        .otherwise(_full_name(rng, "twin", group, _age(pl.col("birth_date"), as_of)))
    )
    twin = (
        pl.when(twin == pl.col("name")).then(pl.concat_str(twin, pl.lit(" Putra"))).otherwise(twin)
    )
    return copies.with_columns(
        nik=pl.when(pl.col("_dup_kind") == "near")
        .then(pl.concat_str(nik.str.slice(0, 12), wrong_digit.cast(pl.String), nik.str.slice(13)))
        .otherwise(nik),
        name=pl.when(pl.col("_dup_kind") == "twin").then(twin).otherwise(pl.col("name")),
    )


def _identity_defects(rows: pl.LazyFrame, rng: Rng, as_of: date) -> pl.LazyFrame:
    """Defects that change the person's birth date (and the NIK with it), before the text."""
    cfg = config()
    d = pl.col("_defect")
    female = pl.col("sex") == "P"
    serial_max = int(cfg["nik"]["serial_max"])
    # AGE_OUT_OF_RANGE: a new birth date outside the range, NIK re-encoded to match it.
    out_birth = _date_expr(
        pl.lit((as_of - _EPOCH).days) - _days_old(rng, "age_out", cfg["defect_values"]["age_out"])
    )
    high_serial = serial_max + 1 + rng.below("age_out.serial", 9999 - serial_max)
    # DOB mismatch: day and month swapped (a US-style date) or the year off by one.
    b = pl.col("birth_date")
    swappable = (b.dt.day() <= 12) & (b.dt.day() != b.dt.month())
    swapped = pl.date(b.dt.year(), b.dt.day(), b.dt.month())
    leap_day = (b.dt.month() == 2) & (b.dt.day() == 29)
    year_off = pl.date(
        b.dt.year() + pl.when(rng.chance("dob.year", 0.5)).then(1).otherwise(-1),
        b.dt.month(),
        pl.when(leap_day).then(28).otherwise(b.dt.day()),
    )
    rows = rows.with_columns(
        birth_date=pl.when(d == "AGE_OUT_OF_RANGE")
        .then(out_birth)
        .when(d == "NIK_DOB_MISMATCH")
        .then(pl.when(swappable).then(swapped).otherwise(year_off))
        .otherwise(b),
    )
    return rows.with_columns(
        nik=pl.when(d == "AGE_OUT_OF_RANGE")
        .then(_nik_expr(pl.col("nik").str.slice(0, 6), pl.col("birth_date"), female, high_serial))
        .otherwise(pl.col("nik")),
    )


def _style_table(styles: Mapping[str, float], known: Mapping[str, Any]) -> tuple[Choice, list[str]]:
    """A choice among named styles (weights from the data); each name must be one we build."""
    unknown = set(styles) - set(known)
    if unknown:
        raise ValueError(
            f"unknown style(s) {sorted(unknown)} in synthetic.toml; known: {sorted(known)}"
        )
    names = list(styles)
    return Choice.of(dict(enumerate(styles.values())), dtype=pl.Int64), names


def _by_style(df: pl.DataFrame, style: str, builders: Sequence[pl.Expr]) -> pl.Series:
    """Each row's text built by the builder of its style, each builder run on its rows only."""
    df = df.with_row_index("_r")
    parts = [
        df.filter(pl.col(style) == k).select("_r", _v=build.cast(pl.String))
        for k, build in enumerate(builders)
    ]
    return pl.concat(parts).sort("_r")["_v"]


def _spellings(names: Sequence[str]) -> Choice:
    """Per official place name, its spellings and their weights: the alias of the first rule
    that matches (Sei for Sungai...) and the case senders type it in."""
    mess = config()["mess"]
    case = mess["place_case"]
    known_case = {"asis": str, "upper": str.upper, "lower": str.lower}
    groups = []
    for name in names:
        spelled = {name: 1.0}
        for pattern, repl, share in mess["place_aliases"]:
            if re.search(pattern, name):
                spelled = {name: 1.0 - share, re.sub(pattern, repl, name, count=1): share}
                break
        out: dict[str, float] = {}
        for text, w in spelled.items():
            for style, cw in case.items():
                variant = known_case[style](text)
                out[variant] = out.get(variant, 0.0) + w * cw
        groups.append(out)
    return Choice.of(*groups, dtype=pl.String)


def _place_text(rng: Rng, stream: str, col: str, names: Sequence[str]) -> pl.Expr:
    """An official place name as senders spell it (``names``: the column's distinct values)."""
    if not names:
        return pl.lit(None, pl.String)
    idx = pl.col(col).replace_strict(
        list(names), list(range(len(names))), default=None, return_dtype=pl.Int64
    )
    return pl.when(idx.is_not_null()).then(rng.pick(stream, _spellings(tuple(names)), idx))


_DAY2 = [f"{d:02d}" for d in range(1, 32)]
_DAY1 = [str(d) for d in range(1, 32)]
_MON2 = [f"{m:02d}" for m in range(1, 13)]


def _date_builders(formats: Sequence[str]) -> list[pl.Expr]:
    """Text of ``_b`` (a Date) per date format; ``_long``/``_short`` are its month's names."""
    b = pl.col("_b")
    dd = _gather(_DAY2, b.dt.day().cast(pl.Int64) - 1, pl.String)
    mm = _gather(_MON2, b.dt.month().cast(pl.Int64) - 1, pl.String)
    yyyy = b.dt.year().cast(pl.String)
    day = (
        pl.when(pl.col("_pad"))
        .then(dd)
        .otherwise(_gather(_DAY1, b.dt.day().cast(pl.Int64) - 1, pl.String))
    )
    build = {
        "iso": pl.concat_str(yyyy, mm, dd, separator="-"),
        "dmy_slash": pl.concat_str(dd, mm, yyyy, separator="/"),
        "dmy_dash": pl.concat_str(dd, mm, yyyy, separator="-"),
        "dmy_dot": pl.concat_str(dd, mm, yyyy, separator="."),
        "d_month_y": pl.concat_str(day, pl.col("_long"), yyyy, separator=" "),
        "d_mon_y": pl.concat_str(dd, pl.col("_short"), yyyy, separator=" "),
    }
    return [build[f] for f in formats]


_NAME_STYLES = {
    "upper": pl.col("_v").str.to_uppercase(),
    "asis": pl.col("_v"),
    "lower": pl.col("_v").str.to_lowercase(),
    "double_space": pl.col("_v").str.replace(" ", "  ", literal=True),
    "trailing_space": pl.concat_str(pl.col("_v"), pl.lit("  ")),
}


def _nik_styles() -> dict[str, pl.Expr]:
    nik = pl.col("_v")
    groups = [nik.str.slice(k, 4) for k in (0, 4, 8, 12)]
    return {
        "plain": nik,
        "quote": pl.concat_str(pl.lit("'"), nik),
        "spaces": pl.concat_str(groups, separator=" "),
        "dots": pl.concat_str(groups, separator="."),
        "dashes": pl.concat_str(
            [nik.str.slice(0, 6), nik.str.slice(6, 6), nik.str.slice(12)], separator="-"
        ),
        "padded": pl.concat_str(pl.lit(" "), nik, pl.lit(" ")),
    }


def _phone_styles() -> dict[str, pl.Expr]:
    phone = pl.col("_v")
    rest = phone.str.slice(1)  # without the leading 0
    parts = [phone.str.slice(0, 4), phone.str.slice(4, 4), phone.str.slice(8)]
    return {
        "plain": phone,
        "dashes": pl.concat_str(parts, separator="-"),
        "spaces": pl.concat_str(parts, separator=" "),
        "intl": pl.concat_str(pl.lit("62"), rest),
        "intl_plus": pl.concat_str(pl.lit("+62"), rest),
        "intl_plus_spaced": pl.concat_str(
            [pl.lit("+62"), rest.str.slice(0, 3), rest.str.slice(3, 4), rest.str.slice(7)],
            separator=" ",
        ),
    }


def _render(
    rows: pl.DataFrame, rng: Rng, formats: Sequence[str], spreadsheet: bool
) -> pl.DataFrame:
    """Canonical values → the text a sender types (no defects yet)."""
    cfg = config()
    mess = cfg["mess"]
    roles = list(cfg["roles"])
    nik_tab, nik_names = _style_table(mess["nik_styles"], _nik_styles())
    name_tab, name_names = _style_table(mess["name_styles"], _NAME_STYLES)
    phone_tab, phone_names = _style_table(mess["phone_styles"], _phone_styles())
    date_tab = Choice.of(
        {k: mess["date_formats"][f] for k, f in enumerate(formats)}, dtype=pl.Int64
    )
    pads = [int(p) for p in mess["rt_pad"]]
    pad_tab = Choice.of(dict(enumerate(mess["rt_pad"].values())), dtype=pl.Int64)
    rt_texts = [str(k).zfill(p) for k in range(100) for p in pads]  # (number, pad) → text
    month0 = pl.col("birth_date").dt.month().cast(pl.Int64) - 1
    places = {
        c: rows[c].drop_nulls().unique().sort().to_list()
        for c in ("kelurahan", "kecamatan", "birth_place")
    }
    pad = rng.pick("rt.pad", pad_tab)
    rt_num = pl.col("rt").cast(pl.Int64, strict=False).clip(0, 99)
    rw_num = pl.col("rw").cast(pl.Int64, strict=False).clip(0, 99)
    role_idx = pl.col("role").replace_strict(
        roles, list(range(len(roles))), default=None, return_dtype=pl.Int64
    )
    role_tab = Choice.of(*[s["spellings"] for s in cfg["roles"].values()], dtype=pl.String)
    rows = (
        rows.lazy()
        .with_columns(
            _s_nik=rng.pick("nik.style", nik_tab),
            _s_name=rng.pick("name.style", name_tab),
            _s_mother=rng.pick("mother.style", name_tab),
            _s_phone=rng.pick("phone.style", phone_tab),
            _s_date=rng.pick("dob", date_tab),
            _long=rng.pick("dob.long", Choice.of(*mess["months_long"], dtype=pl.String), month0),
            _long_upper=rng.chance("dob.upper", mess["month_upper"]),
            _short=rng.pick("dob.short", Choice.of(*mess["months_short"], dtype=pl.String), month0),
            _pad=rng.chance("dob.pad", 0.5),
            _place_text=_place_text(rng, "birth_place", "birth_place", places["birth_place"]),
            _rt_text=pl.when(rt_num.is_not_null()).then(
                _gather(rt_texts, rt_num * len(pads) + pad, pl.String)
            ),
            _rw_text=pl.when(rw_num.is_not_null()).then(
                _gather(rt_texts, rw_num * len(pads) + pad, pl.String)
            ),
            kelurahan=_place_text(rng, "kelurahan", "kelurahan", places["kelurahan"]),
            kecamatan=_place_text(rng, "kecamatan", "kecamatan", places["kecamatan"]),
            sex=rng.pick(
                "sex.text",
                Choice.of(mess["sex"]["L"], mess["sex"]["P"], dtype=pl.String),
                (pl.col("sex") == "P").cast(pl.Int64),
            ),
            _sex=pl.col("sex"),
            role=pl.when(role_idx.is_not_null())
            .then(rng.pick("role.spelling", role_tab, role_idx))
            .otherwise(pl.col("role")),
            _ttl_sep=rng.pick("ttl.sep", Choice.of(mess["place_date_separator"], dtype=pl.String)),
            _rtrw_sep=rng.pick("rtrw.sep", Choice.of(mess["rt_rw_separator"], dtype=pl.String)),
            _birth_date=pl.col("birth_date"),
            _dob_cell=pl.lit(spreadsheet) & rng.chance("dob.cell", mess["date_cell"]),
            _phone_cell=pl.lit(spreadsheet)
            & rng.chance("phone.cell", mess["phone_cell"])
            & pl.col("phone").is_not_null(),
            _clean_nik=pl.col("nik"),
            _clean_phone=pl.col("phone"),
            _nik_cell=pl.lit("text"),
        )
        .with_columns(
            _long=pl.when(pl.col("_long_upper"))
            .then(pl.col("_long").str.to_uppercase())
            .otherwise(pl.col("_long")),
        )
        .collect()
    )
    nik_styles, phone_styles = _nik_styles(), _phone_styles()
    birth_text = _by_style(
        rows.select(pl.col("birth_date").alias("_b"), "_long", "_short", "_pad", "_s_date"),
        "_s_date",
        _date_builders(formats),
    )
    rows = rows.with_columns(
        _birth_text=birth_text,
        nik=_by_style(rows.select(_v="nik", _s="_s_nik"), "_s", [nik_styles[n] for n in nik_names]),
        name=_by_style(
            rows.select(_v="name", _s="_s_name"), "_s", [_NAME_STYLES[n] for n in name_names]
        ),
        mother_name=_by_style(
            rows.select(_v="mother_name", _s="_s_mother"),
            "_s",
            [_NAME_STYLES[n] for n in name_names],
        ),
        phone=_by_style(
            rows.select(_v="phone", _s="_s_phone"), "_s", [phone_styles[n] for n in phone_names]
        ),
    )
    return rows.with_columns(
        row_number=(pl.col("_i") + 1).cast(pl.String),
        birth_place=pl.col("_place_text"),
        birth_date=pl.col("_birth_text"),
        birth_place_date=pl.concat_str("_place_text", "_ttl_sep", "_birth_text"),
        rt=pl.col("_rt_text"),
        rw=pl.col("_rw_text"),
        rt_rw=pl.concat_str("_rt_text", "_rtrw_sep", "_rw_text"),
    )


def _text_defects(rows: pl.DataFrame, rng: Rng, city_code: str, mixed: bool) -> pl.DataFrame:
    """Defects that live in the typed text (a NIK with a digit dropped, a bad sex value...)."""
    cfg = config()
    vals = cfg["defect_values"]
    d = pl.col("_defect")
    nik = pl.col("_clean_nik")
    variant = rng.below("defect.variant", 3)
    b = pl.col("_birth_date")
    yyyy = b.dt.year().cast(pl.String)
    dd = b.dt.day().cast(pl.String).str.zfill(2)
    mm = b.dt.month().cast(pl.String).str.zfill(2)
    nik_bad_format = _switch(
        variant,
        [
            pl.concat_str(nik.str.slice(0, 8), nik.str.slice(9)),  # 15 digits
            pl.concat_str(nik.str.slice(0, 12), nik.str.slice(11)),  # 17 digits
            pl.concat_str(nik.str.slice(0, 10), pl.lit("O"), nik.str.slice(11)),  # letter O
        ],
    )
    scientific = pl.concat_str(
        nik.str.slice(0, 1),
        pl.when(rng.chance("sci.comma", 0.4)).then(pl.lit(",")).otherwise(pl.lit(".")),
        nik.str.slice(1, 5),
        pl.lit("E+15"),
    )
    nik_bad_date = _switch(
        variant,
        [
            pl.concat_str(nik.str.slice(0, 6), pl.lit("00"), nik.str.slice(8)),  # day 00
            pl.concat_str(nik.str.slice(0, 6), pl.lit("35"), nik.str.slice(8)),  # day 35
            pl.concat_str(nik.str.slice(0, 8), pl.lit("13"), nik.str.slice(10)),  # month 13
        ],
    )
    district = _gather(unknown_district_codes(city_code), rng.below("district", 3), pl.String)
    region = _gather(
        cfg["nik"]["never_region"], rng.below("region", len(cfg["nik"]["never_region"])), pl.String
    )
    bad_date = _switch(
        rng.below("dob.bad", 4),
        [
            pl.concat_str(pl.lit("30/02/"), yyyy),
            yyyy,
            pl.concat_str(dd, mm, separator="-"),
            pl.when(b.dt.day() > 12)
            .then(pl.concat_str(mm, dd, yyyy, separator="/"))
            .otherwise(pl.concat_str(pl.lit("31/04/"), yyyy)),
        ],
    )
    phone = pl.col("_clean_phone").fill_null(pl.lit("08123456789"))
    bad_phone = _switch(
        rng.below("phone.bad", 3),
        [phone.str.slice(0, 6), pl.concat_str(phone, pl.lit("0000")), pl.lit("12345")],
    )
    places = _city(city_code)
    kel_idx = pl.col("kelurahan_code").replace_strict(
        places["kelurahan_code"], list(range(places.height)), default=None, return_dtype=pl.Int64
    )
    kec_first = (
        places.with_row_index("_k")
        .group_by("kecamatan_code")
        .agg(_kstart=pl.col("_k").min().cast(pl.Int64), _kcount=pl.len().cast(pl.Int64))
    )
    rows = rows.join(kec_first, on="kecamatan_code", how="left", maintain_order="left")
    other = rng.below("kel.other", (places.height - pl.col("_kcount")).clip(1))
    other = pl.when(other >= pl.col("_kstart")).then(other + pl.col("_kcount")).otherwise(other)
    mismatched = _gather(places["kelurahan"], other, pl.String)
    ineligible = _ineligible_roles(rng, mixed)
    is_nik = d.is_in(["NIK_PRECISION_LOST", "NIK_NUMERIC_CELL"])
    new_nik = (
        pl.when(d == "NIK_MISSING")
        .then(pl.lit(None, pl.String))
        .when(d == "NIK_FORMAT")
        .then(nik_bad_format)
        .when(d == "NIK_SCIENTIFIC")
        .then(scientific)
        .when(d == "NIK_REGION")
        .then(pl.concat_str(region, nik.str.slice(4)))
        .when(d == "NIK_DISTRICT_UNKNOWN")
        .then(pl.concat_str(pl.lit(city_code.replace(".", "")), district, nik.str.slice(6)))
        .when(d == "NIK_BIRTHDATE")
        .then(nik_bad_date)
        .when(d == "NIK_SERIAL")
        .then(pl.concat_str(nik.str.slice(0, 12), pl.lit("0000")))
        .when(is_nik)
        .then(nik)
        .otherwise(pl.col("nik"))
    )
    flip_sex = pl.when(pl.col("_sex") == "P").then(pl.lit("L")).otherwise(pl.lit("P"))
    return rows.with_columns(
        nik=new_nik,
        _clean_nik=pl.when(d.is_in(["NIK_MISSING", "NIK_FORMAT", "NIK_SCIENTIFIC"]))
        .then(pl.lit(None, pl.String))
        .otherwise(
            pl.when(d.is_in(["NIK_REGION", "NIK_DISTRICT_UNKNOWN", "NIK_BIRTHDATE", "NIK_SERIAL"]))
            .then(new_nik)
            .otherwise(nik)
        ),
        # A 16-digit number above 2**53 cannot even be stored exactly: it loses its last digit.
        _nik_cell=pl.when(d == "NIK_PRECISION_LOST")
        .then(pl.lit("excel"))
        .when(d == "NIK_NUMERIC_CELL")
        .then(
            pl.when(nik.cast(pl.Int64, strict=False) < 2**53)
            .then(pl.lit("number"))
            .otherwise(pl.lit("excel"))
        )
        .otherwise(pl.lit("text")),
        name=pl.when(d == "NAME_MISSING").then(pl.lit(None, pl.String)).otherwise(pl.col("name")),
        birth_date=pl.when(d == "DOB_MISSING")
        .then(pl.lit(None, pl.String))
        .when(d == "DOB_FORMAT")
        .then(bad_date)
        .otherwise(pl.col("birth_date")),
        birth_place_date=pl.when(d == "DOB_MISSING")
        .then(pl.col("birth_place"))
        .when(d == "DOB_FORMAT")
        .then(pl.concat_str(pl.col("birth_place"), pl.lit(", "), bad_date))
        .otherwise(pl.col("birth_place_date")),
        _birth_date=pl.when(d.is_in(["DOB_MISSING", "DOB_FORMAT"]))
        .then(pl.lit(None, pl.Date))
        .otherwise(pl.col("_birth_date")),
        sex=pl.when(d == "SEX_INVALID")
        .then(
            _gather(vals["sex_invalid"], rng.below("sex.bad", len(vals["sex_invalid"])), pl.String)
        )
        .when(d == "NIK_SEX_MISMATCH")
        .then(flip_sex)
        .otherwise(pl.col("sex")),
        phone=pl.when(d == "PHONE_FORMAT").then(bad_phone).otherwise(pl.col("phone")),
        _phone_cell=pl.col("_phone_cell") & (d != "PHONE_FORMAT").fill_null(True),
        kecamatan=pl.when(d == "KECAMATAN_UNKNOWN")
        .then(
            _gather(
                vals["kecamatan_unknown"],
                rng.below("kec.bad", len(vals["kecamatan_unknown"])),
                pl.String,
            )
        )
        .otherwise(pl.col("kecamatan")),
        kelurahan=pl.when(d == "KELURAHAN_UNKNOWN")
        .then(
            _gather(
                vals["kelurahan_unknown"],
                rng.below("kel.bad", len(vals["kelurahan_unknown"])),
                pl.String,
            )
        )
        .when(d == "KELURAHAN_MISMATCH")
        .then(pl.when(kel_idx.is_not_null()).then(mismatched))
        .otherwise(pl.col("kelurahan")),
        role=pl.when(d == "ROLE_NOT_ELIGIBLE").then(ineligible).otherwise(pl.col("role")),
        occupation=pl.when(d == "OCCUPATION_EXCLUDED")
        .then(
            _gather(
                vals["excluded_occupations"],
                rng.below("occ.bad", len(vals["excluded_occupations"])),
                pl.String,
            )
        )
        .otherwise(pl.col("occupation")),
        kusuka_number=pl.when(d == "DECREE_FIELD_MISSING")
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("kusuka_number")),
    )


def _ineligible_roles(rng: Rng, mixed: bool) -> pl.Expr:
    """A role the row's decree does not cover: one no decree covers, or another group's.

    On a roster of several groups another group's role may well be eligible: there only the
    roles no decree covers.
    """
    cfg = config()
    none = cfg["defect_values"]["ineligible_roles"]
    group_names = [g for g in GROUPS if g != "mixed"]
    groups = []
    for g in group_names:
        others = [r for r, s in cfg["roles"].items() if s["group"] != g]
        groups.append({**{r: 2.0 for r in none}, **{r: 1.0 for r in others}})
    gidx = pl.col("_group").replace_strict(
        group_names, list(range(len(group_names))), return_dtype=pl.Int64
    )
    if mixed:
        return rng.pick("role.bad", Choice.of(none, dtype=pl.String))
    return rng.pick("role.bad", Choice.of(*groups, dtype=pl.String), gidx)


def _with_truth(
    rows: pl.LazyFrame, city_code: str, as_of: date, age_range: tuple[int, int]
) -> pl.LazyFrame:
    """The ground truth columns, and the roster columns in their order."""
    d = pl.col("_defect")
    numeric = pl.col("_nik_cell") != "text"
    lost = numeric & ((pl.col("_nik_cell") == "excel") | pl.col("_clean_nik").str.ends_with("0"))
    natural_age = ~_age(pl.col("_birth_date"), as_of).is_between(*age_range)
    dup_code = pl.col("_dup_kind").replace_strict(
        {
            "exact": "NIK_DUPLICATE",
            "near": "NEAR_DUPLICATE_HELD",  # the later row, held until the pair is decided
            "twin": "NIK_CONFLICT",
            "twin_original": "NIK_CONFLICT",
        },
        default=None,
        return_dtype=pl.String,
    )
    return rows.with_columns(
        _truth_code=pl.when(lost)
        .then(pl.lit("NIK_PRECISION_LOST"))
        .when(d.is_not_null())
        .then(d)
        .when(dup_code.is_not_null())
        .then(dup_code)
        .when(natural_age)
        .then(pl.lit("AGE_OUT_OF_RANGE")),
        _truth_dup_of=pl.col("_dup_of").cast(pl.Int64),
        _truth_dup_kind=pl.col("_dup_kind").replace("twin_original", None),
        _truth_person=pl.col("_p"),
        _truth_group=pl.col("_group"),
        _truth_outside_city=pl.col("_clean_nik").is_not_null()
        & ~pl.col("_clean_nik").str.starts_with(city_code.replace(".", "")),
    ).select(
        *ROSTER_COLUMNS,
        "_nik_cell",
        "_dob_cell",
        "_phone_cell",
        "_birth_date",
        *TRUTH_COLUMNS,
        "_i",
    )


def truth(messy: pl.DataFrame, first_row: int | None = None) -> pl.DataFrame:
    """The ground truth of a ``mess_up`` roster, one row per roster row.

    Columns: ``index`` (0-based row of the roster body), ``row`` (the row a person sees, when
    ``first_row`` — what the writers return — is given), ``code``, ``dup_of`` (index of the row
    this one repeats), ``dup_kind``, ``person`` (index in ``people``), ``group``,
    ``outside_city``.
    """
    out = messy.select(list(TRUTH_COLUMNS)).rename(TRUTH_COLUMNS).with_row_index("index")
    out = out.with_columns(pl.col("index").cast(pl.Int64))
    if first_row is not None:
        out = out.with_columns(
            row=pl.col("index") + first_row, dup_of_row=pl.col("dup_of") + first_row
        )
    return out


# ---------------------------------------------------------------------------------------------
# Writers


def default_headers(frame: pl.DataFrame) -> dict[str, str]:
    """field → header text for the roster fields ``frame`` carries (first alias, or NO)."""
    from jamsos_cli.schema import aliases

    names = aliases()
    return {
        f: (names.get(f) or [f.upper()])[0]
        for f in ROSTER_COLUMNS
        if f in frame.columns and f not in ("birth_place_date", "rt_rw")
    }


def _row_cells(row: str | Sequence[Any], width: int) -> list[Any]:
    cells = [row] if isinstance(row, str) else list(row)
    return cells + [None] * max(0, width - len(cells))


def _check_headers(frame: pl.DataFrame, headers: Mapping[str, str]) -> None:
    missing = [f for f in headers if f not in frame.columns]
    if missing:
        raise ValueError(f"the roster has no column(s) {missing} for the headers given")


def write_csv(
    frame: pl.DataFrame,
    path: str | Path,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    title_rows: Sequence[str | Sequence[Any]] = (),
    footer_rows: Sequence[str | Sequence[Any]] = (),
    headers: Mapping[str, str] | None = None,
    line_terminator: str = "\r\n",
    chunk_rows: int = 500_000,
) -> int:
    """Write a roster as a sender's CSV; return the line of its first data row.

    ``encoding``: "utf-8", "utf-8-sig" (with BOM, as Excel saves) or "cp1252" (Windows);
    ``title_rows`` above and ``footer_rows`` below the table (a string is one cell, padded with
    empty cells like a spreadsheet saved as CSV); ``headers`` maps field → header text, in
    order (default ``default_headers``). Written in chunks, so big rosters stream.
    """
    headers = dict(headers or default_headers(frame))
    _check_headers(frame, headers)
    width = len(headers)
    body = frame.select([pl.col(f).alias(f"c{k}") for k, f in enumerate(headers)])
    codec = "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding
    codecs.lookup(codec)  # an unknown encoding fails before the file is touched

    def lines(rows: Sequence[str | Sequence[Any]]) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=delimiter, lineterminator=line_terminator)
        for row in rows:
            writer.writerow(["" if c is None else c for c in _row_cells(row, width)])
        return buf.getvalue()

    with open(path, "wb") as fh:
        if codec != encoding:
            fh.write("\ufeff".encode())
        fh.write(lines([*title_rows, list(headers.values())]).encode(codec))
        for start in range(0, body.height, chunk_rows):
            chunk = body.slice(start, chunk_rows)
            text = chunk.write_csv(
                None, include_header=False, separator=delimiter, line_terminator=line_terminator
            )
            fh.write(text.encode(codec))
        fh.write(lines(footer_rows).encode(codec))
    return len(title_rows) + 2


def _nik_number(text: str | None, mode: str) -> int | None:
    """The number a NIK cell holds: exact ("number"), or typed into Excel, which keeps 15
    significant digits ("excel": the 16th becomes 0). None when the text is not 16 digits."""
    digits = "".join(ch for ch in text or "" if ch.isdigit())
    if len(digits) != 16 or mode == "text":
        return None
    return int(digits[:15] + "0") if mode == "excel" else int(digits)


def write_xlsx(
    frame: pl.DataFrame,
    path: str | Path,
    *,
    title_rows: Sequence[str | Sequence[Any]] = (),
    footer_rows: Sequence[str | Sequence[Any]] = (),
    headers: Mapping[str, str] | None = None,
    numeric_nik: bool = False,
    sheet_name: str = "Sheet1",
    extra_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    created: datetime = XLSX_CREATED,
) -> int:
    """Write a roster as a sender's workbook (xlsxwriter); return the row of its first data row.

    Cells follow the roster's hints: ``_nik_cell`` "number" writes the NIK as an exact number,
    "excel" as the number Excel keeps when one types 16 digits (the last becomes 0);
    ``numeric_nik=True`` does the latter for every 16-digit NIK (a careless Excel user).
    ``_dob_cell`` rows get a real date cell, ``_phone_cell`` rows a numeric phone (08xx: its
    leading 0 lost). ``extra_sheets`` adds sheets after the roster (name → rows). The document's
    creation time is fixed, so the same roster gives the same bytes.
    """
    import xlsxwriter

    headers = dict(headers or default_headers(frame))
    _check_headers(frame, headers)
    fields = list(headers)
    hints = {
        c: c in frame.columns for c in ("_nik_cell", "_dob_cell", "_phone_cell", "_birth_date")
    }
    big = frame.height > 50_000
    if frame.height + len(title_rows) + len(footer_rows) + 1 > 1_048_576:
        raise ValueError(f"{frame.height} rows do not fit in one Excel sheet (1,048,576 rows)")
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": big,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties({"created": created, "author": "jamsos synthetic data"})
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#D9E1F2"})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    number_fmt = wb.add_format({"num_format": "0"})
    ws = wb.add_worksheet(sheet_name)
    for k, f in enumerate(fields):
        ws.set_column(
            k,
            k,
            28
            if f in ("name", "address", "mother_name", "birth_place_date")
            else 18
            if f in ("nik", "phone", "kelurahan", "kecamatan", "role")
            else 10,
        )
    r = 0
    for row in title_rows:
        for c, value in enumerate(_row_cells(row, 0)):
            if value not in (None, ""):
                ws.write_string(r, c, str(value), bold)
        r += 1
    for c, h in enumerate(headers.values()):
        ws.write_string(r, c, h, head)
    r += 1
    first = r + 1
    nik_col = fields.index("nik") if "nik" in fields else None
    dob_col = fields.index("birth_date") if "birth_date" in fields else None
    phone_col = fields.index("phone") if "phone" in fields else None
    extra = [c for c, present in hints.items() if present]
    for values in frame.select(*fields, *extra).iter_rows():
        row = dict(zip(extra, values[len(fields) :], strict=True))
        for c, value in enumerate(values[: len(fields)]):
            if value is None:
                continue
            if c == nik_col:
                mode = "excel" if numeric_nik else row.get("_nik_cell", "text")
                number = _nik_number(value, mode)
                if number is not None:
                    ws.write_number(r, c, number, number_fmt)
                    continue
            elif c == dob_col and row.get("_dob_cell") and row.get("_birth_date") is not None:
                ws.write_datetime(
                    r, c, datetime.combine(row["_birth_date"], datetime.min.time()), date_fmt
                )
                continue
            elif c == phone_col and row.get("_phone_cell"):
                # 0812... typed as a number: Excel drops the leading 0.
                digits = "".join(ch for ch in value if ch.isdigit())
                if digits.startswith("0"):
                    ws.write_number(r, c, int(digits), number_fmt)
                    continue
            ws.write_string(r, c, str(value))
        r += 1
    for row in footer_rows:
        for c, value in enumerate(_row_cells(row, 0)):
            if isinstance(value, int | float) and not isinstance(value, bool):
                ws.write_number(r, c, value)
            elif value not in (None, ""):
                ws.write_string(r, c, str(value))
        r += 1
    for name, rows in (extra_sheets or {}).items():
        sheet = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(i, c, value)
                elif value not in (None, ""):
                    sheet.write_string(i, c, str(value))
    wb.close()
    return first


# ---------------------------------------------------------------------------------------------
# The committed sample_data/


def _sample_people(recipe: Mapping[str, Any], built: Mapping[str, Any]) -> pl.DataFrame:
    """The people of one sample file: generated, renamed, and shared with an earlier file."""
    people = generate_people(
        int(recipe["rows"]),
        seed=int(recipe["seed"]),
        group=recipe["group"],
        kecamatan=recipe.get("kecamatan"),
        kelurahan=recipe.get("kelurahan"),
        roles=recipe.get("roles"),
    ).with_columns(_keep_clean=pl.lit(False))
    for k, name in (recipe.get("rename") or {}).items():
        people = people.with_columns(
            name=pl.when(pl.int_range(pl.len()) == int(k))
            .then(pl.lit(name))
            .otherwise(pl.col("name"))
        )
    share = recipe.get("share")
    if share:
        # The same people on an earlier list: identity from there, role and place of work here.
        source_people, source_messy = built[share["from"]]
        clean = truth(source_messy).filter(pl.col("code").is_null() & pl.col("dup_of").is_null())
        repeated = set(truth(source_messy)["dup_of"].drop_nulls().to_list())
        picks = [
            p for i, p in zip(clean["index"], clean["person"], strict=True) if i not in repeated
        ][: int(share["count"])]
        identity = [
            "nik",
            "name",
            "birth_place",
            "birth_date",
            "sex",
            "address",
            "rt",
            "rw",
            "kelurahan",
            "kecamatan",
            "kelurahan_code",
            "kecamatan_code",
            "phone",
            "mother_name",
            "_ethnicity",
        ]
        positions = [int(p) for p in share["at"]][: len(picks)]
        people = _replace_rows(people, positions, source_people[picks].select(identity), identity)
    return people


def _replace_rows(
    people: pl.DataFrame, positions: Sequence[int], shared: pl.DataFrame, identity: Sequence[str]
) -> pl.DataFrame:
    """``people`` with the identity columns of rows ``positions`` taken from ``shared``."""
    idx = pl.DataFrame(
        {"_pos": positions, "_k": list(range(len(positions)))},
        schema={"_pos": pl.Int64, "_k": pl.Int64},
    )
    marked = (
        people.with_row_index("_pos")
        .with_columns(pl.col("_pos").cast(pl.Int64))
        .join(idx, on="_pos", how="left", maintain_order="left")
    )
    swap = pl.col("_k").is_not_null()
    shared_cols = {c: _gather_series(shared[c], pl.col("_k").fill_null(0)) for c in identity}
    return marked.with_columns(
        **{c: pl.when(swap).then(e).otherwise(pl.col(c)) for c, e in shared_cols.items()},
        _keep_clean=swap,
    ).select(people.columns)


def _gather_series(values: pl.Series, idx: pl.Expr) -> pl.Expr:
    return pl.lit(values).gather(idx)


def _footer(recipe: Mapping[str, Any], rows: int) -> list[list[Any]]:
    """The rows under the table: the total line and the signature block, as senders add them."""
    out: list[list[Any]] = [
        [c.format(rows=rows) if isinstance(c, str) else c for c in row]
        for row in recipe.get("footer", [])
    ]
    column = int(recipe.get("signature_column", 0))
    out.extend([None] * column + [line] for line in recipe.get("signature", []))
    return out


def _rekap(people: pl.DataFrame) -> dict[str, list[list[Any]]]:
    """A summary sheet (count per kelurahan), the kind that sits next to the list."""
    counts = people.group_by("kelurahan").len().sort("kelurahan")
    rows: list[list[Any]] = [["REKAP PER KELURAHAN"], [], ["KELURAHAN", "JUMLAH"]]
    rows += [[k, int(n)] for k, n in counts.iter_rows()]
    rows.append(["TOTAL", int(counts["len"].sum())])
    return {"REKAP": rows}


def build_samples(out_dir: str | Path) -> list[Path]:
    """Write the demo rosters of ``synthetic.toml`` ``[[samples]]`` and their README."""
    cfg = config()
    out = Path(out_dir)
    built: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    written: list[Path] = []
    sections: list[str] = []
    for recipe in cfg["samples"]:
        people = _sample_people(recipe, built)
        path = out / recipe["file"]
        xlsx = path.suffix == ".xlsx"
        headers = {field: text for field, text in recipe["headers"]}
        messy = mess_up(
            people,
            seed=int(recipe["seed"]) + 1,
            defect_rate=float(recipe["defect_rate"]),
            dup_rate=float(recipe["dup_rate"]),
            formats=recipe.get("formats"),
            fields=headers,
            spreadsheet=xlsx,
            defect_weights=recipe.get("defect_weights"),
        )
        built[path.stem] = (people, messy)
        title = [t.format(rows=messy.height) for t in recipe.get("title", [])]
        footer = _footer(recipe, messy.height)
        path.parent.mkdir(parents=True, exist_ok=True)
        if xlsx:
            first = write_xlsx(
                messy,
                path,
                title_rows=title,
                footer_rows=footer,
                headers=headers,
                sheet_name=recipe.get("sheet", "Sheet1"),
                extra_sheets=_rekap(people) if recipe.get("rekap") else None,
            )
        else:
            first = write_csv(
                messy,
                path,
                encoding=recipe.get("encoding", "utf-8"),
                delimiter=recipe.get("delimiter", ","),
                title_rows=title,
                footer_rows=footer,
                headers=headers,
            )
        written.append(path)
        sections.append(_readme_section(recipe, messy, first))
    readme = out / "README.md"
    readme.write_text(
        cfg["readme"]["intro"].rstrip() + "\n\n" + "\n".join(sections), encoding="utf-8"
    )
    return [*written, readme]


def _readme_section(recipe: Mapping[str, Any], messy: pl.DataFrame, first: int) -> str:
    """What a sample file is and which row must raise which finding (from the ground truth)."""
    t = truth(messy, first)
    bad = t.filter(pl.col("code").is_not_null())
    lines = [
        f"### `{recipe['file']}`",
        "",
        recipe["about"].strip(),
        "",
        f"{messy.height} rows, {bad.height} with a planted finding; "
        f"{int(t['outside_city'].sum())} NIKs first issued outside Kota Batam "
        "(NIK_OUTSIDE_CITY, a warning, not listed).",
        "",
    ]
    share = recipe.get("share")
    if share:
        who = "person here is" if share["count"] == 1 else "people here are"
        lines += [
            f"{share['count']} {who} also on `{share['from']}` "
            "(same NIK, name and birth date): accepted on their own, but once a batch of "
            "that list is in the ledger they are ALREADY_ENROLLED here.",
            "",
        ]
    lines += ["| row | finding | note |", "|---|---|---|"]
    for row in bad.iter_rows(named=True):
        note = ""
        if row["dup_of"] is not None:
            note = f"{row['dup_kind']} repeat of row {row['dup_of_row']}"
        elif row["code"] == "NIK_CONFLICT":
            note = "the twin sharing this NIK comes later"
        lines.append(f"| {row['row']} | {row['code']} | {note} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Command line: python -m tests.synthetic roster|samples (from the repository root)


def _cli():  # pragma: no cover - exercised through the tests' subprocess call
    import typer

    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        help="Synthetic rosters of fictional people, messy on purpose.",
    )

    @app.command()
    def roster(
        out: Path = typer.Argument(..., help="Roster to write (.csv or .xlsx)."),
        rows: int = typer.Option(1000, help="People before duplicates are added."),
        seed: int = typer.Option(1),
        group: str = typer.Option("mixed", help="rt_rw, transport, fisher or mixed."),
        fmt: str = typer.Option(None, "--format", help="csv or xlsx (default: OUT's suffix)."),
        encoding: str = typer.Option("utf-8", help="CSV: utf-8, utf-8-sig or cp1252."),
        delimiter: str = typer.Option(",", help="CSV: , ; | or tab."),
        defects: float = typer.Option(0.02, help="Share of rows with a planted defect."),
        dups: float = typer.Option(0.01, help="Share of people typed twice."),
        numeric_nik: bool = typer.Option(False, help="XLSX: every NIK as an Excel number."),
    ) -> None:
        """Write one messy roster and OUT.truth.parquet (the finding each row must raise)."""
        kind = (fmt or out.suffix.lstrip(".")).lower()
        if kind not in ("csv", "xlsx"):
            raise typer.BadParameter("use --format csv or xlsx (or an OUT ending so)")
        if group not in GROUPS:
            raise typer.BadParameter(f"--group must be one of {', '.join(GROUPS)}")
        if kind == "xlsx" and rows * (1 + dups) > 1_000_000:
            raise typer.BadParameter("an Excel sheet holds about a million rows: use csv")
        people = generate_people(rows, seed=seed, group=group)
        messy = mess_up(
            people, seed=seed + 1, defect_rate=defects, dup_rate=dups, spreadsheet=kind == "xlsx"
        )
        if kind == "xlsx":
            first = write_xlsx(messy, out, numeric_nik=numeric_nik)
        else:
            sep = "\t" if delimiter.lower() in ("tab", "\\t") else delimiter
            try:
                first = write_csv(messy, out, encoding=encoding, delimiter=sep)
            except (LookupError, UnicodeEncodeError) as err:
                raise typer.BadParameter(f"--encoding {encoding}: {err}") from err
        truth_path = out.with_name(out.name + ".truth.parquet")
        truth(messy, first).write_parquet(truth_path)
        typer.echo(f"{out}: {messy.height} rows; truth in {truth_path}", err=True)

    @app.command()
    def samples(out_dir: Path = typer.Argument(Path("sample_data"))) -> None:
        """Regenerate the committed sample_data/ (same bytes every time)."""
        for path in build_samples(out_dir):
            typer.echo(str(path), err=True)

    app()


if __name__ == "__main__":  # pragma: no cover
    _cli()
