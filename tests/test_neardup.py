"""The near-duplicate engine: the same person typed twice with a different NIK.

Records frames are built directly (the columns of tables.RECORD_SCHEMA the engine reads);
the people are synthetic, their NIKs consistent with their birth date and sex.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from jamsos_cli import findings, neardup
from jamsos_cli.neardup import PAIR_SCHEMA, find_near_duplicates
from jamsos_cli.render.reasons import reason_text, render_reasons
from tests.rosters import make_nik

BATAM_KOTA = "217110"
SEKUPANG = "217103"


def person(
    nik: str,
    name: str,
    born: date,
    sex: str = "L",
    phone: str | None = None,
    address: str | None = None,
    kelurahan: str | None = "Belian",
    file: str = "kelurahan_belian.xlsx",
    numeric: bool = False,
) -> dict:
    return {
        "_file": file,
        "_sheet": None,
        "nik": nik,
        "nik_numeric": numeric,
        "name": name,
        "birth_date": born,
        "sex": sex,
        "phone": phone,
        "address": address,
        "kelurahan": kelurahan,
    }


def records(*people: dict) -> pl.DataFrame:
    """A records frame: rids and row numbers in input order."""
    frame = pl.DataFrame(
        list(people),
        schema={
            "_file": pl.Utf8,
            "_sheet": pl.Utf8,
            "nik": pl.Utf8,
            "nik_numeric": pl.Boolean,
            "name": pl.Utf8,
            "birth_date": pl.Date,
            "sex": pl.Utf8,
            "phone": pl.Utf8,
            "address": pl.Utf8,
            "kelurahan": pl.Utf8,
        },
    )
    return frame.with_columns(
        _rid=pl.int_range(pl.len(), dtype=pl.Int64),
        _row=pl.int_range(2, pl.len() + 2, dtype=pl.Int64),
    )


def pair_of(result: pl.DataFrame, a: int, b: int) -> dict | None:
    rows = result.filter(pl.col("a_rid") == a, pl.col("b_rid") == b)
    return rows.row(0, named=True) if rows.height else None


BORN = date(1980, 5, 12)
NIK = make_nik(BATAM_KOTA, 12, 5, 1980, False, 3)  # 2171101205800003


def swap(nik: str, i: int) -> str:
    return nik[:i] + nik[i + 1] + nik[i] + nik[i + 2 :]


def replace(nik: str, i: int, digit: str) -> str:
    return nik[:i] + digit + nik[i + 1 :]


# --------------------------------------------------------------------------- planted pairs


def test_one_mistyped_digit_is_found_and_explained():
    recs = records(
        person(NIK, "BUDI SANTOSO", BORN, phone="081234567890", address="JL. MAWAR NO. 5"),
        person(replace(NIK, 3, "7"), "BUDI SANTOSO", BORN, phone="081234567890"),
    )
    result = find_near_duplicates(recs)
    pair = pair_of(result, 0, 1)
    assert pair is not None
    assert pair["reasons"][:2] == ["nik.region_digit", "birth_date.same"]
    assert {"name.exact", "phone.same"} <= set(pair["reasons"])
    assert pair["score"] >= 90
    assert pair["b_ref"] is None and pair["decision"] is None
    text = reason_text(pair["reasons"], "en")
    assert text.startswith("NIKs differ in one region digit, same birth date, same name")
    assert "NIK beda satu angka di kode wilayah" in reason_text(pair["reasons"], "id")
    # each comparison's weight (log2 m/u), in words when the weights are given
    weights = dict(zip(pair["reasons"], pair["weights"], strict=True))
    assert weights["phone.same"] > 8 and weights["birth_date.same"] > 8
    assert "same phone (very strong)" in reason_text(pair["reasons"], "en", pair["weights"])
    assert "HP sama (sangat kuat)" in reason_text(pair["reasons"], "id", pair["weights"])
    # the waterfall: the prior, then every comparison known on both sides, adding up
    steps = pair["evidence"]
    assert steps[0]["comparison"] == "prior"
    assert [s["comparison"] for s in steps[1:]] == [r.split(".")[0] for r in pair["reasons"]]
    assert sum(s["weight"] for s in steps) == pytest.approx(pair["match_weight"], abs=0.05)


def test_swapped_digits_in_the_birth_date_part_point_at_the_mistyped_nik():
    # NIK digits 7-12 hold the birth date: swapping two of them leaves a NIK whose date no
    # longer matches the roster's birth date: that NIK is the one to fix.
    typo = swap(NIK, 6)  # "12" -> "21"
    recs = records(
        person(NIK, "AHMAD YANI", BORN, phone="081211112222"),
        person(typo, "AHMAD YANI", BORN),
    )
    pair = pair_of(find_near_duplicates(recs), 0, 1)
    assert pair is not None
    assert pair["reasons"][0] == "nik.same"  # the same outside the date part
    assert "birth_date.nik_typo" in pair["reasons"]
    assert "nik_birth_date_mismatch:B" in pair["reasons"]
    assert "NIK B is probably mistyped" in reason_text(pair["reasons"], "en")


def test_excel_truncated_nik_is_recognised():
    nik = make_nik(BATAM_KOTA, 1, 1, 1990, False, 12)  # ...0012
    truncated = nik[:15] + "0"  # Excel kept 15 significant digits
    recs = records(
        person(nik, "RIZAL EFENDI", date(1990, 1, 1), phone="081300000001"),
        person(truncated, "RIZAL EFENDI", date(1990, 1, 1), numeric=True, file="dishub.xlsx"),
    )
    pair = pair_of(find_near_duplicates(recs), 0, 1)
    assert pair is not None
    assert pair["reasons"][0] == "nik.excel_truncated"
    assert "cut off by Excel" in reason_text(pair["reasons"], "en")


def test_a_last_digit_ending_in_0_from_a_text_cell_is_not_called_truncation():
    nik = make_nik(BATAM_KOTA, 1, 1, 1990, False, 12)
    recs = records(
        person(nik, "RIZAL EFENDI", date(1990, 1, 1), phone="081300000001"),
        person(nik[:15] + "0", "RIZAL EFENDI", date(1990, 1, 1), phone="081300000001"),
    )
    pair = pair_of(find_near_duplicates(recs), 0, 1)
    assert pair is not None
    assert pair["reasons"][0] == "nik.last_digit"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("MUHAMMAD RIZKI SAPUTRA", "MUH. RIZKI SAPUTRA"),
        ("Muhammad Rizki Saputra", "M. RIZKY SAPUTRA"),
        ("MOCHAMAD RIZKI SAPUTRA", "MOH RIZKI SAPUTRA"),
        ("H. ABDUL RAHMAN", "ABDUL RAHMAN"),
        ("HJ. SITI AMINAH", "Siti Aminah"),
        ("SITI AMINAH, S.Pd.", "SITI AMINAH"),
        ("DRS. H. ABDUL RAHMAN, M.Si", "ABDUL RAHMAN"),
        ("AHMAD BIN SALIM", "AHMAD"),
        ("SOEKARNO", "SUKARNO"),
    ],
)
def test_name_variants_of_one_person_are_the_same_name(first, second):
    recs = records(
        person(NIK, first, BORN),
        person(swap(NIK, 14), second, BORN),  # serial 0003 -> 0030: transposition
    )
    pair = pair_of(find_near_duplicates(recs), 0, 1)
    assert pair is not None, (first, second)
    assert "name.exact" in pair["reasons"]  # the normalised names are equal
    assert pair["score"] >= 90


def test_one_letter_typo_in_the_name_still_matches():
    recs = records(
        person(NIK, "KHAIRUL ANWAR", BORN, phone="081233334444", kelurahan="Belian"),
        person(replace(NIK, 5, "5"), "KHAIRUL ANWAT", BORN, kelurahan="Belian"),
    )
    pair = pair_of(find_near_duplicates(recs), 0, 1)
    assert pair is not None
    assert "name.one_edit" in pair["reasons"]
    assert "names one letter apart" in reason_text(pair["reasons"], "en")


def test_pairs_across_files_and_many_rows_keep_a_as_the_earlier_record():
    filler = [
        person(
            make_nik(SEKUPANG, 1 + i % 28, 1 + i % 12, 1960 + i % 40, False, 1 + i // 400),
            f"ORANG NOMOR {i}",
            date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
        )
        for i in range(300)
    ]
    recs = records(
        *filler[:100],
        person(NIK, "YUSUF HAMZAH", BORN, file="a.csv"),
        *filler[100:],
        person(replace(NIK, 9, "9"), "YUSUF HAMZAH", BORN, file="b.xlsx"),
    )
    result = find_near_duplicates(recs)
    assert result.select("a_rid", "b_rid").rows() == [(100, 301)]


# --------------------------------------------------------------------------- must not match


def test_twins_with_consecutive_serials_are_not_matched():
    born = date(1995, 3, 15)
    recs = records(
        person(make_nik(BATAM_KOTA, 15, 3, 1995, False, 1), "HASAN BASRI", born,
               phone="081322222222", address="JL. KENANGA NO. 9"),
        person(make_nik(BATAM_KOTA, 15, 3, 1995, False, 2), "HUSAIN BASRI", born,
               phone="081322222222", address="JL. KENANGA NO. 9"),
        person(make_nik(BATAM_KOTA, 15, 3, 1995, True, 1), "RINA LESTARI", born, "P",
               phone="081322222222", address="JL. KENANGA NO. 9"),
        person(make_nik(BATAM_KOTA, 15, 3, 1995, True, 2), "DEWI LESTARI", born, "P",
               phone="081322222222", address="JL. KENANGA NO. 9"),
    )  # fmt: skip
    assert find_near_duplicates(recs).height == 0
    # they are looked at, and scored low, not skipped unseen
    everything = find_near_duplicates(recs, min_score=0)
    twins = pair_of(everything, 0, 1)
    assert twins is not None and twins["score"] < neardup.DEFAULT_MIN_SCORE
    assert "nik.serial_consecutive" in twins["reasons"]
    # what makes them unlikely: they look like twins, not like one person typed twice
    assert twins["p_twins"] > 0.5 and "maybe_twins" in twins["reasons"]


def test_parent_and_child_with_the_same_name_are_not_matched():
    recs = records(
        person(make_nik(BATAM_KOTA, 10, 10, 1965, False, 3), "AHMAD YANI", date(1965, 10, 10),
               phone="081333333333", address="JL. DAHLIA NO. 3"),
        person(make_nik(BATAM_KOTA, 10, 10, 1990, False, 3), "AHMAD YANI", date(1990, 10, 10),
               phone="081333333333", address="JL. DAHLIA NO. 3"),
    )  # fmt: skip
    assert find_near_duplicates(recs).height == 0


def test_unrelated_people_with_a_common_name_are_not_matched():
    recs = records(
        person(make_nik(BATAM_KOTA, 15, 5, 1980, True, 2), "SITI AMINAH", date(1980, 5, 15), "P"),
        person(make_nik(SEKUPANG, 15, 5, 1981, True, 2), "SITI AMINAH", date(1981, 5, 15), "P",
               phone="081344444444"),
        person(make_nik(BATAM_KOTA, 16, 5, 1980, True, 2), "Hj. Siti Aminah", date(1980, 5, 16),
               "P"),
    )  # fmt: skip
    assert find_near_duplicates(recs).height == 0


def test_different_fathers_after_bin_tell_two_people_apart():
    recs = records(
        person(NIK, "AHMAD BIN SALIM", BORN),
        person(replace(NIK, 3, "7"), "AHMAD BIN YUSUF", BORN),
        person(replace(NIK, 4, "0"), "AHMAD", BORN),  # no father given: may be either
    )
    result = find_near_duplicates(recs)
    assert pair_of(result, 0, 1) is None
    looked_at = pair_of(find_near_duplicates(recs, min_score=0), 0, 1)
    weights = dict(zip(looked_at["reasons"], looked_at["weights"], strict=True))
    assert weights["father.different"] < -15  # a person has one father
    assert pair_of(result, 0, 2) is not None


def test_exact_nik_duplicates_are_left_to_the_duplicate_check():
    recs = records(
        person(NIK, "BUDI SANTOSO", BORN),
        person(NIK, "BUDI SANTOSO", BORN),
    )
    assert find_near_duplicates(recs, min_score=0).height == 0


# The blocking first drops the records whose NIK shares no "family" of digits with another
# record, then blocks each typo variant among the rest: every typo position must still be found
# among a crowd of other people (some sharing the date part, the serial or the region).
TYPO_NIK = make_nik(SEKUPANG, 12, 5, 1986, False, 4719)  # 2171031205864719
CROWD = [
    person(make_nik(kec, day, 5, 1986, False, serial), f"ORANG {i}", date(1986, 5, day))
    for i, (kec, day, serial) in enumerate(
        (kec, day, serial)
        for kec in (SEKUPANG, BATAM_KOTA, "217101")
        for day in (12, 13)
        for serial in (4719, 4720, 1, 2)
    )
    if not (kec == SEKUPANG and day == 12 and serial == 4719)
]


@pytest.mark.parametrize(
    "typo",
    [replace(TYPO_NIK, i, str((int(TYPO_NIK[i]) + 5) % 10)) for i in (*range(6), *range(12, 16))]
    + [swap(TYPO_NIK, i) for i in (0, 1, 2, 3, 4, 5, 11, 12, 13, 14)],
)
def test_every_nik_typo_position_is_found_among_other_people(typo):
    born = date(1986, 5, 12)
    recs = records(
        *CROWD,
        person(TYPO_NIK, "SITI AMINAH", born, sex="P", phone="081277776666"),
        person(typo, "SITI AMINAH", born, sex="P", phone="081277776666"),
    )
    n = len(CROWD)
    result = find_near_duplicates(recs).filter(pl.col("b_rid") > n - 1)
    assert result.select("a_rid", "b_rid").rows() == [(n, n + 1)]
    kinds = ("nik.region_digit", "nik.serial_digit", "nik.last_digit", "nik.transposition")
    assert result.get_column("reasons")[0][0] in kinds


def test_a_block_larger_than_max_block_is_skipped():
    # One NIK typed for three people (a placeholder) and a NIK one digit from it: the blocks
    # holding the typo pair have four records, so max_block=3 skips them and 4 keeps them.
    phones = ["081200000001", "081200000002", "081200000003", "081200000004"]
    recs = records(
        *(person(NIK, "BUDI SANTOSO", BORN, phone=p) for p in phones[:3]),
        person(replace(NIK, 15, "4"), "BUDI SANTOSO", BORN, phone=phones[3]),
    )
    kept = find_near_duplicates(recs, min_score=0, max_block=4)
    assert kept.select("a_rid", "b_rid").rows() == [(0, 3), (1, 3), (2, 3)]
    assert find_near_duplicates(recs, min_score=0, max_block=3).height == 0


# --------------------------------------------------------------------------- ledger, decisions


def known_people(*people: dict, ref: str = "ledger batch 3") -> pl.DataFrame:
    return records(*people).drop("_rid", "_row", "_file", "_sheet").with_columns(ref=pl.lit(ref))


def test_a_person_already_in_the_ledger_is_matched_as_b():
    joko = make_nik(SEKUPANG, 2, 2, 1970, False, 1)
    recs = records(
        person(joko[:6] + "0" + joko[7:], "JOKO SUSILO", date(1971, 2, 2)),
        person(replace(NIK, 4, "0"), "M. YUSUF", BORN, phone="081255556666"),
    )
    known = pl.concat(
        [
            known_people(person(NIK, "MUHAMMAD YUSUF", BORN, phone="081255556666")),
            # one person twice in the ledger is the ledger's business, not this run's
            known_people(person(joko, "JOKO SUSILO", date(1970, 2, 2)), ref="batch 1"),
            known_people(person(replace(joko, 3, "9"), "JOKO SUSILO", date(1970, 2, 2)), ref="b2"),
        ]
    )
    result = find_near_duplicates(recs, known=known)
    # the run's JOKO holds batch 1's NIK (an exact duplicate, not a near one) and is one
    # region digit and one year digit (against its own NIK) from b2's JOKO: likely him too
    assert result.select("a_rid", "b_ref").rows() == [(0, "b2"), (1, "ledger batch 3")]
    assert result.get_column("b_rid").is_null().all()  # never two ledger people paired
    pair = result.row(1, named=True)
    assert pair["a_rid"] == 1 and pair["b_rid"] is None
    assert pair["b_ref"] == "ledger batch 3" and pair["b_nik"] == NIK
    assert {"nik.region_digit", "name.exact", "phone.same"} <= set(pair["reasons"])


def test_decisions_drop_different_and_keep_same_whatever_the_order_of_the_niks():
    other = make_nik(SEKUPANG, 12, 5, 1980, False, 7)  # NIK far apart: not a likely pair
    recs = records(
        person(NIK, "BUDI SANTOSO", BORN, phone="081211110000"),
        person(replace(NIK, 3, "7"), "BUDI SANTOSO", BORN),
        person(other, "BUDI SANTOSA", BORN, kelurahan="Tiban Baru"),
    )
    assert pair_of(find_near_duplicates(recs), 0, 1) is not None
    assert pair_of(find_near_duplicates(recs), 0, 2) is None
    decisions = pl.DataFrame(
        {
            "nik_a": [replace(NIK, 3, "7"), NIK],
            "nik_b": [NIK, other],
            "decision": ["different", "same"],
        }
    )
    result = find_near_duplicates(recs, decisions=decisions)
    assert pair_of(result, 0, 1) is None
    kept = pair_of(result, 0, 2)
    assert kept is not None and kept["decision"] == "same"
    assert kept["reasons"][-1] == "decided_same"


# --------------------------------------------------------------------------- contract


def test_result_schema_and_empty_inputs():
    empty = records(person(NIK, "X", BORN)).clear()
    assert find_near_duplicates(empty).schema == pl.Schema(PAIR_SCHEMA)
    single = records(person(NIK, "BUDI", BORN))
    assert find_near_duplicates(single).schema == pl.Schema(PAIR_SCHEMA)
    recs = records(person(NIK, "BUDI", BORN), person(swap(NIK, 0), "BUDI", BORN))
    assert find_near_duplicates(recs).schema == pl.Schema(PAIR_SCHEMA)


def test_records_without_optional_columns():
    recs = records(
        person(NIK, "BUDI SANTOSO", BORN), person(replace(NIK, 2, "9"), "BUDI SANTOSO", BORN)
    ).select("_rid", "nik", "name", "birth_date")
    result = find_near_duplicates(recs)
    assert result.select("a_rid", "b_rid").rows() == [(0, 1)]


def test_reason_text_in_both_languages():
    reasons = ["nik.last_digit", "birth_date.same", "name.exact", "rare_name", "phone.different"]
    weights = [0.4, 13.2, 11.5, None, -3.1]
    assert reason_text(reasons, "en") == (
        "NIKs differ in the last digit, same birth date, same name (a rare name), different phones"
    )
    assert reason_text(reasons, "id", weights) == (
        "NIK beda satu angka di akhir, tanggal lahir sama (sangat kuat), "
        "nama sama (nama jarang, sangat kuat), HP beda (melemahkan)"
    )
    assert reason_text(["something_new"], "en") == "something_new"
    rendered = render_reasons(pl.Series([reasons, [], None]), "en").to_list()
    assert rendered == [reason_text(reasons, "en"), "", ""]


def test_findings_name_the_other_row_on_both_sides():
    recs = records(
        person(NIK, "BUDI SANTOSO", BORN, phone="081211110000", file="kel_belian.csv"),
        person(replace(NIK, 3, "7"), "BUDI SANTOSO", BORN, file="dishub.xlsx"),
    ).with_columns(_sheet=pl.Series([None, "Sheet1"]))
    known = known_people(person(swap(NIK, 1), "BUDI SANTOSO", BORN))
    pairs = find_near_duplicates(recs, known=known)
    score = int(pair_of(pairs, 0, 1)["score"])
    # below the hold score: warnings on both sides, naming the other row
    checks = neardup.near_duplicate_checks(pairs, recs, hold_score=101)
    assert checks.schema == pl.Schema(findings.CHECK_SCHEMA)
    rows = checks.filter(pl.col("rid") == 0).get_column("detail").to_list()
    assert sorted(rows) == sorted([f"dishub.xlsx [Sheet1]:3 ({score}%)", "ledger batch 3 (100%)"])
    assert any(
        d.startswith("kel_belian.csv:2 (")
        for d in checks.filter(pl.col("rid") == 1).get_column("detail").to_list()
    )
    assert set(checks.get_column("code")) == {"NEAR_DUPLICATE"}

    # from the hold score: the run's row is held against the ledger's person, the later row
    # against the earlier one; the other's NIK masked (the detail goes back to a sender)
    held = neardup.near_duplicate_checks(pairs, recs)  # the default hold score, 90
    assert min(pairs.get_column("score")) >= neardup.DEFAULT_HOLD_SCORE
    codes = {(r, c, d.split(" (")[0]) for r, c, d in held.select("rid", "code", "detail").rows()}
    in_ledger = swap(NIK, 1)[:4] + "*" * 8 + swap(NIK, 1)[-4:]
    assert codes == {
        (0, "NEAR_DUPLICATE_HELD", in_ledger),
        (0, "NEAR_DUPLICATE", "dishub.xlsx [Sheet1]:3"),
        (1, "NEAR_DUPLICATE_HELD", in_ledger),
        (1, "NEAR_DUPLICATE_HELD", f"{NIK[:4]}********{NIK[-4:]}"),
    }
    assert f"{NIK[:4]}********{NIK[-4:]} (kel_belian.csv:2, {score}%)" in held["detail"]
    # when only the earlier row is rejected anyway, the later one is the person's row: not held
    spared = neardup.near_duplicate_checks(pairs, recs, rejected=pl.Series([0]))
    later = spared.filter(pl.col("rid") == 1, pl.col("detail").str.contains("kel_belian"))
    assert later.get_column("code").to_list() == ["NEAR_DUPLICATE"]


def test_one_roster_always_gets_the_same_scores(monkeypatch):
    # The model's u comes from random pairs drawn with a fixed seed. Polars returns a join's
    # rows in no set order, so the draw must not depend on it: with the people frame (a
    # join's output) in another order, the scores, weights and evidence stay the same (the
    # pair's names one letter apart: a level whose u comes from the draw). More records
    # than the model samples (u_sample_records), so the draw picks among them.
    n = 12_000
    names = ["BUDI SANTOSO", "SITI AMINAH", "AGUS SALIM", "DEWI LESTARI", "RUDI HARTONO"]
    crowd = [
        person(
            make_nik(BATAM_KOTA, 1 + i % 28, 1 + i % 12, 1960 + i % 40, False, 1 + i // 13_440),
            f"{names[i % 5]} {i % 97}",
            date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
            phone=f"0812{i:08d}",
        )
        for i in range(n)
    ]
    recs = records(
        *crowd,
        person(NIK, "BUDI SANTOSO", BORN, phone="081299990000"),
        person(replace(NIK, 15, "4"), "BUDI SANTOSA", BORN, phone="081299990000"),
    )
    first = neardup.search(recs, min_score=0).pairs
    joined = neardup._people
    monkeypatch.setattr(neardup, "_people", lambda *a: joined(*a).reverse())
    again = neardup.search(recs, min_score=0).pairs
    assert (n, n + 1) in first.select("a_rid", "b_rid").rows()
    assert again.equals(first)
