"""``jamsos dedupe`` as people read it: the pairs side by side (file, row, name, NIK masked
unless ``--show-pii``), with the score and the reasons (each comparison's weight in words) in
the reader's language, in groups: the pairs to decide first, then one NIK twice, then people
already in the ledger; the persons paid twice (decided SAMA too late) with the command that
withdraws the later row; what was recorded and written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from jamsos_cli.dedupe import GROUPS
from jamsos_cli.render.findings import issues_for_output
from jamsos_cli.render.mask import mask_nik_expr
from jamsos_cli.render.reasons import render_reasons
from jamsos_cli.render.withdrawals import command, reason
from jamsos_cli.texts import say

if TYPE_CHECKING:
    from jamsos_cli.dedupe import DedupeResult

MAX_TEXT_PAIRS = 1000


def pair_table(result: DedupeResult, lang: str, show_pii: bool) -> pl.DataFrame:
    """The pairs with both sides spelled out (file, sheet, row, name, NIK masked unless
    ``show_pii``) and the reasons rendered in ``lang``."""
    pairs = result.pairs
    recs = result.run.records.select("_rid", file="_file", sheet="_sheet", row="_row", name="name")
    p = pairs.join(
        recs.select(pl.all().name.prefix("a_")).rename({"a__rid": "a_rid"}),
        on="a_rid",
        how="left",
        maintain_order="left",
    ).join(
        recs.select(pl.all().name.prefix("b_")).rename({"b__rid": "b_rid"}),
        on="b_rid",
        how="left",
        maintain_order="left",
    )
    if result.known is not None and result.known.height:
        people = result.known.select(k_ref="ref", k_nik="nik", k_name="name").unique(
            subset=["k_ref", "k_nik"], keep="first", maintain_order=True
        )
        p = p.join(
            people,
            left_on=["b_ref", "b_nik"],
            right_on=["k_ref", "k_nik"],
            how="left",
            maintain_order="left",
        ).with_columns(b_name=pl.coalesce("b_name", "k_name"))
    explanation = (
        render_reasons(pairs.get_column("reasons"), lang, pairs.get_column("weights"))
        if pairs.height
        else pl.Series("reasons", [], pl.Utf8)
    )

    def nik(col: str) -> pl.Expr:
        return pl.col(col) if show_pii else mask_nik_expr(pl.col(col))

    return p.with_columns(explanation=explanation).select(
        "group",
        "kind",
        score=pl.col("score").round(0).cast(pl.Int64),
        probability=pl.col("score").round(1),
        a_file="a_file",
        a_sheet="a_sheet",
        a_row="a_row",
        a_name="a_name",
        a_nik=nik("a_nik"),
        b_file=pl.coalesce("b_file", "b_ref"),
        b_sheet="b_sheet",
        b_row="b_row",
        b_name="b_name",
        b_nik=nik("b_nik"),
        reasons="reasons",
        explanation="explanation",
        match_weight="match_weight",
        p_twins="p_twins",
        p_family="p_family",
        evidence="evidence",
        decision="decision",
    )


def paid_twice_table(result: DedupeResult, lang: str, show_pii: bool) -> pl.DataFrame:
    """``result.paid_twice`` with its withdraw command line; NIKs masked unless ``show_pii``
    (the command on screen then names the masked NIK: the full one is in the
    ``--withdraw-list`` file)."""
    paid = result.paid_twice

    def nik(col: str) -> pl.Expr:
        return pl.col(col) if show_pii else mask_nik_expr(pl.col(col))

    return paid.with_columns(
        keep_nik=nik("keep_nik"),
        withdraw_nik=nik("withdraw_nik"),
        reason=reason(pl.col("keep_batch"), lang),
    ).with_columns(
        command=command(
            pl.col("withdraw_nik"),
            pl.col("withdraw_batch"),
            pl.col("reason"),
            result.request.ledger,
        )
    )


def summary(result: DedupeResult) -> dict[str, Any]:
    """The run in figures, with the fitted model's parameters (``model``: m, u, lambda, what
    the EM did) so a decision can be explained later."""
    kinds = result.pairs.get_column("kind")
    groups = result.pairs.get_column("group")
    req = result.request
    model = result.run.near_model
    return {
        "inputs": result.run.inputs,
        "rows": result.run.records.height,
        "pairs": result.pairs.height,
        "exact": int((kinds == "exact").sum()),
        "near": int((kinds == "near").sum()),
        **{f"group_{g}": int((groups == g).sum()) for g in GROUPS},
        "decided_same": int((result.pairs.get_column("decision") == "same").sum()),
        "min_score": result.min_score,
        "ledger": str(req.ledger),
        "ledger_exists": result.ledger_exists,
        "ledger_people": 0 if result.known is None else result.known.height,
        "decisions_read": result.decisions_read,
        "decisions_recorded": result.decisions_recorded,
        "decisions_ignored": result.decisions_ignored,
        "review": None if result.review is None else str(result.review),
        "paid_twice": result.paid_twice.height,
        "withdraw_list": None if result.withdraw_list is None else str(result.withdraw_list),
        "unusable": result.fatal,
        "model": None if model is None else model.to_dict(),
    }


def _where(file: str | None, sheet: str | None, row: int | None) -> str:
    at = (file or "") + (f" [{sheet}]" if sheet else "")
    return at if row is None else f"{at}:{row}"


def _pairs_table(rows: pl.DataFrame, lang: str):
    """One Rich table of pairs: kind, score, both sides, why."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True)
    for head in ("kind", "score", "a", "b", "reasons"):
        justify = "right" if head == "score" else "left"
        out.add_column(say(f"dedupe.head.{head}", lang), overflow="fold", justify=justify)
    for r in rows.iter_rows(named=True):
        sides = [
            "\n".join(
                [
                    _where(r[f"{s}_file"], r[f"{s}_sheet"], r[f"{s}_row"]),
                    r[f"{s}_name"] or "",
                    r[f"{s}_nik"] or "",
                ]
            )
            for s in "ab"
        ]
        out.add_row(
            say(f"pairs.kind.{r['kind']}", lang),
            str(r["score"]),
            escape(sides[0]),
            escape(sides[1]),
            escape(r["explanation"] or ""),
        )
    return out


