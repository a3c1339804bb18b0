"""Renewal (``build-batch --renew``): next budget year's batch carries this year's people.

Who is carried: everyone of the decree's live batches whose latest period of that decree
ended before the new start. They need no new roster row: the ledger's identity of each (NIK,
name, birth date, sex, phone, kelurahan, its kecamatan, the role they were submitted for) is
written as a roster (``write_roster``, through the one write path, in a private folder beside
the ledger) and goes first through the same checks as every roster: age on the new start,
every rule on the identity the ledger holds, the quota (carried people are first in input
order, so they use it first), near-duplicates against the ledger's other people (a carried
person's own records are that person, not a near-duplicate: left out, which also halves the
renewal's time and memory at a million). A roster row given for a carried person is that
row's ``NIK_DUPLICATE`` of the renewal: it goes back to the sender, the person is carried
once.

Who is not carried: a person whose latest period BPJS refused or who was withdrawn from it
(counted as dropped by that status); an ended person is carried into the checks and dropped
there (``PERSON_ENDED``), like one whose registry match failed (``DUKCAPIL_NOT_MATCHED``).

What the run reports (``Carry.summary``): carried, dropped by reason (the error codes of the
renewal rows, and the statuses left out) and new (accepted rows of the rosters given).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from jamsos_cli.ledger import Ledger, LedgerView, Period
from jamsos_cli.ledger.store import EVENT_REFUSED, EVENT_WITHDRAWN

# The finding codes this step emits (tests/test_house.py holds it to this list).
EMITS = frozenset({"COVERAGE_GAP"})

# The renewal roster's headers: names the reader knows (schemas/roster.schema.json aliases).
HEADERS = {
    "nik": "NIK",
    "name": "NAMA",
    "birth_date": "TANGGAL LAHIR",
    "sex": "JENIS KELAMIN",
    "phone": "NO HP",
    "kelurahan": "KELURAHAN",
    "kecamatan": "KECAMATAN",
    "role": "JABATAN",
}
_HELD = ("batch_id", "nik", "name", "birth_date", "sex", "phone", "kelurahan")
_HELD += ("kelurahan_code", "role", "end_month")


@dataclass(frozen=True)
class Carry:
    """A renewal's people (``people``: ``_HELD`` and ``kecamatan``, in ledger order) and the
    people left out before any check (``skipped``: their latest period's status → count)."""

    people: pl.DataFrame
    skipped: dict[str, int]

    def summary(self, records: pl.DataFrame, findings: pl.DataFrame, accepted: pl.Series) -> dict:
        """carried / dropped (reason → count: the error codes of the renewal roster's rows,
        and the statuses skipped) / new, from the run over [renewal roster, rosters...] (the
        renewal roster is input 0: ``_src`` 0)."""
        renewal = records.filter(pl.col("_src") == 0).get_column("_rid").implode()
        carried = accepted.is_in(renewal)
        errors = findings.filter(pl.col("severity") == "error", pl.col("rid").is_in(renewal))
        first = errors.unique("rid", keep="first", maintain_order=True)
        dropped = dict(first.group_by("code").len().iter_rows()) | self.skipped
        return {
            "carried": int(carried.sum()),
            "dropped": {code: int(n) for code, n in sorted(dropped.items())},
            "new": int((~carried).sum()),
        }


# Statuses of a person's latest period that are not carried (the checks catch ``ended``:
# PERSON_ENDED, so it is dropped by that reason with the others).
_NOT_CARRIED = (EVENT_REFUSED, EVENT_WITHDRAWN)


def candidates(ledger: Ledger, view: LedgerView, decree: str, period: Period) -> Carry:
    """The people to carry into ``period``: per NIK their latest period of ``decree`` (a live
    batch), if it ended before ``period`` starts and its status is not refused or withdrawn
    (those are ``skipped``); in ledger order (batch, then roster). ``view``: the run's
    ``Ledger.view`` (every person of every live batch with their status)."""
    latest = (
        view.people.filter(pl.col("decree") == decree)
        .sort("end_month", "batch_id", maintain_order=True)
        .unique("nik", keep="last", maintain_order=True)
        .filter(pl.col("end_month") < period.start)
    )
    left_out = latest.filter(pl.col("person_status").is_in(_NOT_CARRIED))
    skipped = {s: int(n) for s, n in left_out.group_by("person_status").len().iter_rows()}
    keep = latest.join(left_out.select("batch_id", "nik"), on=["batch_id", "nik"], how="anti")
    held = ledger.people(decree=decree, columns=_HELD).join(
        keep.select("batch_id", "nik"), on=["batch_id", "nik"], how="semi", maintain_order="left"
    )
    return Carry(people=_with_kecamatan(held), skipped=skipped)


def _with_kecamatan(people: pl.DataFrame) -> pl.DataFrame:
    """The kecamatan's name from the kelurahan's code (``21.71.02.1004`` → ``21.71.02``)."""
    from jamsos_cli import regions

    table = (
        regions.load()
        .table.filter(pl.col("current"))
        .select(pl.col("code").alias("_kec"), pl.col("name").alias("kecamatan"))
    )
    return (
        people.with_columns(pl.col("kelurahan_code").str.slice(0, 8).alias("_kec"))
        .join(table.unique("_kec"), on="_kec", how="left", maintain_order="left")
        .drop("_kec")
    )


def roster_path(ledger_path: Path, decree: str, period: Period, out: Path) -> Path:
    """Where the renewal roster is written: a private folder beside the ledger file (a ledger
    in PostgreSQL: in the output folder), a stable name (the manifest lists it among the
    inputs, with its sha256)."""
    beside = ledger_path.parent if isinstance(ledger_path, Path) else out
    return beside / ".jamsos-renewal" / f"{decree}_{period.start_label}.csv"


def write_roster(people: pl.DataFrame, target: Path, mode: int) -> Path:
    """The carried people as a roster (``;`` UTF-8 with BOM), through the one write path."""
    from jamsos_cli.writing import new_private_dir, write_csv

    if not target.parent.is_dir():
        new_private_dir(target.parent, mode)
    frame = people.select([pl.col(c).cast(pl.Utf8).alias(h) for c, h in HEADERS.items()])
    return write_csv(frame, target, mode=mode)  # ";" UTF-8 with a BOM, as every CSV for people


def remove_roster(target: Path) -> None:
    """The renewal roster (personal data) is gone when the run ends, its folder too."""
    target.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # another run's roster may be there
        target.parent.rmdir()


def gap_checks(records: pl.DataFrame, carried: pl.DataFrame, period: Period) -> pl.DataFrame:
    """``COVERAGE_GAP`` (warning) for each carried person whose new period does not follow
    the old one (months uncovered between): value the old period's last month."""
    from jamsos_cli import findings as fnd
    from jamsos_cli.ledger import month_label_expr

    rows = records.filter(pl.col("_src") == 0).select("_rid", "nik")
    ends = carried.select("nik", "end_month")
    joined = rows.join(ends, on="nik", how="inner", maintain_order="left")
    gap = pl.col("end_month") + 1 < period.start
    last = month_label_expr(pl.col("end_month"))
    return fnd.concat_checks(
        [fnd.flag(joined, gap, "COVERAGE_GAP", None, last, pl.lit(period.start_label))]
    )
