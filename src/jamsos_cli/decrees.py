"""Decrees as data: the rule sets that say who may be paid for, loaded from TOML files.

The shipped rule sets live in ``schemas/decrees/*.toml`` (package data); a city adds its own
with ``--decrees DIR`` (or ``decrees_dir`` in the config) without touching code. A user file
with the same ``id`` as a shipped one replaces it, and ``jamsos decrees ID`` says so. The
pydantic models below are the single source of truth for what a rule file may contain; the
vectorised checks in ``eligibility.py`` read them.

Shared lists that every decree uses (the excluded occupations: civil servants, military,
police) live in ``schemas/occupations.toml``; a decree names the groups it applies.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from jamsos_cli import money
from jamsos_cli.errors import JamsosError, data_problems, problem, read_toml
from jamsos_cli.resources import schema_file


class DecreeError(JamsosError):
    """A decree rule set that cannot be used (exit 2): unknown id, bad file, bad folder."""


# --------------------------------------------------------------------------- models

Program = Literal["JKK", "JKM", "JHT"]


class _Strict(BaseModel):
    # Unknown keys are an error: a typo in a rule file must not silently fall back to a default;
    # types are strict: min = "18" or assumed = 1 is refused, naming the file and the key.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Role(_Strict):
    """A role the decree covers, with the spellings senders use for it."""

    name: str = Field(min_length=1, description="Official name, shown in messages and lists.")
    aliases: list[str] = Field(
        default_factory=list,
        description="Spellings matched exactly or as the start of the cell (after normalising "
        "case, punctuation and numbers: 'KETUA RT 003' is 'KETUA RT').",
    )
    exact: list[str] = Field(
        default_factory=list,
        description="Spellings matched only as the whole cell ('RT', 'BECAK': 'BECAK MOTOR' "
        "must not count as a pedal becak).",
    )


class AgeRange(_Strict):
    """Age in whole years at coverage start (or ``--as-of``), both ends included. Both ends
    are stated in the rule file: no city's range is anyone's default."""

    min: int = Field(ge=0, le=120)
    max: int = Field(ge=0, le=120)
    assumed: bool = Field(
        True, description="The range is an assumption to confirm against the decree text."
    )
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.min > self.max:
            raise problem("error.data.age_order", min=self.min, max=self.max)
        return self


class Premium(_Strict):
    """Who pays what per person per month, in whole rupiah (integers only). Every figure is
    stated in the rule file: a missing one is an error, never Batam's figure by default."""

    programs: list[Program]
    declared_income: int = Field(
        gt=0, le=money.MAX_RUPIAH, description="Declared monthly income (Rp)."
    )
    jkk_rate_bp: int = Field(ge=0, le=10_000, description="JKK, basis points of income.")
    jkm_flat: int = Field(ge=0, le=money.MAX_RUPIAH, description="JKM, flat rupiah per month.")
    jht_rate_bp: int | None = Field(
        None, ge=0, le=10_000, description="JHT, basis points of income (when JHT is a program)."
    )
    rounding: money.Rounding = Field(
        description="How a fraction of a rupiah is rounded: down, up, half_up."
    )

    @field_validator("programs")
    @classmethod
    def _jkk_and_jkm(cls, value: list[str]) -> list[str]:
        missing = [p for p in ("JKK", "JKM") if p not in value]
        if missing:
            raise problem("error.data.programs_missing", programs=", ".join(missing))
        if len(set(value)) != len(value):
            raise problem("error.data.program_twice")
        return value

    @model_validator(mode="after")
    def _jht_rate(self) -> Premium:
        if "JHT" in self.programs and self.jht_rate_bp is None:
            raise problem("error.data.jht_rate")
        return self

    def breakdown(self) -> dict[str, int]:
        """Rupiah per person per month for each program."""
        return money.premium_breakdown(
            self.declared_income,
            self.programs,
            jkk_rate_bp=self.jkk_rate_bp,
            jkm_flat=self.jkm_flat,
            jht_rate_bp=self.jht_rate_bp,
            rounding=self.rounding,
        )

    def per_person_month(self) -> int:
        return sum(self.breakdown().values())


_INITIAL_DOT = re.compile(r"\b([A-Z])\.")
_NOT_LETTERS = re.compile(r"[^A-Z]+")


def role_key(text: str) -> str | None:
    """The comparable form of a role spelling in a rule file: the same normalisation as
    ``eligibility.role_key_expr`` applies to roster cells (a test keeps them in step), in
    plain Python so that reading rule files does not import Polars (``jamsos decrees`` start-up).
    """
    key = _NOT_LETTERS.sub(" ", _INITIAL_DOT.sub(r"\1", text.upper())).strip()
    return key or None


