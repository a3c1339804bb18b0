"""The ledgers the report tests read, made the way an office makes them: the README's first
command on the sample rosters, and a fuller ledger — the three sample decrees, a delta batch
from a sender whose file name would be markup in a page and a formula in a spreadsheet, a
voided batch, a rejects file edited after the run, and reviewed near-duplicate pairs.

Built once per test session (the batches take a few seconds), and read back independently
with plain SQL, JSON and openpyxl (``expected_*``) for the tests to compare against.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from tests.rosters import OJOL, RT, roster
from tests.test_fuzz import assert_clean, invoke

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
FISH = "perwako-batam-3-2023"
TRICKY = '=cmd<script>ojol&"co".csv'  # a sender's file name: markup in HTML, a formula in Excel
MONTH = "2025-12"


@dataclass(frozen=True)
class World:
    root: Path
    readme_ledger: Path  # what the README's first command leaves behind
    ledger: Path
    out: Path
    voided: int  # the voided batch's id
    edited_rejects: str  # a rejects file changed after its run: its reasons are unknown
    same_pair: tuple[str, str]  # NIKs decided SAME, both in live batches
    different_pair: tuple[str, str]

    def run(self, *args: object, code: int = 0):
        result = invoke([str(a) for a in args])
        assert_clean(result, allowed=(code,))
        return result


_worlds: dict[str, World] = {}


def world(tmp_path_factory) -> World:
    """The session's world (built on first use)."""
    if "w" not in _worlds:
        _worlds["w"] = _build(tmp_path_factory.mktemp("report-world"))
    return _worlds["w"]


def _build(root: Path) -> World:
    demo = root / "demo-out"
    # the README's first command, as given there
    assert_clean(
        invoke(
            [
                "build-batch",
                SAMPLES / RT,
                "--decree",
                RT,
                "--start",
                "2025-06",
                "--out",
                demo,
                "--ledger",
                demo / "ledger.sqlite",
                "--new-ledger",
            ]
        ),
        allowed=(1,),
    )
    out, ledger = root / "batches", root / "data" / "ledger.sqlite"

    def build(*args: object, code: int = 1) -> None:
        run = invoke(
            ["build-batch", *args, "--out", out, "--ledger", ledger, "--new-ledger", "--quiet"]
        )
        assert_clean(run, allowed=(code,))

    build(SAMPLES / RT, "--decree", RT, "--start", "2025-06")  # batch 1
    build(SAMPLES / OJOL, "--decree", OJOL, "--start", "2025-07")  # batch 2
    build(SAMPLES / FISH, "--decree", FISH, "--role", "nelayan", "--start", "2025-08")  # 3
    senders = root / "senders"
    senders.mkdir()
    tricky = roster(senders / TRICKY, range(400, 406), role="Ojek Online", bad=True)
    build(tricky, "--decree", OJOL, "--start", "2025-09")  # batch 4: a delta
    later = roster(senders / "rt_later.csv", range(500, 504))
    build(later, "--decree", RT, "--start", "2026-01", code=0)  # batch 5, voided below
    assert_clean(invoke(["ledger", "void", "5", "--ledger", ledger, "--yes"]), allowed=(0,))
    # a clerk opened a rejects file and saved it: what it says can no longer be trusted
    edited = next((out / f"{FISH}_2025-08_2025-12_001").glob("nelayan_galang.rejects.*"))
    edited.write_bytes(edited.read_bytes() + b"\n")
    # reviewed pairs: one decided SAME while both were paid, one DIFFERENT
    first = _first_niks(ledger)
    same, different = (first[1], first[2]), (_second_nik(ledger, 1), first[3])
    decisions = root / "decisions.csv"
    decisions.write_bytes(
        (
            "NIK A;NIK B;KEPUTUSAN (SAMA/BEDA)\r\n"
            f"{same[0]};{same[1]};SAMA\r\n{different[0]};{different[1]};BEDA\r\n"
        ).encode()
    )
    assert_clean(
        invoke(["dedupe", later, "--ledger", ledger, "--decisions", decisions, "--quiet"]),
        allowed=(0, 1),
    )
    return World(root, demo / "ledger.sqlite", ledger, out, 5, edited.name, same, different)


def _first_niks(ledger: Path) -> dict[int, str]:
    with sqlite3.connect(ledger) as conn:
        rows = conn.execute("SELECT batch_id, MIN(rowid) FROM people GROUP BY batch_id")
        return {
            b: conn.execute("SELECT nik FROM people WHERE rowid = ?", (r,)).fetchone()[0]
            for b, r in rows.fetchall()
        }


