"""Benchmark of normalise + row_checks + duplicate_checks (run by hand, not part of the tests).

    python benchmarks/bench_rowchecks.py            # 1,000,000 rows, median of 3
    python benchmarks/bench_rowchecks.py --rows 100000 --repeat 1

The input is a synthetic ``RosterTable`` as the reader hands it over (every cell text): Kota
Batam NIKs consistent with birth date and sex, dates in the accepted formats (ISO, dd-mm-yyyy,
dd/mm/yyyy, "12 Mei 1980", Excel serials), sex variants, phones in every accepted form,
kelurahan/kecamatan names with aliases and case variants, and about 3% mangled rows plus 1%
repeated NIKs. Reports the wall time of each step and the findings by code.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import polars as pl

from jamsos_cli import regions as reg
from jamsos_cli.checks import row_checks
from jamsos_cli.duplicates import duplicate_checks
from jamsos_cli.normalise import normalise
from jamsos_cli.tables import RosterTable

MONTHS_ID = ["Januari", "Pebruari", "Maret", "April", "Mei", "Juni", "Juli", "Agt", "Sep",
             "Okt", "Nop", "Des"]  # fmt: skip
NAMES = ["BUDI", "SITI", "AHMAD", "RINA", "AGUS", "DEWI", "EKO", "SRI", "HENDRA", "NUR"]
SURNAMES = ["SANTOSO", "AMINAH", "SAPUTRA", "HAYATI", "WIJAYA", "LESTARI", "PRATAMA", "SARI"]
SEXES_L = ["L", "Laki-laki", "LK", "laki laki", "Pria"]
SEXES_P = ["P", "Perempuan", "PR", "wanita", "P"]


def build(n: int, seed: int = 7) -> RosterTable:
    rng = np.random.default_rng(seed)
    city = reg.load().city("21.71")
    kel = city.kelurahan
    pick = rng.integers(0, kel.height, n)
    kel_names = np.array(kel.get_column("name").to_list())[pick]
    kel_codes = np.array(kel.get_column("code").to_list())[pick]
    kec_names = np.array([city.kecamatan_names[c[:8]] for c in kel.get_column("code").to_list()])[
        pick
    ]
    kec6 = np.array([c[:8].replace(".", "") for c in kel_codes.tolist()])
    female = rng.random(n) < 0.5
    year = rng.integers(1961, 2007, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    serial = rng.integers(1, 10_000, n)
    frame = pl.DataFrame(
        {"k": kec6, "y": year, "m": month, "d": day, "f": female, "s": serial,
         "kel": kel_names, "kec": kec_names, "i": np.arange(n)}
    )  # fmt: skip
    dd = pl.when(pl.col("f")).then(pl.col("d") + 40).otherwise(pl.col("d"))
    nik = pl.format(
        "{}{}{}{}{}",
        pl.col("k"),
        dd.cast(pl.Utf8).str.zfill(2),
        pl.col("m").cast(pl.Utf8).str.zfill(2),
        (pl.col("y") % 100).cast(pl.Utf8).str.zfill(2),
        pl.col("s").cast(pl.Utf8).str.zfill(4),
    )
    fmt = pl.col("i") % 5
    d2, m2 = pl.col("d").cast(pl.Utf8).str.zfill(2), pl.col("m").cast(pl.Utf8).str.zfill(2)
    y = pl.col("y").cast(pl.Utf8)
    month_name = pl.col("m").replace_strict(
        dict(enumerate(MONTHS_ID, start=1)), return_dtype=pl.Utf8
    )
    serial_days = (pl.date(pl.col("y"), pl.col("m"), pl.col("d")).cast(pl.Int32) + 25569).cast(
        pl.Utf8
    )
    date = (
        pl.when(fmt == 0).then(pl.format("{}-{}-{}", d2, m2, y))
        .when(fmt == 1).then(pl.format("{}/{}/{}", d2, m2, y))
        .when(fmt == 2).then(pl.format("{}-{}-{}", y, m2, d2))
        .when(fmt == 3).then(pl.format("{} {} {}", pl.col("d"), month_name, y))
        .otherwise(serial_days)
    )  # fmt: skip
    idx = pl.col("i") % len(NAMES)
    name = pl.format(
        "{} {}",
        idx.replace_strict(dict(enumerate(NAMES)), return_dtype=pl.Utf8),
        (pl.col("i") // 7 % len(SURNAMES)).replace_strict(
            dict(enumerate(SURNAMES)), return_dtype=pl.Utf8
        ),
    )
    sex = (
        pl.when(pl.col("f"))
        .then((pl.col("i") % 5).replace_strict(dict(enumerate(SEXES_P)), return_dtype=pl.Utf8))
        .otherwise((pl.col("i") % 5).replace_strict(dict(enumerate(SEXES_L)), return_dtype=pl.Utf8))
    )
    phone_digits = (pl.col("i") % 90_000_000 + 10_000_000).cast(pl.Utf8)
    phone = (
        pl.when(pl.col("i") % 4 == 0).then(pl.format("0812{}", phone_digits))
        .when(pl.col("i") % 4 == 1).then(pl.format("+62 812-{}", phone_digits))
        .when(pl.col("i") % 4 == 2).then(pl.format("62812{}", phone_digits))
        .otherwise(pl.format("812{}", phone_digits))
    )  # fmt: skip
    kel_typed = (
        pl.when(pl.col("i") % 10 == 0).then(pl.col("kel").str.to_uppercase())
        .when(pl.col("i") % 10 == 1).then(pl.format("Kel. {}", pl.col("kel")))
        .when(pl.col("i") % 10 == 2).then(pl.col("kel").str.replace("Sungai", "Sei"))
        .otherwise(pl.col("kel"))
    )  # fmt: skip
    out = frame.select(
        # ~1% repeat an earlier NIK (same person), 3% mangled in one way or another
        pl.when(pl.col("i") % 100 == 99).then(nik.shift(50)).when(pl.col("i") % 97 == 5)
        .then(nik.str.slice(0, 15)).when(pl.col("i") % 89 == 3)
        .then(pl.format("{} {}", nik.str.slice(0, 4), nik.str.slice(4))).otherwise(nik)
        .alias("c0"),
        pl.when(pl.col("i") % 100 == 99).then(name.shift(50)).otherwise(name).alias("c1"),
        pl.when(pl.col("i") % 100 == 99).then(date.shift(50)).when(pl.col("i") % 83 == 2)
        .then(pl.lit("31-02-1980")).otherwise(date).alias("c2"),
        pl.when(pl.col("i") % 100 == 99).then(sex.shift(50)).otherwise(sex).alias("c3"),
        pl.when(pl.col("i") % 79 == 4).then(pl.lit("123")).otherwise(phone).alias("c4"),
        kel_typed.alias("c5"),
        pl.col("kec").alias("c6"),
        (pl.col("i") + 2).cast(pl.Int64).alias("_row"),
        pl.lit(False).alias("_nik_numeric"),
        pl.lit(False).alias("_phone_numeric"),
    )  # fmt: skip
    headers = ["NIK", "NAMA", "TGL LAHIR", "JK", "NO HP", "KELURAHAN", "KECAMATAN"]
    fields = {"nik": 0, "name": 1, "birth_date": 2, "sex": 3, "phone": 4, "kelurahan": 5,
              "kecamatan": 6}  # fmt: skip
    return RosterTable("bench.csv", Path("bench.csv"), None, "csv", 1, headers, fields, out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    table = build(args.rows)
    regions = reg.load()
    regions.city("21.71")
    times: dict[str, list[float]] = {"normalise": [], "row_checks": [], "duplicates": []}
    cpu: list[float] = []
    for _ in range(args.repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        records = normalise([table], regions=regions)
        t1 = time.perf_counter()
        checks = row_checks(records, regions=regions)
        t2 = time.perf_counter()
        errors = (
            checks.filter(
                ~pl.col("code").is_in(["NIK_NUMERIC_CELL", "NIK_DISTRICT_UNKNOWN", "PHONE_FORMAT"])
            )
            .get_column("rid")
            .unique()
        )
        t3 = time.perf_counter()
        dups = duplicate_checks(records, errors)
        t4 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        times["normalise"].append(t1 - t0)
        times["row_checks"].append(t2 - t1)
        times["duplicates"].append(t4 - t3)
    total = [sum(ts) for ts in zip(*times.values(), strict=True)]
    print(f"{args.rows:,} rows, median of {args.repeat} (wall; the machine's load shows in it):")
    for step, ts in times.items():
        print(f"  {step:<11} {statistics.median(ts):6.2f} s")
    print(
        f"  {'total':<11} {statistics.median(total):6.2f} s   (CPU {statistics.median(cpu):.2f} s)"
    )
    print(f"  records frame: {records.estimated_size('mb'):.0f} MB, {records.width} columns")
    by_code = pl.concat([checks, dups]).group_by("code").len().sort("len", descending=True)
    print(by_code)


if __name__ == "__main__":
    main()