class ExclusionGroup(_Strict):
    """Occupations that have their own social-security scheme (civil servants, military...)."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    label: str
    terms: list[str] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _has_letters(cls, value: list[str]) -> list[str]:
        empty = [t for t in value if not role_key(t)]
        if empty:
            raise problem("error.data.terms_without_letters", terms=", ".join(map(repr, empty)))
        return value


class Decree(_Strict):
    """One decree's rule set, as read from its TOML file."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="The id used by --decree (lower case, digits, '-', '.', '_').",
    )
    title: str = Field(min_length=1)
    group: str | None = Field(None, description="Who it covers, in a few words.")
    city_code: str = Field(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri code, e.g. 21.71.")
    quota: int | None = Field(
        None, ge=0, description="Most people covered at once; absent or 0 means unlimited."
    )
    age: AgeRange = Field(description="[age]: min and max, stated in every rule file.")
    premium: Premium = Field(description="[premium]: every figure, stated in every rule file.")
    roles: list[Role] = Field(min_length=1)
    roles_are: Literal["offices", "occupations"] = Field(
        "occupations",
        description=(
            "offices (ketua RT, kader): a roster's occupation column (PEKERJAAN: Wiraswasta) "
            "never stands for the role; occupations (ojek, nelayan): it does when there is "
            "no role column."
        ),
    )
    required_fields: list[str] = Field(
        default_factory=list,
        description="Roster fields this decree requires besides role, kelurahan and kecamatan.",
    )
    exclusions: list[str] | None = Field(
        None, description="Excluded occupation groups (ids in occupations.toml); absent = all."
    )
    extra_exclusions: list[ExclusionGroup] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    _source: Path | None = PrivateAttr(None)
    _overrides: Path | None = PrivateAttr(None)
    _extra_dir: Path | None = PrivateAttr(None)

    @field_validator("required_fields")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        from jamsos_cli.schema import FIELDS

        unknown = [f for f in value if f not in FIELDS]
        if unknown:
            raise problem(
                "error.data.unknown_fields", unknown=", ".join(unknown), known=", ".join(FIELDS)
            )
        return value

    @field_validator("exclusions")
    @classmethod
    def _known_groups(cls, value: list[str] | None) -> list[str] | None:
        known = occupation_groups()
        unknown = [g for g in value or [] if g not in known]
        if unknown:
            raise problem(
                "error.data.unknown_groups", unknown=", ".join(unknown), known=", ".join(known)
            )
        return value

    @model_validator(mode="after")
    def _aliases_unambiguous(self) -> Decree:
        seen: dict[str, str] = {}
        for role in self.roles:
            spellings = [role.name, *role.aliases, *role.exact]
            for spelling, key in zip(spellings, map(role_key, spellings), strict=True):
                if not key:
                    raise problem("error.data.alias_no_letters", role=role.name, alias=spelling)
                if seen.setdefault(key, role.name) != role.name:
                    raise problem(
                        "error.data.alias_twice", alias=spelling, first=seen[key], second=role.name
                    )
        return self

    # -- what the loader knows about the file

    @property
    def source(self) -> Path | None:
        """The rule file this decree was read from."""
        return self._source

    @property
    def overrides(self) -> Path | None:
        """The shipped rule file this user file replaces, if any."""
        return self._overrides

    @property
    def extra_dir(self) -> Path | None:
        """The user folder it was loaded with (to find the decrees covering other roles)."""
        return self._extra_dir

    # -- derived facts

    @property
    def quota_limit(self) -> int | None:
        """The quota, or None when unlimited (absent or 0)."""
        return self.quota or None

    @property
    def all_required_fields(self) -> list[str]:
        """Every field a row must fill under this decree (role, kelurahan, kecamatan, extras)."""
        base = ["role", "kelurahan", "kecamatan"]
        return base + [f for f in self.required_fields if f not in base]

    @property
    def premium_per_person_month(self) -> int:
        return self.premium.per_person_month()

    def exclusion_groups(self) -> list[ExclusionGroup]:
        groups = occupation_groups()
        chosen = list(groups) if self.exclusions is None else self.exclusions
        return [groups[g] for g in chosen] + list(self.extra_exclusions)

    def with_quota(self, quota: int | None) -> Decree:
        """The same rule set with the quota overridden (config or option; 0 = unlimited)."""
        if quota is None:
            return self
        if quota < 0:
            raise DecreeError("error.decree.quota", decree=self.id, quota=quota)
        return self.model_copy(update={"quota": quota})  # keeps source, overrides, folder


class _OccupationFile(_Strict):
    negations: list[str] = Field(default_factory=list)
    groups: list[ExclusionGroup]


@cache
def _occupations() -> _OccupationFile:
    path = schema_file("occupations.toml")
    return _OccupationFile.model_validate(read_toml(path, DecreeError))


def occupation_groups() -> dict[str, ExclusionGroup]:
    """The shipped excluded-occupation groups by id (schemas/occupations.toml)."""
    return {g.id: g for g in _occupations().groups}


def negations() -> list[str]:
    """Words that undo an excluded term right after them ('NON ASN' is not a civil servant)."""
    return list(_occupations().negations)


# --------------------------------------------------------------------------- loading


def shipped_dir() -> Path:
    return schema_file("decrees")


def load_file(path: Path) -> Decree:
    """One rule file, validated; any problem is a ``DecreeError`` naming file and key."""
    raw = read_toml(Path(path), DecreeError)
    try:
        decree = Decree.model_validate(raw)
    except ValidationError as exc:
        raise DecreeError("error.data.problems", problems=data_problems(exc, path)) from None
    decree._source = Path(path)
    return decree


def _load_folder(folder: Path) -> dict[str, Decree]:
    found: dict[str, Decree] = {}
    files = [folder] if folder.is_file() else sorted(folder.glob("*.toml"))
    for path in files:
        decree = load_file(path)
        if decree.id in found:
            raise DecreeError(
                "error.decree.id_twice", path=path, id=decree.id, first=found[decree.id].source
            )
        found[decree.id] = decree
    return found


def _check_folder(extra_dir: Path) -> Path:
    path = Path(extra_dir)
    if not path.exists():
        raise DecreeError("error.decree.folder_missing", path=path)
    if path.is_file() and path.suffix.lower() != ".toml":
        raise DecreeError("error.decree.folder_kind", path=path)
    return path


def catalogue(extra_dir: Path | None = None) -> dict[str, Decree]:
    """Every decree by id: the shipped ones, then the user's (same id: the user's wins)."""
    decrees = _load_folder(shipped_dir())
    if extra_dir is not None:
        for did, decree in _load_folder(_check_folder(extra_dir)).items():
            if did in decrees:
                decree._overrides = decrees[did].source
            decrees[did] = decree
    for decree in decrees.values():
        decree._extra_dir = None if extra_dir is None else Path(extra_dir)
    return dict(sorted(decrees.items()))


def all_decrees(extra_dir: Path | None = None) -> list[Decree]:
    """Every known rule set, sorted by id."""
    return list(catalogue(extra_dir).values())


def load_decree(decree_id: str, extra_dir: Path | None = None, quota: int | None = None) -> Decree:
    """The rule set ``decree_id``; an unknown id is an error listing the known ones."""
    known = catalogue(extra_dir)
    decree = known.get(decree_id)
    if decree is None:
        raise DecreeError("error.decree.unknown", decree=decree_id, known=", ".join(known) or "-")
    if city_name(decree.city_code) is None:
        raise DecreeError("error.decree.city", path=decree.source, city=decree.city_code)
    return decree.with_quota(quota)


# --------------------------------------------------------------------------- reference


@cache
def city_name(city_code: str) -> str | None:
    """'21.71' → 'Kota Batam' (None when the code is not a city or regency).

    One substring search in the reference file for the line of that code: listing the
    decrees needs a handful of names, not Polars nor the 90,000 lines parsed."""
    import csv

    data = schema_file("reference", "wilayah_kemendagri.csv").read_bytes()
    start = data.find(b"\n" + city_code.encode("utf-8") + b",")
    if start < 0:
        return None
    end = data.find(b"\n", start + 1)
    line = data[start + 1 : end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")
    code, name, level = next(csv.reader([line]))
    return name if level == "kabupaten_kota" else None


def city_places(city_code: str):
    """Kecamatan and kelurahan of a city (official names), for templates and lists."""
    import polars as pl

    ref = pl.scan_csv(schema_file("reference", "wilayah_kemendagri.csv"), infer_schema=False)
    prefix = city_code + "."
    kec = ref.filter(pl.col("tingkat") == "kecamatan", pl.col("kode").str.starts_with(prefix))
    kel = ref.filter(pl.col("tingkat") == "kelurahan_desa", pl.col("kode").str.starts_with(prefix))
    return (
        kel.with_columns(pl.col("kode").str.slice(0, len(prefix) + 2).alias("kec_kode"))
        .join(
            kec.select(pl.col("kode").alias("kec_kode"), pl.col("nama").alias("kecamatan")),
            on="kec_kode",
        )
        .select("kecamatan", pl.col("nama").alias("kelurahan"), pl.col("kode"))
        .sort("kode")
        .collect()
    )
