"""The Fellegi-Sunter model behind the near-duplicate score (``linkage``): what it learns from a
run's own records, and what it does when there is too little to learn from."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from jamsos_cli import linkage
from jamsos_cli.neardup import find_near_duplicates, search
from tests.rosters import make_nik
from tests.test_neardup import person, records


def _draw(rng: np.random.Generator, table: np.ndarray, n: int) -> np.ndarray:
    """n level indices drawn from a probability table (index 0, unknown, never drawn)."""
    p = table[1:] / table[1:].sum()
    return rng.choice(np.arange(1, table.size), size=n, p=p)


def test_em_learns_m_from_the_candidate_pairs():
    """Candidate pairs drawn from a known mixture: the EM recovers how often one person's two
    records agree, though the shipped values it starts from say otherwise."""
    rng = np.random.default_rng(3)
    names = linkage.comparisons()
    shipped = linkage.defaults()
    truth = {c: shipped["m"][c].copy() for c in names}
    phone = linkage.level_names("phone")
    truth["phone"][1:] = 0
    truth["phone"][phone.index("same")] = 0.3  # shipped: 0.55
    truth["phone"][phone.index("different")] = 0.7
    n_same, n_other = 3000, 9000
    u = shipped["u"]
    columns, strata = [], np.r_[np.zeros(n_same, dtype=np.int8), np.ones(n_other, dtype=np.int8)]
    for c in names:
        same = _draw(rng, truth[c][0] if c == "nik" else truth[c], n_same)
        other = _draw(rng, u[c][1] if c == "nik" else u[c], n_other)
        columns.append(np.r_[same, other])
    levels = np.stack(columns, axis=1).astype(np.int8)
    tables, expected, info = linkage.fit(levels, strata, u, n_records=50_000)
    assert info["ran"] and info["converged"]
    learned = tables["m"]["phone"]
    assert learned[phone.index("same")] == pytest.approx(0.3, abs=0.03)
    assert expected["m"] == pytest.approx(n_same, rel=0.05)
    # what a roster cannot teach stays as shipped
    assert np.array_equal(tables["m"]["birth_date"], shipped["m"]["birth_date"])
    different = linkage.level_names("name").index("different")
    assert tables["m"]["name"][different] == pytest.approx(shipped["m"]["name"][different])


def test_too_few_candidates_use_the_shipped_parameters():
    levels = np.ones((20, len(linkage.comparisons())), dtype=np.int8)
    tables, _, info = linkage.fit(levels, np.zeros(20, dtype=np.int8), linkage.defaults()["u"], 40)
    assert info["ran"] is False and info["why_not"] == "too_few_to_learn"
    assert info["em_min_pairs"] == 1000  # the minimum it fell short of, from neardup.toml
    for c in linkage.comparisons():
        assert np.array_equal(tables["m"][c], linkage.defaults()["m"][c])


def _crowd(n: int, common: int) -> list[dict]:
    """n people with unique NIKs and made-up names, ``common`` of them MUHAMMAD RIZKI."""
    rng = random.Random(7)
    letters = "ABDEGHIKLMNRSTUY"
    out = []
    for i in range(n):
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(16_000))
        name = (
            "MUHAMMAD RIZKI"
            if i < common
            else " ".join("".join(rng.choice(letters) for _ in range(6)) for _ in range(2))
        )
        nik = make_nik("217101", born.day, born.month, born.year, False, 1000 + i)
        out.append(person(nik, name, born, phone=f"0812{i:08d}", address=f"JL. A NO. {i}"))
    return out


def test_a_rare_name_says_more_than_a_common_one():
    """Term frequencies: sharing a name many people of the run hold is weak evidence; sharing
    a name nobody else holds is strong. The rest of the two pairs is alike."""
    born = date(1985, 3, 14)
    rare = make_nik("217104", 14, 3, 1985, False, 3)
    common = make_nik("217105", 14, 3, 1985, False, 3)
    people = _crowd(3000, common=300) + [
        person(rare, "YOHANES BOSCO SITUMORANG", born, phone="081300000001"),
        person(rare[:15] + "8", "YOHANES BOSCO SITUMORANG", born, phone="081300000002"),
        person(common, "MUHAMMAD RIZKI", born, phone="081300000003"),
        person(common[:15] + "8", "MUH. RIZKI", born, phone="081300000004"),
    ]
    recs = records(*people)
    pairs = find_near_duplicates(recs, min_score=0)

    def name_weight(a: int) -> tuple[float, list[str]]:
        row = pairs.filter(pl.col("a_rid") == a).row(0, named=True)
        return dict(zip(row["reasons"], row["weights"], strict=True))["name.exact"], row["reasons"]

    rare_weight, rare_reasons = name_weight(3000)
    common_weight, common_reasons = name_weight(3002)
    assert rare_weight > common_weight + 5  # 300 of 3,000 records hold the common one
    assert "rare_name" in rare_reasons and "common_name" in common_reasons


def test_the_model_of_a_run_is_fitted_on_its_own_records():
    """u from the run's records: with a few thousand records the shipped u give way to what
    this roster shows (here one name in ten is MUHAMMAD RIZKI, far more than usual)."""
    people = _crowd(2500, common=250)
    model = search(records(*people)).model
    exact = linkage.level_names("name").index("exact")
    assert model.u_pairs > 0
    assert model.tables["u"]["name"][exact] == pytest.approx(250 * 249 / (2500 * 2499))
    assert model.tables["u"]["name"][exact] > 5 * linkage.defaults()["u"]["name"][exact]
    assert model.to_dict()["u_random_pairs"] == model.u_pairs


def test_every_level_and_note_has_its_words_and_no_reason_text_is_dead():
    """The words of a level are ``reason.<comparison>.<level>`` in both catalogues, those of a
    note ``reason.<note>``; a reason text that is neither a level nor a key the code gives
    (``neardup``'s notes, ``dedupe``'s exact reasons) is dead. Strength words alike."""
    import ast

    from jamsos_cli import texts
    from tests.test_house import modules

    levels = {f"{c}.{lv}" for c in linkage.comparisons() for lv in linkage.level_names(c)[1:]}
    given = {
        node.value.partition(":")[0]
        for _, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    words = {b.word for b in linkage.spec().strength if b.word is not None}
    for lang in texts.LANGS:
        reasons = set(texts.section("reason", lang))
        assert levels <= reasons, (lang, levels - reasons)
        notes = {k for k in reasons if "." not in k}
        assert reasons - notes == levels, (lang, (reasons - notes) ^ levels)
        assert notes <= given, (lang, notes - given)
        assert set(texts.section("strength", lang)) == words, lang
