"""Rosters for measuring record linkage: people typed twice in documented ways, and look-alikes.

``generate(n_rows, seed)`` returns a records frame (the columns ``neardup.find_near_duplicates``
reads) with the ground truth beside it: ``person`` (one id per real person), ``dup_of`` (the
``_rid`` a planted second record repeats), ``error_class`` (how it differs, see ``CLASSES``),
``negative_of`` / ``negative_kind`` (a hard negative and the record it looks like).

The people are the project generator's fictional Batam residents (``generate_people`` of
``tests/synthetic.py``, a test tool outside the package), with two changes that make them more
like a real population register:

- **NIK serials in registration order.** Dukcapil numbers the people of one kecamatan, birth
  date and sex 0001, 0002, ... (Permendagri 19/2010 on the NIK's structure): serials are
  small, and two strangers born on the same day in the same kecamatan routinely hold NIKs one
  digit apart. ``generate_people`` draws serials up to 4999; here they are re-numbered.
- **Administrative birth dates.** People without a birth certificate often carry 1 January or
  31 December on their KTP; 3% of people born before 1975 get one, which makes shared birth
  dates far more common than chance.

Error classes (every planted second record has a different NIK, else it would be an exact
duplicate, which ``duplicates.py`` finds; the NIK class changes only the NIK, the other classes
add one NIK typo, a substitution anywhere or a transposition, to one other change):

- NIK typing: one digit substituted in the region (digits 1-6), in the birth date part (7-12),
  in the serial (13-15) or the last digit (16); two neighbouring digits transposed; one digit
  left out; one digit typed twice; the 16th digit turned into 0 by a numeric Excel cell
  (Excel keeps 15 significant digits, Microsoft's "Excel specifications and limits"); the last
  digit wrong *and* another phone number (the misses of issue 14). Substitution, omission,
  insertion and transposition are Damerau's (1964) four single errors, which make up about 80%
  of typing errors.
- Names: a title or degree added or dropped (H./Hj. after the hajj, Drs., ", S.Pd."; degrees
  follow the name by Permendikbud 154/2014); a spelling variant (MUHAMMAD / MUH. / M., the
  pre-1972 spelling OE, DJ, TJ, and common variants); one letter wrong, left out or doubled;
  two words in another order; a middle word dropped; a later word cut to its initial.
  Christen's data generators (Febrl ``dsgen``, Christen 2005; GeCo, Tran, Vatsalan & Christen,
  CIKM 2013) list these: typographical edits, word swaps, dropped tokens, abbreviations and
  variant spellings of names.
- Birth date: day and month swapped (a US-style date, Excel's default in an English locale);
  one digit of the day, month or year mistyped.
- Contact and place: another phone number (people change numbers); the phone left out; the
  kelurahan spelled differently (Sei / Sungai, "Tg." for Tanjung, spaces dropped, one letter
  wrong); the address written differently (Jl. / Jalan, No. / Nomor, Perum / Perumahan, Blok
  / Blk, Kp. / Kampung); moved house (new address and kelurahan, the phone kept).
- Stress, reported apart: moved house and changed phone (three fields at once besides the
  NIK typo).

Hard negatives (different people who look alike, added as people of their own):

- twins: the same birth date, kecamatan and household (address, kelurahan), the phone shared
  60% of the time; of the same sex 60% of the time, then with consecutive serials; a new given
  name and, where the culture has one, the family name kept; 20% with rhyming names (Hasan /
  Husain, Rina / Rini, Putra / Putri);
- parent and child with the same name: the same household and kecamatan, born 20-35 years
  apart; a quarter born on the same day and month (over-represented on purpose: only then can
  their NIKs be one digit apart);
- namesakes: a stranger with the same (common) name and birth date, living elsewhere.

Everything is vectorised (numpy + Polars) and seeded: one seed gives the same roster.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from jamsos_cli.neardup import IDENTITY

# Error classes of the planted second records (weights: how many of them).
NIK_CLASSES = [
    "nik_sub_region",
    "nik_sub_birth_date",
    "nik_sub_serial",
    "nik_sub_last",
    "nik_transposition",
    "nik_missing_digit",
    "nik_extra_digit",
    "nik_excel_truncated",
    "nik_last_new_phone",
]
FIELD_CLASSES = [
    "name_title",
    "name_spelling",
    "name_typo",
    "name_order",
    "name_middle_dropped",
    "name_initial",
    "birth_day_month_swapped",
    "birth_date_typo",
    "phone_changed",
    "phone_missing",
    "kelurahan_spelling",
    "address_variant",
    "moved",
]
# Beyond one difference: moved house and changed phone, with a NIK typo besides. Measured and
# reported apart (not in the overall recall): with only the name and birth date left in
# common, such a person is told from a stranger of the same name and birth date - the
# namesakes below - by the NIK alone, and a namesake's NIK is often one digit away too
# (Batam's kecamatan codes 217101-217112 differ in one or two digits).
STRESS_CLASSES = ["moved_new_phone"]
CLASSES = NIK_CLASSES + FIELD_CLASSES + STRESS_CLASSES
NEGATIVE_KINDS = ["twins", "parent_child", "namesakes"]

AS_OF = date(2025, 6, 1)
FILES = 20

# Rhyming twin names (given names only): either may come first.
TWIN_NAMES = [
    ("Hasan", "Husain", "L"),
    ("Hasan", "Husein", "L"),
    ("Rina", "Rini", "P"),
    ("Dewi", "Dewa", None),
    ("Putra", "Putri", None),
    ("Fitri", "Fitra", None),
    ("Andi", "Andri", "L"),
    ("Yuni", "Yuli", "P"),
    ("Rahmat", "Rahmad", "L"),
    ("Nur", "Nuri", "P"),
]
FAMILY_NAME_CULTURES = ("batak", "chinese", "flores")

# Spelling variants a second clerk uses: (pattern, replacement), case-insensitive on a word.
SPELLINGS = [
    (r"(?i)\bmuhammad\b", "Muh."),
    (r"(?i)\bmuhammad\b", "M."),
    (r"(?i)\bmuhammad\b", "Mohammad"),
    (r"(?i)\bsiti\b", "St."),
    (r"(?i)u", "oe"),
    (r"(?i)\bj", "Dj"),
    (r"(?i)\bc", "Tj"),
    (r"(?i)y\b", "i"),
    (r"(?i)i\b", "y"),
    (r"(?i)f", "v"),
    (r"(?i)ah\b", "a"),
    (r"(?i)([aeiou])h([aeiou])", "${1}${2}"),
    (r"(?i)kh", "h"),
    (r"(?i)\bz", "Dz"),
]
ADDRESS_VARIANTS = [
    ("Jl. ", "Jalan "),
    ("No. ", "Nomor "),
    ("No. ", "No "),
    ("Perum ", "Perumahan "),
    ("Blok ", "Blk "),
    ("Kp. ", "Kampung "),
    (" No.", " no."),
]
KELURAHAN_VARIANTS = [
    ("Sungai ", "Sei "),
    ("Sei ", "Sungai "),
    ("Tanjung ", "Tg. "),
    ("Batu ", "Batu"),
    ("Tiban ", "Tiban"),
    ("Pulau ", "P. "),
]


# --------------------------------------------------------------------------- people


def _synthetic():
    """The project's generator (``tests/synthetic.py``): a test and benchmark tool, not in the
    package, imported with the repository root on ``sys.path``."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests import synthetic

    return synthetic


