"""The README is the user's manual: keep it true to the installed command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.codes import registry

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def _commands() -> list[list[str]]:
    names = re.findall(r"^  (\w[\w-]*)\s", runner.invoke(app, ["--help"]).stdout, re.M)
    out = []
    for name in names:
        sub = runner.invoke(app, [name, "--help"]).stdout
        if "Commands:" in sub:
            out += [
                [name, s] for s in re.findall(r"^  (\w[\w-]*)\s", sub.split("Commands:")[1], re.M)
            ]
        else:
            out.append([name])
    return out


def test_readme_opens_with_the_two_fresh_machine_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert "jamsos build-batch sample_data/" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1].strip() in ci  # CI proves the README's test command


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_and_option_is_documented(command: list[str]) -> None:
    assert f"jamsos {' '.join(command)}".split()[1] in README
    help_text = runner.invoke(app, [*command, "--help"]).stdout
    for option in set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}:
        assert option in README, f"{' '.join(command)} {option} is not in README.md"


def test_every_finding_code_is_in_the_readme() -> None:
    for code in registry():
        assert f"`{code}`" in README, code


def test_help_is_fast_enough_to_not_import_the_engine() -> None:
    """`jamsos --help` must not import polars (start-up time, PERFORMANCE-NOTES)."""
    code = "import sys; from jamsos_cli import cli; print('polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_listing_decrees_does_not_import_the_engine() -> None:
    """`jamsos decrees` reads TOML rule files; it must start as fast as --help."""
    code = (
        "import sys\nfrom jamsos_cli.cli import app\n"
        "try:\n    app(['decrees'])\nexcept SystemExit:\n    pass\n"
        "print('polars' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "False"


def test_the_generated_parts_are_what_the_script_writes() -> None:
    """The command reference (from --help), the findings table (from codes.toml and the
    text catalogue) and the Performance section (from docs/benchmarks.md, which
    benchmarks/run.py writes) are generated: `python scripts/readme.py` after changing them."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "readme.py"
    spec = importlib.util.spec_from_file_location("readme_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert "<!-- BEGIN GENERATED: commands -->" in README
    assert "<!-- BEGIN GENERATED: findings -->" in README
    assert "## Performance\n\n<!-- BEGIN GENERATED: performance -->" in README
    assert script.render(README) == README, "README.md drifted: run python scripts/readme.py"


def test_the_first_command_works_on_a_fresh_machine_and_run_twice(tmp_path: Path) -> None:
    """The README's first command (its jamsos part), in a fresh folder holding the sample
    rosters: the first run makes the demo ledger (--new-ledger) and a batch folder, the
    second submits nobody again and writes no second folder (issue 11)."""
    import json
    import shlex
    import shutil

    from tests.helpers import JAMSOS

    first = re.findall(r"```sh\n(.*?)\n```", README, re.S)[0]
    args = shlex.split(first.split(".venv/bin/jamsos ", 1)[1])
    shutil.copytree(Path(__file__).resolve().parents[1] / "sample_data", tmp_path / "sample_data")
    runs = [
        subprocess.run(
            [JAMSOS, *args, "--format", "json"], cwd=tmp_path, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [1, 1], [r.stderr for r in runs]  # rows rejected
    made, again = (json.loads(r.stdout) for r in runs)
    assert made["summary"]["ledger_new"] and made["batch"]["written"]
    assert not again["summary"]["ledger_new"] and again["batch"] is None
    assert again["summary"]["already_submitted"] == made["batch"]["participants"]
    out = tmp_path / "demo-out"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        Path(made["batch"]["folder"]).name
    ]
