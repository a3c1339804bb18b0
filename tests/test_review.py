"""The review file a clerk fills in, and reading the decisions back into the engine."""

from __future__ import annotations

import csv
import io
import stat
from datetime import date

import openpyxl
import polars as pl
import pytest

from jamsos_cli.neardup import find_near_duplicates
from jamsos_cli.render.review import write_review
from jamsos_cli.review import DecisionsError, read_decisions
from tests.rosters import make_nik
from tests.test_neardup import BORN, NIK, person, records, replace

OTHER = make_nik("217103", 20, 8, 1975, True, 2)
OTHER_TYPO = OTHER[:10] + OTHER[11] + OTHER[10] + OTHER[12:]  # year digits swapped


@pytest.fixture
def run():
    """Two likely pairs across two files, one of them with a formula-like address."""
    recs = records(
        person(NIK, "BUDI SANTOSO", BORN, phone="081211110000", address="JL. MAWAR 5",
               file="kel_belian.csv"),
        person(OTHER, "HJ. RATNA SARI", date(1975, 8, 20), "P", phone="081299998888",
               address="=HYPERLINK(\"http://x\")", file="kel_belian.csv"),
        person(replace(NIK, 3, "7"), "BUDI SANTOSO, S.PD.", BORN, phone="081211110000",
               address="+62 JL MAWAR", file="dishub.xlsx"),
        person(OTHER_TYPO, "RATNA SARI", date(1975, 8, 20), "P", phone="081299998888",
               address="@SUM(A1)", file="dishub.xlsx"),
    )  # fmt: skip
    pairs = find_near_duplicates(recs)
    assert pairs.select("a_rid", "b_rid").rows() == [(0, 2), (1, 3)]
    return recs, pairs


def xlsx_rows(path):
    ws = openpyxl.load_workbook(path).active
    return ws, [[c.value for c in row] for row in ws.iter_rows()]


def test_xlsx_review_shows_both_sides_and_offers_sama_beda(tmp_path, run):
    recs, pairs = run
    path = write_review(pairs, recs, tmp_path / "review.xlsx", "id")
    ws, rows = xlsx_rows(path)
    header = rows[0]
    assert header[:4] == ["PASANGAN", "JENIS", "SKOR", "ALASAN"]
    assert header[-2:] == ["KEPUTUSAN (SAMA/BEDA)", "KUNCI (JANGAN DIUBAH)"]
    first = dict(zip(header, rows[1], strict=True))
    assert first["BERKAS A"] == "kel_belian.csv" and first["BARIS A"] == "2"
    assert first["BERKAS B"] == "dishub.xlsx" and first["BARIS B"] == "4"
    assert first["NIK A"] == NIK and first["NIK B"] == replace(NIK, 3, "7")
    assert first["NAMA B"] == "BUDI SANTOSO, S.PD."
    assert first["TGL LAHIR A"] == "12-05-1980"
    assert "NIK beda satu angka di kode wilayah" in first["ALASAN"]
    assert "tanggal lahir sama (sangat kuat)" in first["ALASAN"]  # weights in words
    # the score is a number cell a clerk can sort and filter
    assert isinstance(first["SKOR"], int) and 90 <= first["SKOR"] <= 100
    assert ws.cell(row=2, column=header.index("SKOR") + 1).data_type == "n"
    assert first["KEPUTUSAN (SAMA/BEDA)"] is None
    assert first["KUNCI (JANGAN DIUBAH)"] == f"{NIK} / {replace(NIK, 3, '7')}"
    assert first["JENIS"] == "NIK mirip"
    # NIKs are text cells: no digits lost to a number format
    assert ws.cell(row=2, column=header.index("NIK A") + 1).data_type == "s"
    validations = ws.data_validations.dataValidation
    assert len(validations) == 1
    assert validations[0].type == "list"
    assert validations[0].formula1 == '"SAMA,BEDA"'
    decision_col = openpyxl.utils.get_column_letter(header.index("KEPUTUSAN (SAMA/BEDA)") + 1)
    assert f"{decision_col}2" in str(validations[0].sqref)


