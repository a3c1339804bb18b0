"""``jamsos decrees`` and ``jamsos template``: wiring only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jamsos_cli.cli.base import (
    ConfigOpt,
    DecreesDirOpt,
    FormatOpt,
    LangOpt,
    OutputFormat,
    QuietOpt,
    Session,
)


def decrees(
    decree_id: Annotated[str | None, typer.Argument(metavar="ID")] = None,
    decrees_dir: DecreesDirOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the decree rule sets, or show one in full as jamsos understood it."""
    from jamsos_cli import decrees as dec

    session = Session(config=config, lang=lang)
    folder = decrees_dir or session.config.decrees_dir
    if decree_id is None:
        rules = dec.all_decrees(folder)
        if fmt is OutputFormat.json:
            session.json({"decrees": [dec.summary(d) for d in rules]})
        else:
            dec.render_list(session.out, rules, session.lang)
        return
    rules = session.decree(decree_id, folder)
    if fmt is OutputFormat.json:
        session.json(dec.detail(rules))
    else:
        dec.render_detail(session.out, rules, session.lang)


def template(
    path: Annotated[Path, typer.Argument(metavar="PATH.xlsx")],
    decree: Annotated[str, typer.Option("--decree")],
    force: Annotated[bool, typer.Option("--force")] = False,
    decrees_dir: DecreesDirOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    lang: LangOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write an empty roster for senders: the right headers, NIK and phone as Text."""
    from jamsos_cli.template import template_fields, write_template

    session = Session(config=config, lang=lang, quiet=quiet)
    rules = session.decree(decree, decrees_dir)
    written = write_template(rules, path, force=force, lang=session.lang)
    if fmt is OutputFormat.json:
        doc = {"template": str(written), "decree": rules.id, "fields": template_fields(rules)}
        session.json(doc, indent=None)
    elif not quiet:
        session.show("template.written", path=written)
