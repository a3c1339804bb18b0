"""The withdrawal of a person paid twice (a pair decided SAMA after both were paid), as a
command line and as the list ``jamsos ledger withdraw --file`` reads (``jamsos dedupe
--withdraw-list``): the later row of each pair, full NIKs, a file meant to be used."""

from __future__ import annotations

import shlex
from pathlib import Path

import polars as pl

from jamsos_cli.texts import say

PROG = "jamsos"  # as the user types it (the command lines the report prints)


def command(nik: pl.Expr, batch: pl.Expr, reason: pl.Expr, ledger: str | Path) -> pl.Expr:
    """``jamsos ledger withdraw NIK --batch FOLDER --reason '...' --ledger PATH``: from that
    batch of that ledger only (the NIK may be in another batch for other months, paid once);
    the reason and the path quoted for a POSIX shell as ``shlex.quote`` does it."""
    quoted = pl.lit("'") + reason.str.replace_all("'", "'\"'\"'", literal=True) + pl.lit("'")
    tail = f" --ledger {shlex.quote(str(ledger))}"
    return pl.format(
        f"{PROG} ledger withdraw {{}} --batch {{}} --reason {{}}{tail}", nik, batch, quoted
    )


def write_withdraw_list(
    paid: pl.DataFrame, path: Path, lang: str, *, ledger: str | Path, mode: int
) -> Path:
    """The persons to withdraw (the later row of each pair paid twice) with full NIKs, as
    ``jamsos ledger withdraw --file`` reads a list (NIK, NAMA), plus the batch, the roster
    row, the one kept and the command for that row alone; ``.csv`` (``;``, UTF-8 with BOM)
    or ``.xlsx`` (NIK as Text), private (the one write path, ``writing``)."""
    from jamsos_cli.writing import write_csv, write_xlsx

    table = _rows(paid, lang, ledger).select(
        pl.col(c).alias(say(f"withdrawals.column.{c}", lang))
        for c in ("nik", "name", "batch", "source", "kept", "reason", "command")
    )
    if path.suffix.lower() == ".csv":
        return write_csv(table, path, mode=mode)  # ";" UTF-8 with a BOM
    nik = say("withdrawals.column.nik", lang)
    return write_xlsx(
        table, path, mode=mode, sheet=say("withdrawals.sheet", lang), text_columns={nik}
    )


def reason(batch: pl.Expr, lang: str) -> pl.Expr:
    """The withdrawal's reason: the same person as a participant of ``batch``."""
    # a private-use marker (a control character would be escaped by texts.say)
    before, after = say("dedupe.withdraw_reason", lang, batch="\ue001").split("\ue001")
    return pl.concat_str(pl.lit(before), batch, pl.lit(after))


def _rows(paid: pl.DataFrame, lang: str, ledger: str | Path) -> pl.DataFrame:
    """The withdrawal list's rows: full NIKs (a file meant to be used)."""
    return paid.select(
        nik="withdraw_nik",
        name="withdraw_name",
        batch="withdraw_batch",
        source="withdraw_source",
        kept=pl.format("{} ({})", "keep_batch", "keep_source"),
        reason=reason(pl.col("keep_batch"), lang),
    ).with_columns(command=command(pl.col("nik"), pl.col("batch"), pl.col("reason"), ledger))
