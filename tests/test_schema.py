"""The roster JSON Schema is generated from the pydantic model and must not drift from it."""

from __future__ import annotations

import json

from jamsos_cli import schema
from jamsos_cli.resources import schema_file


def test_shipped_json_schema_matches_the_model() -> None:
    shipped = json.loads(schema_file("roster.schema.json").read_text(encoding="utf-8"))
    assert shipped == schema.json_schema(), (
        "schemas/roster.schema.json is stale: run `python -m jamsos_cli.schema`"
    )


def test_every_field_has_a_description_and_aliases() -> None:
    props = schema.json_schema()["properties"]
    assert set(props) == set(schema.FIELDS)
    for name, prop in props.items():
        assert prop.get("description"), name
        assert prop.get("x-aliases"), name


def test_required_fields_follow_spec() -> None:
    assert schema.required_fields(with_decree=False) == ["nik", "name", "birth_date"]
    assert set(schema.required_fields(with_decree=True)) == {
        "nik",
        "name",
        "birth_date",
        "kelurahan",
        "kecamatan",
        "role",
    }
