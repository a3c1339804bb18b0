"""The report's charts: matplotlib figures written as SVG and inlined in the page.

Why matplotlib to inline SVG (measured for this page; see the commit that added it): each chart
is a small vector drawing (10–40 KB) that prints sharp and needs no script at all, so the page
stays small and no request can leave it; text is drawn as glyph outlines from the DejaVu Sans
font matplotlib ships, so a chart looks the same on every machine, offline, on screen and on
paper, whatever fonts are installed. Plotly would inline ~3.5 MB of JavaScript; Vega-Lite via
vl-convert embeds a JavaScript engine (~85 MB installed) and leaves the text to the viewer's
fonts.

Every function takes frames of ``ReportData`` (already aggregated: at most a few dozen bars)
and the labels, and returns one ``<svg>`` element as text; the same data always gives the same
bytes (fixed hash salt, no date). Each chart's element ids carry its name, so several charts
share one page without clashing.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl

from jamsos_cli.office_report import fmt
from jamsos_cli.texts import say

# Okabe–Ito: told apart by people with colour-blindness, and in greyscale print
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
INK, MUTED, GRID = "#1f2933", "#52606d", "#d9e2ec"
# 4 inches (288 pt) wide with 10-11 pt text: a phone (~370 px wide) shows the text at ~13 px,
# a laptop (the page caps a chart at 460 px) at ~16 px
WIDTH = 4.0
MAX_BARS = 15
MAX_PANELS = 6


def _matplotlib() -> Any:
    """matplotlib, with its font cache in jamsos's own user cache folder rather than a
    shared temporary folder (it falls back to /tmp when the home folder is not writable)."""
    if "MPLCONFIGDIR" not in os.environ:
        import platformdirs

        os.environ["MPLCONFIGDIR"] = os.path.join(
            platformdirs.user_cache_dir("jamsos", appauthor=False), "matplotlib"
        )
    import matplotlib

    return matplotlib


@contextmanager
def _style(name: str) -> Iterator[None]:
    mpl = _matplotlib()
    with mpl.rc_context(
        {
            "svg.fonttype": "path",
            "text.parse_math": False,  # a "$" in a sender's file name is a dollar sign
            "svg.hashsalt": name,
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "text.color": INK,
            "axes.labelcolor": MUTED,
            "axes.edgecolor": GRID,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "xtick.color": MUTED,
            "ytick.color": INK,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "legend.frameon": False,
            "legend.fontsize": 9,
        }
    ):
        yield


def _figure(height: float, panels: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    return fig, fig.subplots(panels, 1, squeeze=False)[:, 0]


def _svg(fig, name: str, label: str) -> str:
    """The figure as one ``<svg>`` element: no XML prologue, no fixed size (the page's CSS
    sizes it), ids prefixed with ``name``, an accessible label."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)  # RDF boilerplate
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', 1)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', svg)
    # references to those ids: href="#id", url(#id); colours such as #0072b2 are left alone
    return re.sub(r"#([A-Za-z_][\w.-]*)", lambda m: f"#{name}-{m[1]}" if m[1] in ids else m[0], svg)


