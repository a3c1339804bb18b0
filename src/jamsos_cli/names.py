"""The one name identity: when two spellings of a name are the same person's.

The exact-NIK check (``duplicates``: one NIK twice is the same person typed twice, or two
people) and the near-duplicate search (``neardup``) both compare names through here, with
one set of rules: ``schemas/names.toml`` (the titles and degrees dropped and why, the words
that are part of the name and why, spelling variants, bin/binti). Vectorised Polars
expressions; callers apply them once per distinct name.

- ``normalise_name``: the name as compared, with spaces ("Hj. Siti Aminah, S.Pd." →
  "ST AMINAH"; "MUH. RIZKY" = "Muhammad Rizki" → "M RIZKI");
- ``father_name``: the father's name after bin/binti, normalised alike;
- ``identity_key`` / ``father_key``: the same without spaces ("NUR HAYATI" = "NURHAYATI"),
  what equality compares;
- ``clean_name``, ``given_name``, ``father_of``: the steps, for a caller that derives both
  the given name and the father's from one cleaned name.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator

from jamsos_cli.resources import schema_file


class _TokenGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    canonical: str
    words: list[str]


class NameRules(BaseModel):
    """``schemas/names.toml``, validated: a word is a title or part of the name, not both."""

    model_config = ConfigDict(extra="forbid")
    leading_titles: list[str]
    part_of_name: dict[str, str]
    dotted_degrees: list[str]
    undotted_degrees: list[str]
    patronymic_particles: list[str]
    rewrites: list[tuple[str, str]]
    token_groups: list[_TokenGroup]

    @model_validator(mode="after")
    def _title_or_name(self) -> NameRules:
        both = set(self.leading_titles) & set(self.part_of_name)
        if both:
            raise ValueError(f"both a title and part of the name: {sorted(both)}")
        return self


@cache
def rules() -> NameRules:
    with schema_file("names.toml").open("rb") as fh:
        return NameRules.model_validate(tomllib.load(fh))


def _words_re(words: list[str]) -> str:
    """Alternation of literal words, longest first (Rust regex takes the first that fits)."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _dotted_re(degree: str) -> str:
    """'S.Pd' -> 'S\\.\\s?PD': the dots required (keeps 'ST' = SITI safe), a space allowed."""
    groups = [re.escape(g.upper()) for g in degree.split(".") if g]
    return r"\.\s?".join(groups)


@cache
def _patterns() -> dict[str, Any]:
    cfg = rules()
    dotted = sorted(cfg.dotted_degrees, key=len, reverse=True)
    titles = [re.escape(t).replace(r"\ ", r"\.?\s*") for t in cfg.leading_titles]
    titles.sort(key=len, reverse=True)
    particles = _words_re(cfg.patronymic_particles)
    return {
        # a run of dotted degrees after the first word, each with an optional final dot
        "dotted": r"(?:\s(?:" + "|".join(_dotted_re(d) for d in dotted) + r")\.?)+(?:\s|$)",
        "undotted": r"\s(?:" + _words_re(cfg.undotted_degrees) + r")(?-u:\b)",
        "titles": r"^(?:(?:" + "|".join(titles) + r")(?:\.\s*|\s+))+",
        "patronym_drop": r"\s(?:" + particles + r")\s.*$",
        "patronym_take": r"\s(?:" + particles + r")\s+(.*)$",
        "groups": [
            (r"(?-u:\b)(?:" + _words_re(g.words) + r")(?-u:\b)", g.canonical)
            for g in cfg.token_groups
        ],
        "rewrites": list(cfg.rewrites),
    }


def clean_name(expr: pl.Expr) -> pl.Expr:
    """Upper case, no degrees, no leading titles, letters and single spaces only."""
    p = _patterns()
    e = expr.str.to_uppercase().str.replace(r",.*$", "")
    e = e.str.replace_all(p["dotted"], " ")
    e = e.str.replace_all(p["undotted"], " ")
    e = e.str.strip_chars().str.replace(p["titles"], "")
    e = e.str.replace_all(r"['`\u2018\u2019]", "").str.replace_all(r"[^A-Z]+", " ")
    return e.str.strip_chars()


def _canonical(expr: pl.Expr) -> pl.Expr:
    """Token groups, spelling rewrites, doubled letters: variants of one name agree."""
    p = _patterns()
    e = expr
    for pattern, canonical in p["groups"]:
        e = e.str.replace_all(pattern, canonical)
    for old, new in p["rewrites"]:
        e = e.str.replace_all(old, new, literal=True)
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    e = e.str.replace_many([c + c for c in letters], letters)
    e = e.str.replace_all(r"Y(?-u:\b)", "I")
    return e.str.replace_all(r"\s+", " ").str.strip_chars().replace("", None)


def given_name(clean: pl.Expr) -> pl.Expr:
    """The normalised name of a ``clean_name``, without the bin/binti part."""
    return _canonical(clean.str.replace(_patterns()["patronym_drop"], ""))


def father_of(clean: pl.Expr) -> pl.Expr:
    """The normalised father's name of a ``clean_name`` (after bin/binti), or null."""
    return _canonical(clean.str.extract(_patterns()["patronym_take"], 1))


def normalise_name(expr: pl.Expr) -> pl.Expr:
    """A name as compared for identity: no titles, degrees or bin/binti part, variants unified.

    "Hj. Siti Aminah, S.Pd." -> "ST AMINAH"; "MUH. RIZKY" and "Muhammad Rizki" -> "M RIZKI";
    "AHMAD BIN SALIM" -> "AHMAD" (the father's name is compared separately). Null for an
    empty result.
    """
    return given_name(clean_name(expr))


def father_name(expr: pl.Expr) -> pl.Expr:
    """The normalised name after "bin"/"binti", or null."""
    return father_of(clean_name(expr))


def _compact(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(" ", "", literal=True)


def identity_key(expr: pl.Expr) -> pl.Expr:
    """What two rows' names must share to be one person: the normalised name without
    spaces ("Nur Hayati" = "NURHAYATI" = "Hj. Nurhayati")."""
    return _compact(normalise_name(expr))


def father_key(expr: pl.Expr) -> pl.Expr:
    """The father's name (bin/binti) as identity compares it; null when none is written.
    Two names whose fathers are both written and differ are two people."""
    return _compact(father_name(expr))
