"""``jamsos build-batch`` and ``jamsos ledger`` end to end: rosters in, batch folders, the
manifest and the ledger out, as a clerk or a cron job sees them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.ledger import locate
from tests.helpers import JAMSOS, build_args, hold, ledger_rows
from tests.ledgers import Target
from tests.postgres import PASSWORD
from tests.rosters import HEADERS, OJOL, RT, nik, person, roster, write_csv, write_xlsx

runner = CliRunner()


def build(tmp_path: Path, *rosters: Path, **kw):
    """Run build-batch in-process with ``build_args``: (exit code, JSON report)."""
    result = runner.invoke(app, [*build_args(tmp_path, *rosters, **kw), "--format", "json"])
    assert result.stdout.strip().startswith("{"), (result.stdout, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir()) if out.exists() else []


def issues(doc: dict, code: str) -> list[dict]:
    return [i for i in doc["issues"] if i["code"] == code]


def xlsx_text(path: Path) -> str:
    """Every cell of a workbook jamsos wrote, as text, one line per row."""
    ws = load_workbook(path).active
    return "\n".join(" ".join(str(c) for c in row if c is not None) for row in ws.values)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shown(target: Target) -> str:
    """The ledger as every output names it: a path, or the URL with its password masked."""
    return str(locate(target.location))


# --- the batch folder ---------------------------------------------------------------------


def test_batch_folder_files_and_manifest(tmp_path: Path, target: Target) -> None:
    src = roster(tmp_path / "rt_sungai_panas.csv", range(3), bad=True)
    code, doc = build(tmp_path, src, ledger=target.location)
    assert code == 1  # one row rejected
    name = f"{RT}_2025-06_2025-12_001"
    assert folders(tmp_path / "out") == [name]
    folder = tmp_path / "out" / name
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["manifest.json", f"{name}_part001.xlsx", "rt_sungai_panas.rejects.xlsx"]
    )
    for p in folder.iterdir():
        assert oct(p.stat().st_mode & 0o777) == "0o600", p
    assert oct(folder.stat().st_mode & 0o777) == "0o700"

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["decree"], manifest["start"], manifest["end"]) == (RT, "2025-06", "2025-12")
    assert manifest["months"] == 7 and manifest["participants"] == 3
    assert manifest["premium_per_person_month"] == 16_800
    assert manifest["total_premium"] == 3 * 7 * 16_800 == 352_800
    assert manifest["inputs"] == [{"name": str(src), "rows": 4, "sha256": sha(src)}]
    by_name = {o["name"]: o for o in manifest["outputs"]}
    assert by_name[f"{name}_part001.xlsx"]["rows"] == 3
    assert by_name["rt_sungai_panas.rejects.xlsx"]["rows"] == 1
    for o in manifest["outputs"]:
        assert o["sha256"] == sha(folder / o["name"])
    assert manifest["by_code"]["NIK_FORMAT"] == 1
    assert manifest["ledger"] == shown(target)  # a URL with its password masked
    assert manifest["tool_version"] and manifest["run_at"]

    ws = load_workbook(folder / f"{name}_part001.xlsx").active
    header = [c.value for c in ws[1]]
    assert header[:5] == ["NIK", "NAMA LENGKAP", "TEMPAT LAHIR", "TANGGAL LAHIR", "JENIS KELAMIN"]
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == [nik(0), nik(1), nik(2)]  # input order
    assert ws["A2"].data_type == "s" and ws["A2"].number_format == "@"
    assert ws["D2"].value == person(0)[4]  # dd-mm-yyyy text
    assert ws.cell(2, header.index("NO HP") + 1).number_format == "@"
    assert ws.cell(2, header.index("IURAN PER BULAN") + 1).value == "16800"

    rejects = xlsx_text(folder / "rt_sungai_panas.rejects.xlsx")  # xlsx for a cp1252 roster
    assert "217110120580" in rejects and "NIK_FORMAT" in rejects  # sender's row, real value

    s = doc["summary"]
    assert (s["rows"], s["accepted"], s["rejected"], s["submitted"]) == (4, 3, 1, 3)
    assert s["ledger"] == shown(target) and s["ledger_new"] is True
    assert doc["batch"]["folder"] == str(folder) and doc["batch"]["written"] is True
    assert nik(0) not in json.dumps(doc)  # masked on screen
    assert PASSWORD not in json.dumps(doc) + (folder / "manifest.json").read_text()
    assert [r[2] for r in ledger_rows(target)] == [nik(0), nik(1), nik(2)]


def test_xlsx_roster_csv_batch_split_every_max_rows(tmp_path: Path) -> None:
    """NIK and phone typed into Excel as numbers: person 0's NIK ends in 0 (16th digit lost
    for all we know) and is sent back; the others are batched with their exact digits."""
    rows = [person(i) for i in range(6)]
    assert nik(0).endswith("0") and not any(nik(i).endswith("0") for i in range(1, 6))
    src = write_xlsx(
        tmp_path / "rt.xlsx",
        HEADERS,
        rows,
        title_rows=["DAFTAR KETUA RT"],
        numeric_columns={"NO", "NIK", "NO HP"},
    )
    code, doc = build(tmp_path, src, extra=("--batch-format", "csv", "--max-rows", "2"))
    assert code == 1
    assert [i["row"] for i in issues(doc, "NIK_PRECISION_LOST")] == [4]
    name = f"{RT}_2025-06_2025-12_001"
    folder = tmp_path / "out" / name
    parts = [f"{name}_part00{i}.csv" for i in (1, 2, 3)]
    assert [o["name"] for o in doc["batch"]["outputs"][:3]] == parts
    assert [o["rows"] for o in doc["batch"]["outputs"][:3]] == [2, 2, 1]
    got = pl.concat([pl.read_csv(folder / p, infer_schema=False) for p in parts])
    assert got.get_column("NIK").to_list() == [nik(i) for i in range(1, 6)]  # input order
    assert got.get_column("TANGGAL LAHIR").to_list() == [r[4] for r in rows[1:]]
    assert got.get_column("NO HP").to_list() == [r[11] for r in rows[1:]]  # leading 0 back
    (rejects,) = folder.glob("rt*.rejects.*")
    assert rejects.suffix == ".xlsx"
    ws = load_workbook(rejects).active  # the NIK cell still a number: the evidence travels
    assert ws["C2"].value == int(nik(0)) and ws["C2"].data_type == "n"
    assert "NIK_PRECISION_LOST" in ws.cell(2, ws.max_column).value


def test_text_report_names_the_ledger_and_the_folder(tmp_path: Path, target: Target) -> None:
    src = roster(tmp_path / "rt.csv", range(2))
    args = build_args(tmp_path, src, ledger=target.location, extra=("--lang", "en"))
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert f"New ledger created: {shown(target)}" in text
    assert "2 participants × 7 months × Rp 16,800 = Rp 235,200" in text
    assert "\x1b[" not in result.stdout  # no colour when not a TTY
    again = runner.invoke(app, args)
    text = " ".join(again.stdout.split())
    assert f"Ledger: {shown(target)}" in text
    assert "Nobody new to submit: no batch folder written" in text
    assert PASSWORD not in result.output + again.output


# --- the ledger across runs -----------------------------------------------------------------


def test_rerun_submits_nobody_and_a_delta_gets_its_own_folder(
    tmp_path: Path, target: Target
) -> None:
    first = roster(tmp_path / "rt.csv", range(3))
    assert build(tmp_path, first, ledger=target.location)[0] == 0
    code, doc = build(tmp_path, first, ledger=target.location)
    assert code == 0  # info, not a reject
    again = issues(doc, "ALREADY_SUBMITTED")
    assert [(i["row"], i["severity"]) for i in again] == [(4, "info"), (5, "info"), (6, "info")]
    assert f"{RT}_2025-06_2025-12_001" in again[0]["message"]
    assert doc["batch"] is None and doc["summary"]["submitted"] == 0
    assert folders(tmp_path / "out") == [f"{RT}_2025-06_2025-12_001"]

    delta = roster(tmp_path / "rt_juli.csv", range(5))  # the three again plus two new
    code, doc = build(tmp_path, delta, ledger=target.location)
    assert code == 0
    assert doc["summary"]["already_submitted"] == 3 and doc["batch"]["participants"] == 2
    assert folders(tmp_path / "out") == [f"{RT}_2025-06_2025-12_001", f"{RT}_2025-06_2025-12_002"]
    assert [r[2] for r in ledger_rows(target)] == [nik(i) for i in range(5)]

    listed = runner.invoke(app, ["ledger", "list", "--ledger", target.location, "--format", "json"])
    batches = json.loads(listed.stdout)["batches"]
    assert [(b["id"], b["participants"], b["status"]) for b in batches] == [
        (1, 3, "done"),
        (2, 2, "done"),
    ]


def test_already_enrolled_under_another_decree(tmp_path: Path, target: Target) -> None:
    """One person is an online driver and a ketua RT: the first decree recorded wins."""
    ojol = roster(tmp_path / "ojol.csv", range(2), role="Ojek online")
    assert build(tmp_path, ojol, decree=OJOL, ledger=target.location)[0] == 0
    rt = roster(tmp_path / "rt.csv", range(3))
    code, doc = build(tmp_path, rt, start="2025-09", ledger=target.location)
    assert code == 1
    enrolled = issues(doc, "ALREADY_ENROLLED")
    assert [(i["row"], i["severity"]) for i in enrolled] == [(4, "error"), (5, "error")]
    assert OJOL in enrolled[0]["message"]
    assert doc["batch"]["participants"] == 1
    rejects = xlsx_text(next((tmp_path / "out").glob(f"{RT}_*/rt.rejects.xlsx")))
    assert "ALREADY_ENROLLED" in rejects
    # coverage that does not overlap (next budget year) is fine
    code, doc = build(tmp_path, rt, start="2026-01", ledger=target.location)
    assert code == 0 and doc["batch"]["participants"] == 3


def test_quota_counts_people_already_in_the_ledger(tmp_path: Path, target: Target) -> None:
    config = tmp_path / "jamsos.toml"
    config.write_text(f'[quotas]\n"{RT}" = 3\n', encoding="utf-8")
    extra = ("--config", str(config))
    assert (
        build(tmp_path, roster(tmp_path / "a.csv", range(2)), extra=extra, ledger=target.location)[
            0
        ]
        == 0
    )
    code, doc = build(
        tmp_path, roster(tmp_path / "b.csv", range(2, 5)), extra=extra, ledger=target.location
    )
    assert code == 1
    over = issues(doc, "QUOTA_EXCEEDED")
    assert [i["row"] for i in over] == [5, 6]  # input order: the first new one still fits
    assert doc["batch"]["participants"] == 1
    code, doc = build(
        tmp_path, roster(tmp_path / "c.csv", [9]), extra=extra, ledger=target.location
    )
    assert code == 1 and doc["batch"] is None
    # another period does not count against this one
    code, doc = build(
        tmp_path,
        roster(tmp_path / "c.csv", [9]),
        start="2026-01",
        extra=extra,
        ledger=target.location,
    )
    assert code == 0 and doc["batch"]["participants"] == 1


def test_void_releases_a_batch_for_resubmission(tmp_path: Path, target: Target) -> None:
    src = roster(tmp_path / "rt.csv", range(2))
    build(tmp_path, src, ledger=target.location)
    ledger = target.location
    result = runner.invoke(
        app, ["ledger", "void", f"{RT}_2025-06_2025-12_001", "--ledger", ledger, "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / f"{RT}_2025-06_2025-12_001").is_dir()  # the folder is kept
    code, doc = build(tmp_path, src, ledger=target.location)
    assert code == 0 and doc["batch"]["participants"] == 2
    assert doc["batch"]["folder"].endswith("_002")  # never reuses the voided folder's name
    listed = json.loads(
        runner.invoke(app, ["ledger", "list", "--ledger", ledger, "--format", "json"]).stdout
    )
    assert [b["status"] for b in listed["batches"]] == ["voided", "done"]
    again = runner.invoke(app, ["ledger", "void", "1", "--ledger", ledger, "--yes"])
    # the status as a clerk reads it, in Indonesian (was: English "voided")
    assert again.exit_code == 2 and "berstatus dibatalkan" in again.stderr


def test_ledger_stats_and_export(tmp_path: Path, target: Target) -> None:
    build(tmp_path, roster(tmp_path / "a.csv", range(3)), ledger=target.location)
    build(
        tmp_path, roster(tmp_path / "b.csv", range(3, 5)), start="2025-09", ledger=target.location
    )
    ledger = target.location
    stats = json.loads(
        runner.invoke(app, ["ledger", "stats", "--ledger", ledger, "--format", "json"]).stdout
    )["stats"]
    assert [(s["start"], s["end"], s["people"], s["total_premium"]) for s in stats] == [
        ("2025-06", "2025-12", 3, 3 * 7 * 16_800),
        ("2025-09", "2025-12", 2, 2 * 4 * 16_800),
    ]
    export = tmp_path / "export" / "ledger.csv"
    result = runner.invoke(app, ["ledger", "export", str(export), "--ledger", ledger])
    assert result.exit_code == 0, result.output
    assert oct(export.stat().st_mode & 0o777) == "0o600"
    assert PASSWORD not in result.output
    assert export.read_bytes().startswith(b"\xef\xbb\xbfID_BATCH;")  # ; UTF-8 + BOM, for Excel
    back = pl.read_csv(export, separator=";", infer_schema=False)  # Indonesian headers
    assert back.get_column("NIK").to_list() == [nik(i) for i in range(5)]  # real values
    assert set(back.get_column("KEPUTUSAN")) == {RT}


# --- what must not happen -----------------------------------------------------------------


def test_dry_run_writes_nothing(tmp_path: Path, target: Target) -> None:
    src = roster(tmp_path / "rt.csv", range(3))
    out = tmp_path / "out"
    if target.sqlite:  # in a folder not made yet
        target.path = tmp_path / "data" / "ledger.sqlite"
        target.location = str(target.path)
    ledger = target.location

    def stored() -> tuple:
        mtime = target.path.stat().st_mtime_ns if target.sqlite and target.exists() else None
        return target.content(), mtime, folders(out)

    code, doc = build(tmp_path, src, out=out, ledger=ledger, extra=("--dry-run",))
    assert code == 0
    assert doc["summary"]["dry_run"] is True and doc["batch"]["written"] is False
    assert doc["batch"]["participants"] == 3 and doc["batch"]["total_premium"] == 352_800
    assert not out.exists() and not target.exists()
    if target.sqlite:
        assert not target.path.parent.exists()
    # with a ledger: read, not written
    build(tmp_path, roster(tmp_path / "one.csv", range(1)), out=out, ledger=ledger)
    before = stored()
    code, doc = build(tmp_path, src, out=out, ledger=ledger, extra=("--dry-run",))
    assert doc["summary"]["already_submitted"] == 1 and doc["batch"]["participants"] == 2
    assert stored() == before


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    """The same new ledger (restored from a copy, so the same id) each time: every file
    identical but the manifest's run_at."""
    src = roster(tmp_path / "rt.csv", range(4), bad=True)
    ledger = tmp_path / "ledger.sqlite"
    assert runner.invoke(app, ["ledger", "init", str(tmp_path / "fresh.sqlite")]).exit_code == 0
    for out in ("o1", "o2"):
        ledger.write_bytes((tmp_path / "fresh.sqlite").read_bytes())
        build(tmp_path, src, out=tmp_path / out, ledger=ledger)
    name = f"{RT}_2025-06_2025-12_001"
    a, b = tmp_path / "o1" / name, tmp_path / "o2" / name
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for p in a.iterdir():
        if p.name == "manifest.json":
            ma, mb = (json.loads(x.read_text(encoding="utf-8")) for x in (p, b / p.name))
            ma.pop("run_at"), mb.pop("run_at")
            assert ma == mb
        else:
            assert p.read_bytes() == (b / p.name).read_bytes(), p.name


