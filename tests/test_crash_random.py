"""build-batch killed with SIGKILL at random moments (not only at the named crash points of
``test_crash.py``): the output folder and the ledger are always exactly as before or exactly
as after the run, never in between; the SQLite ledger passes ``PRAGMA integrity_check``;
the next run completes. And the commit is durable: every file and the renamed folder are
fsynced before the run reports success.

Trials: ``JAMSOS_KILL_TRIALS`` (default 20, 200 under ``HYPOTHESIS_PROFILE=long``), within
``JAMSOS_KILL_BUDGET`` seconds (default 60; none under ``long``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from jamsos_cli.ledger import Ledger
from tests.conftest import LONG
from tests.helpers import JAMSOS, ledger_batches
from tests.helpers import build_args as batch_args
from tests.rosters import RT, roster
from tests.test_fuzz import assert_clean, invoke

TRIALS = int(os.environ.get("JAMSOS_KILL_TRIALS", 200 if LONG else 20))
BUDGET = float(os.environ.get("JAMSOS_KILL_BUDGET", 1e9 if LONG else 60))
MIN_TRIALS = 8
NAME = f"{RT}_2025-06_2025-12"
FIRST, SECOND = f"{NAME}_001", f"{NAME}_002"
DELTA = 150  # people in the killed run: 30 batch files of 5, so the commit takes a while


def build_args(tmp: Path, src: Path) -> list[str]:
    return batch_args(tmp, src, extra=("--max-rows", "5"))


def visible(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


def settled(ledger: Path) -> list[tuple]:
    """The ledger as every jamsos command sees it (interrupted batch settled, in memory)."""
    with Ledger.snapshot(ledger) as book:
        book.recover()
        return [(b["id"], b["status"], b["participants"]) for b in book.batches()]


def assert_complete(folder: Path, participants: int) -> None:
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["participants"] == participants
    for output in manifest["outputs"]:
        data = (folder / output["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == output["sha256"], output["name"]


class Calibration:
    """One unkilled run: how long it takes, and when the commit starts (the "writing N
    participants" line build-batch prints before the first file)."""

    def __init__(self, base: Path, src: Path, tmp: Path) -> None:
        trial = tmp / "calibration"
        shutil.copytree(base, trial)
        started = time.monotonic()
        proc = subprocess.Popen(
            [JAMSOS, *build_args(trial, src)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        proc.stderr.readline()
        self.writing = time.monotonic() - started
        proc.wait(timeout=120)
        self.total = time.monotonic() - started
        self.code = proc.returncode
        assert self.code in (0, 1), proc.stderr.read()
        self.after = ledger_batches(trial / "ledger.sqlite", check=True)
        self.participants = self.after[-1][2]
        assert visible(trial / "out") == [FIRST, SECOND]


def kill_at_random(trial: Path, src: Path, cal: Calibration, rng: random.Random) -> str:
    """Start the run and SIGKILL it: mostly at a random moment of the commit (after its
    "writing" line), sometimes at any moment from the start. Returns where it was aimed."""
    proc = subprocess.Popen(
        [JAMSOS, *build_args(trial, src)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if rng.random() < 0.3:
            aim = "anywhere"
            time.sleep(rng.uniform(0, cal.total * 1.1))
        else:
            aim = "commit"
            proc.stderr.readline()  # the commit begins
            time.sleep(rng.uniform(0, (cal.total - cal.writing) * 1.3))
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=120)
        proc.stderr.close()
    return aim


def test_sigkill_at_random_moments_leaves_before_or_after(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    first = roster(tmp_path / "rt.csv", range(5))
    src = roster(tmp_path / "rt_delta.csv", range(10, 10 + DELTA))
    run = invoke(build_args(base, first))
    assert_clean(run, allowed=(0,))
    before = ledger_batches(base / "ledger.sqlite", check=True)
    assert before == [(1, "done", 5)] and visible(base / "out") == [FIRST]
    cal = Calibration(base, src, tmp_path)
    after = cal.after
    assert after == [(1, "done", 5), (2, "done", cal.participants)]

    seed = int(os.environ.get("JAMSOS_KILL_SEED", time.time_ns()))
    rng = random.Random(seed)
    outcomes = {"before": 0, "after": 0, "mid-commit": 0}
    started = time.monotonic()
    trials = 0
    while trials < TRIALS and (trials < MIN_TRIALS or time.monotonic() - started < BUDGET):
        trial = tmp_path / f"trial{trials:03d}"
        shutil.copytree(base, trial)
        ledger, out = trial / "ledger.sqlite", trial / "out"
        aim = kill_at_random(trial, src, cal, rng)
        trials += 1
        where = f"trial {trials} ({aim}; JAMSOS_KILL_SEED={seed})"

        # on disk: the earlier batch, and the new one complete or absent
        shown = visible(out)
        assert shown in ([FIRST], [FIRST, SECOND]), f"{where}: {shown}"
        published = shown == [FIRST, SECOND]
        if published:
            assert_complete(out / SECOND, cal.participants)
        # as stored: never a part of the batch's people, a 'done' batch always published
        raw = ledger_batches(ledger, check=True)
        assert raw in (before, after, [*before, (2, "committing", cal.participants)]), where
        status = raw[1][1] if len(raw) > 1 else None  # of the new batch
        assert published or status != "done", where
        if [p for p in out.iterdir() if ".tmp-" in p.name] or status == "committing":
            outcomes["mid-commit"] += 1
        # as every command sees it: exactly before or exactly after
        view = settled(ledger)
        assert view == (after if published else before), f"{where}: {view}"
        outcomes["after" if published else "before"] += 1

        # the next run finishes the job (or finds it done)
        again = invoke([*build_args(trial, src), "--format", "json"])
        assert_clean(again, allowed=(cal.code,))
        assert (json.loads(again.stdout)["batch"] is None) == published, where
        assert visible(out) == [FIRST, SECOND]
        assert not [p for p in out.iterdir() if ".tmp-" in p.name], where
        assert ledger_batches(ledger, check=True) == after, where
        assert_complete(out / SECOND, cal.participants)
        shutil.rmtree(trial)

    print(f"{trials} kills: {outcomes}")
    assert outcomes["before"] and outcomes["mid-commit"], outcomes


def test_publish_fsyncs_files_and_folders(tmp_path: Path, monkeypatch) -> None:
    """Durable commit: each file is fsynced before its rename, the staging folder before
    it is renamed, and the output folder after it (so a power cut cannot undo the rename
    once the ledger marks the batch done)."""
    import jamsos_cli.batch as batch_mod

    events: list[tuple[str, str]] = []
    real_fsync, real_fsync_dir, real_rename = os.fsync, batch_mod.fsync_dir, os.rename

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def fsync_dir(path: Path) -> None:
        events.append(("fsync_dir", str(path)))
        real_fsync_dir(path)

    def rename(src, dst) -> None:  # noqa: ANN001 - os.rename's
        events.append(("rename", str(dst)))
        real_rename(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(batch_mod, "fsync_dir", fsync_dir)
    monkeypatch.setattr(os, "rename", rename)
    src = roster(tmp_path / "rt.csv", range(4), bad=True)
    run = invoke([*build_args(tmp_path, src), "--format", "json"])
    assert_clean(run, allowed=(1,))
    out, folder = tmp_path / "out", tmp_path / "out" / f"{NAME}_001"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 3  # the batch file, the rejects file, the manifest
    synced = [Path(p) for kind, p in events if kind == "fsync"]
    for name in files:  # written in a private ".<name>.<random>.tmp/" folder, fsynced, renamed
        here = [s for s in synced if s.name == name and s.parent.name.startswith(f".{name}.")]
        assert [s for s in here if s.parent.name.endswith(".tmp")], name
    rename_at = events.index(("rename", str(folder)))
    staging = [p for kind, p in events[:rename_at] if kind == "fsync_dir" and ".tmp-" in p]
    assert staging, events  # the staged folder's entries are durable before the rename
    assert ("fsync_dir", str(out)) in events[rename_at:]  # and the rename itself after it
    with sqlite3.connect(tmp_path / "ledger.sqlite") as conn:
        # a rollback journal: a transaction cut by a kill or power cut is undone on open
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
