"""Rewrite the generated parts of README.md, as sqlite-utils does with cog: the command
reference from ``--help``, the findings table from schemas/codes.toml and the English text
catalogue, and the Performance section from docs/benchmarks.md (which benchmarks/run.py
writes, then runs this script). Run it after changing a command, an option, a code or a
message:

    python scripts/readme.py          # rewrites README.md in place
    python scripts/readme.py --check  # exit 1 when README.md is not what it would write

Each generated part stands between ``<!-- BEGIN GENERATED: <name> -->`` and
``<!-- END GENERATED: <name> -->``; tests/test_readme.py fails when the README differs
from what this script writes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BENCHMARKS = README.parent / "docs" / "benchmarks.md"  # written by benchmarks/run.py
_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.S,
)


def _commands() -> list[list[str]]:
    """Every command path, in the order ``jamsos --help`` lists them."""
    from typer.main import get_command

    from jamsos_cli.cli import app

    root = get_command(app)
    paths: list[list[str]] = []
    for name, command in root.commands.items():
        subcommands = getattr(command, "commands", None)
        paths.append([name])
        paths += [[name, sub] for sub in subcommands or {}]
    return paths


def _help(path: list[str], config: Path) -> str:
    """``jamsos <path> --help`` in English (a config file saying so: a command group has no
    --lang), 80 columns wide."""
    from typer.testing import CliRunner

    from jamsos_cli.cli import app

    env = {"COLUMNS": "80", "JAMSOS_CONFIG": str(config)}
    result = CliRunner().invoke(app, [*path, "--help"], env=env, prog_name="jamsos")
    assert result.exit_code == 0, result.output
    return result.stdout.rstrip() + "\n"


def commands() -> str:
    """The command table and every command's --help."""
    import tempfile

    from jamsos_cli.texts import say

    rows = ["| command | what it does |", "|---|---|"]
    helps = []
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "jamsos.toml"
        config.write_text('lang = "en"\n', encoding="utf-8")
        for path in _commands():
            first = say(".".join(["help", *path, "command"]), "en").split("\n\n")[0]
            rows.append(f"| `jamsos {' '.join(path)}` | {first} |")
            helps.append(f"#### `jamsos {' '.join(path)}`\n\n```text\n{_help(path, config)}```\n")
    return "\n".join(rows) + "\n\n" + "\n".join(helps)


def findings() -> str:
    """The findings table: every code of schemas/codes.toml, its severity and message."""
    from jamsos_cli.codes import registry
    from jamsos_cli.texts import catalogue

    english = catalogue("en")
    rows = ["| code | severity | message (English) |", "|---|---|---|"]
    for code, spec in registry().items():
        message = english[f"finding.{code}"].replace("|", "/")
        rows.append(f"| `{code}` | {spec.severity} | {message} |")
    return "\n".join(rows) + "\n"


def performance() -> str:
    """The last benchmark run's report (docs/benchmarks.md) without its title, its headings
    one level down (they sit under the README's "## Performance")."""
    body = BENCHMARKS.read_text(encoding="utf-8").split("\n", 1)[1]
    return re.sub(r"^(#+) ", r"#\1 ", body, flags=re.MULTILINE).strip("\n") + "\n"


SECTIONS = {"commands": commands, "findings": findings, "performance": performance}


def render(text: str) -> str:
    """``text`` (the README) with every generated part rewritten."""

    def part(m: re.Match[str]) -> str:
        body = SECTIONS[m.group("name")]()
        return m.group(1) + body + m.group(4)

    return _BLOCK.sub(part, text)


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        return 0 if wanted == current else 1
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
