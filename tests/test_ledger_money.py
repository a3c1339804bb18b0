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
from tests import synthetic as syn
from tests.helpers import DECREE_PREMIUM, JAMSOS, build_args
from tests.rosters import OJOL, RT, nik, roster

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


def bill(ledger: Path, month: str, *extra: object) -> dict:
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


# ------------------------------------------------------------- money as it was recorded


def test_a_changed_decree_never_rewrites_an_old_bill(tmp_path: Path) -> None:
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
    first = build(tmp_path, roster(tmp_path / "a.csv", range(5)), decree="kota-uji", extra=extra)
    assert first["batch"]["participants"] == 5
    june = bill(tmp_path / "ledger.sqlite", "2025-06")
    rule.write_text(head + DECREE_PREMIUM.replace("6_800", "7_000"), encoding="utf-8")
    second = build(
        tmp_path, roster(tmp_path / "b.csv", range(5, 8)), decree="kota-uji", start="2025-09",
        extra=extra,
    )  # fmt: skip
    assert second["batch"]["participants"] == 3
    assert bill(tmp_path / "ledger.sqlite", "2025-06") == june
    assert june["decrees"][0] | {"batches": 1} == {
        "decree": "kota-uji", "batches": 1, "people": 5, "jkk": 50_000, "jkm": 34_000,
        "jht": 0, "unsplit": 0, "premium": 84_000,
    }  # fmt: skip
    october = bill(tmp_path / "ledger.sqlite", "2025-10")
    assert october["decrees"] == [
        {"decree": "kota-uji", "batches": 2, "people": 8, "jkk": 80_000,
         "jkm": 5 * 6_800 + 3 * 7_000, "jht": 0, "unsplit": 0,
         "premium": 5 * 16_800 + 3 * 17_000}
    ]  # fmt: skip


def test_withdrawn_and_voided_people_are_not_billed(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    build(tmp_path, roster(tmp_path / "rt.csv", range(6)))
    build(tmp_path, roster(tmp_path / "ojol.csv", range(6, 10), role="Ojek online"), decree=OJOL)
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
def test_bad_bill_options_are_exit_2_naming_them(tmp_path: Path, args, says) -> None:
    build(tmp_path, roster(tmp_path / "rt.csv", range(2)))
    res = runner.invoke(
        app, ["ledger", "bill", *args, "--ledger", str(tmp_path / "ledger.sqlite"), "--lang", "en"]
    )
    assert res.exit_code == 2
    assert says in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "bill.pdf").exists()


def test_a_bill_of_a_missing_ledger_is_exit_2_and_makes_none(tmp_path: Path) -> None:
    res = jamsos("ledger", "bill", "--month", "2025-07", "--ledger", tmp_path / "nope.sqlite")
    assert res.returncode == 2
    assert "jamsos ledger init" in res.stderr
    assert list(tmp_path.iterdir()) == []
