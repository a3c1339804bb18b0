"""What only a ledger in PostgreSQL does: one record many offices share.

Through the installed command, against a real server (``tests/postgres.py``): two cities'
runs at once never pay one person twice; the database itself refuses double coverage; a run
locks its decree (the second run on it exits 3, other decrees go on, a killed holder blocks
nobody); a server that cannot be reached, refuses the password, lacks the database or goes
away mid-run is one line and exit 2 with nothing half-written; the password never reaches
the screen, a log, a manifest or JSON. The rules both stores share are the ``target`` tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from jamsos_cli.ledger import locate
from tests.ledgers import Target
from tests.postgres import PASSWORD, Server, Unavailable, free_port, wait_until
from tests.rosters import write_csv
from tests.test_build_batch import HEADERS, OJOL, RT, folders, nik, person, roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
TPI = "perwako-tanjungpinang-7-2025"  # a second city's decree, on the same database


def command_line(args: tuple) -> list[str]:
    """``jamsos ARGS``; a build-batch makes the test's ledger when it is missing (a ledger is
    made on purpose only: ``--new-ledger``)."""
    extra = ["--new-ledger"] if args[:1] == ("build-batch",) else []
    return [JAMSOS, *map(str, args), *extra]


def jamsos(*args: object, env: dict | None = None, timeout: float = 120):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_TEST_")}
    return subprocess.run(
        command_line(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, **(env or {})},
    )


def start(*args: object, env: dict | None = None) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_TEST_")}
    return subprocess.Popen(
        command_line(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**clean, **(env or {})},
    )


def build(src: Path, out: Path, ledger: str, *extra: object, decree: str = RT):
    return jamsos(
        "build-batch", src, "--decree", decree, "--start", "2025-06", "--out", out,
        "--ledger", ledger, "--format", "json", *extra,
    )  # fmt: skip


def one_line(stderr: str) -> str:
    assert stderr.startswith("jamsos: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return stderr


def decrees_with_tanjungpinang(tmp_path: Path) -> Path:
    """A folder with Kota Tanjungpinang's decree: Batam's rule set, another city."""
    from jamsos_cli.resources import schema_file

    batam = schema_file("decrees", f"{RT}.toml").read_text(encoding="utf-8")
    folder = tmp_path / "decrees"
    folder.mkdir()
    (folder / f"{TPI}.toml").write_text(
        batam.replace(f'id = "{RT}"', f'id = "{TPI}"')
        .replace('title = "Perwako Batam No. 49/2025"', 'title = "Perwako Tanjungpinang 7/2025"')
        .replace('city_code = "21.71"', 'city_code = "21.72"'),
        encoding="utf-8",
    )
    return folder


def tanjungpinang_roster(path: Path, ids) -> Path:
    """Ketua RT of Tanjungpinang; people who moved from Batam keep their NIK."""
    rows = []
    for i in ids:
        row = person(i)
        row[9], row[10] = "Kemboja", "Tanjung Pinang Barat"
        rows.append(row)
    return write_csv(path, HEADERS, rows, title_rows=["DAFTAR KETUA RT KOTA TANJUNGPINANG"])


def covered_twice(target: Target) -> list[tuple]:
    """NIKs in two live batches whose months overlap (must stay empty), as stored."""
    return target.rows(
        "SELECT p.nik, a.id, b.id FROM people p JOIN batches a ON a.id = p.batch_id"
        " JOIN people q ON q.nik = p.nik AND q.batch_id > p.batch_id"
        " JOIN batches b ON b.id = q.batch_id"
        " WHERE a.status <> 'voided' AND b.status <> 'voided'"
        " AND a.start_month <= b.end_month AND b.start_month <= a.end_month"
    )


# --- two cities on one database ---------------------------------------------------------------


def test_a_person_who_moved_is_already_enrolled_in_the_second_city(
    tmp_path: Path, pg: Target
) -> None:
    """The ledger URL from each office's config; Tanjungpinang's run names Batam's batch."""
    decrees = decrees_with_tanjungpinang(tmp_path)
    config = tmp_path / "jamsos.toml"
    config.write_text(f'ledger = "{pg.location}"\ndecrees_dir = "decrees"\n', encoding="utf-8")
    batam = roster(tmp_path / "batam.csv", range(6))
    first = jamsos("build-batch", batam, "--decree", RT, "--start", "2025-06",
                   "--out", tmp_path / "batam", "--config", config, "--format", "json")  # fmt: skip
    assert first.returncode == 0, first.stderr
    moved = tanjungpinang_roster(tmp_path / "tpi.csv", range(4, 9))  # 4 and 5 moved
    second = jamsos("build-batch", moved, "--decree", TPI, "--start", "2025-09",
                    "--out", tmp_path / "tpi", "--config", config, "--format", "json")  # fmt: skip
    assert second.returncode == 1, second.stderr
    doc = json.loads(second.stdout)
    enrolled = [i for i in doc["issues"] if i["code"] == "ALREADY_ENROLLED"]
    assert [i["row"] for i in enrolled] == [3, 4]
    assert all(f"{RT}_2025-06_2025-12_001" in i["message"] for i in enrolled)
    assert doc["batch"]["participants"] == 3 and doc["summary"]["ledger"] == str(
        locate(pg.location)
    )
    assert [b["decree"] for b in json.loads(
        jamsos("ledger", "list", "--config", config, "--format", "json").stdout
    )["batches"]] == [RT, TPI]  # fmt: skip
    assert covered_twice(pg) == []
    # next year Tanjungpinang covers them
    again = jamsos("build-batch", moved, "--decree", TPI, "--start", "2026-01",
                   "--out", tmp_path / "tpi", "--config", config, "--format", "json")  # fmt: skip
    assert again.returncode == 0 and json.loads(again.stdout)["batch"]["participants"] == 5
    assert decrees.is_dir()


