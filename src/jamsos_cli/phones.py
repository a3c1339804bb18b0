"""Phone numbers: what libphonenumber (the ``phonenumbers`` package) knows about a number.

Whether an Indonesian number is a mobile, a landline, toll-free, premium-rate or not
allocated at all changes as operators get new ranges; libphonenumber's maintainers keep
that data current, so jamsos reads it from there instead of a hand-written pattern. The
number types are decided the way libphonenumber decides them (``number_type``: the
general pattern and lengths first, then premium-rate, toll-free, shared-cost, VoIP,
personal, pager, UAN and voicemail, then fixed line and mobile), but vectorised: each
type's pattern from the package's metadata runs as one Polars regex over the distinct
numbers of a run. ``classify`` is the same verdict for one number through the package
itself; a test keeps the two in agreement.

A cell is first cleaned as ``normalise.toml [phone]`` says (digits only; +62 / 62 / 0062
become 0; a number starting with 8 gets its 0 back), then its national number (without the
leading 0) is classified. A mobile is kept (written 08xx); a landline is kept and reported
(``PHONE_LANDLINE``); any other kind is ``PHONE_FORMAT``.
"""

from __future__ import annotations

from functools import cache

import polars as pl

MOBILE = "mobile"
LANDLINE = "fixed_line"
# libphonenumber's order: a number of one of these types is that type, whatever else matches.
_SPECIAL = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@cache
def _descs(region: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Type → (national number pattern, possible lengths) from libphonenumber's metadata
    for ``region``; a type the region does not have is left out."""
    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None:
        raise ValueError(f"libphonenumber has no metadata for region {region!r}")
    general = meta.general_desc
    out = {}
    for name in ("general_desc", *_SPECIAL, "fixed_line", "mobile"):
        desc = getattr(meta, name)
        if desc is None or not desc.national_number_pattern:
            continue
        lengths = tuple(desc.possible_length or ()) or tuple(general.possible_length or ())
        if lengths == (-1,):  # libphonenumber's "no number of this type"
            continue
        out[name] = (desc.national_number_pattern, lengths)
    return out


def _matches(nsn: pl.Expr, desc: tuple[str, tuple[int, ...]]) -> pl.Expr:
    pattern, lengths = desc
    return nsn.str.len_chars().is_in(list(lengths)) & nsn.str.contains(f"^(?:{pattern})$")


def kind_expr(nsn: pl.Expr, region: str) -> pl.Expr:
    """The libphonenumber type name of national significant numbers (digits, no leading
    trunk 0): "mobile", "fixed_line", "toll_free"... or "unknown"."""
    descs = _descs(region)
    chain = pl.when(~_matches(nsn, descs["general_desc"])).then(pl.lit("unknown"))
    for name in _SPECIAL:
        if name in descs:
            chain = chain.when(_matches(nsn, descs[name])).then(pl.lit(name))
    if "fixed_line" in descs:
        fixed = _matches(nsn, descs["fixed_line"])
        if "mobile" in descs:  # both: libphonenumber's FIXED_LINE_OR_MOBILE, a mobile here
            fixed = fixed & ~_matches(nsn, descs["mobile"])
        chain = chain.when(fixed).then(pl.lit(LANDLINE))
    if "mobile" in descs:
        chain = chain.when(_matches(nsn, descs["mobile"])).then(pl.lit(MOBILE))
    return chain.otherwise(pl.lit("unknown"))


def national_number(digits: pl.Expr) -> pl.Expr:
    """The national significant number of a cleaned number: without its trunk 0."""
    return digits.str.strip_prefix("0")


def classify(digits: str, region: str) -> str:
    """The same verdict for one cleaned number, through libphonenumber itself."""
    import phonenumbers
    from phonenumbers import PhoneNumberType as T

    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return "unknown"
    names = {
        T.MOBILE: MOBILE,
        T.FIXED_LINE_OR_MOBILE: MOBILE,
        T.FIXED_LINE: LANDLINE,
        T.TOLL_FREE: "toll_free",
        T.PREMIUM_RATE: "premium_rate",
        T.SHARED_COST: "shared_cost",
        T.VOIP: "voip",
        T.PERSONAL_NUMBER: "personal_number",
        T.PAGER: "pager",
        T.UAN: "uan",
        T.VOICEMAIL: "voicemail",
    }
    return names.get(phonenumbers.number_type(number), "unknown")
