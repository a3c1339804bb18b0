"""Personal data (SPEC §8): every command is run on rosters with known NIKs and phone numbers,
and none of them appears unmasked on stdout, stderr, in a log file or a JSON report unless
``--show-pii`` (with it they do appear, so this test can fail). Files that hold the real
values (batches, rejects, the ledger, exports, the review file) and the log are created
owner-only (0600, folders 0700) whatever the umask, and no input file is ever modified.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from jamsos_cli.cli import app
from tests.rosters import HEADERS, RT, nik, person, roster, write_xlsx
from tests.test_fuzz import Run, assert_clean, invoke

MASKED_NIK = re.compile(r"\b\d{4}\*{8}\d{4}\b")


@dataclass
class Output:
    command: str
    run: Run
    log: str


def cleanup_log_handlers() -> None:
    """--log-file adds a handler to the 'jamsos' logger; in-process runs must not share it."""
    logger = logging.getLogger("jamsos")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def people_rows() -> list[list[str]]:
    """People 0-5 (person 0's NIK ends in 0) with phones typed every way senders type them."""
    rows = [person(i) for i in range(6)]
    phone = HEADERS.index("NO HP")
    rows[1][phone] = "+62 " + rows[1][phone][1:4] + "-" + rows[1][phone][4:]  # +62 812-...
    rows[2][phone] = rows[2][phone][:4] + " " + rows[2][phone][4:8] + " " + rows[2][phone][8:]
    rows[3][phone] = rows[3][phone][:7]  # too short: PHONE_FORMAT quotes it
    return rows


def phone_forms(typed: str) -> set[str]:
    """How a phone number could show up: as typed, its digits, 08xx, 628xx."""
    digits = re.sub(r"\D", "", typed)
    local = "0" + digits[2:] if digits.startswith("62") else digits
    forms = {typed, digits, local}
    if len(local) >= 10:
        forms |= {"62" + local[1:], "+62" + local[1:]}
    return {f for f in forms if len(f) >= 7}


@dataclass
class World:
    tmp: Path
    outputs: list[Output]
    niks: set[str]
    phones: set[str]
    inputs_before: dict[Path, tuple[str, int]]
    files: dict[str, Path]
    show_pii: dict[str, Run]


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Every command, once, on the same rosters, under umask 0 (so every mode below is set
    by jamsos itself, not inherited from a friendly umask)."""
    tmp = tmp_path_factory.mktemp("pii")
    rows = people_rows()
    csv_src = roster(tmp / "rt_sungai_panas.csv", range(6), bad=True)  # cp1252, ';'
    csv_src.write_bytes(csv_src.read_bytes().replace(person(2)[11].encode(), rows[2][11].encode()))
    xlsx_rows = [person(i) for i in (6, 7)] + [rows[1], rows[3]]  # 1: NIK_DUPLICATE
    xlsx_rows.append([*person(8)[:1], nik(6), *person(8)[2:]])  # same NIK, another person
    near = person(7)
    near[1] = near[1][:-1] + "9"  # person 7 again, NIK mistyped: a likely duplicate
    xlsx_rows.append(near)
    xlsx_src = write_xlsx(tmp / "ojol.xlsx", HEADERS, xlsx_rows, numeric_columns={"NIK", "NO HP"})
    delta = roster(tmp / "delta.csv", range(9, 11))
    swapped = tmp / "swapped.csv"  # a sender's columns in the wrong order: NIKs where
    swapped.write_bytes(  # the name, the birth date and the phone should be
        f"NIK;NAMA;TGL LAHIR;NO HP\r\nBudi;{nik(11)};{nik(12)};{nik(13)}\r\n".encode()
    )
    all_rows = rows + xlsx_rows + [person(i) for i in range(6, 14)]
    niks = {r[1] for r in all_rows if len(r[1]) == 16} | {"217110120580"}  # the bad one
    phones = set().union(*(phone_forms(r[11]) for r in all_rows))
    decisions = tmp / "decisions.csv"  # a clerk's review file with a NIK mangled by Excel
    decisions.write_bytes(
        f"NIK A;NIK B;KEPUTUSAN (SAMA/BEDA)\r\n{nik(1)};{nik(2)}x;SAMA\r\n".encode()
    )
    inputs = [csv_src, xlsx_src, delta, swapped, decisions]
    before = {p: fingerprint(p) for p in inputs}

    ledger = tmp / "data" / "ledger.sqlite"
    out = tmp / "batches"
    log = tmp / "logs" / "jamsos.log"
    log.parent.mkdir()
    files = {
        "log": log,
        "ledger": ledger,
        "ledger_dir": ledger.parent,
        "out": out,
        "rejects_dir": tmp / "rejects",
        "rejects_file": tmp / "single.rejects.xlsx",
        "export_csv": tmp / "exports" / "people.csv",
        "export_xlsx": tmp / "people.xlsx",
        "review": tmp / "review.xlsx",
        "template": tmp / "template.xlsx",
        "report": tmp / "reports" / "report.html",
        "recap": tmp / "reports" / "recap.xlsx",
        "berita_acara": tmp / "reports" / "ba.html",
        "report_names": tmp / "reports" / "report-names.html",
    }
    build = ["build-batch", csv_src, xlsx_src, "--decree", RT, "--start", "2025-06"]
    build += ["--out", out, "--ledger", ledger, "--new-ledger"]
    commands = {
        "validate text": ["validate", csv_src, xlsx_src, "--log-file", log],
        "validate json": ["validate", csv_src, xlsx_src, "--format", "json", "--log-file", log],
        "validate decree rejects folder": [
            "validate", csv_src, xlsx_src, "--decree", RT, "--rejects", files["rejects_dir"],
            "--lang", "en", "--log-file", log,
        ],
        "validate swapped columns": ["validate", swapped, "--log-file", log],
        "validate swapped columns json": ["validate", swapped, "--format", "json"],
        "validate rejects file json": [
            "validate", xlsx_src, "--decree", RT, "--rejects", files["rejects_file"],
            "--format", "json",
        ],
        "build-batch dry-run text": [*build, "--dry-run", "--log-file", log],
        "build-batch dry-run json": [*build, "--dry-run", "--format", "json", "--log-file", log],
        "build-batch text": [*build, "--log-file", log],
        "build-batch again json": [*build, "--format", "json", "--log-file", log],
        "build-batch delta json": [
            "build-batch", delta, xlsx_src, "--decree", RT, "--start", "2025-06", "--out", out,
            "--ledger", ledger, "--new-ledger", "--format", "json", "--log-file", log,
        ],
        "dedupe text": ["dedupe", csv_src, xlsx_src, "--ledger", ledger, "--log-file", log,
                        "--review", files["review"]],
        "dedupe json": ["dedupe", csv_src, xlsx_src, "--ledger", ledger, "--format", "json",
                        "--log-file", log],
        "dedupe bad decisions": ["dedupe", csv_src, "--ledger", ledger, "--decisions", decisions],
        "decrees": ["decrees"],
        "decrees one json": ["decrees", RT, "--format", "json"],
        "template": ["template", "--decree", RT, files["template"]],
        "ledger list": ["ledger", "list", "--ledger", ledger],
        "ledger list json": ["ledger", "list", "--ledger", ledger, "--format", "json"],
        "ledger stats": ["ledger", "stats", "--ledger", ledger],
        "ledger stats json": ["ledger", "stats", "--ledger", ledger, "--format", "json"],
        "ledger export csv": ["ledger", "export", files["export_csv"], "--ledger", ledger],
        "ledger export xlsx": ["ledger", "export", files["export_xlsx"], "--ledger", ledger],
        "ledger void": ["ledger", "void", "2", "--ledger", ledger, "--yes"],
        "ledger end": ["ledger", "end", nik(0), "--from", "2025-09", "--reason", "pindah",
                       "--ledger", ledger],
        "ledger end json": ["ledger", "end", nik(1), "--from", "2025-10", "--reason", "lainnya",
                            "--ledger", ledger, "--format", "json"],
        "ledger person": ["ledger", "person", nik(0), "--ledger", ledger],
        "ledger person json": ["ledger", "person", nik(0), "--ledger", ledger, "--format", "json"],
        "ledger list status json": ["ledger", "list", "--status", "ended", "--ledger", ledger,
                                    "--format", "json"],
        "ledger list status": ["ledger", "list", "--status", "submitted", "--ledger", ledger],
        "ledger log": ["ledger", "log", "--ledger", ledger],
        "ledger log json": ["ledger", "log", "--ledger", ledger, "--format", "json"],
        "validate against the ledger json": ["validate", csv_src, "--ledger", ledger,
                                             "--as-of", "2025-10-01", "--format", "json",
                                             "--log-file", log],
        "report": ["report", "--ledger", ledger, "--out", files["report"], "--xlsx",
                   files["recap"], "--berita-acara", files["berita_acara"], "--batch", "1",
                   "--log-file", log],
        "report names": ["report", "--ledger", ledger, "--out", files["report_names"],
                         "--show-pii", "--lang", "en"],
    }  # fmt: skip
    pii = {
        "validate json": ["validate", csv_src, xlsx_src, "--format", "json", "--show-pii"],
        "validate swapped columns": ["validate", swapped, "--show-pii"],
        "validate text": ["validate", csv_src, xlsx_src, "--show-pii"],
        "build-batch dry-run json": [*build, "--dry-run", "--format", "json", "--show-pii"],
        "dedupe json": ["dedupe", csv_src, xlsx_src, "--ledger", ledger, "--format", "json",
                        "--show-pii"],
    }  # fmt: skip
    wide = {"COLUMNS": "250"}  # no wrapping: a NIK folded over two lines would hide from us
    old_umask = os.umask(0)
    outputs: list[Output] = []
    try:
        for name, args in commands.items():
            size = log.stat().st_size if log.exists() else 0
            run = invoke(args, env=wide)
            cleanup_log_handlers()
            text = log.read_text(encoding="utf-8")[size:] if log.exists() else ""
            outputs.append(Output(name, run, text))
        shown = {name: invoke(args, env=wide) for name, args in pii.items()}
    finally:
        os.umask(old_umask)
        cleanup_log_handlers()
    return World(tmp, outputs, niks, phones, before, files, shown)


def test_every_command_ran_as_a_user_would(world: World) -> None:
    expected = {
        "validate text": 1,
        "build-batch text": 1,
        "build-batch again json": 1,
        "dedupe text": 1,
        "decrees": 0,
        "template": 0,
        "ledger export csv": 0,
        "ledger void": 0,
        "dedupe bad decisions": 2,
    }
    for out in world.outputs:
        assert_clean(out.run, allowed=(expected.get(out.command, out.run.code),))
        assert out.run.code in (0, 1) or out.command == "dedupe bad decisions", out.run.stderr
    by_name = {o.command: o for o in world.outputs}
    assert json.loads(by_name["build-batch again json"].run.stdout)["summary"]["already_submitted"]
    delta = json.loads(by_name["build-batch delta json"].run.stdout)
    assert delta["batch"]["written"] and delta["summary"]["submitted"] == 2
    assert by_name["dedupe json"].run.code == 1  # pairs were found and reported


def leaks(text: str, world: World) -> list[str]:
    found = [n for n in world.niks if n in text or (len(n) == 16 and n[4:12] in text)]
    return found + [p for p in world.phones if p in text]


def test_no_nik_or_phone_on_screen_in_logs_or_json(world: World) -> None:
    for out in world.outputs:
        for stream, text in (("stdout", out.run.stdout), ("stderr", out.run.stderr)):
            assert not leaks(text, world), f"{out.command} {stream}: {leaks(text, world)}"
        assert not leaks(out.log, world), f"{out.command} log: {leaks(out.log, world)}"
    logged = world.files["log"].read_text(encoding="utf-8")
    assert "validate" in logged and "build-batch" in logged and "dedupe" in logged
    # the NIKs were there to leak: shown masked
    masked = "".join(o.run.stdout for o in world.outputs if o.command.startswith("validate"))
    assert len(set(MASKED_NIK.findall(masked))) >= 3


def test_show_pii_shows_them(world: World) -> None:
    """The control: the same reports with --show-pii do contain the real values."""
    for name, run in world.show_pii.items():
        assert run.code in (0, 1), (name, run.stderr)
        assert leaks(run.stdout, world), f"{name} --show-pii shows no NIK or phone"
    validate = world.show_pii["validate json"].stdout
    assert nik(6) in validate  # the duplicated NIK
    assert "217110120580" in validate  # the NIK that lost digits


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_files_with_personal_data_are_owner_only(world: World) -> None:
    f = world.files
    folders = [f["ledger_dir"], f["out"], f["rejects_dir"], f["export_csv"].parent]
    folders += [p for p in f["out"].iterdir() if p.is_dir()]
    assert len(folders) == 6  # two batch folders (the first one later voided)
    for folder in folders:
        assert mode(folder) == "0o700", folder
    private = [f["log"], f["ledger"], f["rejects_file"], f["export_csv"], f["export_xlsx"]]
    private += [f["review"], *f["rejects_dir"].iterdir()]
    private += [p for p in f["out"].rglob("*") if p.is_file()]  # batches, rejects, manifests
    private += list(f["ledger_dir"].iterdir())  # the ledger and its lock
    assert len(private) > 12
    for path in private:
        assert mode(path) == "0o600", path


def test_the_template_holds_no_personal_data(world: World) -> None:
    """The one file jamsos writes readable by others (a blank form for senders, by design):
    nobody else can write it, and it carries nothing about anyone."""
    template = world.files["template"]
    assert stat.S_IMODE(template.stat().st_mode) & 0o022 == 0
    import zipfile

    with zipfile.ZipFile(template) as z:
        text = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert not leaks(text, world)


def test_inputs_are_never_modified(world: World) -> None:
    """sha256 and mtime of every roster, before and after every command above."""
    assert {p: fingerprint(p) for p in world.inputs_before} == world.inputs_before
    # and nothing was written beside them but what we asked for
    names = {p.name for p in world.tmp.iterdir()}
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]


def test_app_has_no_command_left_out() -> None:
    """When a command is added, add it to the world above."""
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}
    assert names == {"validate", "decrees", "template", "build-batch", "ledger", "dedupe", "report"}


def test_masks_hide_the_middle_of_values_of_every_length() -> None:
    """NIK: first and last 4 kept (short values: first 2); phone: first 4 and last 3 (short
    values: all hidden); the stars are as many as the hidden characters, up to a 1,000-digit
    cell pasted into a NIK column."""
    import polars as pl

    from jamsos_cli.render.mask import mask_nik_expr, mask_phone_expr

    values = ["7" * n for n in [*range(0, 70), 1000]] + ["2171ÄÖ56789012345"]
    frame = pl.DataFrame({"v": values})
    masked = frame.select(nik=mask_nik_expr(pl.col("v")), phone=mask_phone_expr(pl.col("v")))
    for v, hidden, phone in zip(values, masked["nik"], masked["phone"], strict=True):
        n = len(v)
        assert hidden == (v[:4] + "*" * (n - 8) + v[-4:] if n >= 9 else v[:2] + "*" * max(n - 2, 0))
        assert phone == (v[:4] + "*" * (n - 7) + v[-3:] if n >= 8 else "*" * n)


def test_the_report_holds_no_nik_or_phone(world: World) -> None:
    """The office head's page, recap and Berita Acara: no NIK and no phone, not even with
    --show-pii (which only names the people of pairs decided SAME and both paid)."""
    import zipfile

    f = world.files
    with zipfile.ZipFile(f["recap"]) as z:
        recap = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    for text in (
        recap,
        *(f[k].read_text(encoding="utf-8") for k in ("report", "berita_acara", "report_names")),
    ):
        assert not leaks(text, world)
    assert "Premium per month" in f["report_names"].read_text(encoding="utf-8")
    for key in ("report", "recap", "berita_acara"):
        assert mode(f[key]) == "0o600", key  # written like every file jamsos writes
