"""The ledger in the loop (issue 11, its ledger parts; issue 20's ledger items): a ledger made
on purpose only, one ledger per output folder, a NIK held for another person, withdrawing
one person, marking an upload, voiding with a question and a marked folder, what cron's log
says, recovery that never forgets a moved folder, a full disk, money that fits the ledger.

Every test runs the command (in-process ``CliRunner`` or the installed ``jamsos``) on roster
files made the way a kelurahan sends them (cp1252 ``;`` CSV with a title and a JUMLAH row)."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.ledger import locate
from tests.helpers import DECREE_FIGURES, JAMSOS, build_args, ledger_batches, ledger_rows
from tests.ledgers import Target
from tests.rosters import HEADERS, RT, nik, person, roster, write_csv, write_xlsx

runner = CliRunner()
NAME = f"{RT}_2025-06_2025-12"
FIXTURE = Path(__file__).parent / "data" / "ledger_v3"


def build(tmp_path: Path, *rosters: Path, **kw) -> tuple[int, dict, str]:
    """build-batch in-process: (exit code, JSON report, stderr)."""
    result = runner.invoke(
        app, [*build_args(tmp_path, *rosters, **kw), "--format", "json", "--lang", "en"]
    )
    doc = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, doc, result.stderr


def ledger(*args: object, lang: str = "en") -> subprocess.CompletedProcess:
    """``jamsos ledger ...`` as the installed command (stdin not a terminal)."""
    return subprocess.run(
        [JAMSOS, "ledger", *map(str, args), "--lang", lang],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def visible(out: Path) -> list[str]:
    return (
        sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    )


def issues(doc: dict, code: str) -> list[dict]:
    return [i for i in doc["issues"] if i["code"] == code]


# --------------------------------------------------------------- a ledger made on purpose


def test_a_mistyped_ledger_path_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """Symptom 3: a mistyped --ledger silently started an empty ledger and paid everyone
    again. Now it is exit 2 naming both ways to make one on purpose, and nothing is made:
    no ledger, no lock, no output folder."""
    src = roster(tmp_path / "rt.csv", range(3))
    typo = tmp_path / "ledgr.sqlite"
    code, doc, err = build(tmp_path, src, ledger=typo, new_ledger=False)
    assert code == 2 and doc == {}
    assert f"jamsos ledger init {typo}" in err and "--new-ledger" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rt.csv"]
    # the same for a dry run, and for recording decisions without --new-ledger
    assert build(tmp_path, src, ledger=typo, new_ledger=False, extra=("--dry-run",))[0] == 2
    # ledger init makes it; a second init refuses to touch it
    made = ledger("init", typo, "--format", "json")
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout)
    assert info["created"] and re.fullmatch(r"[0-9a-f-]{36}", info["ledger_id"])
    assert oct(typo.stat().st_mode & 0o777) == "0o600"
    again = ledger("init", typo)
    assert again.returncode == 2 and "already exists" in again.stderr
    code, doc, _ = build(tmp_path, src, ledger=typo, new_ledger=False)
    assert code == 0 and doc["summary"]["ledger_new"] is False
    manifest = json.loads((tmp_path / "out" / f"{NAME}_001" / "manifest.json").read_text())
    assert manifest["ledger_id"] == info["ledger_id"] and manifest["ledger"] == str(typo)


def test_a_deleted_emptied_or_restored_ledger_never_pays_anyone_again(tmp_path: Path) -> None:
    """Symptom 3 and issue 20: the ledger deleted (then --new-ledger), emptied to 0 bytes,
    or restored from an old copy, with its output folder holding the batches: exit 2,
    nothing written, nobody paid again."""
    out, path = tmp_path / "out", tmp_path / "ledger.sqlite"
    june = roster(tmp_path / "juni.csv", range(4))
    assert build(tmp_path, june)[0] == 0
    old_copy = tmp_path / "copy.sqlite"
    shutil.copy(path, old_copy)
    delta = roster(tmp_path / "juli.csv", range(6))
    code, doc, _ = build(tmp_path, delta)
    assert code == 0 and doc["batch"]["participants"] == 2
    before = visible(out)
    assert before == [f"{NAME}_001", f"{NAME}_002"]

    path.unlink()  # deleted; cron's --new-ledger makes a new, empty one
    code, doc, err = build(tmp_path, delta)
    assert code == 2 and doc == {}
    assert "does not hold the batch" in err and f"{NAME}_001" in err
    assert not path.exists() and visible(out) == before  # the new ledger was not even made

    path.write_bytes(b"")  # emptied
    code, _, err = build(tmp_path, delta)
    assert code == 2 and "0-byte file is not a ledger" in err and path.read_bytes() == b""

    shutil.copy(old_copy, path)  # restored from the copy taken before batch 002
    copied = path.read_bytes()
    code, _, err = build(tmp_path, delta)
    assert code == 2 and f"does not hold the batch {NAME}_002" in err
    assert path.read_bytes() == copied and visible(out) == before


def test_an_out_folder_of_another_ledger_is_refused_naming_that_ledger(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first, second = tmp_path / "kota.sqlite", tmp_path / "lain.sqlite"
    src = roster(tmp_path / "rt.csv", range(3))
    assert build(tmp_path, src, ledger=first)[0] == 0
    assert ledger("init", second).returncode == 0
    code, _, err = build(tmp_path, src, ledger=second)
    assert code == 2
    assert f"holds a batch of another ledger ({first})" in err and str(second) in err
    assert visible(out) == [f"{NAME}_001"] and ledger_batches(second) == []


def test_an_out_folder_written_before_ledgers_had_ids(tmp_path: Path) -> None:
    """A ledger and batch folders written by the release before ledger ids (the v3 fixture):
    the migrated ledger recognises its own folders by the manifests it recorded; a new
    ledger is refused, naming the old one's path as the manifests record it."""
    path, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    shutil.copy(FIXTURE / "ledger.sqlite", path)
    shutil.copytree(FIXTURE / "out", out)
    src = roster(tmp_path / "rt.csv", range(2))
    code, doc, err = build(tmp_path, src, ledger=path)
    assert code == 0, err
    assert doc["batch"]["folder"].endswith(f"{NAME}_002")  # 001 is the fixture's
    fresh = tmp_path / "fresh.sqlite"
    assert ledger("init", fresh).returncode == 0
    code, _, err = build(tmp_path, src, ledger=fresh)
    assert code == 2 and "another ledger (/srv/jamsos/ledger.sqlite)" in err


