"""The finding codes: one registry, loaded from ``schemas/codes.toml``.

Codes are the stable contract (JSON reports, rejects files, cron scripts); their severity and
scope live in that data file, their clerk-facing messages in the text catalogue
(``finding.<CODE>``, ``texts.py``), never in the checks.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from jamsos_cli.resources import schema_file
from jamsos_cli.texts import Lang, say

Severity = Literal["error", "warning", "info"]


class CodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity
    scope: Literal["row", "file"] = "row"


def message(code: str, lang: Lang, *, value: str = "", detail: str = "", column: str = "") -> str:
    """The clerk's message of a finding: ``finding.<code>`` with its three placeholders."""
    return say(f"finding.{code}", lang, value=value, detail=detail, column=column)


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
