"""Two build-batch runs at once on the same ledger or output folder — real concurrent
``jamsos`` processes, not only a lock held by a helper: one proceeds, the other exits 3
at once without touching anything; started together, nobody is ever submitted twice; a
run killed while holding the locks blocks nobody.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jamsos_cli.locks import folder_lock_path, ledger_lock_path
from tests.helpers import JAMSOS, ledger_batches
from tests.rosters import RT, nik, roster

NAME = f"{RT}_2025-06_2025-12"

# A jamsos process with its modules already imported, started on a line on stdin: the race
# is then between the runs themselves, not between interpreter start-ups.
WARM = """
import sys
from jamsos_cli import batch, build, cli, decrees, ledger, locks, pipeline, read  # noqa: F401
print("ready", flush=True)
sys.stdin.readline()
sys.argv = ["jamsos", *sys.argv[1:]]
cli.main()
"""

pytestmark = pytest.mark.skipif(
    not Path("/proc/locks").exists(), reason="needs Linux /proc/locks to see who holds a lock"
)


def args(src: Path, out: Path, ledger: Path) -> list[str]:
    return ["build-batch", str(src), "--decree", RT, "--start", "2025-06", "--out", str(out),
            "--ledger", str(ledger), "--new-ledger", "--format", "json"]  # fmt: skip


def warm(*argv: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "JAMSOS_TEST_CRASH_AT"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WARM, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def go(proc: subprocess.Popen) -> None:
    proc.stdin.write("\n")
    proc.stdin.flush()


def holds(pid: int, lock: Path) -> bool:
    """Whether process ``pid`` holds an flock on ``lock`` (read from /proc/locks)."""
    if not lock.exists():
        return False
    inode = lock.stat().st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        if fields[4] == str(pid) and fields[5].rsplit(":", 1)[-1] == str(inode):
            return True
    return False


def wait_until_locked(proc: subprocess.Popen, lock: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not holds(proc.pid, lock):
        assert proc.poll() is None, f"finished before we saw its lock: {proc.communicate()}"
        assert time.monotonic() < deadline, "the run never took its lock"
        time.sleep(0.005)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def folders(out: Path) -> list[str]:
    return (
        sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    )


@pytest.mark.parametrize("shared", ["ledger", "out"])
def test_second_concurrent_run_exits_3_and_changes_nothing(tmp_path: Path, shared: str) -> None:
    src = roster(tmp_path / "rt.csv", range(200))  # enough people to hold the lock a while
    out_a, ledger_a = tmp_path / "out_a", tmp_path / "a" / "ledger.sqlite"
    out_b = out_a if shared == "out" else tmp_path / "out_b"
    ledger_b = ledger_a if shared == "ledger" else tmp_path / "b" / "ledger.sqlite"
    first, second = warm(*args(src, out_a, ledger_a)), warm(*args(src, out_b, ledger_b))
    try:
        go(first)
        lock = ledger_lock_path(ledger_a) if shared == "ledger" else folder_lock_path(out_a)
        wait_until_locked(first, lock)
        started = time.monotonic()
        go(second)
        code, stdout, stderr = finish(second)
        assert time.monotonic() - started < 10  # refused at once, not after waiting
        assert first.poll() is None  # really at the same time: the first is still running
    finally:
        results = finish(first)
    assert code == 3, stderr
    assert (
        stderr.startswith("jamsos: perintah jamsos lain sedang memakai")
        and "Traceback" not in stderr
    )
    assert stdout == ""
    assert results[0] == 0, results[2]
    assert json.loads(results[1])["batch"]["participants"] == 200
    assert folders(out_a) == [f"{NAME}_001"] and ledger_batches(ledger_a) == [(1, "done", 200)]
    # the refused run left nothing behind: no batch folder, no ledger
    if shared == "ledger":
        assert folders(out_b) == []
    else:
        assert not ledger_b.exists()


def test_runs_started_together_never_submit_anyone_twice(tmp_path: Path) -> None:
    """Three cron jobs firing at the same second over the same roster, ledger and folder."""
    src = roster(tmp_path / "rt.csv", range(50))
    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    procs = [warm(*args(src, out, ledger)) for _ in range(3)]
    for proc in procs:
        go(proc)
    results = [finish(p) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert set(codes) <= {0, 3} and codes[0] == 0, [r[2] for r in results]
    written = [json.loads(o)["batch"] for c, o, _ in results if c == 0]
    assert len([b for b in written if b is not None]) == 1  # later ones found nobody new
    for code, _, err in results:
        assert "Traceback" not in err
        if code == 3:
            assert "perintah jamsos lain sedang memakai" in err
    assert folders(out) == [f"{NAME}_001"]
    assert ledger_batches(ledger) == [(1, "done", 50)]
    conn = sqlite3.connect(ledger)
    niks = [r[0] for r in conn.execute("SELECT nik FROM people")]
    conn.close()
    assert sorted(niks) == sorted(nik(i) for i in range(50))


def test_run_killed_while_holding_the_locks_blocks_nobody(tmp_path: Path) -> None:
    src = roster(tmp_path / "rt.csv", range(200))
    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    doomed = warm(*args(src, out, ledger))
    go(doomed)
    wait_until_locked(doomed, folder_lock_path(out))
    doomed.send_signal(signal.SIGKILL)
    assert finish(doomed)[0] == -signal.SIGKILL
    assert ledger_lock_path(ledger).exists() and folder_lock_path(out).exists()  # stale files
    result = subprocess.run(
        [JAMSOS, *args(src, out, ledger)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["batch"]["participants"] == 200
    assert folders(out) == [f"{NAME}_001"] and ledger_batches(ledger) == [(1, "done", 200)]
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]  # its staging folder cleaned
