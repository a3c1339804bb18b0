"""Writing in a hostile world (issue 20): names planted where jamsos writes (symlinks, dangling
or not; folders), full disks (a real 2 MB tmpfs where this machine may mount one, else the
one write path's ``JAMSOS_TEST_DISK_FULL`` hook), and failures nobody planned (a bug): each
is one line naming the cause and exit 2 — never a traceback, never exit 1 ("rows rejected")
— with the ledger and the output folder exactly as before."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jamsos_cli.cli import app
from tests.helpers import JAMSOS, build_args, ledger_rows
from tests.rosters import HEADERS, RT, person, roster, write_csv

runner = CliRunner()
FOLDER_001 = f"{RT}_2025-06_2025-12_001"
FOLDER_002 = f"{RT}_2025-06_2025-12_002"


def state(tmp_path: Path) -> tuple[list[tuple], dict[str, str]]:
    """What a failed run must leave as it was: the ledger's rows, and every file and link
    under ``tmp_path`` (the output folder, the ledger, the rosters) with its content."""
    ledger = tmp_path / "ledger.sqlite"
    files: dict[str, str] = {}
    for path in sorted(tmp_path.rglob("*")):
        name = str(path.relative_to(tmp_path))
        if path.is_symlink():
            files[name] = "-> " + os.readlink(path)
        elif path.is_file() and not name.endswith(".lock"):
            files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            files[name] = "dir"
    return (ledger_rows(ledger) if ledger.exists() else []), files


def assert_unchanged(before: tuple, after: tuple) -> None:
    """Ledger rows equal; every file as it was (the differences named when not)."""
    assert after[0] == before[0]
    changed = {k: (before[1].get(k), after[1].get(k)) for k in before[1].keys() | after[1].keys()}
    assert {k: v for k, v in changed.items() if v[0] != v[1]} == {}


def one_line(result) -> str:
    """The failure's one line on stderr (and no traceback anywhere)."""
    assert "Traceback" not in result.output, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def first_batch(tmp_path: Path) -> Path:
    """A ledger with batch 001 (persons 0-2) and a roster with two new people (3, 4)."""
    assert (
        runner.invoke(app, build_args(tmp_path, roster(tmp_path / "a.csv", [0, 1, 2]))).exit_code
        == 0
    )
    return roster(tmp_path / "b.csv", [3, 4])


# --------------------------------------------------------------------------- planted names


def test_a_dangling_symlink_at_the_batch_folder_name_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / FOLDER_001).symlink_to(tmp_path / "nowhere")
    before = state(tmp_path)
    result = runner.invoke(app, build_args(tmp_path, roster(tmp_path / "a.csv", [0, 1])))
    assert result.exit_code == 2
    line = one_line(result)
    assert str(out / FOLDER_001) in line and "tautan simbolik" in line
    assert state(tmp_path)[0] == [] and not (tmp_path / "nowhere").exists()
    assert sorted(os.listdir(out)) == sorted([FOLDER_001, ".jamsos.lock"])
    assert before[1].items() <= state(tmp_path)[1].items()


@pytest.mark.parametrize("planted", ["symlink to a folder", "file"])
def test_a_planted_staging_folder_is_refused(
    tmp_path: Path, first_batch: Path, planted: str
) -> None:
    """The staging folder's name (``.<batch>.tmp-<pid>``; this process's pid under CliRunner)
    taken by someone else: refused, whatever is there left alone, nothing recorded."""
    staging = tmp_path / "out" / f".{FOLDER_002}.tmp-{os.getpid()}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if planted == "file":
        staging.write_text("mine\n", encoding="utf-8")
    else:
        staging.symlink_to(elsewhere)
    before = state(tmp_path)
    result = runner.invoke(app, build_args(tmp_path, first_batch, extra=("--lang", "en")))
    assert result.exit_code == 2
    line = one_line(result)
    assert str(staging) in line
    assert ("symbolic link" if planted != "file" else "not made by this run") in line
    assert_unchanged(before, state(tmp_path))
    assert os.listdir(elsewhere) == []


