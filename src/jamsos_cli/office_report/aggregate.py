"""The office head's report as data: a handful of named Polars frames of counts and money, one
function per table, built from the ledger store's aggregates (``LedgerStore.batch_details``,
``people_by_area``, ``inputs``, ``decision_sides``...: the report's only window on the
ledger, so a PostgreSQL store runs the same report; and the persons paid twice as ``jamsos
dedupe`` finds them, ``paid_pairs``), the batch folders (``folders``), the
decree rule sets and the region reference. The renderers (HTML page, xlsx recap, Berita
Acara) read only ``ReportData``; nothing here formats or labels.

Statuses (submitted/active/refused/ended/withdrawn in the report's month, SPEC §10) and BPJS's
refusals with their reasons come from the ledger's person events (``ledger.status.fold``):
everyone of a live batch is ``submitted`` but the few something happened to
(``LedgerStore.eventful_people``). What the ledger does not record has its frame all the
same, flagged in ``ReportData.recorded``: ``senders``/``rejects`` (rows sent back per input
file and reason) come from the batch folders (``folders``), where they are still there
unchanged.

Money is integer rupiah throughout (Int64 columns); a share is a float only for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePath, PureWindowsPath

import polars as pl

from jamsos_cli.decrees import Decree
from jamsos_cli.errors import UsageError
from jamsos_cli.ledger import Ledger, folder_basename, month_index, month_label, month_label_expr
from jamsos_cli.ledger.store import STATUS_DONE, STATUS_VOIDED, Chosen, LedgerStore
from jamsos_cli.office_report import folders
from jamsos_cli.texts import ref

# the batches a report shows: ``committing`` exists only while a run records one (or after it
# was killed, until the next run settles it), so the report leaves it out
RECORDED = Chosen(statuses=(STATUS_DONE, STATUS_VOIDED))

# SPEC §10: a person's status per period, in the order a report lists them
PERSON_STATUSES = ("submitted", "active", "refused", "ended", "withdrawn")

DECREE_SCHEMA: dict[str, pl.DataType] = {
    "decree": pl.Utf8,
    "title": pl.Utf8,
    "group": pl.Utf8,
    "city_code": pl.Utf8,
    "city": pl.Utf8,  # the city's official name (Kota Batam)
    "quota": pl.Int64,  # null: no quota (unlimited or not published)
    "premium_per_person_month": pl.Int64,
    "jkk": pl.Int64,
    "jkm": pl.Int64,
    "jht": pl.Int64,
}
PARTICIPANT_SCHEMA: dict[str, pl.DataType] = {
    "decree": pl.Utf8,
    "status": pl.Utf8,
    "kecamatan_code": pl.Utf8,
    "kecamatan": pl.Utf8,  # null: the code is not in the reference table
    "kelurahan_code": pl.Utf8,
    "kelurahan": pl.Utf8,
    "people": pl.Int64,
}
REFUSAL_SCHEMA: dict[str, pl.DataType] = {
    "decree": pl.Utf8,
    "reason": pl.Utf8,
    "people": pl.Int64,
}


@dataclass(frozen=True)
class ReportData:
    """Everything the renderers show. Frames hold counts, never one row per person; no frame
    holds a NIK, and names only in ``decision_pairs`` and only when ``show_pii``."""

    month: str  # YYYY-MM: the month the participant tables describe
    ledger_path: str
    ledger_id: str | None
    generated_at: str
    show_pii: bool
    decrees: pl.DataFrame  # DECREE_SCHEMA: the decrees the report covers
    participants: pl.DataFrame  # PARTICIPANT_SCHEMA: people covered in ``month``
    quota: pl.DataFrame  # decree, people (in month), quota, share
    statuses: pl.DataFrame  # decree, status, people (in month)
    months: pl.DataFrame  # month, decree, people, premium, budget
    batches: pl.DataFrame  # one row per batch: the trend
    senders: pl.DataFrame  # sender, batches, rows, rejected, reasons_known
    rejects: pl.DataFrame  # sender, code, rows (with this reason), first (its first reason)
    refusals: pl.DataFrame  # REFUSAL_SCHEMA
    decisions: pl.DataFrame  # decision, pairs, both_paid
    decision_pairs: pl.DataFrame  # decision, decided_at, name_a, batches_a, name_b, batches_b
    batch_areas: pl.DataFrame  # batch_id, kecamatan_code, kecamatan, people
    recorded: dict[str, bool] = field(default_factory=dict)


def collect(
    book: Ledger,
    *,
    ledger_path: str,
    decrees: list[Decree],
    month: str | None = None,
    today: date | None = None,
    show_pii: bool = False,
) -> ReportData:
    """Read the ledger once and build every table of the report."""
    from jamsos_cli.codes import registry

    store = book.store
    batches = store.batch_details(RECORDED)
    live = batches.filter(pl.col("status") == STATUS_DONE)
    inputs = store.inputs()
    facts = folders.read_folders(batches, inputs, set(registry()))
    runs = run_facts(store, live, registry())
    chosen = report_month(live, month, today or date.today())
    decree_frame = decree_table(decrees, batches)
    areas = area_names(store)
    states = person_states(store, live)
    participants = participant_table(live, areas, chosen, states)
    live_inputs = inputs.join(live.select("batch_id"), on="batch_id", how="semi")
    # rows sent back: the ledger's record of each run where it has one, else the folders
    sent = pl.concat(
        [live_inputs.filter(~pl.col("batch_id").is_in(runs.batches)), runs.inputs],
        how="vertical_relaxed",
    )
    facts = folders.FolderFacts(
        manifests=facts.manifests,
        senders=pl.concat([facts.senders, runs.facts.senders], how="vertical_relaxed"),
        reasons=pl.concat([facts.reasons, runs.facts.reasons], how="vertical_relaxed"),
    )
    reviewed = store.decision_sides()
    paid = paid_pairs(book)
    return ReportData(
        month=month_label(chosen),
        ledger_path=ledger_path,
        ledger_id=store.ledger_id(),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        show_pii=show_pii,
        decrees=decree_frame,
        participants=participants,
        quota=quota_table(decree_frame, participants),
        statuses=status_table(participants),
        months=month_table(live, decree_frame),
        batches=batch_table(batches, inputs, facts),
        senders=sender_table(sent, facts),
        rejects=reject_table(sent, facts),
        refusals=refusal_table(states),
        decisions=decision_table(reviewed, paid),
        decision_pairs=decision_pair_table(reviewed, live, paid, show_pii),
        batch_areas=batch_area_table(areas),
        recorded={
            "statuses": True,
            "refusals": True,
            "rejects": facts.senders.height > 0,
            "rejects_complete": _every_live_input_read(sent, facts),
        },
    )


@dataclass(frozen=True)
class RunFacts:
    """What the ledger recorded of build-batch runs (schema 5 on), in the folders' shapes:
    ``inputs`` (INPUT_SCHEMA) and ``facts`` (senders, reasons) keyed by ``batch_id`` = minus
    the run's change id; ``batches``: the live batches those runs wrote (their folders are
    not read again)."""

    inputs: pl.DataFrame
    facts: folders.FolderFacts
    batches: list[int]


def run_facts(store: LedgerStore, live: pl.DataFrame, codes: dict) -> RunFacts:
    """The runs whose rejects count: those that wrote a live batch or none at all (a night
    when nobody was new still sent rows back), each version of a file once (the same file
    run every night counts once: its latest run)."""
    import json

    counts, inputs = store.run_findings()
    made = {
        change_id: json.loads(summary or "{}").get("batch")
        for change_id, *_, summary in store.changes()
    }
    live_ids = set(live.get_column("batch_id").to_list())
    runs = inputs.with_columns(
        pl.col("change_id").replace_strict(made, default=None, return_dtype=pl.Int64).alias("_b")
    ).filter(pl.col("_b").is_null() | pl.col("_b").is_in(list(live_ids)))
    # a batch a recorded run wrote is counted from the runs, never from its folder again,
    # even when a later run of the same file version is the one kept below
    written = runs.get_column("_b").drop_nulls().unique().sort().to_list()
    runs = runs.sort("change_id").unique(["name", "sha256"], keep="last", maintain_order=True)
    key = (-pl.col("change_id")).alias("batch_id")
    errors = [c for c, spec in codes.items() if spec.severity == "error"]
    reasons = (
        counts.filter(pl.col("code").is_in(errors))
        .join(runs.select("change_id", "position", pl.col("name").alias("input")),
              on=["change_id", "input"], how="inner")
        .select(key, "position", "code", pl.col("count").alias("rows"), "first")
    )  # fmt: skip
    return RunFacts(
        inputs=runs.select(key, "position", "name", "rows"),
        facts=folders.FolderFacts(
            manifests=pl.DataFrame(schema=folders.MANIFEST_SCHEMA),
            senders=runs.select(key, "position", "rejected", pl.lit(True).alias("reasons_known")),
            reasons=reasons,
        ),
        batches=written,
    )


def report_month(live: pl.DataFrame, month: str | None, today: date) -> int:
    """``--month``, else the latest month a live batch covers that is not after this month
    (else the first month covered: every batch is in the future; else this month)."""
    if month is not None:
        return month_index(month, "--month")
    this = today.year * 12 + today.month - 1
    started = live.filter(pl.col("start_month") <= this)
    if started.height:
        return int(started.select(pl.min_horizontal("end_month", pl.lit(this)).max()).item())
    return int(live.get_column("start_month").min()) if live.height else this


def decree_table(decrees: list[Decree], batches: pl.DataFrame) -> pl.DataFrame:
    """The decrees of the ledger's batches, plus the other decrees of the same cities (a
    decree nobody is in yet still has a quota to show); a decree id the rule sets do not
    know keeps its id as title, without quota."""
    from jamsos_cli import regions

    in_ledger = batches.get_column("decree").unique().sort().to_list()
    known = {d.id: d for d in decrees}
    names = regions.load()
    cities = {known[d].city_code for d in in_ledger if d in known}
    rows = []
    for d in sorted(decrees, key=lambda x: x.id):
        if d.id in in_ledger or d.city_code in cities:
            parts = d.premium.breakdown()
            rows.append(
                (
                    d.id,
                    d.title,
                    d.group,
                    d.city_code,
                    names.name_of(d.city_code),
                    d.quota_limit,
                    d.premium_per_person_month,
                    parts.get("JKK"),
                    parts.get("JKM"),
                    parts.get("JHT"),
                )
            )
    rows += [(d, d, *[None] * (len(DECREE_SCHEMA) - 2)) for d in in_ledger if d not in known]
    return pl.DataFrame(rows, schema=DECREE_SCHEMA, orient="row").sort("decree")


def area_names(store: LedgerStore) -> pl.DataFrame:
    """People per batch and kelurahan with the official kecamatan and kelurahan names (the
    region reference; for a code it does not know, the name the ledger recorded)."""
    from jamsos_cli import regions

    ref = regions.load().table.filter(pl.col("current")).select("code", "name")
    areas = store.people_by_area(RECORDED).with_columns(
        kecamatan_code=pl.col("kelurahan_code").str.slice(0, 8)
    )
    named = areas.join(
        ref.rename({"code": "kelurahan_code", "name": "kelurahan"}), on="kelurahan_code", how="left"
    )
    unknown = named.filter(pl.col("kelurahan").is_null(), pl.col("kelurahan_code").is_not_null())
    recorded = store.kelurahan_names(unknown.get_column("kelurahan_code").unique().sort().to_list())
    return (
        named.join(recorded.rename({"kelurahan": "_recorded"}), on="kelurahan_code", how="left")
        .join(ref.rename({"code": "kecamatan_code", "name": "kecamatan"}), on="kecamatan_code",
              how="left")
        .select("batch_id", "kecamatan_code", "kecamatan", "kelurahan_code",
                pl.coalesce("kelurahan", "_recorded").alias("kelurahan"), "people")
    )  # fmt: skip


def person_states(store: LedgerStore, live: pl.DataFrame) -> pl.DataFrame:
    """The people of live batches something happened to, with their status in each batch
    (``status.fold``: ``person_status``, ``reason``, ``kpj``, ``ended_from``...)."""
    from jamsos_cli.ledger.status import fold

    people = store.eventful_people(RECORDED).join(
        live.select("batch_id", "decree", "start_month", "end_month"), on="batch_id", how="inner"
    )
    return fold(people, store.events())


def participant_table(
    live: pl.DataFrame, areas: pl.DataFrame, month: int, states: pl.DataFrame
) -> pl.DataFrame:
    """People of the batches covering ``month`` by decree, status in that month, kecamatan
    and kelurahan. Within one decree a person is in one batch per month (the ledger refuses
    overlapping submissions), so rows of the batches covering the month count people; those
    something happened to (``states``) move from ``submitted`` to their status then: ended
    only from their end month on (covered until then, as confirmed or not)."""
    covering = live.filter(pl.col("start_month") <= month, pl.col("end_month") >= month)
    status = (
        pl.when(pl.col("person_status") != "ended")
        .then(pl.col("person_status"))
        .when(pl.col("ended_from") <= month)
        .then(pl.lit("ended"))
        .when(pl.col("kpj").is_not_null())
        .then(pl.lit("active"))
        .otherwise(pl.lit("submitted"))
    )
    moved = (
        states.join(covering.select("batch_id"), on="batch_id", how="semi")
        .with_columns(status.alias("status"))
        .filter(pl.col("status") != "submitted")
        .group_by("batch_id", "kelurahan_code", "status")
        .agg(pl.len().cast(pl.Int64).alias("moved"))
    )
    named = areas.select("batch_id", "kecamatan_code", "kecamatan", "kelurahan_code", "kelurahan")
    others = moved.join(named, on=["batch_id", "kelurahan_code"], how="left", nulls_equal=True)
    left = moved.group_by("batch_id", "kelurahan_code").agg(pl.col("moved").sum())
    submitted = (
        areas.join(left, on=["batch_id", "kelurahan_code"], how="left", nulls_equal=True)
        .with_columns(
            status=pl.lit("submitted"), people=pl.col("people") - pl.col("moved").fill_null(0)
        )
        .drop("moved")
    )
    rows = pl.concat(
        [submitted, others.rename({"moved": "people"}).select(submitted.columns)],
        how="vertical_relaxed",
    )
    return (
        rows.join(covering.select("batch_id", "decree"), on="batch_id", how="inner")
        .filter(pl.col("people") > 0)
        .group_by([c for c in PARTICIPANT_SCHEMA if c != "people"])
        .agg(pl.col("people").sum())
        .select(list(PARTICIPANT_SCHEMA))
        .cast(PARTICIPANT_SCHEMA)
        .sort(["decree", "status", "kecamatan_code", "kelurahan_code"], nulls_last=True)
    )


def refusal_table(states: pl.DataFrame) -> pl.DataFrame:
    """BPJS's refusals in live batches by decree and reason (``REFUSAL_SCHEMA``), most first."""
    return (
        states.filter(pl.col("person_status") == "refused")
        .group_by("decree", pl.col("reason").fill_null("-"))
        .agg(pl.len().cast(pl.Int64).alias("people"))
        .sort(["people", "decree", "reason"], descending=[True, False, False])
        .select(list(REFUSAL_SCHEMA))
    )


