"""Benchmark of the near-duplicate engine (run by hand, not part of the tests).

    python benchmarks/bench_neardup.py                     # quality at 100k, speed at 1M
    python benchmarks/bench_neardup.py --quality 20000 --speed 0

Quality: a synthetic Kota Batam roster with realistic collisions (Zipf-distributed common
names, birth dates piled on 1 January, twins with consecutive NIK serials, parents and children
with the same name) in which 1% of the rows are people typed twice: one NIK error (one digit
substituted, two neighbouring digits swapped, or the 16th digit lost to Excel), a name variant
(none, MUHAMMAD/MUH./M., title added or dropped, degree added or dropped, one-letter typo), the
same birth date, the phone kept or left out. Reports precision and recall of the pairs found
(target >= 95% each), with recall by error kind and the false positives by kind.

Speed: the engine alone on a generated roster in a fresh process (the data is handed over as
a Parquet file), wall time and peak RSS (target for 1,000,000 rows on 2 cores: < 60 s, < 4 GiB).

Everything is generated vectorised (numpy + polars); the names are synthetic, not real people.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl


def _words(text: str) -> list[str]:
    return text.split()


MALE = _words(
    "RIZKI AHMAD BUDI ANDI AGUS HENDRA DEDI EKO ARIF RUDI JOKO YUSUF HASAN IRWAN FAJAR "
    "DANI RAHMAT SYAHRUL ABDUL ZULKIFLI IMAM BAYU DODI FIRMAN HERI INDRA JUNAIDI KURNIAWAN "
    "LUKMAN MULYADI NOVAL OKTA PUTRA RAMLI SAIFUL TAUFIK UMAR WAHYU YUDI ZAINAL ADI BAMBANG "
    "CAHYO DARMAN EFENDI FAISAL GUNAWAN HARIS ISMAIL JAMAL KHAIRUL LATIF MAHMUD NASRUL "
    "RAHMAN SAMSUL TEGUH USMAN WAWAN YOGA ANWAR BAHARUDIN DARWIS ERWIN FIKRI GALIH HIDAYAT "
    "ILHAM JEFRI KAMAL MARZUKI NURDIN RIDWAN SUPARMAN TRIYONO AMIR BUSTAMI HAMDAN ROSLAN "
    "AZHAR IDRIS SALIM YAHYA ZAKARIA HUSIN RASYID ARDI BENNY CANDRA DIMAS ERIK FERRY"
)
FEMALE = _words(
    "AMINAH NURHAYATI SRI DEWI RATNA YULIANTI FITRI RINA WATI SUSANTI LESTARI ANI HARTATI "
    "MARLINA ROSMIATI YANTI NOVITA KARTINI MULYANI SUMIATI ZURAIDA AISYAH FATIMAH KHADIJAH "
    "MAIMUNAH NURAINI RAHMAWATI SAFITRI WULANDARI PUSPITA INDAH JUWITA KASMAWATI LINDA "
    "MAYA NINGSIH OKTAVIA PURNAMA RAHAYU SARI TUTI UMI WIDYA YUNI ZAHRA ANGGRAINI BUDIARTI "
    "CITRA DAHLIA ELIDA FARIDA HASNAH IRAWATI JUMIATI KURNIASIH LELA MASITAH NURMALA "
    "PATIMAH ROHANI SALMAH TIARA ULFA WARDAH YUSNIDAR ASMAH DEWANTI ERNA HALIMAH JAMILAH "
    "MARIAM NORMA RAMLAH SITI ZAINAB HABSAH ROSNAH SUHAIDA"
)
SECOND = _words(
    "SAPUTRA SANTOSO PRATAMA HIDAYAT SETIAWAN WIJAYA KURNIAWAN NASUTION SIREGAR LUBIS "
    "HARAHAP SIMANJUNTAK GINTING TARIGAN PURBA SITORUS HASIBUAN DAULAY RANGKUTI BATUBARA "
    "PANJAITAN SIHOMBING MANURUNG NAINGGOLAN PARDEDE SINAGA SARAGIH DAMANIK RAHMAN HAKIM "
    "HASAN IBRAHIM ISMAIL YUSUF MAHMUD ABDULLAH SULAIMAN RAMADHAN FIRDAUS SYAHPUTRA "
    "KUSUMA LESTARI WATI SARI NINGSIH ANGGRAINI PERMATA HANDAYANI RAHAYU PUSPITASARI "
    "SUSILO PRASETYO NUGROHO WIBOWO HARTONO SUGIANTO SURYADI EFENDI GUNAWAN HALIM "
    "AMIRUDDIN BAHRI DARMAWAN FAUZI HAMZAH JUNAIDI KADIR LATIF MUNIR NAWAWI RIDWAN SAID "
    "TAHER ZAINUDDIN ARIFIN BASRI CHANDRA DAHLAN FAHMI HUSAIN IRAWAN JAYADI MANSUR RUSLI"
)
STREETS = _words(
    "MAWAR MELATI KENANGA DAHLIA ANGGREK CEMPAKA FLAMBOYAN BOUGENVILLE TERATAI SERUNI "
    "MERANTI CENDANA BERINGIN KAMBOJA SAKURA RAYA PELITA HARAPAN DAMAI SEJAHTERA"
)


def _pick(rng: np.random.Generator, pool: list[str], n: int, zipf: float = 1.1) -> pl.Series:
    """n draws from pool with Zipf-like weights: a few names are very common."""
    w = 1.0 / np.arange(1, len(pool) + 1) ** zipf
    idx = rng.choice(len(pool), size=n, p=w / w.sum())
    return pl.Series(pool).gather(idx)


def _digits(rng: np.random.Generator, n: int, k: int) -> pl.Series:
    return pl.Series(rng.integers(0, 10**k, size=n)).cast(pl.Utf8).str.zfill(k)


def _people(rng: np.random.Generator, n: int, kel: pl.DataFrame) -> pl.DataFrame:
    """Independent base people (no NIK yet)."""
    sex = pl.Series(np.where(rng.random(n) < 0.5, "L", "P"))
    male = sex == "L"
    given = pl.select(
        pl.when(male).then(_pick(rng, MALE, n, 0.8)).otherwise(_pick(rng, FEMALE, n, 0.8))
    ).to_series()
    second = _pick(rng, SECOND, n, zipf=0.6)
    third = pl.Series(np.where(rng.random(n) < 0.5, " ", "")) + _pick(rng, SECOND, n, 0.5)
    third = pl.select(
        pl.when(third.str.starts_with(" ")).then(third).otherwise(pl.lit(""))
    ).to_series()
    lead = np.select(
        [male.to_numpy() & (rng.random(n) < 0.18), ~male.to_numpy() & (rng.random(n) < 0.15)],
        ["MUHAMMAD ", "SITI "],
        "",
    )
    bare = pl.Series(lead) + given + " " + second + third
    start = np.datetime64("1961-01-01")
    days = rng.integers(0, 46 * 365, size=n)
    dob = start + days.astype("timedelta64[D]")
    jan1 = rng.random(n) < 0.03  # administrative default date
    dob = np.where(jan1, dob.astype("datetime64[Y]").astype("datetime64[D]"), dob)
    k = rng.integers(0, kel.height, size=n)
    phone = "08" + _digits(rng, n, 10)
    return pl.DataFrame(
        {
            "bare": bare,
            "sex": sex,
            "birth_date": pl.Series(dob).cast(pl.Date),
            "region": kel["region"].gather(k),
            "kelurahan": kel["nama"].gather(k),
            "phone": pl.select(pl.when(pl.Series(rng.random(n)) < 0.75).then(phone)).to_series(),
            "address": "JL. "
            + _pick(rng, STREETS, n, 0.5)
            + " NO. "
            + pl.Series(rng.integers(1, 200, size=n)).cast(pl.Utf8),
            "title": pl.Series(rng.random(n) < 0.03),
            "degree": pl.Series(rng.random(n) < 0.04),
        }
    )


def _kelurahan() -> pl.DataFrame:
    from jamsos_cli.resources import schema_file

    ref = pl.read_csv(schema_file("reference", "wilayah_kemendagri.csv"), infer_schema=False)
    return ref.filter(
        pl.col("kode").str.starts_with("21.71."), pl.col("tingkat") == "kelurahan_desa"
    ).select("nama", region=pl.col("kode").str.slice(0, 8).str.replace_all(".", "", literal=True))


def _render(frame: pl.DataFrame) -> pl.Expr:
    title = (
        pl.when(pl.col("title"))
        .then(pl.when(pl.col("sex") == "L").then(pl.lit("H. ")).otherwise(pl.lit("HJ. ")))
        .otherwise(pl.lit(""))
    )
    degree = pl.when(pl.col("degree")).then(pl.lit(", S.PD.")).otherwise(pl.lit(""))
    return pl.concat_str(title, pl.col("bare"), degree)


def _nik(frame: pl.DataFrame) -> pl.Expr:
    d = pl.col("birth_date")
    day = d.dt.day() + pl.when(pl.col("sex") == "P").then(40).otherwise(0)
    return pl.concat_str(
        pl.col("region"),
        day.cast(pl.Utf8).str.zfill(2),
        d.dt.month().cast(pl.Utf8).str.zfill(2),
        (d.dt.year() % 100).cast(pl.Utf8).str.zfill(2),
        pl.col("serial").cast(pl.Utf8).str.zfill(4),
    )


def _nik_error(rng: np.random.Generator, nik: pl.Series, kind: np.ndarray) -> pl.Series:
    """Apply one NIK error per row: 'sub', 'trans' or 'trunc' (numpy digit arithmetic)."""
    n = len(nik)
    place = 10 ** np.arange(15, -1, -1, dtype=np.int64)
    digits = nik.cast(pl.Int64).to_numpy()[:, None] // place % 10
    rows = np.arange(n)
    out = digits.copy()
    # substitution at a random position
    pos = rng.integers(0, 16, size=n)
    sub = kind == "sub"
    out[rows[sub], pos[sub]] = (digits[rows[sub], pos[sub]] + rng.integers(1, 10, sub.sum())) % 10
    # transposition of neighbours that differ (retry positions where they are equal)
    tr = kind == "trans"
    p = rng.integers(0, 15, size=n)
    for _ in range(20):
        same = tr & (digits[rows, p] == digits[rows, p + 1])
        p[same] = rng.integers(0, 15, size=same.sum())
    r, c = rows[tr], p[tr]
    out[r, c], out[r, c + 1] = digits[r, c + 1], digits[r, c]
    # Excel truncation: the 16th digit becomes 0
    out[kind == "trunc", 15] = 0
    return pl.Series((out * place).sum(axis=1)).cast(pl.Utf8).str.zfill(16)


def generate(n_rows: int, dup_rate: float = 0.01, seed: int = 7) -> pl.DataFrame:
    """A synthetic roster of n_rows with `person` and `family` ids and the planted `kind`."""
    rng = np.random.default_rng(seed)
    kel = _kelurahan()
    n_dup = int(n_rows * dup_rate)
    n_twin = n_child = int(n_rows * 0.005)
    n_base = n_rows - n_dup - n_twin - n_child
    base = _people(rng, n_base, kel).with_columns(
        person=pl.int_range(n_base, dtype=pl.Int64), family=pl.int_range(n_base, dtype=pl.Int64)
    )
    # twins: a sibling with another given name, same date, kecamatan, address, often phone
    src = base.sample(n_twin, seed=seed + 1)
    other = pl.select(
        pl.when(src["sex"] == "L")
        .then(_pick(rng, MALE, n_twin))
        .otherwise(_pick(rng, FEMALE, n_twin))
    ).to_series()
    first = src["bare"].str.replace(r"^(MUHAMMAD |SITI )?\S+", "")
    twins = src.with_columns(
        bare=pl.concat_str(
            src["bare"].str.extract(r"^(MUHAMMAD |SITI )?", 1).fill_null(""), other, first
        ),
        phone=pl.when(pl.Series(rng.random(n_twin)) < 0.7).then("phone"),
        person=pl.int_range(n_twin, dtype=pl.Int64) + n_base,
        title=pl.lit(False),
        degree=pl.lit(False),
    ).filter(pl.col("bare") != src["bare"])
    # parents and children with the same name, 20-35 years apart, same address
    par = base.filter(pl.col("birth_date").dt.year() < 1975).sample(n_child, seed=seed + 2)
    gap = pl.Series(rng.integers(20 * 365, 35 * 365, size=n_child), dtype=pl.Int32)
    children = par.with_columns(
        birth_date=(pl.col("birth_date").cast(pl.Int32) + gap).cast(pl.Date),
        phone=pl.when(pl.Series(rng.random(n_child)) < 0.5).then("phone"),
        person=pl.int_range(n_child, dtype=pl.Int64) + n_base + n_twin,
        title=pl.lit(False),
        degree=pl.lit(False),
    )
    everyone = pl.concat([base, twins, children]).with_columns(
        order=pl.Series(rng.random(n_base + twins.height + n_child))
    )
    # serial: registration order within (kecamatan, birth date, sex); families together
    everyone = everyone.with_columns(pl.col("order").min().over("family")).sort("order", "person")
    everyone = everyone.with_columns(
        serial=pl.int_range(1, pl.len() + 1).over("region", "birth_date", "sex")
    ).with_columns(nik=_nik(everyone), name=_render(everyone), kind=pl.lit(None, pl.Utf8))
    # typed-twice people
    dup = everyone.sample(n_dup, seed=seed + 3)
    kind = rng.choice(["sub", "trans", "trunc"], size=n_dup)
    kind[(kind == "trunc") & dup["nik"].str.ends_with("0").to_numpy()] = "sub"
    new_nik = _nik_error(rng, dup["nik"], kind)
    for _ in range(10):  # an error that lands on someone else's NIK is an exact duplicate: redo
        clash = new_nik.is_in(everyone["nik"].implode()).to_numpy()
        if not clash.any():
            break
        kind[clash] = "sub"
        redo = _nik_error(rng, dup["nik"].filter(pl.Series(clash)), kind[clash])
        new_nik = new_nik.scatter(np.flatnonzero(clash), redo)
    variant = rng.choice(["none", "muh", "title", "degree", "typo"], size=n_dup)
    dup = dup.with_columns(
        nik=new_nik,
        kind=pl.Series(kind),
        variant=pl.Series(variant),
        pos=pl.Series(rng.random(n_dup)),
        letter=pl.Series(rng.integers(0, 26, size=n_dup)),
    )
    dup = dup.with_columns(
        bare=pl.when(pl.col("variant") == "muh")
        .then(pl.col("bare").str.replace("^MUHAMMAD ", "MUH. ").str.replace("^SITI ", "ST. "))
        .when(pl.col("variant") == "typo")
        .then(_typo(pl.col("bare"), pl.col("pos"), pl.col("letter")))
        .otherwise("bare"),
        title=pl.when(
            pl.col("variant").is_in(["title"])
            | ((pl.col("variant") == "muh") & ~pl.col("bare").str.contains("^(MUHAMMAD|SITI) "))
        )
        .then(~pl.col("title"))
        .otherwise("title"),
        degree=pl.when(pl.col("variant") == "degree").then(~pl.col("degree")).otherwise("degree"),
        phone=pl.when(pl.Series(rng.random(n_dup)) < 0.6).then("phone"),
        address=pl.when(pl.Series(rng.random(n_dup)) < 0.7)
        .then("address")
        .when(pl.Series(rng.random(n_dup)) < 0.5)
        .then(pl.col("address").str.replace("JL. ", "JALAN ", literal=True)),
    )
    dup = dup.with_columns(name=_render(dup)).drop("variant", "pos", "letter")
    rows = pl.concat(
        [
            everyone.with_columns(nik_numeric=pl.lit(False)),
            dup.with_columns(nik_numeric=pl.col("kind") == "trunc"),
        ],
        how="diagonal",
    )
    n = rows.height
    rows = rows.with_columns(shuffle=pl.Series(rng.permutation(n))).sort("shuffle")
    files = pl.Series([f"kelurahan_{i:02d}.xlsx" for i in range(20)])
    return rows.select(
        _rid=pl.int_range(n, dtype=pl.Int64),
        _file=files.gather(rng.integers(0, 20, size=n)),
        _sheet=pl.lit(None, pl.Utf8),
        _row=pl.int_range(2, n + 2, dtype=pl.Int64),
        nik="nik",
        nik_numeric="nik_numeric",
        name="name",
        birth_date="birth_date",
        sex="sex",
        phone="phone",
        address="address",
        kelurahan="kelurahan",
        person="person",
        family="family",
        kind="kind",
    )


def _typo(name: pl.Expr, pos: pl.Expr, letter: pl.Expr) -> pl.Expr:
    """One letter of the given name (after MUHAMMAD/SITI) replaced by another letter."""
    lead = name.str.extract(r"^((?:MUHAMMAD |SITI )?)", 1).str.len_chars()
    word = name.str.extract(r"^(?:MUHAMMAD |SITI )?(\S+)", 1).str.len_chars()
    at = lead + 1 + (pos * (word - 1)).floor().cast(pl.UInt32).clip(0, 20)
    at = pl.min_horizontal(at, lead + word - 1)
    old = name.str.slice(at, 1)
    alphabet = pl.lit("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    new = alphabet.str.slice(letter, 1)
    new = pl.when(new == old).then(alphabet.str.slice((letter + 1) % 26, 1)).otherwise(new)
    return pl.concat_str(name.str.slice(0, at), new, name.str.slice(at + 1))


def quality(n_rows: int, seed: int = 7) -> dict:
    from jamsos_cli.neardup import find_near_duplicates

    rows = generate(n_rows, seed=seed)
    t0 = time.perf_counter()
    found = find_near_duplicates(rows)
    took = time.perf_counter() - t0
    ids = rows.select("_rid", "person", "family", "kind")
    pairs = (
        found.filter(pl.col("b_rid").is_not_null())
        .join(ids.select(pl.all().name.prefix("a_")), left_on="a_rid", right_on="a__rid")
        .join(ids.select(pl.all().name.prefix("b_")), left_on="b_rid", right_on="b__rid")
    )
    truth = rows.filter(pl.col("kind").is_not_null()).select("person", "kind")
    tp = pairs.filter(pl.col("a_person") == pl.col("b_person"))
    fp = pairs.filter(pl.col("a_person") != pl.col("b_person"))
    by_kind = (
        truth.join(tp.select(person="a_person", hit=pl.lit(True)).unique(), on="person", how="left")
        .group_by("kind")
        .agg(planted=pl.len(), found=pl.col("hit").fill_null(False).sum())
        .sort("kind")
    )
    everything = (
        find_near_duplicates(rows, min_score=0)
        .join(ids.select(a_rid="_rid", a_person="person"), on="a_rid")
        .join(ids.select(b_rid="_rid", b_person="person"), on="b_rid")
    )
    missed = (
        truth.join(tp.select(person="a_person").unique(), on="person", how="anti")
        .join(rows.select("person", "name", "nik"), on="person")
        .group_by("person", maintain_order=True)
        .agg("kind", "name", "nik")
        .join(
            everything.filter(pl.col("a_person") == pl.col("b_person")).select(
                person="a_person", score="score", reasons="reasons"
            ),
            on="person",
            how="left",
        )
    )
    fp_kind = (
        fp.select(
            kind=pl.when(pl.col("a_family") == pl.col("b_family"))
            .then(pl.lit("family (twins/parent)"))
            .otherwise(pl.lit("unrelated"))
        )
        .group_by("kind")
        .len()
    )
    return {
        "rows": n_rows,
        "planted": truth.height,
        "reported": pairs.height,
        "true_pos": tp.height,
        "precision": tp.height / max(pairs.height, 1),
        "recall": tp.select(pl.col("a_person").n_unique()).item() / max(truth.height, 1),
        "seconds": took,
        "by_kind": by_kind.rows(),
        "false_pos": fp_kind.rows(),
        "fp_examples": fp.head(8).select("a_rid", "b_rid", "score", "reasons").rows(),
        "missed": missed.head(8).rows(),
    }


def speed(n_rows: int) -> dict:
    """Engine alone in a fresh process: wall time and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "roster.parquet"
        generate(n_rows).drop("person", "family", "kind").write_parquet(data)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(data)],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout)


