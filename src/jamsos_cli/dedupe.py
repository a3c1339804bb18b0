"""``jamsos dedupe``: the same person twice, by NIK or by likeness, across rosters and the ledger.

A run, in order:

1. the options are checked up front (review and decisions file names, ``--min-score``), and
   the clerk's decisions file is read (``review.read_decisions``): a bad one is exit 2;
2. the ledger is read from a private snapshot (never waits for a cron run): its people, to
   match the rosters against, and the decisions recorded by earlier runs;
3. ``pipeline.run_checks`` reads and normalises every roster and finds the likely duplicates
   (``neardup.find_near_duplicates``; decisions from the ledger and the file, the file's
   winning for a pair decided both times);
4. exact pairs: the same trustworthy 16-digit NIK twice in the run (each later occurrence
   paired with the first) or a run NIK already in the ledger;
5. pairs decided "same" whose two people are both in live batches of the ledger (paid twice,
   decided too late): ``paid_twice`` names both batches and the later one, to withdraw;
6. unless an input could not be used at all (exit 2, nothing written): the file's decisions
   are recorded in the ledger under its lock (so ``build-batch`` honours them from now on),
   and the review file (and the withdrawal list, ``--withdraw-list``) is written.

Decisions hold for likely duplicates (two different NIKs). "different": the pair is never
raised again. "same": the pair stays in the report, marked, and the pipeline rejects the
later record with ``SAME_PERSON`` (``duplicates.same_person_checks``) so the person is not
paid twice.
Exact pairs ignore decisions: one NIK cannot be two people, so one of them must be re-typed
at the source. What the clerk reads of a run (the pairs table, the JSON document) is
``render.dedupe`` / ``render.documents``'.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.exitcodes import ExitCode, outcome
from jamsos_cli.neardup import DEFAULT_MIN_SCORE, PAIR_SCHEMA

if TYPE_CHECKING:
    from jamsos_cli.config import InputRule
    from jamsos_cli.headers import Limits
    from jamsos_cli.ledger import LedgerStore, Location
    from jamsos_cli.pipeline import RunResult

# One row per pair, exact and near alike (what --review, JSON and the text table read).
# ``group``: "decide" (a likely duplicate: a clerk says SAMA or BEDA), "exact" (one NIK twice
# in the rosters, or a ledger NIK on another person: fixed at the source, nothing to decide),
# "in_ledger" (a person the ledger already holds under that NIK: already paid, for the record).
GROUPS = ("decide", "exact", "in_ledger")
PAIRS_SCHEMA: dict[str, pl.DataType] = {
    "group": pl.Utf8,
    "kind": pl.Utf8,
    "score": pl.Float64,
    "a_rid": pl.Int64,
    "b_rid": pl.Int64,
    "b_ref": pl.Utf8,
    "a_nik": pl.Utf8,
    "b_nik": pl.Utf8,
    "reasons": pl.List(pl.Utf8),
    "weights": PAIR_SCHEMA["weights"],
    "match_weight": pl.Float64,
    "p_twins": pl.Float64,
    "p_family": pl.Float64,
    "evidence": PAIR_SCHEMA["evidence"],
    "decision": pl.Utf8,
}
EXACT_SCORE = 100.0
REVIEW_SUFFIXES = (".csv", ".xlsx")
# A pair decided "same" whose two people are both in live batches for a month in common:
# ``keep_*`` the one paid first (earlier batch, or earlier in the batch), ``withdraw_*`` the
# later one; ``batch`` the folder's name, ``source`` the roster row the ledger recorded.
PAID_TWICE_SCHEMA: dict[str, pl.DataType] = {
    f"{side}_{c}": t
    for side in ("keep", "withdraw")
    for c, t in (("nik", pl.Utf8), ("name", pl.Utf8), ("batch", pl.Utf8), ("source", pl.Utf8))
}


@dataclass
class DedupeRequest:
    """Everything one dedupe run needs, already parsed (the CLI builds it)."""

    rosters: list[str]
    ledger: Location
    review: Path | None = None
    decisions: Path | None = None
    withdraw_list: Path | None = None  # the rows to withdraw, full NIKs (.csv or .xlsx)
    min_score: float | None = None
    sheet: str | None = None
    city_code: str = "21.71"
    lang: str = "id"
    file_mode: int = 0o600
    inputs: list[InputRule] = field(default_factory=list)  # config [[inputs]]: role, sheet
    limits: Limits | None = None  # reading limits (None: as shipped)
    new_ledger: bool = False  # --new-ledger: recording decisions may create the ledger
    ledger_named: bool = False  # --ledger (or the config) names it: it must exist
    command: str = "dedupe"  # as the ledger's change log records it


@dataclass
class DedupeResult:
    request: DedupeRequest
    run: RunResult
    pairs: pl.DataFrame  # PAIRS_SCHEMA, exact pairs first
    known: pl.DataFrame | None  # the ledger's people (ledger.known()), None without a ledger
    min_score: float
    ledger_exists: bool  # the ledger was there before this run
    ledger_created: bool = False  # recording the decisions created it
    decisions_read: int = 0
    decisions_ignored: int = 0  # decided on an exact pair: one NIK cannot be two people
    decisions_recorded: int | None = None  # None: nothing recorded
    review: Path | None = None  # the review file written
    paid_twice: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAID_TWICE_SCHEMA))
    withdraw_list: Path | None = None  # the withdrawal list written

    @property
    def fatal(self) -> bool:
        return self.run.fatal

    @property
    def exit_code(self) -> ExitCode:
        found = bool(self.pairs.height) or bool(self.paid_twice.height)
        return outcome(unusable=self.fatal, rejected=found)


# --------------------------------------------------------------------------- the run


def check_request(req: DedupeRequest) -> None:
    """Everything a user can get wrong in the options, before any work (exit 2)."""
    if req.min_score is not None and not 0 <= req.min_score <= 100:
        raise UsageError("error.option.min_score", value=f"{req.min_score:g}")
    for option, path in (("--review", req.review), ("--withdraw-list", req.withdraw_list)):
        if path is None:
            continue
        if path.suffix.lower() not in REVIEW_SUFFIXES:
            raise UsageError("error.option.table_name", option=option, path=path)
        if not path.parent.is_dir():
            raise UsageError(
                "error.option.table_folder", option=option, path=path, folder=path.parent
            )
    if req.decisions is not None and not req.decisions.is_file():
        raise UsageError("error.option.decisions_missing", path=req.decisions)
    if (
        req.review is not None
        and req.decisions is not None
        and os.path.abspath(req.review) == os.path.abspath(req.decisions)
    ):
        raise UsageError("error.option.review_is_decisions", path=req.review)


def load_decisions(path: Path) -> pl.DataFrame:
    """The clerk's decisions file; its problems are the user's to fix (exit 2,
    ``review.DecisionsError``)."""
    from jamsos_cli.review import read_decisions

    return read_decisions(path)


def dedupe(req: DedupeRequest) -> DedupeResult:
    """Run ``jamsos dedupe`` (module docstring); raises ``JamsosError`` for usage problems
    and ``LockHeld`` when recording decisions while another run holds the ledger (checked
    first, before any work)."""
    check_request(req)
    decided = load_decisions(req.decisions) if req.decisions is not None else None
    if req.decisions is not None or req.ledger_named:
        from jamsos_cli.ledger import check_file

        check_file(req.ledger, new=req.new_ledger and req.decisions is not None)
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(_ledger_lock(req)) if decided is not None else None
        result = _run(req, decided)
        if result.fatal:
            return result  # an input could not be used: nothing recorded, no review written
        if store is not None and decided is not None:
            result.decisions_recorded, result.ledger_created = _record(store, req, decided)
    if req.review is not None:
        from jamsos_cli.render.review import write_review

        result.review = write_review(
            result.pairs,
            result.run.records,
            req.review,
            req.lang,
            known=result.known,
            mode=req.file_mode,
        )
    if req.withdraw_list is not None and result.paid_twice.height:
        from jamsos_cli.render.withdrawals import write_withdraw_list

        result.withdraw_list = write_withdraw_list(
            result.paid_twice, req.withdraw_list, req.lang, ledger=req.ledger, mode=req.file_mode
        )
    return result


def _run(req: DedupeRequest, decided: pl.DataFrame | None) -> DedupeResult:
    """Read the ledger (a private snapshot), the rosters, and find the pairs."""
    from jamsos_cli.ledger import Ledger
    from jamsos_cli.pipeline import RunOptions, run_checks

    exact_decided = pl.col("nik_a") == pl.col("nik_b")  # one NIK cannot be two people
    if decided is not None:
        decided, ignored = decided.filter(~exact_decided), decided.filter(exact_decided)
    with Ledger.snapshot(req.ledger) as ledger:
        ledger_exists = ledger.exists
        ledger.recover()  # on the private copy only
        known = ledger.known() if ledger_exists else None
        decisions = _merge_decisions(ledger.decisions(), decided)
        same = decisions.filter(pl.col("decision") == "same")
        paid = ledger.people(columns=PAID_COLUMNS) if ledger_exists and same.height else None
    min_score = DEFAULT_MIN_SCORE if req.min_score is None else float(req.min_score)
    run = run_checks(
        req.rosters,
        RunOptions(
            sheet=req.sheet,
            city_code=req.city_code,
            near_duplicates=True,
            known=known,
            decisions=decisions if decisions.height else None,
            near_min_score=min_score,
            all_columns=True,
            inputs=req.inputs,
            limits=req.limits,
        ),
    )
    return DedupeResult(
        request=req,
        run=run,
        pairs=all_pairs(run, known),
        known=known,
        min_score=min_score,
        ledger_exists=ledger_exists,
        decisions_read=0 if decided is None else decided.height + ignored.height,
        decisions_ignored=0 if decided is None else ignored.height,
        paid_twice=paid_twice(same, paid),
    )


PAID_COLUMNS = ("batch_id", "nik", "name", "folder", "source", "start_month", "end_month")


def paid_twice(same: pl.DataFrame, people: pl.DataFrame | None) -> pl.DataFrame:
    """Pairs decided "same" (``nik_a``, ``nik_b``) paid twice: both NIKs among ``people``
    (the ledger's live batches, ``PAID_COLUMNS``, in ledger order) in batches covering at
    least one month in common (a person covered in 2025 under one NIK and in 2026 under the
    other was paid once a month). Of the first such double payment, the row paid first is
    kept and the later one (a later batch, or later in the same batch) is the one to
    withdraw (``PAID_TWICE_SCHEMA``), in the order of the withdrawals."""
    if people is None or people.height == 0 or same.height == 0:
        return pl.DataFrame(schema=PAID_TWICE_SCHEMA)
    from jamsos_cli.ledger import folder_basename

    entries = (
        people.lazy()
        .with_row_index("order")
        .filter(pl.col("nik").is_in(pl.concat([same["nik_a"], same["nik_b"]]).implode()))
        .select(
            "nik",
            "name",
            "order",
            "start_month",
            "end_month",
            batch=folder_basename(pl.col("folder")),
            source="source",
        )
    )
    c = pl.col
    both = (
        same.lazy()
        .select(a_nik="nik_a", b_nik="nik_b")
        .join(entries.select(pl.all().name.prefix("a_")), on="a_nik")
        .join(entries.select(pl.all().name.prefix("b_")), on="b_nik")
        .filter(c("a_start_month") <= c("b_end_month"), c("b_start_month") <= c("a_end_month"))
        .sort(pl.max_horizontal("a_order", "b_order"), pl.min_horizontal("a_order", "b_order"))
        .unique(["a_nik", "b_nik"], keep="first", maintain_order=True)
    )
    a_later = c("a_order") > c("b_order")

    def side(keep: bool, column: str) -> pl.Expr:
        a, b = c(f"a_{column}"), c(f"b_{column}")
        return pl.when(a_later).then(b if keep else a).otherwise(a if keep else b)

    return (
        both.select(
            **{
                f"{role}_{col}": side(role == "keep", col)
                for role in ("keep", "withdraw")
                for col in ("nik", "name", "batch", "source")
            }
        )
        .collect()
        .cast(PAID_TWICE_SCHEMA)
    )


def _merge_decisions(recorded: pl.DataFrame, decided: pl.DataFrame | None) -> pl.DataFrame:
    """The ledger's decisions, with the file's taking over a pair decided in both."""
    if decided is None or decided.height == 0:
        return recorded
    return pl.concat([recorded, decided.select(recorded.columns)]).unique(
        subset=["nik_a", "nik_b"], keep="last", maintain_order=True
    )


@contextlib.contextmanager
def _ledger_lock(req: DedupeRequest) -> Iterator[LedgerStore]:
    """The ledger's lock, for a run that records decisions: taken first, so a run that
    cannot record (another run holds it → exit 3) does no work; a foreign or corrupt
    ledger is refused untouched (exit 2); a missing folder is created private."""
    from jamsos_cli.ledger import lock

    with lock(req.ledger, req.file_mode) as store:
        yield store


def _record(store: LedgerStore, req: DedupeRequest, decided: pl.DataFrame) -> tuple[int, bool]:
    """Record the file's decisions in the ledger (``store``: locked); a missing ledger is
    created when ``--new-ledger`` asked for it. Returns how many were new or changed, and
    whether the ledger was created."""
    from jamsos_cli.ledger import Ledger, change

    command = change(req.command, input_path=req.decisions, summary={"pairs": decided.height})
    with Ledger.open(store, mode=req.file_mode) as ledger:
        existed = ledger.exists
        ledger.recover()
        return ledger.record_decisions(decided, command, source=str(req.decisions)), not existed


# --------------------------------------------------------------------------- pairs


def _name_key(name: pl.Expr) -> pl.Expr:
    """A name as the exact-duplicate check compares it (the one name identity)."""
    from jamsos_cli.names import identity_key

    return identity_key(name)


def _exact_reasons() -> pl.Expr:
    """``same_nik``, plus what tells the two apart when one NIK carries two people."""

    def differ(a: str, b: str) -> pl.Expr:
        return (pl.col(a) != pl.col(b)).fill_null(False)

    return pl.concat_list(
        pl.lit("same_nik"),
        pl.when(differ("a_key", "b_key")).then(pl.lit("different_name")),
        pl.when(differ("a_bd", "b_bd")).then(pl.lit("different_birth_date")),
    ).list.drop_nulls()


def exact_pairs(records: pl.DataFrame, known: pl.DataFrame | None) -> pl.DataFrame:
    """Pairs with the same trustworthy NIK (``nik_int``): every later occurrence in the run
    with the first, and every run occurrence with the first ledger person holding it."""
    base = records.lazy().select(
        "_rid",
        "nik_int",
        "nik",
        key=_name_key(pl.col("name")),
        bd=pl.col("birth_date"),
    )
    base = base.filter(pl.col("nik_int").is_not_null())
    repeated = base.group_by("nik_int").agg(pl.len().alias("_n")).filter(pl.col("_n") > 1)
    occ = base.join(repeated, on="nik_int", how="semi")
    first = (
        occ.sort("_rid")
        .unique("nik_int", keep="first", maintain_order=True)
        .select("nik_int", a_rid="_rid", a_nik="nik", a_key="key", a_bd="bd")
    )
    in_run = (
        occ.join(first, on="nik_int")
        .filter(pl.col("_rid") != pl.col("a_rid"))
        .select(
            "a_rid",
            b_rid="_rid",
            b_ref=pl.lit(None, pl.Utf8),
            a_nik="a_nik",
            b_nik="nik",
            a_key="a_key",
            b_key="key",
            a_bd="a_bd",
            b_bd="bd",
        )
    )
    parts = [in_run]
    if known is not None and known.height:
        ledger = (
            known.lazy()
            .filter(pl.col("nik").is_not_null())
            .unique("nik", keep="first", maintain_order=True)
            .select("nik", b_ref="ref", b_key=_name_key(pl.col("name")), b_bd="birth_date")
        )
        parts.append(
            base.join(ledger, on="nik").select(
                a_rid="_rid",
                b_rid=pl.lit(None, pl.Int64),
                b_ref="b_ref",
                a_nik="nik",
                b_nik="nik",
                a_key="key",
                b_key="b_key",
                a_bd="bd",
                b_bd="b_bd",
            )
        )
    pairs = pl.concat(parts).with_columns(
        kind=pl.lit("exact"),
        score=pl.lit(EXACT_SCORE),
        reasons=_exact_reasons(),
        decision=pl.lit(None, pl.Utf8),
    )
    already_paid = pl.col("b_ref").is_not_null() & (pl.col("reasons").list.len() == 1)
    pairs = pairs.with_columns(
        group=pl.when(already_paid).then(pl.lit("in_ledger")).otherwise(pl.lit("exact"))
    )
    return pairs.select(
        (pl.col(c) if c in pairs.collect_schema() else pl.lit(None)).cast(t).alias(c)
        for c, t in PAIRS_SCHEMA.items()
    ).collect()


def all_pairs(run: RunResult, known: pl.DataFrame | None) -> pl.DataFrame:
    """The pairs to decide (likely duplicates) first, then exact pairs to fix at the source,
    then people the ledger already holds; each in input order of the earlier record."""
    exact = exact_pairs(run.records, known) if run.records.height else None
    near = run.near_pairs
    parts = [p for p in (exact,) if p is not None]
    if near is not None and near.height:
        parts.append(
            near.with_columns(kind=pl.lit("near"), group=pl.lit("decide")).select(
                pl.col(c).cast(t) for c, t in PAIRS_SCHEMA.items()
            )
        )
    if not parts:
        return pl.DataFrame(schema=PAIRS_SCHEMA)
    order = pl.col("group").replace_strict(
        {g: i for i, g in enumerate(GROUPS)}, return_dtype=pl.Int8
    )
    return (
        pl.concat(parts)
        .sort(order, "a_rid", "b_rid", "b_ref", nulls_last=True, maintain_order=True)
        .select(list(PAIRS_SCHEMA))
    )