def quota_table(decrees: pl.DataFrame, participants: pl.DataFrame) -> pl.DataFrame:
    """Per decree: people covered in the month (submitted or active) against the quota
    (share null without one)."""
    people = (
        participants.filter(pl.col("status").is_in(["submitted", "active"]))
        .group_by("decree")
        .agg(pl.col("people").sum())
    )
    return (
        decrees.select("decree", "quota")
        .join(people, on="decree", how="left")
        .with_columns(pl.col("people").fill_null(0))
        .with_columns(share=pl.col("people") / pl.col("quota"))
        .select("decree", "people", "quota", "share")
    )


def status_table(participants: pl.DataFrame) -> pl.DataFrame:
    """People in the month by decree and status (SPEC §10 order)."""
    order = pl.col("status").replace_strict(
        {s: i for i, s in enumerate(PERSON_STATUSES)},
        default=len(PERSON_STATUSES),
        return_dtype=pl.Int64,
    )
    return (
        participants.group_by("decree", "status")
        .agg(pl.col("people").sum())
        .sort(pl.col("decree"), order)
    )


def month_table(live: pl.DataFrame, decrees: pl.DataFrame) -> pl.DataFrame:
    """Premium committed per month and decree (people in live batches covering the month ×
    each batch's premium per person-month) against the budget: quota × the decree's premium
    (null for a decree without quota)."""
    per_month = (
        live.with_columns(month=pl.int_ranges("start_month", pl.col("end_month") + 1))
        .explode("month")
        .group_by("month", "decree")
        .agg(
            people=pl.col("participants").sum(),
            premium=(pl.col("participants") * pl.col("premium_per_person_month")).sum(),
        )
    )
    return (
        per_month.join(
            decrees.select("decree", "quota", "premium_per_person_month"), on="decree", how="left"
        )
        .with_columns(budget=pl.col("quota") * pl.col("premium_per_person_month"))
        .sort("month", "decree")
        .select(
            month_label_expr(pl.col("month")).alias("month"),
            "decree",
            "people",
            "premium",
            "budget",
        )
    )


