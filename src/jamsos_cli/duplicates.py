"""Exact NIK duplicates and conflicts across the whole run.

Only rows not already rejected count (``exclude_rids``). Rows with the same NIK are one person
when their identity agrees (the one name identity, ``names.py``): the same ``name_key``
("Hjh. Siti Aminah" = "SITI AMINAH", "Nur Hayati" = "Nurhayati"), no two different fathers'
names (bin/binti) and the same birth date. Then the first occurrence (files in command-line
order, rows in order: ``_rid``) is kept and each later one is NIK_DUPLICATE naming the kept
one. When the occurrences are different people, none can be trusted: each is NIK_CONFLICT
listing the others.

``ledger_conflict_checks``: NIK_CONFLICT for a row whose NIK the ledger holds for another
person (the same identity rule, against the person the ledger recorded): the row goes back
to the sender, naming the batch.

``same_person_checks``: SAME_PERSON for near-duplicate pairs a clerk decided "same" (one NIK
each, one person: only one of the two is paid).

Cost: one group_by on the Int64 NIK over the whole frame to find NIKs seen twice, then a
semi-join; everything else runs on those few rows (PERFORMANCE-NOTES).
"""

from __future__ import annotations

import polars as pl

from jamsos_cli.findings import CHECK_SCHEMA, concat_checks, empty_checks

# The finding codes this step emits (one NIK twice, and pairs decided the same person):
# tests/test_house.py holds each step to its list, and all the lists to codes.toml.
EMITS = frozenset(
    {
        "NIK_DUPLICATE",
        "NIK_CONFLICT",
        "SAME_PERSON",
    }
)

MAX_LISTED = 10  # NIK_CONFLICT names at most this many other occurrences


def location_expr() -> pl.Expr:
    """ "<file>:<row>", or "<file> [<sheet>]:<row>" for a sheet of a workbook."""
    where = pl.when(pl.col("_sheet").is_not_null())
    name = where.then(pl.format("{} [{}]", pl.col("_file"), pl.col("_sheet"))).otherwise(
        pl.col("_file")
    )
    return pl.format("{}:{}", name, pl.col("_row"))


def duplicate_checks(records: pl.DataFrame, exclude_rids: pl.Series) -> pl.DataFrame:
    """NIK_DUPLICATE / NIK_CONFLICT findings (``findings.CHECK_SCHEMA``)."""
    base = (
        records.lazy()
        .select(
            "_rid",
            "nik_int",
            "raw_nik",
            "name_key",
            "father_key",
            "birth_date",
            "_file",
            "_sheet",
            "_row",
        )  # fmt: skip
        .filter(pl.col("nik_int").is_not_null())
        .join(pl.LazyFrame({"_rid": exclude_rids.cast(pl.Int64)}), on="_rid", how="anti")
    )
    repeated = base.group_by("nik_int").agg(pl.len().alias("_n")).filter(pl.col("_n") > 1)
    occ = (
        base.join(repeated, on="nik_int", how="semi")
        .with_columns(
            location_expr().alias("_loc"),
            pl.struct("name_key", "birth_date").alias("_who"),
        )
        .sort("_rid")
        .with_columns(
            (
                (pl.col("_who").n_unique().over("nik_int") > 1)
                | (pl.col("father_key").drop_nulls().n_unique().over("nik_int") > 1)
            ).alias("_conflict"),
            pl.col("_loc").first().over("nik_int").alias("_first_loc"),
            (pl.col("_rid") == pl.col("_rid").min().over("nik_int")).alias("_is_first"),
        )
        .collect()
    )
    if occ.height == 0:
        return empty_checks()
    dup = (
        occ.lazy()
        .filter(~pl.col("_conflict") & ~pl.col("_is_first"))
        .select(
            pl.col("_rid").alias("rid"),
            pl.lit("NIK_DUPLICATE").alias("code"),
            pl.lit("nik").alias("field"),
            pl.col("raw_nik").alias("value"),
            pl.col("_first_loc").alias("detail"),
        )
    )
    clash = occ.lazy().filter(pl.col("_conflict"))
    others = (
        clash.select("_rid", "nik_int")
        .join(clash.select("nik_int", pl.col("_rid").alias("_other"), "_loc"), on="nik_int")
        .filter(pl.col("_rid") != pl.col("_other"))
        .sort("_rid", "_other")
        .group_by("_rid", maintain_order=True)
        .agg(pl.col("_loc").head(MAX_LISTED).str.join(", "), pl.len().alias("_n"))
        .with_columns(
            pl.when(pl.col("_n") > MAX_LISTED)
            .then(pl.format("{} (+{})", pl.col("_loc"), pl.col("_n") - MAX_LISTED))
            .otherwise(pl.col("_loc"))
            .alias("_others")
        )
    )
    conflict = clash.join(others, on="_rid", how="left").select(
        pl.col("_rid").alias("rid"),
        pl.lit("NIK_CONFLICT").alias("code"),
        pl.lit("nik").alias("field"),
        pl.col("raw_nik").alias("value"),
        pl.col("_others").alias("detail"),
    )
    return concat_checks([dup, conflict]).sort("rid", maintain_order=True)


