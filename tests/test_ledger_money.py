"""Renewal and money (issue 16): the monthly bill, JKK and JKM apart, from what each batch
recorded when it was written.

Every test runs the command (the installed ``jamsos`` or in-process ``CliRunner``) on roster
files made the way senders make them (cp1252 ``;`` CSV with a title and a JUMLAH row; the
generator's hand-typed transport roster)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.resources import schema_file
from tests import synthetic as syn
from tests.helpers import DECREE_PREMIUM, JAMSOS, build_args
from tests.ledgers import Target
from tests.rosters import (
    HEADERS,
    OJOL,
    RT,
    make_nik,
    nik,
    person,
    roster,
    write_csv,
    write_xlsx,
)

runner = CliRunner()
FIXTURE_V3 = Path(__file__).parent / "data" / "ledger_v3"
MONTHS_2025 = [f"2025-{m:02d}" for m in range(6, 13)]  # June–December 2025


def jamsos(*args: object, lang: str = "en") -> subprocess.CompletedProcess:
    """The installed command, as cron runs it (stdin not a terminal)."""
    return subprocess.run(
        [JAMSOS, *map(str, args), "--lang", lang],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def bill(ledger: Path | str, month: str, *extra: object) -> dict:
    res = runner.invoke(
        app, ["ledger", "bill", "--month", month, "--ledger", str(ledger), "--format", "json",
              *map(str, extra)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def build(tmp_path: Path, *rosters: Path, **kw) -> dict:
    res = runner.invoke(app, [*build_args(tmp_path, *rosters, **kw), "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


# ------------------------------------------------------------------ the published figure


@pytest.fixture(scope="module")
def batam_2025(tmp_path_factory) -> Path:
    """Batam's transport workers, June–December 2025: 6,945 people in one batch, built by
    the installed command from a hand-typed roster (cp1252, ``;``)."""
    root = tmp_path_factory.mktemp("batam")
    people = syn.generate_people(7_600, seed=816, group="transport")
    messy = syn.mess_up(people, seed=817, defect_rate=0.0, dup_rate=0.0)
    clean = messy.filter(syn.truth(messy).get_column("code").is_null()).head(6_945)
    assert clean.height == 6_945
    src = root / "dishub_transport_2025.csv"
    syn.write_csv(clean, src, encoding="cp1252", delimiter=";")
    ledger = root / "ledger.sqlite"
    res = jamsos(*build_args(root, src, decree=OJOL, ledger=ledger), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["batch"]["participants"] == 6_945
    return ledger


def test_the_published_figure_month_by_month(batam_2025: Path) -> None:
    """6,945 people × 7 months × Rp 16,800 = Rp 816,732,000 over June–December 2025: each
    month's bill is 6,945 people, JKK Rp 10,000 and JKM Rp 6,800 a head, apart."""
    total = 0
    for month in MONTHS_2025:
        res = jamsos("ledger", "bill", "--month", month, "--ledger", batam_2025, "--format",
                     "json", "--decree", OJOL)  # fmt: skip
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout)
        assert doc["month"] == month
        assert doc["decrees"] == [
            {"decree": OJOL, "batches": 1, "people": 6_945, "jkk": 69_450_000,
             "jkm": 47_226_000, "jht": 0, "unsplit": 0, "premium": 116_676_000}
        ]  # fmt: skip
        assert (doc["people"], doc["premium"]) == (6_945, 116_676_000)
        total += doc["premium"]
    assert total == 816_732_000
    # the months around the period owe nothing
    for month in ("2025-05", "2026-01"):
        doc = bill(batam_2025, month)
        assert (doc["decrees"], doc["people"], doc["premium"]) == ([], 0, 0)


def test_the_bill_on_screen_and_for_the_finance_office(batam_2025: Path, tmp_path: Path) -> None:
    out = tmp_path / "tagihan 2025-07.xlsx"
    res = jamsos("ledger", "bill", "--month", "2025-07", "--ledger", batam_2025, "--out", out,
                 lang="id")  # fmt: skip
    assert res.returncode == 0, res.stderr
    line = next(x for x in res.stdout.splitlines() if x.startswith(OJOL))
    assert line.split()[1:] == ["6.945", "69.450.000", "47.226.000", "116.676.000"]
    assert "Tagihan ditulis:" in res.stdout and out.name in " ".join(res.stdout.split())
    assert out.stat().st_mode & 0o777 == 0o600
    header, *rows = load_workbook(out, read_only=True).active.iter_rows(values_only=True)
    assert list(header) == ["BULAN", "KEPUTUSAN", "BATCH", "ORANG", "JKK (Rp)", "JKM (Rp)",
                             "JHT (Rp)", "BELUM DIPISAH (Rp)", "TOTAL (Rp)"]  # fmt: skip
    assert rows == [
        ("2025-07", OJOL, 1, 6945, 69_450_000, 47_226_000, 0, 0, 116_676_000),
        ("2025-07", "TOTAL", None, 6945, 69_450_000, 47_226_000, 0, 0, 116_676_000),
    ]
    # as the finance office sees it: the header stays in view, nothing shown cut or as ####
    sheet = load_workbook(out).active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= len(OJOL)
    assert sheet.column_dimensions["I"].width >= len("116,676,000")