def _sender(name: pl.Expr) -> pl.Expr:
    """An input's file name without its folders (Windows or POSIX path)."""
    return name.str.extract(r"([^/\\]+)$", 1)


def batch_table(batches: pl.DataFrame, inputs: pl.DataFrame, facts: folders.FolderFacts):
    """One row per batch, oldest first: rows read, people submitted, rows sent back (null
    when the batch folder is gone or changed), premium."""
    rows_read = inputs.group_by("batch_id").agg(rows=pl.col("rows").sum(), inputs=pl.len())
    return (
        batches.join(rows_read, on="batch_id", how="left")
        .join(facts.manifests, on="batch_id", how="left")
        .sort("batch_id")
        .select(
            "batch_id",
            folder_basename(pl.col("folder")).alias("folder"),
            "decree",
            month_label_expr(pl.col("start_month")).alias("start"),
            month_label_expr(pl.col("end_month")).alias("end"),
            pl.col("created_at").str.slice(0, 10).alias("created"),
            "status",
            pl.col("inputs").fill_null(0).cast(pl.Int64),
            pl.col("rows").fill_null(0),
            "participants",
            "rejected",
            "already_submitted",
            "premium_per_person_month",
            "total_premium",
            "manifest_sha256",
        )
    )


def sender_table(inputs: pl.DataFrame, facts: folders.FolderFacts) -> pl.DataFrame:
    """Per sender (input file name) over the live batches: rows read, rows sent back (summed
    over the batches whose rejects are recorded: null when none is), whether every batch's
    count is recorded, and whether every batch's reasons are."""
    joined = inputs.join(facts.senders, on=["batch_id", "position"], how="left")
    recorded = pl.col("rejected").is_not_null()
    return (
        joined.group_by(_sender(pl.col("name")).alias("sender"))
        .agg(
            batches=pl.col("batch_id").n_unique().cast(pl.Int64),
            rows=pl.col("rows").sum(),
            rejected=pl.when(recorded.any()).then(pl.col("rejected").sum()),
            recorded=recorded.all(),
            reasons_known=pl.col("reasons_known").fill_null(False).all(),
        )
        .sort(["rejected", "sender"], descending=[True, False], nulls_last=True)
    )


