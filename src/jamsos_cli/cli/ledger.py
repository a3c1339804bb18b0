"""``jamsos ledger ...``: wiring only (the ledger is ``jamsos_cli.ledger``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli.cli.base import (
    ConfigOpt,
    FormatOpt,
    LangOpt,
    LedgerOpt,
    LogFileOpt,
    OutputFormat,
    QuietOpt,
    Session,
    ShowPiiOpt,
    YesOpt,
    absolute,
    command,
    group,
    log,
)
from jamsos_cli.errors import UsageError

app = group()


def _table_name(out: Path | None) -> None:
    """An ``--out`` list is a .csv or .xlsx file (refused before anything is read)."""
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError("error.file.table_name", path=out)


def _reason(reason: str) -> str:
    """``--reason``, trimmed: one a person can read later, so never blank."""
    if not reason.strip():
        raise UsageError("error.option.reason_missing")
    return reason.strip()


def _show(ledger: str | None, fmt: OutputFormat, lang, config: Path | None, key: str) -> None:
    """``ledger list`` / ``ledger stats``: read a snapshot (never waits for cron), render."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.render import ledger as show

    session = Session(config=config, lang=lang)
    path = session.ledger_location(ledger)
    with ldg.opened(path, mode=session.file_mode) as book:
        rows = book.batches() if key == "batches" else book.stats()
    if fmt is OutputFormat.json:
        session.json(documents.ledger(path, key, rows))
    elif key == "batches":
        show.render_batches(session.out, path, rows, session.lang)
    else:
        show.render_stats(session.out, path, rows, session.lang)