def _short(text: str, width: int = 30) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _axis_numbers(ax, lang: str, axis: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=5, integer=True))
    target.set_major_formatter(FuncFormatter(lambda v, _: fmt.compact(v, lang)))
    ax.grid(axis=axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def decree_colours(decrees: pl.DataFrame) -> dict[str, str]:
    """One colour per decree, the same in every chart."""
    ids = decrees.get_column("decree").to_list()
    return {d: PALETTE[i % (len(PALETTE) - 1)] for i, d in enumerate(ids)}


def _titles(decrees: pl.DataFrame) -> dict[str, str]:
    return dict(decrees.select("decree", "title").iter_rows())


def quota_chart(quota: pl.DataFrame, decrees: pl.DataFrame, lang: str) -> str:
    """Participants per decree in the month (dark) over the decree's quota (light), where it
    has one: a bullet chart; the figures are written under each decree's name."""
    from matplotlib.patches import Patch

    colours, titles = decree_colours(decrees), _titles(decrees)
    rows = quota.sort("decree", descending=True).to_dicts()
    with _style("quota"):
        fig, (ax,) = _figure(1.0 + 0.6 * len(rows))
        labels = []
        for i, r in enumerate(rows):
            if r["quota"]:
                ax.barh(i, r["quota"], color=colours[r["decree"]], alpha=0.22, height=0.7)
                ax.plot([r["quota"]] * 2, [i - 0.35, i + 0.35], color=INK, linewidth=1.5)
            ax.barh(i, r["people"], color=colours[r["decree"]], height=0.36)
            figure = fmt.number(r["people"], lang)
            if r["quota"]:
                figure += f" / {fmt.number(r['quota'], lang)} ({fmt.percent(r['share'], lang)})"
            labels.append(f"{_short(titles[r['decree']], 26)}\n{figure}")
        ax.set_yticks(range(len(rows)), labels)
        _axis_numbers(ax, lang)
        handles = [Patch(color=MUTED, label=say("office.legend.people", lang))]
        if any(r["quota"] for r in rows):
            handles.append(Patch(color=MUTED, alpha=0.22, label=say("office.legend.quota", lang)))
        fig.legend(handles=handles, loc="outside upper left", ncols=2)
        return _svg(fig, "quota", say("office.sections.quota", lang))


def area_chart(participants: pl.DataFrame, decrees: pl.DataFrame, lang: str) -> str:
    """Participants per kecamatan (the largest first), stacked by decree."""
    colours, titles = decree_colours(decrees), _titles(decrees)
    unknown = say("office.columns.unknown", lang)
    per = (
        participants.with_columns(pl.col("kecamatan").fill_null(unknown))
        .group_by("kecamatan", "decree")
        .agg(pl.col("people").sum())
    )
    order = (
        per.group_by("kecamatan")
        .agg(pl.col("people").sum())
        .sort(["people", "kecamatan"], descending=[True, False])
        .head(MAX_BARS)
        .get_column("kecamatan")
        .to_list()[::-1]
    )
    with _style("area"):
        fig, (ax,) = _figure(0.8 + 0.32 * max(len(order), 1))
        left = [0] * len(order)
        for decree in decrees.get_column("decree"):
            counts = dict(
                per.filter(pl.col("decree") == decree).select("kecamatan", "people").iter_rows()
            )
            if not counts:
                continue
            values = [counts.get(k, 0) for k in order]
            ax.barh(
                order,
                values,
                left=left,
                color=colours[decree],
                label=_short(titles[decree]),
                height=0.7,
            )
            left = [a + b for a, b in zip(left, values, strict=True)]
        _axis_numbers(ax, lang)
        if per.get_column("decree").n_unique() > 1:
            fig.legend(loc="outside lower left", ncols=1, fontsize=8.5)
        return _svg(fig, "area", say("office.sections.area", lang))


def months_chart(months: pl.DataFrame, decrees: pl.DataFrame, lang: str) -> str:
    """Premium committed per month, one panel per decree, with the budget line where the
    decree has a quota. The last 24 months; the largest ``MAX_PANELS`` decrees."""
    colours, titles = decree_colours(decrees), _titles(decrees)
    labels = months.get_column("month").unique().sort().tail(24).to_list()
    shown = (
        months.filter(pl.col("month").is_in(labels))
        .group_by("decree")
        .agg(pl.col("premium").sum())
        .sort(["premium", "decree"], descending=[True, False])
        .head(MAX_PANELS)
        .get_column("decree")
        .sort()
        .to_list()
    )
    ticks = [fmt.month_name(m, lang, short=True).replace(" ", "\n") for m in labels]

    with _style("months"):
        fig, axes = _figure(0.4 + 1.9 * len(shown), panels=len(shown))
        for ax, decree in zip(axes, shown, strict=True):
            rows = {r["month"]: r for r in months.filter(pl.col("decree") == decree).to_dicts()}
            premium = [rows[m]["premium"] if m in rows else 0 for m in labels]
            ax.bar(
                range(len(labels)),
                premium,
                color=colours[decree],
                width=0.7,
                label=say("office.legend.premium", lang),
            )
            budget = [rows[m]["budget"] if m in rows else None for m in labels]
            if any(b is not None for b in budget):
                ax.step(
                    range(len(labels)),
                    [b if b is not None else float("nan") for b in budget],
                    where="mid",
                    color=INK,
                    linestyle="--",
                    linewidth=1.4,
                    label=say("office.legend.budget", lang),
                )
                ax.legend(loc="upper right", ncols=2, fontsize=8.5)
                last = max(i for i, b in enumerate(budget) if b)  # the latest month budgeted
                use = fmt.percent(premium[last] / budget[last], lang)
                ax.annotate(
                    say(
                        "office.legend.budget_use",
                        lang,
                        month=fmt.month_name(labels[last], lang, short=True),
                        share=use,
                    ),
                    (0.01, 0.97),
                    xycoords="axes fraction",
                    va="top",
                    fontsize=8.5,
                    color=MUTED,
                )
            ax.set_title(_short(titles[decree], 40), fontsize=10)
            ax.set_xticks(range(len(labels)), ticks, fontsize=8.5)
            _axis_numbers(ax, lang, axis="y")
            ax.tick_params(axis="y", labelsize=8.5)
            ax.margins(y=0.25)
        return _svg(fig, "months", say("office.sections.months", lang))


def senders_chart(senders: pl.DataFrame, rejects: pl.DataFrame, lang: str) -> str:
    """Rows sent back per sender (the most first), split by each row's first reason (the six
    commonest, then the rest); rows whose reasons could not be read are the last part."""
    top = senders.filter(pl.col("rejected") > 0).head(10)
    names = top.get_column("sender").to_list()[::-1]
    codes = (
        rejects.group_by("code")
        .agg(pl.col("first").sum())
        .sort(["first", "code"], descending=[True, False])
        .head(6)
        .get_column("code")
        .to_list()
    )
    other, unread = say("office.columns.others", lang), say("office.columns.reason_unread", lang)
    per = (
        rejects.filter(pl.col("sender").is_in(names))
        .with_columns(pl.when(pl.col("code").is_in(codes)).then("code").otherwise(pl.lit(other)))
        .group_by("sender", "code")
        .agg(pl.col("first").sum())
    )
    read = dict(per.group_by("sender").agg(pl.col("first").sum()).iter_rows())
    rejected = dict(top.select("sender", "rejected").iter_rows())
    parts = [(c, fmt.reason(c, lang), PALETTE[i]) for i, c in enumerate(codes)]
    parts += [(other, other, PALETTE[-1]), (unread, unread, "#d9d9d9")]
    with _style("senders"):
        fig, (ax,) = _figure(1.3 + 0.34 * max(len(names), 1))
        left = [0] * len(names)
        for code, label, colour in parts:
            if code == unread:
                values = [max(rejected[s] - read.get(s, 0), 0) for s in names]
            else:
                counts = dict(
                    per.filter(pl.col("code") == code).select("sender", "first").iter_rows()
                )
                values = [counts.get(s, 0) for s in names]
            if not any(values):
                continue
            ax.barh(
                [_short(s, 22) for s in names],
                values,
                left=left,
                height=0.7,
                color=colour,
                label=label,
            )
            left = [a + b for a, b in zip(left, values, strict=True)]
        _axis_numbers(ax, lang)
        fig.legend(loc="outside lower left", ncols=2, fontsize=8.5)
        return _svg(fig, "senders", say("office.sections.senders", lang))


def trend_chart(batches: pl.DataFrame, lang: str, last: int = 30) -> str:
    """Per batch, oldest first: people submitted, rows sent back, people already submitted."""
    rows = batches.filter(pl.col("status") == "done").tail(last).to_dicts()
    series = [
        ("participants", say("office.legend.submitted", lang), PALETTE[0]),
        ("rejected", say("office.legend.rejected", lang), PALETTE[5]),
        ("already_submitted", say("office.legend.already", lang), PALETTE[-1]),
    ]
    with _style("trend"):
        fig, (ax,) = _figure(2.8)
        x = list(range(len(rows)))
        bottom = [0] * len(rows)
        for key, label, colour in series:
            values = [r[key] or 0 for r in rows]
            if any(values):
                ax.bar(x, values, bottom=bottom, color=colour, width=0.7, label=label)
                bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        ax.set_xticks(x, [str(r["batch_id"]) for r in rows], fontsize=8.5)
        ax.set_xlim(-0.6, max(len(rows), 8) - 0.4)  # a few batches keep a bar's width
        ax.set_xlabel(say("office.columns.batch", lang))
        _axis_numbers(ax, lang, axis="y")
        fig.legend(loc="outside upper left", ncols=3)
        return _svg(fig, "trend", say("office.sections.trend", lang))


def refusals_chart(refusals: pl.DataFrame, lang: str) -> str:
    """BPJS refusals by reason (the most first)."""
    per = (
        refusals.group_by("reason")
        .agg(pl.col("people").sum())
        .sort(["people", "reason"], descending=[True, False])
        .head(MAX_BARS)
        .reverse()
    )
    with _style("refusals"):
        fig, (ax,) = _figure(0.8 + 0.32 * max(per.height, 1))
        ax.barh(
            [_short(r) for r in per.get_column("reason")],
            per.get_column("people"),
            color=PALETTE[5],
            height=0.7,
        )
        _axis_numbers(ax, lang)
        return _svg(fig, "refusals", say("office.sections.refusals", lang))