def reject_table(inputs: pl.DataFrame, facts: folders.FolderFacts) -> pl.DataFrame:
    """Rows sent back per sender and reason code, most first: ``rows`` with the reason among
    theirs, ``first`` with it as their first reason (these add up to the sender's rows)."""
    return (
        facts.reasons.join(
            inputs.select("batch_id", "position", "name"), on=["batch_id", "position"], how="inner"
        )
        .group_by(_sender(pl.col("name")).alias("sender"), "code")
        .agg(pl.col("rows").sum(), pl.col("first").sum())
        .sort(["rows", "sender", "code"], descending=[True, False, False])
    )


def _every_live_input_read(inputs: pl.DataFrame, facts: folders.FolderFacts) -> bool:
    known = facts.senders.filter(pl.col("reasons_known")).select("batch_id", "position")
    return inputs.join(known, on=["batch_id", "position"], how="anti").height == 0


def paid_pairs(book: Ledger) -> pl.Series:
    """The reviewed pairs (``pair``, numbered in NIK order as ``decision_sides`` numbers
    them) whose two people are both paid for a month in common, nobody withdrawn: what
    ``jamsos dedupe`` counts as paid twice (``dedupe.paid_twice``), so the report and the
    command that names the row to withdraw agree (a withdrawn row is no longer paid)."""
    from jamsos_cli.dedupe import PAID_COLUMNS, paid_twice

    decided = book.decisions().sort("nik_a", "nik_b").with_row_index("pair", offset=1)
    if decided.height == 0:
        return pl.Series("pair", [], pl.Int64)
    paid = paid_twice(decided, book.people(columns=PAID_COLUMNS))
    keep, withdraw = pl.col("keep_nik"), pl.col("withdraw_nik")
    ordered = paid.select(
        nik_a=pl.when(keep < withdraw).then(keep).otherwise(withdraw),
        nik_b=pl.when(keep < withdraw).then(withdraw).otherwise(keep),
    )
    both = decided.join(ordered, on=["nik_a", "nik_b"], how="semi")
    return both.get_column("pair").cast(pl.Int64)


