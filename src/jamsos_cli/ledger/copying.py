"""``jamsos ledger copy SOURCE TARGET``: move a city's ledger (an SQLite file) into the
database a province shares — or any ledger into any other store.

Written against the store interface (``table``, ``append``, ``transaction``), table by table
in ``schema.TABLES`` order, so a table added to the schema is copied too. The copy:

- holds both ledgers' locks (the whole of each: no run changes either meanwhile) and reads
  the source as every command sees it (an interrupted batch settled in its view);
- refuses a target that already holds this ledger (one of its batches: same decree, months,
  sequence and manifest), and one that holds another ledger's records unless ``merge``
  (the province's database, where other cities' ledgers are): then the batch ids are
  renumbered after the target's, a pair decided in both keeps the target's decision, and a
  person both ledgers cover for overlapping months is refused (nobody is covered twice),
  naming them (NIKs masked);
- writes everything in one transaction and, before committing, reads it back and compares
  it with the source, table by table: counts, sums, every value. Any difference rolls the
  whole copy back.
"""

from __future__ import annotations

import polars as pl

from jamsos_cli.errors import UsageError
from jamsos_cli.ledger.book import Ledger, store_for
from jamsos_cli.ledger.location import Location, locate
from jamsos_cli.ledger.schema import ID_KEYS, NUMBERED, OWN_KEY, TABLES
from jamsos_cli.ledger.store import STATUS_COMMITTING, STATUS_DONE, Change, LedgerError

BATCH_IDENTITY = ["decree", "start_month", "end_month", "seq", "manifest_sha256"]
LIVE = (STATUS_DONE, STATUS_COMMITTING)
SHOWN_OVERLAPS = 3


def copy(source: Location | str, target: Location | str, command: Change, *,
         merge: bool = False, mode: int = 0o600) -> dict:  # fmt: skip
    """Copy the ledger at ``source`` into ``target`` (module docstring), the copy logged in
    the target as ``command``; returns what was copied and verified (counts and sums)."""
    if locate(source) == locate(target):
        raise UsageError("error.ledger.copy_same", path=locate(source))
    origin, destination = store_for(source), store_for(target)
    if not origin.exists:
        raise LedgerError("error.ledger.missing", path=origin.location)
    destination.check()
    with (
        origin.lock(mode) as locked_origin,
        destination.lock(mode) as locked_destination,
        Ledger.snapshot(locked_origin) as src,
        Ledger.open(locked_destination, mode=mode) as dst,
    ):
        src.recover()  # in its view: as every command sees it
        dst.recover()
        return copy_ledger(src, dst, command, merge=merge)


def copy_ledger(src: Ledger, dst: Ledger, command: Change, *, merge: bool = False) -> dict:
    """Copy every record of ``src`` into ``dst`` (writable), verified before commit."""
    frames = {name: src.store.table(name) for name in TABLES}
    there = {name: dst.store.table(name) for name in (*NUMBERED, "decisions")}
    batches = frames["batches"]
    same_ledger = dst.exists and dst.id == src.id
    if same_ledger or (batches.height and there["batches"].height):
        same = batches.select(BATCH_IDENTITY).join(
            there["batches"].select(BATCH_IDENTITY), on=BATCH_IDENTITY, how="semi"
        )
        if same_ledger or same.height:
            raise LedgerError("error.ledger.copy_this", path=dst.path, source=src.path)
    held = any(there[name].height for name in ("batches", "decisions", "person_events"))
    if held and not merge:
        raise LedgerError("error.ledger.copy_other", path=dst.path)
    offsets = {name: int(there[name].get_column("id").max() or 0) for name in NUMBERED}
    for name, keys in ID_KEYS.items():
        frames[name] = frames[name].with_columns(
            pl.col(column) + offsets[owner] for column, owner in keys.items()
        )
    _refuse_double_coverage(src, dst)
    decided = frames["decisions"]
    kept = decided.join(there["decisions"], on=["nik_a", "nik_b"], how="semi")
    frames["decisions"] = decided.join(there["decisions"], on=["nik_a", "nik_b"], how="anti")
    differing = kept.join(there["decisions"], on=["nik_a", "nik_b", "decision"], how="anti")

    dst.store.create()
    with dst.store.transaction():
        if not held:  # the ledger moves whole: it keeps its identity (its manifests name it)
            dst.store.set_ledger_id(src.id)
        for name in TABLES:
            dst.store.append(name, frames[name])
        for name in TABLES:
            _verify(name, frames[name], dst.store.table(name), offsets)
        dst.store.insert_change(command)
    offset = offsets["batches"]
    return {
        "source": str(src.path),
        "target": str(dst.path),
        "batches": batches.height,
        "people": frames["people"].height,
        "inputs": frames["batch_inputs"].height,
        "decisions": frames["decisions"].height,
        "decisions_kept": differing.height,
        "changes": frames["changes"].height,
        "events": frames["person_events"].height,
        "participants": int(batches.get_column("participants").sum() or 0),
        "total_premium": int(batches.get_column("total_premium").sum() or 0),
        "first_id": offset + 1 if batches.height else None,
        "verified": True,
    }


def _refuse_double_coverage(src: Ledger, dst: Ledger) -> None:
    """A person both ledgers cover in overlapping months (live batches): refused before
    anything is written (the database would refuse it too), naming a few, masked."""
    columns = ("nik", "start_month", "end_month", "folder")
    ours = src.people(statuses=LIVE, columns=columns)
    theirs = dst.people(statuses=LIVE, columns=columns)
    if not ours.height or not theirs.height:
        return
    both = ours.join(theirs, on="nik", suffix="_there").filter(
        pl.col("start_month") <= pl.col("end_month_there"),
        pl.col("start_month_there") <= pl.col("end_month"),
    )
    if both.height:
        from jamsos_cli.render.mask import mask_nik

        people = both.get_column("nik").unique(maintain_order=True)
        shown = ", ".join(mask_nik(n) or "" for n in people.head(SHOWN_OVERLAPS))
        raise LedgerError("error.ledger.copy_overlap", path=dst.path, n=people.len(), niks=shown)


def _verify(name: str, sent: pl.DataFrame, stored: pl.DataFrame, offsets: dict) -> None:
    """The rows read back from the target are the rows sent: same count, same sums, same
    values (the target's own rows left aside). A difference rolls the copy back."""
    key = OWN_KEY.get(name)
    if key is not None:
        stored = stored.filter(pl.col(key) > offsets[ID_KEYS[name][key]])
    elif sent.height:
        stored = stored.join(sent.select("nik_a", "nik_b"), on=["nik_a", "nik_b"], how="semi")
    else:
        stored = stored.clear()
    columns = [c for c in sent.columns if c in stored.columns]
    back = stored.select(columns)
    sent = sent.select(columns).cast(dict(back.schema), strict=False)
    if key is not None:  # a batch's rows in their order; batches in any order
        sent = sent.sort(key, maintain_order=True)
        back = back.sort(key, maintain_order=True)
    else:
        sent, back = sent.sort(columns), back.sort(columns)
    if not (sent.height == back.height and sent.equals(back)):
        raise LedgerError("error.ledger.copy_mismatch", table=name)
