"""Config and data files are strict (issue 20): a value of the wrong type is refused, not
guessed (``group_readable = "yes"``, a quota of ``"5"``); a quota for a decree that does not
exist is refused naming it; a layout without a NIK column or with a sheet name Excel refuses
is refused before any work; a file saved by Notepad with a byte-order mark is read. Every
refusal is one line naming the file and the key, exit 2, and nothing is written. Through the
installed command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jamsos_cli.resources import schema_file
from tests.helpers import JAMSOS, build_args
from tests.rosters import RT, roster


def jamsos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [JAMSOS, *args, "--lang", "en"], capture_output=True, text=True, check=False, timeout=120
    )


def refused_with(tmp_path: Path, done: subprocess.CompletedProcess) -> str:
    """Exit 2, one line, no traceback, nothing written; the line."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "ledger.sqlite").exists()
    return lines[0]


@pytest.mark.parametrize(
    "setting, key, what",
    [
        ('group_readable = "yes"', "group_readable", "must be true or false"),
        ("group_readable = 1", "group_readable", "must be true or false"),
        (f'[quotas]\n"{RT}" = "5"', f"quotas.{RT}", "must be a whole number"),
        (f'[quotas]\n"{RT}" = true', f"quotas.{RT}", "must be a whole number"),
        (f'[quotas]\n"{RT}" = -3', f"quotas.{RT}", "must be 0 or more"),
        ('lang = "english"', "lang", "must be one of"),
        ('hold_score = "90"', "hold_score", "must be a number"),
        ("hold_score = true", "hold_score", "must be a number"),
        ("decrees_dir = 5", "decrees_dir", "must be text (a file or folder path)"),
        ("out_dir = []", "out_dir", "must be text (a file or folder path)"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_refused(
    tmp_path: Path, setting: str, key: str, what: str
) -> None:
    config = tmp_path / "jamsos.toml"
    config.write_text(setting + "\n", encoding="utf-8")
    done = jamsos(*build_args(tmp_path, roster(tmp_path / "a.csv", [0])), "--config", str(config))
    line = refused_with(tmp_path, done)
    assert line.startswith(f"jamsos: {config}: {key}: {what}"), line


@pytest.mark.parametrize(
    "setting, said",
    [
        ('hold_score = "90"', "hold_score: harus angka"),
        ("decrees_dir = 5", "decrees_dir: harus teks (jalur berkas atau folder)"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_refused_in_indonesian_by_default(
    tmp_path: Path, setting: str, said: str
) -> None:
    """A number or a path of the wrong type was refused in pydantic's English words
    ("Input should be a valid number") on an Indonesian screen."""
    config = tmp_path / "jamsos.toml"
    config.write_text(setting + "\n", encoding="utf-8")
    args = build_args(tmp_path, roster(tmp_path / "a.csv", [0]), extra=("--config", str(config)))
    done = subprocess.run([JAMSOS, *args], capture_output=True, text=True, check=False)
    line = refused_with(tmp_path, done)
    assert line == f"jamsos: {config}: {said}", line


def test_a_quota_for_a_decree_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "jamsos.toml"
    config.write_text('[quotas]\n"perwako-batam-94-2025" = 500\n', encoding="utf-8")  # 49 typed 94
    done = jamsos(*build_args(tmp_path, roster(tmp_path / "a.csv", [0])), "--config", str(config))
    line = refused_with(tmp_path, done)
    assert line.startswith(f"jamsos: {config}: quotas.perwako-batam-94-2025: no decree has this id")
    assert RT in line  # the known ids, to pick from
    page = tmp_path / "r.html"
    report = jamsos("report", "--ledger", str(tmp_path / "l.sqlite"), "--out", str(page),
                    "--config", str(config))  # fmt: skip
    assert report.returncode == 2 and "perwako-batam-94-2025" in report.stderr
    assert not page.exists()


def test_a_config_saved_by_notepad_with_a_bom_is_read(tmp_path: Path) -> None:
    config = tmp_path / "jamsos.toml"
    config.write_bytes(b"\xef\xbb\xbf" + f'lang = "en"\n[quotas]\n"{RT}" = 1\n'.encode())
    args = build_args(tmp_path, roster(tmp_path / "a.csv", [0, 1]), extra=("--config", str(config)))
    done = subprocess.run([JAMSOS, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr  # read: the quota of 1 holds person 1 back
    assert "QUOTA_EXCEEDED" in done.stdout and "New ledger created" in done.stdout  # lang = en


def _layout(tmp_path: Path, change) -> Path:
    text = schema_file("layouts", "bpjs-bpu.toml").read_text(encoding="utf-8")
    path = tmp_path / "layout.toml"
    path.write_text(change(text), encoding="utf-8")
    return path


def _without_nik(text: str) -> str:
    head, nik_column, rest = text.partition('[[columns]]\nheader = "NIK"\nsource = "nik"\n')
    assert nik_column
    return head + rest.split("\n\n", 1)[1]


@pytest.mark.parametrize(
    "change, key, what",
    [
        (_without_nik, "columns", 'no column has source = "nik"'),
        (lambda t: t.replace('sheet = "DATA PESERTA"', 'sheet = "PESERTA 06/2025"'), "sheet",
         "is not a sheet name Excel accepts"),
        (lambda t: t.replace('sheet = "DATA PESERTA"', f'sheet = "{"X" * 32}"'), "sheet",
         "must have at most 31 character(s)"),
        (lambda t: t.replace("\ntext = true", '\ntext = "yes"', 1), "columns[0].text",
         "must be true or false"),
        (lambda t: t.replace("\nwidth = 20", '\nwidth = "20"', 1), "columns[0].width",
         "must be a whole number"),
    ],
)  # fmt: skip
def test_a_layout_is_checked_before_any_work(tmp_path: Path, change, key: str, what: str) -> None:
    layout = _layout(tmp_path, change)
    args = build_args(tmp_path, roster(tmp_path / "a.csv", [0]), extra=("--layout", str(layout)))
    line = refused_with(tmp_path, jamsos(*args))
    assert line.startswith(f"jamsos: {layout}: {key}: {what}"), line


def test_a_layout_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    layout = _layout(tmp_path, lambda t: "\ufeff" + t)
    args = build_args(tmp_path, roster(tmp_path / "a.csv", [0]), extra=("--layout", str(layout)))
    assert jamsos(*args).returncode == 0


def test_a_decree_problem_names_the_file_and_the_key(tmp_path: Path) -> None:
    decrees = tmp_path / "decrees"
    decrees.mkdir()
    text = schema_file("decrees", f"{RT}.toml").read_text(encoding="utf-8")
    bad = text.replace("[age]\n", '[age]\nmin = "18"\n', 1)
    bad = "\n".join(
        line for i, line in enumerate(bad.split("\n")) if not line.startswith("min = 18")
    )
    (decrees / f"{RT}.toml").write_text(bad, encoding="utf-8")
    args = build_args(tmp_path, roster(tmp_path / "a.csv", [0]), extra=("--decrees", str(decrees)))
    line = refused_with(tmp_path, jamsos(*args))
    assert f"{decrees / (RT + '.toml')}: age.min: must be a whole number" in line, line
