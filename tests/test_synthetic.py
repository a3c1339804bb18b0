"""The synthetic roster generator: valid people, planted defects it can vouch for, stable files.

Checks are written with their own Polars expressions against the reference tables, not with the
generator's code, so a bug in the generator cannot hide behind itself.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from jamsos_cli.resources import schema_file
from tests import synthetic

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    """Every current and former code of the reference tables, dotted."""
    cur = pl.read_csv(schema_file("reference", "wilayah_kemendagri.csv"), infer_schema=False)
    old = pl.read_csv(schema_file("reference", "wilayah_kode_lama.csv"), infer_schema=False)
    return pl.concat([cur.select("kode", "nama", "tingkat"), old.select("kode", "nama", "tingkat")])


@pytest.fixture(scope="module")
def people() -> pl.DataFrame:
    return synthetic.generate_people(20_000, seed=7, group="mixed")


def clean_nik(col: str = "nik") -> pl.Expr:
    """NIK cleanup as SPEC §3 says: spaces, dots, dashes and a leading ' go."""
    return pl.col(col).str.strip_chars().str.strip_chars_start("'").str.replace_all(r"[ .\-]", "")


def nik_parts(nik: pl.Expr) -> dict[str, pl.Expr]:
    day = nik.str.slice(6, 2).cast(pl.Int32)
    return {
        "region": pl.concat_str(
            nik.str.slice(0, 2), nik.str.slice(2, 2), nik.str.slice(4, 2), separator="."
        ),
        "female": day > 40,
        "day": pl.when(day > 40).then(day - 40).otherwise(day),
        "month": nik.str.slice(8, 2).cast(pl.Int32),
        "yy": nik.str.slice(10, 2).cast(pl.Int32),
        "serial": nik.str.slice(12, 4),
    }


def test_generated_niks_are_valid_and_match_birth_date_and_sex(people, reference):
    kecamatan = set(reference.filter(pl.col("tingkat") == "kecamatan")["kode"].to_list())
    checked = people.select(
        "nik",
        "birth_date",
        "sex",
        **nik_parts(pl.col("nik")),
    )
    assert checked["nik"].str.contains(r"^\d{16}$").all()
    assert checked["nik"].n_unique() == people.height
    assert checked["region"].is_in(list(kecamatan)).all()
    assert (checked["day"] == checked["birth_date"].dt.day()).all()
    assert (checked["month"] == checked["birth_date"].dt.month()).all()
    assert (checked["yy"] == checked["birth_date"].dt.year() % 100).all()
    assert (checked["female"] == (checked["sex"] == "P")).all()
    assert (checked["serial"] != "0000").all()


def test_nik_regions_mostly_batam_some_elsewhere_a_few_former_codes(people, reference):
    former = set(
        pl.read_csv(schema_file("reference", "wilayah_kode_lama.csv"), infer_schema=False)[
            "kode"
        ].to_list()
    )
    region = people.select(**nik_parts(pl.col("nik")))["region"]
    batam = region.str.starts_with("21.71").mean()
    old = region.is_in(list(former)).mean()
    assert 0.80 < batam < 0.90
    assert 0.005 < old < 0.05
    # a former NIK region (e.g. 91.01 Merauke before 2022) is a genuine, existing person's NIK
    assert region.filter(region.is_in(list(former))).str.starts_with("9").all()


def test_domicile_is_an_official_batam_kelurahan_of_its_kecamatan(people, reference):
    kel = reference.filter(pl.col("tingkat") == "kelurahan_desa").select(
        kelurahan_code="kode", kelurahan_ref="nama"
    )
    kec = reference.filter(pl.col("tingkat") == "kecamatan").select(
        kecamatan_code="kode", kecamatan_ref="nama"
    )
    joined = people.join(kel, on="kelurahan_code", how="left").join(
        kec, on="kecamatan_code", how="left"
    )
    assert (joined["kelurahan"] == joined["kelurahan_ref"]).all()
    assert (joined["kecamatan"] == joined["kecamatan_ref"]).all()
    assert joined["kelurahan_code"].str.starts_with(joined["kecamatan_code"]).all()
    assert joined["kecamatan_code"].str.starts_with("21.71.").all()