def _people(n: int, seed: int) -> pl.DataFrame:
    """Clean fictional people from the project's generator, with administrative birth dates."""
    rng = np.random.default_rng(seed + 11)
    base = (
        _synthetic()
        .generate_people(n, seed=seed)
        .select("nik", "name", "birth_date", "sex", "address", "kelurahan", "phone", "_ethnicity")
    )
    old = (base["birth_date"].dt.year() < 1975).to_numpy()
    pick = rng.random(n)
    admin = np.where(old & (pick < 0.02), 1, np.where(old & (pick < 0.03), 2, 0))
    year = base["birth_date"].dt.year()
    return base.with_columns(
        region=pl.col("nik").str.slice(0, 6),
        birth_date=pl.when(pl.Series(admin == 1))
        .then(pl.date(year, 1, 1))
        .when(pl.Series(admin == 2))
        .then(pl.date(year, 12, 31))
        .otherwise(pl.col("birth_date")),
    ).drop("nik")


def _given(name: pl.Expr) -> pl.Expr:
    """The name without a leading H./Hj. title or a trailing degree."""
    return name.str.replace(r"^(?:H|Hj)\.\s+", "").str.replace(r",.*$", "")


def _twins(rng: np.random.Generator, base: pl.DataFrame, n: int) -> pl.DataFrame:
    """Twins of ``n`` base people: same birth date, region and household, another name."""
    src = base.sample(n, seed=int(rng.integers(2**31)))
    others = base.sample(n, seed=int(rng.integers(2**31)), with_replacement=True)
    same_sex = rng.random(n) < 0.6
    sex = np.where(same_sex, src["sex"].to_numpy(), np.where(src["sex"] == "L", "P", "L"))
    # a person of the twin's sex for the new given name
    other_name = (
        base.filter(pl.col("sex") == "L").sample(n, with_replacement=True, seed=1)["name"],
        base.filter(pl.col("sex") == "P").sample(n, with_replacement=True, seed=2)["name"],
    )
    given = pl.select(
        pl.when(pl.Series(sex) == "L").then(other_name[0]).otherwise(other_name[1])
    ).to_series()
    given = pl.select(_given(pl.lit(given)).str.extract(r"^(\S+)", 1)).to_series()
    last = pl.select(_given(pl.lit(src["name"])).str.extract(r"\s(\S+)$", 1)).to_series()
    keeps_family = src["_ethnicity"].is_in(FAMILY_NAME_CULTURES) & last.is_not_null()
    name = pl.select(
        pl.when(keeps_family)
        .then(pl.concat_str(given, last, separator=" "))
        .otherwise(_given(pl.lit(others["name"])))
    ).to_series()
    # parents give twins two first names (a twin named like the sibling gets another)
    first = pl.select(_given(pl.lit(src["name"])).str.extract(r"^(\S+)", 1)).to_series()
    clash = name.str.extract(r"^(\S+)", 1) == first
    spare = pl.select(_given(pl.lit(others["name"].shift(1, fill_value="Putra")))).to_series()
    name = pl.select(pl.when(clash).then(spare).otherwise(name)).to_series()
    clash = name.str.extract(r"^(\S+)", 1) == first
    name = pl.select(
        pl.when(clash).then(pl.concat_str(pl.lit("Dwi"), name, separator=" ")).otherwise(name)
    ).to_series()
    # rhyming names: both twins renamed to a pair
    rhyme = rng.random(n) < 0.2
    k = rng.integers(0, len(TWIN_NAMES), n)
    first_a = pl.Series([TWIN_NAMES[i][0] for i in k])
    first_b = pl.Series([TWIN_NAMES[i][1] for i in k])
    rest = pl.select(
        _given(pl.lit(src["name"])).str.extract(r"\s(.+)$", 1).fill_null("")
    ).to_series()
    twin_sex = [TWIN_NAMES[i][2] for i in k]
    rhyme &= np.array([s is None for s in twin_sex]) | (
        same_sex & (src["sex"].to_numpy() == np.array([s or "" for s in twin_sex]))
    )
    rhyme_src = pl.concat_str([first_a, pl.lit(" "), rest]).str.strip_chars()
    rhyme_twin = pl.concat_str([first_b, pl.lit(" "), rest]).str.strip_chars()
    twins = src.with_columns(
        sex=pl.Series(sex),
        name=pl.select(pl.when(pl.Series(rhyme)).then(rhyme_twin).otherwise(name)).to_series(),
        phone=pl.when(pl.Series(rng.random(n) < 0.6)).then("phone").otherwise(others["phone"]),
    )
    renamed = src.with_columns(
        name=pl.select(pl.when(pl.Series(rhyme)).then(rhyme_src).otherwise(src["name"])).to_series()
    )
    return renamed, twins