def ledger_list(
    status: Annotated[str | None, typer.Option("--status")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """List the batches: id, folder, decree, period, participants, status, created."""
    if status is None:
        _show(ledger, fmt, lang, config, "batches")
        return
    import polars as pl

    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import render_people

    session = Session(config=config, lang=lang, show_pii=show_pii)
    path = session.ledger_location(ledger)
    if status not in ldg.PERSON_STATUSES:
        raise UsageError(
            "error.option.person_status", value=status, known=", ".join(ldg.PERSON_STATUSES)
        )
    with ldg.opened(path, mode=session.file_mode) as book:
        people = book.statuses(columns=("name",)).filter(pl.col("person_status") == status)
    if fmt is OutputFormat.json:
        session.json(documents.people(path, status, people, show_pii))
    else:
        render_people(session.out, path, status, people, session.lang, show_pii)


def ledger_stats(
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """People and premium totals per decree and coverage period (voided batches left out)."""
    _show(ledger, fmt, lang, config, "stats")


def ledger_export(
    target: Annotated[Path, typer.Argument()],
    include_voided: Annotated[bool, typer.Option("--include-voided")] = False,
    ledger: LedgerOpt = None,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write everyone in the ledger (real NIKs: the file is created owner-only)."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render.ledger import write_export

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_location(ledger)
    _table_name(target)
    with ldg.opened(path, mode=session.file_mode) as book:
        frame = ldg.export_frame(book, include_voided=include_voided)
    write_export(frame, target, mode=session.file_mode, lang=session.lang)
    session.say("ledger.exported", n=frame.height, path=target, ledger=path)


def ledger_void(
    batch: Annotated[str, typer.Argument()],
    yes: YesOpt = False,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Withdraw a batch that was never uploaded: its people can be submitted again."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.batch import void_batch
    from jamsos_cli.render import documents

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_location(ledger)
    with ldg.opened(path, mode=session.file_mode) as book:  # what the question is about
        target = book.voidable(batch)
    session.confirm(
        yes,
        "ledger.void_confirm",
        id=target["id"],
        folder=Path(target["folder"]).name,
        n=target["participants"],
    )
    voided = void_batch(
        path, batch, ldg.change(session.command), session.lang, mode=session.file_mode
    )
    log.info("voided batch %s in %s", voided["id"], path)
    if fmt is OutputFormat.json:
        session.json(documents.voided(path, voided))
    elif not quiet:
        session.show("ledger.voided", id=voided["id"], folder=voided["folder"])
        if not voided["marked"]:
            session.show("ledger.void_not_marked", folder=voided["folder"])


def ledger_init(
    target: Annotated[str, typer.Argument()],
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Create a new, empty ledger (on purpose: no command creates one otherwise)."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.writing import private_folder

    session = Session(config=config, lang=lang, quiet=quiet)
    path = ldg.locate(target)  # a file, or an empty PostgreSQL database (or schema)
    if not ldg.is_url(path):
        if os.path.lexists(path):
            raise ldg.LedgerError("error.ledger.exists", path=path)
        private_folder(path.parent, session.file_mode)
    with (
        ldg.lock(path, session.file_mode) as store,
        ldg.Ledger.open(store, mode=session.file_mode) as book,
    ):
        if book.exists:  # made meanwhile by another run
            raise ldg.LedgerError("error.ledger.exists", path=path)
        book.create(ldg.change(session.command))
        ledger_id = book.id
    log.info("created ledger %s (%s)", path, ledger_id)
    if fmt is OutputFormat.json:
        session.json(documents.ledger_created(path, ledger_id))
    elif not quiet:
        session.show("ledger.created", path=path, id=ledger_id)


def ledger_mark_uploaded(
    batch: Annotated[str, typer.Argument()],
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Record that a batch was uploaded to BPJS: from now on it cannot be voided."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_location(ledger)
    with ldg.opened(path, mode=session.file_mode, write=True) as book:
        marked = book.mark_uploaded(batch, ldg.change(session.command))
    log.info("batch %s marked uploaded in %s", marked["id"], path)
    if fmt is OutputFormat.json:
        session.json(documents.uploaded(path, marked))
    elif not quiet:
        session.show(
            "ledger.uploaded", id=marked["id"], folder=marked["folder"], at=marked["uploaded"]
        )


def ledger_withdraw(
    niks: Annotated[list[str] | None, typer.Argument()] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
    file: Annotated[Path | None, typer.Option("--file")] = None,
    batch: Annotated[str | None, typer.Option("--batch")] = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Withdraw people recorded by mistake: freed from their batch, listed for BPJS."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import render_withdrawn, write_withdrawn

    session = Session(config=config, lang=lang, quiet=quiet, show_pii=show_pii)
    path = session.ledger_location(ledger)
    why = _reason(reason)
    _table_name(out)
    wanted = _niks(niks, file)
    command = ldg.change(session.command, input_path=file, summary={"niks": len(wanted)})
    with ldg.opened(path, mode=session.file_mode, write=True) as book:
        gone = book.withdraw(wanted, why, command, batch=batch)
    log.info("withdrew %d people in %s", gone.height, path)
    if out is not None:
        write_withdrawn(gone, why, command.at, out, mode=session.file_mode, lang=session.lang)
    if fmt is OutputFormat.json:
        session.json(documents.withdrawn(path, gone, why, out, show_pii))
    elif not quiet:
        render_withdrawn(session.out, path, gone, session.lang, show_pii)


def ledger_bill(
    month: Annotated[str, typer.Option("--month")],
    decree: Annotated[str | None, typer.Option("--decree")] = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """What the city owes BPJS for one month: people covered per decree, JKK and JKM apart."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.ledger.bill import monthly_bill
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import render_bill, write_bill

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_location(ledger)
    which = ldg.month_index(month, "--month")
    _table_name(out)
    with ldg.opened(path, mode=session.file_mode) as book:
        bill = monthly_bill(book, which, decree)
    if out is not None:
        write_bill(bill, absolute(out), mode=session.file_mode, lang=session.lang)
    log.info("bill %s: %s", month, bill.totals())
    if fmt is OutputFormat.json:
        session.json(documents.bill(path, bill, out))
    elif not quiet:
        render_bill(session.out, path, bill, session.lang)
        if out is not None:
            session.show("bill.written", path=out)


def ledger_backup(
    target: Annotated[Path, typer.Argument()],
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write a consistent copy of the ledger (while other runs read it)."""
    from jamsos_cli.ledger.upkeep import backup
    from jamsos_cli.render import documents

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_location(ledger)
    written = backup(path, absolute(target), mode=session.file_mode)
    log.info("backup of %s written to %s (%s)", path, written["backup"], written["sha256"])
    if fmt is OutputFormat.json:
        session.json(documents.backup(path, written))
    elif not quiet:
        session.show("backup.written", path=written["backup"], sha256=written["sha256"])


def ledger_reconcile(
    bill: Annotated[Path, typer.Argument()],
    month: Annotated[str, typer.Option("--month")],
    out: Annotated[Path | None, typer.Option("--out")] = None,
    layout: Annotated[Path | None, typer.Option("--layout")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """BPJS's bill for a month against the ledger: billed not covered, covered not billed."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.ledger.reconcile import read_bill, reconcile
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import render_reconciliation, write_reconciliation

    session = Session(config=config, lang=lang, quiet=quiet, show_pii=show_pii)
    path = session.ledger_location(ledger)
    which = ldg.month_index(month, "--month")
    _table_name(out)
    ldg.check_file(path)
    billed = read_bill(bill, layout)
    with ldg.opened(path, mode=session.file_mode) as book:
        result = reconcile(book, which, billed)
    if out is not None:
        write_reconciliation(result, absolute(out), mode=session.file_mode, lang=session.lang)
    log.info("reconcile %s %s: %s", bill, month, result.summary)
    if fmt is OutputFormat.json:
        session.json(documents.reconciled(path, bill, result, out, show_pii))
    elif not quiet:
        render_reconciliation(session.out, path, bill, result, session.lang, show_pii)
        if out is not None:
            session.show("reconcile.written", path=out)


def ledger_purge(
    ended_before: Annotated[str, typer.Option("--ended-before")],
    yes: YesOpt = False,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Remove the personal data of people whose coverage ended before a month."""
    from datetime import date

    from jamsos_cli import ledger as ldg
    from jamsos_cli.ledger.upkeep import ended_before as ended
    from jamsos_cli.ledger.upkeep import purge
    from jamsos_cli.render import documents

    session = Session(config=config, lang=lang, quiet=quiet)
    path = session.ledger_location(ledger)
    month = ldg.month_index(ended_before, "--ended-before")
    today = date.today()
    if month > today.year * 12 + today.month - 1:  # people covered now are not "ended"
        raise UsageError("error.purge.future", month=ended_before)
    label = ldg.month_label(month)
    with ldg.opened(path, mode=session.file_mode) as book:  # what the question is about
        n = ended(book, month).height
    if n:
        session.confirm(yes, "purge.confirm", n=n, before=label)
        command = ldg.change(session.command, summary={"ended_before": label})
        with ldg.opened(path, mode=session.file_mode, write=True) as book:
            n = purge(book, month, command)
    log.info("purged the personal data of %d people (ended before %s) in %s", n, label, path)
    if fmt is OutputFormat.json:
        session.json(documents.purged(path, label, n))
    elif not quiet:
        session.show("purge.done" if n else "purge.nobody", n=n, before=label)


def ledger_copy(
    source: Annotated[str, typer.Argument()],
    target: Annotated[str, typer.Argument()],
    merge: Annotated[bool, typer.Option("--merge")] = False,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Copy a ledger into another (a city's file into a province's PostgreSQL database)."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.ledger import copying, locate

    session = Session(config=config, lang=lang, quiet=quiet)
    origin = locate(source)
    command = ldg.change(session.command, input_name=str(origin))
    copied = copying.copy(origin, locate(target), command, merge=merge, mode=session.file_mode)
    log.info("copied ledger %s to %s: %s", copied["source"], copied["target"], copied)
    if fmt is OutputFormat.json:
        session.json({"copied": copied})
    elif not quiet:
        from jamsos_cli.render.ledger import render_copied

        render_copied(session.out, copied, session.lang)


command(app, "list", ledger_list)
command(app, "stats", ledger_stats)
command(app, "export", ledger_export)
command(app, "void", ledger_void)
command(app, "init", ledger_init)
command(app, "mark-uploaded", ledger_mark_uploaded)
command(app, "withdraw", ledger_withdraw)


def _imports(kind: str, files: list[Path], session: Session, path: Path, run) -> None:
    """``import-reply`` / ``import-dukcapil``: each file read and recorded on its own (all or
    nothing per file), under the ledger's lock; exit 1 when some row was not imported."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.exitcodes import outcome
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import render_imported

    done = []
    with ldg.opened(path, mode=session.file_mode, write=True) as book:
        for file in files:
            done.append(run(book, file))
            log.info("%s %s: %s", kind, file, done[-1].counts)
    if session.format is OutputFormat.json:
        session.json(documents.imported(path, kind, done, session.show_pii))
    elif not session.quiet:
        render_imported(session.out, path, kind, done, session.lang, session.show_pii)
    rejected = any(d.counts["unknown"] for d in done)
    raise typer.Exit(outcome(unusable=False, rejected=rejected))


def ledger_import_reply(
    files: Annotated[list[Path], typer.Argument()],
    batch: Annotated[str | None, typer.Option("--batch")] = None,
    layout: Annotated[Path | None, typer.Option("--layout")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Record BPJS's answer to a batch: active (KPJ, coverage start) or refused (reason)."""
    from jamsos_cli.replies import import_reply

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    path = session.ledger_location(ledger)
    _imports(
        "reply",
        files,
        session,
        path,
        lambda book, file: import_reply(book, file, session.command, batch, layout),
    )


def ledger_import_dukcapil(
    files: Annotated[list[Path], typer.Argument()],
    layout: Annotated[Path | None, typer.Option("--layout")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    log_file: LogFileOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Record the population registry's matching: the result per NIK and its date only."""
    from datetime import date

    from jamsos_cli.replies import import_matching

    session = Session(
        config=config, lang=lang, quiet=quiet, log_file=log_file, show_pii=show_pii, fmt=fmt
    )
    path = session.ledger_location(ledger)
    today = date.today()
    _imports(
        "dukcapil",
        files,
        session,
        path,
        lambda book, file: import_matching(book, file, session.command, today, layout),
    )


def _niks(niks: list[str] | None, file: Path | None) -> list[str]:
    wanted = list(niks or [])
    if file is not None:
        from jamsos_cli.officefiles import nik_list

        wanted += nik_list(file)
    if not wanted:
        raise UsageError("error.option.niks_missing")
    return wanted


def ledger_end(
    niks: Annotated[list[str] | None, typer.Argument()] = None,
    from_month: Annotated[str, typer.Option("--from")] = "",
    reason: Annotated[str, typer.Option("--reason")] = "",
    file: Annotated[Path | None, typer.Option("--file")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """End people's coverage from a month (the quota frees for replacements)."""
    from jamsos_cli import ledger as ldg

    month = ldg.month_index(from_month, "--from")
    if reason not in ldg.END_REASONS:
        raise UsageError("error.ledger.end_reason", reason=reason, known=", ".join(ldg.END_REASONS))
    session = Session(config=config, lang=lang, quiet=quiet, show_pii=show_pii)
    _change_people(
        "ended", session, ledger, _niks(niks, file), file, fmt,
        lambda book, wanted, command: book.end(wanted, month, reason, command),
    )  # fmt: skip


def _change_people(what: str, session: Session, ledger, wanted, file, fmt, act) -> None:
    """``end`` / ``reopen``: ``act(book, niks, change)`` under the ledger's lock, then who."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import render_changed_people

    path = session.ledger_location(ledger)
    command = ldg.change(session.command, input_path=file, summary={"niks": len(wanted)})
    with ldg.opened(path, mode=session.file_mode, write=True) as book:
        changed = act(book, wanted, command)
    log.info("%s: %d people in %s", what, changed.height, path)
    if fmt is OutputFormat.json:
        session.json(documents.changed_people(path, what, changed, session.show_pii))
    elif not session.quiet:
        render_changed_people(session.out, path, what, changed, session.lang, session.show_pii)


def ledger_reopen(
    niks: Annotated[list[str] | None, typer.Argument()] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
    file: Annotated[Path | None, typer.Option("--file")] = None,
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Take back a refusal (a data error since fixed) or an end: submitted again later."""
    why = _reason(reason)
    session = Session(config=config, lang=lang, quiet=quiet, show_pii=show_pii)
    _change_people(
        "reopened", session, ledger, _niks(niks, file), file, fmt,
        lambda book, wanted, command: book.reopen(wanted, why, command),
    )  # fmt: skip


def ledger_person(
    nik: Annotated[str, typer.Argument()],
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """One person's periods, batches, statuses and history (masked unless --show-pii)."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import render_person

    session = Session(config=config, lang=lang, show_pii=show_pii)
    path = session.ledger_location(ledger)
    with ldg.opened(path, mode=session.file_mode) as book:
        person = book.person(nik.strip())
    if not person["periods"].height and not person["events"] and not person["matching"]:
        from jamsos_cli.render.mask import mask_nik

        raise UsageError("error.ledger.no_person", nik=mask_nik(nik.strip()), path=path)
    if fmt is OutputFormat.json:
        session.json(documents.person(path, person, show_pii))
    else:
        render_person(session.out, path, person, session.lang, show_pii)


def ledger_log(
    ledger: LedgerOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
    show_pii: ShowPiiOpt = False,
) -> None:
    """Every change to the ledger: when, OS user, command, the sha256 of its input."""
    from jamsos_cli import ledger as ldg
    from jamsos_cli.render import documents
    from jamsos_cli.render.ledger import masked_changes, render_log

    session = Session(config=config, lang=lang, show_pii=show_pii)
    path = session.ledger_location(ledger)
    with ldg.opened(path, mode=session.file_mode) as book:
        changes = masked_changes(book.changes(), show_pii)
    if fmt is OutputFormat.json:
        session.json(documents.ledger(path, "changes", changes))
    else:
        render_log(session.out, path, changes, session.lang)


command(app, "import-reply", ledger_import_reply)
command(app, "import-dukcapil", ledger_import_dukcapil)
command(app, "end", ledger_end)
command(app, "reopen", ledger_reopen)
command(app, "person", ledger_person)
command(app, "log", ledger_log)
command(app, "bill", ledger_bill)
command(app, "backup", ledger_backup)
command(app, "reconcile", ledger_reconcile)
command(app, "purge", ledger_purge)
command(app, "copy", ledger_copy)