# ------------------------------------------------------------- money as it was recorded


def test_a_changed_decree_never_rewrites_an_old_bill(tmp_path: Path, target: Target) -> None:
    """A city's own rule file: batch 1 written at JKM Rp 6,800; the decree then raises JKM
    to Rp 7,000 and batch 2 is written. A month both cover bills each at its own figure,
    and the month before the change is billed as it was."""
    decrees = tmp_path / "decrees"
    decrees.mkdir()
    rule = decrees / "kota-uji.toml"
    head = (
        'id = "kota-uji"\ntitle = "Perwako Uji"\ncity_code = "21.71"\nroles_are = "offices"\n'
        '[[roles]]\nname = "Ketua RT"\naliases = ["Ketua RT"]\n[age]\nmin = 18\nmax = 64\n'
    )
    rule.write_text(head + DECREE_PREMIUM, encoding="utf-8")
    extra = ("--decrees", str(decrees))
    ledger = target.location
    first = build(tmp_path, roster(tmp_path / "a.csv", range(5)), decree="kota-uji", extra=extra,
                  ledger=ledger)  # fmt: skip
    assert first["batch"]["participants"] == 5
    june = bill(ledger, "2025-06")
    rule.write_text(head + DECREE_PREMIUM.replace("6_800", "7_000"), encoding="utf-8")
    second = build(
        tmp_path, roster(tmp_path / "b.csv", range(5, 8)), decree="kota-uji", start="2025-09",
        extra=extra, ledger=ledger,
    )  # fmt: skip
    assert second["batch"]["participants"] == 3
    assert bill(ledger, "2025-06") == june
    assert june["decrees"][0] | {"batches": 1} == {
        "decree": "kota-uji", "batches": 1, "people": 5, "jkk": 50_000, "jkm": 34_000,
        "jht": 0, "unsplit": 0, "premium": 84_000,
    }  # fmt: skip
    october = bill(ledger, "2025-10")
    assert october["decrees"] == [
        {"decree": "kota-uji", "batches": 2, "people": 8, "jkk": 80_000,
         "jkm": 5 * 6_800 + 3 * 7_000, "jht": 0, "unsplit": 0,
         "premium": 5 * 16_800 + 3 * 17_000}
    ]  # fmt: skip


def test_withdrawn_and_voided_people_are_not_billed(tmp_path: Path, target: Target) -> None:
    ledger = target.location
    build(tmp_path, roster(tmp_path / "rt.csv", range(6)), ledger=ledger)
    build(tmp_path, roster(tmp_path / "ojol.csv", range(6, 10), role="Ojek online"), decree=OJOL,
          ledger=ledger)  # fmt: skip
    doc = bill(ledger, "2025-08")
    assert [(d["decree"], d["people"]) for d in doc["decrees"]] == [(OJOL, 4), (RT, 6)]
    gone = runner.invoke(app, ["ledger", "withdraw", nik(1), nik(2), "--reason", "salah input",
                               "--ledger", str(ledger)])  # fmt: skip
    assert gone.exit_code == 0, gone.output
    voided = runner.invoke(app, ["ledger", "void", "2", "--yes", "--ledger", str(ledger)])
    assert voided.exit_code == 0, voided.output
    doc = bill(ledger, "2025-08")
    assert doc["decrees"] == [
        {"decree": RT, "batches": 1, "people": 4, "jkk": 40_000, "jkm": 27_200, "jht": 0,
         "unsplit": 0, "premium": 67_200}
    ]  # fmt: skip
    assert bill(ledger, "2025-08", "--decree", OJOL)["decrees"] == []


