"""Likely-duplicate reasons in words: the stable keys a pair carries ("nik.last_digit",
"rare_name", "nik_birth_date_mismatch:B") rendered as one sentence in the reader's language
(``reason.<key>`` in the text catalogue; ``{param}`` is the part after the colon). With the
pair's weights (log2 m/u, ``neardup``) each comparison also says how much it weighs, in the
words of ``strength.<word>`` for the bands of ``schemas/neardup.toml``."""

from __future__ import annotations

import polars as pl

from jamsos_cli.texts import Lang, say, section

# Notes that qualify the comparison before them ("nama sama (nama jarang)").
_QUALIFIERS = ("name_normalised", "rare_name", "common_name", "common_birth_date")


def reason_text(
    reasons: list[str] | None, lang: Lang = "id", weights: list[float | None] | None = None
) -> str:
    """Render reason keys as one sentence in ``lang``; with ``weights`` (one per reason, None
    for a note) each comparison says its weight in words. An unknown key stands as it is."""
    series = pl.Series([reasons], dtype=pl.List(pl.Utf8))
    w = None if weights is None else pl.Series([weights], dtype=pl.List(pl.Float64))
    return render_reasons(series, lang, w).item()


def _templates(lang: Lang) -> pl.DataFrame:
    """Reason key → template, as a frame (for vectorised rendering of many pairs)."""
    templates = section("reason", lang)
    return pl.DataFrame(
        {"key": list(templates), "template": list(templates.values())},
        schema={"key": pl.Utf8, "template": pl.Utf8},
    )


def _strength_words(lang: Lang) -> pl.DataFrame:
    """Band index (``linkage.strength_key``) → its word in ``lang`` (null: no word)."""
    from jamsos_cli.linkage import spec

    words = [None if b.word is None else say(f"strength.{b.word}", lang) for b in spec().strength]
    return pl.DataFrame(
        {"band": list(range(len(words))), "word": words},
        schema={"band": pl.Int32, "word": pl.Utf8},
    )


def render_reasons(
    reasons: pl.Series, lang: Lang = "id", weights: pl.Series | None = None
) -> pl.Series:
    """``reason_text`` for a whole column of reason lists, vectorised (one text per list).

    A qualifier note (a rare or common name, a common birth date) goes in brackets after the
    comparison it qualifies, with that comparison's weight in words: "nama sama (nama jarang,
    sangat kuat)"."""
    from jamsos_cli.linkage import strength_key

    frame = pl.DataFrame({"reasons": reasons.cast(pl.List(pl.Utf8))}).with_row_index("i")
    if weights is None:
        frame = frame.with_columns(weights=pl.lit(None, pl.List(pl.Float64)))
    else:
        frame = frame.with_columns(weights=weights.cast(pl.List(pl.Float64)))
    frame = frame.with_columns(
        weights=pl.when(pl.col("weights").list.len() == pl.col("reasons").list.len())
        .then("weights")
        .otherwise(pl.col("reasons").list.eval(pl.lit(None, pl.Float64)))
    )
    split = pl.col("reasons").str.split_exact(":", 1)
    parts = (
        frame.explode("reasons", "weights")
        .with_columns(
            key=split.struct.field("field_0"),
            param=split.struct.field("field_1").fill_null(""),
        )
        .join(_templates(lang), on="key", how="left", maintain_order="left")
        .join(
            _strength_words(lang),
            left_on=strength_key(pl.col("weights")).cast(pl.Int32),
            right_on="band",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            text=pl.coalesce(
                pl.col("template").str.replace_all("{param}", pl.col("param"), literal=True),
                pl.col("reasons"),
            ),
            qualifier=pl.col("key").is_in(_QUALIFIERS),
        )
        .filter(pl.col("reasons").is_not_null())
        .with_columns(group=(~pl.col("qualifier")).cast(pl.Int32).cum_sum().over("i"))
    )
    grouped = parts.group_by("i", "group", maintain_order=True).agg(
        base=pl.col("text").filter(~pl.col("qualifier")).first(),
        notes=pl.col("text").filter(pl.col("qualifier")),
        word=pl.col("word").filter(~pl.col("qualifier")).first(),
    )
    bracket = pl.concat_list("notes", pl.col("word").cast(pl.Utf8)).list.drop_nulls()
    items = grouped.with_columns(
        item=pl.when(bracket.list.len() > 0)
        .then(pl.format("{} ({})", pl.coalesce("base", pl.lit("")), bracket.list.join(", ")))
        .otherwise(pl.col("base"))
    )
    texts = items.group_by("i").agg(pl.col("item").drop_nulls().str.join(", "))
    out = frame.select("i").join(texts, on="i", how="left", maintain_order="left")
    return out.get_column("item").fill_null("").alias(reasons.name)