def test_ages_mostly_20_to_60_a_few_outside_18_to_64(people):
    born = pl.col("birth_date")
    age = (
        2025
        - born.dt.year()
        - ((born.dt.month() > 6) | ((born.dt.month() == 6) & (born.dt.day() > 1))).cast(pl.Int32)
    )
    ages = people.select(age=age)["age"]
    assert ages.is_between(20, 60).mean() > 0.9
    outside = (~ages.is_between(18, 64)).mean()
    assert 0.005 < outside < 0.03


def test_roles_follow_the_group_and_fishermen_carry_a_kusuka_card():
    rt = synthetic.generate_people(3000, seed=1, group="rt_rw")
    assert set(rt["role"].unique()) == {
        "Ketua RT",
        "Ketua RW",
        "Kader Posyandu",
        "Kader Siaga Kelurahan",
        "Ketua LPM",
    }
    transport = synthetic.generate_people(2000, seed=1, group="transport")
    assert set(transport["role"].unique()) == {"Ojek Online", "Boat Pancung", "Becak Kayuh"}
    fishers = synthetic.generate_people(500, seed=1, group="fisher")
    assert set(fishers["role"].unique()) == {"Nelayan"}
    assert fishers["kusuka_number"].str.contains(r"^\d{14}$").all()
    assert rt["kusuka_number"].is_null().all()
    posyandu = rt.filter(pl.col("role") == "Kader Posyandu")
    assert (posyandu["sex"] == "P").mean() > 0.9


def test_names_look_indonesian_with_titles_and_phones_are_mobile_numbers(people):
    names = people["name"]
    assert names.str.starts_with("H. ").any() and names.str.starts_with("Hj. ").any()
    assert names.str.contains(r"^(MUHAMMAD|Muhammad|Muh\.|M\.) ").any()
    assert names.str.contains(", S\\.").any()
    assert names.str.contains(r"br\.? ").any()  # Batak women: boru
    assert people["mother_name"].null_count() == 0
    phones = people["phone"].drop_nulls()
    assert phones.str.contains(r"^08\d{9,10}$").all()
    assert (
        people["address"].str.contains(r"^(Jl\.|Perum|Kp\.|Pelantar|Ruli|\w+).* No\. ?\d+$").all()
    )


def test_200k_people_are_generated_by_whole_column_operations():
    """Vectorised: 200k people well inside the time a per-row loop would need (the 10M
    figure is in the benchmarks)."""
    started = time.perf_counter()
    big = synthetic.generate_people(200_000, seed=3)
    elapsed = time.perf_counter() - started
    assert big.height == 200_000
    assert big["nik"].n_unique() == 200_000
    assert elapsed < 30


def test_same_seed_same_people_other_seed_other_people():
    a = synthetic.generate_people(500, seed=11, group="transport")
    b = synthetic.generate_people(500, seed=11, group="transport")
    c = synthetic.generate_people(500, seed=12, group="transport")
    assert a.equals(b)
    assert (a["nik"] != c["nik"]).mean() > 0.9


def test_people_do_not_depend_on_the_slice_size(monkeypatch):
    """The text is made in slices; every draw is keyed by the row, so slices change nothing."""
    whole = synthetic.generate_people(3000, seed=13, group="fisher")
    monkeypatch.setattr(synthetic, "_SLICE", 700)
    assert synthetic.generate_people(3000, seed=13, group="fisher").equals(whole)


@pytest.fixture(scope="module")
def messy() -> pl.DataFrame:
    people = synthetic.generate_people(6000, seed=21, group="mixed")
    return synthetic.mess_up(people, seed=22, defect_rate=0.3, dup_rate=0.05, spreadsheet=True)


def test_every_row_level_defect_is_planted(messy):
    codes = set(messy["_truth_code"].drop_nulls().unique())
    planted = set(synthetic.config()["defects"])
    assert planted <= codes
    assert {"NIK_DUPLICATE", "NEAR_DUPLICATE_HELD", "NIK_CONFLICT", "AGE_OUT_OF_RANGE"} <= codes