def test_the_withdrawal_list_for_bpjs_shows_every_nik_and_batch_whole(tmp_path: Path) -> None:
    """The list ``withdraw --out`` writes is opened in a spreadsheet: its columns were 10
    characters wide whatever they held, so a NIK, a name and the batch folder showed cut."""
    ledger = tmp_path / "ledger.sqlite"
    build(tmp_path, roster(tmp_path / "rt.csv", range(3)), ledger=ledger)
    out = tmp_path / "ditarik.xlsx"
    gone = runner.invoke(app, ["ledger", "withdraw", nik(1), "--reason", "salah input", "--out",
                               str(out), "--ledger", str(ledger)])  # fmt: skip
    assert gone.exit_code == 0, gone.output
    sheet = load_workbook(out).active
    header, row = (list(r) for r in sheet.iter_rows(values_only=True))
    assert header[:3] == ["NIK", "NAMA", "BATCH"] and row[0] == nik(1)
    assert sheet.freeze_panes == "A2"
    for column, value in zip("ABCD", row, strict=False):
        assert sheet.column_dimensions[column].width >= len(value), (column, value)


def test_people_ended_or_refused_are_not_billed_from_then_on(
    tmp_path: Path, target: Target
) -> None:
    """RT heads 0-5 from June 2025: BPJS refuses one (never covered); another ends from
    September (meninggal): billed through August, not from September."""
    ledger = target.location
    build(tmp_path, roster(tmp_path / "rt.csv", range(6)), ledger=ledger)
    reply = write_csv(tmp_path / "balasan.csv", ["NIK", "NAMA", "STATUS", "KETERANGAN"],
                      [[nik(4), person(4)[2], "DITOLAK", "TERDAFTAR PU"]])  # fmt: skip
    for args in (["import-reply", str(reply)],
                 ["end", nik(3), "--from", "2025-09", "--reason", "meninggal"]):  # fmt: skip
        res = runner.invoke(app, ["ledger", *args, "--ledger", str(ledger)])
        assert res.exit_code == 0, res.output
    people = {m: bill(ledger, m)["people"] for m in MONTHS_2025}
    assert people == {"2025-06": 5, "2025-07": 5, "2025-08": 5, "2025-09": 4, "2025-10": 4,
                      "2025-11": 4, "2025-12": 4}  # fmt: skip
    assert bill(ledger, "2025-09")["premium"] == 4 * 16_800


def test_a_ledger_from_before_the_split_says_it_does_not_know_it(tmp_path: Path) -> None:
    """Batches recorded by a release that did not keep JKK and JKM apart: their money is
    billed in full, as not split, never guessed from today's decree."""
    shutil.copytree(FIXTURE_V3, tmp_path / "v3")
    ledger = tmp_path / "v3" / "ledger.sqlite"
    doc = bill(ledger, "2025-07", "--decree", OJOL)
    (row,) = doc["decrees"]
    assert row["people"] > 0
    assert (row["jkk"], row["jkm"]) == (0, 0)
    assert row["unsplit"] == row["premium"] == row["people"] * 16_800
    res = runner.invoke(app, ["ledger", "bill", "--month", "2025-07", "--ledger", str(ledger),
                              "--lang", "en"])  # fmt: skip
    assert "their split is not known" in " ".join(res.stdout.split())


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--month", "2025-13"], "--month"),
        (["--month", "juli"], "--month"),
        (["--month", "2025-07", "--out", "bill.pdf"], "bill.pdf"),
        (["--month", "2025-07", "--decree", "perwako-batam-99-2025"], "perwako-batam-99-2025"),
    ],
)
def test_bad_bill_options_are_exit_2_naming_them(
    tmp_path: Path, target: Target, args, says
) -> None:
    build(tmp_path, roster(tmp_path / "rt.csv", range(2)), ledger=target.location)
    res = runner.invoke(app, ["ledger", "bill", *args, "--ledger", target.location, "--lang", "en"])
    assert res.exit_code == 2
    assert says in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "bill.pdf").exists()


def test_a_bill_of_a_missing_ledger_is_exit_2_and_makes_none(
    tmp_path: Path, target: Target
) -> None:
    res = jamsos("ledger", "bill", "--month", "2025-07", "--ledger", target.location)
    assert res.returncode == 2
    assert "jamsos ledger init" in res.stderr
    assert list(tmp_path.iterdir()) == [] and not target.exists()


# ---------------------------------------------------------------------------- renewal


def renew(tmp_path: Path, *rosters: Path, start: str = "2026-01", **kw) -> tuple[int, dict]:
    args = build_args(tmp_path, *rosters, start=start, new_ledger=False, **kw)
    res = runner.invoke(app, [*args, "--renew", "--format", "json", "--lang", "en"])
    assert res.exit_code in (0, 1), res.output
    return res.exit_code, json.loads(res.stdout)


