"""The programme's life in the ledger (issue 13, SPEC §10): BPJS's reply, the registry's
matching, statuses per period, ends and reopenings, one person's history, the change log,
and what they do to validate and build-batch.

Every test runs the command (in-process ``CliRunner`` for build-batch, the installed
``jamsos`` for the ledger commands) on files made the way a BPJS branch office and a Dukcapil
office send them: xlsx with title rows and extra columns, cp1252 ``;`` CSV, numeric KPJ
cells, headers spelled their way."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jamsos_cli.cli import app
from tests.helpers import JAMSOS, build_args
from tests.ledgers import Target
from tests.rosters import HEADERS, RT, nik, person, roster, write_csv, write_xlsx

runner = CliRunner()
NAME = f"{RT}_2025-06_2025-12"
DATA = Path(__file__).parent / "data"
REPLY_HEADERS = ["NO", "NIK", "NAMA PESERTA", "NO KPJ", "HASIL VERIFIKASI", "KETERANGAN", "TMT"]
REPLY_HEADERS += ["PROGRAM"]
TITLES = ["DAFTAR HASIL VERIFIKASI PESERTA BPU", "KANTOR CABANG BATAM"]
FIRST_ROW = len(TITLES) + 3  # titles, a blank row, the header: the first person's row


# The ledger a test uses: its tmp_path's SQLite file, or where the ``at`` fixture puts it
# (a test asking for ``at`` runs against both stores).
_LEDGERS: dict[Path, object] = {}


def where(tmp_path: Path) -> object:
    return _LEDGERS.get(tmp_path, tmp_path / "ledger.sqlite")


@pytest.fixture
def at(tmp_path: Path, target: Target):
    """The test's ledger in each store (tests/conftest.py ``target``)."""
    _LEDGERS[tmp_path] = target.location
    yield target
    _LEDGERS.pop(tmp_path, None)