def test_review_values_that_would_run_as_formulas_are_neutralised(tmp_path, run):
    recs, pairs = run
    _, rows = xlsx_rows(write_review(pairs, recs, tmp_path / "r.xlsx", "en"))
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["ADDRESS A"] == '\'=HYPERLINK("http://x")'
    assert second["ADDRESS B"] == "'@SUM(A1)"
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["ADDRESS B"] == "'+62 JL MAWAR"
    text = (write_review(pairs, recs, tmp_path / "r.csv", "en")).read_text("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text and "'+62 JL MAWAR" in text
    assert ";=" not in text and ";@" not in text and ";+" not in text


def test_review_file_is_private_and_written_atomically(tmp_path, run):
    recs, pairs = run
    for name in ("review.csv", "review.xlsx"):
        path = tmp_path / name
        path.write_text("old content")  # replaced whole, never half-written
        write_review(pairs, recs, path, "id")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes() != b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["review.csv", "review.xlsx"]


def test_xlsx_round_trip_decisions_feed_the_next_run(tmp_path, run):
    recs, pairs = run
    path = write_review(pairs, recs, tmp_path / "review.xlsx", "id")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    col = [c.value for c in ws[1]].index("KEPUTUSAN (SAMA/BEDA)") + 1
    ws.cell(row=2, column=col, value="BEDA")
    ws.cell(row=3, column=col, value="sama ")  # clerks type in any case, with spaces
    wb.save(path)

    decisions = read_decisions(path)
    assert decisions.sort("nik_a").rows() == sorted(
        [
            (min(NIK, replace(NIK, 3, "7")), max(NIK, replace(NIK, 3, "7")), "different"),
            (min(OTHER, OTHER_TYPO), max(OTHER, OTHER_TYPO), "same"),
        ]
    )
    # the next run, with the rows in another order (renumbered), remembers both decisions
    shuffled = recs.reverse().with_columns(_rid=pl.int_range(pl.len(), dtype=pl.Int64))
    again = find_near_duplicates(shuffled, decisions=decisions)
    assert again.height == 1
    assert {again.item(0, "a_nik"), again.item(0, "b_nik")} == {OTHER, OTHER_TYPO}
    assert again.item(0, "decision") == "same"


def test_csv_round_trip_after_excel_saves_it_as_cp1252(tmp_path, run):
    recs, pairs = run
    path = write_review(pairs, recs, tmp_path / "review.csv", "en")
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig")), delimiter=";"))
    assert rows[0][-2] == "DECISION (SAMA/BEDA)"
    rows[1][-2] = "SAMA"
    rows.append([""] * len(rows[0]))  # a blank line Excel leaves behind
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("cp1252"))

    decisions = read_decisions(path)
    assert decisions.rows() == [
        (min(NIK, replace(NIK, 3, "7")), max(NIK, replace(NIK, 3, "7")), "same")
    ]


def test_csv_niks_mangled_by_excel_are_recovered_from_the_key_column(tmp_path, run):
    recs, pairs = run
    path = write_review(pairs, recs, tmp_path / "review.csv", "id")
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig")), delimiter=";"))
    header = rows[0]
    for r in rows[1:]:  # what Excel does to a 16-digit number when it saves a CSV
        for col in ("NIK A", "NIK B"):
            r[header.index(col)] = f"{int(r[header.index(col)]):.14E}".replace(".", ",")
    rows[2][header.index("KEPUTUSAN (SAMA/BEDA)")] = "BEDA"
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    path.write_text(out.getvalue(), encoding="cp1252")
    assert read_decisions(path).rows() == [
        (min(OTHER, OTHER_TYPO), max(OTHER, OTHER_TYPO), "different")
    ]
    # without the key column, the damage is reported instead of deciding on wrong NIKs
    key = header.index("KUNCI (JANGAN DIUBAH)")
    path.write_text("\n".join(";".join(r[:key] + r[key + 1 :]) for r in rows), encoding="cp1252")
    with pytest.raises(DecisionsError, match=r"baris 3: NIK tidak utuh"):
        read_decisions(path)


def test_unknown_decision_names_file_and_row(tmp_path, run):
    recs, pairs = run
    path = write_review(pairs, recs, tmp_path / "review.xlsx", "id")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    col = [c.value for c in ws[1]].index("KEPUTUSAN (SAMA/BEDA)") + 1
    ws.cell(row=3, column=col, value="MUNGKIN")
    wb.save(path)
    with pytest.raises(DecisionsError, match=r"review\.xlsx, baris 3: .*'MUNGKIN'"):
        read_decisions(path)


