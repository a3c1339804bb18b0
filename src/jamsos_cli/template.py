"""``jamsos template``: an empty roster for senders that jamsos can read back without guessing.

The headers are the schema's own names (each field's first alias) plus the decree's extra
fields; NIK, phone and the other digit columns are formatted as Text so Excel cannot turn
them into numbers; role, sex, kelurahan and kecamatan get drop-down lists from a hidden
sheet; a short instruction sheet in Indonesian says what to fill in. What goes in the file
is data (``schemas/template.toml``), not code.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jamsos_cli.decrees import Decree, city_name, city_places
from jamsos_cli.errors import UsageError, problem
from jamsos_cli.resources import schema_file
from jamsos_cli.schema import FIELDS, field_extra
from jamsos_cli.texts import DEFAULT_LANG, Lang, say
from jamsos_cli.writing import check_target, workbook, write_atomic


class TemplateSpec(BaseModel):
    """What ``schemas/template.toml`` may say."""

    model_config = ConfigDict(extra="forbid")

    rows: int = Field(gt=0, le=1_000_000)
    fields: list[str]
    text_fields: list[str]
    list_fields: list[str]
    sexes: list[str]

    @field_validator("fields", "text_fields", "list_fields")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in FIELDS]
        if unknown:
            raise problem(
                "error.data.unknown_fields", unknown=", ".join(unknown), known=", ".join(FIELDS)
            )
        return value


@cache
def spec() -> TemplateSpec:
    with schema_file("template.toml").open("rb") as fh:
        return TemplateSpec.model_validate(tomllib.load(fh))


def header(field: str) -> str:
    """The column title for a field: its first alias, which the reader always recognises."""
    return field_extra(field)["x-aliases"][0]


def template_fields(decree: Decree) -> list[str]:
    """The template's fields in order: the standard ones, the decree's extras after role."""
    fields = list(spec().fields)
    extras = [f for f in decree.required_fields if f not in fields]
    at = fields.index("role") + 1 if "role" in fields else len(fields)
    return fields[:at] + extras + fields[at:]


def instructions(decree: Decree, lang: Lang = DEFAULT_LANG) -> list[str]:
    """The instruction sheet's lines, filled in for this decree."""
    values = {
        "sheet": say("template.sheet", lang),
        "title": decree.title,
        "group": decree.group or decree.id,
        "city": city_name(decree.city_code) or decree.city_code,
        "roles": ", ".join(r.name for r in decree.roles),
        "required": ", ".join(
            header(f)
            for f in ["nik", "name", "birth_date", *decree.all_required_fields]
            if f in FIELDS
        ),
        "age_min": decree.age.min,
        "age_max": decree.age.max,
        "excluded": ", ".join(g.label for g in decree.exclusion_groups()),
    }
    return say("template.instructions", lang, **values).split("\n")


def choice_lists(decree: Decree) -> dict[str, list[str]]:
    """The drop-down choices per field (official names of the decree's city)."""
    places = city_places(decree.city_code)
    lists = {
        "sex": list(spec().sexes),
        "role": [r.name for r in decree.roles],
        "kelurahan": sorted(set(places.get_column("kelurahan").to_list())),
        "kecamatan": sorted(set(places.get_column("kecamatan").to_list())),
    }
    return {f: lists[f] for f in spec().list_fields if f in lists and lists[f]}


def _col_letter(index: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(index)


def write_template(
    decree: Decree,
    target: Path,
    *,
    force: bool = False,
    mode: int = 0o644,
    lang: Lang = DEFAULT_LANG,
) -> Path:
    """Write the empty roster for ``decree`` to ``target`` (.xlsx), atomically.

    An existing file is kept unless ``force``: a filled-in roster must never be overwritten
    by an empty one. The template holds no personal data, so it may be readable by others.
    """
    target = Path(target)
    if target.suffix.lower() != ".xlsx":
        raise UsageError("error.template.name", path=target)
    check_target(target)  # a symlink or a folder at that name is refused (writing.py)
    if target.exists() and not force:
        raise UsageError("error.template.exists", path=target)
    s = spec()
    fields = template_fields(decree)
    lists = choice_lists(decree)
    lines = instructions(decree, lang)
    sheet, lists_sheet = say("template.sheet", lang), say("template.lists_sheet", lang)

    def write(tmp: Path) -> None:
        wb = workbook(tmp)
        wb.set_properties({"created": datetime(2000, 1, 1), "title": decree.title})
        data = wb.add_worksheet(sheet)
        guide = wb.add_worksheet(say("template.instructions_sheet", lang))
        hidden = wb.add_worksheet(lists_sheet)
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        text = wb.add_format({"num_format": "@"})

        list_cols: dict[str, str] = {}
        for j, (field, choices) in enumerate(lists.items()):
            col = _col_letter(j)
            hidden.write_string(0, j, header(field))
            for i, choice in enumerate(choices, start=1):
                hidden.write_string(i, j, choice)
            list_cols[field] = f"='{lists_sheet}'!${col}$2:${col}${len(choices) + 1}"
        hidden.hide()

        for j, field in enumerate(fields):
            name = header(field)
            is_text = field in s.text_fields
            data.set_column(j, j, max(12, len(name) + 4), text if is_text else None)
            data.write_string(0, j, name, bold)
            if is_text:  # the cells themselves, so the format survives copy-paste of rows
                for i in range(1, s.rows + 1):
                    data.write_blank(i, j, None, text)
            if field in list_cols:
                data.data_validation(
                    1,
                    j,
                    s.rows,
                    j,
                    {
                        "validate": "list",
                        "source": list_cols[field],
                        "error_type": "warning",
                        "error_title": say("template.choose_title", lang),
                        "error_message": say("template.choose_message", lang),
                    },
                )
        data.freeze_panes(1, 0)

        guide.set_column(0, 0, 120)
        title = wb.add_format({"bold": True, "font_size": 13})
        for i, line in enumerate(lines):
            guide.write_string(i, 0, line, title if i == 0 else None)
        data.activate()
        wb.close()

    return write_atomic(target, write, mode)