def build(tmp_path: Path, *rosters: Path, **kw) -> tuple[int, dict]:
    kw.setdefault("ledger", where(tmp_path))
    result = runner.invoke(
        app, [*build_args(tmp_path, *rosters, **kw), "--format", "json", "--lang", "en"]
    )
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def jamsos(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed command (stdin not a terminal), in English."""
    return subprocess.run(
        [JAMSOS, *map(str, args), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def ledger(tmp_path: Path, *args: object) -> subprocess.CompletedProcess:
    return jamsos("ledger", *args, "--ledger", where(tmp_path))


def as_json(done: subprocess.CompletedProcess, code: int = 0) -> dict:
    assert done.returncode == code, (done.returncode, done.stderr)
    return json.loads(done.stdout)


def with_status(tmp_path: Path, status: str) -> set[str]:
    doc = as_json(ledger(tmp_path, "list", "--status", status, "--show-pii", "--format", "json"))
    return {p["nik"] for p in doc["people"]}


def issues(doc: dict, code: str) -> list[dict]:
    return [i for i in doc["issues"] if i["code"] == code]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reply_row(i: int, status: str, kpj: str = "", reason: str = "", name: str = "") -> list:
    return [str(i + 1), nik(i), name or person(i)[2], kpj, status, reason, "01-07-2025", "JKK JKM"]


def write_reply(path: Path, rows: list[list]) -> Path:
    return write_xlsx(path, REPLY_HEADERS, rows, title_rows=TITLES, numeric_columns={"NO KPJ"})


def first_batch(tmp_path: Path, n: int = 6) -> None:
    assert build(tmp_path, roster(tmp_path / "rt.csv", range(n)))[0] == 0


# --------------------------------------------------------------------------- import-reply


def test_a_reply_records_active_and_refused_people_once_and_reports_the_rest(
    tmp_path: Path, at: Target
) -> None:
    first_batch(tmp_path)
    reply = write_reply(
        tmp_path / "hasil_verifikasi.xlsx",
        [
            reply_row(0, "BERHASIL", "12345678901"),
            reply_row(1, "Ditolak", reason="SUDAH TERDAFTAR SEBAGAI PESERTA PU"),
            reply_row(2, "sukses", "12345678902", name="Budi Hartono"),  # another name
            reply_row(3, "BERHASIL", "1234567890"),  # 10 digits
            reply_row(4, "AKTIF", "12345678901"),  # person 0's KPJ
            reply_row(40, "BERHASIL", "12345678940"),  # nobody the ledger holds
        ],
    )
    before = sha256(reply)
    doc = as_json(ledger(tmp_path, "import-reply", reply, "--format", "json"), code=1)
    assert sha256(reply) == before  # the file is never modified
    (done,) = doc["files"]
    assert {k: doc["summary"][k] for k in ("rows", "active", "refused", "unknown")} == {
        "rows": 6, "active": 2, "refused": 1, "unknown": 3,
    }  # fmt: skip
    assert (doc["summary"]["name_differs"], doc["summary"]["unchanged"]) == (1, 0)
    found = {(f["row"], f["code"]) for f in done["findings"]}
    row = FIRST_ROW
    assert found == {
        (row + 2, "NAME_DIFFERS_FROM_LEDGER"),
        (row + 3, "KPJ_FORMAT"),
        (row + 4, "KPJ_TAKEN"),
        (row + 5, "NIK_NOT_IN_LEDGER"),
    }
    unknown = next(f for f in done["findings"] if f["code"] == "NIK_NOT_IN_LEDGER")
    assert unknown["value"] == nik(40)[:4] + "********" + nik(40)[-4:]  # masked
    assert with_status(tmp_path, "active") == {nik(0), nik(2)}
    assert with_status(tmp_path, "refused") == {nik(1)}
    assert with_status(tmp_path, "submitted") == {nik(3), nik(4), nik(5)}
    refused = as_json(ledger(tmp_path, "list", "--status", "refused", "--format", "json"))
    assert refused["people"][0]["reason"] == "SUDAH TERDAFTAR SEBAGAI PESERTA PU"
    person0 = as_json(ledger(tmp_path, "person", nik(0), "--format", "json"))
    (period,) = person0["periods"]
    assert (period["person_status"], period["kpj"], period["coverage_start"]) == (
        "active", "12345678901", "2025-07-01",
    )  # fmt: skip
    assert period["folder"] == f"{NAME}_001" and "name" not in period  # masked: no name

    # the same file again: nothing changes, and it says so
    changes = len(as_json(ledger(tmp_path, "log", "--format", "json"))["changes"])
    again = ledger(tmp_path, "import-reply", reply)
    assert again.returncode == 1 and "nothing changed" in again.stdout
    assert len(as_json(ledger(tmp_path, "log", "--format", "json"))["changes"]) == changes
    assert with_status(tmp_path, "active") == {nik(0), nik(2)}

    # the log names the file and its sha256
    log = as_json(ledger(tmp_path, "log", "--format", "json"))["changes"]
    imported = [c for c in log if "import-reply" in c["command"]]
    assert [(c["input_name"], c["input_sha256"]) for c in imported] == [(str(reply), before)]
    assert imported[0]["user"] and imported[0]["summary"]["active"] == 2


def test_a_reply_as_csv_with_other_headers_and_a_later_correction(tmp_path: Path) -> None:
    """A cp1252 ``;`` CSV with the other default headers; a later reply turns a refusal
    into an active person (the latest answer counts)."""
    first_batch(tmp_path, 3)
    headers = ["Nomor Induk Kependudukan", "Nama", "Nomor Peserta", "Status", "Alasan"]
    headers += ["Tgl Efektif"]
    rows = [
        [nik(0), person(0)[2], "", "GAGAL", "NIK tidak valid", ""],
        [nik(1), person(1)[2], "22222222222", "Terdaftar", "", "2025-07-01"],
    ]
    first = write_csv(tmp_path / "balasan_1.csv", headers, rows, title_rows=["BALASAN BPJS"])
    assert ledger(tmp_path, "import-reply", first).returncode == 0
    assert with_status(tmp_path, "refused") == {nik(0)}
    rows[0] = [nik(0), person(0)[2], "33333333333", "Diterima", "", "01/08/2025"]
    later = write_csv(tmp_path / "balasan_2.csv", headers, rows)
    doc = as_json(ledger(tmp_path, "import-reply", later, "--format", "json"))
    assert (doc["summary"]["active"], doc["summary"]["unchanged"]) == (1, 1)
    assert with_status(tmp_path, "active") == {nik(0), nik(1)}
    assert with_status(tmp_path, "refused") == set()


def test_a_reply_that_cannot_be_read_right_changes_nothing(tmp_path: Path) -> None:
    first_batch(tmp_path, 3)
    path = tmp_path / "ledger.sqlite"
    before = path.read_bytes()
    words = write_reply(
        tmp_path / "kata.xlsx",
        [reply_row(0, "BERHASIL", "12345678901"), reply_row(1, "PENDING"), reply_row(2, "")],
    )
    refused = ledger(tmp_path, "import-reply", words)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "'PENDING', ''" in refused.stderr
    assert "HASIL VERIFIKASI" in refused.stderr and "Nothing was imported" in refused.stderr
    no_nik = write_xlsx(tmp_path / "tanpa_nik.xlsx", ["NAMA", "STATUS"], [["Budi", "BERHASIL"]])
    refused = ledger(tmp_path, "import-reply", no_nik)
    assert refused.returncode == 2 and "NIK" in refused.stderr
    assert path.read_bytes() == before
    assert with_status(tmp_path, "active") == set()


def test_a_reply_without_a_nik_column_says_what_a_reply_needs(tmp_path: Path) -> None:
    """NAMA, STATUS and KPJ but no NIK: the roster reader's words ("no row names a NIK or
    NAMA column and one other known column") were shown, about a file that has NAMA."""
    first_batch(tmp_path, 1)
    path = tmp_path / "ledger.sqlite"
    before = path.read_bytes()
    src = write_csv(tmp_path / "balasan.csv", ["NAMA", "STATUS", "KPJ"],
                    [[person(0)[2], "BERHASIL", "12345678901"]])  # fmt: skip
    done = ledger(tmp_path, "import-reply", src)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"jamsos: {src}: no header row in the first 50 rows has the columns of a BPJS reply "
        "(it needs a NIK and a STATUS column); nothing was changed"
    )
    shown = subprocess.run(
        [JAMSOS, "ledger", "import-dukcapil", src, "--ledger", path],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert shown.returncode == 2 and "perlu kolom NIK dan HASIL" in shown.stderr
    assert path.read_bytes() == before


def test_a_reply_for_a_voided_batch_changes_nothing(tmp_path: Path) -> None:
    first_batch(tmp_path, 2)
    assert ledger(tmp_path, "void", "1", "--yes").returncode == 0
    reply = write_reply(tmp_path / "r.xlsx", [reply_row(0, "BERHASIL", "12345678901")])
    doc = as_json(ledger(tmp_path, "import-reply", reply, "--format", "json"), code=1)
    assert [f["code"] for f in doc["files"][0]["findings"]] == ["BATCH_VOIDED"]
    refused = ledger(tmp_path, "import-reply", reply, "--batch", "1")
    assert refused.returncode == 2 and "voided" in refused.stderr
    # the status is named in the user's language, as void and mark-uploaded name it
    refused = subprocess.run(
        [JAMSOS, "ledger", "import-reply", reply, "--batch", "1"]
        + ["--ledger", str(where(tmp_path)), "--lang", "id"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert refused.returncode == 2 and "batch 1 berstatus dibatalkan" in refused.stderr
    assert ledger(tmp_path, "person", nik(0), "--format", "json").returncode == 0


def test_a_killed_import_leaves_the_ledger_as_before_and_the_next_one_completes(
    tmp_path: Path,
) -> None:
    first_batch(tmp_path, 2)
    reply = write_reply(tmp_path / "r.xlsx", [reply_row(0, "BERHASIL", "12345678901")])
    env = {**os.environ, "JAMSOS_TEST_CRASH_AT": "import-insert"}
    killed = jamsos(
        "ledger", "import-reply", reply, "--ledger", tmp_path / "ledger.sqlite", env=env
    )
    assert killed.returncode == -9
    assert with_status(tmp_path, "active") == set()
    log = as_json(ledger(tmp_path, "log", "--format", "json"))["changes"]
    assert not [c for c in log if "import-reply" in c["command"]]
    assert ledger(tmp_path, "import-reply", reply).returncode == 0
    assert with_status(tmp_path, "active") == {nik(0)}


# --------------------------------------------------------------------------- the checks


def test_a_refused_person_is_not_submitted_again_until_reopened(tmp_path: Path, at: Target) -> None:
    first_batch(tmp_path, 3)
    reply = write_reply(tmp_path / "r.xlsx", [reply_row(1, "DITOLAK", reason="TIDAK VALID")])
    assert ledger(tmp_path, "import-reply", reply).returncode == 0
    again = roster(tmp_path / "juli.csv", range(4))
    code, doc = build(tmp_path, again)
    assert code == 1
    (refused,) = issues(doc, "BPJS_REFUSED")
    assert refused["row"] == 5 and f"{NAME}_001: TIDAK VALID" in refused["message"]
    assert doc["batch"]["participants"] == 1  # person 3 only
    assert ledger(tmp_path, "reopen", nik(2), "--reason", "x").returncode == 2  # not refused
    assert ledger(tmp_path, "reopen", nik(1), "--reason", "NIK diperbaiki").returncode == 0
    code, doc = build(tmp_path, again)
    assert code == 0 and doc["batch"]["participants"] == 1 and not issues(doc, "BPJS_REFUSED")
    periods = as_json(ledger(tmp_path, "person", nik(1), "--format", "json"))["periods"]
    assert [(p["folder"], p["person_status"]) for p in periods] == [
        (f"{NAME}_001", "refused"), (f"{NAME}_003", "submitted"),
    ]  # fmt: skip


def test_an_ended_person_frees_the_quota_and_is_checked_by_validate(
    tmp_path: Path, at: Target
) -> None:
    config = tmp_path / "jamsos.toml"
    config.write_text(f'[quotas]\n"{RT}" = 3\n', encoding="utf-8")
    extra = ("--config", str(config))
    assert build(tmp_path, roster(tmp_path / "rt.csv", range(3)), extra=extra)[0] == 0
    more = roster(tmp_path / "pengganti.csv", [0, 3])
    code, doc = build(tmp_path, more, start="2025-09", extra=extra)
    assert code == 1 and [i["row"] for i in issues(doc, "QUOTA_EXCEEDED")] == [5]

    assert ledger(tmp_path, "end", nik(0), "--from", "2025-09", "--reason", "sakit").returncode == 2
    ended = ledger(tmp_path, "end", nik(0), "--from", "2025-09", "--reason", "pindah")
    assert ended.returncode == 0 and "1 people ended" in ended.stdout
    assert nik(0) not in ended.stdout  # masked
    assert with_status(tmp_path, "ended") == {nik(0)}
    # the place is free from September: person 3 replaces person 0, who is not sent again
    code, doc = build(tmp_path, more, start="2025-09", extra=extra)
    assert code == 1 and doc["batch"]["participants"] == 1
    (gone,) = issues(doc, "PERSON_ENDED")
    assert gone["row"] == 4 and "from 2025-09, moved away" in gone["message"]

    # validate --ledger: ended from September, so not in August
    src = roster(tmp_path / "cek.csv", [0, 1])
    args = ["validate", src, "--ledger", where(tmp_path), "--format", "json"]
    september = as_json(jamsos(*args, "--as-of", "2025-10-01"), code=1)
    assert [i["row"] for i in issues(september, "PERSON_ENDED")] == [4]
    august = as_json(jamsos(*args, "--as-of", "2025-08-01"))
    assert issues(august, "PERSON_ENDED") == []
    assert jamsos("validate", src, "--format", "json").returncode == 0  # no ledger, no check


# --------------------------------------------------------------------------- import-dukcapil


DUKCAPIL_HEADERS = ["NO", "NIK", "NAMA LGKP", "ALAMAT", "NO KK", "HASIL PADAN", "TGL PADAN"]


def dukcapil_row(i: int, result: str, when: str = "20-08-2025") -> list[str]:
    return [str(i + 1), nik(i), f"NAMA RAHASIA {i}", f"JL RAHASIA NO {i}", f"21710{i:011d}",
            result, when]  # fmt: skip


def test_the_registry_result_keeps_only_nik_result_and_date(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    assert jamsos("ledger", "init", path).returncode == 0
    rows = [
        dukcapil_row(0, "PADAN"),
        dukcapil_row(1, "Tidak Padan"),
        dukcapil_row(2, "MENINGGAL DUNIA", "15-08-2025"),
        dukcapil_row(50, "NIK TIDAK DITEMUKAN"),
    ]
    src = write_csv(tmp_path / "hasil_padan.csv", DUKCAPIL_HEADERS, rows,
                    title_rows=["HASIL PADAN DATA DUKCAPIL KOTA BATAM"])  # fmt: skip
    doc = as_json(ledger(tmp_path, "import-dukcapil", src, "--format", "json"))
    assert {k: doc["summary"][k] for k in ("rows", "padan", "tidak_padan", "meninggal")} == {
        "rows": 4, "padan": 1, "tidak_padan": 1, "meninggal": 1,
    }  # fmt: skip
    assert doc["summary"]["ended"] == 1
    # nothing of the file but NIK and result is in the ledger: no name, address, family card
    conn = sqlite3.connect(path)
    text = "\n".join(
        str(value)
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for row in conn.execute(f"SELECT * FROM {table}")  # noqa: S608
        for value in row
    )
    columns = [c[1] for c in conn.execute("PRAGMA table_info(dukcapil)")]
    conn.close()
    assert columns == ["id", "change_id", "nik", "result", "result_date"]
    for row in rows:
        assert row[2] not in text and row[3] not in text and row[4] not in text
    assert nik(50) in text and sha256(src) in text

    # build-batch: not matched and deceased are not submitted
    code, built = build(tmp_path, roster(tmp_path / "rt.csv", range(4)))
    assert code == 1 and built["batch"]["participants"] == 2
    (unmatched,) = issues(built, "DUKCAPIL_NOT_MATCHED")
    assert unmatched["row"] == 5 and "Tidak Padan" in unmatched["message"]
    assert "2025-08-20" in unmatched["message"] and "hasil_padan.csv" in unmatched["message"]
    (died,) = issues(built, "PERSON_ENDED")
    assert died["row"] == 6 and "from 2025-09" in died["message"]
    # the same file again changes nothing; a later Padan lifts the finding
    again = as_json(ledger(tmp_path, "import-dukcapil", src, "--format", "json"))
    assert again["summary"]["unchanged"] == 4 and not again["files"][0]["changed"]
    later = write_csv(tmp_path / "padan_ulang.csv", DUKCAPIL_HEADERS,
                      [dukcapil_row(1, "PADAN", "01-10-2025")])  # fmt: skip
    assert ledger(tmp_path, "import-dukcapil", later).returncode == 0
    code, built = build(tmp_path, roster(tmp_path / "rt.csv", range(4)))
    assert code == 1 and built["batch"]["participants"] == 1
    assert not issues(built, "DUKCAPIL_NOT_MATCHED") and len(issues(built, "PERSON_ENDED")) == 1


def test_a_date_that_is_not_a_date_is_not_imported(tmp_path: Path) -> None:
    """A registry date typed as a word was recorded as today (a MENINGGAL with it ended the
    person from next month, and the same file imported on another day added a result); a
    BPJS coverage start that is no date was recorded as none. Such a row is now reported,
    naming the row, the column and the cell, and not imported; "-" is an empty cell."""
    path = tmp_path / "ledger.sqlite"
    first_batch(tmp_path, 3)
    rows = [
        dukcapil_row(0, "MENINGGAL DUNIA", "kemarin"),
        dukcapil_row(1, "PADAN", "-"),
        dukcapil_row(2, "PADAN", "31-02-2025"),
    ]
    src = write_csv(tmp_path / "padan.csv", DUKCAPIL_HEADERS, rows)
    doc = as_json(ledger(tmp_path, "import-dukcapil", src, "--format", "json"), code=1)
    (done,) = doc["files"]
    assert [(f["row"], f["code"], f["value"]) for f in done["findings"]] == [
        (2, "DATE_CELL_INVALID", "kemarin"),
        (4, "DATE_CELL_INVALID", "31-02-2025"),
    ]
    assert (doc["summary"]["padan"], doc["summary"]["meninggal"], doc["summary"]["ended"]) == (
        1, 0, 0,
    )  # fmt: skip
    conn = sqlite3.connect(path)
    kept = conn.execute("SELECT nik FROM dukcapil").fetchall()
    conn.close()
    assert kept == [(nik(1),)]
    assert with_status(tmp_path, "ended") == set()
    said = jamsos("ledger", "import-dukcapil", src, "--ledger", path)
    assert said.returncode == 1 and "row 2: DATE_CELL_INVALID" in said.stdout
    assert "kemarin" in said.stdout and "TGL PADAN" in said.stdout
    shown = subprocess.run(
        [JAMSOS, "ledger", "import-dukcapil", src, "--ledger", path],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert shown.returncode == 1 and "bukan tanggal" in shown.stdout  # Indonesian by default

    reply = write_reply(
        tmp_path / "balasan.xlsx",
        [
            reply_row(0, "BERHASIL", "12345678901")[:6] + ["bulan depan", "JKK JKM"],
            reply_row(1, "GAGAL", reason="NIK tidak valid")[:6] + ["-", "JKK JKM"],
            reply_row(2, "BERHASIL", "12345678902"),
        ],
    )
    doc = as_json(ledger(tmp_path, "import-reply", reply, "--format", "json"), code=1)
    (done,) = doc["files"]
    assert [(f["row"], f["code"], f["value"]) for f in done["findings"]] == [
        (FIRST_ROW, "DATE_CELL_INVALID", "bulan depan")
    ]
    assert with_status(tmp_path, "active") == {nik(2)}
    assert with_status(tmp_path, "refused") == {nik(1)}


# --------------------------------------------------------------------------- history and log


def test_person_and_log_say_what_happened_masked(tmp_path: Path, at: Target) -> None:
    first_batch(tmp_path, 2)
    assert ledger(tmp_path, "withdraw", nik(1), "--reason", "tercatat dua kali").returncode == 0
    shown = ledger(tmp_path, "person", nik(1))
    assert shown.returncode == 0 and "withdrawn" in shown.stdout
    assert nik(1) not in shown.stdout and person(1)[2] not in shown.stdout
    assert person(1)[2] in ledger(tmp_path, "person", nik(1), "--show-pii").stdout
    assert ledger(tmp_path, "person", nik(30)).returncode == 2
    log = ledger(tmp_path, "log")
    assert log.returncode == 0 and "withdraw" in log.stdout and "build-batch" in log.stdout
    assert not re.search(r"\d{16}", log.stdout)  # the NIK typed on the command line, masked
    assert nik(1) in ledger(tmp_path, "log", "--show-pii").stdout  # shown when asked
    shown = as_json(ledger(tmp_path, "log", "--show-pii", "--format", "json"))["changes"]
    assert any(nik(1) in c["command"] for c in shown)
    assert ledger(tmp_path, "list", "--status", "gone").returncode == 2


def test_ledgers_of_earlier_releases_migrate_without_losing_anything(tmp_path: Path) -> None:
    """v4 (the release before statuses: withdrawals, an upload) and v3 (before ledger ids)."""
    shutil.copy(DATA / "ledger_v4" / "ledger.sqlite", tmp_path / "ledger.sqlite")
    assert with_status(tmp_path, "withdrawn") == {"2171116110701085"}
    doc = as_json(ledger(tmp_path, "list", "--format", "json"))
    assert [(b["id"], b["participants"], bool(b["uploaded"])) for b in doc["batches"]] == [
        (1, 137, True), (2, 141, False),
    ]  # fmt: skip
    log = as_json(ledger(tmp_path, "log", "--format", "json"))["changes"]
    assert [c["command"].split()[1] for c in log] == [
        "build-batch", "build-batch", "ledger", "ledger",
    ]  # fmt: skip
    reply = write_xlsx(tmp_path / "r.xlsx", ["NIK", "NAMA", "STATUS", "KPJ"],
                       [["2171116110701085", "X", "BERHASIL", "12345678901"]])  # fmt: skip
    # withdrawn: no live batch holds the person any more
    assert ledger(tmp_path, "import-reply", reply).returncode == 1
    conn = sqlite3.connect(tmp_path / "ledger.sqlite")
    from jamsos_cli.ledger import SCHEMA_VERSION  # migrated to the newest schema

    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()
    shutil.copy(DATA / "ledger_v3" / "ledger.sqlite", tmp_path / "v3.sqlite")
    done = jamsos("ledger", "list", "--status", "submitted", "--ledger", tmp_path / "v3.sqlite")
    assert done.returncode == 0, done.stderr


def test_build_batch_records_each_senders_findings_by_code(tmp_path: Path) -> None:
    """Who sends the rosters with the most rejects, and why: per run and input, the counts by
    code, also for a run that submits nobody."""
    good = roster(tmp_path / "kel_tembesi.csv", range(3))
    bad = roster(tmp_path / "kel_belian.csv", range(3, 5), bad=True)
    assert build(tmp_path, good, bad)[0] == 1
    assert build(tmp_path, good)[0] == 0  # nobody new: no batch, still recorded
    conn = sqlite3.connect(tmp_path / "ledger.sqlite")
    counts = conn.execute(
        "SELECT change_id, input_name, code, n FROM run_findings ORDER BY change_id, input_name"
    ).fetchall()
    inputs = conn.execute(
        "SELECT change_id, name, rows, accepted, rejected FROM run_inputs ORDER BY change_id"
    ).fetchall()
    conn.close()
    first, second = sorted({c[0] for c in counts})
    assert (first, str(bad), "NIK_FORMAT", 1) in counts
    assert (second, str(good), "ALREADY_SUBMITTED", 3) in counts
    assert (first, str(good), 3, 3, 0) in inputs and (first, str(bad), 3, 2, 1) in inputs
    # the report reads them: the same file run twice counts once; a night that submitted
    # nobody counts too (a new sender whose only row is rejected)
    alone = write_csv(tmp_path / "kel_baru.csv", HEADERS, [["1", "217110120580", *person(9)[2:]]])
    assert build(tmp_path, alone)[0] == 1  # nobody new, no batch folder
    from openpyxl import load_workbook

    recap = tmp_path / "rekap.xlsx"
    done = jamsos("report", "--ledger", tmp_path / "ledger.sqlite", "--out",
                  tmp_path / "r.html", "--xlsx", recap)  # fmt: skip
    assert done.returncode == 0, done.stderr
    wb = load_workbook(recap, read_only=True)
    (ws,) = [w for w in wb.worksheets if w.title == "Senders"]
    rows = list(ws.iter_rows(values_only=True))
    senders = {r[0]: r[1:] for r in rows if r[0] and str(r[0]).endswith(".csv")}
    (reasons,) = [w for w in wb.worksheets if w.title.startswith("Reasons")]
    by_sender = {
        (r[0], r[1]): r[-2:] for r in reasons.iter_rows(values_only=True) if r[1] == "NIK_FORMAT"
    }
    wb.close()
    assert {s: (v[1], v[2]) for s, v in senders.items()} == {
        "kel_belian.csv": (3, 1), "kel_tembesi.csv": (3, 0), "kel_baru.csv": (1, 1),
    }  # fmt: skip
    assert by_sender == {  # rows with it first, rows with it
        ("kel_baru.csv", "NIK_FORMAT"): (1, 1), ("kel_belian.csv", "NIK_FORMAT"): (1, 1),
    }  # fmt: skip


def test_the_report_shows_statuses_refusals_and_the_ledger_id(tmp_path: Path) -> None:
    """jamsos report, fed by the ledger: people by status in the month, BPJS's refusals with
    their reasons, the ledger's id; no NIK on the page."""
    from openpyxl import load_workbook

    first_batch(tmp_path, 5)
    reply = write_reply(
        tmp_path / "r.xlsx",
        [
            reply_row(0, "BERHASIL", "12345678901"),
            reply_row(1, "DITOLAK", reason="SUDAH TERDAFTAR SEBAGAI PESERTA PU"),
            reply_row(2, "DITOLAK", reason="SUDAH TERDAFTAR SEBAGAI PESERTA PU"),
        ],
    )
    assert ledger(tmp_path, "import-reply", reply).returncode == 0
    assert (
        ledger(tmp_path, "end", nik(3), "--from", "2025-09", "--reason", "pindah").returncode == 0
    )
    page, recap = tmp_path / "laporan.html", tmp_path / "rekap.xlsx"
    done = jamsos("report", "--ledger", tmp_path / "ledger.sqlite", "--out", page, "--xlsx",
                  recap, "--month", "2025-10")  # fmt: skip
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    manifest = json.loads((tmp_path / "out" / f"{NAME}_001" / "manifest.json").read_text())
    assert manifest["ledger_id"] in html
    assert "SUDAH TERDAFTAR SEBAGAI PESERTA PU" in html
    assert not any(nik(i) in html for i in range(5))
    wb = load_workbook(recap, read_only=True)
    by_status: dict[str, int] = {}
    for ws in wb.worksheets:
        if ws.title.startswith("Participants"):
            for row in ws.iter_rows(min_row=2, values_only=True):
                if row[0] == RT:  # one row per kelurahan and status
                    by_status[row[2]] = by_status.get(row[2], 0) + row[-1]
    refusals = [
        row
        for ws in wb.worksheets
        if ws.title == "BPJS refusals"
        for row in ws.iter_rows(min_row=2, values_only=True)
        if row[0] == RT
    ]
    wb.close()
    assert by_status == {"submitted": 1, "active": 1, "refused by BPJS": 2, "ended": 1}
    assert [(r[2], r[3]) for r in refusals] == [("SUDAH TERDAFTAR SEBAGAI PESERTA PU", 2)]