# --------------------------------------------------------------- NIK_CONFLICT against the ledger


def test_a_nik_the_ledger_holds_for_another_person_goes_back_to_the_sender(
    tmp_path: Path, target: Target
) -> None:
    """Symptom 7: another person under a NIK the ledger holds was ALREADY_SUBMITTED, counted
    accepted, in no batch and no rejects file. Now: NIK_CONFLICT naming the batch, rejected
    (exit 1), in the rejects file; the same person spelled another way is still
    ALREADY_SUBMITTED."""
    first = roster(tmp_path / "juni.csv", range(3))
    assert build(tmp_path, first, ledger=target.location)[0] == 0
    other = person(1)
    other[2] = "Bambang Sutrisno"  # another person, born the same day as the NIK says
    same = person(2)
    same[2] = "H. " + same[2].upper()  # the same person, with a title
    rows = [other, same, person(3)]
    later = write_csv(tmp_path / "juli.csv", HEADERS, rows, title_rows=["DAFTAR KETUA RT"])
    code, doc, _ = build(tmp_path, later, ledger=target.location)
    assert code == 1
    (conflict,) = issues(doc, "NIK_CONFLICT")
    assert (conflict["row"], conflict["severity"]) == (3, "error")
    assert f"ledger: {NAME}_001" in conflict["message"]
    assert [i["row"] for i in issues(doc, "ALREADY_SUBMITTED")] == [4]
    assert doc["summary"]["accepted"] == 2 and doc["summary"]["rejected"] == 1
    assert doc["batch"]["participants"] == 1  # person 3 only
    rejects = load_workbook(tmp_path / "out" / f"{NAME}_002" / "juli.rejects.xlsx").active
    text = " ".join(str(v) for row in rejects.values for v in row if v is not None)
    assert nik(1) in text and "Bambang Sutrisno" in text and nik(2) not in text


