"""A build-batch killed with SIGKILL at any step of the commit leaves the output folder and the
ledger exactly as before or exactly as after, and the next run finishes the job — with the
ledger in a file (SQLite) and in a database (PostgreSQL: the server sees its client go and
rolls back whatever was not committed).

The test-only hook ``JAMSOS_TEST_CRASH_AT=<point>`` (see ``build.py``) makes the process kill
itself at a named point of the commit sequence; nothing else in the run changes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers import JAMSOS
from tests.helpers import build_args as batch_args
from tests.ledgers import Target
from tests.rosters import RT, nik, roster

NAME = f"{RT}_2025-06_2025-12"
# point -> whether the batch counts as written once the next run has looked at the ledger
POINTS = {
    "staged-part": False,  # a batch file written in the hidden staging folder
    "staged": False,  # every file staged, nothing recorded
    "ledger-created": False,  # a new ledger exists, the batch is not in it
    "ledger-insert": False,  # rows inserted, transaction not committed
    "ledger-committed": False,  # recorded as committing, folder not published
    "published": True,  # folder published, batch not yet marked done
}


def jamsos(*args: str, cwd: Path, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "JAMSOS_TEST_CRASH_AT"}
    if crash:
        env["JAMSOS_TEST_CRASH_AT"] = crash
    return subprocess.run(
        [JAMSOS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def build_args(src: Path, tmp_path: Path, target: Target) -> list[str]:
    return batch_args(tmp_path, src, ledger=target.location, extra=("--max-rows", "2"))


def visible(out: Path) -> list[str]:
    """What a clerk sees in the output folder (hidden staging and lock files aside)."""
    return (
        sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    )


def numbered(target: Target) -> list[tuple]:
    """(id, status, people) per batch as stored, the ids numbered 1, 2... in their order: a
    file's ledger numbers batches without gaps (checked); PostgreSQL's batch ids come from a
    sequence, where a killed run's id is not given again (rising, with gaps: README)."""
    stored = target.batches()
    ids = [b[0] for b in stored]
    assert ids == sorted(set(ids))
    if target.sqlite:
        assert ids == list(range(1, len(ids) + 1))
    return [(i, *b[1:]) for i, b in enumerate(stored, 1)]


