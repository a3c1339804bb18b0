"""The progress display on a terminal: where a long run is, on stderr.

Shown only when stderr is a terminal and the report is text (never with ``--format json``,
``--quiet``, or under cron, whose output is not a terminal). The run reports its steps
through one callback, ``step(stage, done, total, **values)`` (``pipeline.RunOptions.step``):
it never renders anything itself. The words are ``progress.<stage>`` in the text catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from jamsos_cli.texts import say

if TYPE_CHECKING:
    from rich.console import Console

    from jamsos_cli.pipeline import Steps


@contextmanager
def shown(console: Console, lang: str, enabled: bool) -> Iterator[Steps | None]:
    """A ``step`` callback drawing a Rich progress bar on ``console`` (stderr), or None
    when nothing is to be shown (``enabled`` false, or ``console`` not a terminal)."""
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,  # the report, not the bar, is what stays on the screen
    )
    tasks: dict[str, int] = {}

    def step(stage: str, done: int, total: int, **values: object) -> None:
        description = say(f"progress.{stage}", lang, **values)
        if stage not in tasks:
            tasks[stage] = bar.add_task(description, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1), description=description)

    with bar:
        yield step
