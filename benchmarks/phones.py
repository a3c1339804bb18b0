"""How many phone numbers jamsos classifies as libphonenumber does (the README's figure).

    python benchmarks/phones.py            # the figure, through the installed command

The set: libphonenumber's own example number of every Indonesian number type, and numbers
generated over every leading range (0 + two digits, 08 + two digits) at every length from 8
to 13 digits, spelled as clerks type them (spaces, dashes, +62, 62, brackets); seeded, so
the set is the same on every run. The truth for each number is ``phonenumbers.number_type``
of its national form. jamsos is right when a mobile passes, a landline gets
``PHONE_LANDLINE`` and anything else ``PHONE_FORMAT``. The rule jamsos had before (a
hand-written ``^08[0-9]{8,11}$``) is scored on the same set for comparison.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path

REGION = "ID"
SEED = 2025
LENGTHS = range(8, 14)  # digits with the leading 0
OLD_RULE = re.compile(r"^08[0-9]{8,11}$")


def expected_code(kind: str) -> str | None:
    """The finding jamsos must give a number of libphonenumber type ``kind``."""
    if kind == "mobile":
        return None
    return "PHONE_LANDLINE" if kind == "fixed_line" else "PHONE_FORMAT"


def _truth(national: str) -> str:
    from jamsos_cli.phones import classify

    return classify("0" + national, REGION)


def _spelled(national: str, rng: random.Random) -> str:
    """The number as a clerk may type it."""
    full = "0" + national
    style = rng.randrange(6)
    if style == 0:
        return full
    if style == 1:
        return f"{full[:4]} {full[4:8]} {full[8:]}".strip()
    if style == 2:
        return f"{full[:4]}-{full[4:8]}-{full[8:]}".strip("-")
    if style == 3:
        return f"+62 {national[:3]} {national[3:]}"
    if style == 4:
        return "62" + national
    return f"({full[:4]}) {full[4:]}"


@cache
def generated_set() -> list[tuple[str, str]]:
    """(number as typed, libphonenumber's type of it), every type represented."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    rng = random.Random(SEED)
    nationals: list[str] = []
    for kind in PhoneNumberType.values():
        example = phonenumbers.example_number_for_type(REGION, kind)
        if example is not None:
            nationals.append(str(example.national_number))
    # every leading range: areas (0 + two digits), mobiles and 080x-089x (08 + two digits),
    # and the special ranges (toll-free 0800 / 177x, premium 0809, shared-cost 0804, UAN)
    leads = {f"{a}{b}": 2 for a in "12345679" for b in "0123456789"}
    leads |= {f"8{b}{c}": 3 for b in "0123456789" for c in "0123456789"}
    leads |= {lead: 4 for lead in ("800", "809", "804", "8071", "1500", "177")}
    for lead, count in leads.items():
        for length in LENGTHS:
            rest = length - 1 - len(lead)
            for _ in range(count if rest > 0 else 0):
                nationals.append(lead + "".join(rng.choice("0123456789") for _ in range(rest)))
    seen: dict[str, str] = {}
    for national in nationals:
        seen.setdefault(national, _truth(national))
    return [(_spelled(n, rng), kind) for n, kind in seen.items()]


def old_rule_code(typed: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", typed)
    digits = re.sub(r"^(?:0062|62)0?", "0", digits, count=1)
    digits = re.sub(r"^8", "08", digits, count=1)
    return None if OLD_RULE.search(digits) else "PHONE_FORMAT"


def jamsos_codes(numbers: list[tuple[str, str]], jamsos: str) -> dict[int, str]:
    """Row → the phone finding ``jamsos validate`` gives each number (rows from 2)."""
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        roster = Path(tmp) / "phones.csv"
        lines = ["NIK;NAMA;TGL LAHIR;NO HP"]
        lines += [
            f"2171101205800{i % 1000:03d};Budi;12-05-1980;{t}" for i, (t, _) in enumerate(numbers)
        ]
        roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = subprocess.run(
            [jamsos, "validate", str(roster), "--format", "json", "--as-of", "2025-06-01"],
            capture_output=True,
            text=True,
            check=False,
        )
    doc = json.loads(out.stdout)
    return {i["row"]: i["code"] for i in doc["issues"] if i["code"].startswith("PHONE")}


def main() -> None:
    numbers = generated_set()
    jamsos = str(Path(sys.executable).with_name("jamsos"))
    got = jamsos_codes(numbers, jamsos)
    kinds = Counter(kind for _, kind in numbers)
    right = sum(got.get(row) == expected_code(kind) for row, (_, kind) in enumerate(numbers, 2))
    old = sum(old_rule_code(t) == expected_code(kind) for t, kind in numbers)
    wrong_old = Counter(kind for t, kind in numbers if old_rule_code(t) != expected_code(kind))
    print(f"numbers: {len(numbers):,} ({', '.join(f'{k} {n:,}' for k, n in kinds.most_common())})")
    print(f"jamsos now: {right:,} of {len(numbers):,} classified as libphonenumber does")
    print(f"the old pattern: {old:,} of {len(numbers):,} (wrong: {dict(wrong_old)})")


if __name__ == "__main__":
    main()