def _children(rng: np.random.Generator, base: pl.DataFrame, n: int) -> tuple:
    """A child with the parent's name for ``n`` parents aged 45+: 20-35 years younger."""
    older = base.filter(pl.col("birth_date") <= pl.date(AS_OF.year - 45, 1, 1))
    src = older.sample(min(n, older.height), seed=int(rng.integers(2**31)))
    m = src.height
    born = src["birth_date"]
    # 20 to 35 years younger, and 18 or older on AS_OF
    room = (AS_OF.year - 18 - born.dt.year()).clip(20, 35).to_numpy()
    year = born.dt.year() + pl.Series((20 + rng.random(m) * (room - 20 + 1)).astype(np.int64))
    same_day = pl.Series(rng.random(m) < 0.25) & (born.dt.day() <= 28)
    shifted = pl.select(pl.date(year, born.dt.month(), born.dt.day().clip(1, 28))).to_series()
    other_day = (
        pl.select(pl.date(year, 1, 1)).to_series().cast(pl.Int32)
        + pl.Series(rng.integers(0, 365, m), dtype=pl.Int32)
    ).cast(pl.Date)
    child_born = pl.select(pl.when(same_day).then(shifted).otherwise(other_day)).to_series()
    children = src.with_columns(
        birth_date=child_born,
        name=_given(pl.col("name")),
        phone=pl.when(pl.Series(rng.random(m) < 0.4)).then("phone").otherwise(pl.lit(None)),
    )
    return src, children