def batch_niks(doc: dict) -> list[str]:
    """The NIKs of the batch a build-batch JSON report names, as its files hold them."""
    folder = Path(doc["batch"]["folder"])
    niks = []
    for part in sorted(folder.glob("*_part*.xlsx")):
        rows = load_workbook(part, read_only=True).active.iter_rows(values_only=True)
        niks += [row[0] for row in list(rows)[1:]]
    return niks


def turning_65(serial: int = 900) -> list[str]:
    """An RT head aged 64 on 1 June 2025 and 65 on 1 January 2026."""
    row = person(serial)
    row[1] = make_nik("217110", 15, 11, 1960, False, serial)
    row[4] = "15-11-1960"
    row[5] = "L"
    return row


def test_a_renewal_carries_drops_by_reason_and_adds_new_people(
    tmp_path: Path, target: Target
) -> None:
    """2025: eight RT heads and one who turns 65 before 2026. BPJS confirms four and refuses
    one; one is withdrawn, one ended in September (meninggal). The 2026 renewal carries the
    five others with no roster (the BPJS-active ones and one never answered), drops the
    65-year-old (AGE_OUT_OF_RANGE on the new start), the ended one (PERSON_ENDED), the
    refused and the withdrawn one, adds two new people from a roster, and a roster row resent
    for a carried person goes back to its sender (NIK_DUPLICATE): carried once."""
    ledger = target.location
    first = write_csv(tmp_path / "rt_2025.csv", HEADERS, [person(i) for i in range(8)]
                      + [turning_65()], encoding="cp1252")  # fmt: skip
    assert build(tmp_path, first, ledger=ledger)["batch"]["participants"] == 9
    reply = write_csv(
        tmp_path / "balasan bpjs.csv",
        ["NIK", "NAMA", "NO KPJ", "STATUS", "KETERANGAN", "TMT"],
        [[nik(i), person(i)[2], f"2500000000{i}", "BERHASIL", "", "01-06-2025"] for i in range(4)]
        + [[nik(7), person(7)[2], "", "DITOLAK", "TERDAFTAR PU", ""]],
    )  # fmt: skip
    for args in (
        ["import-reply", str(reply)],
        ["withdraw", nik(5), "--reason", "salah input"],
        ["end", nik(6), "--from", "2025-09", "--reason", "meninggal"],
    ):
        res = runner.invoke(app, ["ledger", *args, "--ledger", str(ledger)])
        assert res.exit_code == 0, res.output
    new = roster(tmp_path / "rt_2026.csv", [10, 11, 0])  # person 0 is carried already
    code, doc = renew(tmp_path, new, ledger=ledger)
    assert code == 1  # rows went back: the 65-year-old, the ended one, the resent row
    assert doc["summary"]["renewal"] == {
        "carried": 5,
        "dropped": {"AGE_OUT_OF_RANGE": 1, "PERSON_ENDED": 1, "refused": 1, "withdrawn": 1},
        "new": 2,
    }
    assert doc["summary"]["start"] == "2026-01"
    assert batch_niks(doc) == [nik(i) for i in range(5)] + [nik(10), nik(11)]
    resent = [i for i in doc["issues"] if i["code"] == "NIK_DUPLICATE"]
    assert [(Path(i["file"]).name, i["row"]) for i in resent] == [("rt_2026.csv", 6)]
    manifest = json.loads((Path(doc["batch"]["folder"]) / "manifest.json").read_text())
    assert manifest["renewal"] == doc["summary"]["renewal"]
    assert (manifest["start"], manifest["end"], manifest["participants"]) == (
        "2026-01", "2026-12", 7,
    )  # fmt: skip
    # the renewal roster (personal data) is gone with the run
    assert not (tmp_path / ".jamsos-renewal").exists()
    # the bill of January 2026 is the renewed batch
    jan = bill(ledger, "2026-01")
    assert (jan["people"], jan["premium"]) == (7, 7 * 16_800)
    # run again: the carried people's latest period is 2026 now, nobody is carried twice
    # (the others' latest is still 2025: considered, and dropped, again)
    code, again = renew(tmp_path, ledger=ledger)
    assert again["summary"]["renewal"]["carried"] == 0
    assert again["batch"] is None