def test_planted_defects_show_in_the_text(messy, reference):
    rows = messy.with_columns(clean=clean_nik())
    by = {
        code: rows.filter(pl.col("_truth_code") == code)
        for code in rows["_truth_code"].drop_nulls().unique()
    }
    assert by["NIK_MISSING"]["nik"].is_null().all()
    assert not by["NIK_FORMAT"]["clean"].str.contains(r"^\d{16}$").any()
    assert by["NIK_SCIENTIFIC"]["nik"].str.contains(r"^\d[.,]\d{5}E\+15$").all()
    assert by["NIK_SERIAL"]["clean"].str.ends_with("0000").all()
    regency = by["NIK_REGION"].select(
        pl.concat_str(
            pl.col("clean").str.slice(0, 2), pl.col("clean").str.slice(2, 2), separator="."
        )
    )
    assert not regency.to_series().is_in(reference["kode"].to_list()).any()
    birth = by["NIK_BIRTHDATE"].select(**nik_parts(pl.col("clean")))
    assert (~birth["day"].is_between(1, 31) | ~birth["month"].is_between(1, 12)).all()
    assert by["NAME_MISSING"]["name"].is_null().all()
    assert by["DOB_MISSING"]["birth_date"].is_null().all()
    accepted_sex = ["L", "P", "LAKI-LAKI", "PEREMPUAN", "LK", "PR", "M", "F"]
    assert not by["SEX_INVALID"]["sex"].str.to_uppercase().is_in(accepted_sex).any()
    assert by["NIK_SEX_MISMATCH"]["sex"].is_in(["L", "P"]).all()
    assert (
        by["NIK_SEX_MISMATCH"].select(**nik_parts(pl.col("clean")))["female"]
        == (by["NIK_SEX_MISMATCH"]["sex"] == "L")
    ).all()
    assert by["DECREE_FIELD_MISSING"]["kusuka_number"].is_null().all()
    assert by["DECREE_FIELD_MISSING"]["role"].str.to_lowercase().str.contains("nelayan").all()
    assert (
        by["OCCUPATION_EXCLUDED"]["occupation"]
        .is_in(synthetic.config()["defect_values"]["excluded_occupations"])
        .all()
    )
    assert (by["NIK_PRECISION_LOST"]["_nik_cell"] != "text").all()
    assert (by["NIK_NUMERIC_CELL"]["_nik_cell"] == "number").all()


def test_clean_rows_have_a_valid_nik_matching_their_birth_date(messy):
    clean = messy.filter(pl.col("_truth_code").is_null()).with_columns(nik=clean_nik())
    parts = clean.select("_birth_date", **nik_parts(pl.col("nik")))
    assert clean["nik"].str.contains(r"^\d{16}$").all()
    assert (parts["day"] == parts["_birth_date"].dt.day()).all()
    assert (parts["month"] == parts["_birth_date"].dt.month()).all()


def test_duplicates_point_at_an_earlier_row_of_the_same_person(messy):
    rows = messy.with_row_index("index").with_columns(
        pl.col("index").cast(pl.Int64), nik=clean_nik()
    )
    dups = rows.filter(pl.col("_truth_dup_of").is_not_null())
    first = rows.select(
        pl.col("index").alias("_truth_dup_of"),
        nik_first="nik",
        date_first="_birth_date",
        person_first="_truth_person",
        name_first="name",
    )
    pairs = dups.join(first, on="_truth_dup_of")
    assert (pairs["_truth_dup_of"] < pairs["index"]).all()
    assert (pairs["_truth_person"] == pairs["person_first"]).all()
    exact = pairs.filter(pl.col("_truth_dup_kind") == "exact")
    assert (exact["nik"] == exact["nik_first"]).all()
    near = pairs.filter(pl.col("_truth_dup_kind") == "near")
    differing = sum(
        (near["nik"].str.slice(k, 1) != near["nik_first"].str.slice(k, 1)).cast(pl.Int32)
        for k in range(16)
    )
    assert (differing == 1).all() and near.height > 0
    twins = pairs.filter(pl.col("_truth_dup_kind") == "twin")
    assert twins.height > 0
    assert (twins["nik"] == twins["nik_first"]).all()
    assert (twins["_birth_date"] == twins["date_first"]).all()
    assert (
        twins["name"].str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()
        != twins["name_first"].str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()
    ).all()


