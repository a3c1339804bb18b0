"""Errors a user can cause: a text catalogue key with its values, and the exit code SPEC §2
gives it.

The CLI turns these into one line on stderr in the user's language (never a traceback): 2
for usage, configuration and inputs that cannot be processed at all, 3 when another run holds
the lock. Raise them with a key of ``schemas/texts/*.toml`` (``error.<area>.<what>``) and the
values its text names: ``UsageError("error.option.max_rows", value=0)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from jamsos_cli.exitcodes import ExitCode
from jamsos_cli.texts import DEFAULT_LANG, catalogue, ref, say

if TYPE_CHECKING:
    from pydantic import BaseModel

Model = TypeVar("Model", bound="BaseModel")


class JamsosError(Exception):
    """A mistake the user can correct: exit 2 unless a subclass says otherwise."""

    exit_code = ExitCode.USAGE

    def __init__(self, key: str, /, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def message(self, lang: str = DEFAULT_LANG) -> str:
        """The one line the user reads, in ``lang``."""
        return say(self.key, lang, **self.values)

    def __str__(self) -> str:
        return self.message()


class UsageError(JamsosError):
    """A bad option value or combination."""


class LockHeld(JamsosError):
    """Another run holds the lock on the same ledger or output folder."""

    exit_code = ExitCode.LOCKED


def problem(key: str, /, **values: object) -> Exception:
    """A problem a pydantic validator raises about a data file: rendered from ``key``
    (``error.data.<what>``) when the file is reported (``data_problems``)."""
    from pydantic_core import PydanticCustomError

    return PydanticCustomError(key, key, {k: str(v) for k, v in values.items()})


def data_problems(exc: Exception, path: object) -> list[str]:
    """pydantic's ``ValidationError`` about a data file as ``texts.ref`` lines, one per
    problem: the file, the key path (``roles[2].aliases``) and what is wrong, in the reader's
    language where the catalogue has it (``problem`` keys, ``pydantic.<type>``), else in
    pydantic's words."""
    known = catalogue(DEFAULT_LANG)
    lines = []
    for err in exc.errors():  # type: ignore[attr-defined]
        kind = str(err["type"])
        values = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        if kind in known:
            what = ref(kind, **values)
        elif f"pydantic.{kind}" in known:
            what = ref(f"pydantic.{kind}", **values)
        else:
            what = str(err["msg"]).removeprefix("Value error, ")
        lines.append(ref("error.data.problem", path=path, where=key_path(err["loc"]), what=what))
    return lines


def read_toml(
    path: Path, error: type[JamsosError], not_found: str = "error.file.not_found"
) -> dict[str, Any]:
    """A TOML file a user gives (config, decree, layout) as a dict; missing (``not_found``
    names the text), unreadable or not TOML is an ``error`` (exit 2) naming the file. A BOM
    is allowed (Notepad writes one)."""
    import tomllib

    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise error(not_found, path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error("error.file.unreadable", path=path, reason=exc) from None
    except tomllib.TOMLDecodeError as exc:
        raise error("error.file.toml", path=path, reason=exc) from None


def load_data_file(path: Path, model: type[Model], error: type[JamsosError]) -> Model:
    """A TOML data file (a layout...) validated as ``model``; a file missing, unreadable,
    not TOML or not valid is an ``error`` (exit 2) naming the file and, for a bad value,
    its key."""
    from pydantic import ValidationError

    raw = read_toml(path, error)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error("error.data.problems", problems=data_problems(exc, path)) from None


def key_path(loc: tuple) -> str:
    """pydantic's error location as a TOML key path: ``roles[2].aliases``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or ref("error.data.top_level")
