"""Where the shipped data files (decrees, layouts, codes, reference tables) live.

Installed, they are package data under ``jamsos_cli/schemas``; in a source checkout
(editable install, tests) they are the top-level ``schemas/`` folder.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def schemas_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "schemas"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "schemas"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("jamsos data files (schemas/) are missing from the installation")


def schema_file(*parts: str) -> Path:
    return schemas_dir().joinpath(*parts)
