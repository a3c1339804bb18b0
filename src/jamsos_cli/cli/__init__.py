"""The ``jamsos`` command line: Typer wiring only (parse options, call the core, render).

One module per command (``validate``, ``build_batch``, ``dedupe``, ``decrees``, ``ledger``,
``report``),
registered here; what they share is ``base``. Every text they show, ``--help`` included,
comes from the text catalogue (``texts.py``). A command module imports the engine inside
its function, so ``jamsos --help`` starts without Polars.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from jamsos_cli import __version__
from jamsos_cli.cli import build_batch, decrees, dedupe, ledger, report, validate
from jamsos_cli.cli.base import PROG, command, group, language
from jamsos_cli.errors import JamsosError
from jamsos_cli.exitcodes import ExitCode
from jamsos_cli.texts import say

app = group()
command(app, "validate", validate.validate)
command(app, "decrees", decrees.decrees)
command(app, "template", decrees.template)
command(app, "build-batch", build_batch.build_batch)
command(app, "dedupe", dedupe.dedupe)
app.add_typer(ledger.app, name="ledger")
command(app, "report", report.report)


def _version(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    """jamsos: rosters in, BPJS-ready batches out, every bad row sent back with a reason."""


def main() -> None:
    """Console entry point: user mistakes become one line on stderr and an exit code."""
    lang = language(sys.argv[1:])
    try:
        app(standalone_mode=True)
    except JamsosError as err:
        print(f"{PROG}: {err.message(lang)}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print(f"{PROG}: {say('cli.interrupted', lang)}", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except MemoryError:
        print(f"{PROG}: {say('cli.out_of_memory', lang)}", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
