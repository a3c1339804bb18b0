"""The validation pipeline: read → normalise → check → eligibility → deduplicate.

Pure steps over Polars frames; each returns findings in the one long table
(``findings.FINDING_SCHEMA``). ``validate`` and ``build-batch`` both run ``run_checks``; the
CLI only renders what it returns.

Memory is bounded by design (10 million rows in under 8 GiB): the row-by-row steps
(normalise, row checks, eligibility) run in batches of ``BATCH_ROWS``; the run-wide steps
after them (duplicates, quota, near-duplicates) keep only the columns they read unless the
caller needs every column; the rows as read may be released once normalised
(``RunOptions.keep_rows``, ``read.reread``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from jamsos_cli import findings as fnd
from jamsos_cli.codes import severity_table
from jamsos_cli.read import expand_inputs, read_roster
from jamsos_cli.schema import field_extra, required_fields
from jamsos_cli.tables import RosterReadError, RosterTable

if TYPE_CHECKING:
    from jamsos_cli.config import InputRule
    from jamsos_cli.decrees import Decree
    from jamsos_cli.headers import Limits
    from jamsos_cli.linkage import Model

# The finding codes this step emits (an input that cannot be used at all, and the role of
# a list with no role column): tests/test_house.py holds each step to its list, and all the
# lists to codes.toml.
EMITS = frozenset(
    {
        "FILE_UNREADABLE",
        "HEADER_MISSING_COLUMN",
        "ROLE_FROM_TITLE",
        "ROLE_NOT_GIVEN",
    }
)


# Rows normalised and checked per batch: bounds the memory of the row-by-row steps.
BATCH_ROWS = 500_000
# The records columns the steps after the row checks read (duplicates, quota, finding
# locations, summary, rejects), besides the near-duplicate engine's ``neardup.IDENTITY``.
RUN_WIDE_COLUMNS = [
    "_rid", "_src", "_file", "_sheet", "_row", "raw_nik", "nik_int", "name_key", "father_key"
]  # fmt: skip
# step(stage, done, total, **values): where a run is (RunOptions.step), for a display.
Steps = Callable[..., None]


@dataclass
class RunOptions:
    decree: Decree | None = None
    as_of: date = field(default_factory=date.today)
    role: str | None = None
    sheet: str | None = None
    city_code: str = "21.71"
    near_duplicates: bool = True
    apply_quota: bool = False  # validate: quota of this run alone; build-batch adds the ledger
    known: pl.DataFrame | None = None  # people already in the ledger, for near-duplicates
    decisions: pl.DataFrame | None = None  # reviewed near-duplicate pairs
    near_min_score: float | None = None  # None: the engine's default (neardup.DEFAULT_MIN_SCORE)
    hold_score: float | None = None  # None: neardup.DEFAULT_HOLD_SCORE (NEAR_DUPLICATE_HELD)
    all_columns: bool = False  # RunResult.records with every column, not only the run-wide ones
    keep_rows: bool = True  # False: the rows as read are released once normalised
    inputs: list[InputRule] = field(default_factory=list)  # config [[inputs]]: role, sheet
    limits: Limits | None = None  # reading limits (None: as shipped)
    steps: Steps | None = None  # where the run is, for a display (render.progress.shown)

    def step(self, stage: str, done: int, total: int, **values: object) -> None:
        """Report where the run is: ``stage`` (``progress.<stage>`` names it), ``done`` of
        ``total``; the values its text names."""
        if self.steps is not None:
            self.steps(stage, done, total, **values)


@dataclass
class RunResult:
    tables: list[RosterTable]
    records: pl.DataFrame
    findings: pl.DataFrame  # FINDING_SCHEMA, file-level findings first
    inputs: list[str]  # every input file as displayed, in run order
    fatal: bool  # an input could not be processed at all (exit 2)
    near_pairs: pl.DataFrame | None = None
    near_model: Model | None = None  # the model that scored near_pairs (its parameters: reports)

    def rejected_rids(self) -> pl.Series:
        return (
            self.findings.filter(pl.col("severity") == "error", pl.col("rid").is_not_null())
            .get_column("rid")
            .unique()
        )

    def accepted(self) -> pl.DataFrame:
        # a filter, not an anti-join: the join gathers every column of the wide records
        # frame (5x slower at a million rows); the order is kept either way
        return self.records.filter(~pl.col("_rid").is_in(self.rejected_rids().implode()))


# A required field counts as present when one of these columns is there instead.
_SATISFIED_BY: dict[str, tuple[str, ...]] = {
    "birth_date": ("birth_date", "birth_place_date"),
    "role": ("role", "occupation"),
}


def _present(table: RosterTable, name: str) -> bool:
    if name == "role":  # also from --role, [[inputs]] or the title; an occupation may not do
        return (
            table.column_of("role") is not None
            or table.role is not None
            or (table.occupation_is_role and "occupation" in table.fields)
        )
    return any(
        alt in table.fields or alt in table.derived for alt in _SATISFIED_BY.get(name, (name,))
    )


def missing_columns(table: RosterTable, needed: list[str]) -> list[str]:
    """Required fields with no column in ``table``, as the header a sender would add."""
    return [field_extra(n)["x-aliases"][0] for n in needed if not _present(table, n)]


def settle_role(table: RosterTable, options: RunOptions, rule: InputRule | None) -> list[dict]:
    """The role of a table with no role column: ``--role``, else the config's
    ``[[inputs]]``, else (under a decree whose roles are occupations) its occupation
    column, else the role its title names (a ``ROLE_FROM_TITLE`` note). Under a decree
    whose roles are offices an occupation never stands for the role."""
    from jamsos_cli.eligibility import role_from_title

    if table.column_of("role") is not None:
        return []
    decree = options.decree
    table.role = options.role if options.role is not None else (rule.role if rule else None)
    table.occupation_is_role = decree is None or decree.roles_are == "occupations"
    if table.role is not None or decree is None:
        return []
    if table.occupation_is_role and "occupation" in table.fields:
        return []
    found = role_from_title(table.title_rows, decree)
    if found is None:
        return []
    table.role = found[0]
    detail = f'{found[0]} ("{found[1]}")'
    return [fnd.file_finding(table.file, table.sheet, "ROLE_FROM_TITLE", detail=detail)]


def needed_fields(options: RunOptions) -> list[str]:
    needed = required_fields(with_decree=options.decree is not None)
    if options.role is not None and "role" in needed:
        needed.remove("role")
    if options.decree is not None:
        needed += [f for f in options.decree.required_fields if f not in needed]
    return needed


def read_inputs(
    inputs: list[str], options: RunOptions
) -> tuple[list[RosterTable], list[dict], list[str], bool]:
    """Read every input; a file that cannot be used becomes a file-level finding, not a crash,
    and the other files are still read and reported (SPEC §2, exit 2)."""
    tables: list[RosterTable] = []
    notes: list[dict] = []
    shown: list[str] = []
    fatal = False
    needed = needed_fields(options)
    total = count_inputs(inputs) if options.steps is not None else 0
    for path, display, err in _expand_each(inputs):
        options.step("read", len(shown), total, file=display)
        shown.append(display)
        table = None
        rule = next((r for r in options.inputs if r.matches(Path(display).name)), None)
        sheet = options.sheet if options.sheet is not None else (rule.sheet if rule else None)
        if err is None:
            try:
                table = read_roster(path, display, sheet, options.limits)
            except RosterReadError as exc:
                err = exc
        if err is not None:
            notes.extend({**note, "row": None} for note in err.notes)
            notes.append(_unusable(display, err))
            fatal = True
            continue
        notes.extend({**note, "row": None} for note in table.notes)
        notes.extend(settle_role(table, options, rule))
        missing = missing_columns(table, needed)
        if missing:
            notes.append(
                fnd.file_finding(
                    display, table.sheet, "HEADER_MISSING_COLUMN", detail=", ".join(missing)
                )
            )
            if options.decree is not None and not _present(table, "role"):
                roles = ", ".join(r.name for r in options.decree.roles)
                notes.append(fnd.file_finding(display, table.sheet, "ROLE_NOT_GIVEN", detail=roles))
            fatal = True
            continue
        tables.append(table)
    if shown:
        options.step("read", total, total, file=shown[-1])
    return tables, notes, shown, fatal


def count_inputs(inputs: list[str]) -> int:
    """How many input files the arguments stand for (a folder: its rosters; an argument
    that cannot be expanded counts as one), as ``RunResult.inputs`` will list them."""
    return sum(1 for _ in _expand_each(inputs))


def _expand_each(inputs: list[str]):
    """(path, display, error) per input file; an argument that fails stands for itself."""
    for arg in inputs:
        try:
            for path, display in expand_inputs([arg]):
                yield path, display, None
        except RosterReadError as err:
            yield None, err.file or arg, err


def _unusable(display: str, err: RosterReadError) -> dict:
    """A file-level finding for an input that cannot be processed (row stays null)."""
    detail, value = err.finding_detail()  # a texts.ref, rendered in the report's language
    finding = fnd.file_finding(
        display,
        err.sheet,
        getattr(err, "code", "FILE_UNREADABLE"),
        detail=detail,
        column=err.column,
    )
    return {**finding, "value": value}


def attach_context(checks: pl.DataFrame, records: pl.DataFrame, tables: list[RosterTable]):
    """Give each check row its file, sheet, row, header as written, and severity."""
    headers = pl.DataFrame(
        [
            {"_src": i, "field": f, "column": header}
            for i, t in enumerate(tables)
            for f, header in _field_columns(t).items()
        ],
        schema={"_src": pl.Int32, "field": pl.Utf8, "column": pl.Utf8},
    )
    where = records.select("_rid", "_src", "_file", "_sheet", "_row")
    return (
        checks.join(where, left_on="rid", right_on="_rid", how="left")
        .join(headers, on=["_src", "field"], how="left")
        .join(severity_table(), on="code", how="left")
        .rename({"_file": "file", "_sheet": "sheet", "_row": "row"})
        .select(list(fnd.FINDING_SCHEMA))
        .cast(fnd.FINDING_SCHEMA)
    )


def _field_columns(table: RosterTable) -> dict[str, str]:
    """field → the header of its column, with a stand-in column for a field read from
    another one (a role read from PEKERJAAN, a birth date from TEMPAT/TGL LAHIR)."""
    columns = {f: table.header_of(f) for f in [*table.fields, *table.derived]}
    for name, alternatives in _SATISFIED_BY.items():
        if name == "role" and (table.role is not None or not table.occupation_is_role):
            continue
        if name not in columns:
            present = [table.header_of(a) for a in alternatives if a in table.fields]
            if present:
                columns[name] = present[0]
    return columns


def error_rids(checks: pl.DataFrame) -> pl.Series:
    """The records with an error so far (in no particular order): a filter on the error
    codes, not a join of the severities onto every check (4x faster; run three times)."""
    sev = severity_table()
    errors = sev.filter(pl.col("severity") == "error").get_column("code").implode()
    return checks.filter(pl.col("code").is_in(errors)).get_column("rid").unique()


def run_checks(inputs: list[str], options: RunOptions) -> RunResult:
    """Everything validate does; build-batch adds ledger and quota steps on top."""
    from jamsos_cli import regions as reg
    from jamsos_cli.checks import row_checks
    from jamsos_cli.duplicates import duplicate_checks
    from jamsos_cli.eligibility import eligibility_checks
    from jamsos_cli.neardup import IDENTITY
    from jamsos_cli.normalise import normalise_batches

    tables, notes, shown, fatal = read_inputs(inputs, options)
    regions = reg.load()
    city = options.decree.city_code if options.decree is not None else options.city_code
    # The row-by-row steps run in batches; the run-wide steps after them see every record
    # but, unless the caller needs them all (build-batch, dedupe), only the columns they read.
    run_wide = list(dict.fromkeys([*RUN_WIDE_COLUMNS, *IDENTITY]))
    kept: list[pl.DataFrame] = []
    parts: list[pl.DataFrame] = []
    rows, done = sum(t.frame.height for t in tables), 0
    for batch in normalise_batches(
        tables, regions=regions, city_code=city, role_override=options.role, rows=BATCH_ROWS
    ):
        options.step("check", done, rows)
        done += batch.height
        parts.append(row_checks(batch, regions=regions, city_code=city))
        if options.decree is not None:
            parts.append(eligibility_checks(batch, options.decree, as_of=options.as_of))
        kept.append(batch if options.all_columns else batch.select(run_wide))
        del batch
    records = pl.concat(kept) if len(kept) > 1 else kept[0]
    del kept
    if not options.keep_rows:
        for table in tables:  # the records say the rest; read.reread gets the rows back
            table.frame = table.frame.select("_row")
    options.step("check", rows, rows)
    checks = fnd.concat_checks(parts)
    options.step("duplicates", 0, 1)
    checks = fnd.concat_checks([checks, duplicate_checks(records, error_rids(checks))])
    options.step("duplicates", 1, 1)
    near_pairs = near_model = None
    if options.near_duplicates and records.height:
        from jamsos_cli.duplicates import same_person_checks
        from jamsos_cli.neardup import (
            DEFAULT_HOLD_SCORE,
            DEFAULT_MIN_SCORE,
            near_duplicate_checks,
            search,
        )

        hold = DEFAULT_HOLD_SCORE if options.hold_score is None else options.hold_score
        # pairs are looked for from the reporting score, or from the hold score below it
        low = min(DEFAULT_MIN_SCORE, hold) if options.near_min_score is None else None
        # every record takes part, rejected ones too: an Excel-truncated NIK is a reason to
        # look for the person elsewhere, not to stop looking
        options.step("near_duplicates", 0, 1)
        near = search(
            records,
            known=options.known,
            decisions=options.decisions,
            min_score=options.near_min_score if low is None else low,
        )
        near_pairs, near_model = near.pairs, near.model
        # a pair a clerk decided "same" is no longer a warning: the later record is rejected;
        # an undecided pair from the hold score holds the later record until it is decided
        same = (pl.col("decision") == "same").fill_null(False)
        rejected = error_rids(checks)
        checks = fnd.concat_checks(
            [
                checks,
                near_duplicate_checks(
                    near_pairs.filter(~same), records, hold_score=hold, rejected=rejected
                ),
                same_person_checks(near_pairs.filter(same), records, rejected),
            ]
        )
        options.step("near_duplicates", 1, 1)
    # the quota counts the rows still to be paid: a held row is not (NEAR_DUPLICATE_HELD)
    if options.decree is not None and options.apply_quota:
        from jamsos_cli.eligibility import quota_checks

        rids = records.get_column("_rid")  # not the wide frame: only the ids are needed
        eligible = rids.filter(~rids.is_in(error_rids(checks).implode()))
        checks = fnd.concat_checks([checks, quota_checks(records, options.decree, eligible)])
    findings = pl.concat(
        [
            pl.DataFrame(notes, schema=fnd.FINDING_SCHEMA),
            attach_context(checks, records, tables).sort("rid", maintain_order=True),
        ]
    )
    return RunResult(tables, records, findings, shown, fatal, near_pairs, near_model)
