"""The roster schema: one pydantic model, the single source of truth for roster fields.

Each field carries its description, the header aliases senders use (``x-aliases``, matched
case- and punctuation-insensitively, see ``headers.py``) and when it is required
(``x-required``: ``always``, ``decree`` = only when a decree is applied, or absent).
``schemas/roster.schema.json`` is generated from this model (``python -m jamsos_cli.schema``);
a test fails when the two drift. The row rules one row at a time (the scalar mirror of
``checks.py``) are ``rowrules.py``'s.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _field(description: str, aliases: list[str], required: str | None = None, **kw: Any):
    extra: dict[str, Any] = {"x-aliases": aliases}
    if required:
        extra["x-required"] = required
    return Field(default=None, description=description, json_schema_extra=extra, **kw)


class RosterRow(BaseModel):
    """One person on a roster, as the sender typed it (every value read as text first)."""

    model_config = ConfigDict(extra="ignore", title="jamsos roster row")

    nik: str | None = _field(
        "Nomor Induk Kependudukan: 16 digits (province, regency, kecamatan, birth date DDMMYY "
        "with day + 40 for women, serial).",
        [
            "NIK",
            "NO KTP",
            "NOMOR KTP",
            "NO NIK",
            "NOMOR NIK",
            "NOMOR INDUK KEPENDUDUKAN",
            "NIK KTP",
            "NO INDUK KEPENDUDUKAN",
        ],
        "always",
    )
    name: str | None = _field(
        "Full name as on the KTP; trimmed, inner spaces collapsed.",
        ["NAMA", "NAMA LENGKAP", "NAMA PESERTA", "NAMA SESUAI KTP", "NAMA TENAGA KERJA"],
        "always",
    )
    birth_place: str | None = _field(
        "Place of birth.", ["TEMPAT LAHIR", "TMP LAHIR", "TPT LAHIR", "KOTA LAHIR"]
    )
    birth_date: date | None = _field(
        "Date of birth: ISO, dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, '12 Januari 1980', '12 Jan 1980' "
        "(Indonesian or English months, old spellings such as Djuli), a weekday in front "
        "('Senin, 12 Mei 1980'), Excel date cells and serial numbers; day first; four-digit "
        "years only.",
        ["TANGGAL LAHIR", "TGL LAHIR", "TGL LHR", "TANGGAL LHR"],
        "always",
    )
    birth_place_date: str | None = _field(
        "Combined place and date of birth ('Batam, 12-05-1980'), split into birth_place and "
        "birth_date.",
        [
            "TEMPAT TANGGAL LAHIR",
            "TEMPAT TGL LAHIR",
            "TEMPAT DAN TANGGAL LAHIR",
            "TTL",
            "TMP TGL LAHIR",
            "TEMPAT TGL LHR",
        ],
    )
    sex: str | None = _field(
        "Sex: L or P (also Laki-laki/Perempuan, LK/PR, M/F). When the column is absent it is "
        "read from the NIK (day + 40 = female).",
        ["JK", "L P", "JENIS KELAMIN", "KELAMIN", "SEX", "GENDER"],
    )
    address: str | None = _field(
        "Street address of domicile.",
        ["ALAMAT", "ALAMAT DOMISILI", "ALAMAT LENGKAP", "ALAMAT TEMPAT TINGGAL", "DOMISILI"],
    )
    rt: str | None = _field("RT number.", ["RT", "NO RT"])
    rw: str | None = _field("RW number.", ["RW", "NO RW"])
    rt_rw: str | None = _field("Combined RT/RW ('001/002').", ["RT RW", "RT DAN RW"])
    kelurahan: str | None = _field(
        "Kelurahan (or desa) of domicile, matched to the official Kemendagri name within the "
        "kecamatan.",
        ["KELURAHAN", "KEL", "DESA", "KELURAHAN DESA", "DESA KELURAHAN", "NAMA KELURAHAN"],
        "decree",
    )
    kecamatan: str | None = _field(
        "Kecamatan of domicile, matched to the official Kemendagri name within the city.",
        ["KECAMATAN", "KEC", "NAMA KECAMATAN"],
        "decree",
    )
    city: str | None = _field(
        "City or regency of domicile.", ["KOTA", "KABUPATEN KOTA", "KAB KOTA"]
    )
    phone: str | None = _field(
        "Mobile number; 08xx, 628xx or +628xx with spaces or dashes, written out as 08xx. "
        "Mobile, landline (reported), toll-free or unallocated as libphonenumber's data says.",
        [
            "NO HP",
            "NOMOR HP",
            "HP",
            "NO TELP",
            "NO TELEPON",
            "TELEPON",
            "TELP",
            "NO WA",
            "NOMOR WA",
            "WA",
            "WHATSAPP",
            "NO HANDPHONE",
            "NOMOR HANDPHONE",
            "HANDPHONE",
            "KONTAK",
        ],
    )
    mother_name: str | None = _field(
        "Mother's maiden name (BPJS asks for it).",
        ["NAMA IBU KANDUNG", "IBU KANDUNG", "NAMA IBU"],
    )
    role: str | None = _field(
        "Role under the decree (ketua RT, kader posyandu, ojek online, nelayan...).",
        [
            "JABATAN",
            "PERAN",
            "KATEGORI",
            "PROFESI",
            "KELOMPOK",
            "JENIS PROFESI",
            "JENIS PENGEMUDI",
            "JENIS ANGKUTAN",
            "KEDUDUKAN",
        ],
        "decree",
    )
    occupation: str | None = _field(
        "Occupation (used to exclude civil servants, military and police).",
        ["PEKERJAAN", "JENIS PEKERJAAN", "STATUS PEKERJAAN", "PEKERJAAN UTAMA"],
    )
    work_location: str | None = _field(
        "Work location (base, pangkalan, port).",
        [
            "LOKASI KERJA",
            "TEMPAT KERJA",
            "PANGKALAN",
            "NAMA PANGKALAN",
            "LOKASI",
            "WILAYAH KERJA",
        ],
    )
    kusuka_number: str | None = _field(
        "KUSUKA fisheries card number (small fishermen).",
        ["NO KUSUKA", "NOMOR KUSUKA", "KARTU KUSUKA", "NO KARTU KUSUKA", "KUSUKA"],
    )
    email: str | None = _field(
        "E-mail address.", ["EMAIL", "E MAIL", "ALAMAT EMAIL", "ALAMAT E MAIL"]
    )
    # Fields in their own right that share a word with the ones above: listed so that
    # "NAMA IBU KANDUNG" is never taken for the name, nor "NIK KEPALA KELUARGA" for the NIK.
    heir_name: str | None = _field("Heir (ahli waris) name.", ["NAMA AHLI WARIS", "AHLI WARIS"])
    family_head_nik: str | None = _field(
        "NIK of the head of the family card (not the participant's NIK).",
        ["NIK KEPALA KELUARGA", "NIK KK", "NO KK", "NOMOR KK", "NOMOR KARTU KELUARGA"],
    )
    boat_name: str | None = _field("Name of the boat.", ["NAMA KAPAL", "NAMA PERAHU", "KAPAL"])
    row_number: str | None = _field("The sender's own row number.", ["NO", "NO URUT", "NOMOR"])


FIELDS: tuple[str, ...] = tuple(RosterRow.model_fields)


def field_extra(name: str) -> dict[str, Any]:
    extra = RosterRow.model_fields[name].json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


def aliases() -> dict[str, list[str]]:
    """field → header aliases, as declared on the model."""
    return {name: list(field_extra(name).get("x-aliases", [])) for name in FIELDS}


def required_fields(with_decree: bool) -> list[str]:
    wanted = {"always", "decree"} if with_decree else {"always"}
    return [n for n in FIELDS if field_extra(n).get("x-required") in wanted]


def json_schema() -> dict[str, Any]:
    schema = RosterRow.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://jamsos.invalid/roster.schema.json"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # regenerate schemas/roster.schema.json
    from jamsos_cli.resources import schema_file

    schema_file("roster.schema.json").write_text(json_schema_text(), encoding="utf-8")