def test_messy_text_uses_every_date_format_and_phone_style(messy):
    dates = messy["birth_date"].drop_nulls()
    assert dates.str.contains(r"^\d{4}-\d{2}-\d{2}$").any()
    for sep in ("/", "-", "."):
        assert dates.str.contains(rf"^\d{{2}}\{sep}\d{{2}}\{sep}\d{{4}}$").any()
    assert dates.str.contains(r"^\d{1,2} (Januari|JANUARI|Pebruari|Nopember|Agustus) \d{4}$").any()
    assert dates.str.contains(r"^\d{2} (Mei|Agt|Ags|Okt|Nop|Des|Peb) \d{4}$").any()
    phones = messy["phone"].drop_nulls()
    assert phones.str.starts_with("+62 ").any() and phones.str.starts_with("628").any()
    assert phones.str.contains(r"^08\d{2}-").any()
    niks = messy["nik"].drop_nulls()
    assert niks.str.starts_with("'").any() and niks.str.contains(" ").any()
    kel = messy["kelurahan"].drop_nulls()
    assert kel.str.starts_with("Sei ").any() or kel.str.starts_with("SEI ").any()


def test_fields_absent_from_a_file_get_no_defect_there():
    people = synthetic.generate_people(3000, seed=5, group="rt_rw")
    messy = synthetic.mess_up(
        people,
        seed=6,
        defect_rate=0.3,
        fields=["nik", "name", "birth_date", "kelurahan", "kecamatan"],
    )
    codes = set(messy["_truth_code"].drop_nulls().unique())
    assert not codes & {
        "SEX_INVALID",
        "NIK_SEX_MISMATCH",
        "PHONE_FORMAT",
        "ROLE_NOT_ELIGIBLE",
        "OCCUPATION_EXCLUDED",
        "NIK_PRECISION_LOST",
        "DECREE_FIELD_MISSING",
    }
    assert "NIK_FORMAT" in codes and "KELURAHAN_UNKNOWN" in codes


def test_defect_values_are_really_unknown_to_the_reference(reference):
    cfg = synthetic.config()
    regency = set(
        reference.filter(pl.col("tingkat") == "kabupaten_kota")["kode"]
        .str.replace_all(".", "", literal=True)
        .to_list()
    )
    assert not set(cfg["nik"]["never_region"]) & regency
    batam_kec = set(
        reference.filter(
            pl.col("kode").str.starts_with("21.71.") & (pl.col("tingkat") == "kecamatan")
        )["kode"].to_list()
    )
    for code in synthetic.unknown_district_codes("21.71"):
        assert f"21.71.{code}" not in batam_kec

    def norm(name: pl.Expr) -> pl.Expr:  # SPEC §4 aliases: Sei ↔ Sungai, Batuaji ↔ Batu Aji
        return (
            name.str.to_uppercase()
            .str.replace(r"^SEI ", "SUNGAI ")
            .str.replace("BATUAJI", "BATU AJI")
        )

    batam = reference.filter(pl.col("kode").str.starts_with("21.71."))
    kel = set(
        batam.filter(pl.col("tingkat") == "kelurahan_desa")
        .select(norm(pl.col("nama")))
        .to_series()
        .to_list()
    )
    kec = set(
        batam.filter(pl.col("tingkat") == "kecamatan")
        .select(norm(pl.col("nama")))
        .to_series()
        .to_list()
    )
    values = cfg["defect_values"]
    unknown_kel = pl.Series(values["kelurahan_unknown"]).to_frame("n").select(norm(pl.col("n")))
    unknown_kec = pl.Series(values["kecamatan_unknown"]).to_frame("n").select(norm(pl.col("n")))
    assert not set(unknown_kel.to_series().to_list()) & kel
    assert not set(unknown_kec.to_series().to_list()) & kec


def test_same_seed_gives_the_same_csv_bytes(tmp_path):
    def write(seed: int, name: str) -> bytes:
        people = synthetic.generate_people(400, seed=seed, group="transport")
        messy = synthetic.mess_up(people, seed=seed, defect_rate=0.1, dup_rate=0.02)
        synthetic.write_csv(messy, tmp_path / name, encoding="cp1252", delimiter=";")
        return (tmp_path / name).read_bytes()

    assert write(9, "a.csv") == write(9, "b.csv")
    assert write(9, "a.csv") != write(10, "c.csv")


