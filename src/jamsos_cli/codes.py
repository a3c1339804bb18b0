"""The finding codes: one registry, loaded from ``schemas/codes.toml``.

Codes are the stable contract (JSON reports, rejects files, cron scripts); the severity and
the clerk-facing messages live next to them in the data file, never in the checks.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from jamsos_cli.resources import schema_file

Severity = Literal["error", "warning", "info"]
Lang = Literal["id", "en"]


class CodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity
    scope: Literal["row", "file"] = "row"
    id: str
    en: str

    def message(self, lang: Lang, **params: object) -> str:
        template = self.id if lang == "id" else self.en
        return template.format_map(_Blank(params))


class _Blank(dict):
    """Missing placeholders render as an empty string instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""


@cache
def registry() -> dict[str, CodeSpec]:
    with schema_file("codes.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    return {code: CodeSpec.model_validate(spec) for code, spec in raw.items()}


def spec(code: str) -> CodeSpec:
    return registry()[code]


def severity_table():
    """code → severity as a small Polars frame, to join onto the findings."""
    import polars as pl

    reg = registry()
    return pl.DataFrame(
        {"code": list(reg), "severity": [s.severity for s in reg.values()]},
        schema={"code": pl.Utf8, "severity": pl.Utf8},
    )
