"""Near-duplicate reasons in words: the stable keys ``neardup`` gives a pair ("same_phone",
"name_similar:94") rendered as one sentence in the reader's language (``reason.<key>`` in
the text catalogue; ``{param}`` is the part after the colon)."""

from __future__ import annotations

import polars as pl

from jamsos_cli.texts import Lang, section


def reason_text(reasons: list[str] | None, lang: Lang = "id") -> str:
    """Render reason keys as one sentence in ``lang``; an unknown key stands as it is."""
    templates = section("reason", lang)
    parts = []
    for reason in reasons or []:
        key, _, param = reason.partition(":")
        template = templates.get(key)
        parts.append(template.replace("{param}", param) if template else reason)
    return ", ".join(parts)


def _templates(lang: Lang) -> pl.DataFrame:
    """Reason key → template, as a frame (for vectorised rendering of many pairs)."""
    templates = section("reason", lang)
    return pl.DataFrame(
        {"key": list(templates), "template": list(templates.values())},
        schema={"key": pl.Utf8, "template": pl.Utf8},
    )


def render_reasons(reasons: pl.Series, lang: Lang = "id") -> pl.Series:
    """``reason_text`` for a whole column of reason lists, vectorised (one text per list)."""
    frame = pl.DataFrame({"reasons": reasons.cast(pl.List(pl.Utf8))}).with_row_index("i")
    parts = (
        frame.explode("reasons")
        .with_columns(
            key=pl.col("reasons").str.split_exact(":", 1).struct.field("field_0"),
            param=pl.col("reasons").str.split_exact(":", 1).struct.field("field_1").fill_null(""),
        )
        .join(_templates(lang), on="key", how="left", maintain_order="left")
        .with_columns(
            text=pl.coalesce(
                pl.col("template").str.replace_all("{param}", pl.col("param"), literal=True),
                pl.col("reasons"),
            )
        )
    )
    texts = parts.group_by("i").agg(pl.col("text").drop_nulls().str.join(", "))
    out = frame.select("i").join(texts, on="i", how="left", maintain_order="left")
    return out.get_column("text").fill_null("").alias(reasons.name)