@pytest.mark.parametrize(
    "case",
    [
        "unknown-decree",
        "bad-start",
        "end-before-start",
        "foreign-ledger",
        "out-is-a-file",
        "missing-column",
        "bad-max-rows",
        "missing-layout",
        "missing-roster",
        "missing-ledger",
        "emptied-ledger",
    ],
)
def test_bad_input_exit_2_nothing_written(tmp_path: Path, case: str) -> None:
    src = roster(tmp_path / "rt.csv", range(2))
    ledger = tmp_path / "ledger.sqlite"
    out = tmp_path / "out"
    args = {
        "decree": RT,
        "start": "2025-06",
        "end": None,
        "out": out,
        "rosters": [src],
        "extra": [],
    }
    if case == "unknown-decree":
        args["decree"] = "perwako-batam-99-2099"
    elif case == "bad-start":
        args["start"] = "06-2025"
    elif case == "end-before-start":
        args["end"] = "2025-05"
    elif case == "foreign-ledger":
        ledger.write_bytes(b"NIK;NAMA\n")
    elif case == "out-is-a-file":
        args["out"] = src / "sub"
    elif case == "missing-column":
        args["rosters"] = [src, write_csv(tmp_path / "nodob.csv", ["NIK", "NAMA"], [[nik(7), "X"]])]
    elif case == "bad-max-rows":
        args["extra"] = ["--max-rows", "0"]
    elif case == "missing-roster":
        args["rosters"] = [src, tmp_path / "nope.csv"]
    elif case == "missing-layout":
        args["extra"] = ["--layout", str(tmp_path / "nope.toml")]
    elif case == "emptied-ledger":
        ledger.write_bytes(b"")
    new_ledger = [] if case == "missing-ledger" else ["--new-ledger"]
    before = ledger.read_bytes() if ledger.exists() else None
    cmd = [
        "build-batch",
        *map(str, args["rosters"]),
        "--decree",
        args["decree"],
        "--start",
        args["start"],
        "--out",
        str(args["out"]),
        "--ledger",
        str(ledger),
        *new_ledger,
        *args["extra"],
    ]
    if args["end"]:
        cmd += ["--end", args["end"]]
    result = runner.invoke(app, cmd)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert folders(out) == []
    assert (ledger.read_bytes() if ledger.exists() else None) == before
    if case == "missing-column":
        assert "nodob.csv" in result.stdout and "HEADER_MISSING_COLUMN" in result.stdout
    elif case == "missing-roster":  # reported with the other inputs, like validate does
        assert "nope.csv" in result.stdout and "FILE_UNREADABLE" in result.stdout
    elif case == "missing-ledger":  # names both ways to make one; makes none
        assert f"jamsos ledger init {ledger}" in result.stderr and "--new-ledger" in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["rt.csv"]
    elif case == "emptied-ledger":
        assert "0 byte" in result.stderr and ledger.read_bytes() == b""
    else:
        assert result.stderr.startswith("jamsos: ")


