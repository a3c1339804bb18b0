"""The one JSON document of each command (``--format json``), built here and nowhere else:
what cron jobs and scripts read. ``write`` prints it: one document on stdout, UTF-8, nothing
else there. Messages inside are in the run's language; personal data masked unless
``--show-pii`` (``render.mask``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jamsos_cli.texts import Lang, resolve

if TYPE_CHECKING:
    import polars as pl

    from jamsos_cli.build import BuildResult
    from jamsos_cli.decrees import Decree
    from jamsos_cli.dedupe import DedupeResult
    from jamsos_cli.findings import Summary


def write(doc: dict[str, Any], *, indent: int | None = 2) -> None:
    """Print the document on stdout (every command's JSON goes through here)."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=indent) + "\n")


def validate(
    summary: Summary,
    findings: pl.DataFrame,
    lang: Lang,
    show_pii: bool,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``jamsos validate``: ``summary`` (with ``extra``) and ``issues``."""
    from jamsos_cli.render.findings import issues_for_output

    doc: dict[str, Any] = {"summary": summary.as_dict()}
    if extra:
        doc["summary"].update(extra)
    doc["issues"] = issues_for_output(findings, lang, show_pii).to_dicts()
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
    ``summary.model`` the fitted parameters (m, u, lambda, the EM's run); ``issues`` the inputs
    that could not be used."""
    import polars as pl

    from jamsos_cli.render.dedupe import pair_table, summary
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
    return {
        "summary": summary(result),
        "pairs": pairs.to_dicts(),
        "issues": issues_for_output(file_level, lang, show_pii).to_dicts(),
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
    """``jamsos ledger void``: the batch as it is now."""
    return {"ledger": str(path), "voided": batch}