def listed(tmp_path: Path, target: Target) -> list[dict]:
    if not target.exists():
        return []  # killed before the new ledger was made (``ledger list`` refuses a missing one)
    result = jamsos("ledger", "list", "--ledger", target.location, "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["batches"]


def assert_complete(folder: Path, participants: int) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["participants"] == participants
    for output in manifest["outputs"]:
        assert (folder / output["name"]).exists()


@pytest.mark.parametrize("point", list(POINTS))
def test_killed_first_run_is_before_or_after_and_the_next_run_completes(
    tmp_path: Path, point: str, target: Target
) -> None:
    src = roster(tmp_path / "rt.csv", range(3))
    out = tmp_path / "out"
    killed = jamsos(*build_args(src, tmp_path, target), cwd=tmp_path, crash=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    target.settle()

    after = POINTS[point]
    # on disk: no batch folder, or the complete one
    assert visible(out) == ([f"{NAME}_001"] if after else [])
    if after:
        assert_complete(out / f"{NAME}_001", 3)
    # as any jamsos command sees it (it settles the interrupted batch first; killed inside
    # the transaction, SQLite rolls the journal back when the ledger is next opened)
    batches = listed(tmp_path, target)
    assert [(b["id"], b["status"], b["participants"]) for b in batches] == (
        [(1, "done", 3)] if after else []
    )
    # as stored: nothing committed before the transaction commits
    stored = target.batches()
    if point in ("staged-part", "staged", "ledger-created", "ledger-insert"):
        assert stored == []
    else:
        assert stored == [(1, "committing", 3)]

    again = jamsos(*build_args(src, tmp_path, target), "--format", "json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert (doc["batch"] is None) == after  # already written: nobody new
    assert visible(out) == [f"{NAME}_001"]
    assert [p.name for p in out.iterdir() if ".tmp-" in p.name] == []  # staging cleaned
    assert_complete(out / f"{NAME}_001", 3)
    assert numbered(target) == [(1, "done", 3)]


@pytest.mark.parametrize("point", ["staged", "ledger-insert", "ledger-committed", "published"])
def test_killed_delta_run_keeps_the_earlier_batch(
    tmp_path: Path, point: str, target: Target
) -> None:
    out = tmp_path / "out"
    first = roster(tmp_path / "rt.csv", range(2))
    assert jamsos(*build_args(first, tmp_path, target), cwd=tmp_path).returncode == 0
    before = target.content()
    delta = roster(tmp_path / "rt2.csv", range(5))
    args = build_args(delta, tmp_path, target)
    killed = jamsos(*args, cwd=tmp_path, crash=point)
    assert killed.returncode == -signal.SIGKILL
    target.settle()
    after = point == "published"
    assert visible(out) == [f"{NAME}_001"] + ([f"{NAME}_002"] if after else [])
    # a dry run right after the kill reads the settled state and writes nothing
    dry = jamsos(*args, "--dry-run", "--format", "json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert (json.loads(dry.stdout)["batch"] is None) == after
    assert [(b["id"], b["status"]) for b in listed(tmp_path, target)] == [(1, "done")] + (
        [(2, "done")] if after else []
    )
    recorded = point in ("ledger-committed", "published")
    assert target.batches() == [(1, "done", 2)] + ([(2, "committing", 3)] if recorded else [])
    if not recorded:
        assert target.content() == before
    again = jamsos(*args, "--format", "json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert visible(out) == [f"{NAME}_001", f"{NAME}_002"]
    assert numbered(target) == [(1, "done", 2), (2, "done", 3)]
    assert [r[2] for r in target.people()] == [nik(i) for i in range(5)]


def test_a_batch_whose_folder_was_moved_after_a_kill_is_never_forgotten(
    tmp_path: Path, target: Target
) -> None:
    """Killed after the folder was published, before the ledger said done; the clerk then
    moves the folder to an archive before anyone runs jamsos again (issue 20). Recovery must
    not take the folder's absence for "never published": its 3 people stay submitted and
    the next run pays none of them again."""
    src = roster(tmp_path / "rt.csv", range(3))
    out = tmp_path / "out"
    killed = jamsos(*build_args(src, tmp_path, target), cwd=tmp_path, crash="published")
    assert killed.returncode == -signal.SIGKILL
    assert target.batches() == [(1, "committing", 3)]
    archive = tmp_path / "archive"
    archive.mkdir()
    (out / f"{NAME}_001").rename(archive / f"{NAME}_001")

    again = jamsos(
        *build_args(src, tmp_path, target), "--format", "json", "--lang", "en", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["batch"] is None and doc["summary"]["already_submitted"] == 3
    (note,) = doc["summary"]["recovered"]
    assert note.startswith("interrupted batch 1 kept") and "moved?" in note
    assert target.batches() == [(1, "done", 3)]
    assert visible(out) == []


def test_a_batch_killed_before_its_rename_is_rolled_back_only_while_staged(
    tmp_path: Path, target: Target
) -> None:
    """Killed between the ledger's commit and the rename: the hidden staging folder proves
    the batch was never published, so its rows go and the next run submits its people."""
    src = roster(tmp_path / "rt.csv", range(3))
    out = tmp_path / "out"
    killed = jamsos(*build_args(src, tmp_path, target), cwd=tmp_path, crash="ledger-committed")
    assert killed.returncode == -signal.SIGKILL
    assert [p.name for p in out.iterdir() if ".tmp-" in p.name] != []  # staged, not published
    again = jamsos(
        *build_args(src, tmp_path, target), "--format", "json", "--lang", "en", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["batch"]["participants"] == 3
    assert doc["summary"]["recovered"][0].startswith("rolled back interrupted batch 1")
    # the id was never published: SQLite gives it again; PostgreSQL's sequence never does
    assert target.batches() == [(1 if target.sqlite else 2, "done", 3)]
