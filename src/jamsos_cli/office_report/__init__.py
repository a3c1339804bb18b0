"""The office head's report (SPEC §11): one self-contained HTML page, a spreadsheet recap and
a one-page Berita Acara per batch, from the ledger.

Presentation with its own aggregation: ``aggregate`` reads the ledger through the store's
aggregate queries (``LedgerStore.batch_details``, ``people_by_area``...; no SQL here) and the
batch folders (``folders``) into named Polars frames of counts; ``html``, ``xlsx`` and
``berita_acara`` render those frames and nothing else, every word from the text catalogue
(``office.*``), the pages from the Jinja2 templates in ``schemas/report/``. ``run`` is what
``jamsos report`` calls; every file goes through the one write path (``writing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jamsos_cli.errors import UsageError
from jamsos_cli.texts import DEFAULT_LANG

if TYPE_CHECKING:
    from jamsos_cli.ledger.location import Location


@dataclass(frozen=True)
class ReportRequest:
    ledger: Location
    ledger_label: str | None = None  # the ledger as the user named it (shown; default: path)
    out: Path | None = None  # the HTML page
    xlsx: Path | None = None
    berita_acara: Path | None = None
    batch: str | None = None
    month: str | None = None
    lang: str = DEFAULT_LANG
    show_pii: bool = False
    decrees_dir: Path | None = None
    quotas: dict[str, int] | None = None  # decree id → quota (the config's overrides)
    file_mode: int = 0o600

    def targets(self) -> list[Path]:
        return [p for p in (self.out, self.xlsx, self.berita_acara) if p is not None]


def check(req: ReportRequest) -> None:
    """Refuse a request that cannot be right before the ledger is read: the options, and
    each file's name (a symlink or a folder there is refused by the one write path's rule),
    so a refused run writes nothing."""
    from jamsos_cli.ledger import month_index
    from jamsos_cli.writing import check_target

    if not req.targets():
        raise UsageError("error.report.nothing")
    if (req.berita_acara is None) != (req.batch is None):
        raise UsageError("error.report.batch_pair")
    for option, path in (("--out", req.out), ("--berita-acara", req.berita_acara)):
        if path is not None and path.suffix.lower() not in (".html", ".htm"):
            raise UsageError("error.report.html_name", option=option, path=path)
    if req.xlsx is not None and req.xlsx.suffix.lower() != ".xlsx":
        raise UsageError("error.report.xlsx_name", path=req.xlsx)
    targets = [p.resolve() for p in req.targets()]
    if len(set(targets)) < len(targets):
        raise UsageError("error.report.same_file")
    if req.month is not None:
        month_index(req.month, "--month")
    for path in req.targets():
        check_target(path)


def run(req: ReportRequest) -> list[tuple[str, Path]]:
    """Read the ledger (a private snapshot: a cron run is never kept waiting), build every
    table, render what was asked and write it (each file atomically). Returns what was
    written as (kind, path); nothing is written when anything is refused."""
    from jamsos_cli import decrees as dec
    from jamsos_cli import ledger as ldg
    from jamsos_cli.office_report import aggregate, berita_acara, html, xlsx
    from jamsos_cli.writing import write_atomic

    check(req)
    rules = [d.with_quota((req.quotas or {}).get(d.id)) for d in dec.all_decrees(req.decrees_dir)]
    with ldg.opened(req.ledger) as book:
        data = aggregate.collect(
            book,
            ledger_path=req.ledger_label or str(req.ledger),
            decrees=rules,
            month=req.month,
            show_pii=req.show_pii,
        )
    pages: list[tuple[str, Path, str]] = []
    if req.berita_acara is not None:  # first: an unknown batch refuses before any rendering
        pages.append(
            ("berita_acara", req.berita_acara, berita_acara.render(data, req.batch, req.lang))
        )
    if req.out is not None:
        pages.append(("report", req.out, html.render(data, req.lang)))
    written: list[tuple[str, Path]] = []
    for kind, path, text in pages:
        write_atomic(
            path, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8"), req.file_mode
        )
        written.append((kind, path))
    if req.xlsx is not None:
        written.append(("xlsx", xlsx.write(data, req.xlsx, lang=req.lang, mode=req.file_mode)))
    return written