def test_a_gap_between_periods_is_reported_and_quota_counts_carried_people_first(
    tmp_path: Path, target: Target
) -> None:
    build(tmp_path, roster(tmp_path / "rt_2025.csv", range(5)), ledger=target.location)
    config = tmp_path / "jamsos.toml"
    config.write_text(f'[quotas]\n"{RT}" = 6\n', encoding="utf-8")
    new = roster(tmp_path / "rt_2026.csv", range(20, 23))
    code, doc = renew(
        tmp_path, new, start="2026-03", extra=("--config", str(config)), ledger=target.location
    )
    assert doc["summary"]["renewal"] == {"carried": 5, "dropped": {}, "new": 1}
    gaps = [i for i in doc["issues"] if i["code"] == "COVERAGE_GAP"]
    assert len(gaps) == 5 and {i["severity"] for i in gaps} == {"warning"}
    assert "2025-12" in gaps[0]["message"] and "2026-03" in gaps[0]["message"]
    over = [i for i in doc["issues"] if i["code"] == "QUOTA_EXCEEDED"]
    assert [(Path(i["file"]).name, i["row"]) for i in over] == [("rt_2026.csv", 5),
                                                                 ("rt_2026.csv", 6)]  # fmt: skip
    assert batch_niks(doc) == [nik(i) for i in range(5)] + [nik(20)]


def test_renewal_bad_input(tmp_path: Path, target: Target) -> None:
    # no roster and no --renew: exit 2 saying what to give
    res = runner.invoke(app, ["build-batch", "--decree", RT, "--start", "2026-01", "--out",
                              str(tmp_path / "out"), "--lang", "en"])  # fmt: skip
    assert res.exit_code == 2 and "--renew" in res.stderr and "Traceback" not in res.output
    # a renewal on a missing ledger: nothing to carry from, exit 2, nothing made
    res = jamsos(*build_args(tmp_path, new_ledger=False, ledger=target.location), "--renew")
    assert res.returncode == 2 and "jamsos ledger init" in res.stderr
    assert list(tmp_path.iterdir()) == [] and not target.exists()


# ----------------------------------------------------------------------------- backup

READER = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "c.execute('BEGIN'); c.execute('SELECT COUNT(*) FROM people').fetchone()\n"
    "print('reading', flush=True); time.sleep(60)"
)
# A writer that commits two change rows at a time, as fast as it can: a consistent copy
# holds an even number of them.
WRITER = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)\n"
    "for i in range(100000):\n"
    "    c.execute('BEGIN IMMEDIATE')\n"
    "    for k in (0, 1):\n"
    '        c.execute("INSERT INTO changes (id, at, os_user, command) SELECT"\n'
    "                  \" MAX(id) + 1, 'now', 'test', 'pair' FROM changes\")\n"
    "    c.execute('COMMIT')\n"
    "    if i == 0: print('writing', flush=True)\n"
    "    time.sleep(0.002)\n"
)


