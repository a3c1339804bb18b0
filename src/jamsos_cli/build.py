"""build-batch: validate the rosters, check them against the ledger, publish one batch folder.

A run, in order (SPEC §2, §6, §7):

1. everything checkable up front: period, decree, layout, output folder, the ledger (a
   foreign, corrupt or empty one is refused untouched, an unreachable server named; a
   missing one unless ``--new-ledger`` asks for it) — exit 2, nothing written;
2. the locks of the ledger (its store's: a file's whole, a shared database's for this
   decree) and the output folder (``locks.py``); held elsewhere → exit 3;
3. recovery of a killed run: the ledger settles its ``committing`` batch; then the output
   folder must hold only batches of this ledger, all of them known to it (``check_out``:
   another ledger's folder, or a ledger deleted, emptied or restored from an old copy, is
   exit 2 — nobody is paid again); staging folders of killed runs are removed;
4. ``pipeline.run_checks`` (age judged on the first day of ``--start``, near-duplicates also
   against the ledger's people); an input that cannot be used at all → exit 2, nothing written;
5. ledger checks on the rows still accepted: ``NIK_CONFLICT`` (the ledger holds the NIK for
   another person: the row goes back to the sender), ``ALREADY_ENROLLED`` (covered under
   another decree in overlapping months; the first recorded wins), ``ALREADY_SUBMITTED`` (same
   decree, overlapping months: info, not submitted again), then ``QUOTA_EXCEEDED`` counting
   the people the ledger already covers for this decree in overlapping months;
6. if anyone is left and this is not a dry run, the commit sequence:

   a. every file (batch parts, rejects, ``manifest.json``) is written and fsynced into the
      hidden staging folder ``OUT/.<folder>.tmp-<pid>/``;
   b. one ledger transaction (``store.transaction()``) records the batch (status
      ``committing``, with the manifest's sha256), its inputs and its people;
   c. the staging folder is renamed to ``OUT/<folder>/`` and ``OUT`` fsynced;
   d. the batch is marked ``done``.

   Killed before (b) commits: the ledger is as before and the staging folder is hidden,
   removed by the next run. Killed between (b) and (c): the next run (or ledger command) finds
   the batch ``committing`` with its staging folder still there (never published) and
   deletes its rows. Killed between (c) and (d): the staging folder is gone (the rename took
   its name), so the batch is marked done — also when its folder was moved meanwhile
   (``Ledger.recover``). Every state a kill can leave is "exactly before" or "exactly
   after".

On a ledger many offices share (PostgreSQL), a run on another decree may record some of the
same people between this run's reading of the ledger (step 5) and its transaction (6b): the
database refuses the batch (``RecordedMeanwhile``), the staging folder goes, and the run
checks again from step 4 (at most ``ATTEMPTS`` times): those people are then
``ALREADY_ENROLLED``. Nobody is covered twice.

Test-only hook: ``JAMSOS_TEST_CRASH_AT=<point>`` makes the process SIGKILL itself at a named
point: ``staged-part`` (after each batch file), ``staged`` (all files staged),
``ledger-created`` (a new ledger file exists, batch not recorded), ``ledger-insert`` (rows
inserted, transaction open), ``ledger-committed`` (before the rename), ``published``
(after the rename, before ``done``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from jamsos_cli import findings as fnd
from jamsos_cli.batch import (
    BATCH_FORMATS,
    DEFAULT_MAX_ROWS,
    BatchContext,
    Layout,
    batch_frame,
    check_out_dir,
    discard,
    folder_name,
    free_seq,
    publish,
    published_batches,
    remove_stale_staging,
    staging_path,
    write_batch_files,
    write_manifest,
)
from jamsos_cli.errors import UsageError
from jamsos_cli.exitcodes import ExitCode, outcome
from jamsos_cli.findings import Summary, summarise
from jamsos_cli.ledger import (
    STATUS_COMMITTING,
    STATUS_DONE,
    BatchRecord,
    Ledger,
    LedgerError,
    Location,
    Period,
    RecordedMeanwhile,
    RunRecord,
    change,
    check_file,
)
from jamsos_cli.ledger import lock as ledger_lock
from jamsos_cli.ledgerchecks import ALREADY_SUBMITTED
from jamsos_cli.texts import ref
from jamsos_cli.writing import (
    DiskFull,
    crash_point,
    new_private_dir,
    private_folder,
    sha256_file,
)

if TYPE_CHECKING:
    from jamsos_cli.config import InputRule
    from jamsos_cli.decrees import Decree
    from jamsos_cli.headers import Limits
    from jamsos_cli.ledger import LedgerView
    from jamsos_cli.pipeline import RunResult, Steps
    from jamsos_cli.renewal import Carry

# The finding codes this step emits (the checks against the ledger are ledgerchecks'):
# tests/test_house.py holds each step to its list, and all the lists to codes.toml.
EMITS: frozenset[str] = frozenset()


@dataclass
class BuildRequest:
    """Everything one build-batch run needs, already parsed (the CLI builds it)."""

    rosters: list[str]
    decree: Decree
    period: Period
    out: Path
    ledger: Location
    layout: Layout
    batch_format: str = "xlsx"
    max_rows: int = DEFAULT_MAX_ROWS
    dry_run: bool = False
    role: str | None = None
    sheet: str | None = None
    hold_score: float | None = None  # None: neardup.DEFAULT_HOLD_SCORE
    city_code: str = "21.71"
    file_mode: int = 0o600
    lang: str = "id"
    inputs: list[InputRule] = field(default_factory=list)  # config [[inputs]]: role, sheet
    limits: Limits | None = None  # reading limits (None: as shipped)
    steps: Steps | None = None  # where the run is, for a display (render.progress.shown)
    new_ledger: bool = False  # --new-ledger: create the ledger if it is missing
    command: str = "build-batch"  # as the ledger's change log records it
    renew: bool = False  # --renew: carry the decree's people whose period ended (renewal.py)


@dataclass
class BuildResult:
    request: BuildRequest
    run: RunResult
    findings: pl.DataFrame  # the run's findings plus the ledger checks
    summary: Summary
    ledger_new: bool  # no ledger file before this run
    ledger_id: str = ""
    submitted: int = 0
    already_submitted: int = 0
    batch: dict[str, Any] | None = None  # the folder written (or, dry run, that would be)
    recovered: list[str] = field(default_factory=list)
    renewal: dict[str, Any] | None = None  # --renew: carried, dropped (code → n), new

    @property
    def fatal(self) -> bool:
        return self.run.fatal

    @property
    def exit_code(self) -> ExitCode:
        return outcome(unusable=self.fatal, rejected=bool(self.summary.rejected))


Progress = Callable[..., None]  # progress(key, **values): a catalogue text for the clerk
ATTEMPTS = 3  # checks run again when another office recorded the same people meanwhile


def _silent(_key: str, **_values: object) -> None:
    pass


def build_batch(req: BuildRequest, progress: Progress = _silent) -> BuildResult:
    """Run build-batch; raises ``JamsosError`` for usage problems (exit 2) and ``LockHeld``."""
    if req.max_rows < 1:
        raise UsageError("error.option.max_rows", value=req.max_rows)
    if req.batch_format not in BATCH_FORMATS:
        raise UsageError("error.option.batch_format", value=req.batch_format)
    check_out_dir(req.out)
    check_file(req.ledger, new=req.new_ledger)
    if req.dry_run:
        with Ledger.snapshot(req.ledger) as ledger:
            recovered = ledger.recover()  # on the private copy only
            check_out(req.out, ledger)
            return _run(req, ledger, recovered, progress)
    from jamsos_cli.locks import folder_lock

    private_folder(req.out, req.file_mode)
    # the ledger's lock, then the output folder's: the same order in every run, and neither
    # waits, so there is no deadlock
    with (
        ledger_lock(req.ledger, req.file_mode, req.decree.id) as store,
        folder_lock(req.out, mode=req.file_mode),
        Ledger.open(store, mode=req.file_mode) as ledger,
    ):
        recovered = ledger.recover()
        check_out(req.out, ledger)
        recovered += [ref("build.removed_staging", path=p) for p in remove_stale_staging(req.out)]
        for _ in range(ATTEMPTS - 1):
            try:
                return _run(req, ledger, recovered, progress)
            except RecordedMeanwhile:
                recovered.append(ref("build.recorded_meanwhile"))
                recovered += ledger.recover()  # a batch a run that died meanwhile left
        return _run(req, ledger, recovered, progress)


def check_out(out: Path, ledger: Ledger) -> None:
    """The output folder holds batches of this ledger only, and the ledger knows every one.

    A folder is this ledger's when the ledger holds a batch of that name and its manifest is
    the one the ledger recorded (its sha256), or names this ledger's id and that batch.
    Otherwise the manifest says whose it is (``ledger_id``; one written before ledgers had
    ids names its path). A folder of another ledger means two
    ledgers would pay into one folder; a folder of this ledger that it does not hold means
    the ledger was deleted and made anew, emptied, or restored from an old copy: either way
    people in those folders would be paid again (a folder naming this ledger's path with
    another id: the ledger at this path was made anew). Exit 2, nothing written."""
    held = {Path(b["folder"]).name: b for b in ledger.batches()}
    ours = ledger.id
    for name, manifest in published_batches(out):
        owner = manifest.get("ledger_id")
        named = manifest.get("ledger")
        batch = manifest.get("batch") if isinstance(manifest.get("batch"), dict) else {}
        mine = held.get(name)
        if mine is not None and (
            sha256_file(out / name / "manifest.json") == mine["manifest_sha256"]
            or (owner == ours and batch.get("id") == mine["id"])
        ):
            continue  # the manifest the ledger recorded, or one of its own batches
        if owner != ours and named != str(ledger.path):  # as the manifest records it
            raise LedgerError(
                "error.ledger.other_ledger",
                out=out,
                folder=name,
                ledger=named or "?",
                path=ledger.path,
            )
        raise LedgerError("error.ledger.lacks_batch", path=ledger.path, out=out, folder=name)


def _run(
    req: BuildRequest, ledger: Ledger, recovered: list[str], progress: Progress
) -> BuildResult:
    from jamsos_cli.ledgerchecks import LEDGER_COLUMNS

    # one read: near-duplicates and the ledger checks; a batch another office's live run is
    # committing counts (a shared ledger; a file has none left once recovered)
    view = ledger.view(LEDGER_COLUMNS, statuses=(STATUS_DONE, STATUS_COMMITTING))
    if not req.renew:
        return _checked(req, ledger, recovered, progress, view, list(req.rosters))
    # a renewal: the people to carry go first, as a roster (renewal.py)
    from jamsos_cli import renewal

    carry = renewal.candidates(ledger, view, req.decree.id, req.period)
    held = renewal.roster_path(req.ledger, req.decree.id, req.period, req.out)
    rosters = [str(renewal.write_roster(carry.people, held, req.file_mode)), *req.rosters]
    try:
        return _checked(req, ledger, recovered, progress, view, rosters, carry)
    finally:
        renewal.remove_roster(held)


def _checked(
    req: BuildRequest,
    ledger: Ledger,
    recovered: list[str],
    progress: Progress,
    view: LedgerView,
    rosters: list[str],
    carry: Carry | None = None,
) -> BuildResult:
    """The checks, then the batch (``_run``; ``carry``: a renewal's people, ``rosters[0]``)."""
    from jamsos_cli.ledgerchecks import ledger_checks
    from jamsos_cli.pipeline import RunOptions, attach_context, run_checks

    known = view.people.filter(pl.col("person_status") != "withdrawn")
    if carry is not None:  # a carried person's own records are them, not a near-duplicate
        known = known.join(carry.people.select("nik"), on="nik", how="anti")
    options = RunOptions(
        decree=req.decree,
        as_of=req.period.first_day,
        role=req.role,
        sheet=req.sheet,
        city_code=req.city_code,
        known=ledger.known(known),
        decisions=ledger.decisions(),  # pairs reviewed with jamsos dedupe --decisions
        hold_score=req.hold_score,  # undecided likely duplicates from it are held
        all_columns=True,  # the batch files are written from the accepted records
        inputs=req.inputs,
        limits=req.limits,
        steps=req.steps,
    )
    run = run_checks(rosters, options)
    result = BuildResult(
        request=req,
        run=run,
        findings=run.findings,
        summary=summarise(run.records, run.findings, run.inputs),
        ledger_new=not ledger.exists,
        ledger_id=ledger.id,
        recovered=recovered,
    )
    if run.fatal:
        return result  # an input could not be used: nothing is written (exit 2)
    checks = ledger_checks(run, view, req.period, req.decree)
    if carry is not None:
        from jamsos_cli.renewal import gap_checks

        checks = fnd.concat_checks([checks, gap_checks(run.records, carry.people, req.period)])
    findings = pl.concat([run.findings, attach_context(checks, run.records, run.tables)]).sort(
        "rid", nulls_last=False, maintain_order=True
    )
    result.findings = findings
    result.summary = summarise(run.records, findings, run.inputs)
    result.already_submitted = int((checks.get_column("code") == ALREADY_SUBMITTED).sum())
    people = _accepted(run.records, findings)
    result.submitted = people.height
    if carry is not None:
        result.renewal = carry.summary(run.records, findings, people.get_column("_rid"))
    run_record = _run_record(run, findings, result.summary)
    if people.height == 0:
        if not req.dry_run:  # who sent what rejects, also when nobody was new
            command = change(req.command, summary={"batch": None, "people": 0, "premium": 0})
            ledger.record_run(command, run_record)
        return result  # nobody new: no batch folder
    result.batch = _publish(
        req, ledger, run, findings, result.summary, people, run_record, progress, result.renewal
    )
    return result


def _run_record(run: RunResult, findings: pl.DataFrame, summary: Summary) -> RunRecord:
    """The run's inputs and their counts of findings by code, for the ledger."""
    files = {f["file"]: f for f in summary.by_file}
    paths = {t.file: t.path for t in run.tables}
    inputs = [
        {
            "position": i,
            "name": name,
            "sha256": sha256_file(paths[name]) if name in paths else "",
            "rows": files.get(name, {}).get("rows", 0),
            "accepted": files.get(name, {}).get("accepted", 0),
            "rejected": files.get(name, {}).get("rejected", 0),
        }
        for i, name in enumerate(run.inputs)
    ]
    named = findings.filter(pl.col("file").is_not_null())
    first = (  # each rejected row's first reason, as its rejects file lists them
        named.filter(pl.col("severity") == "error", pl.col("rid").is_not_null())
        .unique("rid", keep="first", maintain_order=True)
        .group_by(pl.col("file").alias("input"), "code")
        .agg(pl.len().cast(pl.Int64).alias("first"))
    )
    counts = (
        named.group_by(pl.col("file").alias("input"), "code")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .join(first, on=["input", "code"], how="left")
        .with_columns(pl.col("first").fill_null(0))
        .sort("input", "code")
    )
    return RunRecord(inputs=inputs, counts=counts)


def _accepted(records: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """Records with no error and not already submitted, in input order."""
    held = findings.filter(
        (pl.col("severity") == "error") | (pl.col("code") == ALREADY_SUBMITTED),
        pl.col("rid").is_not_null(),
    ).get_column("rid")
    # a filter, not an anti-join: the records frame is wide (~60 columns), and the join
    # gathered every one of them (5x slower at a million rows)
    return records.filter(~pl.col("_rid").is_in(held.implode()))


def _inputs(run: RunResult, run_record: RunRecord) -> list[dict[str, Any]]:
    """Each input file as given, with its rows read and its sha256 (the run record's: a
    million-row roster takes 0.3 s to hash)."""
    paths = {t.file: t.path for t in run.tables}
    digests = {x["name"]: x["sha256"] for x in run_record.inputs}
    per_src = dict(run.records.group_by("_src").len().iter_rows())  # integers: cheap to group
    rows: dict[str, int] = {}
    for i, t in enumerate(run.tables):
        rows[t.file] = rows.get(t.file, 0) + per_src.get(i, 0)
    return [
        {"name": name, "rows": int(rows.get(name, 0)), "sha256": digests[name]}
        for name in run.inputs
        if name in paths
    ]


def _rejects_outputs(run: RunResult, findings: pl.DataFrame, written: list[Path]) -> list[dict]:
    errors = findings.filter(pl.col("severity") == "error", pl.col("rid").is_not_null())
    per_src = dict(
        run.records.join(errors.select(pl.col("rid").alias("_rid")).unique(), on="_rid")
        .group_by("_src")
        .len()
        .iter_rows()
    )
    return [
        {"name": path.name, "rows": int(per_src.get(src, 0)), "sha256": sha256_file(path)}
        for src, path in enumerate(written)
    ]


def _ledger_people(people: pl.DataFrame) -> pl.DataFrame:
    """The identity fields later runs need, as the ledger stores them."""
    where = pl.when(pl.col("_sheet").is_null()).then(pl.format("{}:{}", "_file", "_row"))
    where = where.otherwise(pl.format("{} [{}]:{}", "_file", "_sheet", "_row"))
    return people.select(
        "nik",
        "name",
        pl.col("birth_date").dt.strftime("%Y-%m-%d"),
        "sex",
        "phone",
        "kelurahan",
        "kelurahan_code",
        where.alias("source"),
        pl.col("role").cast(pl.Utf8),
    )


def _context(req: BuildRequest) -> BatchContext:
    from jamsos_cli import regions

    names = regions.load()
    code = req.decree.city_code
    return BatchContext(
        decree=req.decree,
        period=req.period,
        city=names.name_of(code),
        province=names.name_of(code.split(".")[0]),
        date_format=req.layout.date_format,
    )


def _publish(
    req: BuildRequest,
    ledger: Ledger,
    run: RunResult,
    findings: pl.DataFrame,
    summary: Summary,
    people: pl.DataFrame,
    run_record: RunRecord,
    progress: Progress,
    renewal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Steps 6a–6d of the module docstring; returns what the summary shows of the batch."""
    from jamsos_cli import __version__, money
    from jamsos_cli.render.rejects import write_rejects

    seq = free_seq(req.out, req.decree.id, req.period, ledger.next_seq(req.decree.id, req.period))
    name = folder_name(req.decree.id, req.period, seq)
    final = req.out / name
    per_month = req.decree.premium_per_person_month
    total = money.total_premium(people.height, req.period.months, per_month)
    info: dict[str, Any] = {
        "id": ledger.next_id(),
        "seq": seq,
        "folder": str(final),
        "participants": people.height,
        "months": req.period.months,
        "premium_per_person_month": per_month,
        "total_premium": total,
        "written": False,
        "outputs": [],
    }
    if req.dry_run:
        return info
    try:
        staging = new_private_dir(staging_path(req.out, name), req.file_mode)
    except DiskFull as full:
        raise full.of_batch() from None
    try:
        frame = batch_frame(people, req.layout, _context(req))
        progress("build.writing", n=people.height, folder=final)
        parts = write_batch_files(
            frame,
            staging,
            name,
            fmt=req.batch_format,
            max_rows=req.max_rows,
            layout=req.layout,
            mode=req.file_mode,
        )
        rejects = write_rejects(
            run.tables,
            run.records,
            findings,
            staging,
            lang=req.lang,
            mode=req.file_mode,
            as_folder=True,
        )
        inputs = _inputs(run, run_record)
        manifest = {
            "decree": req.decree.id,
            "start": req.period.start_label,
            "end": req.period.end_label,
            "months": req.period.months,
            "participants": people.height,
            "premium_per_person_month": per_month,
            "premium_by_program": req.decree.premium.breakdown(),
            "total_premium": total,
            "batch": {"id": info["id"], "seq": seq, "folder": name},
            "layout": req.layout.id,
            "batch_format": req.batch_format,
            "max_rows": req.max_rows,
            "rows": summary.rows,
            "rejected": summary.rejected,
            "already_submitted": int(summary.by_code.get(ALREADY_SUBMITTED, 0)),
            "inputs": inputs,
            "outputs": parts + _rejects_outputs(run, findings, rejects),
            "by_code": summary.by_code,
            **({"renewal": renewal} if renewal is not None else {}),
            "ledger": str(req.ledger),
            "ledger_id": ledger.id,
            "status": "done",
            "tool_version": __version__,
            "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        manifest_path = write_manifest(staging, manifest, mode=req.file_mode)
        crash_point("staged")
        batch_id = ledger.record_batch(
            BatchRecord(
                id=info["id"],
                decree=req.decree.id,
                period=req.period,
                seq=seq,
                folder=final,
                participants=people.height,
                premium_per_person_month=per_month,
                total_premium=total,
                manifest_sha256=sha256_file(manifest_path),
                tool_version=__version__,
                premiums=req.decree.premium.breakdown(),
            ),
            _ledger_people(people),
            inputs,
            change(
                req.command,
                input_path=manifest_path,
                input_name=f"{name}/manifest.json",
                summary={
                    "batch": info["id"],
                    "people": people.height,
                    "premium": total,
                    "inputs": len(inputs),
                },
            ),
            run_record,
        )
    except BaseException as exc:
        discard(staging)
        if isinstance(exc, DiskFull):
            raise exc.of_batch() from None
        raise
    crash_point("ledger-committed")
    try:
        publish(staging, final)
    except BaseException:
        ledger.rollback(batch_id)
        discard(staging)
        raise
    crash_point("published")
    ledger.mark_done(batch_id)
    info.update(written=True, outputs=manifest["outputs"], manifest=str(final / "manifest.json"))
    return info


# --- what the clerk reads -----------------------------------------------------------------
