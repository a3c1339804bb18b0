"""``--format json``'s big tables are written by Polars (``render.documents``), not by
``json.dumps`` over a dict per finding, and the document must stay byte for byte what
``json.dumps(doc, ensure_ascii=False, indent=2)`` writes: key order, escaping of control
characters, quotes and backslashes, non-ASCII kept as it is, nulls, integers, indentation,
empty lists.

The CLI tests compare the command's output with ``json.dumps`` of the same document parsed
back (``json.loads`` keeps key order, and every value of these documents survives the round
trip), which is what the command printed before the native writer.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from jamsos_cli.cli import app
from jamsos_cli.render import documents
from tests import synthetic
from tests.helpers import build_args

runner = CliRunner()
TRANSPORT = "perwako-batam-30-2025"

# Every control character, quotes, backslash, slash, DEL, non-ASCII of every plane,
# the line and paragraph separators JavaScript chokes on, and text that looks like JSON.
AWKWARD = [
    "".join(chr(c) for c in range(32)),
    'a "quoted" \\ back\\slash / slash',
    "\x7f\x80\x9f\xa0 Siti Nurhaliza é Ñ ü ß",
    "李小龍 · Nguyễn Văn Ánh · 🙂👍🏽 · \U0010fffd",
    "\u2028\u2029\ufeff\u200b",
    '{"issues": []}, "x": null',
    "",
    None,
]


def native(doc: dict) -> str:
    """The document as ``documents.write`` prints it (without the final newline)."""
    return b"".join(documents.chunks(doc)).decode("utf-8")


def old_dumps(doc: dict) -> str:
    """The document with each table a list of dicts, through ``json.dumps``."""
    plain = {k: v.to_dicts() if isinstance(v, pl.DataFrame) else v for k, v in doc.items()}
    return json.dumps(plain, ensure_ascii=False, indent=2)


@pytest.fixture
def table() -> pl.DataFrame:
    n = len(AWKWARD)
    return pl.DataFrame(
        {
            "file": AWKWARD,
            "row": [1, None, -5, 2**62, 0, 7, None, 3],
            "code": ["NIK_FORMAT"] * n,
            "ok": [True, False, None, True, False, True, None, False],
            "value": list(reversed(AWKWARD)),
        },
        schema={"file": pl.Utf8, "row": pl.Int64, "code": pl.Utf8, "ok": pl.Boolean,
                "value": pl.Utf8},
    )  # fmt: skip


@pytest.mark.parametrize("where", ["first", "middle", "last", "absent"])
def test_same_bytes_as_json_dumps_wherever_the_table_sits(table, where):
    doc = {"summary": {"rows": 3, "by_code": {"NIK_FORMAT": 8}, "note": AWKWARD[0], "x": 1.5}}
    if where == "first":
        doc = {"issues": table, **doc}
    elif where == "middle":
        doc = {**doc, "issues": table, "batch": {"outputs": [], "dry_run": False, "n": None}}
    elif where == "last":
        doc["issues"] = table
    assert native(doc) == old_dumps(doc)


def test_same_bytes_with_two_tables_an_empty_table_and_across_chunks(table, monkeypatch):
    doc = {"summary": {"rows": 0}, "issues": table.head(0), "batch": None}
    assert native(doc) == old_dumps(doc)
    monkeypatch.setattr(documents, "ROWS_PER_CHUNK", 3)  # 8 rows: chunks of 3, 3 and 2
    doc = {"pairs": table.head(1), "summary": {"rows": 8}, "issues": table}
    assert native(doc) == old_dumps(doc)


def test_floats_are_refused_not_written_differently(table):
    # Polars writes 1e16 as 1e16 where json.dumps writes 1e+16: no float column gets through
    with pytest.raises(TypeError, match="score"):
        native({"t": table.with_columns(score=pl.lit(1e16))})


@pytest.fixture(scope="module")
def every_code_roster(tmp_path_factory) -> Path:
    """A synthetic transport roster where most rows carry a planted defect (every kind the
    generator knows), people typed twice, and names in scripts beyond ASCII."""
    people = synthetic.generate_people(300, seed=18, group="transport")
    messy = synthetic.mess_up(people, seed=19, defect_rate=0.6, dup_rate=0.2)
    foreign = ["Nguyễn Văn Ánh", "Zoë d'Almeida", "李小龍", 'Budi "Boy" Santoso', "Ñoño\\Siregar"]
    messy = messy.with_columns(
        name=pl.when(pl.int_range(pl.len()) % 7 == 0)
        .then(pl.lit(pl.Series(foreign)).gather(pl.int_range(pl.len()) % len(foreign)))
        .otherwise(pl.col("name"))
    )
    path = tmp_path_factory.mktemp("json") / "roster_ñ.csv"
    synthetic.write_csv(messy, path)
    return path


def assert_json_dumps_bytes(text: str) -> dict:
    doc = json.loads(text)
    assert text == json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    return doc


def test_validate_json_is_the_json_dumps_document(every_code_roster):
    res = runner.invoke(
        app,
        ["validate", str(every_code_roster), "--decree", TRANSPORT, "--as-of", "2025-06-01",
         "--format", "json"],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    doc = assert_json_dumps_bytes(res.stdout)
    codes = {issue["code"] for issue in doc["issues"]}
    # a wide spread of codes, row codes, decree codes and duplicates among them
    for code in ("NIK_FORMAT", "NIK_DOB_MISMATCH", "DOB_FORMAT", "PHONE_FORMAT",
                 "KELURAHAN_UNKNOWN", "ROLE_NOT_ELIGIBLE", "AGE_OUT_OF_RANGE",
                 "NIK_DUPLICATE", "NEAR_DUPLICATE", "NIK_OUTSIDE_CITY"):  # fmt: skip
        assert code in codes
    assert len(codes) >= 20
    assert doc["summary"]["by_code"] == {
        c: sum(1 for i in doc["issues"] if i["code"] == c) for c in sorted(codes)
    }
    assert any(i["value"] is None for i in doc["issues"])  # nulls stay null
    assert "roster_ñ.csv" in res.stdout  # non-ASCII written as it is, not \u-escaped
    assert list(doc["issues"][0]) == [
        "file", "sheet", "row", "column", "code", "severity", "message", "value",
    ]  # fmt: skip


def test_build_batch_json_is_the_json_dumps_document(every_code_roster, tmp_path):
    args = build_args(tmp_path, every_code_roster, decree=TRANSPORT, extra=("--format", "json"))
    res = runner.invoke(app, [*args, "--batch-format", "csv"])
    assert res.exit_code == 1, res.output
    doc = assert_json_dumps_bytes(res.stdout)
    assert list(doc) == ["summary", "issues", "batch"]
    assert doc["batch"]["written"] is True
    assert doc["summary"]["rejected"] == len(
        {(i["file"], i["row"]) for i in doc["issues"] if i["severity"] == "error"}
    )


def test_dedupe_json_is_the_json_dumps_document(every_code_roster, tmp_path):
    # a file that cannot be used: its issues are the document's table, beside the pairs
    no_nik = tmp_path / "tanpa_nik_ñ.csv"
    no_nik.write_text('NO;NAMA;TGL LAHIR\n1;"Budi ""Boy""";\n', encoding="utf-8")
    made = runner.invoke(app, ["ledger", "init", str(tmp_path / "none.sqlite")])
    assert made.exit_code == 0, made.output
    res = runner.invoke(
        app,
        ["dedupe", str(every_code_roster), str(no_nik), "--format", "json",
         "--ledger", str(tmp_path / "none.sqlite")],
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    doc = assert_json_dumps_bytes(res.stdout)
    assert list(doc) == ["summary", "pairs", "paid_twice", "issues"]
    assert len(doc["pairs"]) > 10  # the people typed twice
    assert [(i["file"], i["code"]) for i in doc["issues"]] == [
        (str(no_nik), "HEADER_MISSING_COLUMN")
    ]
