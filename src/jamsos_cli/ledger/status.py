"""Each person's status per period, folded from what happened to them (pure Polars, no
storage): the ledger never updates a person in place, it appends ``person_events``.

For one person in one live batch (a period), in this order:

- ``withdrawn``: a clerk withdrew them from this batch (recorded by mistake);
- ``ended``: their coverage ended from a month on or before the period's last month (a
  person's end holds for every later period, until reopened);
- ``refused``: BPJS's latest answer for this batch is a refusal (until reopened);
- ``active``: BPJS confirmed them (KPJ and coverage start known);
- ``submitted``: in the batch, no answer yet.

``reopened`` takes back the end recorded before it (an end recorded by mistake) and lets a
person refused before it be submitted again (a refusal that was a data error since fixed):
the refusal stays that period's status (BPJS did refuse it), marked ``reopened`` so the
checks of later runs let the person through; a later answer or end counts again.
"""

from __future__ import annotations

import polars as pl

from jamsos_cli.ledger.store import (
    EVENT_ACTIVE,
    EVENT_ENDED,
    EVENT_REFUSED,
    EVENT_REOPENED,
    EVENT_WITHDRAWN,
)

SUBMITTED = "submitted"
PERSON_STATUSES = (SUBMITTED, EVENT_ACTIVE, EVENT_REFUSED, EVENT_ENDED, EVENT_WITHDRAWN)
# What the fold adds to each (batch_id, nik) row.
STATUS_SCHEMA: dict[str, pl.DataType] = {
    "person_status": pl.Utf8,
    "reason": pl.Utf8,
    "kpj": pl.Utf8,
    "coverage_start": pl.Utf8,
    "ended_from": pl.Int64,
    "reopened": pl.Boolean,  # refused, and the refusal taken back since (ledger reopen)
}


def _reopened(events: pl.DataFrame) -> pl.DataFrame:
    """nik → the id of the person's last ``reopened`` event."""
    return (
        events.filter(pl.col("kind") == EVENT_REOPENED)
        .group_by("nik")
        .agg(pl.col("id").max().alias("_reopened"))
    )


def _after_reopen(events: pl.DataFrame, reopened: pl.DataFrame) -> pl.DataFrame:
    """``events`` recorded after the person's last reopening."""
    return events.join(reopened, on="nik", how="left").filter(
        pl.col("id") > pl.col("_reopened").fill_null(0)
    )


def ends(events: pl.DataFrame) -> pl.DataFrame:
    """nik → ``ended_from`` (the first month not covered) and ``end_reason``: each person's
    end that stands (the latest, not taken back by a reopening)."""
    ended = _after_reopen(events.filter(pl.col("kind") == EVENT_ENDED), _reopened(events))
    return (
        ended.sort("id")
        .group_by("nik")
        .agg(
            pl.col("from_month").last().alias("ended_from"),
            pl.col("reason").last().alias("end_reason"),
        )
    )


def fold(people: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """``people`` (at least ``batch_id``, ``nik``, ``end_month``) with ``STATUS_SCHEMA``.

    ``events``: every ``person_events`` row (``store.EVENT_SCHEMA``), oldest first."""
    reopened = _reopened(events)
    mine = events.filter(pl.col("batch_id").is_not_null())
    withdrawn = (
        mine.filter(pl.col("kind") == EVENT_WITHDRAWN)
        .group_by("batch_id", "nik")
        .agg(pl.col("reason").last().alias("_withdrawn"), pl.len().alias("_times"))
    )
    answers = mine.filter(pl.col("kind").is_in([EVENT_ACTIVE, EVENT_REFUSED]))
    last_answer = (
        answers.sort("id")
        .group_by("batch_id", "nik")
        .agg(
            pl.col("kind").last().alias("_answer"),
            pl.col("reason").last().alias("_refusal"),
            pl.col("id").last().alias("_answered"),
        )
        .join(reopened, on="nik", how="left")
        .with_columns((pl.col("_reopened").fill_null(0) > pl.col("_answered")).alias("_taken_back"))
        .drop("_reopened", "_answered")
    )
    confirmed = (
        answers.filter(pl.col("kind") == EVENT_ACTIVE)
        .sort("id")
        .group_by("batch_id", "nik")
        .agg(
            pl.col("kpj").drop_nulls().last().alias("kpj"),
            pl.col("coverage_start").drop_nulls().last().alias("coverage_start"),
        )
    )
    keys = ["batch_id", "nik"]
    out = (
        people.join(withdrawn, on=keys, how="left", maintain_order="left")
        .join(last_answer, on=keys, how="left", maintain_order="left")
        .join(confirmed, on=keys, how="left", maintain_order="left")
        .join(ends(events), on="nik", how="left", maintain_order="left")
    )
    is_ended = pl.col("ended_from").is_not_null() & (pl.col("ended_from") <= pl.col("end_month"))
    status = (
        pl.when(pl.col("_times").is_not_null())
        .then(pl.lit(EVENT_WITHDRAWN))
        .when(is_ended)
        .then(pl.lit(EVENT_ENDED))
        .when(pl.col("_answer") == EVENT_REFUSED)
        .then(pl.lit(EVENT_REFUSED))
        .when(pl.col("_answer") == EVENT_ACTIVE)
        .then(pl.lit(EVENT_ACTIVE))
        .otherwise(pl.lit(SUBMITTED))
    )
    reason = (
        pl.when(status == EVENT_WITHDRAWN)
        .then(pl.col("_withdrawn"))
        .when(status == EVENT_ENDED)
        .then(pl.col("end_reason"))
        .when(status == EVENT_REFUSED)
        .then(pl.col("_refusal"))
    )
    return out.with_columns(
        status.alias("person_status"),
        reason.alias("reason"),
        pl.when(is_ended).then(pl.col("ended_from")).alias("ended_from"),
        ((status == EVENT_REFUSED) & pl.col("_taken_back").fill_null(False)).alias("reopened"),
    ).drop("_withdrawn", "_times", "_answer", "_refusal", "_taken_back", "end_reason")


def covering(start: int, end: int) -> pl.Expr:
    """Rows whose person is covered in some month of ``start``..``end``: submitted or
    active, or ended after ``start`` (covered until then); refused and withdrawn are not."""
    live = pl.col("person_status").is_in([SUBMITTED, EVENT_ACTIVE])
    ended_later = (pl.col("person_status") == EVENT_ENDED) & (pl.col("ended_from") > start)
    return overlapping(start, end) & (live | ended_later)


def overlapping(start: int, end: int) -> pl.Expr:
    """Rows whose batch's months (``start_month``..``end_month``) meet ``start``..``end``."""
    return (pl.col("start_month") <= end) & (pl.col("end_month") >= start)


def latest_matching(results: pl.DataFrame) -> pl.DataFrame:
    """nik → the registry's latest result (``result``, ``result_date``, ``change_id``): by its
    date, then by when it was imported."""
    return (
        results.sort("result_date", "id")
        .group_by("nik")
        .agg(pl.col("result", "result_date", "change_id").last())
    )
