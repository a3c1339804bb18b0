"""``jamsos report``: the office head's page, the spreadsheet recap and the Berita Acara, run
as a user runs them on ledgers made by real build-batch runs, every figure compared with the
ledger read back independently (plain SQL, the manifests, openpyxl). What only a browser can
tell (no request leaves the page, the rendered numbers, one printed page) is in
``test_report_browser.py``."""

from __future__ import annotations

import dataclasses
import html
import re
import stat
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from jamsos_cli.codes import registry
from jamsos_cli.texts import say, section
from tests import report_world as rw
from tests.rosters import OJOL, RT


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> rw.World:
    return rw.world(tmp_path_factory)


@pytest.fixture(scope="module")
def outputs(world: rw.World) -> dict[str, Path]:
    """The three outputs on the full ledger, Indonesian; and the page in English with names."""
    d = world.root / "reports"
    files = {
        "html": d / "laporan.html",
        "xlsx": d / "rekap.xlsx",
        "ba": d / "ba.html",
        "en": d / "report.en.html",
        "pii": d / "report.pii.html",
    }
    world.run(
        "report",
        "--ledger",
        world.ledger,
        "--out",
        files["html"],
        "--xlsx",
        files["xlsx"],
        "--berita-acara",
        files["ba"],
        "--batch",
        "2",
        "--month",
        rw.MONTH,
    )
    world.run("report", "--ledger", world.ledger, "--out", files["en"], "--lang", "en")
    world.run("report", "--ledger", world.ledger, "--out", files["pii"], "--show-pii")
    return files


def cells(page: str, table: str) -> list[dict[str, str]]:
    """The rows of a table of the page: data-k → data-v (or the text when there is none)."""
    body = re.search(rf'<table[^>]* data-table="{table}"[^>]*>(.*?)</table>', page, re.S)
    assert body, f"no table {table}"
    tbody = re.search(r"<tbody>(.*?)</tbody>", body.group(1), re.S).group(1)
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", tbody, re.S):
        row = {}
        for key, attrs, text in re.findall(r'<td data-k="([^"]+)"([^>]*)>(.*?)</td>', tr, re.S):
            v = re.search(r'data-v="([^"]*)"', attrs)
            row[key] = html.unescape(v.group(1) if v else text)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- the README's ledger


def test_the_readme_ledger_gives_all_three_outputs(world: rw.World) -> None:
    d = world.root / "readme-report"
    run = world.run(
        "report",
        "--ledger",
        world.readme_ledger,
        "--out",
        d / "report.html",
        "--xlsx",
        d / "recap.xlsx",
        "--berita-acara",
        d / "ba.html",
        "--batch",
        "perwako-batam-49-2025_2025-06_2025-12_001",
    )
    for name in ("report.html", "recap.xlsx", "ba.html"):
        assert (d / name).stat().st_size > 1000
        assert stat.S_IMODE((d / name).stat().st_mode) == 0o600  # like every file jamsos writes
    assert "Laporan ditulis" in run.stderr and "Berita acara ditulis" in run.stderr
    page = (d / "report.html").read_text(encoding="utf-8")
    people = rw.expected_people(world.readme_ledger, "2025-12")
    assert people == {RT: 137}
    quota = {r["decree"]: r for r in cells(page, "quota")}
    assert quota[RT]["people"] == "137" and quota[RT]["quota"] == "12872"
    assert (d / "ba.html").read_text(encoding="utf-8").count("16.111.200") >= 2  # 137 × 7 × 16.800


# --------------------------------------------------------------------------- the page


def test_participants_by_decree_and_quota_match_the_ledger(world, outputs) -> None:
    page = outputs["html"].read_text(encoding="utf-8")
    expected = rw.expected_people(world.ledger, rw.MONTH)
    assert expected == {RT: 137, OJOL: 140 + 6, rw.FISH: 114}  # batch 4 added 6 transport workers
    # (the ojol and fishermen samples each hold a person typed twice: the second row is held)
    shown = {r["decree"]: r for r in cells(page, "quota")}
    assert {d: int(r["people"]) for d, r in shown.items()} == expected
    assert shown[RT]["quota"] == "12872" and float(shown[RT]["share"]) == pytest.approx(
        137 / 12872, abs=1e-6
    )
    assert shown[OJOL]["quota"] == say("office.columns.no_quota")  # none published
    assert int(shown[OJOL]["premium_month"]) == 146 * 16_800
    status = {r["decree"]: r for r in cells(page, "status")}
    assert {d: int(r["submitted"]) for d, r in status.items()} == expected
    assert {int(r["active"]) for r in status.values()} == {0}


