"""Decrees are data: shipped rule sets, a city's own folder, and bad rule files refused clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jamsos_cli import decrees
from jamsos_cli.cli import app
from jamsos_cli.decrees import DecreeError, all_decrees, load_decree
from jamsos_cli.errors import JamsosError
from tests.helpers import DECREE_FIGURES, DECREE_PREMIUM, refused

runner = CliRunner()

SHIPPED = ["perwako-batam-3-2023", "perwako-batam-30-2025", "perwako-batam-49-2025"]

TANJUNGPINANG = f"""
id = "perwako-tanjungpinang-12-2025"
title = "Perwako Tanjungpinang No. 12/2025"
group = "Pengurus rumah ibadah"
city_code = "21.72"
quota = 800

[age]
min = 21
max = 60
assumed = false
{DECREE_PREMIUM}
[[roles]]
name = "Marbot masjid"
aliases = ["Marbot", "Penjaga masjid"]

[[roles]]
name = "Guru ngaji"
aliases = ["Guru mengaji", "Ustadz TPA"]
"""

TRANSPORT_OVERRIDE = f"""
id = "perwako-batam-30-2025"
title = "Perwako Batam No. 30/2025 (kuota Dishub)"
city_code = "21.71"
quota = 6945
{DECREE_FIGURES}
[[roles]]
name = "Ojek online"
aliases = ["Ojol", "Ojek online"]
"""


def _without(text: str, table: str) -> str:
    """``text`` with the TOML ``table`` (its header and keys, up to the next table) removed."""
    head, _, rest = text.partition(table + "\n")
    return head + rest[rest.index("\n[") + 1 :]


def write_rule(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def jamsos(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed entry point as cron runs it (stderr line and exit code, no traceback)."""
    return subprocess.run(
        [sys.executable, "-m", "jamsos_cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


# --------------------------------------------------------------------------- shipped


def test_three_batam_decrees_ship_with_the_tool() -> None:
    assert [d.id for d in all_decrees()] == SHIPPED
    rt = load_decree("perwako-batam-49-2025")
    assert rt.quota_limit == 12_872
    assert [r.name for r in rt.roles] == [
        "Ketua RT",
        "Ketua RW",
        "Kader Posyandu",
        "Kader Siaga Kelurahan",
        "Ketua LPM",
    ]
    transport = load_decree("perwako-batam-30-2025")
    assert transport.quota_limit is None  # not published
    assert [r.name for r in transport.roles] == ["Ojek online", "Boat pancung", "Becak kayuh"]
    fishers = load_decree("perwako-batam-3-2023")
    assert fishers.required_fields == ["kusuka_number"]
    assert fishers.all_required_fields == ["role", "kelurahan", "kecamatan", "kusuka_number"]
    for decree in (rt, transport, fishers):
        assert decree.city_code == "21.71"
        assert (decree.age.min, decree.age.max, decree.age.assumed) == (18, 64, True)
        assert decree.premium.programs == ["JKK", "JKM"]
        assert {g.id for g in decree.exclusion_groups()} == {"asn", "tni", "polri"}


def test_shipped_files_mark_the_age_range_as_an_assumption() -> None:
    for path in sorted(decrees.shipped_dir().glob("*.toml")):
        assert "ASSUMPTION" in path.read_text(encoding="utf-8"), path.name


def test_unknown_decree_lists_the_known_ids() -> None:
    with pytest.raises(DecreeError) as err:
        load_decree("perwako-batam-99-2030")
    assert isinstance(err.value, JamsosError) and err.value.exit_code == 2
    for known in SHIPPED:
        assert known in str(err.value)


def test_quota_override_and_zero_means_unlimited() -> None:
    assert load_decree("perwako-batam-30-2025", quota=6_945).quota_limit == 6_945
    assert load_decree("perwako-batam-49-2025", quota=0).quota_limit is None
    with pytest.raises(DecreeError):
        load_decree("perwako-batam-49-2025", quota=-5)


# --------------------------------------------------------------------------- a city's own


def test_user_folder_adds_a_new_city(tmp_path: Path) -> None:
    folder = tmp_path / "aturan"
    write_rule(folder, "tanjungpinang.toml", TANJUNGPINANG)
    ids = [d.id for d in all_decrees(folder)]
    assert ids == sorted([*SHIPPED, "perwako-tanjungpinang-12-2025"])
    decree = load_decree("perwako-tanjungpinang-12-2025", folder)
    assert decree.city_code == "21.72" and decree.quota_limit == 800
    assert (decree.age.min, decree.age.max) == (21, 60)
    assert decree.premium_per_person_month == 16_800  # as its [premium] states
    assert decree.source == folder / "tanjungpinang.toml" and decree.overrides is None
    assert decrees.city_name(decree.city_code) == "Kota Tanjung Pinang"
    # without the folder it is unknown
    with pytest.raises(DecreeError):
        load_decree("perwako-tanjungpinang-12-2025")


def test_user_file_with_a_shipped_id_replaces_it_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "aturan"
    user = write_rule(folder, "dishub.toml", TRANSPORT_OVERRIDE)
    decree = load_decree("perwako-batam-30-2025", folder)
    assert decree.quota_limit == 6_945
    assert decree.source == user
    assert decree.overrides == decrees.shipped_dir() / "perwako-batam-30-2025.toml"

    shown = runner.invoke(app, ["decrees", "perwako-batam-30-2025", "--decrees", str(folder)])
    assert shown.exit_code == 0, shown.output
    assert "menggantikan berkas bawaan" in shown.stdout
    assert str(user) in shown.stdout
    listed = runner.invoke(app, ["decrees", "--decrees", str(folder), "--format", "json"])
    (row,) = [d for d in json.loads(listed.stdout)["decrees"] if d["id"] == decree.id]
    assert row["quota"] == 6_945 and row["overrides"].endswith("perwako-batam-30-2025.toml")


def test_config_file_names_the_folder_and_a_quota(tmp_path: Path) -> None:
    write_rule(tmp_path / "aturan", "tanjungpinang.toml", TANJUNGPINANG)
    config = tmp_path / "jamsos.toml"
    config.write_text('decrees_dir = "aturan"\n\n[quotas]\n"perwako-batam-3-2023" = 1500\n')
    listed = runner.invoke(app, ["decrees", "--config", str(config), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert "perwako-tanjungpinang-12-2025" in [
        d["id"] for d in json.loads(listed.stdout)["decrees"]
    ]
    shown = runner.invoke(
        app, ["decrees", "perwako-batam-3-2023", "--config", str(config), "--format", "json"]
    )
    assert json.loads(shown.stdout)["quota"] == 1500


# --------------------------------------------------------------------------- bad rule files


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a required key missing
        (
            TANJUNGPINANG.replace('title = "Perwako Tanjungpinang No. 12/2025"\n', ""),
            "title: Field required",
        ),
        # wrong type
        (
            TANJUNGPINANG.replace("max = 60", 'max = "enam puluh"'),
            "age.max: must be a whole number",
        ),
        # a typo'd key must not silently fall back to a default
        (
            TANJUNGPINANG.replace("quota = 800", "kuota = 800"),
            "kuota: unknown key (a typo?)",
        ),
        (
            TANJUNGPINANG.replace('aliases = ["Marbot"', 'alias = ["Marbot"'),
            "roles[0].alias: unknown key (a typo?)",
        ),
        # nothing is Batam's by default: a missing section or figure names the file and key
        (_without(TANJUNGPINANG, "[premium]"), "premium: Field required"),
        (_without(TANJUNGPINANG, "[age]"), "age: Field required"),
        (TANJUNGPINANG.replace("max = 60\n", ""), "age.max: Field required"),
        (TANJUNGPINANG.replace("jkm_flat = 6_800\n", ""), "premium.jkm_flat: Field required"),
        # not TOML at all
        (TANJUNGPINANG.replace("quota = 800", "quota == 800"), "not valid TOML"),
        # rules that cannot be applied
        (TANJUNGPINANG.replace("min = 21", "min = 70"), "age: min (70) is greater than max (60)"),
        (
            TANJUNGPINANG.replace('city_code = "21.72"', 'city_code = "Tanjungpinang"'),
            "city_code: does not match the pattern",
        ),
        (
            TANJUNGPINANG.replace("[age]", 'required_fields = ["kartu_kusuka"]\n\n[age]'),
            "required_fields: unknown roster field(s) kartu_kusuka",
        ),
        (
            TANJUNGPINANG.replace('"Ustadz TPA"', '"Ustadz TPA", "Marbot"'),
            "alias 'Marbot' belongs to both 'Marbot masjid' and 'Guru ngaji'",
        ),
        (
            TANJUNGPINANG.replace("[age]", 'exclusions = ["pns"]\n\n[age]'),
            "exclusions: unknown group(s) pns",
        ),
        (
            TANJUNGPINANG.replace('programs = ["JKK", "JKM"]', 'programs = ["JKK"]'),
            "premium.programs: must include JKM",
        ),
        (
            TANJUNGPINANG.replace('programs = ["JKK", "JKM"]', 'programs = ["JKK", "JKM", "JHT"]'),
            "premium: jht_rate_bp is required when JHT is in programs",
        ),
        (
            TANJUNGPINANG.replace("jkm_flat = 6_800", "jkm_flat = 6800.5"),
            "premium.jkm_flat: must be a whole number",
        ),
    ],
)
def test_bad_rule_file_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    folder = tmp_path / "aturan"
    path = write_rule(folder, "mydecree.toml", text)
    with pytest.raises(DecreeError) as err:
        all_decrees(folder)
    message = err.value.message("en")
    assert message.startswith(f"{path}: "), message
    assert str(err.value).startswith(f"{path}: ")  # Indonesian by default
    assert expected in message


def test_bad_rule_file_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "aturan"
    write_rule(folder, "mydecree.toml", TANJUNGPINANG.replace("max = 60", 'max = "x"'))
    roster = tmp_path / "r.csv"
    roster.write_bytes(b"NIK;NAMA;TGL LAHIR\r\n")
    for args in (
        ["decrees", "--decrees", str(folder)],
        ["validate", str(roster), "--decree", "perwako-batam-49-2025", "--decrees", str(folder)],
    ):
        done = jamsos(*args, "--lang", "en")
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert f"{folder / 'mydecree.toml'}: age.max: must be a whole number" in done.stderr
        assert "harus bilangan bulat" in jamsos(*args).stderr  # Indonesian by default
        assert done.stdout == ""


def test_same_id_twice_in_one_folder(tmp_path: Path) -> None:
    folder = tmp_path / "aturan"
    write_rule(folder, "a.toml", TANJUNGPINANG)
    write_rule(folder, "b.toml", TANJUNGPINANG)
    with refused(DecreeError, "already used by .*a.toml"):
        all_decrees(folder)


def test_missing_folder_and_unknown_city(tmp_path: Path) -> None:
    with refused(DecreeError, "decree folder not found"):
        all_decrees(tmp_path / "nowhere")
    folder = tmp_path / "aturan"
    write_rule(folder, "x.toml", TANJUNGPINANG.replace('"21.72"', '"21.99"'))
    with refused(DecreeError, r"city_code: 21\.99 is not a city"):
        load_decree("perwako-tanjungpinang-12-2025", folder)


# --------------------------------------------------------------------------- jamsos decrees


def test_decrees_lists_ids_roles_quota_and_premium() -> None:
    result = runner.invoke(app, ["decrees"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for decree_id in SHIPPED:
        assert decree_id in out
    assert "12.872" in out  # quota, Indonesian digit grouping
    assert out.count("Rp 16.800") == 3
    assert "Ketua RT" in out and "Nelayan kecil" in out and "Becak kayuh" in out
    assert "tanpa batas" in out  # the unpublished quotas

    doc = json.loads(runner.invoke(app, ["decrees", "--format", "json"]).stdout)
    by_id = {d["id"]: d for d in doc["decrees"]}
    assert list(by_id) == SHIPPED
    assert by_id["perwako-batam-49-2025"]["quota"] == 12_872
    assert by_id["perwako-batam-30-2025"]["quota"] is None
    assert {d["premium_per_person_month"] for d in doc["decrees"]} == {16_800}


def test_decrees_id_shows_the_rule_set_as_understood() -> None:
    result = runner.invoke(app, ["decrees", "perwako-batam-3-2023", "--lang", "en"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "18–64 years (assumption — confirm against the decree text)" in out
    assert "JKK: Rp 10,000 (1% of declared income)" in out
    assert "JKM: Rp 6,800 (flat per month)" in out
    assert "Premium per person-month: Rp 16,800" in out
    assert "NO KUSUKA (kusuka_number)" in out
    assert "Nelayan tradisional" in out  # an alias
    assert "POLRI" in out and "PNS" in out
    assert "perwako-batam-3-2023.toml" in out  # the source file

    doc = json.loads(
        runner.invoke(app, ["decrees", "perwako-batam-3-2023", "--format", "json"]).stdout
    )
    assert doc["premium"]["breakdown"] == {"JKK": 10_000, "JKM": 6_800}
    assert doc["premium"]["per_person_month"] == 16_800
    assert doc["required_fields"] == ["role", "kelurahan", "kecamatan", "kusuka_number"]
    assert doc["age"] == {"min": 18, "max": 64, "assumed": True, "note": None}
    assert doc["city"] == "Kota Batam"
    assert doc["roles"][0]["name"] == "Nelayan kecil"


def test_decrees_unknown_id_is_exit_2_in_the_users_language() -> None:
    done = jamsos("decrees", "perwako-batam-1-1999")
    assert done.returncode == 2
    assert "keputusan 'perwako-batam-1-1999' tidak dikenal" in done.stderr  # Indonesian first
    assert "perwako-batam-49-2025" in done.stderr and "Traceback" not in done.stderr
    english = jamsos("decrees", "perwako-batam-1-1999", "--lang", "en")
    assert "unknown decree 'perwako-batam-1-1999'" in english.stderr