def test_two_cities_recording_the_same_people_at_once_pay_each_once(
    tmp_path: Path, pg: Target
) -> None:
    """Both runs read the ledger, decide, stage their files, and only then record (held at
    the same step): the database takes the first batch and refuses the second, which checks
    again and rejects the people the first one covered as ALREADY_ENROLLED."""
    decrees = decrees_with_tanjungpinang(tmp_path)
    batam = roster(tmp_path / "batam.csv", range(10))
    tpi = tanjungpinang_roster(tmp_path / "tpi.csv", range(6, 14))  # 6..9 in both
    gate = tmp_path / "gate"
    runs = {
        RT: start("build-batch", batam, "--decree", RT, "--start", "2025-06", "--out",
                  tmp_path / "batam", "--ledger", pg.location, "--format", "json",
                  env={"JAMSOS_TEST_PAUSE_AT": f"staged:{gate}.{RT}"}),
        TPI: start("build-batch", tpi, "--decree", TPI, "--start", "2025-06", "--out",
                   tmp_path / "tpi", "--ledger", pg.location, "--decrees", decrees,
                   "--format", "json", env={"JAMSOS_TEST_PAUSE_AT": f"staged:{gate}.{TPI}"}),
    }  # fmt: skip
    for decree, proc in runs.items():  # both have read the ledger and staged their batch
        wait_until(lambda d=decree, p=proc: Path(f"{gate}.{d}.reached").exists() or p.poll())
        assert proc.poll() is None, proc.communicate()
    for decree in runs:
        Path(f"{gate}.{decree}").touch()
    results = {d: (p.wait(120), *p.communicate()) for d, p in runs.items()}
    assert all("Traceback" not in err for _, _, err in results.values())
    codes = {d: code for d, (code, _, _) in results.items()}
    assert sorted(codes.values()) == [0, 1], results
    loser = next(d for d, c in codes.items() if c == 1)
    winner = next(d for d in codes if d != loser)
    doc = json.loads(results[loser][1])
    assert any("recorded some of these people" in n or "mencatat sebagian" in n
               for n in doc["summary"]["recovered"])  # fmt: skip
    enrolled = [i for i in doc["issues"] if i["code"] == "ALREADY_ENROLLED"]
    assert len(enrolled) == 4 and all(winner in i["message"] for i in enrolled)
    assert doc["batch"]["participants"] == (10 if loser == RT else 8) - 4
    everyone = sorted(r[2] for r in pg.people())
    assert everyone == sorted(nik(i) for i in range(14))  # each once
    assert covered_twice(pg) == []
    for decree, folder in ((RT, "batam"), (TPI, "tpi")):  # the loser's staged files: gone
        assert [p.name for p in (tmp_path / folder).iterdir() if not p.name.startswith(".")] == [
            f"{decree}_2025-06_2025-12_001"
        ]
        assert not [p for p in (tmp_path / folder).iterdir() if ".tmp-" in p.name]