def test_kecamatan_and_kelurahan_match_the_ledger(world, outputs) -> None:
    page = outputs["html"].read_text(encoding="utf-8")
    names = rw.region_names()
    by_kelurahan = rw.expected_kelurahan(world.ledger, rw.MONTH)
    by_kecamatan: dict[str, int] = {}
    for code, n in by_kelurahan.items():
        by_kecamatan[names[code[:8]]] = by_kecamatan.get(names[code[:8]], 0) + n
    shown = {r["kecamatan"]: int(r["total"]) for r in cells(page, "kecamatan")}
    assert shown == by_kecamatan
    kelurahan = cells(page, "kelurahan")
    assert len(kelurahan) == 40  # capped: the page never grows with the ledger
    for row in kelurahan:
        code = next(
            c
            for c, name in names.items()
            if name == row["kelurahan"] and len(c) > 8 and names[c[:8]] == row["kecamatan"]
        )
        assert int(row["people"]) == by_kelurahan[code]
    assert "40 dari 57 kelurahan" in page  # and says so


def test_premium_per_month_against_the_budget(world, outputs) -> None:
    page = outputs["html"].read_text(encoding="utf-8")
    expected = rw.expected_premium(world.ledger)
    shown = {}
    for decree in (RT, OJOL, rw.FISH):
        body = re.search(rf'<table data-table="months" data-key="{decree}">.*?</table>', page, re.S)
        for row in cells(body.group(0), "months"):
            shown[(row["month"], decree)] = int(row["premium"])
            if decree == RT:  # the only decree with a quota: budget = 12,872 × 16,800
                assert int(row["budget"]) == 12_872 * 16_800
            else:
                assert "budget" not in row or row["budget"] == "—"
    assert shown == expected
    assert shown[("2025-12", OJOL)] == 146 * 16_800 and ("2025-08", OJOL) in shown


def test_senders_and_reasons_match_the_batch_folders(world, outputs) -> None:
    page = outputs["html"].read_text(encoding="utf-8")
    expected = rw.expected_rejects(world)
    senders = {r["sender"]: r for r in cells(page, "senders")}
    # the sender's name is text: escaped in the page, never markup
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert {s: (int(r["rows"]), int(r["rejected"])) for s, r in senders.items()} == {
        s: (e["rows"], e["rejected"]) for s, e in expected.items()
    }
    assert int(senders[rw.TRICKY]["rejected"]) == 1  # the one NIK that lost digits
    by_code: dict[str, int] = {}
    by_first: dict[str, int] = {}
    for e in expected.values():
        for code, n in (e["codes"] or {}).items():
            by_code[code] = by_code.get(code, 0) + n
        for code, n in (e["first"] or {}).items():
            by_first[code] = by_first.get(code, 0) + n
    reasons = cells(page, "reasons")
    shown = {r["code"]: int(r["reason_rows"]) for r in reasons}
    assert shown == by_code
    assert {r["code"]: int(r["first_reason"]) for r in reasons if r["first_reason"] != "0"} == (
        by_first
    )
    # counted by first reason, every row read counts once: they add up to the rows sent back
    assert sum(by_first.values()) == sum(e["rejected"] for e in expected.values() if e["first"])
    assert "NIK_FORMAT" in shown and "AGE_OUT_OF_RANGE" in shown
    # the edited rejects file: its rows and reasons come from the ledger's record of the run
    assert say("office.notes.rejects_source") in page
    assert "Sebagian folder batch tidak ada lagi atau sudah berubah" not in page