def test_one_pair_decided_both_ways_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        f"NIK A;NIK B;KEPUTUSAN\n{NIK};{OTHER};SAMA\n{OTHER};{NIK};BEDA\n", encoding="utf-8"
    )
    with pytest.raises(DecisionsError, match=r"d\.csv, baris 2 & 3"):
        read_decisions(path)


def test_a_file_that_is_not_a_review_file_is_refused(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("NIK;NAMA\n2171101205800003;BUDI\n", encoding="utf-8")
    with pytest.raises(DecisionsError, match=r"roster\.csv: kolom NIK A, NIK B, KEPUTUSAN"):
        read_decisions(path)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(DecisionsError, match=r"broken\.xlsx: berkas keputusan tidak dapat dibaca"):
        read_decisions(broken)
    with pytest.raises(DecisionsError, match=r"beri nama berkas \.csv atau \.xlsx"):
        read_decisions(tmp_path / "decisions.txt")


def test_a_decision_without_both_niks_names_the_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(f"NIK A;NIK B;KEPUTUSAN\n{NIK};;BEDA\n", encoding="utf-8")
    with pytest.raises(DecisionsError, match=r"baris 2: NIK A dan NIK B"):
        read_decisions(path)


def test_review_with_a_ledger_person_shows_the_ledger_side(tmp_path):
    recs = records(person(replace(NIK, 4, "0"), "M. YUSUF", BORN, phone="081255556666"))
    known = (
        records(person(NIK, "MUHAMMAD YUSUF", BORN, phone="081255556666"))
        .drop("_rid", "_row", "_file", "_sheet")
        .with_columns(ref=pl.lit("ledger batch 3"))
    )
    pairs = find_near_duplicates(recs, known=known)
    _, rows = xlsx_rows(write_review(pairs, recs, tmp_path / "r.xlsx", "en", known=known))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["FILE B"] == "ledger batch 3" and row["ROW B"] is None
    assert row["NAME B"] == "MUHAMMAD YUSUF" and row["NIK B"] == NIK


def test_empty_review_still_has_headers(tmp_path, run):
    recs, pairs = run
    path = write_review(pairs.clear(), recs, tmp_path / "none.csv", "id")
    assert path.read_text("utf-8-sig").splitlines()[0].startswith("PASANGAN;JENIS;SKOR")
    assert read_decisions(path).height == 0


def test_exact_pairs_from_the_duplicate_check_can_share_the_review(tmp_path):
    recs = records(person(NIK, "BUDI SANTOSO", BORN), person(NIK, "BUDI SANTOSO", BORN))
    exact = pl.DataFrame(
        {"a_rid": [0], "b_rid": [1], "a_nik": [NIK], "b_nik": [NIK], "score": [100.0],
         "reasons": [["same_nik"]], "kind": ["exact"]}
    )  # fmt: skip
    _, rows = xlsx_rows(write_review(exact, recs, tmp_path / "r.xlsx", "id"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["JENIS"] == "NIK sama" and row["ALASAN"] == "NIK sama"
    assert row["BARIS A"] == "2" and row["BARIS B"] == "3"


def test_exact_pairs_offer_no_sama_beda(tmp_path, run):
    """One NIK twice is corrected at the source: its decision cell offers no SAMA/BEDA, while
    the likely duplicates' cells do."""
    recs, near = run
    exact = pl.DataFrame(
        {"a_rid": [0], "b_rid": [2], "a_nik": [NIK], "b_nik": [NIK], "score": [100.0],
         "reasons": [["same_nik"]], "kind": ["exact"]}
    )  # fmt: skip
    pairs = pl.concat([near.with_columns(kind=pl.lit("near")), exact], how="diagonal_relaxed")
    ws, rows = xlsx_rows(write_review(pairs, recs, tmp_path / "r.xlsx", "en"))
    header = rows[0]
    assert [r[header.index("KIND")] for r in rows[1:]] == ["near", "near", "exact"]
    column = openpyxl.utils.get_column_letter(header.index("DECISION (SAMA/BEDA)") + 1)
    (validation,) = ws.data_validations.dataValidation
    assert str(validation.sqref) == f"{column}2:{column}3"  # the two near rows only