def _child(path: str) -> None:
    from jamsos_cli.neardup import find_near_duplicates

    rows = pl.read_parquet(path)
    t0 = time.perf_counter()
    found = find_near_duplicates(rows)
    took = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "rows": rows.height,
        "pairs": found.height,
        "seconds": took,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,  # whole process, reading included
        "peak_mib": usage.ru_maxrss / 1024,  # KiB -> MiB on Linux
    }
    print(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quality", type=int, default=100_000, help="rows for precision/recall")
    ap.add_argument("--speed", type=int, default=1_000_000, help="rows for time/memory (0: skip)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return
    if args.quality:
        q = quality(args.quality, args.seed)
        print(f"quality on {q['rows']:,} rows ({q['planted']:,} planted typed-twice people)")
        print(
            f"  {'precision':<10} {q['precision']:7.2%}   "
            f"({q['true_pos']:,} of {q['reported']:,} reported pairs)"
        )
        print(f"  {'recall':<10} {q['recall']:7.2%}")
        print(f"  {'engine s':<10} {q['seconds']:7.2f}")
        print("  recall by NIK error:  " + ", ".join(f"{k} {f}/{p}" for k, p, f in q["by_kind"]))
        print(
            "  false positives:      "
            + (", ".join(f"{k} {n}" for k, n in q["false_pos"]) or "none")
        )
        for ex in q["fp_examples"]:
            print("    ", ex)
        print("  missed (examples):")
        for ex in q["missed"]:
            print("    ", ex)
    if args.speed:
        s = speed(args.speed)
        print(
            f"speed on {s['rows']:,} rows: {s['seconds']:.1f} s wall "
            f"({s['cpu_seconds']:.1f} s CPU on {os.cpu_count()} cores), "
            f"peak RSS {s['peak_mib']:,.0f} MiB, {s['pairs']:,} pairs"
        )


if __name__ == "__main__":
    main()
