"""Synthetic rosters: fictional people, and the messy files senders type, with the ground truth.

Used by tests, benchmarks and the committed ``sample_data/``. Every random draw comes from a
counter-based generator (SplitMix64 of the row index and a stream name, as Polars UInt64
arithmetic), so a seed gives the same people on every machine, Python and Polars version, and
nothing loops over rows in Python: ten million people take seconds.

- ``generate_people`` makes clean, canonical people (valid NIKs consistent with birth date and
  sex, official Batam kelurahan/kecamatan, roles by decree group).
- ``mess_up`` turns them into the text of a hand-typed roster and plants defects and duplicates;
  the ``_truth_*`` columns (``truth()``) say which finding each row must raise.
- ``write_csv`` / ``write_xlsx`` write a roster as senders do (titles, footers, encodings,
  numeric NIK cells); ``build_samples`` regenerates ``sample_data/``.

The names, spellings, defect kinds and sample recipes are data: ``schemas/synthetic.toml``.
"""

from __future__ import annotations

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

GROUPS = ("rt_rw", "transport", "fisher", "mixed")
DATE_FORMATS = ("iso", "dmy_slash", "dmy_dash", "dmy_dot", "d_month_y", "d_mon_y")
# Canonical people columns, in order (generate_people); ``_``-columns are metadata.
PEOPLE_COLUMNS = (
    "nik", "name", "birth_place", "birth_date", "sex", "address", "rt", "rw", "kelurahan",
    "kecamatan", "kelurahan_code", "kecamatan_code", "phone", "mother_name", "role",
    "occupation", "work_location", "kusuka_number", "boat_name", "_group", "_ethnicity",
)
# Text columns of a messy roster (mess_up): the roster fields a writer can put in a file.
ROSTER_COLUMNS = (
    "row_number", "nik", "name", "birth_place", "birth_date", "birth_place_date", "sex",
    "address", "rt", "rw", "rt_rw", "kelurahan", "kecamatan", "phone", "mother_name", "role",
    "occupation", "work_location", "kusuka_number", "boat_name",
)
# Combined columns carry the fields they combine (for deciding which defects can show).
_COMBINED = {"birth_place_date": ("birth_place", "birth_date"), "rt_rw": ("rt", "rw")}
TRUTH_COLUMNS = {
    "_truth_code": "code", "_truth_dup_of": "dup_of", "_truth_dup_kind": "dup_kind",
    "_truth_person": "person", "_truth_group": "group", "_truth_outside_city": "outside_city",
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


def _u64(v: int) -> pl.Expr:
    return pl.lit(v, dtype=pl.UInt64)


def _mix_series(z: pl.Series) -> pl.Series:
    """The SplitMix64 finaliser over a UInt64 Series (Polars integer arithmetic wraps).

    On a Series, not an expression: an expression tree would repeat each shifted operand.
    """
    c = [pl.Series([v], dtype=pl.UInt64) for v in
         (1 << 30, 0xBF58476D1CE4E5B9, 1 << 27, 0x94D049BB133111EB, 1 << 31)]
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

    def _map(self, stream: str, fn: Callable[..., pl.Series], dtype: Any, *extra: pl.Expr
             ) -> pl.Expr:
        words = _stream(self.key(stream))
        return pl.map_batches([pl.col(self.index), *extra],
                              lambda cols: fn(words(cols[0]), *cols[1:]),
                              return_dtype=dtype, is_elementwise=True)

    def bits(self, stream: str) -> pl.Expr:
        return self._map(stream, lambda w: w, pl.UInt64)

    def uniform(self, stream: str) -> pl.Expr:
        """Float64 in [0, 1)."""
        return self._map(stream, _uniform_series, pl.Float64)

    def below(self, stream: str, k: int | pl.Expr) -> pl.Expr:
        """Int64 in [0, k)."""
        if isinstance(k, int):
            mod = pl.Series([k], dtype=pl.UInt64)
            return self._map(stream, lambda w: (w % mod).cast(pl.Int64), pl.Int64)
        return self._map(stream, lambda w, kk: (w % kk.cast(pl.UInt64)).cast(pl.Int64),
                         pl.Int64, k)

    def chance(self, stream: str, p: float | pl.Expr) -> pl.Expr:
        return self.uniform(stream) < p

    def pick_index(self, stream: str, table: Choice, group: pl.Expr | None = None) -> pl.Expr:
        """Index into ``table.values`` (among the row's ``group``)."""
        extra = [] if group is None else [group]
        return self._map(stream, lambda w, *g: table.pick_series(_uniform_series(w), *g),
                         pl.Int64, *extra)

    def pick(self, stream: str, table: Choice, group: pl.Expr | None = None) -> pl.Expr:
        """A value of ``table`` (among the row's ``group``)."""
        extra = [] if group is None else [group]
        return self._map(
            stream,
            lambda w, *g: table.values.gather(table.pick_series(_uniform_series(w), *g)),
            table.values.dtype, *extra)


def _weighted(spec: Mapping[Any, float] | Sequence[Any]) -> tuple[list[Any], list[float]]:
    """A TOML weight table ``{value = weight}`` or a plain list (equal weights)."""
    if isinstance(spec, Mapping):
        return list(spec), [float(w) for w in spec.values()]
    return list(spec), [1.0] * len(spec)


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
        return cls(pl.Series(values, dtype=dtype), pl.Series(prob, dtype=pl.Float64),
                   pl.Series(alias, dtype=pl.Int64), pl.Series(offset, dtype=pl.Int64),
                   pl.Series(count, dtype=pl.Int64))

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
        keep = (scaled - slot) < self.prob.gather(idx)
        return idx.zip_with(keep, self.alias.gather(idx))


def _gather(values: Sequence[Any], idx: pl.Expr, dtype: Any = None) -> pl.Expr:
    return pl.lit(pl.Series(list(values), dtype=dtype)).gather(idx)


def _fill_templates(selector: pl.Expr, templates: Sequence[str], slots: Mapping[str, pl.Expr]
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


# ---------------------------------------------------------------------------------------------
# Data


@cache
def config() -> dict[str, Any]:
    """``schemas/synthetic.toml``."""
    with schema_file("synthetic.toml").open("rb") as fh:
        return tomllib.load(fh)


@cache
def _regions() -> pl.DataFrame:
    """Every current and former kecamatan: dotted code, name, regency and province codes."""
    cur = pl.read_csv(schema_file("reference", "wilayah_kemendagri.csv"), infer_schema=False)
    old = pl.read_csv(schema_file("reference", "wilayah_kode_lama.csv"), infer_schema=False)
    frames = [cur.with_columns(former=pl.lit(False)), old.drop("edisi_terakhir").with_columns(
        former=pl.lit(True))]
    return pl.concat(frames).with_columns(
        regency=pl.col("kode").str.slice(0, 5), province=pl.col("kode").str.slice(0, 2)
    )


@cache
def _city(city_code: str) -> tuple[pl.DataFrame, str]:
    """The city's kelurahan (code, name, kecamatan code and name), sorted; and its name."""
    reg = _regions().filter(~pl.col("former"))
    kec = reg.filter((pl.col("tingkat") == "kecamatan") & (pl.col("regency") == city_code))
    kel = reg.filter((pl.col("tingkat") == "kelurahan_desa") & (pl.col("regency") == city_code))
    if kel.is_empty():
        raise ValueError(f"no kelurahan for city code {city_code!r} in the reference table")
    name = reg.filter(pl.col("kode") == city_code)["nama"].to_list()
    table = (
        kel.select(kelurahan_code="kode", kelurahan="nama",
                   kecamatan_code=pl.col("kode").str.slice(0, 8))
        .join(kec.select(kecamatan_code="kode", kecamatan="nama"), on="kecamatan_code")
        .sort("kelurahan_code")
    )
    return table, (name[0] if name else city_code)


def unknown_district_codes(city_code: str, k: int = 3) -> list[str]:
    """Two-digit kecamatan numbers no current or former kecamatan of the regency uses."""
    used = set(
        _regions()
        .filter((pl.col("tingkat") == "kecamatan") & (pl.col("regency") == city_code))
        ["kode"].str.slice(6, 2).to_list()
    )
    return [f"{d:02d}" for d in range(99, 0, -1) if f"{d:02d}" not in used][:k]


@cache
def _origin_tables(city_code: str) -> tuple[Choice, Choice, Choice, list[str]]:
    """Region choices for NIKs issued outside the city.

    Returns (ethnicity → province group, province group → its current kecamatan,
    former kecamatan, province codes in group order).
    """
    cfg = config()
    reg = _regions()
    kec = reg.filter((pl.col("tingkat") == "kecamatan") & (pl.col("regency") != city_code))
    current = kec.filter(~pl.col("former"))
    provinces = sorted({p for e in cfg["ethnicities"].values() for p in e["origin"]})
    by_province = [
        current.filter(pl.col("province") == p)["kode"].str.replace_all(".", "", literal=True)
        .cast(pl.Int64).sort().to_list()
        for p in provinces
    ]
    eth = [
        {provinces.index(p): w for p, w in cfg["ethnicities"][e]["origin"].items()}
        for e in cfg["ethnicities"]
    ]
    former = (
        kec.filter(pl.col("former"))["kode"].str.replace_all(".", "", literal=True)
        .cast(pl.Int64).sort().to_list()
    )
    return (Choice.of(*eth, dtype=pl.Int64), Choice.of(*by_province, dtype=pl.Int64),
            Choice.of(former, dtype=pl.Int64), provinces)


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


def _name_tables(female_only: bool = False) -> dict[str, Choice]:
    """Name pieces grouped by (ethnicity, sex): group = 2 * ethnicity + (1 if female)."""
    eth = config()["ethnicities"]
    out: dict[str, Choice] = {}
    for piece in ("prefix", "first", "middle", "last"):
        groups = []
        for spec in eth.values():
            for sex in ("male", "female"):
                p = spec[sex][piece]
                groups.append(p["values"] if isinstance(p, Mapping) else p)
        out[piece] = Choice.of(*groups, dtype=pl.String)
    return out


def _name_shares(piece: str) -> list[float]:
    eth = config()["ethnicities"]
    return [
        (s[sex][piece]["share"] if isinstance(s[sex][piece], Mapping) else 1.0)
        for s in eth.values()
        for sex in ("male", "female")
    ]


def _full_name(rng: Rng, stream: str, group: pl.Expr, age: pl.Expr | None) -> pl.Expr:
    """[H./Hj.] [prefix] first [middle] [last][, degree] for ethnicity-sex group ``group``."""
    cfg = config()
    tables = _name_tables()
    pieces = []
    for piece in ("prefix", "first", "middle", "last"):
        value = rng.pick(f"{stream}.{piece}", tables[piece], group)
        if piece != "first":
            share = _gather(_name_shares(piece), group, pl.Float64)
            value = pl.when(rng.chance(f"{stream}.{piece}.on", share)).then(value)
        pieces.append(value)
    if age is not None:
        haji_share = [e["haji"] for e in cfg["ethnicities"].values() for _ in (0, 1)]
        title = _gather([cfg["titles"]["haji"]["L"], cfg["titles"]["haji"]["P"]] * len(
            cfg["ethnicities"]), group, pl.String)
        haji = rng.chance(f"{stream}.haji", _gather(haji_share, group, pl.Float64)) & (age >= 40)
        pieces.insert(0, pl.when(haji).then(title))
    name = pl.concat_str(pieces, separator=" ", ignore_nulls=True)
    if age is not None:
        degree = rng.pick(f"{stream}.degree", Choice.of(cfg["titles"]["degrees"]))
        on = rng.chance(f"{stream}.degree.on", cfg["titles"]["degree_share"])
        name = pl.concat_str([name, pl.when(on).then(degree)], ignore_nulls=True)
    return name


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
    role_names = [r for r, _ in role_specs]
    eth_names = list(cfg["ethnicities"])
    role_groups = [s["group"] for _, s in role_specs]
    group_names = [g for g in GROUPS if g != "mixed"]
    places, city_name = _city(city_code)
    if kecamatan is not None or kelurahan is not None:
        places = _restrict_places(places, kecamatan, kelurahan)
    place_weights = places["_w"].to_list() if "_w" in places.columns else [1.0] * places.height

    # Lazy, so Polars computes each shared sub-expression (a random stream) once.
    df = pl.LazyFrame({"_i": pl.int_range(n, dtype=pl.UInt64, eager=True)})
    # Role, sex, ethnicity, age.
    df = df.with_columns(
        _role=rng.pick_index("role", Choice.of({i: s["weight"] for i, (_, s) in
                                                enumerate(role_specs)})).cast(pl.Int64),
        _place=rng.pick_index("place", Choice.of(dict(enumerate(place_weights)))).cast(
            pl.Int64),
        _days_old=_days_old(rng, "age", cfg["age_bands"]),
    )
    df = df.with_columns(
        _female=rng.chance("sex", _gather([s["female"] for _, s in role_specs], pl.col("_role"),
                                          pl.Float64)),
        _gidx=_gather([group_names.index(g) for g in role_groups], pl.col("_role"), pl.Int64),
        birth_date=_date_expr(pl.lit((as_of - _EPOCH).days) - pl.col("_days_old")),
    )
    eth_tab = Choice.of(*[cfg["groups"][g]["ethnicity"] for g in group_names])
    df = df.with_columns(
        _eth=_eth_index(rng.pick("ethnicity", eth_tab, pl.col("_gidx")), eth_names),
        kelurahan_code=_gather(places["kelurahan_code"], pl.col("_place"), pl.String),
        kelurahan=_gather(places["kelurahan"], pl.col("_place"), pl.String),
        kecamatan_code=_gather(places["kecamatan_code"], pl.col("_place"), pl.String),
        kecamatan=_gather(places["kecamatan"], pl.col("_place"), pl.String),
        _age=_age(pl.col("birth_date"), as_of),
    )
    df = df.with_columns(_ng=pl.col("_eth") * 2 + pl.col("_female").cast(pl.Int64))
    df = _add_nik(df, rng, places, city_code)
    df = df.with_columns(
        sex=pl.when(pl.col("_female")).then(pl.lit("P")).otherwise(pl.lit("L")),
        name=_full_name(rng, "name", pl.col("_ng"), pl.col("_age")),
        mother_name=_full_name(rng, "mother", pl.col("_eth") * 2 + 1, None),
        birth_place=rng.pick("birth_place", Choice.of(*[e["birth_places"] for e in
                                                        cfg["ethnicities"].values()]),
                             pl.col("_eth")),
    )
    df = _add_contact(df, rng, role_specs, group_names, role_groups)
    return df.with_columns(
        _group=_gather(role_groups, pl.col("_role"), pl.String),
        _ethnicity=_gather(eth_names, pl.col("_eth"), pl.String),
        role=_gather(role_names, pl.col("_role"), pl.String),
    ).select(PEOPLE_COLUMNS).collect()


def _add_nik(df: pl.LazyFrame, rng: Rng, places: pl.DataFrame, city_code: str
             ) -> pl.LazyFrame:
    """NIKs as integers: region, DD(+40) MM YY, and a serial unique across the frame."""
    cfg = config()["nik"]
    eth_by_group, prov_kec, former, _ = _origin_tables(city_code)
    city_kec = _city(city_code)[0]["kecamatan_code"].unique().sort()
    as_int = lambda codes: codes.str.replace_all(".", "", literal=True).cast(pl.Int64)  # noqa: E731
    origins = list(cfg["origin"])
    origin = rng.pick_index("nik.origin", Choice.of(dict(enumerate(cfg["origin"].values()))))
    city_region = pl.when(rng.chance("nik.samek", cfg["same_kecamatan"])).then(
        _gather(as_int(places["kecamatan_code"]), pl.col("_place"), pl.Int64)
    ).otherwise(_gather(as_int(city_kec), rng.below("nik.cityk", len(city_kec)), pl.Int64))
    df = df.with_columns(_prov=rng.pick("nik.prov", eth_by_group, pl.col("_eth")))
    df = df.with_columns(
        _region=pl.when(origin == origins.index("city")).then(city_region)
        .when(origin == origins.index("elsewhere")).then(rng.pick("nik.kec", prov_kec,
                                                                  pl.col("_prov")))
        .otherwise(rng.pick("nik.former", former))
    )
    b = pl.col("birth_date")
    day = b.dt.day().cast(pl.Int64) + pl.col("_female").cast(pl.Int64) * 40
    df = df.with_columns(
        _prefix=pl.col("_region") * 1_000_000 + day * 10_000 + b.dt.month().cast(pl.Int64) * 100
        + (b.dt.year().cast(pl.Int64) % 100),
        _serial=rng.below("nik.serial", int(cfg["serial_max"])) + 1,
    ).collect()
    # Redraw the serial of every NIK that repeats an earlier one until none does (a few rounds).
    for attempt in range(1, 100):
        df = df.with_columns(_nik=pl.col("_prefix") * 10_000 + pl.col("_serial"))
        clash = ~pl.col("_nik").is_first_distinct()
        if not df.select(clash.any()).item():
            break
        df = df.with_columns(_serial=pl.when(clash).then(
            rng.below(f"nik.serial.{attempt}", int(cfg["serial_max"])) + 1
        ).otherwise(pl.col("_serial")))
    else:  # pragma: no cover - only when the serial range is too small for the people asked
        raise ValueError("too many people for the NIK serial range")
    return df.lazy().with_columns(nik=pl.col("_nik").cast(pl.String))


def _eth_index(name: pl.Expr, names: list[str]) -> pl.Expr:
    return name.replace_strict(names, list(range(len(names))), return_dtype=pl.Int64)


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


def _add_contact(df: pl.LazyFrame, rng: Rng, role_specs: list, group_names: list[str],
                 role_groups: list[str]) -> pl.LazyFrame:
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
    tpl_tab = Choice.of(*[{templates.index(t): w for t, w in cfg["groups"][g]["address"].items()}
                          for g in group_names], dtype=pl.Int64)
    tpl = rng.pick("addr.tpl", tpl_tab, pl.col("_gidx"))
    phone_prefix = rng.pick("phone.prefix", Choice.of(cfg["phone"]["prefix"]))
    phone_len = rng.pick("phone.len", Choice.of({int(k): v for k, v in
                                                 cfg["phone"]["lengths"].items()}, dtype=pl.Int64))
    phone_digits = rng.below("phone.digits", 10**8).cast(pl.String).str.zfill(8)
    phone_missing = _gather([cfg["groups"][g]["phone_missing"] for g in group_names],
                            pl.col("_gidx"), pl.Float64)
    occ_groups = [cfg["occupations"][g][s] for g in group_names for s in ("L", "P")]
    occupation = rng.pick("occupation", Choice.of(*occ_groups),
                          pl.col("_gidx") * 2 + pl.col("_female").cast(pl.Int64))
    work = rng.pick("work", Choice.of(*[s["work_location"] for _, s in role_specs]),
                    pl.col("_role"))
    fisher = pl.col("_gidx") == group_names.index("fisher")
    fish = cfg["fisher"]
    kusuka = pl.concat_str(
        pl.col("kecamatan_code").str.slice(0, 5).str.replace(".", "", literal=True),
        rng.pick("kusuka.year", Choice.of(fish["kusuka_years"])),
        rng.below("kusuka.no", 10**8).cast(pl.String).str.zfill(8),
    )
    boat = pl.concat_str(
        [rng.pick("boat.kind", Choice.of(fish["boat_kind"])),
         rng.pick("boat.w1", Choice.of(fish["boat_words"])),
         rng.pick("boat.w2", Choice.of(fish["boat_words"]))], separator=" ")
    df = df.with_columns(**{f"_slot_{k}": v for k, v in slots.items()}, _tpl=tpl)
    return df.with_columns(
        address=_fill_templates(pl.col("_tpl"), templates,
                                {k: pl.col(f"_slot_{k}") for k in slots}),
        rt=(rng.below("rt", 15) + 1).cast(pl.String).str.zfill(3),
        rw=(rng.below("rw", 9) + 1).cast(pl.String).str.zfill(3),
        phone=pl.when(~rng.chance("phone.missing", phone_missing)).then(
            pl.concat_str(phone_prefix, phone_digits.str.slice(0, phone_len))),
        occupation=occupation,
        work_location=work.str.replace("{kelurahan}", pl.col("kelurahan"), literal=True),
        kusuka_number=pl.when(fisher).then(kusuka),
        boat_name=pl.when(fisher & rng.chance("boat.on", fish["boat_share"])).then(boat),
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


def _defect_kinds(fields: set[str], spreadsheet: bool, fisher: bool) -> dict[str, float]:
    out = {}
    for code, spec in config()["defects"].items():
        if not set(spec["fields"]) <= fields:
            continue
        if spec.get("spreadsheet") and not spreadsheet:
            continue
        if spec.get("fisher") and not fisher:
            continue
        out[code] = float(spec["weight"])
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
) -> pl.DataFrame:
    """``people`` as a hand-typed roster: every column text, planted defects, duplicates.

    ``fields``: the roster fields the file will carry (a defect is planted only where it can
    show; default all). ``spreadsheet``: the roster goes to xlsx (numeric NIK cells, date
    cells, numeric phones). ``formats``: the date formats used (``DATE_FORMATS``).
    People with a true ``_keep_clean`` column get no defect and no duplicate.

    Returns the ``ROSTER_COLUMNS`` as text, the ``_nik_cell`` ("text" | "number" | "excel"),
    ``_dob_cell``, ``_phone_cell`` and ``_birth_date`` hints for ``write_xlsx``, and the ground
    truth (``truth()``): per row the code a checker must raise (the planted defect; for the
    second occurrence of a person NIK_DUPLICATE / NEAR_DUPLICATE with ``dup_of`` the row it
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
    kinds_other = _defect_kinds(fields_set, spreadsheet, fisher=False)
    kinds_fisher = _defect_kinds(fields_set, spreadsheet, fisher=True)
    kind_tab = Choice.of(kinds_other, kinds_fisher, dtype=pl.String)
    defect = plain & rng.chance("defect", defect_rate) if kinds_other else pl.lit(False)
    people = people.with_columns(
        _defect=pl.when(defect).then(rng.pick("defect.kind", kind_tab, is_fisher.cast(pl.Int64)))
    )
    dup_tab = Choice.of(cfg["duplicates"]["kinds"], dtype=pl.String)
    dup = plain & pl.col("_defect").is_null() & rng.chance("dup", dup_rate)
    people = people.with_columns(
        _dup_kind=pl.when(dup).then(rng.pick("dup.kind", dup_tab)),
        _dup_at=pl.when(dup).then(
            pl.col("_p") + 1 + rng.below("dup.at", (pl.len() - pl.col("_p")).cast(pl.Int64))),
    )
    copies = people.filter(pl.col("_dup_kind").is_not_null()).with_columns(
        _src=pl.col("_p"), _key=pl.col("_dup_at") * 2 + 1, _defect=pl.lit(None, pl.String))
    originals = people.with_columns(
        _src=pl.lit(None, pl.Int64), _key=pl.col("_p") * 2,
        _dup_kind=pl.when(pl.col("_dup_kind") == "twin").then(pl.lit("twin_original")))
    rows = pl.concat([originals, copies], how="vertical_relaxed").sort("_key")
    rows = rows.with_columns(_i=pl.int_range(pl.len(), dtype=pl.Int64))
    first_at = rows.filter(pl.col("_src").is_null()).select(_src="_p", _dup_of="_i")
    rows = rows.join(first_at, on="_src", how="left", maintain_order="left")
    rows = _apply_identity_changes(rows, Rng(seed, "_i"), city_code, as_of)
    rows = _render(rows, Rng(seed, "_i"), formats, spreadsheet)
    rows = _apply_text_defects(rows, Rng(seed, "_i"), city_code)
    return _with_truth(rows, city_code, as_of, (lo_age, hi_age))


def _apply_identity_changes(rows: pl.DataFrame, rng: Rng, city_code: str, as_of: date
                            ) -> pl.DataFrame:
    """Defects and duplicate kinds that change who the row says the person is (before text)."""
    cfg = config()
    d = pl.col("_defect")
    female = pl.col("sex") == "P"
    serial_max = int(cfg["nik"]["serial_max"])
    # AGE_OUT_OF_RANGE: a new birth date outside the range, NIK re-encoded to match it.
    out_birth = _date_expr(pl.lit((as_of - _EPOCH).days)
                           - _days_old(rng, "age_out", cfg["defect_values"]["age_out"]))
    high_serial = serial_max + 1 + rng.below("age_out.serial", 9999 - serial_max)
    # DOB mismatch: day and month swapped (a US-style date) or the year off by one.
    b = pl.col("birth_date")
    swappable = (b.dt.day() <= 12) & (b.dt.day() != b.dt.month())
    swapped = pl.date(b.dt.year(), b.dt.day(), b.dt.month())
    leap_day = (b.dt.month() == 2) & (b.dt.day() == 29)
    year_off = pl.date(
        b.dt.year() + pl.when(rng.chance("dob.year", 0.5)).then(1).otherwise(-1),
        b.dt.month(), pl.when(leap_day).then(28).otherwise(b.dt.day()))
    rows = rows.with_columns(
        birth_date=pl.when(d == "AGE_OUT_OF_RANGE").then(out_birth)
        .when(d == "NIK_DOB_MISMATCH").then(pl.when(swappable).then(swapped).otherwise(year_off))
        .otherwise(b),
    )
    nik = pl.col("nik")
    # near duplicate: the serial's first digit typed wrong (into the range no one else uses).
    wrong_digit = (rng.below("near.digit", 9 - serial_max // 1000) + serial_max // 1000 + 1)
    twin_name = _full_name(rng, "twin", _eth_index(pl.col("_ethnicity"),
                                                   list(cfg["ethnicities"])) * 2
                           + female.cast(pl.Int64), _age(pl.col("birth_date"), as_of))
    return rows.with_columns(
        nik=pl.when(d == "AGE_OUT_OF_RANGE").then(
            _nik_expr(nik.str.slice(0, 6), pl.col("birth_date"), female, high_serial))
        .when(pl.col("_dup_kind") == "near").then(
            pl.concat_str(nik.str.slice(0, 12), wrong_digit.cast(pl.String), nik.str.slice(13)))
        .otherwise(nik),
        name=pl.when((pl.col("_dup_kind") == "twin") & (twin_name != pl.col("name")))
        .then(twin_name)
        .when(pl.col("_dup_kind") == "twin").then(pl.concat_str(pl.col("name"), pl.lit(" Putra")))
        .otherwise(pl.col("name")),
    )


def _styled(rng: Rng, stream: str, styles: Mapping[str, float]) -> tuple[pl.Expr, list[str]]:
    names = list(styles)
    return rng.pick_index(stream, Choice.of(dict(enumerate(styles.values())))), names


def _place_text(rng: Rng, stream: str, col: str) -> pl.Expr:
    """An official place name as senders spell it: alias spellings and case."""
    mess = config()["mess"]
    value = pl.col(col)
    for k, (pattern, repl, share) in enumerate(mess["place_aliases"]):
        hit = value.str.contains(pattern) & rng.chance(f"{stream}.alias{k}", share)
        value = pl.when(hit).then(value.str.replace(pattern, repl)).otherwise(value)
    style, names = _styled(rng, f"{stream}.case", mess["place_case"])
    return _switch(style, [_case(value, n) for n in names])


def _case(value: pl.Expr, style: str) -> pl.Expr:
    return {"upper": value.str.to_uppercase(), "lower": value.str.to_lowercase()}.get(
        style, value)


def _date_text(rng: Rng, stream: str, birth: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """A date in one of the formats senders use (weights from the data, only ``formats``)."""
    mess = config()["mess"]
    weights = {f: mess["date_formats"][f] for f in formats}
    fmt = rng.pick(stream, Choice.of(weights, dtype=pl.String))
    dd = birth.dt.day().cast(pl.String).str.zfill(2)
    d = birth.dt.day().cast(pl.String)
    mm = birth.dt.month().cast(pl.String).str.zfill(2)
    yyyy = birth.dt.year().cast(pl.String)
    month0 = birth.dt.month().cast(pl.Int64) - 1
    long = rng.pick(f"{stream}.long", Choice.of(*mess["months_long"], dtype=pl.String), month0)
    long = pl.when(rng.chance(f"{stream}.upper", mess["month_upper"])).then(
        long.str.to_uppercase()).otherwise(long)
    short = rng.pick(f"{stream}.short", Choice.of(*mess["months_short"], dtype=pl.String), month0)
    day = pl.when(rng.chance(f"{stream}.pad", 0.5)).then(dd).otherwise(d)
    by_format = {
        "iso": pl.concat_str(yyyy, mm, dd, separator="-"),
        "dmy_slash": pl.concat_str(dd, mm, yyyy, separator="/"),
        "dmy_dash": pl.concat_str(dd, mm, yyyy, separator="-"),
        "dmy_dot": pl.concat_str(dd, mm, yyyy, separator="."),
        "d_month_y": pl.concat_str(day, long, yyyy, separator=" "),
        "d_mon_y": pl.concat_str(dd, short, yyyy, separator=" "),
    }
    out: pl.Expr = pl.lit(None, pl.String)
    for name in formats:
        out = pl.when(fmt == name).then(by_format[name]).otherwise(out)
    return out


def _nik_text(rng: Rng, nik: pl.Expr) -> pl.Expr:
    style, names = _styled(rng, "nik.style", config()["mess"]["nik_styles"])
    groups = [nik.str.slice(k, 4) for k in (0, 4, 8, 12)]
    by_style = {
        "plain": nik,
        "quote": pl.concat_str(pl.lit("'"), nik),
        "spaces": pl.concat_str(groups, separator=" "),
        "dots": pl.concat_str(groups, separator="."),
        "dashes": pl.concat_str([nik.str.slice(0, 6), nik.str.slice(6, 6), nik.str.slice(12)],
                                separator="-"),
        "padded": pl.concat_str(pl.lit(" "), nik, pl.lit(" ")),
    }
    return _switch(style, [by_style[n] for n in names])


def _name_text(rng: Rng, stream: str, col: str) -> pl.Expr:
    style, names = _styled(rng, stream, config()["mess"]["name_styles"])
    v = pl.col(col)
    by_style = {
        "upper": v.str.to_uppercase(), "asis": v, "lower": v.str.to_lowercase(),
        "double_space": v.str.replace(" ", "  ", literal=True),
        "trailing_space": pl.concat_str(v, pl.lit("  ")),
    }
    return _switch(style, [by_style[n] for n in names])


def _phone_text(rng: Rng, phone: pl.Expr) -> pl.Expr:
    style, names = _styled(rng, "phone.style", config()["mess"]["phone_styles"])
    rest = phone.str.slice(1)  # without the leading 0
    head, mid, tail = phone.str.slice(0, 4), phone.str.slice(4, 4), phone.str.slice(8)
    by_style = {
        "plain": phone,
        "dashes": pl.concat_str([head, mid, tail], separator="-"),
        "spaces": pl.concat_str([head, mid, tail], separator=" "),
        "intl": pl.concat_str(pl.lit("62"), rest),
        "intl_plus": pl.concat_str(pl.lit("+62"), rest),
        "intl_plus_spaced": pl.concat_str(
            [pl.lit("+62"), rest.str.slice(0, 3), rest.str.slice(3, 4), rest.str.slice(7)],
            separator=" "),
    }
    return _switch(style, [by_style[n] for n in names])


def _render(rows: pl.DataFrame, rng: Rng, formats: Sequence[str], spreadsheet: bool
            ) -> pl.DataFrame:
    """Canonical values → the text a sender types (no defects yet)."""
    mess = config()["mess"]
    sex_tab = Choice.of(mess["sex"]["L"], mess["sex"]["P"], dtype=pl.String)
    pad, _ = _styled(rng, "rt.pad", {int(k): v for k, v in mess["rt_pad"].items()})
    pads = [int(k) for k in mess["rt_pad"]]

    def rt_text(col: str) -> pl.Expr:
        digits = pl.col(col).cast(pl.Int64).cast(pl.String)
        return _switch(pad, [digits.str.zfill(p) for p in pads])

    role_spell = Choice.of(*[s["spellings"] for s in config()["roles"].values()],
                           dtype=pl.String)
    role_idx = pl.col("role").replace_strict(list(config()["roles"]),
                                             list(range(len(config()["roles"]))),
                                             default=None, return_dtype=pl.Int64)
    date_text = _date_text(rng, "dob", pl.col("birth_date"), formats)
    rows = rows.with_columns(
        _birth_text=date_text,
        _place_text=_place_text(rng, "birth_place", "birth_place"),
        _rt_text=rt_text("rt"),
        _rw_text=rt_text("rw"),
    )
    return rows.with_columns(
        row_number=(pl.col("_i") + 1).cast(pl.String),
        nik=_nik_text(rng, pl.col("nik")),
        name=_name_text(rng, "name.style", "name"),
        mother_name=_name_text(rng, "mother.style", "mother_name"),
        birth_place=pl.col("_place_text"),
        birth_date=pl.col("_birth_text"),
        birth_place_date=pl.concat_str(
            pl.col("_place_text"),
            rng.pick("ttl.sep", Choice.of(mess["place_date_separator"], dtype=pl.String)),
            pl.col("_birth_text")),
        sex=rng.pick("sex.text", sex_tab, (pl.col("sex") == "P").cast(pl.Int64)),
        _sex=pl.col("sex"),
        rt=pl.col("_rt_text"),
        rw=pl.col("_rw_text"),
        rt_rw=pl.concat_str(pl.col("_rt_text"),
                            rng.pick("rtrw.sep", Choice.of(mess["rt_rw_separator"],
                                                           dtype=pl.String)),
                            pl.col("_rw_text")),
        kelurahan=_place_text(rng, "kelurahan", "kelurahan"),
        kecamatan=_place_text(rng, "kecamatan", "kecamatan"),
        phone=_phone_text(rng, pl.col("phone")),
        role=pl.when(role_idx.is_not_null()).then(
            rng.pick("role.spelling", role_spell, role_idx)).otherwise(pl.col("role")),
        _birth_date=pl.col("birth_date"),
        _dob_cell=pl.lit(spreadsheet) & rng.chance("dob.cell", mess["date_cell"]),
        _phone_cell=pl.lit(spreadsheet) & rng.chance("phone.cell", mess["phone_cell"])
        & pl.col("phone").is_not_null(),
        _clean_nik=pl.col("nik"),
        _clean_phone=pl.col("phone"),
    )


def _apply_text_defects(rows: pl.DataFrame, rng: Rng, city_code: str) -> pl.DataFrame:
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
    nik_bad_format = _switch(variant, [
        pl.concat_str(nik.str.slice(0, 8), nik.str.slice(9)),             # 15 digits
        pl.concat_str(nik.str.slice(0, 12), nik.str.slice(11)),           # 17 digits
        pl.concat_str(nik.str.slice(0, 10), pl.lit("O"), nik.str.slice(11)),  # letter O
    ])
    scientific = pl.concat_str(nik.str.slice(0, 1),
                               pl.when(rng.chance("sci.comma", 0.4)).then(pl.lit(","))
                               .otherwise(pl.lit(".")),
                               nik.str.slice(1, 5), pl.lit("E+15"))
    nik_bad_date = _switch(variant, [
        pl.concat_str(nik.str.slice(0, 6), pl.lit("00"), nik.str.slice(8)),   # day 00
        pl.concat_str(nik.str.slice(0, 6), pl.lit("35"), nik.str.slice(8)),   # day 35
        pl.concat_str(nik.str.slice(0, 8), pl.lit("13"), nik.str.slice(10)),  # month 13
    ])
    district = _gather(unknown_district_codes(city_code), rng.below("district", 3), pl.String)
    region = _gather(cfg["nik"]["never_region"],
                     rng.below("region", len(cfg["nik"]["never_region"])), pl.String)
    bad_date = _switch(rng.below("dob.bad", 4), [
        pl.concat_str(pl.lit("30/02/"), yyyy),
        yyyy,
        pl.concat_str(dd, mm, separator="-"),
        pl.when(b.dt.day() > 12).then(pl.concat_str(mm, dd, yyyy, separator="/"))
        .otherwise(pl.concat_str(pl.lit("31/04/"), yyyy)),
    ])
    phone = pl.col("_clean_phone").fill_null(pl.lit("08123456789"))
    bad_phone = _switch(rng.below("phone.bad", 3), [
        phone.str.slice(0, 6), pl.concat_str(phone, pl.lit("0000")), pl.lit("12345")])
    places, _ = _city(city_code)
    kel_idx = pl.col("kelurahan_code").replace_strict(
        places["kelurahan_code"], list(range(places.height)), default=None,
        return_dtype=pl.Int64)
    kec_first = places.with_row_index("_k").group_by("kecamatan_code").agg(
        _kstart=pl.col("_k").min().cast(pl.Int64), _kcount=pl.len().cast(pl.Int64))
    rows = rows.join(kec_first, on="kecamatan_code", how="left", maintain_order="left")
    other = rng.below("kel.other", (places.height - pl.col("_kcount")).clip(1))
    other = pl.when(other >= pl.col("_kstart")).then(other + pl.col("_kcount")).otherwise(other)
    mismatched = _gather(places["kelurahan"], other, pl.String)
    ineligible = _ineligible_roles(rows, rng)
    is_nik = d.is_in(["NIK_PRECISION_LOST", "NIK_NUMERIC_CELL"])
    new_nik = (
        pl.when(d == "NIK_MISSING").then(pl.lit(None, pl.String))
        .when(d == "NIK_FORMAT").then(nik_bad_format)
        .when(d == "NIK_SCIENTIFIC").then(scientific)
        .when(d == "NIK_REGION").then(pl.concat_str(region, nik.str.slice(4)))
        .when(d == "NIK_DISTRICT_UNKNOWN").then(
            pl.concat_str(pl.lit(city_code.replace(".", "")), district, nik.str.slice(6)))
        .when(d == "NIK_BIRTHDATE").then(nik_bad_date)
        .when(d == "NIK_SERIAL").then(pl.concat_str(nik.str.slice(0, 12), pl.lit("0000")))
        .when(is_nik).then(nik)
        .otherwise(pl.col("nik"))
    )
    flip_sex = pl.when(pl.col("_sex") == "P").then(pl.lit("L")).otherwise(pl.lit("P"))
    return rows.with_columns(
        nik=new_nik,
        _clean_nik=pl.when(d.is_in(["NIK_MISSING", "NIK_FORMAT", "NIK_SCIENTIFIC"]))
        .then(pl.lit(None, pl.String)).otherwise(
            pl.when(d.is_in(["NIK_REGION", "NIK_DISTRICT_UNKNOWN", "NIK_BIRTHDATE",
                             "NIK_SERIAL"])).then(new_nik).otherwise(nik)),
        _nik_cell=pl.when(d == "NIK_PRECISION_LOST").then(pl.lit("excel"))
        .when(d == "NIK_NUMERIC_CELL").then(pl.lit("number")).otherwise(pl.lit("text")),
        name=pl.when(d == "NAME_MISSING").then(pl.lit(None, pl.String)).otherwise(pl.col("name")),
        birth_date=pl.when(d == "DOB_MISSING").then(pl.lit(None, pl.String))
        .when(d == "DOB_FORMAT").then(bad_date).otherwise(pl.col("birth_date")),
        birth_place_date=pl.when(d == "DOB_MISSING").then(pl.col("birth_place"))
        .when(d == "DOB_FORMAT").then(pl.concat_str(pl.col("birth_place"), pl.lit(", "),
                                                     bad_date))
        .otherwise(pl.col("birth_place_date")),
        _birth_date=pl.when(d.is_in(["DOB_MISSING", "DOB_FORMAT"])).then(pl.lit(None, pl.Date))
        .otherwise(pl.col("_birth_date")),
        sex=pl.when(d == "SEX_INVALID").then(
            _gather(vals["sex_invalid"], rng.below("sex.bad", len(vals["sex_invalid"])),
                    pl.String))
        .when(d == "NIK_SEX_MISMATCH").then(flip_sex).otherwise(pl.col("sex")),
        phone=pl.when(d == "PHONE_FORMAT").then(bad_phone).otherwise(pl.col("phone")),
        _phone_cell=pl.col("_phone_cell") & (d != "PHONE_FORMAT").fill_null(True),
        kecamatan=pl.when(d == "KECAMATAN_UNKNOWN").then(
            _gather(vals["kecamatan_unknown"],
                    rng.below("kec.bad", len(vals["kecamatan_unknown"])), pl.String))
        .otherwise(pl.col("kecamatan")),
        kelurahan=pl.when(d == "KELURAHAN_UNKNOWN").then(
            _gather(vals["kelurahan_unknown"],
                    rng.below("kel.bad", len(vals["kelurahan_unknown"])), pl.String))
        .when(d == "KELURAHAN_MISMATCH").then(
            pl.when(kel_idx.is_not_null()).then(mismatched)).otherwise(pl.col("kelurahan")),
        role=pl.when(d == "ROLE_NOT_ELIGIBLE").then(ineligible).otherwise(pl.col("role")),
        occupation=pl.when(d == "OCCUPATION_EXCLUDED").then(
            _gather(vals["excluded_occupations"],
                    rng.below("occ.bad", len(vals["excluded_occupations"])), pl.String))
        .otherwise(pl.col("occupation")),
        kusuka_number=pl.when(d == "DECREE_FIELD_MISSING").then(pl.lit(None, pl.String))
        .otherwise(pl.col("kusuka_number")),
    )


def _ineligible_roles(rows: pl.DataFrame, rng: Rng) -> pl.Expr:
    """A role the row's decree does not cover: one no decree covers, or another group's."""
    cfg = config()
    none = cfg["defect_values"]["ineligible_roles"]
    group_names = [g for g in GROUPS if g != "mixed"]
    groups = []
    for g in group_names:
        others = [r for r, s in cfg["roles"].items() if s["group"] != g]
        groups.append({**{r: 2.0 for r in none}, **{r: 1.0 for r in others}})
    gidx = pl.col("_group").replace_strict(group_names, list(range(len(group_names))),
                                           return_dtype=pl.Int64)
    # In a mixed roster another group's role may be eligible: only roles no decree covers.
    mixed = rows["_group"].n_unique() > 1
    if mixed:
        return rng.pick("role.bad", Choice.of(none, dtype=pl.String))
    return rng.pick("role.bad", Choice.of(*groups, dtype=pl.String), gidx)


def _with_truth(rows: pl.DataFrame, city_code: str, as_of: date, age_range: tuple[int, int]
                ) -> pl.DataFrame:
    """The ground truth columns, and the roster columns in their order."""
    d = pl.col("_defect")
    lost = (d == "NIK_NUMERIC_CELL") & pl.col("_clean_nik").str.ends_with("0")
    natural_age = ~_age(pl.col("_birth_date"), as_of).is_between(*age_range)
    dup_code = pl.col("_dup_kind").replace_strict(
        {"exact": "NIK_DUPLICATE", "near": "NEAR_DUPLICATE", "twin": "NIK_CONFLICT",
         "twin_original": "NIK_CONFLICT"}, default=None, return_dtype=pl.String)
    return rows.with_columns(
        _truth_code=pl.when(lost).then(pl.lit("NIK_PRECISION_LOST"))
        .when(d.is_not_null()).then(d)
        .when(dup_code.is_not_null()).then(dup_code)
        .when(natural_age).then(pl.lit("AGE_OUT_OF_RANGE")),
        _truth_dup_of=pl.col("_dup_of").cast(pl.Int64),
        _truth_dup_kind=pl.col("_dup_kind").replace("twin_original", None),
        _truth_person=pl.col("_p"),
        _truth_group=pl.col("_group"),
        _truth_outside_city=pl.col("_clean_nik").is_not_null()
        & ~pl.col("_clean_nik").str.starts_with(city_code.replace(".", "")),
    ).select(*ROSTER_COLUMNS, "_nik_cell", "_dob_cell", "_phone_cell", "_birth_date",
             *TRUTH_COLUMNS)


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
        out = out.with_columns(row=pl.col("index") + first_row,
                               dup_of_row=pl.col("dup_of") + first_row)
    return out
