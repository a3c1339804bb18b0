"""Official region codes and names (Kemendagri), and matching typed names to them.

``load()`` reads ``schemas/reference/wilayah_kemendagri.csv`` (current codes) and
``wilayah_kode_lama.csv`` (codes of earlier editions) once per process. It gives the code sets
the NIK checks need (a NIK keeps the code of the place where it was first issued, so former
codes count as valid) and, per city, the official kecamatan and kelurahan names with their
matching keys (``City``).

Typed names are matched by *key* (see ``schemas/region_aliases.toml``): case, punctuation,
spaces, prefixes such as "Kel." and word abbreviations such as "Sei" do not matter. The key
exists twice, as a Polars expression (``NameKey.key_expr``, used by ``normalise``) and as a
plain function (``NameKey.key``, used by the row-rules model in ``schema.py``); a test keeps
the two equal.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property

import polars as pl
from pydantic import BaseModel, ConfigDict

from jamsos_cli.errors import JamsosError
from jamsos_cli.resources import schema_file

LEVELS = {
    "provinsi": "province",
    "kabupaten_kota": "regency",
    "kecamatan": "kecamatan",
    "kelurahan_desa": "kelurahan",
}


class UnknownCityError(JamsosError, ValueError):
    """The configured or decree city code is not in the reference table (a usage error)."""


class RegionAliases(BaseModel):
    """``schemas/region_aliases.toml``: how typed names are keyed, plus whole-name aliases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefixes: list[str]
    words: dict[str, list[str]]
    # parent (city) code -> {typed name: official name}
    kecamatan: dict[str, dict[str, str]] = {}
    kelurahan: dict[str, dict[str, str]] = {}


class NameKey:
    """The key of a region name, in Python and as a Polars expression (same steps)."""

    def __init__(self, aliases: RegionAliases) -> None:
        prefixes = sorted({p.upper() for p in aliases.prefixes}, key=len, reverse=True)
        self._prefix = r"^ *(?:(?:" + "|".join(map(re.escape, prefixes)) + r") +)+"
        self._words = [
            (r"\b(?:" + "|".join(map(re.escape, variants)) + r")\b", full)
            for full, variants in aliases.words.items()
        ]
        self._prefix_re = re.compile(self._prefix)
        self._words_re = [(re.compile(p), full) for p, full in self._words]

    def label(self, text: str | None) -> str:
        """Upper case, punctuation gone, prefixes dropped, words expanded; spaces kept."""
        if text is None:
            return ""
        s = re.sub(r"[^A-Z0-9]+", " ", text.upper())
        s = self._prefix_re.sub("", s)
        for pattern, full in self._words_re:
            s = pattern.sub(full, s)
        return " ".join(s.split())

    def key(self, text: str | None) -> str:
        return self.label(text).replace(" ", "")

    def label_expr(self, expr: pl.Expr) -> pl.Expr:
        e = expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", " ")
        e = e.str.replace(self._prefix, "")
        for pattern, full in self._words:
            e = e.str.replace_all(pattern, full)
        return e.str.replace_all(r" +", " ").str.strip_chars(" ")

    def key_expr(self, expr: pl.Expr) -> pl.Expr:
        return self.label_expr(expr).str.replace_all(" ", "", literal=True)


@dataclass(frozen=True, eq=False)
class City:
    """The kecamatan and kelurahan of one city (or regency), keyed for matching.

    ``kecamatan_keys``: key, code, name — one row per official name and per alias;
    ``kelurahan_keys``: key, code, kecamatan_code, name. A key with more than one code is
    ambiguous and never resolves.
    """

    code: str
    name: str
    kecamatan: pl.DataFrame  # code, name, label
    kelurahan: pl.DataFrame  # code, kecamatan_code, name, label
    kecamatan_keys: pl.DataFrame
    kelurahan_keys: pl.DataFrame
    names: NameKey

    @cached_property
    def _kecamatan_by_key(self) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for key, code, name in self.kecamatan_keys.select("key", "code", "name").iter_rows():
            out.setdefault(key, []).append((code, name))
        return out

    @cached_property
    def _kelurahan_by_key(self) -> dict[str, list[tuple[str, str, str]]]:
        out: dict[str, list[tuple[str, str, str]]] = {}
        rows = self.kelurahan_keys.select("key", "code", "kecamatan_code", "name").iter_rows()
        for key, code, kec, name in rows:
            out.setdefault(key, []).append((code, kec, name))
        return out

    @cached_property
    def kecamatan_names(self) -> dict[str, str]:
        return dict(self.kecamatan.select("code", "name").iter_rows())

    def match_kecamatan(self, text: str | None) -> tuple[str, str] | None:
        """(code, official name) when the typed name fits exactly one kecamatan."""
        hits = self._kecamatan_by_key.get(self.names.key(text), [])
        return hits[0] if len(hits) == 1 else None

    def kelurahan_candidates(self, text: str | None) -> list[tuple[str, str, str]]:
        """Every kelurahan of the city the typed name fits: (code, kecamatan code, name)."""
        return list(self._kelurahan_by_key.get(self.names.key(text), []))

    def match_kelurahan(
        self, text: str | None, kecamatan_code: str | None
    ) -> tuple[str, str] | None:
        """(code, official name) within the kecamatan, or within the city without one."""
        hits = [
            h
            for h in self.kelurahan_candidates(text)
            if kecamatan_code is None or h[1] == kecamatan_code
        ]
        return (hits[0][0], hits[0][2]) if len(hits) == 1 else None

    def suggest(self, level: str, text: str | None, limit: int = 4) -> list[str]:
        """The nearest official names (rapidfuzz): all those close to the best score."""
        from rapidfuzz import fuzz, process

        frame = self.kecamatan if level == "kecamatan" else self.kelurahan
        label = self.names.label(text)
        if not label:
            return []
        choices = frame.get_column("label").to_list()
        found = process.extract(label, choices, scorer=fuzz.WRatio, limit=None, score_cutoff=70)
        if not found:
            return []
        best = found[0][1]
        names = frame.get_column("name").to_list()
        picked = [names[idx] for _, score, idx in found if score >= best - 5]
        return picked[:limit]