def test_csv_writer_titles_footers_encoding_and_first_row(tmp_path):
    people = synthetic.generate_people(50, seed=4, group="rt_rw")
    people = people.with_columns(
        name=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("Renée Wijaya")).otherwise("name")
    )
    messy = synthetic.mess_up(people, seed=4, defect_rate=0, dup_rate=0)
    headers = {
        "row_number": "NO",
        "nik": "NIK",
        "name": "NAMA",
        "birth_date": "TGL LAHIR",
        "address": "ALAMAT",
    }
    path = tmp_path / "kader.csv"
    first = synthetic.write_csv(
        messy,
        path,
        encoding="cp1252",
        delimiter=";",
        title_rows=["DATA KADER POSYANDU", ""],
        headers=headers,
        footer_rows=[["", "JUMLAH", "50"]],
    )
    raw = path.read_bytes()
    assert "renée wijaya" in raw.decode("cp1252").lower()  # é as Windows-1252 writes it
    assert b"\xc3" not in raw  # no UTF-8 bytes
    lines = raw.decode("cp1252").split("\r\n")
    assert lines[0] == "DATA KADER POSYANDU;;;;"
    assert lines[2] == "NO;NIK;NAMA;TGL LAHIR;ALAMAT"
    assert first == 4
    assert lines[first - 1].split(";")[0] == "1"
    assert lines[first - 1 + 49].startswith("50;")
    assert lines[-2] == ";JUMLAH;50;;"
    bom = tmp_path / "bom.csv"
    synthetic.write_csv(messy, bom, encoding="utf-8-sig", headers=headers)
    assert bom.read_bytes().startswith(b"\xef\xbb\xbfNO,NIK,NAMA")


def test_xlsx_writer_numeric_nik_cells_dates_titles_and_footer(tmp_path):
    people = synthetic.generate_people(400, seed=8, group="rt_rw")
    messy = synthetic.mess_up(
        people,
        seed=8,
        defect_rate=0.25,
        dup_rate=0,
        spreadsheet=True,
        defect_weights={"NIK_PRECISION_LOST": 50, "NIK_NUMERIC_CELL": 50},
    )
    headers = {
        "row_number": "NO",
        "nik": "NIK",
        "name": "NAMA LENGKAP",
        "birth_date": "TGL LAHIR",
        "phone": "NO HP",
    }
    path = tmp_path / "rt.xlsx"
    first = synthetic.write_xlsx(
        messy,
        path,
        title_rows=["DAFTAR NAMA KETUA RT", ""],
        headers=headers,
        footer_rows=[[], ["", "JUMLAH", 400]],
    )
    ws = openpyxl.load_workbook(path).active
    assert ws.cell(1, 1).value == "DAFTAR NAMA KETUA RT"
    assert [c.value for c in ws[3]] == list(headers.values())
    assert first == 4
    for i, row in enumerate(messy.iter_rows(named=True)):
        cell = ws.cell(first + i, 2).value
        if row["_nik_cell"] == "excel":
            assert cell == int(row["nik"][:15] + "0")
        elif row["_nik_cell"] == "number":
            assert cell == int(row["nik"]) < 2**53
        else:
            assert cell == row["nik"] or (cell is None and row["nik"] is None)
        dob = ws.cell(first + i, 4).value
        if row["_dob_cell"] and row["_birth_date"] is not None:
            assert dob == datetime.combine(row["_birth_date"], datetime.min.time())
    assert (messy["_nik_cell"] == "excel").sum() > 5
    assert ws.cell(first + messy.height + 1, 2).value == "JUMLAH"
    # numeric_nik=True: a careless Excel user, every NIK a number with its 16th digit lost
    careless = tmp_path / "careless.xlsx"
    synthetic.write_xlsx(
        messy.filter(pl.col("_truth_code").is_null()).head(20),
        careless,
        headers={"nik": "NIK"},
        numeric_nik=True,
    )
    values = [r[0].value for r in openpyxl.load_workbook(careless).active.iter_rows(min_row=2)]
    assert all(isinstance(v, int) and v % 10 == 0 for v in values)