def jamsos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([JAMSOS, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("locked", ["ledger", "out"])
def test_second_run_exits_3_while_a_lock_is_held(tmp_path: Path, locked: str) -> None:
    first = roster(tmp_path / "rt.csv", range(2))
    delta = roster(tmp_path / "rt2.csv", range(4))
    ledger, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    assert build(tmp_path, first)[0] == 0
    before = ledger.read_bytes()
    args = ["build-batch", str(delta), "--decree", RT, "--start", "2025-06", "--out", str(out)]
    args += ["--ledger", str(ledger)]
    holder = hold(tmp_path / "ledger.sqlite.lock" if locked == "ledger" else out / ".jamsos.lock")
    try:
        result = jamsos(*args)
        assert result.returncode == 3, result.stderr
        assert "perintah jamsos lain sedang memakai" in result.stderr  # Indonesian (exit 3)
        assert ledger.read_bytes() == before and folders(out) == [f"{RT}_2025-06_2025-12_001"]
        # reading the ledger does not wait for the run; changing it does
        listed = jamsos("ledger", "list", "--ledger", str(ledger), "--format", "json")
        assert listed.returncode == 0 and len(json.loads(listed.stdout)["batches"]) == 1
        if locked == "ledger":
            assert jamsos("ledger", "void", "1", "--ledger", str(ledger), "--yes").returncode == 3
    finally:
        holder.kill()
        holder.wait()
    # the killed holder blocks nothing
    assert jamsos(*args).returncode == 0
    assert folders(out) == [f"{RT}_2025-06_2025-12_001", f"{RT}_2025-06_2025-12_002"]


def test_config_supplies_ledger_out_format_and_group_permissions(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "jamsos.toml"
    config.parent.mkdir()
    config.write_text(
        'ledger = "../var/ledger.sqlite"\nout_dir = "../batches"\n'
        'batch_format = "csv"\ngroup_readable = true\n',
        encoding="utf-8",
    )
    src = roster(tmp_path / "rt.csv", range(2))
    result = runner.invoke(
        app,
        [
            "build-batch",
            str(src),
            "--decree",
            RT,
            "--start",
            "2025-06",
            "--config",
            str(config),
            "--new-ledger",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ledger = tmp_path / "var" / "ledger.sqlite"
    assert doc["summary"]["ledger"] == str(ledger)
    folder = Path(doc["batch"]["folder"])
    assert folder.parent == tmp_path / "batches"
    assert oct(ledger.stat().st_mode & 0o777) == "0o640"
    for p in folder.iterdir():
        assert p.suffix in (".csv", ".json", ".xlsx") and oct(p.stat().st_mode & 0o777) == "0o640"


def test_default_ledger_is_in_the_user_data_folder(tmp_path: Path) -> None:
    src = roster(tmp_path / "rt.csv", range(1))
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    result = runner.invoke(
        app,
        [
            "build-batch",
            str(src),
            "--decree",
            RT,
            "--start",
            "2025-06",
            "--out",
            str(tmp_path / "out"),
            "--new-ledger",
            "--format",
            "json",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    expected = tmp_path / "xdg" / "jamsos" / "ledger.sqlite"
    assert json.loads(result.stdout)["summary"]["ledger"] == str(expected) and expected.exists()
