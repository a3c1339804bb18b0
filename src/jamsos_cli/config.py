"""The optional configuration file (``jamsos.toml``), from ``--config`` or ``JAMSOS_CONFIG``.

Cron setups name the ledger, the decree folder and the output folder here instead of on
every command line. Unknown keys are an error: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jamsos_cli.errors import JamsosError, data_problems


class ConfigError(JamsosError):
    """The configuration cannot be used (exit 2)."""


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ledger: Path | None = Field(None, description="Ledger file (SQLite).")
    decrees_dir: Path | None = Field(None, description="Extra decree rule sets (*.toml).")
    city: str = Field("21.71", pattern=r"^\d{2}\.\d{2}$", description="City code without decree.")
    batch_format: Literal["xlsx", "csv"] = "xlsx"
    out_dir: Path | None = Field(None, description="Default --out for build-batch.")
    group_readable: bool = Field(False, description="Output files readable by the owner's group.")
    lang: Literal["id", "en"] = "id"
    quotas: dict[str, int] = Field(
        default_factory=dict, description="Decree id → quota override (0 = unlimited)."
    )
    source: Path | None = Field(None, exclude=True, description="Where this config was read.")


def load_config(path: Path | None) -> Config:
    """Read ``path`` (or ``$JAMSOS_CONFIG``); no file given means the defaults."""
    if path is None and os.environ.get("JAMSOS_CONFIG"):
        path = Path(os.environ["JAMSOS_CONFIG"])
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("error.config.not_found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("error.file.unreadable", path=path, reason=exc) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("error.file.toml", path=path, reason=exc) from None
    base = Path(path).resolve().parent
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("error.data.problems", problems=data_problems(exc, path)) from None
    # Relative paths in the file are relative to the file, so cron can run from anywhere.
    for key in ("ledger", "decrees_dir", "out_dir"):
        value = getattr(config, key)
        if value is not None and not value.is_absolute():
            setattr(config, key, base / value)
    config.source = Path(path)
    return config