def test_a_roster_run_again_the_next_night_is_counted_once(tmp_path: Path) -> None:
    """The README's own steps: the same roster built twice (the second run finds nobody
    new). The senders table showed its rows and rows sent back twice (the batch's folder
    and the second run's record of the same file) against the note "each version of a file
    once"."""
    from tests.helpers import JAMSOS, build_args
    from tests.rosters import roster

    src = roster(tmp_path / "kel_tembesi.csv", range(5), bad=True)  # 6 rows, 1 sent back
    for _ in range(2):
        done = subprocess.run([JAMSOS, *build_args(tmp_path, src)], capture_output=True)
        assert done.returncode == 1, done.stderr
    page = tmp_path / "laporan.html"
    done = subprocess.run(
        [JAMSOS, "report", "--ledger", str(tmp_path / "ledger.sqlite"), "--out", str(page)],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    senders = cells(page.read_text(encoding="utf-8"), "senders")
    assert [(r["sender"], int(r["rows"]), int(r["rejected"])) for r in senders] == [
        ("kel_tembesi.csv", 6, 1)
    ]
    reasons = cells(page.read_text(encoding="utf-8"), "reasons")
    assert [(r["code"], int(r["reason_rows"])) for r in reasons] == [("NIK_FORMAT", 1)]


def test_batches_trend_and_decisions(world, outputs) -> None:
    page = outputs["html"].read_text(encoding="utf-8")
    batches = {int(r["batch"]): r for r in cells(page, "batches")}
    assert sorted(batches) == [1, 2, 3, 4, 5]
    assert batches[5]["batch_status"] == "voided" and batches[1]["batch_status"] == "done"
    for batch_id, n, total in rw.query(
        world.ledger, "SELECT id, participants, total_premium FROM batches"
    ):
        assert (
            int(batches[batch_id]["participants"]),
            int(batches[batch_id]["total_premium"]),
        ) == (n, total)
    decisions = {r["decision"]: r for r in cells(page, "decisions")}
    assert (decisions["same"]["pairs"], decisions["same"]["both_paid"]) == ("1", "1")
    assert decisions["different"]["pairs"] == "1"
    assert "dibayar dua kali" in page and "--show-pii" in page
    assert 'data-table="pairs"' not in page  # no names without --show-pii


def test_no_nik_ever_and_names_only_with_show_pii(world, outputs) -> None:
    niks = rw.all_niks(world.ledger)
    names = {r[0] for r in rw.query(world.ledger, "SELECT name FROM people")}
    with zipfile.ZipFile(outputs["xlsx"]) as z:
        recap = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    for key in ("html", "en", "ba", "pii"):
        text = outputs[key].read_text(encoding="utf-8")
        assert not [n for n in niks if n in text], key
        assert not re.search(r"(?<![0-9a-f])\d{16}(?![0-9a-f])", text), key  # nor any NIK-like
    assert not [n for n in niks if n in recap]
    page = outputs["html"].read_text(encoding="utf-8")
    assert not [n for n in names if f">{n}<" in page]
    pii = outputs["pii"].read_text(encoding="utf-8")
    same = rw.names_of(world.ledger, *sorted(world.same_pair))  # a pair is kept in NIK order
    pairs = cells(pii, "pairs")
    assert [(r["name_a"], r["name_b"]) for r in pairs] == [tuple(same)]
    other = names - set(same)
    assert not [n for n in other if f">{n}<" in pii]  # only the pair that must be named


def test_a_moved_folder_and_a_renamed_kelurahan(world, tmp_path) -> None:
    """What the ledger cannot vouch for is shown as unknown, never as zero: a batch folder
    that moved (no manifest to read), a kelurahan code the region reference no longer has
    (the name the ledger recorded is shown, under an unknown kecamatan)."""
    import shutil
    import sqlite3

    ledger = tmp_path / "copy.sqlite"
    shutil.copy(world.ledger, ledger)
    with sqlite3.connect(ledger) as conn:
        conn.execute("UPDATE batches SET folder = folder || '-moved' WHERE id = 3")
        conn.execute(
            "UPDATE people SET kelurahan_code = '21.71.99.9999', kelurahan = 'Kampung Lama'"
            " WHERE rowid IN (SELECT rowid FROM people WHERE batch_id = 1 LIMIT 3)"
        )
    page_path = tmp_path / "r.html"
    world.run("report", "--ledger", ledger, "--out", page_path, "--xlsx", tmp_path / "r.xlsx")
    page = page_path.read_text(encoding="utf-8")
    senders = {r["sender"]: r for r in cells(page, "senders")}
    # the ledger recorded the run: the sender's figures survive the move; the batch's
    # manifest figures (trend) are unknown, not 0
    expected = rw.expected_rejects(world)["nelayan_galang.xlsx"]["rejected"]
    assert int(senders["nelayan_galang.xlsx"]["rejected"]) == expected
    assert int(senders["dishub_ojol_2025.csv"]["rejected"]) > 0
    trend = {r["batch"]: r for r in cells(page, "batches")}
    assert trend["3"]["rejected"] == "—" and trend["3"]["participants"] == "114"
    kecamatan = {r["kecamatan"]: int(r["total"]) for r in cells(page, "kecamatan")}
    assert kecamatan[say("office.columns.unknown")] == 3
    wb = load_workbook(tmp_path / "r.xlsx")
    ws = wb.worksheets[1]
    found = [[c.value for c in row] for row in ws.iter_rows() if row[6].value == "Kampung Lama"]
    assert found and found[0][5] == "21.71.99.9999" and found[0][7] == 3


def test_english_page(outputs) -> None:
    page = outputs["en"].read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Participants by decree against the quota" in page
    assert "Premium per month against the budget" in page and "Peserta per" not in page
    assert 'data-v="2025-12"' in page  # the default month: the last one covered up to now


def test_the_page_is_self_contained_and_small(outputs) -> None:
    page = outputs["html"].read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # the browser refuses any request the page might make
    unescaped = re.sub(r'xmlns(:\w+)?="[^"]*"', "", page)  # XML namespaces are names, not links
    for pattern in (r"<script", r"<link\b", r"\bsrc=", r"@import", r"url\((?!#)", r"https?://"):
        assert not re.search(pattern, unescaped), pattern
    assert page.count("<svg") == 5  # quota, kecamatan, months, senders, trend
    assert len(page.encode()) < 400_000


def test_charts_are_the_same_bytes_every_time(world, outputs) -> None:
    again = world.root / "reports" / "again.html"
    world.run("report", "--ledger", world.ledger, "--out", again, "--month", rw.MONTH)
    svgs = [
        re.findall(r"<svg.*?</svg>", p.read_text(encoding="utf-8"), re.S)
        for p in (outputs["html"], again)
    ]
    assert svgs[0] == svgs[1] and len(svgs[0]) == 5


def test_month_option(world) -> None:
    page_path = world.root / "reports" / "june.html"
    world.run("report", "--ledger", world.ledger, "--out", page_path, "--month", "2025-06")
    page = page_path.read_text(encoding="utf-8")
    shown = {r["decree"]: int(r["people"]) for r in cells(page, "quota")}
    assert (
        shown
        == {RT: 137, OJOL: 0, rw.FISH: 0}
        == {d: rw.expected_people(world.ledger, "2025-06").get(d, 0) for d in shown}
    )


def test_a_quota_from_the_config_file(world, tmp_path) -> None:
    """A decree whose quota is not published gets one from the config: the quota, the share
    and the budget follow."""
    config = tmp_path / "jamsos.toml"
    config.write_text(f'[quotas]\n"{OJOL}" = 7000\n', encoding="utf-8")
    page_path = tmp_path / "r.html"
    world.run("report", "--ledger", world.ledger, "--out", page_path, "--month", rw.MONTH,
              "--config", config)  # fmt: skip
    page = page_path.read_text(encoding="utf-8")
    quota = {r["decree"]: r for r in cells(page, "quota")}
    assert quota[OJOL]["quota"] == "7000" and float(quota[OJOL]["share"]) == pytest.approx(
        146 / 7000, abs=1e-6
    )
    body = re.search(rf'<table data-table="months" data-key="{OJOL}">.*?</table>', page, re.S)
    assert {row["budget"] for row in cells(body.group(0), "months")} == {str(7000 * 16_800)}


def test_the_default_month() -> None:
    from jamsos_cli.office_report.aggregate import report_month

    live = pl.DataFrame({"start_month": [24305, 24306], "end_month": [24311, 24311]})
    assert report_month(live, None, date(2025, 9, 15)) == 2025 * 12 + 8  # this month, covered
    assert report_month(live, None, date(2027, 1, 1)) == 24311  # the last month covered
    assert report_month(live, None, date(2024, 1, 1)) == 24305  # all ahead: the first one
    assert report_month(live.head(0), None, date(2024, 1, 1)) == 2024 * 12
    assert report_month(live, "2025-03", date(2027, 1, 1)) == 2025 * 12 + 2


# --------------------------------------------------------------------------- the recap


def test_recap_tables_and_number_formats(world, outputs) -> None:
    wb = load_workbook(outputs["xlsx"])
    tables = {name: (ws, ref) for ws in wb.worksheets for name, ref in ws.tables.items()}
    assert set(tables) == {
        "participants",
        "quota",
        "months",
        "senders",
        "rejects",
        "batches",
        "decisions",
    }  # BPJS refusals: not recorded yet, a header and a note

    def rows(name: str) -> list[dict]:
        ws, ref = tables[name]
        grid = [[c for c in r] for r in ws[ref]]
        header = [c.value for c in grid[0]]
        return [dict(zip(header, r, strict=True)) for r in grid[1:]]

    cols = section("office.columns")
    people = rows("participants")
    total = people[-1]  # the table's total row
    assert total[cols["people"]].value.startswith("=SUBTOTAL(109")
    by_decree: dict[str, int] = {}
    for r in people[:-1]:
        by_decree[r[cols["decree_id"]].value] = (
            by_decree.get(r[cols["decree_id"]].value, 0) + r[cols["people"]].value
        )
        assert r[cols["people"]].number_format == "#,##0"
    assert by_decree == rw.expected_people(world.ledger, rw.MONTH)
    months = rows("months")[:-1]
    assert {
        (r[cols["month"]].value, r[cols["decree_id"]].value): r[cols["premium"]].value
        for r in months
    } == rw.expected_premium(world.ledger)
    assert {r[cols["premium"]].number_format for r in months} == {"#,##0"}
    assert {r[cols["budget_use"]].number_format for r in months} == {"0.0%"}
    assert all(isinstance(r[cols["premium"]].value, int) for r in months)  # whole rupiah
    senders = {r[cols["sender"]].value: r for r in rows("senders")[:-1]}
    assert "'" + rw.TRICKY in senders  # a formula-looking name is neutralised, never run
    expected = rw.expected_rejects(world)
    assert {s.removeprefix("'"): r[cols["rejected"]].value for s, r in senders.items()} == {
        s: e["rejected"] for s, e in expected.items()
    }
    reasons = rows("rejects")[:-1]
    assert sum(r[cols["reason_rows"]].value for r in reasons) == sum(
        sum(e["codes"].values()) for e in expected.values() if e["codes"]
    )
    assert sum(r[cols["first_reason"]].value for r in reasons) == sum(
        e["rejected"] for e in expected.values() if e["first"]
    )
    # nothing in the recap is a formula but the tables' own total rows
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert c.value.startswith("=SUBTOTAL(109,"), (ws.title, c.coordinate)


# --------------------------------------------------------------------------- the Berita Acara


def test_berita_acara_figures(world, outputs) -> None:
    ba = outputs["ba"].read_text(encoding="utf-8")
    ((n, start, end, per, total, folder),) = rw.query(
        world.ledger,
        "SELECT participants, start_month, end_month, premium_per_person_month,"
        " total_premium, folder FROM batches WHERE id = 2",
    )
    months = end - start + 1
    assert n * months * per == total
    premium = cells(ba, "premium")[0]
    assert (
        int(premium["people"]),
        int(premium["months"]),
        int(premium["per_person_month"]),
        int(premium["total"]),
    ) == (n, months, per, total)
    from jamsos_cli.render.numbers import rupiah_in_words

    assert rupiah_in_words(total) in ba and total == 140 * 6 * 16_800
    assert "empat belas juta seratus dua belas ribu rupiah" in ba
    assert Path(folder).name in ba and 'data-v="2"' in ba
    assert "JKK Rp 10.000 + JKM Rp 6.800 = Rp 16.800" in ba
    kecamatan = re.findall(r'<span class="n" data-v="(\d+)">', ba)
    assert sum(map(int, kecamatan)) == n
    assert "Yang menyerahkan" in ba and "Yang menerima" in ba and "PEMERINTAH KOTA BATAM" in ba


def test_berita_acara_refuses_a_voided_or_unknown_batch_and_writes_nothing(world) -> None:
    d = world.root / "refused"
    voided = say("office.batch_status.voided")
    for batch, message in (
        ("5", say("error.report.batch_status", batch="5", id=5, status=voided)),
        ("99", say("error.ledger.no_batch", batch="99", path=world.ledger)),
    ):
        run = world.run(
            "report",
            "--ledger",
            world.ledger,
            "--out",
            d / "r.html",
            "--berita-acara",
            d / "ba.html",
            "--batch",
            batch,
            code=2,
        )
        assert run.stderr == f"jamsos: {message}\n"
        assert not d.exists()
    english = world.run(
        "report", "--ledger", world.ledger, "--berita-acara", d / "ba.html", "--batch", "5",
        "--lang", "en", code=2,
    )  # fmt: skip
    assert "batch 5 is voided; a Berita Acara is made of a live batch only" in english.stderr


@pytest.mark.parametrize(
    ("args", "key", "values"),
    [
        ([], "error.report.nothing", {}),
        (["--out", "r.html", "--batch", "1"], "error.report.batch_pair", {}),
        (["--berita-acara", "b.html"], "error.report.batch_pair", {}),
        (["--out", "r.pdf"], "error.report.html_name", {"option": "--out", "path": "r.pdf"}),
        (["--out", "r.html", "--xlsx", "r.csv"], "error.report.xlsx_name", {"path": "r.csv"}),
        (["--out", "r.html", "--berita-acara", "r.html", "--batch", "1"],
         "error.report.same_file", {}),
        (["--out", "r.html", "--month", "2025-6"], "error.option.month",
         {"option": "--month", "value": "2025-6"}),
    ],
)  # fmt: skip
def test_usage_errors_say_what_and_write_nothing(world, tmp_path, monkeypatch, args, key, values):
    monkeypatch.chdir(tmp_path)
    run = world.run("report", "--ledger", world.ledger, *args, code=2)
    assert run.stderr == f"jamsos: {say(key, 'id', **values)}\n"
    english = world.run("report", "--ledger", world.ledger, *args, "--lang", "en", code=2)
    assert english.stderr == f"jamsos: {say(key, 'en', **values)}\n"
    assert list(tmp_path.iterdir()) == []


def test_usage_error_lines_read_as_a_person_writes_them(world, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = world.run("report", "--ledger", world.ledger, "--out", "r.pdf", "--lang", "en", code=2)
    assert run.stderr == "jamsos: --out r.pdf: give a .html or .htm file name\n"
    run = world.run("report", "--ledger", world.ledger, code=2)
    assert "berikan --out laporan.html" in run.stderr


def test_a_missing_ledger_is_not_created(tmp_path) -> None:
    from tests.test_fuzz import assert_clean, invoke

    ledger = tmp_path / "nope.sqlite"
    run = invoke(["report", "--ledger", ledger, "--out", tmp_path / "r.html"])
    assert_clean(run, allowed=(2,))
    assert say("error.ledger.missing", path=ledger) in run.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the renderers


def test_refusals_and_statuses_show_once_the_ledger_records_them(world) -> None:
    """The frames a later ledger fills (BPJS refusals, statuses) render as tables and a chart
    with no code change: the renderers read only the frames."""
    from jamsos_cli import decrees, ledger
    from jamsos_cli.office_report import aggregate, html

    with ledger.opened(world.ledger) as book:
        data = aggregate.collect(
            book, ledger_path=str(world.ledger), decrees=decrees.all_decrees(), month=rw.MONTH
        )
    refused = pl.DataFrame(
        {
            "decree": [OJOL, OJOL, RT],
            "reason": ["SUDAH TERDAFTAR", "NIK TIDAK VALID", "SUDAH TERDAFTAR"],
            "people": [5, 2, 1],
        },
        schema=aggregate.REFUSAL_SCHEMA,
    )
    statuses = data.statuses.with_columns(
        pl.when(pl.col("decree") == OJOL).then(pl.lit("active")).otherwise("status").alias("status")
    )
    later = dataclasses.replace(
        data,
        refusals=refused,
        statuses=statuses,
        recorded={**data.recorded, "refusals": True, "statuses": True},
    )
    page = html.render(later, "id")
    rows = cells(page, "refusals")
    assert [(r["decree"], r["reason"], r["people"]) for r in rows][0] == (
        OJOL,
        "SUDAH TERDAFTAR",
        "5",
    )
    assert 'data-chart="refusals"' in page and page.count("<svg") == 6
    assert "Ledger belum mencatat penolakan BPJS" not in page
    status = {r["decree"]: r for r in cells(page, "status")}
    assert status[OJOL]["active"] == "146" and status[OJOL]["submitted"] == "0"


def test_every_code_that_sends_a_row_back_has_a_short_reason() -> None:
    """The page and the recap name a reason in a few words (``office.reason.<CODE>``, both
    languages: tests/test_texts.py keeps them in step); the full message is
    ``finding.<CODE>``."""
    errors = {c for c, s in registry().items() if s.severity == "error"}
    short = set(section("office.reason"))
    assert errors - {"ALREADY_SUBMITTED"} <= short
    assert short <= set(registry())
    assert all(len(say(f"office.reason.{c}", lang)) <= 40 for c in short for lang in ("id", "en"))


def test_help_does_not_import_the_report_libraries() -> None:
    code = (
        "import sys\nfrom jamsos_cli.cli import app\n"
        "try:\n    app(['report', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('polars', 'matplotlib', 'jinja2') if m in sys.modules),"
        " file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"
    assert "--berita-acara" in out.stdout


def test_the_same_report_from_the_ledger_in_postgresql(world, pg, tmp_path) -> None:
    """The report reads the ledger through the store interface only: the full ledger moved
    into PostgreSQL (``jamsos ledger copy``) gives the same page, recap and Berita Acara,
    the ledger named by its URL with the password masked, never the password."""
    from jamsos_cli.ledger import locate
    from tests.postgres import PASSWORD

    world.run("ledger", "copy", world.ledger, pg.location)
    made: dict[str, dict[str, Path]] = {}
    said: dict[str, str] = {}
    for store, ledger in (("sqlite", world.ledger), ("postgresql", pg.location)):
        d = tmp_path / store
        d.mkdir()
        files = {"html": d / "r.html", "xlsx": d / "r.xlsx", "ba": d / "ba.html"}
        log = d / "run.log"
        result = world.run(
            "report", "--ledger", ledger, "--out", files["html"], "--xlsx", files["xlsx"],
            "--berita-acara", files["ba"], "--batch", "2", "--month", rw.MONTH,
            "--log-file", log,
        )  # fmt: skip
        made[store] = files
        said[store] = result.stdout + result.stderr + log.read_text(encoding="utf-8")
    masked = str(locate(pg.location))
    assert "***" in masked and PASSWORD not in masked

    def page(path: Path, label: str) -> str:  # what differs by nature: the name and the time
        text = path.read_text(encoding="utf-8").replace(html.escape(label), "LEDGER")
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+\-]\d\d:\d\d", "TIME", text)

    for kind in ("html", "ba"):
        on_pg = made["postgresql"][kind].read_text(encoding="utf-8")
        assert html.escape(masked) in on_pg and PASSWORD not in on_pg
        assert page(made["postgresql"][kind], masked) == page(
            made["sqlite"][kind], str(world.ledger)
        )
    with zipfile.ZipFile(made["postgresql"]["xlsx"]) as book:
        everything = "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    assert PASSWORD not in everything and masked in everything
    sheets = {s: _sheet_values(made[s]["xlsx"]) for s in made}
    swap = {masked: "LEDGER", str(world.ledger): "LEDGER"}
    assert _without_time(sheets["postgresql"], swap) == _without_time(sheets["sqlite"], swap)
    assert PASSWORD not in said["postgresql"] and masked in said["postgresql"]


def _sheet_values(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book}
    finally:
        book.close()


def _without_time(sheets: dict[str, list[tuple]], swap: dict[str, str]) -> dict:
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+\-]\d\d:\d\d$")
    return {
        title: [
            tuple("TIME" if isinstance(v, str) and stamp.match(v) else swap.get(v, v) for v in r)
            for r in rows
        ]
        for title, rows in sheets.items()
    }


def test_a_pair_paid_twice_is_no_longer_counted_once_the_later_one_is_withdrawn(
    world, tmp_path
) -> None:
    """The report counts the persons paid twice as ``jamsos dedupe`` does
    (``dedupe.paid_twice``): once the later row of the pair decided SAME is withdrawn, the
    pair is no longer paid twice, and the page no longer asks to withdraw one."""
    import shutil

    ledger = tmp_path / "copy.sqlite"
    shutil.copy(world.ledger, ledger)
    later = world.same_pair[1]
    batch = rw.query(ledger, "SELECT batch_id FROM people WHERE nik = ?", later)[0][0]
    world.run(
        "ledger",
        "withdraw",
        later,
        "--batch",
        batch,
        "--reason",
        "dibayar dua kali",
        "--ledger",
        ledger,
    )
    page_path = tmp_path / "r.html"
    world.run("report", "--ledger", ledger, "--out", page_path)
    page = page_path.read_text(encoding="utf-8")
    decisions = {r["decision"]: r for r in cells(page, "decisions")}
    assert (decisions["same"]["pairs"], decisions["same"]["both_paid"]) == ("1", "0")
    assert "dibayar dua kali, tarik" not in page
    # nor named as such with --show-pii
    world.run("report", "--ledger", ledger, "--out", page_path, "--show-pii")
    assert 'data-table="pairs"' not in page_path.read_text(encoding="utf-8")
