"""Decree rule sets as people read them: ``jamsos decrees`` (one line each) and
``jamsos decrees ID`` (the rule set in full, as jamsos understood it), on screen and as the
JSON facts (``summary``, ``detail``). Nothing here imports Polars: listing decrees starts
as fast as ``--help``."""

from __future__ import annotations

from typing import Any

from jamsos_cli.decrees import Decree, city_name, negations
from jamsos_cli.render.numbers import describe_program, format_number, format_rupiah
from jamsos_cli.texts import say


def summary(decree: Decree) -> dict[str, Any]:
    """One line of ``jamsos decrees``."""
    return {
        "id": decree.id,
        "title": decree.title,
        "group": decree.group,
        "city_code": decree.city_code,
        "city": city_name(decree.city_code),
        "roles": [r.name for r in decree.roles],
        "quota": decree.quota_limit,
        "premium_per_person_month": decree.premium_per_person_month,
        "source": str(decree.source) if decree.source else None,
        "overrides": str(decree.overrides) if decree.overrides else None,
    }


def detail(decree: Decree) -> dict[str, Any]:
    """Everything ``jamsos decrees ID`` shows: the rule set as the tool understood it."""
    data = decree.model_dump(mode="json")
    data.update(summary(decree))
    data["roles"] = [r.model_dump(mode="json") for r in decree.roles]
    data["required_fields"] = decree.all_required_fields
    data["premium"]["breakdown"] = decree.premium.breakdown()
    data["premium"]["per_person_month"] = decree.premium_per_person_month
    data["exclusions"] = [g.model_dump(mode="json") for g in decree.exclusion_groups()]
    data.pop("extra_exclusions", None)
    data["exclusion_negations"] = negations()
    return data


def render_list(console, decrees: list[Decree], lang: str) -> None:
    """The table of ``jamsos decrees``."""
    from rich.table import Table

    def L(key: str) -> str:
        return say(f"decrees.{key}", lang)

    table = Table(box=None, pad_edge=False)
    table.add_column(f"{L('id')} / {L('title')}", no_wrap=True)
    table.add_column(L("roles"), overflow="fold", ratio=1)
    table.add_column(L("quota"), justify="right", no_wrap=True)
    table.add_column(L("premium"), justify="right", no_wrap=True)
    for decree in decrees:
        s = summary(decree)
        title = s["title"] + (f" ({L('overrides')})" if s["overrides"] else "")
        table.add_row(
            f"[bold]{s['id']}[/]\n{_esc(title)}",
            _esc(", ".join(s["roles"])),
            format_number(s["quota"], lang) if s["quota"] else L("unlimited"),
            format_rupiah(s["premium_per_person_month"], lang),
        )
    table.show_lines = True
    console.print(table)


def render_detail(console, decree: Decree, lang: str) -> None:
    """``jamsos decrees ID``: the rule set in full, as the tool understood it."""

    def L(key: str) -> str:
        return say(f"decrees.{key}", lang)

    d = detail(decree)
    rp = format_rupiah
    lines = [
        f"[bold]{_esc(d['id'])}[/] — {_esc(d['title'])}",
        f"{L('group')}: {_esc(d['group'] or '-')}",
        f"{L('city')}: {d['city_code']} {_esc(d['city'] or '?')}",
        f"{L('quota')}: " + (format_number(d["quota"], lang) if d["quota"] else L("unlimited")),
        f"{L('age')}: {decree.age.min}–{decree.age.max} {L('years')}"
        + (f" ({L('assumed')})" if decree.age.assumed else ""),
    ]
    if decree.age.note:
        lines.append(f"  {_esc(decree.age.note)}")
    lines.append(f"{L('roles')}:")
    for role in decree.roles:
        spell = ", ".join(role.aliases) or "-"
        line = f"  - {_esc(role.name)} ({L('aliases')}: {_esc(spell)}"
        if role.exact:
            line += f"; {L('exact')}: {_esc(', '.join(role.exact))}"
        lines.append(line + ")")
    p = decree.premium
    lines.append(f"{L('programs')}: {', '.join(p.programs)}")
    lines.append(f"{L('income')}: {rp(p.declared_income, lang)}")
    for program, amount in d["premium"]["breakdown"].items():
        how = describe_program(program, p.jkk_rate_bp, p.jht_rate_bp, lang)
        lines.append(f"  {program}: {rp(amount, lang)} ({how})")
    per_month = L("premium").replace("\n", " ")
    total = rp(d["premium"]["per_person_month"], lang)
    lines.append(f"{per_month}: [bold]{total}[/] ({L('rounding')}: {p.rounding})")
    lines.append(f"{L('required')}: {_esc(', '.join(_headers(d['required_fields'])))}")
    lines.append(f"{L('excluded')}:")
    for group in d["exclusions"]:
        lines.append(f"  - {_esc(group['label'])}: {_esc(', '.join(group['terms']))}")
    if d["exclusion_negations"]:
        lines.append(f"  ({L('negations')}: {_esc(', '.join(d['exclusion_negations']))})")
    for note in decree.notes:
        lines.append(f"{L('notes')}: {_esc(note)}")
    lines.append(f"{L('source')}: {d['source']}")
    if d["overrides"]:
        lines.append(f"  ({L('overrides')}: {d['overrides']})")
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


def _headers(fields: list[str]) -> list[str]:
    """'kusuka_number' → 'NO KUSUKA (kusuka_number)': the column title a sender writes."""
    from jamsos_cli.schema import field_extra

    return [f"{field_extra(f)['x-aliases'][0]} ({f})" for f in fields]


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