def ledger_conflict_checks(candidates: pl.DataFrame, recorded: pl.DataFrame) -> pl.DataFrame:
    """NIK_CONFLICT for each candidate row whose NIK the ledger holds for someone else.

    ``candidates``: records (``_rid``, ``nik``, ``raw_nik``, ``name_key``, ``father_key``,
    ``birth_date``) not rejected so far; ``recorded``: the ledger's people of live batches
    (``nik``, ``name``, ``birth_date`` as ISO text, ``folder`` name), each NIK once (the
    first recorded). The identity is the run's own (``names.identity_key``, fathers' names,
    birth date): a ledger name spelled another way ("Hj. Siti Aminah") is the same person."""
    from jamsos_cli.names import father_key, identity_key

    if candidates.height == 0 or recorded.height == 0:
        return empty_checks()
    theirs = recorded.select(
        "nik", pl.col("name").alias("_name"), pl.col("birth_date").alias("_birth"), "folder"
    )
    mine = candidates.select("_rid", "nik", "raw_nik", "name_key", "father_key", "birth_date")
    hits = mine.join(theirs, on="nik", how="inner", maintain_order="left")
    if hits.height == 0:
        return empty_checks()
    hits = hits.with_columns(
        identity_key(pl.col("_name")).alias("_key"),
        father_key(pl.col("_name")).alias("_father"),
        pl.col("_birth").str.to_date("%Y-%m-%d", strict=False),
    )
    other_name = pl.col("name_key") != pl.col("_key")
    other_father = pl.col("father_key") != pl.col("_father")
    other_birth = pl.col("birth_date") != pl.col("_birth")
    differs = pl.any_horizontal(
        other_name.fill_null(False), other_father.fill_null(False), other_birth.fill_null(False)
    )
    return hits.filter(differs).select(
        pl.col("_rid").alias("rid"),
        pl.lit("NIK_CONFLICT").alias("code"),
        pl.lit("nik").alias("field"),
        pl.col("raw_nik").alias("value"),
        pl.format("ledger: {}", pl.col("folder")).alias("detail"),
    )


def same_person_checks(
    pairs: pl.DataFrame, records: pl.DataFrame, rejected: pl.Series
) -> pl.DataFrame:
    """``SAME_PERSON`` (error) for pairs a clerk decided "same": one of the two is paid.

    Two run records: the later one is rejected, naming the earlier, unless only the earlier
    one is already rejected for another reason (then the later one is the one paid, and the
    earlier one is told so). A run record and a ledger person: the run record, naming the
    ledger batch. ``rejected``: rids with an error so far.
    """
    if pairs.height == 0:
        return empty_checks()
    where = records.select("_rid", at=location_expr())
    bad = rejected.cast(pl.Int64).unique().to_frame("_rid").with_columns(bad=pl.lit(True))
    p = (
        pairs.select("a_rid", "b_rid", "b_ref", "a_nik", "b_nik")
        .join(where.rename({"_rid": "a_rid", "at": "a_at"}), on="a_rid", how="left")
        .join(where.rename({"_rid": "b_rid", "at": "b_at"}), on="b_rid", how="left")
        .join(bad.rename({"_rid": "a_rid", "bad": "a_bad"}), on="a_rid", how="left")
        .join(bad.rename({"_rid": "b_rid", "bad": "b_bad"}), on="b_rid", how="left")
    )
    flag_a = pl.col("b_rid").is_null() | (
        pl.col("a_bad").fill_null(False) & ~pl.col("b_bad").fill_null(False)
    )
    out = p.select(
        rid=pl.when(flag_a).then("a_rid").otherwise("b_rid"),
        code=pl.lit("SAME_PERSON"),
        field=pl.lit("nik"),
        value=pl.when(flag_a).then("a_nik").otherwise("b_nik"),
        detail=pl.when(flag_a).then(pl.coalesce("b_at", "b_ref")).otherwise("a_at"),
    )
    return (
        out.unique(subset=["rid", "detail"], keep="first", maintain_order=True)
        .select(pl.col(c).cast(t) for c, t in CHECK_SCHEMA.items())
        .sort("rid", maintain_order=True)
    )
