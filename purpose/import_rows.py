"""A fast path for validating import rows, with the marshmallow schemas as the one authority.

Per-row ``Schema.load`` costs about 100 µs (field objects, hooks, error bookkeeping), most of an
import's time. Almost every row of a real file is plain: ASCII text without surrounding
blanks, known enum names, ISO times with an offset, plain numbers. For such values the schema's
result is known without running it (SafeText of printable ASCII with no surrounding blanks is
the text itself: NFC, stripping and the control, line-break and bidi rules change or refuse
nothing). So :func:`fast_stakeholder` and :func:`fast_touchpoint` accept a row only when every
field is of that kind, and return exactly what the schema would; anything else (a missing or
wrong field, non-ASCII text, an unusual time format) returns None and the caller runs the schema,
which accepts it with its normalisation or rejects it with its usual message. The rules are
therefore the schema's; ``tests/purpose/test_import_rows.py`` checks that both paths agree.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from marshmallow import ValidationError, validate

from core.validation import normalise_email
from purpose.models import ContactPreference, LegalBasis, StakeholderKind, TouchpointKind

#: Printable ASCII, neither starting nor ending with a space: SafeText returns such a string unchanged.
_PLAIN = re.compile(r"[!-~](?:[ -~]*[!-~])?\Z")
_EMAIL = validate.Email  # the rule EmailAddress (marshmallow's Email) applies: its own patterns, below
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})\Z")
_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,15})?\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_STAKEHOLDER_KINDS = {k.name: k for k in StakeholderKind}
_TOUCHPOINT_KINDS = {k.name: k for k in TouchpointKind}
_LEGAL_BASES = {k.name: k for k in LegalBasis}
_PREFERENCES = {k.name: k for k in ContactPreference}


class _Slow(Exception):
    """The row needs the schema."""


def _text(value, longest: int, *, optional: bool = False):
    if value is None and optional:
        return None
    if isinstance(value, str) and len(value) <= longest and _PLAIN.match(value):
        return value
    raise _Slow


def _plain_email(email: str) -> None:
    """``validate.Email()(email)`` by the validator's own patterns, without its per-call cost (it
    formats its error message before checking, a quarter of this path's time); any doubt is the
    schema's to decide."""
    user, at, domain = email.rpartition("@")
    if not (at and _EMAIL.USER_REGEX.match(user)
            and (domain in _EMAIL.DOMAIN_WHITELIST or _EMAIL.DOMAIN_REGEX.match(domain))):
        raise _Slow


def _choice(value, names: dict, default=None, *, optional: bool = False):
    if value is None and optional:
        return default
    try:
        return names[value]
    except (KeyError, TypeError):
        raise _Slow from None


def _items(row: dict, name: str, longest: int, most: int) -> list | None:
    """An ItemList cell: a JSON list of plain strings (or ids) or a ``;``-separated CSV cell."""
    if name not in row:
        return []
    value = row[name]
    if value is None:
        return None
    if isinstance(value, str):
        value = [item.strip() for item in value.split(";") if item.strip()]
    if not isinstance(value, list) or len(value) > most:
        raise _Slow
    out = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        out.append(_text(item, longest))
    return out


def fast_stakeholder(row: dict, *, list_items: int, item_chars: int) -> dict | None:
    """``StakeholderRow().load(row)`` for a plain row, or None when the schema must decide."""
    try:
        email = row.get("email")
        if email is not None:
            if not isinstance(email, str):
                raise _Slow
            email = normalise_email(email)
            if len(email) > 254 or not email.isascii():
                raise _Slow
            _plain_email(email)
        return {"external_id": _text(row.get("external_id"), 128),
                "kind": _choice(row.get("kind"), _STAKEHOLDER_KINDS),
                "email": email,
                "legal_basis": _choice(row["legal_basis"], _LEGAL_BASES) if "legal_basis" in row else LegalBasis.none,
                "contact_preference": _choice(row.get("contact_preference"), _PREFERENCES, optional=True),
                "display_name": _text(row.get("display_name"), 120, optional=True),
                "interests": _items(row, "interests", item_chars, list_items),
                "purposes": _items(row, "purposes", item_chars, list_items)}
    except (_Slow, ValueError, ValidationError):  # the schema decides, and says why
        return None


def _amount(value):
    if value is None:
        return None
    if isinstance(value, str) and _NUMBER.match(value):
        value = float(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        value = float(value)
    else:
        raise _Slow
    if value < 0:
        raise _Slow
    return value


def fast_touchpoint(row: dict, *, item_chars: int) -> dict | None:
    """``TouchpointRow().load(row)`` for a plain row, or None when the schema must decide."""
    try:
        when = row.get("occurred_at")
        if not isinstance(when, str) or not _TIME.match(when):
            raise _Slow
        currency = row.get("currency")
        if currency is not None and not (isinstance(currency, str) and _CURRENCY.match(currency)):
            raise _Slow
        purpose = row.get("purpose")
        if isinstance(purpose, int) and not isinstance(purpose, bool):
            purpose = str(purpose)
        return {"external_id": _text(row.get("external_id"), 128),
                "stakeholder_external_id": _text(row.get("stakeholder_external_id"), 128),
                "kind": _choice(row.get("kind"), _TOUCHPOINT_KINDS),
                "occurred_at": datetime.fromisoformat(when),
                "amount": _amount(row.get("amount")),
                "currency": currency,
                "other_stakeholder_external_id": _text(row.get("other_stakeholder_external_id"), 128, optional=True),
                "event_ref": _text(row.get("event_ref"), 128, optional=True),
                "purpose": _text(purpose, item_chars, optional=True)}
    except (_Slow, ValueError, ValidationError):
        return None