def _pair_sides(people: pl.DataFrame, live: pl.DataFrame) -> pl.DataFrame:
    """Per reviewed pair and side: the person's name and the live batches they are in."""
    in_live = people.join(
        live.select("batch_id", folder_basename(pl.col("folder")).alias("folder")),
        on="batch_id",
        how="inner",
    )
    return in_live.group_by("pair", "decision", "decided_at", "side").agg(
        pl.col("name").first(), pl.col("folder").unique().sort().str.join(", ").alias("batches")
    )


def decision_table(people: pl.DataFrame, paid: pl.Series) -> pl.DataFrame:
    """Reviewed near-duplicate pairs by decision (same/different), and how many of them have
    both people paid for a month in common (``paid_pairs``; a pair decided SAME and both
    paid: withdraw one)."""
    return (
        people.select("pair", "decision")
        .unique()
        .group_by("decision")
        .agg(
            pairs=pl.len().cast(pl.Int64),
            both_paid=pl.col("pair").is_in(paid.implode()).sum().cast(pl.Int64),
        )
        .sort("decision", descending=True)  # same, then different
    )


def decision_pair_table(
    people: pl.DataFrame, live: pl.DataFrame, paid: pl.Series, show_pii: bool
) -> pl.DataFrame:
    """Pairs decided SAME whose two people are both paid (``paid_pairs``), by name and live
    batches (only with ``--show-pii``; otherwise no row: the counts are in
    ``decision_table``)."""
    schema = {
        c: pl.Utf8 for c in ("decision", "decided_at", "name_a", "batches_a", "name_b", "batches_b")
    }
    if not show_pii:
        return pl.DataFrame(schema=schema)
    same = people.filter(pl.col("decision") == "same", pl.col("pair").is_in(paid.implode()))
    sides = _pair_sides(same, live)
    a = sides.filter(pl.col("side") == "a").rename({"name": "name_a", "batches": "batches_a"})
    b = sides.filter(pl.col("side") == "b").select(
        "pair", pl.col("name").alias("name_b"), pl.col("batches").alias("batches_b")
    )
    return (
        a.join(b, on="pair", how="inner")
        .sort("pair")
        .select(
            pl.col("decision"),
            pl.col("decided_at").str.slice(0, 10),
            "name_a",
            "batches_a",
            "name_b",
            "batches_b",
        )
    )


def batch_area_table(areas: pl.DataFrame) -> pl.DataFrame:
    """People per batch and kecamatan (the Berita Acara's breakdown)."""
    return (
        areas.group_by("batch_id", "kecamatan_code", "kecamatan")
        .agg(pl.col("people").sum())
        .sort(["batch_id", "people", "kecamatan_code"], descending=[False, True, False])
    )


def find_batch(data: ReportData, which: str) -> dict:
    """A batch of the report by id (``3``) or folder name; a voided batch is refused."""
    key = PurePath(PureWindowsPath(which.strip().rstrip("/\\")).name).name
    hit = data.batches.filter((pl.col("batch_id").cast(pl.Utf8) == key) | (pl.col("folder") == key))
    if hit.height == 0:
        raise UsageError("error.ledger.no_batch", batch=which, path=data.ledger_path)
    batch = hit.row(0, named=True)
    if batch["status"] != STATUS_DONE:
        raise UsageError(
            "error.report.batch_status",
            batch=which,
            id=batch["batch_id"],
            status=ref(f"office.batch_status.{batch['status']}"),
        )
    return batch
