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
    from jamsos_cli.decrees import all_decrees
    from jamsos_cli.render import documents
    from jamsos_cli.render.decrees import render_detail, render_list

    session = Session(config=config, lang=lang)
    folder = decrees_dir or session.config.decrees_dir
    if decree_id is None:
        rules = all_decrees(folder)
        if fmt is OutputFormat.json:
            session.json(documents.decrees(rules))
        else:
            render_list(session.out, rules, session.lang)
        return
    rule = session.decree(decree_id, folder)
    if fmt is OutputFormat.json:
        session.json(documents.decree(rule))
    else:
        render_detail(session.out, rule, session.lang)


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
    from jamsos_cli.render import documents
    from jamsos_cli.template import template_fields, write_template

    session = Session(config=config, lang=lang, quiet=quiet)
    rules = session.decree(decree, decrees_dir)
    written = write_template(rules, path, force=force, lang=session.lang)
    if fmt is OutputFormat.json:
        session.json(documents.template(written, rules, template_fields(rules)), indent=None)
    elif not quiet:
        session.show("template.written", path=written)