def test_samples_regenerate_the_committed_sample_data(tmp_path):
    committed = REPO / "sample_data"
    written = synthetic.build_samples(tmp_path)
    assert {p.relative_to(tmp_path) for p in written} == {
        p.relative_to(committed) for p in committed.rglob("*") if p.is_file()
    }
    total = 0
    for path in written:
        mine = committed / path.relative_to(tmp_path)
        total += mine.stat().st_size
        if path.suffix == ".xlsx":
            fresh, kept = openpyxl.load_workbook(path), openpyxl.load_workbook(mine)
            assert fresh.sheetnames == kept.sheetnames
            for name in fresh.sheetnames:
                assert [[c.value for c in r] for r in fresh[name].iter_rows()] == [
                    [c.value for c in r] for r in kept[name].iter_rows()
                ]
        else:
            assert path.read_bytes() == mine.read_bytes(), path.name
    assert total < 1_000_000


def test_sample_files_are_what_the_demo_promises():
    base = REPO / "sample_data"
    kader = (base / "perwako-batam-49-2025" / "kader_posyandu_sagulung.csv").read_bytes()
    text = kader.decode("cp1252")
    assert (
        "renée" in text.lower()
        and "\r\n" in text
        and text.splitlines()[2].startswith("NO;NIK;NAMA")
    )
    assert "Sei " in text or "SEI " in text
    ojol = (base / "perwako-batam-30-2025" / "dishub_ojol_2025.csv").read_bytes()
    assert ojol.startswith(b"\xef\xbb\xbfNO,NAMA DRIVER,NIK KTP")
    ws = openpyxl.load_workbook(
        base / "perwako-batam-49-2025" / "kel_sungai_panas_ketua_rt_rw.xlsx"
    ).active
    assert ws.cell(1, 1).value == "DAFTAR NAMA KETUA RT/RW KELURAHAN SUNGAI PANAS"
    niks = [ws.cell(r, 2).value for r in range(5, ws.max_row + 1)]
    numbers = [v for v in niks if isinstance(v, int)]
    assert any(v % 10 == 0 for v in numbers) and any(v % 10 for v in numbers)
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Lurah Sungai Panas" in values and "ttd" in values
    readme = (base / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in readme.lower() and "NIK_PRECISION_LOST" in readme


def test_people_on_two_lists_are_the_same_person():
    base = REPO / "sample_data"
    ws = openpyxl.load_workbook(
        base / "perwako-batam-49-2025" / "kel_sungai_panas_ketua_rt_rw.xlsx"
    ).active
    rt = {
        str(ws.cell(r, 2).value)
        .strip()
        .lstrip("'")
        .replace(" ", "")
        .replace(".", "")
        .replace("-", "")
        for r in range(5, ws.max_row + 1)
    }
    ojol = pl.read_csv(
        base / "perwako-batam-30-2025" / "dishub_ojol_2025.csv", infer_schema=False
    ).with_columns(nik=clean_nik("NIK KTP"))
    assert ojol["nik"].is_in(list(rt)).sum() == 2


def test_command_line_writes_a_roster_and_its_truth(tmp_path):
    out = tmp_path / "big.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.synthetic",
            "roster",
            "--rows",
            "300",
            "--seed",
            "5",
            "--group",
            "fisher",
            "--format",
            "csv",
            "--encoding",
            "cp1252",
            "--delimiter",
            ";",
            "--defects",
            "0.1",
            "--dups",
            "0.02",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,  # the generator is tests/synthetic.py, run from the repository root
    )
    assert done.returncode == 0, done.stderr
    text = out.read_bytes().decode("cp1252")
    assert text.splitlines()[0].startswith("NO;NIK;NAMA;")
    facts = pl.read_parquet(tmp_path / "big.csv.truth.parquet")
    assert facts.height == len(text.splitlines()) - 1
    assert facts["row"][0] == 2
    assert facts["code"].drop_nulls().len() > 10
    bad = subprocess.run(
        [sys.executable, "-m", "tests.synthetic", "roster", str(tmp_path / "x.txt")],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