@dataclass(frozen=True, eq=False)
class Regions:
    """Every region code of Indonesia, current (``current``) and former, plus the aliases."""

    table: pl.DataFrame  # code (dotted), digits (no dots), name, level, current
    aliases: RegionAliases

    @cached_property
    def names(self) -> NameKey:
        return NameKey(self.aliases)

    def _digits(self, level: str) -> pl.Series:
        return self.table.filter(pl.col("level") == level).get_column("digits").unique().sort()

    @cached_property
    def regency_codes(self) -> pl.Series:
        """4-digit regency codes (no dots) that exist or existed."""
        return self._digits("regency")

    @cached_property
    def province_codes(self) -> pl.Series:
        """2-digit province codes that exist or existed (incl. those of former regencies)."""
        current = self._digits("province")
        return pl.concat([current, self.regency_codes.str.slice(0, 2)]).unique().sort()

    @cached_property
    def kecamatan_codes(self) -> pl.Series:
        """6-digit kecamatan codes (no dots) that exist or existed."""
        return self._digits("kecamatan")

    @cached_property
    def regencies_with_kecamatan(self) -> pl.Series:
        """Regencies whose kecamatan are known: only these can judge a NIK's kecamatan digits.

        (The Kalimantan Utara regencies renumbered in 2012 come without their old kecamatan.)
        """
        return self.kecamatan_codes.str.slice(0, 4).unique().sort()

    @cached_property
    def sets(self) -> dict[str, frozenset[str]]:
        """The same code sets as Python sets (for the row-rules model)."""
        return {
            "province": frozenset(self.province_codes.to_list()),
            "regency": frozenset(self.regency_codes.to_list()),
            "kecamatan": frozenset(self.kecamatan_codes.to_list()),
            "regency_with_kecamatan": frozenset(self.regencies_with_kecamatan.to_list()),
        }

    def name_of(self, code: str) -> str | None:
        hit = self.table.filter(pl.col("code") == code, pl.col("current"))
        return hit.item(0, "name") if hit.height else None

    def city(self, city_code: str) -> City:
        return _city(self, city_code)


@cache
def _city(regions: Regions, city_code: str) -> City:
    name = regions.name_of(city_code)
    if name is None:
        raise UnknownCityError("error.config.city", city=city_code)
    keyer = regions.names
    current = regions.table.filter(
        pl.col("current"), pl.col("code").str.starts_with(city_code + ".")
    )
    kec = current.filter(pl.col("level") == "kecamatan").select(
        "code", "name", keyer.label_expr(pl.col("name")).alias("label")
    )
    kel = current.filter(pl.col("level") == "kelurahan").select(
        "code",
        pl.col("code").str.slice(0, len(city_code) + 3).alias("kecamatan_code"),
        "name",
        keyer.label_expr(pl.col("name")).alias("label"),
    )
    kec_keys = _with_aliases(
        kec, regions.aliases.kecamatan.get(city_code, {}), keyer, "kecamatan", city_code
    )
    kel_keys = _with_aliases(
        kel, regions.aliases.kelurahan.get(city_code, {}), keyer, "kelurahan", city_code
    )
    return City(city_code, name, kec, kel, kec_keys, kel_keys, keyer)


def _with_aliases(
    official: pl.DataFrame, aliases: dict[str, str], keyer: NameKey, level: str, city: str
) -> pl.DataFrame:
    """Official rows keyed by their own name, plus one row per alias keyed by the alias."""
    keyed = official.with_columns(pl.col("label").str.replace_all(" ", "").alias("key"))
    extra = []
    for typed, target in aliases.items():
        hit = keyed.filter(pl.col("key") == keyer.key(target))
        if hit.height != 1:
            raise ValueError(
                f"region_aliases.toml: {level} alias {typed!r} -> {target!r}: "
                f"{target!r} is not exactly one {level} of {city}"
            )
        extra.append(hit.with_columns(pl.lit(keyer.key(typed)).alias("key")))
    cols = [c for c in keyed.columns if c != "label"]
    return pl.concat([keyed, *extra]).select(cols).unique(maintain_order=True)


@cache
def load() -> Regions:
    """The reference tables (cached: once per process)."""
    current = pl.read_csv(
        schema_file("reference", "wilayah_kemendagri.csv"), infer_schema=False
    ).select(
        pl.col("kode").alias("code"),
        pl.col("nama").alias("name"),
        pl.col("tingkat").replace_strict(LEVELS).alias("level"),
        pl.lit(True).alias("current"),
    )
    former = pl.read_csv(
        schema_file("reference", "wilayah_kode_lama.csv"), infer_schema=False
    ).select(
        pl.col("kode").alias("code"),
        pl.col("nama").alias("name"),
        pl.col("tingkat").replace_strict(LEVELS).alias("level"),
        pl.lit(False).alias("current"),
    )
    table = pl.concat([current, former]).with_columns(
        pl.col("code").str.replace_all(".", "", literal=True).alias("digits")
    )
    with schema_file("region_aliases.toml").open("rb") as fh:
        aliases = RegionAliases.model_validate(tomllib.load(fh))
    return Regions(table, aliases)