def test_a_symlink_at_the_lock_file_is_refused(tmp_path: Path, first_batch: Path) -> None:
    lock = tmp_path / "out" / ".jamsos.lock"
    lock.unlink()
    lock.symlink_to(tmp_path / "planted-lock")
    before = state(tmp_path)
    result = runner.invoke(app, build_args(tmp_path, first_batch))
    assert result.exit_code == 2
    assert str(lock) in one_line(result)
    assert_unchanged(before, state(tmp_path)) and not (tmp_path / "planted-lock").exists()


# --------------------------------------------------------------------------- full disks (the hook)


def _in(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return folder


# Every kind of file jamsos writes, written into a folder whose disk is full: (command line,
# the folder the hook fills). ``{t}`` is the test's folder.
FULL_DISK_CASES = {
    "batch xlsx (its staging folder)": (build_args, "out"),
    "batch csv (files in the staging folder)": (build_args, "staging"),
    "batch xlsx (files in the staging folder)": (build_args, "staging"),
    "rejects": (["validate", "{t}/a.csv", "--rejects", "{t}/full/back.xlsx"], "full"),
    "review": (["dedupe", "{t}/a.csv", "{t}/b.csv", "--review", "{t}/full/r.xlsx",
                "--ledger", "{t}/ledger.sqlite"], "full"),
    "export": (["ledger", "export", "{t}/full/all.csv", "--ledger", "{t}/ledger.sqlite"], "full"),
    "template": (["template", "--decree", RT, "{t}/full/isian.xlsx"], "full"),
    "report": (["report", "--ledger", "{t}/ledger.sqlite", "--out", "{t}/full/r.html"], "full"),
    "a new ledger": (["build-batch", "{t}/b.csv", "--decree", RT, "--start", "2025-06",
                      "--out", "{t}/out2", "--ledger", "{t}/full/new.sqlite", "--new-ledger"],
                     "full"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FULL_DISK_CASES))
def test_a_full_disk_is_one_line_and_changes_nothing(
    tmp_path: Path, first_batch: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    args, where = FULL_DISK_CASES[case]
    if callable(args):
        fmt = "csv" if "csv" in case else "xlsx"
        args = args(tmp_path, first_batch, extra=("--batch-format", fmt, "-q"))
    args = [a.replace("{t}", str(tmp_path)) for a in [*args, "--lang", "en"]]
    full = {
        "out": tmp_path / "out",
        "staging": tmp_path / "out" / f".{FOLDER_002}.tmp-{os.getpid()}",
        "full": _in(tmp_path / "full"),
    }[where]
    _in(tmp_path / "out2")  # the new ledger's output folder (made before the ledger)
    before = state(tmp_path)
    monkeypatch.setenv("JAMSOS_TEST_DISK_FULL", str(full))
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    line = one_line(result)
    assert line.startswith("jamsos: disk full on /"), line
    if args[0] == "build-batch" and "new ledger" not in case:
        assert "the batch was not written" in line
    assert_unchanged(before, state(tmp_path))
    monkeypatch.setenv("JAMSOS_TEST_DISK_FULL", "")
    again = runner.invoke(app, args)
    assert again.exit_code in (0, 1), again.output  # space again: the same run works


def test_the_disk_full_line_is_in_the_users_language(
    tmp_path: Path, first_batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAMSOS_TEST_DISK_FULL", str(tmp_path / "out"))
    result = runner.invoke(app, build_args(tmp_path, first_batch))
    assert result.exit_code == 2
    assert one_line(result).startswith("jamsos: disk penuh di /")


def test_a_log_file_on_a_full_disk_is_one_line_and_the_run_fails(
    tmp_path: Path, first_batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is written (the log is not the batch), but cron must hear about the log:
    exit 2, one line, no "--- Logging error ---"."""
    log = _in(tmp_path / "logs") / "run.log"
    log.write_text("", encoding="utf-8")
    monkeypatch.setenv("JAMSOS_TEST_DISK_FULL", str(tmp_path / "logs"))
    args = build_args(tmp_path, first_batch, extra=("--log-file", str(log), "--lang", "en", "-q"))
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Logging error" not in result.output
    assert one_line(result).startswith(f"jamsos: disk full on /: {log} was not written")
    assert [n for _, _, n in ledger_rows(tmp_path / "ledger.sqlite")][-2:] == [
        person(3)[1],
        person(4)[1],
    ]


# --------------------------------------------------------------------------- a real full disk


def _mount_small(folder: Path) -> str | None:
    """Mount a 2 MB tmpfs on ``folder``; None when done, else why it cannot be."""
    if os.geteuid() != 0:
        return "mounting a 2 MB tmpfs needs root (the JAMSOS_TEST_DISK_FULL tests cover it)"
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if done.returncode == 0 else f"cannot mount a tmpfs here: {done.stderr.strip()}"


def fill(path: Path, leave: int) -> None:
    """Fill the filesystem of ``path`` until about ``leave`` bytes are free."""
    free = os.statvfs(path.parent)
    size = max(0, free.f_bavail * free.f_frsize - leave)
    with open(path, "wb") as fh:
        try:
            fh.write(b"\0" * size)
            fh.flush()
        except OSError:
            pass  # full: what was asked for when leave=0


@pytest.fixture
def small_disk(tmp_path: Path):
    disk = tmp_path / "small"
    why = _mount_small(disk)
    if why is not None:
        pytest.skip(why)
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_real_full_disk(tmp_path: Path, small_disk: Path) -> None:
    """The output folder on a 2 MB tmpfs; a batch of 9,000 people does not fit: the
    installed command says so in one line naming the mount, exit 2, and the ledger and the
    output folder are as before. Then a log file on the full disk: one line, exit 2."""
    env = {**os.environ, "JAMSOS_TEST_DISK_FULL": ""}

    def jamsos(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [JAMSOS, *args, "--lang", "en"], capture_output=True, text=True, env=env, check=False
        )

    ledger, out = tmp_path / "ledger.sqlite", small_disk / "out"
    common = ("--decree", RT, "--start", "2025-06", "--ledger", str(ledger), "--out", str(out))
    first = jamsos(
        "build-batch", str(roster(tmp_path / "a.csv", [0, 1, 2])), *common, "--new-ledger"
    )
    assert first.returncode == 0, first.stderr
    big = write_csv(tmp_path / "big.csv", HEADERS, [person(i) for i in range(3, 9000)])
    fill(small_disk / "filler", leave=500_000)  # the batch's 1.8 MB of CSV cannot fit
    before = state(tmp_path)
    result = jamsos("build-batch", str(big), *common, "--batch-format", "csv", "-q")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"jamsos: disk full on {small_disk}: the batch was not written (the ledger and the "
        "output folder are as before); free some space and run again"
    ]
    assert_unchanged(before, state(tmp_path))

    # the ledger on the full disk: SQLite's own "disk full", nothing recorded
    (small_disk / "filler").unlink()
    ledger2 = small_disk / "ledger2.sqlite"
    common2 = ("--decree", RT, "--start", "2025-06", "--ledger", str(ledger2))
    made = jamsos("build-batch", str(tmp_path / "a.csv"), *common2, "--out", str(tmp_path / "o2"),
                  "--new-ledger")  # fmt: skip
    assert made.returncode == 0, made.stderr
    fill(small_disk / "filler", leave=100_000)  # the 9,000 people do not fit in the ledger
    before = ledger_rows(ledger2), sorted(os.listdir(tmp_path / "o2"))
    full = jamsos("build-batch", str(big), *common2, "--out", str(tmp_path / "o2"), "-q")
    assert full.returncode == 2, full.stderr
    (line,) = full.stderr.strip().splitlines()
    assert line.startswith(f"jamsos: {ledger2}: the disk is full"), line
    assert (ledger_rows(ledger2), sorted(os.listdir(tmp_path / "o2"))) == before
    (small_disk / "filler").unlink()

    # fill what is left, then a run whose log cannot grow
    log = small_disk / "run.log"
    log.write_text("", encoding="utf-8")
    fill(small_disk / "filler2", leave=0)
    logged = jamsos("validate", str(tmp_path / "a.csv"), "--log-file", str(log))
    assert logged.returncode == 2, logged.stderr
    assert "Logging error" not in logged.stderr and "Traceback" not in logged.stderr
    assert logged.stderr.strip().splitlines() == [
        f"jamsos: disk full on {small_disk}: {log} was not written; free some space and run again"
    ]


# --------------------------------------------------------------------------- unexpected errors


def test_a_bug_is_one_line_exit_2_and_a_private_crash_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An internal bug (injected) never ends as exit 1 with a traceback: one line saying it is
    a bug, exit 2, and the traceback in a private crash file whose path the line names — with
    the NIK the bug's message quotes masked there too."""
    import jamsos_cli.pipeline

    def broken(*_args, **_kwargs):
        raise ValueError(f"cannot compare {person(0)[1]} with None")

    monkeypatch.setattr(jamsos_cli.pipeline, "run_checks", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    result = runner.invoke(app, ["validate", str(roster(tmp_path / "a.csv", [0])), "--lang", "en"])
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith("jamsos: internal error (ValueError: cannot compare 2171")
    assert person(0)[1] not in result.output
    crash = Path(line.rsplit(" written to ", 1)[1])
    assert crash.parent == tmp_path / "state" / "jamsos" / "log"
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600
    assert stat.S_IMODE(crash.parent.stat().st_mode) == 0o700
    text = crash.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in broken" in text
    assert "ValueError: cannot compare 2171********" in text and person(0)[1] not in text


def test_a_system_error_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError nobody turned into a message (here: the rejects writer's folder vanishes)
    is the file and the system's reason, exit 2."""
    import jamsos_cli.render.rejects

    def vanished(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "back.xlsx"))

    monkeypatch.setattr(jamsos_cli.render.rejects, "write_rejects", vanished)
    args = ["validate", str(roster(tmp_path / "a.csv", [0], bad=True)), "--rejects"]
    result = runner.invoke(app, [*args, str(tmp_path / "back.xlsx"), "--lang", "en"])
    assert result.exit_code == 2
    assert one_line(result) == f"jamsos: {tmp_path / 'back.xlsx'}: Permission denied"


def test_the_installed_command_never_exits_1_on_a_failure(tmp_path: Path) -> None:
    """Through the console script: a failure is exit 2 and one line (here a dangling symlink
    at the batch folder's name, the issue's own case)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / FOLDER_001).symlink_to(tmp_path / "nowhere")
    done = subprocess.run(
        [JAMSOS, *build_args(tmp_path, roster(tmp_path / "a.csv", [0]))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_reader_that_leaves_early_is_one_line(tmp_path: Path) -> None:
    """``jamsos validate ... | head -1``: the pipe closes while the report is printed; one
    line says so (no traceback, no crash file), exit 2."""
    sex = HEADERS.index("JK")
    rows = [person(i) for i in range(1200)]
    for row in rows:  # every sex typed against the NIK: a thousand lines of report (> a pipe)
        row[sex] = "L" if row[sex] == "P" else "P"
    rosters = [write_csv(tmp_path / "k.csv", HEADERS, rows)]
    validate = subprocess.Popen(
        [JAMSOS, "validate", *map(str, rosters), "--lang", "en", "--as-of", "2025-06-01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")},
    )
    assert validate.stdout is not None and validate.stderr is not None
    validate.stdout.readline()
    validate.stdout.close()  # head has what it wanted
    errors = validate.stderr.read().decode()
    assert validate.wait(timeout=120) == 2, errors
    assert errors.strip().splitlines() == [
        "jamsos: the output was closed before the report ended (a pipe into head?); "
        "the run itself is complete"
    ]
    assert not (tmp_path / "state").exists()  # not taken for a bug
