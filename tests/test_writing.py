"""The one write path (writing.py) as users meet it: every file jamsos writes is atomic,
private (group-readable only when the config says so), keeps its temporary files in a
private folder beside it (never the system temp folder), and is never written through a
symlink."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jamsos_cli import writing
from jamsos_cli.cli import app
from tests.helpers import build_args, init_ledger
from tests.rosters import RT, roster

runner = CliRunner()


def mode_of(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


@pytest.fixture
def rosters(tmp_path: Path) -> tuple[Path, Path]:
    """Two kelurahan lists (cp1252, ';'): person 0 on both, a bad row on the first."""
    return (
        roster(tmp_path / "kel_a.csv", [0, 1, 2], bad=True),
        roster(tmp_path / "kel_b.csv", [0, 3]),
    )


def group_config(tmp_path: Path) -> Path:
    config = tmp_path / "jamsos.toml"
    config.write_text("group_readable = true\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_review_file_honours_group_readable(tmp_path: Path, rosters, suffix: str) -> None:
    """Defect: review.py wrote its own files, always 0600."""
    review = tmp_path / f"tinjau{suffix}"
    args = ["dedupe", *map(str, rosters), "--ledger", str(init_ledger(tmp_path / "l.sqlite"))]
    private = runner.invoke(app, [*args, "--review", str(review)])
    assert private.exit_code == 1, private.output  # the pair of person 0
    assert mode_of(review) == "0o600"
    shared = runner.invoke(
        app, [*args, "--review", str(review), "--config", str(group_config(tmp_path))]
    )
    assert shared.exit_code == 1, shared.output
    assert mode_of(review) == "0o640"


def test_no_temporary_file_ever_goes_to_the_system_temp_folder(
    tmp_path: Path, rosters, monkeypatch
) -> None:
    """Defect: xlsxwriter put the review's and the template's temporary files (personal
    data) in the system temp folder. Every temporary file is now made in a private folder
    (0700) beside the file it becomes."""
    system = tmp_path / "system-tmp"
    system.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))  # where a bare mkstemp would go
    monkeypatch.setenv("TMPDIR", str(system))
    made: list[Path] = []
    real_mkstemp = tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(Path(name))
        assert stat.S_IMODE(os.stat(Path(name).parent).st_mode) == 0o700, name
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    out, ledger = tmp_path / "out", str(tmp_path / "ledger.sqlite")
    commands = [
        ["dedupe", *map(str, rosters), "--review", str(tmp_path / "r.xlsx"),
         "--ledger", str(init_ledger(tmp_path / "dd.sqlite"))],
        ["validate", str(rosters[0]), "--rejects", str(tmp_path / "back.xlsx")],
        [*build_args(tmp_path, *rosters), "--batch-format", "xlsx"],
        ["ledger", "export", str(tmp_path / "all.xlsx"), "--ledger", ledger],
        ["template", "--decree", RT, str(tmp_path / "isian.xlsx")],
        ["report", "--ledger", ledger, "--xlsx", str(tmp_path / "rekap.xlsx")],
    ]  # fmt: skip
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (args, result.output)
    assert made, "xlsxwriter made no temporary file: the spy saw nothing"
    assert not [p for p in made if system in p.parents]
    assert list(system.iterdir()) == []
    assert all(p.parent.name.endswith(".tmp") for p in made)
    # and none is left behind, next to the files or in the batch folder
    leftovers = [p for p in tmp_path.rglob("*.tmp")] + list(out.rglob(".*.tmp"))
    assert leftovers == []


def planted(tmp_path: Path) -> tuple[Path, Path, str]:
    """A file someone cares about, and a symlink to it where jamsos will write."""
    precious = tmp_path / "precious.txt"
    precious.write_text("do not touch\n", encoding="utf-8")
    return precious, tmp_path / "link", hashlib.sha256(precious.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "command",
    ["review", "rejects", "export", "template", "log-file", "report"],
)
def test_a_symlink_at_an_output_name_is_refused_and_its_target_untouched(
    tmp_path: Path, rosters, command: str
) -> None:
    precious, _, digest = planted(tmp_path)
    name = {"review": "r.xlsx", "rejects": "back.csv", "export": "all.csv", "report": "r.xlsx"}.get(
        command, "isian.xlsx" if command == "template" else "run.log"
    )
    link = tmp_path / name
    link.symlink_to(precious)
    ledger = tmp_path / "ledger.sqlite"
    if command in ("export", "report"):
        assert runner.invoke(app, build_args(tmp_path, rosters[1])).exit_code == 0
    elif command == "review":
        init_ledger(ledger)
    args = {
        "review": ["dedupe", *map(str, rosters), "--review", str(link), "--ledger", str(ledger)],
        "rejects": ["validate", str(rosters[0]), "--rejects", str(link)],
        "export": ["ledger", "export", str(link), "--ledger", str(ledger)],
        "template": ["template", "--decree", RT, str(link), "--force"],
        "log-file": ["validate", str(rosters[1]), "--log-file", str(link)],
        # the page would be written first: refused all the same (every name checked first)
        "report": ["report", "--ledger", str(ledger), "--out", str(tmp_path / "page.html"),
                   "--xlsx", str(link)],
    }[command]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "tautan simbolik" in lines[0] and str(link) in lines[0]
    assert "Traceback" not in result.output
    assert link.is_symlink() and os.readlink(link) == str(precious)
    assert hashlib.sha256(precious.read_bytes()).hexdigest() == digest
    assert not (tmp_path / "page.html").exists()


def test_atomic_writes_leave_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "f.txt"
    writing.write_atomic(target, lambda p: p.write_text("one"), 0o640)
    assert target.read_text() == "one" and mode_of(target) == "0o640"
    assert mode_of(target.parent) == "0o750" and mode_of(target.parent.parent) == "0o750"

    def fail(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        writing.write_atomic(target, fail, 0o600)
    assert target.read_text() == "one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]  # no temp left


def test_a_folder_or_special_file_at_the_name_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "x.csv"
    folder.mkdir()
    with pytest.raises(writing.WriteRefused) as err:
        writing.write_atomic(folder, lambda p: p.write_text("x"))
    assert err.value.key == "error.file.not_regular" and folder.is_dir()