def _namesakes(rng: np.random.Generator, base: pl.DataFrame, n: int) -> tuple:
    """A stranger with the same common name and birth date as ``n`` base people."""
    counts = base.group_by("name").len()
    common = base.join(counts.filter(pl.col("len") >= 20), on="name", how="semi")
    src = common.sample(min(n, common.height), seed=int(rng.integers(2**31)))
    strangers = base.sample(src.height, seed=int(rng.integers(2**31)))
    return src, strangers.with_columns(
        name=src["name"], birth_date=src["birth_date"], sex=src["sex"]
    )


def _nik_text() -> pl.Expr:
    """The NIK of region, birth date, sex and serial (the project generator's rule)."""
    nik = _synthetic()._nik_expr
    return nik(pl.col("region"), pl.col("birth_date"), pl.col("sex") == "P", pl.col("serial"))


# --------------------------------------------------------------------------- NIK errors


def _digits(niks: pl.Series) -> np.ndarray:
    place = 10 ** np.arange(15, -1, -1, dtype=np.int64)
    return niks.cast(pl.Int64).to_numpy()[:, None] // place % 10


def _join(digits: np.ndarray, keep: np.ndarray | None = None) -> list[str]:
    chars = (digits + ord("0")).astype(np.uint8)
    if keep is None:
        return [row.tobytes().decode() for row in chars]
    return [row[k].tobytes().decode() for row, k in zip(chars, keep, strict=True)]