def test_runs_on_one_decree_started_together_submit_nobody_twice(
    tmp_path: Path, pg: Target
) -> None:
    src = roster(tmp_path / "rt.csv", range(40))
    procs = [
        start("build-batch", src, "--decree", RT, "--start", "2025-06", "--out",
              tmp_path / f"out{i}", "--ledger", pg.location, "--format", "json")
        for i in range(3)
    ]  # fmt: skip
    results = [(p.wait(120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert set(codes) <= {0, 3} and codes[0] == 0, [r[2] for r in results]
    written = [json.loads(out)["batch"] for code, out, _ in results if code == 0]
    assert len([b for b in written if b]) == 1  # a later one found nobody new
    for code, _, err in results:
        if code == 3:
            assert "keputusan perwako-batam-49-2025" in one_line(err) and PASSWORD not in err
    assert pg.batches() == [(1, "done", 40)]


# --- the database's own rule -------------------------------------------------------------------


def test_the_database_itself_refuses_covering_one_nik_twice(tmp_path: Path, pg: Target) -> None:
    """Even a hand-written INSERT: one NIK, overlapping months, live batches, any decree."""
    assert (
        build(roster(tmp_path / "rt.csv", range(3)), tmp_path / "out", pg.location).returncode == 0
    )

    def add_batch(batch_id: int, decree: str, start: int, end: int, who: str) -> None:
        with psycopg.connect(pg.location, autocommit=True) as conn, conn.transaction():
            conn.execute(
                "INSERT INTO batches (id, decree, start_month, end_month, seq, folder,"
                " participants, premium_per_person_month, total_premium, status,"
                " manifest_sha256, tool_version, created_at)"
                " VALUES (%s, %s, %s, %s, 1, 'x', 1, 16800, 16800, 'done', 'x', 't', 'now')",
                (batch_id, decree, start, end),
            )
            conn.execute(
                "INSERT INTO people (batch_id, pos, nik) VALUES (%s, 0, %s)", (batch_id, who)
            )

    june, dec = 2025 * 12 + 5, 2025 * 12 + 11
    for decree in (RT, OJOL):  # the same decree again, or another city's: both refused
        with pytest.raises(psycopg.errors.ExclusionViolation) as refused:
            add_batch(10, decree, dec, dec + 3, nik(1))
        assert refused.value.diag.constraint_name == "no_double_coverage"
        assert nik(1) not in str(refused.value)  # batch ids only: no NIK in the server's log
    add_batch(10, OJOL, dec + 1, dec + 12, nik(1))  # the next year: fine
    assert jamsos("ledger", "void", "1", "--ledger", pg.location, "--yes").returncode == 0
    add_batch(11, OJOL, june, june, nik(2))  # a voided batch covers nobody
    with pytest.raises(psycopg.errors.ExclusionViolation):  # so it cannot come back
        pg.execute("UPDATE batches SET status = 'done' WHERE id = 1")
    with psycopg.connect(pg.location) as conn:  # the check needs READ COMMITTED snapshots
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.errors.RaiseException, match="READ COMMITTED"):
            conn.execute("INSERT INTO people (batch_id, pos, nik) VALUES (10, 5, '1')")
    assert covered_twice(pg) == []


# --- locks -------------------------------------------------------------------------------------

HOLDER = (
    "import sys, time; from jamsos_cli.ledger import lock\n"
    "with lock(sys.argv[1], decree=sys.argv[2] or None):\n"
    " print('locked', flush=True); time.sleep(120)"
)


def hold(url: str, decree: str | None) -> subprocess.Popen:
    """Another office's run holding the lock of ``decree`` (None: the whole ledger)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, decree or ""], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_run_on_a_decree_exits_3_while_other_decrees_go_on(
    tmp_path: Path, pg: Target
) -> None:
    rt = roster(tmp_path / "rt.csv", range(3))
    ojol = roster(tmp_path / "oj.csv", range(10, 12), role="Ojek online")
    assert build(rt, tmp_path / "a", pg.location).returncode == 0
    before = pg.content()
    holder = hold(pg.location, RT)
    try:
        refused = build(roster(tmp_path / "rt2.csv", range(6)), tmp_path / "b", pg.location)
        assert refused.returncode == 3 and refused.stdout == ""
        line = one_line(refused.stderr)
        assert "perintah jamsos lain sedang memakai keputusan perwako-batam-49-2025" in line
        assert str(locate(pg.location)) in line and PASSWORD not in line
        assert pg.content() == before and folders(tmp_path / "b") == []
        # another decree's office goes on; reading never waits
        other = build(ojol, tmp_path / "c", pg.location, decree=OJOL)
        assert other.returncode == 0, other.stderr
        assert jamsos("ledger", "list", "--ledger", pg.location).returncode == 0
        # changing a batch (no decree named) needs the whole ledger
        void = jamsos("ledger", "void", "1", "--ledger", pg.location, "--yes")
        assert void.returncode == 3 and PASSWORD not in void.stderr
    finally:
        holder.kill()
        holder.wait()
    pg.settle()  # the server ends the killed holder's session: its locks go with it
    assert (
        build(roster(tmp_path / "rt2.csv", range(6)), tmp_path / "b", pg.location).returncode == 0
    )
    whole = hold(pg.location, None)  # e.g. ledger copy: every decree waits
    try:
        assert build(ojol, tmp_path / "c", pg.location, decree=OJOL).returncode == 3
    finally:
        whole.kill()
        whole.wait()


# --- when the server cannot be had -------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["wrong-password", "missing-database", "no-server", "not-a-url", "other-tables"]
)
def test_an_unusable_ledger_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, pg: Target, case: str
) -> None:
    server = pg.server
    wrong = "Wr0ng-pass-77"
    url = {
        "wrong-password": server.url(pg.database, password=wrong),
        "missing-database": server.url("no_such_ledger"),
        "no-server": f"postgresql://jamsos:{PASSWORD}@127.0.0.1:{free_port()}/x",
        "not-a-url": f"postgresql://jamsos:{PASSWORD}@127.0.0.1:notaport/x",
        "other-tables": pg.location,
    }[case]
    if case == "other-tables":
        pg.execute("CREATE TABLE customers (id integer, name text)")
    before = pg.content()
    src = roster(tmp_path / "rt.csv", range(2))
    for args in (
        ["build-batch", src, "--decree", RT, "--start", "2025-06", "--out", tmp_path / "out"],
        ["ledger", "list"],
        ["ledger", "void", "1"],
        ["dedupe", src],
    ):
        result = jamsos(*args, "--ledger", url)
        assert result.returncode == 2, (args, result.stderr)
        line = one_line(result.stderr)
        assert PASSWORD not in line and wrong not in line and "***" in line, line
        expected = {
            "wrong-password": "password",
            "missing-database": "no_such_ledger",
            "no-server": "tidak dapat terhubung",
            "not-a-url": "notaport",
            "other-tables": "bukan ledger jamsos",
        }[case]
        assert expected in line, line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert pg.content() == before


@pytest.fixture
def own_server():
    """A server of this test's own, to stop in the middle of a run."""
    try:
        server = Server(durable=True)
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    if not hasattr(server, "data"):
        pytest.skip("an external server cannot be stopped by the tests")
    yield server
    server.remove()


@pytest.mark.parametrize("point", ["ledger-insert", "ledger-committed"])
def test_a_server_stopped_mid_run_is_exit_2_and_the_next_run_completes(
    tmp_path: Path, own_server: Server, point: str
) -> None:
    """Stopped while the batch's transaction is open: nothing of it is recorded, no folder.
    Stopped after it committed: the folder is published, the batch is settled by the next
    run. Either way the ledger is "before" or "after" as every command sees it."""
    name = own_server.new_database()
    target = Target("postgresql", own_server.url(name), server=own_server, database=name)
    out, gate = tmp_path / "out", tmp_path / "gate"
    src = roster(tmp_path / "rt.csv", range(4))
    assert build(roster(tmp_path / "first.csv", range(1)), out, target.location).returncode == 0
    run = start("build-batch", src, "--decree", RT, "--start", "2025-06", "--out", out,
                "--ledger", target.location, "--format", "json", "--log-file",
                tmp_path / "run.log", env={"JAMSOS_TEST_PAUSE_AT": f"{point}:{gate}"})  # fmt: skip
    wait_until(lambda: Path(f"{gate}.reached").exists() or run.poll() is not None)
    own_server.stop("immediate")  # the server goes away with the run inside its commit
    gate.touch()
    code, stdout, stderr = run.wait(120), *run.communicate()
    assert code == 2 and stdout == "", stderr
    line = one_line(stderr)
    assert "sambungan ke ledger terputus" in line and PASSWORD not in line
    assert PASSWORD not in (tmp_path / "run.log").read_text()
    published = point == "ledger-committed"
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == [f"{RT}_2025-06_2025-12_001"] + ([f"{RT}_2025-06_2025-12_002"] * published)
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]  # staging removed
    own_server.start()
    wait_until(lambda: _answers(target.location))
    stored = [(1, "done", 1)] + ([(2, "committing", 3)] if published else [])
    assert target.batches() == stored
    listed = json.loads(jamsos("ledger", "list", "--ledger", target.location,
                               "--format", "json").stdout)["batches"]  # fmt: skip
    assert [(b["id"], b["status"]) for b in listed] == [(1, "done")] + [(2, "done")] * published
    again = build(src, out, target.location)
    assert again.returncode == 0, again.stderr
    assert (json.loads(again.stdout)["batch"] is None) == published  # nobody new
    # (a shared ledger's batch ids come from a sequence: unique and rising, and a server
    # that crashed may skip some)
    (one, two) = target.batches()
    assert one == (1, "done", 1) and two[0] > 1 and two[1:] == ("done", 3)
    assert [r[2] for r in target.people()] == [nik(i) for i in range(4)]


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        time.sleep(0.1)
        return False


# --- ledger copy -------------------------------------------------------------------------------


def listing(ledger: str) -> list[dict]:
    done = jamsos("ledger", "list", "--ledger", ledger, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["batches"]


def test_a_citys_ledger_moves_into_the_province_database(tmp_path: Path, pg: Target) -> None:
    """Batam's file ledger (a voided batch, two decrees, reviewed pairs) copied into the
    province's database: the same batches, people and money, read back and compared; the
    next cron run on the database goes on from there; a second copy is refused."""
    city = str(tmp_path / "batam.sqlite")
    out = tmp_path / "out"
    rt = roster(tmp_path / "rt.csv", range(5))
    assert build(rt, out, city).returncode == 0
    assert jamsos("ledger", "void", "1", "--ledger", city, "--yes").returncode == 0
    assert build(roster(tmp_path / "rt2.csv", range(4)), out, city).returncode == 0
    ojol = roster(tmp_path / "oj.csv", range(10, 13), role="Ojek online")
    assert build(ojol, out, city, decree=OJOL).returncode == 0
    from jamsos_cli.ledger import Ledger, change

    with Ledger.open(city) as book:  # a clerk's reviewed pairs
        import polars as pl

        book.record_decisions(
            pl.DataFrame({"nik_a": [nik(1)], "nik_b": [nik(2)], "decision": ["different"]}),
            change("jamsos dedupe --decisions tinjau.xlsx"),
        )
    withdrawn = jamsos("ledger", "withdraw", nik(0), "--reason", "salah", "--ledger", city)
    assert withdrawn.returncode == 0, withdrawn.stderr  # freed: may be submitted again
    file = Target("sqlite", city, path=Path(city))
    city_log = file.rows("SELECT at, os_user, command FROM changes ORDER BY id")
    before = listing(city)
    stats = json.loads(jamsos("ledger", "stats", "--ledger", city, "--format", "json").stdout)

    copied = jamsos("ledger", "copy", city, pg.location, "--format", "json")
    assert copied.returncode == 0, copied.stderr
    doc = json.loads(copied.stdout)["copied"]
    assert (doc["batches"], doc["people"], doc["decisions"], doc["inputs"]) == (3, 12, 1, 3)
    assert doc["participants"] == 5 + 4 + 3 and doc["verified"] is True
    assert doc["total_premium"] == 12 * 7 * 16_800 and doc["target"] == str(locate(pg.location))
    assert PASSWORD not in copied.stdout + copied.stderr
    assert listing(pg.location) == before  # ids, folders, statuses, money, times
    assert json.loads(
        jamsos("ledger", "stats", "--ledger", pg.location, "--format", "json").stdout
    )["stats"] == stats["stats"]  # fmt: skip
    exports = []
    for ledger in (city, pg.location):
        target = tmp_path / f"export{len(exports)}.csv"
        assert (
            jamsos("ledger", "export", target, "--include-voided", "--ledger", ledger).returncode
            == 0
        )
        exports.append(target.read_bytes())
    assert exports[0] == exports[1]  # every person, every field, the same order
    pair = sorted((nik(1), nik(2)))
    assert pg.rows("SELECT nik_a, nik_b, decision FROM decisions") == [(*pair, "different")]
    # the same ledger, moved: its id (its batch folders' manifests name it), its change log
    # and the copy itself logged
    ledger_id = "SELECT value FROM meta WHERE key = 'ledger_id'"
    assert pg.rows(ledger_id) == file.rows(ledger_id)
    moved_log = pg.rows("SELECT at, os_user, command FROM changes ORDER BY id")
    assert moved_log[:-1] == city_log and moved_log[-1][2].startswith("jamsos ledger copy")
    assert pg.rows("SELECT nik, batch_id, kind FROM person_events") == [(nik(0), 2, "withdrawn")]
    # the cron jobs now name the database (the same output folder): the covered again are
    # not submitted; person 0 (withdrawn), person 4 (in the voided batch only) and a new one
    # are — the database's own rule lets a withdrawn person be covered again
    again = build(roster(tmp_path / "rt3.csv", range(6)), out, pg.location)
    assert again.returncode == 0, again.stderr
    batch = json.loads(again.stdout)["batch"]
    assert batch["participants"] == 3 and batch["id"] == 4
    assert [r[2] for r in pg.people() if r[0] == 4] == [nik(0), nik(4), nik(5)]
    # copying it again would pay everyone twice
    state = pg.content()
    twice = jamsos("ledger", "copy", city, pg.location)
    assert twice.returncode == 2 and "sudah berisi ledger" in one_line(twice.stderr)
    assert pg.content() == state


def test_another_citys_ledger_joins_with_merge_and_double_coverage_is_refused(
    tmp_path: Path, pg: Target
) -> None:
    decrees = decrees_with_tanjungpinang(tmp_path)
    batam, tpi, both = (str(tmp_path / f"{n}.sqlite") for n in ("batam", "tpi", "both"))
    assert build(roster(tmp_path / "b.csv", range(4)), tmp_path / "ob", batam).returncode == 0
    assert jamsos("ledger", "copy", batam, pg.location).returncode == 0
    moved = tanjungpinang_roster(tmp_path / "t.csv", range(10, 13))
    assert build(moved, tmp_path / "ot", tpi, "--decrees", decrees, decree=TPI).returncode == 0
    state = pg.content()
    refused = jamsos("ledger", "copy", tpi, pg.location)
    assert refused.returncode == 2 and "--merge" in one_line(refused.stderr)
    assert pg.content() == state
    merged = jamsos("ledger", "copy", tpi, pg.location, "--merge", "--format", "json")
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["copied"]["first_id"] == 2  # after Batam's batch 1
    assert [(b["id"], b["decree"]) for b in listing(pg.location)] == [(1, RT), (2, TPI)]
    # a third office's file covering a Batam person for the same months: refused, named
    overlap = tanjungpinang_roster(tmp_path / "x.csv", [2, 20])
    assert build(overlap, tmp_path / "ox", both, "--decrees", decrees, decree=TPI).returncode == 0
    state = pg.content()
    refused = jamsos("ledger", "copy", both, pg.location, "--merge", "--lang", "en")
    line = one_line(refused.stderr)
    assert refused.returncode == 2 and "1 people are covered by both ledgers" in line
    assert nik(2)[:4] + "********" + nik(2)[-4:] in line and nik(2) not in line
    assert pg.content() == state and covered_twice(pg) == []


def test_a_copy_that_reads_back_different_is_rolled_back(
    tmp_path: Path, pg: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison is real: a store that loses a person on the way fails the copy, and
    nothing of it stays (the ledger the copy created is empty)."""
    from jamsos_cli.errors import JamsosError
    from jamsos_cli.ledger import change, copying
    from jamsos_cli.ledger.postgresql import PostgresStore

    city = str(tmp_path / "city.sqlite")
    assert build(roster(tmp_path / "rt.csv", range(3)), tmp_path / "o", city).returncode == 0
    append = PostgresStore.append

    def lossy(self, name, rows):
        append(self, name, rows.head(-1) if name == "people" else rows)

    monkeypatch.setattr(PostgresStore, "append", lossy)
    with pytest.raises(JamsosError) as failed:
        copying.copy(city, pg.location, change("test"))
    assert failed.value.key == "error.ledger.copy_mismatch"
    assert pg.rows("SELECT count(*) FROM batches") == [(0,)]
    assert pg.rows("SELECT count(*) FROM people") == [(0,)]


def test_copy_refuses_itself_and_a_missing_source(tmp_path: Path, pg: Target) -> None:
    same = jamsos("ledger", "copy", pg.location, pg.location)
    assert same.returncode == 2 and PASSWORD not in same.stderr
    missing = jamsos("ledger", "copy", tmp_path / "nope.sqlite", pg.location)
    assert missing.returncode == 2 and "nope.sqlite" in one_line(missing.stderr)
    assert not pg.exists()


# --- the password, nowhere --------------------------------------------------------------------


def everything_written(root: Path) -> str:
    """Every file under ``root`` as text (a workbook's parts unzipped), for a search."""
    import zipfile

    texts = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as book:
                texts += [book.read(n).decode("utf-8", "replace") for n in book.namelist()]
        else:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


@pytest.mark.parametrize("where", ["option", "config"])
def test_the_password_is_in_no_output_log_manifest_json_or_file(
    tmp_path: Path, pg: Target, where: str
) -> None:
    """Every command on a ledger whose URL carries the password — on the command line in the
    user part, or in the config file as a ``password=`` parameter — shows the URL masked on
    the screen, in logs, manifests, JSON, review files and reports, and the password nowhere."""
    from urllib.parse import quote

    assert f":{PASSWORD}@" in pg.location
    url = pg.location
    if where == "config":  # the password as a query parameter instead
        url = url.replace(f":{quote(PASSWORD)}@", "@") + f"?password={quote(PASSWORD)}"
    work = tmp_path / "work"
    work.mkdir()
    config = tmp_path / "jamsos.toml"
    config.write_text(f'ledger = "{url}"\n', encoding="utf-8")
    ledger = ["--config", config] if where == "config" else ["--ledger", url]
    log = ["--log-file", work / "jamsos.log"]
    src = roster(tmp_path / "rt.csv", range(4))
    delta = roster(tmp_path / "rt2.csv", range(6))
    build = ["build-batch", "--decree", RT, "--start", "2025-06", "--out", work / "out"]
    runs = [
        ["ledger", "init", url, "--format", "json"],
        [*build[:1], src, *build[1:], *ledger, *log, "--format", "json"],
        [*build[:1], delta, *build[1:], *ledger, *log, "--dry-run"],
        [*build[:1], delta, *build[1:], *ledger, *log],
        ["dedupe", delta, *ledger, *log, "--review", work / "tinjau.xlsx", "--format", "json"],
        ["dedupe", delta, *ledger, *log],
        ["ledger", "list", *ledger, "--format", "json"],
        ["ledger", "list", *ledger],
        ["ledger", "stats", *ledger, "--format", "json"],
        ["ledger", "stats", *ledger],
        ["ledger", "export", work / "semua.csv", *ledger],
        ["report", *ledger, *log, "--out", work / "r.html", "--xlsx", work / "r.xlsx"],
        ["ledger", "withdraw", nik(5), "--reason", "dua kali", "--out", work / "tarik.xlsx",
         *ledger],
        ["ledger", "mark-uploaded", "1", *ledger, "--format", "json"],
        ["ledger", "void", "2", *ledger],  # refused: no terminal to ask, the command quoted
        ["ledger", "void", "2", *ledger, "--yes", "--format", "json"],
        ["ledger", "void", "2", *ledger, "--yes"],  # refused: already voided
    ]  # fmt: skip
    said = []
    for args in runs:
        result = jamsos(*args)
        assert result.returncode in (0, 1, 2), (args, result.stderr)  # 1: pairs found
        said.append(result.stdout + result.stderr)
    assert said[-1].startswith("jamsos: ") and said[-3].startswith("jamsos: ")  # refusals
    assert "--yes" in said[-3] and "ledger void 2" in said[-3]
    recorded = pg.rows("SELECT command, COALESCE(input_name, '') FROM changes ORDER BY id")
    assert [c.split()[:3] for c, _ in recorded] == [
        ["jamsos", "ledger", "init"],
        ["jamsos", "build-batch", str(src)],
        ["jamsos", "build-batch", str(delta)],
        ["jamsos", "ledger", "withdraw"],
        ["jamsos", "ledger", "mark-uploaded"],
        ["jamsos", "ledger", "void"],
    ]  # the change log, as the database holds it
    said.append(repr(recorded))
    written = everything_written(work)
    shown = str(locate(url))
    assert "***" in shown and PASSWORD not in shown
    for text in (*said, written):
        assert PASSWORD not in text and quote(PASSWORD) not in text
    manifest = json.loads(next((work / "out").glob("*/manifest.json")).read_text())
    assert manifest["ledger"] == shown
    assert json.loads(said[1])["summary"]["ledger"] == shown
    assert shown in (work / "jamsos.log").read_text()


def test_a_renewal_and_a_backup_on_a_shared_ledger(tmp_path: Path, pg: Target) -> None:
    """build-batch --renew carries the decree's people on the database (its roster in a
    private folder of the output folder, there being no folder beside a URL); ledger backup
    of a database is one line naming pg_dump and ledger copy, exit 2, nothing written."""
    out = tmp_path / "out"
    assert build(roster(tmp_path / "rt.csv", range(3)), out, pg.location).returncode == 0
    renewed = jamsos(
        "build-batch", "--decree", RT, "--start", "2026-01", "--out", out,
        "--ledger", pg.location, "--renew", "--format", "json",
    )  # fmt: skip
    assert renewed.returncode == 0, renewed.stderr
    assert json.loads(renewed.stdout)["batch"]["participants"] == 3
    assert not list(out.glob(".jamsos-renewal/*"))  # its roster removed after the run
    backup = jamsos("ledger", "backup", tmp_path / "b.sqlite", "--ledger", pg.location)
    line = one_line(backup.stderr)
    assert backup.returncode == 2 and "pg_dump" in line and PASSWORD not in line
    assert not (tmp_path / "b.sqlite").exists()