def backup_json(ledger: Path, copy: Path) -> dict:
    res = jamsos("ledger", "backup", copy, "--ledger", ledger, "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["backup"] == str(copy) and len(doc["sha256"]) == 64
    assert copy.stat().st_mode & 0o777 == 0o600
    return doc


def test_a_backup_while_another_run_reads_and_a_build_holds_the_lock(tmp_path: Path) -> None:
    """Another process is in a read transaction and another holds the ledger's lock (a build
    in progress): the backup neither waits for them nor is refused, and jamsos reads the
    copy like the original."""
    import sys

    from tests.helpers import hold

    ledger = tmp_path / "ledger.sqlite"
    build(tmp_path, roster(tmp_path / "rt.csv", range(8)))
    reader = subprocess.Popen([sys.executable, "-c", READER, str(ledger)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    holder = hold(Path(f"{ledger}.lock"))
    try:
        assert reader.stdout.readline().strip() == "reading"
        backup_json(ledger, tmp_path / "backup" / "ledger-2025-12-31.sqlite")
    finally:
        for proc in (reader, holder):
            proc.kill()
            proc.wait()
    assert bill(tmp_path / "backup" / "ledger-2025-12-31.sqlite", "2025-07")["people"] == 8


def test_a_backup_taken_while_a_writer_commits_is_one_commit(tmp_path: Path) -> None:
    """A writer commits pairs of rows as fast as it can while the backup runs: the copy
    is the ledger as of one commit (an even number of pair rows) and whole."""
    import sqlite3
    import sys

    ledger = tmp_path / "ledger.sqlite"
    build(tmp_path, roster(tmp_path / "rt.csv", range(8)))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(ledger)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "writing"
        copy = tmp_path / "copy.sqlite"
        backup_json(ledger, copy)
    finally:
        writer.kill()
        writer.wait()
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (pairs,) = conn.execute("SELECT COUNT(*) FROM changes WHERE command = 'pair'").fetchone()
    conn.close()
    assert pairs % 2 == 0 and pairs > 0


def test_a_backup_never_overwrites_and_needs_a_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    build(tmp_path, roster(tmp_path / "rt.csv", range(2)))
    older = tmp_path / "older.sqlite"
    older.write_bytes(b"yesterday's backup")
    res = jamsos("ledger", "backup", older, "--ledger", ledger)
    assert res.returncode == 2 and "exists already" in res.stderr
    assert older.read_bytes() == b"yesterday's backup"
    res = jamsos("ledger", "backup", ledger, "--ledger", ledger)
    assert res.returncode == 2 and "exists already" in res.stderr
    res = jamsos("ledger", "backup", tmp_path / "b.sqlite", "--ledger", tmp_path / "no.sqlite")
    assert res.returncode == 2 and "jamsos ledger init" in res.stderr
    assert not (tmp_path / "b.sqlite").exists()


# -------------------------------------------------------------------------- reconcile

BILL_HEADERS = ["NO", "NO KPJ", "NIK", "NAMA PESERTA", "IURAN BULAN INI"]
STRANGER = make_nik("217110", 9, 9, 1979, False, 4321)


def bpjs_bill(path: Path, rows: list[list[object]], headers=BILL_HEADERS) -> Path:
    """A bill as a BPJS branch sends it: title rows, a numbered list, a TOTAL row."""
    return write_xlsx(
        path,
        headers,
        [[str(i + 1), *row] for i, row in enumerate(rows)],
        title_rows=["TAGIHAN IURAN BPJS KETENAGAKERJAAN", "PEMERINTAH KOTA BATAM - JULI 2025"],
        footer_rows=[["", "", "", "TOTAL", "100.800"]],
        numeric_columns={"IURAN BULAN INI", "NO KPJ"},
    )


def reconcile(
    ledger: Path | str, bill_file: Path, *extra: object, lang: str = "en"
) -> subprocess.CompletedProcess:
    return jamsos("ledger", "reconcile", bill_file, "--month", "2025-07", "--ledger", ledger,
                  *extra, lang=lang)  # fmt: skip


def test_reconcile_names_every_difference_and_why(tmp_path: Path, target: Target) -> None:
    """Six RT heads covered June–December 2025, one withdrawn. BPJS bills July for: three
    of them (one at another amount, one as '16.800' text), the withdrawn one, a stranger and
    a KPJ the ledger does not hold; two covered people are not billed."""
    ledger = target.location
    build(tmp_path, roster(tmp_path / "rt.csv", range(6)), ledger=ledger)
    gone = runner.invoke(app, ["ledger", "withdraw", nik(5), "--reason", "salah input",
                               "--ledger", str(ledger)])  # fmt: skip
    assert gone.exit_code == 0, gone.output
    answer = [nik(1), person(1)[2], "25000000001", "BERHASIL", "01-06-2025"]
    reply = write_csv(tmp_path / "balasan.csv", ["NIK", "NAMA", "NO KPJ", "STATUS", "TMT"],
                      [answer])  # fmt: skip
    answered = runner.invoke(app, ["ledger", "import-reply", str(reply), "--ledger", str(ledger)])
    assert answered.exit_code == 0, answered.output
    bill_file = bpjs_bill(tmp_path / "tagihan juli.xlsx", [
        ["", nik(0), "Budi", 16800],
        ["25000000001", "", "Siti", "16.800"],  # known by the KPJ BPJS's reply gave
        ["", nik(2), "Andi", 17000],
        ["", nik(5), "Rina", 16800],
        ["", STRANGER, "Orang Lain", 16800],
        ["12345678901", "", "Tanpa NIK", 16800],
    ])  # fmt: skip
    before = bill_file.read_bytes()
    out = tmp_path / "selisih.xlsx"
    res = reconcile(ledger, bill_file, "--format", "json", "--out", out)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["summary"] == {
        "billed": 6, "covered": 5, "billed_not_covered": 3, "covered_not_billed": 2,
        "amount_differs": 1, "billed_amount": 5 * 16_800 + 17_000, "expected_amount": 5 * 16_800,
    }  # fmt: skip
    seen = [(d["kind"], d["reason"], d["row"], d["billed"], d["expected"])
            for d in doc["differences"]]  # fmt: skip
    assert seen == [
        ("billed_not_covered", "withdrawn", 8, 16_800, None),
        ("billed_not_covered", "never_sent", 9, 16_800, None),
        ("billed_not_covered", "kpj_unknown", 10, 16_800, None),
        ("covered_not_billed", None, None, None, 16_800),
        ("covered_not_billed", None, None, None, 16_800),
        ("amount_differs", None, 7, 17_000, 16_800),
    ]
    assert [d["kpj"] for d in doc["differences"]][2] == "12345678901"
    assert doc["differences"][3]["nik"] == nik(3)[:4] + "********" + nik(3)[-4:]
    assert nik(3) not in res.stdout  # masked on screen and in JSON
    # the finance office's file: real NIKs, owner-only; the bill itself untouched
    assert out.stat().st_mode & 0o777 == 0o600
    header, *rows = load_workbook(out, read_only=True).active.iter_rows(values_only=True)
    assert header[:4] == ("MONTH", "DIFFERENCE", "WHY", "NIK")
    assert [r[3] for r in rows] == [nik(5), STRANGER, None, nik(3), nik(4), nik(2)]
    assert bill_file.read_bytes() == before
    # on screen, in Indonesian
    text = reconcile(ledger, bill_file, lang="id")
    assert "Ditagih tetapi tidak ditanggung: 3" in text.stdout
    assert "tidak ditanggung (tidak pernah dikirim jamsos)" in " ".join(text.stdout.split())


def test_a_bill_that_agrees(tmp_path: Path, target: Target) -> None:
    ledger = target.location
    build(tmp_path, roster(tmp_path / "rt.csv", range(3)), ledger=ledger)
    bill_file = bpjs_bill(tmp_path / "b.xlsx", [["", nik(i), "X", 16800] for i in range(3)])
    res = reconcile(ledger, bill_file)
    assert res.returncode == 0 and "The bill and the ledger agree." in res.stdout


def test_a_bill_layout_of_the_office_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    """A branch that heads its amounts "DIBAYAR" gets a copy of bpjs-bill.toml with that
    alias, edited in Notepad (which saves a BOM)."""
    ledger = tmp_path / "ledger.sqlite"
    build(tmp_path, roster(tmp_path / "rt.csv", range(2)), ledger=ledger)
    shipped = schema_file("layouts", "bpjs-bill.toml").read_text(encoding="utf-8")
    layout = tmp_path / "tagihan-cabang.toml"
    layout.write_text("\ufeff" + shipped.replace('amount = ["IURAN"', 'amount = ["DIBAYAR"'))
    headers = ["NO", "NO KPJ", "NIK", "NAMA PESERTA", "DIBAYAR"]
    bill_file = bpjs_bill(tmp_path / "b.xlsx", [["", nik(i), "X", 16800] for i in range(2)],
                          headers=headers)  # fmt: skip
    res = reconcile(ledger, bill_file, "--layout", layout)
    assert res.returncode == 0 and "The bill and the ledger agree." in res.stdout, res.stderr


@pytest.mark.parametrize(
    ("headers", "row", "says"),
    [
        (["NO", "NIK", "NAMA", "KETERANGAN"], ["", "x", "x"], "no IURAN / JUMLAH IURAN column"),
        (["NO", "NAMA", "IURAN"], ["x", 16800], "no NIK / NO KTP / KPJ / NO KPJ column"),
        (BILL_HEADERS, ["", "enam belas ribu"], "'enam belas ribu' is not a whole amount"),
        (BILL_HEADERS, ["", "16.800,50"], "row 2, column 'IURAN BULAN INI'"),
        (BILL_HEADERS, ["21711012058"], "not a 16-digit NIK"),
    ],
)
def test_a_file_that_is_not_a_bill_is_exit_2_naming_what_is_missing(
    tmp_path: Path, target: Target, headers, row, says
) -> None:
    build(tmp_path, roster(tmp_path / "rt.csv", range(2)), ledger=target.location)
    cells = {
        "NIK": nik(0), "NAMA": "Budi", "NAMA PESERTA": "Budi", "NO KPJ": "",
        "KETERANGAN": "ok", "IURAN": "16800", "IURAN BULAN INI": "16800",
    }  # fmt: skip
    values = [cells.get(h, "") for h in headers[1:]]
    if headers == BILL_HEADERS and len(row) == 2:
        values[3] = row[1]
    elif headers == BILL_HEADERS:
        values[1] = row[0]
    path = write_xlsx(tmp_path / "bukan tagihan.xlsx", headers, [["1", *values]])
    res = reconcile(target.location, path)
    assert res.returncode == 2, res.stdout
    assert says in res.stderr and "Traceback" not in res.stderr


# ------------------------------------------------------------------------------ purge


def stored(target: Target) -> str:
    """Everything the ledger stores, as text: an SQLite file's SQL dump and its raw bytes
    (free space included); every table's rows of a PostgreSQL database."""
    if not target.sqlite:
        return repr(target.content())
    import sqlite3

    conn = sqlite3.connect(target.path)
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    return dump + "\n" + target.path.read_bytes().decode("latin-1")


def test_purge_removes_the_personal_data_of_people_ended_long_ago_and_keeps_the_money(
    tmp_path: Path, target: Target
) -> None:
    """RT heads 0–5 covered in 2024; 3–7 in 2025. Purging those whose coverage ended before
    2025 removes people 0–2 (NIK, name, birth date, phone) from every table, asks first
    (refused with no terminal and no --yes), is recorded in the change log, and leaves the
    counts, the money and the bill of a 2024 month as they were."""
    ledger = target.location
    build(tmp_path, roster(tmp_path / "rt_2024.csv", range(6)), start="2024-06", ledger=ledger)
    build(tmp_path, roster(tmp_path / "rt_2025.csv", range(3, 8)), start="2025-06", ledger=ledger)
    # the population registry matched person 0 (ended) and person 4 (still covered)
    padan = write_csv(
        tmp_path / "hasil_padan.csv",
        ["NO", "NIK", "HASIL PADAN", "TGL PADAN"],
        [["1", nik(0), "PADAN", "20-08-2024"], ["2", nik(4), "PADAN", "20-08-2024"]],
    )
    matched = runner.invoke(app, ["ledger", "import-dukcapil", str(padan), "--ledger", ledger])
    assert matched.exit_code == 0, matched.output
    july_2024 = bill(ledger, "2024-07")
    stats = runner.invoke(app, ["ledger", "stats", "--ledger", str(ledger), "--format", "json"])
    before = target.content()
    asked = jamsos("ledger", "purge", "--ended-before", "2025-01", "--ledger", ledger)
    assert asked.returncode == 2 and "--yes" in asked.stderr
    assert target.content() == before
    res = jamsos("ledger", "purge", "--ended-before", "2025-01", "--ledger", ledger, "--yes",
                 "--format", "json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["purged"] == 3
    dump = stored(target)
    assert person(3)[2] in dump  # names are stored as written (the check below can fail)
    for i in range(3):
        who = person(i)
        assert who[1] not in dump and who[2] not in dump and who[11] not in dump
    for i in range(3, 8):
        assert person(i)[1] in dump  # the people still covered keep theirs
    assert target.rows("SELECT nik, result FROM dukcapil ORDER BY id") == [
        ("~" + str(target.rows("SELECT MAX(id) FROM changes")[0][0]) + ".1", "padan"),
        (nik(4), "padan"),
    ]  # the registry's result is kept, under the alias
    assert bill(ledger, "2024-07") == july_2024
    again = runner.invoke(app, ["ledger", "stats", "--ledger", str(ledger), "--format", "json"])
    assert again.stdout == stats.stdout
    ((command, summary),) = target.rows(
        "SELECT command, summary FROM changes ORDER BY id DESC LIMIT 1"
    )
    assert command.startswith("jamsos ledger purge --ended-before 2025-01")
    assert json.loads(summary) == {"ended_before": "2025-01"}
    # nothing left to purge; a person purged may be submitted again as anyone new
    res = jamsos("ledger", "purge", "--ended-before", "2025-01", "--ledger", ledger, "--yes")
    assert res.returncode == 0 and "nothing removed" in res.stdout
    # a person ended from September 2025 (meninggal) has ended before October
    ended = runner.invoke(app, ["ledger", "end", nik(7), "--from", "2025-09", "--reason",
                                "meninggal", "--ledger", str(ledger)])  # fmt: skip
    assert ended.exit_code == 0, ended.output
    res = jamsos("ledger", "purge", "--ended-before", "2025-10", "--ledger", ledger, "--yes",
                 "--format", "json")  # fmt: skip
    assert json.loads(res.stdout)["purged"] == 1
    dump = stored(target)
    assert nik(7) not in dump and person(7)[2] not in dump and nik(6) in dump
    doc = build(tmp_path, roster(tmp_path / "rt_2026.csv", [0]), start="2026-01", ledger=ledger)
    assert doc["batch"]["participants"] == 1


@pytest.mark.parametrize("month", ["2099-01", "2025-13"])
def test_purge_refuses_a_month_that_is_not_over(tmp_path: Path, target: Target, month: str) -> None:
    build(tmp_path, roster(tmp_path / "rt.csv", range(2)), start="2024-06", ledger=target.location)
    before = target.content()
    res = jamsos("ledger", "purge", "--ended-before", month, "--ledger", target.location, "--yes")
    assert res.returncode == 2 and "--ended-before" in res.stderr
    assert target.content() == before