def nik_error(rng: np.random.Generator, niks: pl.Series, kind: np.ndarray) -> pl.Series:
    """One NIK error per row. ``kind``: sub_region, sub_birth_date, sub_serial, sub_last,
    transposition, missing_digit, extra_digit, excel_truncated."""
    n = len(niks)
    digits = _digits(niks)
    rows = np.arange(n)
    out = digits.copy()
    ranges = {
        "sub_region": (0, 6),
        "sub_birth_date": (6, 12),
        "sub_serial": (12, 15),
        "sub_last": (15, 16),
    }
    for k, (lo, hi) in ranges.items():
        sel = rows[kind == k]
        pos = rng.integers(lo, hi, sel.size)
        out[sel, pos] = (digits[sel, pos] + rng.integers(1, 10, sel.size)) % 10
    tr = rows[kind == "transposition"]
    p = rng.integers(0, 15, tr.size)
    for _ in range(30):  # neighbours that differ
        same = digits[tr, p] == digits[tr, p + 1]
        if not same.any():
            break
        p[same] = rng.integers(0, 15, same.sum())
    out[tr, p], out[tr, p + 1] = digits[tr, p + 1], digits[tr, p]
    trunc = rows[kind == "excel_truncated"]
    out[trunc, 15] = 0
    text = np.array(_join(out), dtype=object)
    miss = rows[kind == "missing_digit"]
    drop = rng.integers(0, 16, miss.size)
    keep = [np.delete(np.arange(16), d) for d in drop]
    text[miss] = _join(out[miss], keep)
    extra = rows[kind == "extra_digit"]
    twice = rng.integers(0, 16, extra.size)
    keep = [np.insert(np.arange(16), t, t) for t in twice]
    text[extra] = _join(out[extra], keep)
    return pl.Series(text.tolist(), dtype=pl.Utf8)


# --------------------------------------------------------------------------- field changes


def _pick_rule(
    rng: np.random.Generator, text: pl.Series, rules: list[tuple[str, str]], literal: bool
) -> pl.Series:
    """Apply one applicable rule per value (tried from a random start); unchanged if none."""
    n = len(text)
    start = rng.integers(0, len(rules), n)
    out = text
    done = np.zeros(n, dtype=bool)
    for step in range(len(rules)):
        which = (start + step) % len(rules)
        for i, (old, new) in enumerate(rules):
            take = ~done & (which == i)
            if not take.any():
                continue
            hit = (
                text.str.contains(old, literal=literal).fill_null(False).to_numpy()
                if literal
                else text.str.contains(old).fill_null(False).to_numpy()
            )
            apply = take & hit
            if apply.any():
                changed = (
                    text.str.replace(old, new, literal=True)
                    if literal
                    else text.str.replace(old, new)
                )
                out = pl.select(pl.when(pl.Series(apply)).then(changed).otherwise(out)).to_series()
                done |= apply
    return out


def _typo(rng: np.random.Generator, names: pl.Series) -> pl.Series:
    """One letter substituted, left out or doubled, at a random letter of the name."""
    out = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    kinds = rng.integers(0, 3, len(names))
    for name, kind, u, v in zip(
        names.to_list(), kinds, rng.random(len(names)), rng.integers(0, 26, len(names)), strict=True
    ):  # one string edit per planted record (a few thousand): not on the engine's path
        spots = [i for i, c in enumerate(name) if c.isalpha()]
        i = spots[int(u * len(spots))]
        c = name[i]
        if kind == 0:
            new = letters[v] if letters[v] != c.lower() else letters[(v + 1) % 26]
            new = new.upper() if c.isupper() else new
            out.append(name[:i] + new + name[i + 1 :])
        elif kind == 1 and len(spots) > 3:
            out.append(name[:i] + name[i + 1 :])
        else:
            out.append(name[: i + 1] + c + name[i + 1 :])
    return pl.Series(out, dtype=pl.Utf8)


def _title(rng: np.random.Generator, frame: pl.DataFrame) -> pl.Series:
    """A H./Hj. title or a degree added, or the one there dropped."""
    name = pl.col("name")
    haji = pl.when(pl.col("sex") == "P").then(pl.lit("Hj. ")).otherwise(pl.lit("H. "))
    degree = rng.random(frame.height) < 0.4
    return frame.select(
        pl.when(name.str.contains(r"^(?:H|Hj)\. "))
        .then(name.str.replace(r"^(?:H|Hj)\. ", ""))
        .when(name.str.contains(","))
        .then(name.str.replace(r",.*$", ""))
        .when(pl.Series(degree))
        .then(name + pl.lit(", S.Pd."))
        .otherwise(pl.concat_str(haji, name))
    ).to_series()


