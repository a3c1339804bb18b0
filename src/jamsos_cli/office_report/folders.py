"""What the batch folders say that the ledger does not record (yet): per input file, how many
rows were sent back and why.

Each batch folder holds ``manifest.json`` (its sha256 is in the ledger) and one rejects file per
input, listed in the manifest's ``outputs`` with its row count and sha256. Only what is still
there unchanged is read: a manifest whose sha256 differs from the ledger's, or a rejects file
whose sha256 differs from the manifest's, counts as "not recorded", never as zero. Of a rejects
file only the reasons column is used (the codes at the start of each reason); its personal
data is read by the spreadsheet reader and dropped at once.

A run that submits nobody writes no folder, so its rejects are not here. When the ledger
records rejects per sender and reason itself, this module goes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath

import polars as pl

from jamsos_cli.texts import LANGS, say
from jamsos_cli.writing import sha256_file

MANIFEST_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64,
    "rejected": pl.Int64,
    "already_submitted": pl.Int64,
}
SENDER_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64,
    "position": pl.Int64,
    "rejected": pl.Int64,  # rows sent back (the rejects file's rows, per the manifest)
    "reasons_known": pl.Boolean,  # the rejects file is there, unchanged, and was read
}
REASON_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64,
    "position": pl.Int64,
    "code": pl.Utf8,
    "rows": pl.Int64,  # rows sent back with this code among their reasons
    "first": pl.Int64,  # rows whose first reason is this code (these add up to the rows)
}
# a reason cell is "CODE: message; CODE: message" (render.rejects.reasons_by_rid)
_CODE_AT_START = r"(?:^|; )[A-Z][A-Z0-9_]+: "


@dataclass(frozen=True)
class FolderFacts:
    manifests: pl.DataFrame  # MANIFEST_SCHEMA: batches whose manifest was read
    senders: pl.DataFrame  # SENDER_SCHEMA: inputs whose rejects file the manifest lists
    reasons: pl.DataFrame  # REASON_SCHEMA


def read_folders(batches: pl.DataFrame, inputs: pl.DataFrame, codes: set[str]) -> FolderFacts:
    """The facts of every batch folder in ``batches`` (``batch_id``, ``folder``,
    ``manifest_sha256``), for its ``inputs`` (``batch_id``, ``position``, ``name``)."""
    manifests, senders, reasons = [], [], []
    names = inputs.group_by("batch_id").agg(pl.col("name").sort_by("position"))
    by_batch = dict(names.iter_rows())
    for batch_id, folder, digest in batches.select(
        "batch_id", "folder", "manifest_sha256"
    ).iter_rows():
        manifest = _manifest(Path(folder), digest)
        if manifest is None:
            continue
        manifests.append((batch_id, manifest.get("rejected"), manifest.get("already_submitted")))
        outputs = {o.get("name"): o for o in manifest.get("outputs", []) if isinstance(o, dict)}
        for position, name in enumerate(by_batch.get(batch_id, [])):
            listed = _rejects_output(outputs, position, name)
            if listed is None:
                continue
            found = _reason_codes(Path(folder) / listed["name"], listed.get("sha256"), codes)
            senders.append((batch_id, position, listed.get("rows"), found is not None))
            if found is not None:
                reasons.append(
                    found.select(
                        batch_id=pl.lit(batch_id),
                        position=pl.lit(position),
                        code="code",
                        rows="rows",
                        first="first",
                    )
                )
    return FolderFacts(
        pl.DataFrame(manifests, schema=MANIFEST_SCHEMA, orient="row"),
        pl.DataFrame(senders, schema=SENDER_SCHEMA, orient="row"),
        pl.concat([pl.DataFrame(schema=REASON_SCHEMA), *reasons], how="vertical_relaxed"),
    )


def _manifest(folder: Path, digest: str) -> dict | None:
    path = folder / "manifest.json"
    try:
        if sha256_file(path) != digest:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _stem(name: str) -> str:
    """The input's file name without extension, whichever OS wrote the path."""
    return PurePath(PureWindowsPath(name).name).stem


def _rejects_output(outputs: dict[str, dict], position: int, name: str) -> dict | None:
    """The rejects file build-batch wrote for input ``position`` (``render.rejects.rejects_name``:
    ``<stem>.rejects.<ext>``, prefixed ``NN_`` when two inputs share a stem)."""
    stem = _stem(name)
    for prefix in (f"{position + 1:02d}_{stem}", stem):
        for ext in ("xlsx", "csv"):
            hit = outputs.get(f"{prefix}.rejects.{ext}")
            if hit is not None and isinstance(hit.get("rows"), int):
                return hit
    return None


def _reason_codes(path: Path, digest: str | None, codes: set[str]) -> pl.DataFrame | None:
    """``code``, ``rows``, ``first`` of a rejects file (see ``REASON_SCHEMA``), or None when
    it is gone, changed or unreadable."""
    try:
        if digest is None or sha256_file(path) != digest:
            return None
        cells = _reason_cells(path)
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None
    if cells is None:
        return None
    per_row = (
        pl.DataFrame({"cell": cells}, schema={"cell": pl.Utf8})
        .with_row_index("row")
        .select("row", code=pl.col("cell").str.extract_all(_CODE_AT_START))
        .explode("code")
        .with_columns(pl.col("code").str.strip_chars("; :"))
        .filter(pl.col("code").is_in(sorted(codes)))
        .unique(["row", "code"], keep="first", maintain_order=True)
        .with_columns(first=pl.col("row").is_first_distinct())
    )
    return (
        per_row.group_by("code")
        .agg(rows=pl.len().cast(pl.Int64), first=pl.col("first").sum().cast(pl.Int64))
        .sort("code")
    )


def _reason_cells(path: Path) -> list[str | None] | pl.Series | None:
    """The reasons column of a rejects file (its last column, headed ALASAN PENOLAKAN or
    REJECTION REASONS: ``rejects.reasons`` in either language), or None when the file is not
    one."""
    labels = {say("rejects.reasons", lang) for lang in LANGS}
    if path.suffix.lower() == ".csv":
        data = path.read_bytes()
        header = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8-sig", "replace")
        label = next((x for x in labels if header.endswith(x)), None)
        if label is None or len(header) == len(label):
            return None
        separator = header[-len(label) - 1]  # the rejects file keeps the roster's delimiter
        frame = pl.read_csv(
            data,
            separator=separator,
            infer_schema=False,
            encoding="utf8-lossy",  # a cp1252 roster: the codes are ASCII all the same
            truncate_ragged_lines=True,
        )
        return frame.to_series(frame.width - 1)
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    if not rows or not rows[0]:
        return None
    header = [str(c) for c in rows[0]]
    hits = [i for i, c in enumerate(header) if c in labels]
    if not hits:
        return None
    col = hits[-1]
    return [str(r[col]) if col < len(r) and r[col] != "" else None for r in rows[1:]]