def _second_nik(ledger: Path, batch_id: int) -> str:
    with sqlite3.connect(ledger) as conn:
        return conn.execute(
            "SELECT nik FROM people WHERE batch_id = ? ORDER BY rowid LIMIT 1 OFFSET 1", (batch_id,)
        ).fetchone()[0]


# --------------------------------------------------------------------------- read back


def month_index(label: str) -> int:
    year, month = map(int, label.split("-"))
    return year * 12 + month - 1


def query(ledger: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(ledger) as conn:
        return conn.execute(sql, params).fetchall()


def _covered(ledger: Path, month: str, by: str) -> dict[str, int]:
    m = month_index(month)
    sql = (
        f"SELECT {by}, COUNT(*) FROM people p JOIN batches b ON b.id = p.batch_id"
        " WHERE b.status = 'done' AND b.start_month <= ? AND b.end_month >= ? GROUP BY 1"
    )
    return dict(query(ledger, sql, m, m))


def expected_people(ledger: Path, month: str) -> dict[str, int]:
    """Decree → people in live batches covering ``month``."""
    return _covered(ledger, month, "b.decree")


def expected_kelurahan(ledger: Path, month: str) -> dict[str, int]:
    """Kelurahan code → people covered in ``month``."""
    return _covered(ledger, month, "p.kelurahan_code")


def expected_premium(ledger: Path) -> dict[tuple[str, str], int]:
    """(month, decree) → premium committed by live batches."""
    out: dict[tuple[str, str], int] = {}
    for decree, start, end, n, per in query(
        ledger,
        "SELECT decree, start_month, end_month, participants, premium_per_person_month"
        " FROM batches WHERE status = 'done'",
    ):
        for m in range(start, end + 1):
            key = (f"{m // 12:04d}-{m % 12 + 1:02d}", decree)
            out[key] = out.get(key, 0) + n * per
    return out


def region_names() -> dict[str, str]:
    with open(ROOT / "schemas" / "reference" / "wilayah_kemendagri.csv", encoding="utf-8") as fh:
        return {r["kode"]: r["nama"] for r in csv.DictReader(fh) if r["kode"].startswith("21.71")}


def expected_rejects(w: World) -> dict[str, dict]:
    """Sender file name → rows read, rows sent back (the manifests), and per reason code the
    rows with it (``codes``) and with it first (``first``) as the rejects files say (openpyxl /
    csv), over live batches. The report reads them from the ledger's record of each run, so a
    rejects file changed since (the edited one: a line added at its end) counts all the same."""
    live = {r[0] for r in query(w.ledger, "SELECT folder FROM batches WHERE status = 'done'")}
    out: dict[str, dict] = {}
    for folder in map(Path, sorted(live)):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        outputs = {o["name"]: o for o in manifest["outputs"]}
        for item in manifest["inputs"]:
            sender = Path(item["name"]).name
            entry = out.setdefault(sender, {"rows": 0, "rejected": 0, "codes": {}, "first": {}})
            entry["rows"] += item["rows"]
            name = next(n for n in outputs if n.startswith(Path(sender).stem + ".rejects."))
            entry["rejected"] += outputs[name]["rows"]
            for codes in _codes_in(folder / name):
                if entry["codes"] is not None:
                    for code in set(codes):
                        entry["codes"][code] = entry["codes"].get(code, 0) + 1
                    entry["first"][codes[0]] = entry["first"].get(codes[0], 0) + 1
    return out


def _codes_in(path: Path) -> list[list[str]]:
    """The codes of each rejected row, in the order its reasons cell lists them."""
    if path.suffix == ".xlsx":
        rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
        col = len([c for c in rows[0] if c is not None]) - 1
        cells = [r[col] for r in rows[1:]]
    else:
        raw = path.read_bytes()
        utf8 = raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig" if utf8 else "cp1252", errors="replace")
        header = text.splitlines()[0]
        delimiter = header[header.rindex("ALASAN PENOLAKAN") - 1]
        lines = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        cells = [line[-1] for line in lines[1:] if line]
    return [re.findall(r"(?:^|; )([A-Z][A-Z_]+): ", cell or "") for cell in cells]


def all_niks(ledger: Path) -> set[str]:
    return {r[0] for r in query(ledger, "SELECT nik FROM people")}


def names_of(ledger: Path, *niks: str) -> list[str]:
    return [query(ledger, "SELECT name FROM people WHERE nik = ?", n)[0][0] for n in niks]