def _words_changed(frame: pl.DataFrame, how: str) -> pl.Series:
    words = _given(pl.col("name")).str.split(" ")
    n = words.list.len()
    if how == "order":  # the first and the last word swapped
        new = pl.concat_list(words.list.last(), words.list.slice(1, n - 2), words.list.first())
    elif how == "middle":  # the second of three or more words dropped
        new = pl.concat_list(words.list.first(), words.list.slice(2))
    else:  # the last word cut to its initial
        new = pl.concat_list(
            words.list.slice(0, n - 1), words.list.last().str.slice(0, 1) + pl.lit(".")
        )
    return frame.select(new.list.join(" ")).to_series()


def _birth_typo(rng: np.random.Generator, born: pl.Series) -> pl.Series:
    """One digit of DD, MM or YYYY changed, keeping a real date (the year's last two digits)."""
    n = len(born)
    day, month, year = (born.dt.day().to_numpy(), born.dt.month().to_numpy(), born.dt.year())
    year = year.to_numpy()
    out = born.to_list()
    part = rng.integers(0, 4, n)
    for i in range(n):  # a few thousand planted records
        d, m, y = int(day[i]), int(month[i]), int(year[i])
        for _ in range(20):
            digit = int(rng.integers(0, 10))
            if part[i] == 0:
                cand = (d // 10 * 10 + digit, m, y)
            elif part[i] == 1:
                cand = (digit * 10 + d % 10, m, y)
            elif part[i] == 2:
                cand = (d, m // 10 * 10 + digit, y)
            else:
                cand = (
                    (d, m, y // 10 * 10 + digit)
                    if rng.random() < 0.6
                    else (d, m, y // 100 * 100 + digit * 10 + y % 10)
                )
            try:
                new = date(cand[2], cand[1], cand[0])
            except ValueError:
                continue
            if new != out[i] and new.year <= AS_OF.year - 18:
                out[i] = new
                break
    return pl.Series(out, dtype=pl.Date)


# --------------------------------------------------------------------------- the roster


def generate(n_rows: int, seed: int = 14, dup_rate: float = 0.02, neg_rate: float = 0.005):
    """A roster of about ``n_rows`` records with planted second records and hard negatives.

    ``dup_rate``: share of people typed twice (equal numbers per class); ``neg_rate``: share of
    people with a twin, with a child of the same name, and with a namesake (each).
    """
    rng = np.random.default_rng(seed)
    n_neg = int(n_rows * neg_rate)
    n_dup = int(n_rows * dup_rate)
    n_base = n_rows - n_dup - 3 * n_neg
    base = _people(n_base, seed).with_columns(
        person=pl.int_range(pl.len(), dtype=pl.Int64), family=pl.int_range(pl.len(), dtype=pl.Int64)
    )
    twin_src, twins = _twins(rng, base, n_neg)
    base = base.update(twin_src.select("person", "name"), on="person")
    parents, children = _children(rng, base, n_neg)
    named, strangers = _namesakes(rng, base, n_neg)
    extra = []
    start = base.height
    for kind, (src, people) in zip(
        NEGATIVE_KINDS, [(twin_src, twins), (parents, children), (named, strangers)], strict=True
    ):
        people = people.with_columns(
            person=pl.int_range(start, start + pl.len(), dtype=pl.Int64),
            negative_of_person=src["person"],
            negative_kind=pl.lit(kind),
            family=pl.when(pl.lit(kind) != "namesakes")
            .then(src["family"])
            .otherwise(pl.int_range(start, start + pl.len(), dtype=pl.Int64)),
        )
        if kind == "namesakes":  # the stranger keeps their own place and household
            people = people.with_columns(region=people["region"])
        else:
            people = people.with_columns(
                region=src["region"], address=src["address"], kelurahan=src["kelurahan"]
            )
        extra.append(people)
        start += people.height
    everyone = pl.concat(
        [
            base.with_columns(
                negative_of_person=pl.lit(None, pl.Int64), negative_kind=pl.lit(None, pl.Utf8)
            ),
            *extra,
        ],
        how="diagonal_relaxed",
    )
    # Registration order: a family registers together (twins get consecutive serials).
    order = pl.Series(rng.random(everyone.height))
    everyone = everyone.with_columns(_order=order).with_columns(
        _order=pl.col("_order").min().over("family") + pl.col("person") * 1e-12
    )
    everyone = everyone.sort("_order").with_columns(
        serial=pl.int_range(1, pl.len() + 1).over("region", "birth_date", "sex")
    )
    everyone = everyone.with_columns(nik=_nik_text()).drop("_order", "serial")
    everyone = everyone.filter(pl.col("nik").str.len_chars() == 16)

    plain = everyone.filter(pl.col("negative_kind").is_null())
    dups = _second_records(rng, plain, n_dup, everyone["nik"])
    rows = pl.concat(
        [
            everyone.with_columns(
                nik_numeric=pl.lit(False), error_class=pl.lit(None, pl.Utf8), copy=pl.lit(False)
            ),
            dups.with_columns(copy=pl.lit(True)),
        ],
        how="diagonal_relaxed",
    )
    rows = rows.with_columns(_shuffle=pl.Series(rng.permutation(rows.height))).sort("_shuffle")
    rows = rows.with_columns(_rid=pl.int_range(pl.len(), dtype=pl.Int64))
    first = rows.filter(~pl.col("copy")).select("person", _first="_rid")
    rows = rows.join(first, on="person", how="left", maintain_order="left")
    neg = rows.filter(~pl.col("copy")).select(negative_of_person="person", _neg="_rid")
    rows = rows.join(neg, on="negative_of_person", how="left", maintain_order="left")
    files = pl.Series([f"kelurahan_{i:02d}.xlsx" for i in range(FILES)])
    return rows.with_columns(
        _file=files.gather(rng.integers(0, FILES, rows.height)),
        _sheet=pl.lit(None, pl.Utf8),
        _row=pl.int_range(2, pl.len() + 2, dtype=pl.Int64),
        dup_of=pl.when(pl.col("copy")).then("_first"),
        negative_of=pl.col("_neg"),
    ).select(
        "_rid", "_file", "_sheet", "_row", *IDENTITY, "person", "family", "dup_of",
        "error_class", "negative_of", "negative_kind",
    )  # fmt: skip


def _eligible(frame: pl.DataFrame, cls: str) -> pl.Expr:
    words = _given(pl.col("name")).str.split(" ").list.len()
    born = pl.col("birth_date")
    return {
        "nik_excel_truncated": ~pl.col("nik").str.ends_with("0"),
        "name_order": words >= 2,
        "name_initial": words >= 2,
        "name_middle_dropped": words >= 3,
        "birth_day_month_swapped": (born.dt.day() <= 12) & (born.dt.day() != born.dt.month()),
        "phone_changed": pl.col("phone").is_not_null(),
        "phone_missing": pl.col("phone").is_not_null(),
        "kelurahan_spelling": pl.col("kelurahan").str.contains(
            "|".join(old.strip() for old, _ in KELURAHAN_VARIANTS)
        ),
    }.get(cls, pl.lit(True))


def _second_records(
    rng: np.random.Generator, people: pl.DataFrame, n: int, taken: pl.Series
) -> pl.DataFrame:
    """``n`` second records, the same number per class, of people eligible for the class."""
    per = max(n // len(CLASSES), 1)
    shuffled = people.sample(fraction=1.0, shuffle=True, seed=int(rng.integers(2**31)))
    used = pl.Series("person", [], pl.Int64)
    parts = []
    for cls in CLASSES:
        pool = shuffled.filter(_eligible(shuffled, cls), ~pl.col("person").is_in(used.implode()))
        chosen = pool.head(per).with_columns(error_class=pl.lit(cls))
        used = pl.concat([used, chosen["person"]])
        parts.append(chosen)
    dups = pl.concat(parts)
    return _apply_errors(rng, dups, taken)


def _apply_errors(rng: np.random.Generator, dups: pl.DataFrame, taken: pl.Series) -> pl.DataFrame:
    cls = dups["error_class"].to_numpy()
    n = dups.height
    nik_kind = np.where(
        np.char.startswith(cls.astype(str), "nik_"),
        np.char.replace(cls.astype(str), "nik_", ""),
        np.where(rng.random(n) < 0.8, "sub_any", "transposition"),
    )
    nik_kind = np.where(nik_kind == "last_new_phone", "sub_last", nik_kind)
    any_pos = rng.choice(
        ["sub_region", "sub_birth_date", "sub_serial", "sub_last"],
        n,
        p=[6 / 16, 6 / 16, 3 / 16, 1 / 16],
    )
    nik_kind = np.where(nik_kind == "sub_any", any_pos, nik_kind)
    niks = nik_error(rng, dups["nik"], nik_kind)
    for _ in range(10):  # a typo that lands on another person's NIK: type it again
        clash = niks.is_in(taken.implode()).to_numpy()
        if not clash.any():
            break
        redo = nik_error(rng, dups["nik"].filter(pl.Series(clash)), nik_kind[clash])
        niks = niks.scatter(np.flatnonzero(clash), redo)
    dups = dups.with_columns(nik=niks, nik_numeric=pl.Series(nik_kind == "excel_truncated"))

    def where(name: str) -> pl.Series:
        return pl.Series(cls == name)

    def on(name: str, values: pl.Series, column: str) -> None:
        nonlocal dups
        dups = dups.with_columns(
            pl.when(where(name)).then(values).otherwise(pl.col(column)).alias(column)
        )

    on("name_title", _title(rng, dups), "name")
    on("name_spelling", _pick_rule(rng, dups["name"], SPELLINGS, literal=False), "name")
    on("name_typo", _typo(rng, dups["name"]), "name")
    on("name_order", _words_changed(dups, "order"), "name")
    on("name_middle_dropped", _words_changed(dups, "middle"), "name")
    on("name_initial", _words_changed(dups, "initial"), "name")
    born = dups["birth_date"]
    swapped = pl.select(
        pl.date(born.dt.year(), pl.min_horizontal(born.dt.day(), 12), born.dt.month())
    ).to_series()
    on("birth_day_month_swapped", swapped, "birth_date")
    on("birth_date_typo", _birth_typo(rng, born), "birth_date")
    new_phone = pl.Series(
        [f"08{int(x):010d}" for x in rng.integers(1_100_000_000, 9_999_999_999, n)]
    )
    for name in ("phone_changed", "nik_last_new_phone", "moved_new_phone"):
        on(name, new_phone, "phone")
    on("phone_missing", pl.Series([None] * n, dtype=pl.Utf8), "phone")
    on(
        "kelurahan_spelling",
        _pick_rule(rng, dups["kelurahan"], KELURAHAN_VARIANTS, literal=True),
        "kelurahan",
    )
    on(
        "address_variant",
        _pick_rule(rng, dups["address"], ADDRESS_VARIANTS, literal=True),
        "address",
    )
    movers = dups.sample(n, with_replacement=True, seed=int(rng.integers(2**31)))
    for name in ("moved", "moved_new_phone"):
        on(name, movers["address"], "address")
        on(name, movers["kelurahan"], "kelurahan")
    # Harmless differences a second clerk makes on any record: upper case half of the time.
    upper = pl.Series(rng.random(n) < 0.5)
    return dups.with_columns(
        name=pl.when(upper).then(pl.col("name").str.to_uppercase()).otherwise("name"),
        address=pl.when(upper).then(pl.col("address").str.to_uppercase()).otherwise("address"),
    )
