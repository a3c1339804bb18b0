"""The one JSON document of each command (``--format json``), built here and nowhere else:
what cron jobs and scripts read. ``write`` prints it: one document on stdout, UTF-8, nothing
else there. Messages inside are in the run's language; personal data masked unless
``--show-pii`` (``render.mask``).

A big table of a document (the ``issues`` of a million-row run: a million findings or more)
is a Polars frame among its top-level values, and is written without a Python object per
row. Built the obvious way (``DataFrame.to_dicts()`` then ``json.dumps``) that is a dict per
finding: most of the run's time and three times its memory. Here the small part of the
document still goes through ``json.dumps``; each table's rows are encoded by Polars
(``struct.json_encode`` escapes exactly as ``json.dumps(..., ensure_ascii=False)`` does),
laid out with the same indentation a slice of rows at a time, and leave Polars as UTF-8
bytes straight to stdout. The document is byte for byte what ``json.dumps`` of it with each
table as ``table.to_dicts()`` gives (``ensure_ascii=False, indent=2``).
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jamsos_cli.texts import Lang, resolve

if TYPE_CHECKING:
    import polars as pl

    from jamsos_cli.build import BuildResult
    from jamsos_cli.decrees import Decree
    from jamsos_cli.dedupe import DedupeResult
    from jamsos_cli.findings import Summary

ROWS_PER_CHUNK = 50_000  # table rows encoded at a time: bounds the text held in memory


def write(doc: dict[str, Any], *, indent: int | None = 2, show_pii: bool = False) -> None:
    """Print the document on stdout (every command's JSON goes through here), as it is made
    (a JSON report of a million findings is ~300 MB): straight to stdout's bytes when stdout
    is UTF-8, else through its encoding. Every string of the document's small part is masked
    here (``render.mask.mask_json``) unless ``show_pii``; its tables come masked, by Polars
    (``render.mask.masked_findings``)."""
    if not show_pii:
        from jamsos_cli.render.mask import mask_json

        doc = {key: value if _is_frame(value) else mask_json(value) for key, value in doc.items()}
    out = sys.stdout
    binary = getattr(out, "buffer", None)
    if (out.encoding or "").lower().replace("-", "") != "utf8":
        binary = None
    out.flush()
    for chunk in chunks(doc, indent=indent):
        if binary is not None:
            binary.write(chunk)
        else:
            out.write(bytes(chunk).decode("utf-8"))
    if binary is not None:
        binary.write(b"\n")
        binary.flush()
    else:
        out.write("\n")


def chunks(doc: dict[str, Any], *, indent: int | None = 2) -> Iterator[bytes | memoryview]:
    """The UTF-8 bytes of ``json.dumps(doc, ensure_ascii=False, indent=indent)``, in pieces,
    where a top-level value that is a Polars frame stands for ``frame.to_dicts()``."""
    tables = {key: value for key, value in doc.items() if _is_frame(value)}
    if tables and indent != 2:
        raise ValueError("a document with tables is laid out with indent=2")
    holes = {key: f"jamsos-table-{uuid.uuid4().hex}" for key in tables}  # in no text of doc
    text = json.dumps(
        {key: holes.get(key, value) for key, value in doc.items()},
        ensure_ascii=False,
        indent=indent,
    )
    for key, table in tables.items():  # the holes come in the document's key order
        head, text = text.split(json.dumps(holes[key]), 1)
        yield head.encode("utf-8")
        yield from _table_chunks(table)
    yield text.encode("utf-8")


def _is_frame(value: Any) -> bool:
    """A Polars frame (without importing Polars: ``jamsos decrees`` runs without it)."""
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(value, pl.DataFrame)


def _table_chunks(table: pl.DataFrame) -> Iterator[bytes | memoryview]:
    """A list of objects at depth 1 of an ``indent=2`` document: ``[`` ... ``  ]``."""
    import polars as pl

    if table.height == 0:
        yield b"[]"
        return
    for name, dtype in table.schema.items():
        # the types whose JSON Polars writes as Python does (floats are not: 1e+16 vs 1e16)
        if not (dtype.is_integer() or dtype in (pl.String, pl.Boolean)):
            raise TypeError(f"column {name!r} ({dtype}): only text, integers and booleans")
    items = table.lazy().select(_object_expr(table.columns))
    yield b"[\n"
    for offset in range(0, table.height, ROWS_PER_CHUNK):
        # one object per "line", written by Polars' CSV writer as it is (no quoting, one
        # column): the text never becomes a Python string
        buf = io.BytesIO()
        chunk = items.slice(offset, ROWS_PER_CHUNK).collect()
        chunk.write_csv(buf, include_header=False, quote_style="never", line_terminator=",\n")
        last = offset + ROWS_PER_CHUNK >= table.height
        yield buf.getbuffer()[: -2 if last else None]  # no comma after the last
    yield b"\n  ]"


def _object_expr(columns: list[str]) -> pl.Expr:
    """Each row as ``json.dumps`` lays out an object at depth 2 (keys indented 6 spaces)."""
    import polars as pl

    parts: list[pl.Expr] = []
    for i, name in enumerate(columns):
        lead = "    {\n" if i == 0 else ",\n"
        parts += [pl.lit(f"{lead}      {json.dumps(name, ensure_ascii=False)}: "), _value(name)]
    parts.append(pl.lit("\n    }"))
    return pl.concat_str(parts)


def _value(name: str) -> pl.Expr:
    """The column's value as JSON (``null`` for a null): Polars encodes ``{"name":value}``,
    and the key is cut off."""
    import polars as pl

    prefix = len(json.dumps({name: None}, ensure_ascii=False, separators=(",", ":"))) - len("null}")
    encoded = pl.struct(pl.col(name)).struct.json_encode()
    return encoded.str.slice(prefix).str.strip_suffix("}")


def validate(
    summary: Summary,
    findings: pl.DataFrame,
    lang: Lang,
    show_pii: bool,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``jamsos validate``: ``summary`` (with ``extra``) and ``issues`` (a table: written by
    Polars, never a dict per finding)."""
    from jamsos_cli.render.findings import issues_for_output

    doc: dict[str, Any] = {"summary": summary.as_dict()}
    if extra:
        doc["summary"].update(extra)
    doc["issues"] = issues_for_output(findings, lang, show_pii)
    return doc


def build_batch(result: BuildResult, lang: Lang, show_pii: bool) -> dict[str, Any]:
    """``jamsos build-batch``: the validate document's ``summary`` (plus the batch's facts)
    and ``issues``, and ``batch``."""
    req = result.request
    extra = {
        "decree": req.decree.id,
        "start": req.period.start_label,
        "end": req.period.end_label,
        "months": req.period.months,
        "as_of": req.period.first_day.isoformat(),
        "ledger": str(req.ledger),
        "ledger_new": result.ledger_new,
        "dry_run": req.dry_run,
        "submitted": result.submitted,
        "already_submitted": result.already_submitted,
        **({"renewal": result.renewal} if result.renewal is not None else {}),
        "recovered": [resolve(note, lang) for note in result.recovered],
    }
    doc = validate(result.summary, result.findings, lang, show_pii, extra)
    doc["batch"] = result.batch
    return doc


def dedupe(result: DedupeResult, lang: Lang, show_pii: bool) -> dict[str, Any]:
    """``jamsos dedupe``: ``{"summary", "pairs", "issues"}``; ``pairs[i]`` holds ``a``/``b``
    (file, sheet, row, name, nik), ``group`` (decide / exact / in_ledger), ``kind``, ``score``
    (100 x the probability of one person, one decimal), ``reasons`` (stable keys),
    ``explanation`` (in ``lang``, each comparison's weight in words), ``match_weight``,
    ``alternatives`` (the probabilities of twins and of family), ``evidence`` (the waterfall:
    prior, then per comparison its level, m, u and weight log2 m/u) and ``decision``;
    ``summary.model`` the fitted parameters (m, u, lambda, the EM's run); ``paid_twice`` the
    persons paid twice (a pair decided SAMA, both in live batches): ``keep`` and ``withdraw``
    (nik, batch, source) and the ``command`` that withdraws the later one (NIK masked unless
    ``show_pii``); ``issues`` the inputs that could not be used."""
    import polars as pl

    from jamsos_cli.render.dedupe import paid_twice_table, pair_table, summary
    from jamsos_cli.render.findings import issues_for_output

    table = pair_table(result, lang, show_pii)
    side = ("file", "sheet", "row", "name", "nik")
    pairs = table.select(
        a=pl.struct(**{k: pl.col(f"a_{k}") for k in side}),
        b=pl.struct(**{k: pl.col(f"b_{k}") for k in side}),
        group="group",
        kind="kind",
        score="probability",
        reasons="reasons",
        explanation="explanation",
        match_weight="match_weight",
        alternatives=pl.when(pl.col("kind") == "near").then(
            pl.struct(twins="p_twins", family="p_family")
        ),
        evidence="evidence",
        decision="decision",
    )
    file_level = result.run.findings.filter(pl.col("rid").is_null())
    roles = ("keep", "withdraw")
    paid = paid_twice_table(result, lang, show_pii).select(
        *(
            pl.struct(**{k: pl.col(f"{r}_{k}") for k in ("nik", "batch", "source")}).alias(r)
            for r in roles
        ),
        "reason",
        "command",
    )
    return {
        "summary": summary(result),
        "pairs": pairs.to_dicts(),
        "paid_twice": paid.to_dicts(),
        "issues": issues_for_output(file_level, lang, show_pii),
    }


def decrees(rules: Sequence[Decree]) -> dict[str, Any]:
    """``jamsos decrees``: one summary per rule set."""
    from jamsos_cli.render.decrees import summary

    return {"decrees": [summary(d) for d in rules]}


def decree(rule: Decree) -> dict[str, Any]:
    """``jamsos decrees ID``: the rule set in full, as jamsos understood it."""
    from jamsos_cli.render.decrees import detail

    return detail(rule)


def template(path: Path, rule: Decree, fields: list[str]) -> dict[str, Any]:
    """``jamsos template``: the file written, its decree and fields."""
    return {"template": str(path), "decree": rule.id, "fields": fields}


def ledger(path: Path, key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``jamsos ledger list`` (``batches``) / ``stats`` (``stats``)."""
    return {"ledger": str(path), key: rows}


def voided(path: Path, batch: dict[str, Any]) -> dict[str, Any]:
    """``jamsos ledger void``: the batch as it is now (``marked``: its folder was marked)."""
    return {"ledger": str(path), "voided": batch}


def ledger_created(path: Path, ledger_id: str) -> dict[str, Any]:
    """``jamsos ledger init``: the new ledger and its id."""
    return {"ledger": str(path), "ledger_id": ledger_id, "created": True}


def uploaded(path: Path, batch: dict[str, Any]) -> dict[str, Any]:
    """``jamsos ledger mark-uploaded``: the batch as it is now."""
    return {"ledger": str(path), "uploaded": batch}


def withdrawn(
    path: Path, people: pl.DataFrame, reason: str, out: Path | None, show_pii: bool
) -> dict[str, Any]:
    """``jamsos ledger withdraw``: who was withdrawn from which batch (NIKs masked)."""
    import polars as pl

    from jamsos_cli.ledger import folder_basename
    from jamsos_cli.render.mask import mask_nik_expr

    nik = pl.col("nik") if show_pii else mask_nik_expr(pl.col("nik"))
    rows = people.select(
        "batch_id", folder_basename(pl.col("folder")).alias("folder"), nik.alias("nik")
    )
    return {
        "ledger": str(path),
        "reason": reason,
        "withdrawn": rows.to_dicts(),
        "count": rows.height,
        "list": str(out) if out is not None else None,
    }


def _nik(show_pii: bool, column: str = "nik") -> pl.Expr:
    import polars as pl

    from jamsos_cli.render.mask import mask_nik_expr

    return pl.col(column) if show_pii else mask_nik_expr(pl.col(column))


def people(path: Path, status: str, frame: pl.DataFrame, show_pii: bool) -> dict[str, Any]:
    """``jamsos ledger list --status S``: the people with that status, per batch (a frame:
    a million people never become a million dicts)."""
    import polars as pl

    from jamsos_cli.ledger import folder_basename

    rows = frame.select(
        "batch_id",
        folder_basename(pl.col("folder")).alias("folder"),
        _nik(show_pii).alias("nik"),
        *([pl.col("name")] if show_pii else []),
        pl.col("person_status").alias("status"),
        "reason",
        "kpj",
        "coverage_start",
        "ended_from",
    )
    return {"ledger": str(path), "status": status, "count": rows.height, "people": rows}


def imported(path: Path, kind: str, done: Sequence[Any], show_pii: bool) -> dict[str, Any]:
    """``jamsos ledger import-reply`` / ``import-dukcapil``: per file its counts and the rows
    not imported or worth a look (findings: row, code, value masked unless ``--show-pii``)."""
    from jamsos_cli.render.mask import masked_import_findings

    files = []
    for d in done:
        findings = masked_import_findings(d.findings, show_pii)  # a name: null
        files.append(
            {"file": d.file, **d.counts, "changed": d.changed, "findings": findings.to_dicts()}
        )
    totals: dict[str, int] = {}
    for f in done:
        for key, n in f.counts.items():
            totals[key] = totals.get(key, 0) + n
    return {"ledger": str(path), "kind": kind, "summary": totals, "files": files}


def changed_people(path: Path, what: str, frame: pl.DataFrame, show_pii: bool) -> dict[str, Any]:
    """``jamsos ledger end`` / ``reopen``: the NIKs (masked) and what changed for each."""
    rows = frame.with_columns(_nik(show_pii).alias("nik"))
    return {"ledger": str(path), what: rows.to_dicts(), "count": rows.height}


def person(path: Path, record: dict[str, Any], show_pii: bool) -> dict[str, Any]:
    """``jamsos ledger person NIK``: periods, events and registry results (masked)."""
    import polars as pl

    from jamsos_cli.ledger import folder_basename
    from jamsos_cli.render.mask import mask_nik, mask_phone_expr

    periods = record["periods"].with_columns(
        folder_basename(pl.col("folder")).alias("folder"), _nik(show_pii).alias("nik")
    )
    if not show_pii:
        periods = periods.with_columns(mask_phone_expr(pl.col("phone")).alias("phone")).drop(
            "name", "birth_date", strict=False
        )
    from jamsos_cli.render.mask import mask_text

    nik = record["nik"] if show_pii else mask_nik(record["nik"])

    def shown(row: dict[str, Any]) -> dict[str, Any]:  # a NIK typed on the command line too
        command = row["command"] if show_pii else mask_text(row["command"])
        return {**row, "nik": nik, "command": command}

    events = [shown(e) for e in record["events"]]
    matching = [shown(m) for m in record["matching"]]
    return {
        "ledger": str(path),
        "nik": nik,
        "periods": periods.to_dicts(),
        "events": events,
        "matching": matching,
    }


def bill(path: Path, month_bill: Any, out: Path | None) -> dict[str, Any]:
    """``jamsos ledger bill``: SPEC §10's ``month``, ``decrees``, ``people``, ``premium`` (and
    JKK, JKM, JHT apart), the ledger and the file written."""
    return {"ledger": str(path), **month_bill.as_dict(), "file": str(out) if out else None}


def backup(path: Path, written: dict[str, Any]) -> dict[str, Any]:
    """``jamsos ledger backup``: the copy written (``backup``, ``bytes``, ``sha256``)."""
    return {"ledger": str(path), **written}


def reconciled(
    path: Path, bill_path: Path, result: Any, out: Path | None, show_pii: bool
) -> dict[str, Any]:
    """``jamsos ledger reconcile``: SPEC §10's ``summary`` (``billed``, ``covered``,
    ``billed_not_covered``, ``covered_not_billed``, ``billed_amount``, ``expected_amount``,
    and ``amount_differs``) and each difference (NIKs masked)."""
    import polars as pl

    from jamsos_cli.render.mask import mask_nik_expr

    nik = pl.col("nik") if show_pii else mask_nik_expr(pl.col("nik"))
    return {
        "ledger": str(path),
        "bill": str(bill_path),
        "month": result.month_label,
        "summary": result.summary,
        "differences": result.differences.with_columns(nik).to_dicts(),
        "file": str(out) if out else None,
    }


def purged(path: Path, before: str, people: int) -> dict[str, Any]:
    """``jamsos ledger purge``: how many people's personal data was removed."""
    return {"ledger": str(path), "ended_before": before, "purged": people}
