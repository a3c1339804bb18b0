"""click's own usage errors read like every other jamsos failure: one line in the user's
language naming what is wrong and the command's help, exit 2 (never click's English block)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASES = [
    (["validate", "x.csv", "--bogus"], "id", "opsi tidak dikenal: --bogus"),
    (["validate", "x.csv", "--bogus"], "en", "no such option: --bogus"),
    (["validate", "x.csv", "--formt", "json"], "id", "(maksudnya --format?)"),
    (["validate"], "id", "argumen ROSTERS belum diberikan"),
    (["validate"], "en", "missing argument ROSTERS"),
    (["validate", "x.csv", "--format", "xml"], "id", "nilai tidak sah untuk --format"),
    (["decrees", "a", "b", "c"], "en", "unexpected extra argument(s): b c"),
    (["validate", "x.csv", "--as-of"], "id", "opsi --as-of perlu diberi nilai"),
    (["valdate", "x.csv"], "id", "perintah tidak dikenal: valdate (maksudnya validate?)"),
    (["--bogus"], "en", "no such option: --bogus"),
]


@pytest.mark.parametrize(("args", "lang", "expected"), CASES)
def test_a_usage_error_is_one_line_in_the_users_language(args, lang, expected, tmp_path) -> None:
    """Through the installed console script, as cron and clerks run it."""
    last = args[-1] == "--as-of"  # an option that needs a value, last on the line
    cmd = [*args[:-1], "--lang", lang, args[-1]] if last else [*args, "--lang", lang]
    run = subprocess.run(
        [str(Path(sys.executable).parent / "jamsos"), *cmd],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("jamsos: ") and expected in lines[0], lines[0]
    assert "Error:" not in run.stderr and "Usage:" not in run.stderr
    if "--as-of" not in args:
        root = args[0].startswith("-") or args[0] == "valdate"  # the root's own errors
        command = "jamsos" if root else f"jamsos {args[0]}"
        assert f"'{command} --help'" in lines[0]