# --------------------------------------------------------------- withdraw, upload, void


def test_withdraw_frees_a_person_and_lists_them_for_bpjs(tmp_path: Path, target: Target) -> None:
    path, out = target.location, tmp_path / "out"
    src = roster(tmp_path / "rt.csv", range(3))
    assert build(tmp_path, src, ledger=target.location)[0] == 0
    assert ledger("withdraw", nik(1), "--ledger", path).returncode == 2  # no --reason
    unknown = ledger("withdraw", nik(7), "--reason", "salah input", "--ledger", path)
    assert unknown.returncode == 2 and nik(7) not in unknown.stderr  # masked
    assert nik(7)[:4] + "********" + nik(7)[-4:] in unknown.stderr
    listed = tmp_path / "ditarik.xlsx"
    done = ledger(
        "withdraw", nik(1), "--reason", "tercatat dua kali", "--ledger", path,
        "--out", listed, "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["count"] == 1 and doc["withdrawn"][0]["folder"] == f"{NAME}_001"
    assert doc["withdrawn"][0]["nik"] == nik(1)[:4] + "********" + nik(1)[-4:]
    ws = load_workbook(listed).active
    assert [c.value for c in ws[1]] == ["NIK", "NAME", "BATCH", "REASON", "DATE"]
    assert ws["A2"].value == nik(1) and ws["D2"].value == "tercatat dua kali"
    assert oct(listed.stat().st_mode & 0o777) == "0o600"
    # the export says so; the person is free: the next run submits them again
    export = tmp_path / "semua.csv"
    assert ledger("export", export, "--ledger", path).returncode == 0
    text = export.read_text(encoding="utf-8-sig")  # ';' UTF-8 with a BOM, for a spreadsheet
    assert f"withdrawn;{nik(1)}" in text and f"done;{nik(0)}" in text
    code, doc, _ = build(tmp_path, src, ledger=target.location)
    assert code == 0 and doc["batch"]["participants"] == 1
    assert [r[2] for r in ledger_rows(target) if r[0] == 2] == [nik(1)]
    assert visible(out) == [f"{NAME}_001", f"{NAME}_002"]


def test_withdraw_from_a_file_the_way_a_clerk_keeps_the_list(
    tmp_path: Path, target: Target
) -> None:
    path = target.location
    assert build(tmp_path, roster(tmp_path / "rt.csv", range(4)), ledger=path)[0] == 0
    rows = [[nik(0), "Budi"], [nik(3), "Dewi"]]
    listed = write_xlsx(
        tmp_path / "tarik.xlsx", ["NIK", "NAMA"], rows, title_rows=["DAFTAR DITARIK"]
    )
    done = ledger("withdraw", "--file", listed, "--reason", "pindah", "--ledger", path)
    assert done.returncode == 0, done.stderr
    assert "2 people withdrawn" in done.stdout
    # a numeric NIK cell that lost its 16th digit is refused, naming the row
    bad = write_xlsx(
        tmp_path / "angka.xlsx", ["NIK", "NAMA"], [["2171100101900010", "X"]],
        numeric_columns={"NIK"},
    )  # fmt: skip
    refused = ledger("withdraw", "--file", bad, "--reason", "x", "--ledger", path)
    assert refused.returncode == 2 and "row 2" in refused.stderr
    nothing = write_csv(tmp_path / "kosong.csv", ["NAMA", "ALAMAT"], [["Budi", "Jl. Mawar"]])
    refused = ledger("withdraw", "--file", nothing, "--reason", "x", "--ledger", path)
    assert refused.returncode == 2


def test_an_uploaded_batch_cannot_be_voided(tmp_path: Path, target: Target) -> None:
    """Symptom 6: void could release a batch BPJS already has."""
    path = target.location
    assert build(tmp_path, roster(tmp_path / "rt.csv", range(2)), ledger=path)[0] == 0
    marked = ledger("mark-uploaded", f"{NAME}_001", "--ledger", path)
    assert marked.returncode == 0 and "marked uploaded" in marked.stdout
    refused = ledger("void", "1", "--yes", "--ledger", path)
    assert refused.returncode == 2 and "was uploaded to BPJS" in refused.stderr
    listed = json.loads(ledger("list", "--ledger", path, "--format", "json").stdout)
    (batch,) = listed["batches"]
    assert batch["status"] == "done" and batch["uploaded"]
    assert not (tmp_path / "out" / f"{NAME}_001" / "VOID").exists()


def test_void_asks_marks_the_folder_and_the_next_run_pays_its_people_once(
    tmp_path: Path, target: Target
) -> None:
    path, out = target.location, tmp_path / "out"
    src = roster(tmp_path / "rt.csv", range(2))
    assert build(tmp_path, src, ledger=target.location)[0] == 0
    folder = out / f"{NAME}_001"
    manifest_before = (folder / "manifest.json").read_bytes()
    # no terminal and no --yes: refused, and says how to answer for a script
    refused = ledger("void", "1", "--ledger", path)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert (folder / "manifest.json").read_bytes() == manifest_before
    assert ledger_batches(target) == [(1, "done", 2)]
    # on a terminal: "n" changes nothing, "y" voids
    assert on_terminal(["void", "1", "--ledger", path], "n\n")[0] == 0
    assert ledger_batches(target) == [(1, "done", 2)] and not (folder / "VOID").exists()
    code, screen = on_terminal(["void", "1", "--ledger", path], "y\n")
    assert code == 0 and "Void batch 1" in screen and "[y/N]" in screen
    assert ledger_batches(target) == [(1, "voided", 2)]
    assert "VOID — DO NOT UPLOAD" in (folder / "VOID").read_text(encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "voided" and manifest["voided_at"]
    assert oct((folder / "VOID").stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in folder.iterdir() if ".tmp" in p.name] == []  # atomic, no leftover
    # the voided folder is still this ledger's; its people are paid once, in 002
    code, doc, _ = build(tmp_path, src, ledger=target.location)
    assert code == 0 and doc["batch"]["participants"] == 2
    assert visible(out) == [f"{NAME}_001", f"{NAME}_002"]


def on_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """``jamsos ledger ARGS`` with a terminal on stdin and stderr, typing ``answer``."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [JAMSOS, "ledger", *args, "--lang", "en"],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
    )
    os.close(secondary)
    os.write(primary, answer.encode())
    proc.stdout.read()
    code = proc.wait(timeout=120)
    screen = b""
    try:
        while chunk := os.read(primary, 4096):
            screen += chunk
    except OSError:
        pass  # the terminal closed with the process
    os.close(primary)
    return code, screen.decode("utf-8", errors="replace")


# --------------------------------------------------------------- what cron's log says


def test_the_log_says_which_ledger_which_batch_who_and_how_much(
    tmp_path: Path, target: Target
) -> None:
    """Symptom 8: the log lacked the people submitted, the premium, the ledger's identity,
    and wrote "batch None" when nobody was new."""
    log = tmp_path / "cron.log"
    src = roster(tmp_path / "rt.csv", range(3), bad=True)
    args = [*build_args(tmp_path, src, ledger=target.location), "--quiet", "--log-file", str(log)]
    first = subprocess.run([JAMSOS, *args], capture_output=True, text=True, timeout=120)
    assert first.returncode == 1
    second = subprocess.run([JAMSOS, *args], capture_output=True, text=True, timeout=120)
    assert second.returncode == 1
    text = log.read_text(encoding="utf-8")
    ledger_id = json.loads(
        (tmp_path / "out" / f"{NAME}_001" / "manifest.json").read_text(encoding="utf-8")
    )["ledger_id"]
    path = locate(target.location)  # a URL shown masked
    assert f"ledger {path} id {ledger_id} (new)" in text
    assert f"ledger {path} id {ledger_id} (existing)" in text
    assert re.search(
        rf"batch 1 {re.escape(str(tmp_path / 'out' / NAME))}_001: 3 people submitted,"
        r" 7 months, premium Rp 352800",
        text,
    )
    assert "batch none, nobody new: 0 people submitted, premium Rp 0" in text
    assert "finding ALREADY_SUBMITTED: 3" in text and "finding NIK_FORMAT: 1" in text
    assert "None" not in text
    assert not re.search(r"\d{16}", text)  # no NIK


# --------------------------------------------------------------- money and full disks


def test_a_premium_too_large_for_the_ledger_is_refused_before_any_work(tmp_path: Path) -> None:
    """Issue 20: a premium of 1e20 crashed inside SQLite (OverflowError). Money is bounded
    where the rule file is read: exit 2 naming the file and the field, nothing written."""
    folder = tmp_path / "decrees"
    folder.mkdir()
    figures = DECREE_FIGURES.replace(
        "declared_income = 1_000_000", "declared_income = " + "1" + "0" * 20
    )
    (folder / "mahal.toml").write_text(
        'id = "perwako-mahal-1-2025"\ntitle = "Mahal"\ncity_code = "21.71"\n'
        f'{figures}\n[[roles]]\nname = "Ketua RT"\n',
        encoding="utf-8",
    )
    src = roster(tmp_path / "rt.csv", range(2))
    args = build_args(
        tmp_path, src, decree="perwako-mahal-1-2025", extra=("--decrees", str(folder))
    )
    result = subprocess.run(
        [JAMSOS, *args, "--lang", "en"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "mahal.toml" in result.stderr and "premium.declared_income" in result.stderr
    assert "100000000 or less" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decrees", "rt.csv"]


def test_a_failed_rollback_never_hides_the_original_error(tmp_path: Path) -> None:
    """Issue 20: on a full disk SQLite undoes the transaction itself, and ROLLBACK then fails
    with "cannot rollback - no transaction is active", which was the error the user read."""
    from jamsos_cli.ledger import Ledger, LedgerError, change

    path = tmp_path / "l.sqlite"
    with Ledger.open(path) as book:
        book.create(change("test"))
        with pytest.raises(LedgerError) as caught, book.store.transaction():
            book.store._run("ROLLBACK")  # what SQLite does by itself on SQLITE_FULL
            raise sqlite3.OperationalError("database or disk is full")
    assert "database or disk is full" in caught.value.message("en")
    assert "cannot rollback" not in caught.value.message("en")


@pytest.fixture
def full_disk(tmp_path: Path):
    """A 1 MB filesystem filled up to its last few kilobytes (a tmpfs: needs the right to
    mount, as root in CI's container; skipped otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path, leave: int) -> None:
    free = shutil.disk_usage(mount).free
    with open(mount / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def test_a_ledger_on_a_full_disk_reports_the_disk(tmp_path: Path, full_disk: Path) -> None:
    """A new ledger that cannot be made, and an existing one that cannot grow: the message
    names the full disk (was: "cannot rollback - no transaction is active"); nothing is
    recorded, no batch folder is published, and the ledger is as it was."""
    src = roster(tmp_path / "rt.csv", range(400))
    path = full_disk / "ledger.sqlite"
    fill(full_disk, 8_000)
    code, _, err = build(tmp_path, src, ledger=path)
    assert code == 2 and "database or disk is full" in err and "cannot rollback" not in err
    assert not path.exists() and visible(tmp_path / "out") == []
    (full_disk / "filler").unlink()
    assert ledger("init", path).returncode == 0
    before = path.read_bytes()
    fill(full_disk, 8_000)
    code, _, err = build(tmp_path, src, ledger=path)
    assert code == 2 and "disk is full" in err and "cannot rollback" not in err
    assert path.read_bytes() == before and visible(tmp_path / "out") == []
