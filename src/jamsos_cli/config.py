"""The optional configuration file (``jamsos.toml``), from ``--config`` or ``JAMSOS_CONFIG``.

Cron setups name the ledger, the decree folder and the output folder here instead of on
every command line. Unknown keys are an error: a typo must not silently fall back to a default.
Types are strict (pydantic strict mode): ``group_readable = "yes"`` or ``1`` is not a yes, a
quota of ``"5"`` or ``true`` is not a number — each refused naming the file and the key, exit
2, before any work. A quota for a decree id that does not exist is refused too
(``check_quotas``, when the decrees are known). A file saved with a byte-order mark (Notepad)
is read.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from jamsos_cli.errors import JamsosError, data_problems, read_toml
from jamsos_cli.headers import Limits, reading_rules


class ConfigError(JamsosError):
    """The configuration cannot be used (exit 2)."""


class InputRule(BaseModel):
    """``[[inputs]]``: how to read the roster files whose name matches ``pattern`` (the
    first matching entry applies), so that one run reads a folder of different lists."""

    model_config = ConfigDict(extra="forbid", strict=True)

    pattern: str = Field(
        min_length=1, description="File name pattern, * and ? (case-insensitive): 'rt_*.xlsx'."
    )
    role: str | None = Field(None, description="Role of every row of a list with no role column.")
    sheet: str | None = Field(None, description="Sheet to read.")

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name.casefold(), self.pattern.casefold())


# A path is text in TOML: strict mode would refuse every one (it wants a Path object).
TextPath = Annotated[Path, Field(strict=False)]


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    ledger: str | None = Field(
        None, description="Ledger: a file (SQLite) or a postgresql:// URL (a shared ledger)."
    )
    decrees_dir: TextPath | None = Field(None, description="Extra decree rule sets (*.toml).")
    city: str = Field("21.71", pattern=r"^\d{2}\.\d{2}$", description="City code without decree.")
    batch_format: Literal["xlsx", "csv"] = "xlsx"
    out_dir: TextPath | None = Field(None, description="Default --out for build-batch.")
    group_readable: bool = Field(False, description="Output files readable by the owner's group.")
    lang: Literal["id", "en"] = "id"
    hold_score: float | None = Field(
        None,
        ge=0,
        le=100,
        strict=True,
        description="Likely duplicates from this score are held until decided (default 90).",
    )
    quotas: dict[str, Annotated[StrictInt, Field(ge=0)]] = Field(
        default_factory=dict, description="Decree id → quota override (0 = unlimited)."
    )
    limits: Annotated[Limits, Field(strict=False)] = Field(
        default_factory=lambda: reading_rules().limits,
        description="Reading limits; any key of schemas/reading.toml [limits] (a real giant).",
    )
    inputs: list[InputRule] = Field(
        default_factory=list, description="Per-file role and sheet, by file name pattern."
    )
    source: TextPath | None = Field(None, exclude=True, description="Where this config was read.")

    @field_validator("limits", mode="before")
    @classmethod
    def _over_the_shipped_limits(cls, value: object) -> object:
        """``[limits]`` names only the limits it raises; the others stay as shipped."""
        if isinstance(value, dict):
            return {**reading_rules().limits.model_dump(), **value}
        return value


def load_config(path: Path | None) -> Config:
    """Read ``path`` (or ``$JAMSOS_CONFIG``); no file given means the defaults."""
    if path is None and os.environ.get("JAMSOS_CONFIG"):
        path = Path(os.environ["JAMSOS_CONFIG"])
    if path is None:
        return Config()
    raw = read_toml(path, ConfigError, not_found="error.config.not_found")
    base = Path(path).resolve().parent
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("error.data.problems", problems=data_problems(exc, path)) from None
    # Relative paths in the file are relative to the file, so cron can run from anywhere.
    for key in ("decrees_dir", "out_dir"):
        value = getattr(config, key)
        if value is not None and not value.is_absolute():
            setattr(config, key, base / value)
    from jamsos_cli.ledger.location import is_url

    if config.ledger is not None and not is_url(config.ledger):
        config.ledger = str(base / Path(config.ledger).expanduser())
    config.source = Path(path)
    return config


def check_quotas(config: Config, known: object) -> None:
    """Every ``[quotas]`` key names a decree that exists (``known``: the decree ids): a
    quota for a mistyped id must not be ignored while the real decree runs without it."""
    ids = set(known)  # type: ignore[call-overload]
    for decree_id in config.quotas:
        if decree_id not in ids:
            raise ConfigError(
                "error.config.quota_decree",
                path=config.source or "-",
                decree=decree_id,
                known=", ".join(sorted(ids)) or "-",
            )