def render_text(console, result: DedupeResult, lang: str, show_pii: bool) -> None:
    """The clerk's report: the ledger and threshold used, the pairs in their groups (the pairs
    to decide first: exact ones must not bury them), what was written; then the inputs that
    could not be used, if any."""

    def line(key: str, **values: object) -> None:
        console.print(say(f"dedupe.{key}", lang, **values), highlight=False)

    req = result.request
    if result.known is not None:
        line("ledger", path=req.ledger, n=result.known.height)
    elif not result.ledger_created:
        line("no_ledger", path=req.ledger)
    line("min_score", score=f"{result.min_score:g}")
    table = pair_table(result, lang, show_pii)
    if table.height:
        shown = table.head(MAX_TEXT_PAIRS)
        for group in GROUPS:
            rows = shown.filter(pl.col("group") == group)
            if rows.height == 0:
                continue
            n = int((table.get_column("group") == group).sum())
            console.print(say(f"dedupe.group.{group}", lang, n=n), highlight=False, style="bold")
            console.print(_pairs_table(rows, lang))
        if table.height > MAX_TEXT_PAIRS:
            line("more", n=table.height - MAX_TEXT_PAIRS)
        s = summary(result)
        line("found", n=s["pairs"], exact=s["exact"], near=s["near"], same=s["decided_same"])
    else:
        line("none")
    _render_paid_twice(console, result, lang, show_pii)
    unusable = issues_for_output(
        result.run.findings.filter(pl.col("rid").is_null(), pl.col("severity") == "error"),
        lang,
        show_pii,
    )
    for row in unusable.iter_rows(named=True):
        console.print(
            f"{_where(row['file'], row['sheet'], None)}: {row['code']}: {row['message']}",
            highlight=False,
            markup=False,
        )
    if result.fatal:
        line("fatal")
        return
    if result.ledger_created:
        line("created", path=req.ledger)
    if result.decisions_recorded is not None:
        line("recorded", path=req.ledger, n=result.decisions_recorded, read=result.decisions_read)
    if result.decisions_ignored:
        line("ignored", n=result.decisions_ignored)
    if result.review is not None:
        line("review", path=result.review)


def _render_paid_twice(console, result: DedupeResult, lang: str, show_pii: bool) -> None:
    """Each person paid twice: both batches, the row to withdraw, the command line."""
    table = paid_twice_table(result, lang, show_pii)
    if table.height == 0:
        return
    console.print(say("dedupe.paid_twice", lang, n=table.height), highlight=False, style="bold")
    for r in table.head(MAX_TEXT_PAIRS).iter_rows(named=True):
        said = say(
            "dedupe.paid_twice_pair",
            lang,
            keep=r["keep_nik"],
            keep_source=r["keep_source"],
            keep_batch=r["keep_batch"],
            withdraw=r["withdraw_nik"],
            withdraw_source=r["withdraw_source"],
            withdraw_batch=r["withdraw_batch"],
        )
        console.print(f"- {said}", highlight=False, markup=False)
        console.print(f"    {r['command']}", highlight=False, markup=False, soft_wrap=True)
    if table.height > MAX_TEXT_PAIRS:
        console.print(say("dedupe.more", lang, n=table.height - MAX_TEXT_PAIRS), highlight=False)
    if result.withdraw_list is not None:
        console.print(
            say("dedupe.withdraw_list", lang, path=result.withdraw_list),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    elif not show_pii:
        console.print(say("dedupe.withdraw_hint", lang), highlight=False, markup=False)
